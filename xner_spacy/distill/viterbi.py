"""Constrained Viterbi decoding: the best tag sequence that obeys a tag grammar.

Hand-written on purpose: spaCy decodes NER with its transition system, thinc has no CRF or
Viterbi layer, and the CRF libraries (pytorch-crf, sklearn-crfsuite) learn their own
transition scores instead of taking hard BILUO/BIO constraints over given log-probabilities.
Here transitions are 0 (allowed) or -inf (forbidden), so the decoder maximises the summed
per-token scores over valid sequences only. One step is a (K, K) numpy operation, vectorised
over the labels; the loop runs over tokens.
"""

from __future__ import annotations

import numpy as np

# Emission scores are clipped to ±_BIG so that -inf or NaN log-probabilities still leave
# every valid path a finite score, while forbidden transitions stay at -inf.
_BIG = 1e9


def constrained_viterbi(
    scores: np.ndarray, allowed: np.ndarray, start: np.ndarray, end: np.ndarray
) -> np.ndarray:
    """Tag ids maximising the summed ``scores`` (n × K) over sequences the grammar allows.

    ``allowed[i, j]``: tag j may follow tag i; ``start[j]``: j may begin the sequence;
    ``end[i]``: i may end it. Raises ``ValueError`` if the grammar admits no sequence.
    """
    emissions = np.nan_to_num(
        np.asarray(scores, dtype=np.float64), nan=-_BIG, neginf=-_BIG, posinf=_BIG
    )
    emissions = np.clip(emissions, -_BIG, _BIG)
    n, n_tags = emissions.shape
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    transition = np.where(allowed, 0.0, -np.inf)
    best = emissions[0] + np.where(start, 0.0, -np.inf)
    backpointers = np.zeros((n, n_tags), dtype=np.int64)
    cols = np.arange(n_tags)
    for t in range(1, n):
        candidates = best[:, None] + transition  # (previous tag, current tag)
        backpointers[t] = candidates.argmax(axis=0)
        best = candidates[backpointers[t], cols] + emissions[t]
    best = best + np.where(end, 0.0, -np.inf)
    if not np.isfinite(best.max()):
        raise ValueError("the tag grammar admits no sequence of this length")
    path = np.empty(n, dtype=np.int64)
    path[-1] = int(best.argmax())
    for t in range(n - 1, 0, -1):
        path[t - 1] = backpointers[t, path[t]]
    return path
