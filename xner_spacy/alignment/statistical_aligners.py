"""Unsupervised statistical word aligners that need no pretrained weights.

Both aligners are trained on the corpus they align (plus optional extra parallel text), which is
legitimate because they are unsupervised. Each model direction is run separately and the two
directional alignments are combined with :func:`~xner_spacy.alignment.symmetrize.symmetrize`.

* :class:`EflomalAligner` — eflomal (Östling & Tiedemann 2016), Bayesian HMM+fertility model
  with Gibbs sampling; the most accurate. GPL-3, so an optional extra:
  ``pip install "xner-spacy[eflomal]"``. **Not deterministic**: the eflomal binary seeds its
  random generator from ``/dev/urandom`` and has no seed option or environment variable
  (checked in eflomal 2.0.0), so two runs differ in a few links.
* :class:`FastAlignAligner` — fast_align (Dyer et al. 2013, IBM Model 2 with a diagonal prior,
  EM) through ``systran-align`` (MIT/Apache, no GPL). Deterministic: ``systran-align``'s
  training adds expected counts with OpenMP atomics from several threads, so with more than one
  thread the float sums (and, on a corpus of thousands of pairs, a few links) depend on thread
  timing; training therefore runs on one OpenMP thread (:func:`_one_openmp_thread`; on two
  cores that cost nothing measurable). ``systran-align`` trains both directions but its
  ``Aligner`` only returns an already-combined alignment with a fixed built-in heuristic, so
  this module reads the two trained probability tables itself and runs fast_align's Viterbi
  decoding per direction (a few lines of numpy), which makes the symmetrisation heuristic
  selectable like eflomal's.
"""

from __future__ import annotations

import contextlib
import io
import logging
import struct
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from types import ModuleType

import numpy as np

from ..io.scratch import scratch_dir
from .symmetrize import check_method, symmetrize

logger = logging.getLogger("xner_spacy")

Pair = tuple[int, int]
Sentences = Sequence[Sequence[str]]

# Tokens the models cannot take verbatim (they split lines on whitespace; fast_align's input
# uses " ||| " as the separator) are replaced by placeholders, one word each.
_EMPTY_WORD = "<empty>"
_SEPARATOR_WORD = "<sep>"


def _model_word(word: str, lowercase: bool, prefix_len: int) -> str:
    # NUL ends a word in fast_align's probability table (C strings); records refuse it, and
    # words given to the Python API get U+FFFD instead, the same for every aligner.
    parts = word.replace("\0", "\ufffd").split()
    if not parts:
        return _EMPTY_WORD
    word = "_".join(parts)  # a word with inner whitespace stays one token
    if word == "|||":
        return _SEPARATOR_WORD
    if lowercase:
        word = word.lower()
    if prefix_len > 0:
        word = word[:prefix_len]
    return word


class _CorpusAligner:
    """Shared corpus handling: normalisation, empty sentences, extra text, index checks."""

    def __init__(self, symmetrization: str, lowercase: bool, prefix_len: int) -> None:
        self.symmetrization = check_method(symmetrization)
        if prefix_len < 0:
            raise ValueError(f"prefix_len must be >= 0, got {prefix_len}")
        self.lowercase = lowercase
        self.prefix_len = prefix_len

    def align(
        self,
        src: Sentences,
        tgt: Sentences,
        extra_src: Sentences | None = None,
        extra_tgt: Sentences | None = None,
    ) -> list[list[Pair]]:
        """Align each ``(src[k], tgt[k])`` word pair; one sorted list of ``(i, j)`` per pair.

        ``extra_src``/``extra_tgt`` are further parallel sentences added to the training corpus
        only (more text gives better statistics); no alignment is returned for them. A pair with
        an empty side gets ``[]``.
        """
        if len(src) != len(tgt):
            raise ValueError(f"src has {len(src)} sentences but tgt has {len(tgt)}")
        extra_src = list(extra_src or [])
        extra_tgt = list(extra_tgt or [])
        if len(extra_src) != len(extra_tgt):
            raise ValueError(
                f"extra_src has {len(extra_src)} sentences but extra_tgt has {len(extra_tgt)}"
            )
        result: list[list[Pair]] = [[] for _ in src]
        keep = [k for k in range(len(src)) if len(src[k]) and len(tgt[k])]
        n_extra = 0
        model_src: list[list[str]] = []
        model_tgt: list[list[str]] = []
        for s, t in zip(extra_src, extra_tgt, strict=True):
            if len(s) and len(t):
                model_src.append(self._normalise(s))
                model_tgt.append(self._normalise(t))
                n_extra += 1
        for k in keep:
            model_src.append(self._normalise(src[k]))
            model_tgt.append(self._normalise(tgt[k]))
        if not keep:
            return result
        fwd, rev = self._directional(model_src, model_tgt)
        for k, f_links, r_links in zip(keep, fwd[n_extra:], rev[n_extra:], strict=True):
            n_src, n_tgt = len(src[k]), len(tgt[k])
            f_ok = {(i, j) for i, j in f_links if 0 <= i < n_src and 0 <= j < n_tgt}
            r_ok = {(i, j) for i, j in r_links if 0 <= i < n_src and 0 <= j < n_tgt}
            result[k] = symmetrize(f_ok, r_ok, n_src, n_tgt, self.symmetrization)
        return result

    def _normalise(self, words: Sequence[str]) -> list[str]:
        return [_model_word(w, self.lowercase, self.prefix_len) for w in words]

    def _directional(
        self, src: list[list[str]], tgt: list[list[str]]
    ) -> tuple[list[list[Pair]], list[list[Pair]]]:
        """Forward (src→tgt) and reverse (tgt→src) links, both as ``(src_i, tgt_j)``."""
        raise NotImplementedError


def _read_pharaoh(path: Path) -> list[list[Pair]]:
    links = []
    for line in path.read_text(encoding="utf-8").splitlines():
        pairs = []
        for item in line.split():
            i, j = item.split("-")
            pairs.append((int(i), int(j)))
        links.append(pairs)
    return links


class EflomalAligner(_CorpusAligner):
    """eflomal (optional GPL-3 extra), both directions, symmetrised.

    ``prefix_len`` > 0 truncates words to that many characters for the model (a cheap stemmer
    for morphologically rich languages); 0 keeps whole words. eflomal's own reader always
    lowercases, so ``lowercase=False`` makes no difference for it. ``model``: 1 IBM1, 2 HMM,
    3 HMM+fertility. ``n_iterations``: None lets eflomal choose from the corpus size (about
    5000/sqrt(n_sentences) sampling iterations, so small corpora are slow); an int or a
    (IBM1, HMM, fertility) triple fixes it.
    Results vary slightly between runs (no seed exists, see the module docstring).
    """

    def __init__(
        self,
        symmetrization: str = "grow-diag-final-and",
        lowercase: bool = True,
        prefix_len: int = 0,
        model: int = 3,
        n_iterations: int | tuple[int, int, int] | None = None,
        n_samplers: int = 3,
        null_prior: float = 0.2,
    ) -> None:
        super().__init__(symmetrization, lowercase, prefix_len)
        self.model = model
        if n_iterations is not None and not isinstance(n_iterations, int):
            if len(n_iterations) != 3:
                raise ValueError(
                    f"n_iterations: one int or one per stage (3), got {list(n_iterations)}"
                )
            n_iterations = (n_iterations[0], n_iterations[1], n_iterations[2])
        self.n_iterations = n_iterations
        self.n_samplers = n_samplers
        self.null_prior = null_prior

    def _directional(
        self, src: list[list[str]], tgt: list[list[str]]
    ) -> tuple[list[list[Pair]], list[list[Pair]]]:
        try:
            import eflomal
        except ImportError as err:
            raise ImportError(
                "EflomalAligner needs the eflomal package (GPL-3, optional): "
                'pip install "xner-spacy[eflomal]"'
            ) from err
        n_iter = self.n_iterations
        if isinstance(n_iter, int):
            n_iter = (n_iter, n_iter, n_iter)
        aligner = eflomal.Aligner(
            model=self.model,
            n_iterations=n_iter,
            n_samplers=self.n_samplers,
            null_prior=self.null_prior,
        )
        with scratch_dir("xner-eflomal-") as tmp:
            fwd_path, rev_path = Path(tmp, "fwd.links"), Path(tmp, "rev.links")
            aligner.align(
                io.StringIO("".join(" ".join(s) + "\n" for s in src)),
                io.StringIO("".join(" ".join(t) + "\n" for t in tgt)),
                links_filename_fwd=str(fwd_path),
                links_filename_rev=str(rev_path),
                quiet=True,
            )
            # eflomal writes both files in (src_i, tgt_j) order.
            fwd, rev = _read_pharaoh(fwd_path), _read_pharaoh(rev_path)
        if len(fwd) != len(src) or len(rev) != len(src):
            raise RuntimeError(
                f"eflomal returned {len(fwd)}/{len(rev)} alignment lines for {len(src)} pairs"
            )
        return fwd, rev


@contextlib.contextmanager
def _one_openmp_thread(module: ModuleType) -> Iterator[None]:
    """Run the OpenMP parallel regions ``module`` starts from this thread on one thread.

    threadpoolctl finds every OpenMP runtime loaded in the process: the one bundled with the
    extension and any other package loaded (torch's libgomp, whose symbols may serve the
    extension's calls), and restores their thread counts afterwards.
    """
    from threadpoolctl import ThreadpoolController

    openmp = ThreadpoolController().select(user_api="openmp")
    if not openmp.lib_controllers and sys.platform != "win32":
        logger.warning(
            "no OpenMP runtime found for %s: with OMP_NUM_THREADS > 1 its output may vary "
            "between runs; set OMP_NUM_THREADS=1 for identical output",
            module.__name__,
        )
    with openmp.limit(limits=1):
        yield


# fast_align's floor for a word pair missing from the translation table (TTable::prob).
_MISSING_PROB = 1e-9


def _read_fast_align_table(path: Path) -> tuple[dict[str, int], dict[int, dict[int, float]]]:
    """Read a probability file written by ``systran_align.generate_alignment_probabilities``.

    Layout (little-endian): int32 version, int32 vocabulary size, that many NUL-terminated words
    (ids start at 1; ``<eps>`` is the NULL word), int32 row count, then rows of int32 source
    id, int32 n, n × (int32 target id, float32 p(target | source)) until the end of the file.
    """
    data = path.read_bytes()
    _version, n_vocab = struct.unpack_from("<ii", data, 0)
    offset = 8
    vocab: dict[str, int] = {}
    for idx in range(n_vocab):
        end = data.index(b"\0", offset)
        vocab[data[offset:end].decode("utf-8")] = idx + 1
        offset = end + 1
    offset += 4  # row count; rows are read until the end of the file
    pair_dtype = np.dtype([("tgt", "<i4"), ("p", "<f4")])
    table: dict[int, dict[int, float]] = {}
    while offset < len(data):
        src_id, n = struct.unpack_from("<ii", data, offset)
        offset += 8
        rows = np.frombuffer(data, dtype=pair_dtype, count=n, offset=offset)
        offset += n * pair_dtype.itemsize
        table[src_id] = dict(zip(rows["tgt"].tolist(), rows["p"].tolist(), strict=True))
    return vocab, table


class FastAlignAligner(_CorpusAligner):
    """fast_align via systran-align (non-GPL), both directions, symmetrised; deterministic.

    The same input gives the same links on every run, whatever ``OMP_NUM_THREADS`` or the
    number of cores: training runs on one OpenMP thread (see the module docstring).
    ``iterations``, ``favor_diagonal``, ``diagonal_tension`` and ``prob_align_null`` are
    fast_align's training/decoding settings (``-I``, ``-d``, ``-T``, ``-p``);
    ``prefix_len`` as for :class:`EflomalAligner`.
    """

    def __init__(
        self,
        symmetrization: str = "grow-diag-final-and",
        lowercase: bool = True,
        prefix_len: int = 0,
        iterations: int = 5,
        favor_diagonal: bool = True,
        diagonal_tension: float = 4.0,
        prob_align_null: float = 0.08,
    ) -> None:
        super().__init__(symmetrization, lowercase, prefix_len)
        self.iterations = iterations
        self.favor_diagonal = favor_diagonal
        self.diagonal_tension = diagonal_tension
        self.prob_align_null = prob_align_null

    def _directional(
        self, src: list[list[str]], tgt: list[list[str]]
    ) -> tuple[list[list[Pair]], list[list[Pair]]]:
        import systran_align

        with scratch_dir("xner-fastalign-") as tmp:
            corpus = Path(tmp, "corpus.txt")
            fwd_path, rev_path = Path(tmp, "fwd.probs"), Path(tmp, "rev.probs")
            with corpus.open("w", encoding="utf-8") as f:
                for s, t in zip(src, tgt, strict=True):
                    f.write(f"{' '.join(s)} ||| {' '.join(t)}\n")
            with _one_openmp_thread(systran_align):  # several threads: run-dependent sums
                systran_align.generate_alignment_probabilities(
                    str(corpus),
                    str(fwd_path),
                    str(rev_path),
                    iterations=self.iterations,
                    favor_diagonal=self.favor_diagonal,
                    diagonal_tension=self.diagonal_tension,
                    prob_align_null=self.prob_align_null,
                )
            fwd_vocab, fwd_table = _read_fast_align_table(fwd_path)
            rev_vocab, rev_table = _read_fast_align_table(rev_path)
        fwd = [self._viterbi(s, t, fwd_vocab, fwd_table) for s, t in zip(src, tgt, strict=True)]
        # The reverse model treats the target as its source: links come back as (tgt, src).
        rev = [
            [(i, j) for j, i in self._viterbi(t, s, rev_vocab, rev_table)]
            for s, t in zip(src, tgt, strict=True)
        ]
        return fwd, rev

    def _viterbi(
        self,
        src: list[str],
        tgt: list[str],
        vocab: dict[str, int],
        table: dict[int, dict[int, float]],
    ) -> list[Pair]:
        """fast_align's decoding: each target word takes its most probable source word or NULL."""
        n, m = len(src), len(tgt)
        null_id = vocab["<eps>"]
        tgt_ids = [vocab.get(w, -1) for w in tgt]
        # Row 0 is the NULL word, rows 1..n the source words: p(tgt_j | src_i).
        probs = np.empty((n + 1, m))
        for row, word_id in enumerate([null_id] + [vocab.get(w, -1) for w in src]):
            entries = table.get(word_id, {})
            probs[row] = [entries.get(t, _MISSING_PROB) for t in tgt_ids]
        if self.favor_diagonal:
            # p(a_j = i) ∝ exp(-tension * |j/m - i/n|) over source words, NULL fixed at p0.
            j_pos = (np.arange(1, m + 1) / m)[None, :]
            i_pos = (np.arange(1, n + 1) / n)[:, None]
            prior = np.exp(-np.abs(j_pos - i_pos) * self.diagonal_tension)
            prior *= (1.0 - self.prob_align_null) / prior.sum(axis=0, keepdims=True)
            probs[0] *= self.prob_align_null
            probs[1:] *= prior
        # Uniform prior otherwise: it does not change the argmax. argmax keeps the first
        # maximum, so NULL wins ties exactly as fast_align's strict ">" comparison does.
        best = probs.argmax(axis=0)
        return [(int(i) - 1, j) for j, i in enumerate(best) if i > 0]
