"""TopLayers: blocks k+1..m over cached layer-k states, their bytes and their optimizer."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from xner_spacy.encoders.feature_cache import pool_words
from xner_spacy.encoders.subword_embedder import SubwordEmbedder, TopLayersError
from xner_spacy.encoders.top_layers import (
    TopLayersOptimizer,
    load_top_layers,
    top_layers_from_bytes,
    top_layers_to_bytes,
)

pytest.importorskip("transformers")

SENTENCES = [["Ada", "went", "to", "Lagos", "."], ["Bola", "est", "allé", "à", "Zürich", "hier"]]


def _top_output(model: Path, trainable: int, pooling: str = "first") -> tuple[np.ndarray, ...]:
    lower = SubwordEmbedder(str(model), layer=2 - trainable, device="cpu")
    states, pieces = lower.embed(SENTENCES)
    top = load_top_layers(str(model), 2, trainable, pooling=pooling).eval()
    n = max(pieces.n_words)
    with torch.no_grad():
        out = top(states, pieces.attention_mask.float(), pieces.word_index, n)
    return out.numpy(), states, pieces


@pytest.mark.parametrize("trainable", [1, 2])
@pytest.mark.parametrize(
    ("pooling", "family"), [("first", "xlmr"), ("mean", "xlmr"), ("first", "bert")]
)
def test_fresh_top_layers_reproduce_the_frozen_layer(
    tiny_xlmr_dir: Path, tiny_bert_dir: Path, trainable: int, pooling: str, family: str
) -> None:
    """Blocks k+1..2 on cached layer-k states give layer 2's frozen features (before training)."""
    model = tiny_xlmr_dir if family == "xlmr" else tiny_bert_dir
    out, _, _ = _top_output(model, trainable, pooling)
    frozen = SubwordEmbedder(str(model), layer=2, device="cpu")
    hidden, pieces = frozen.embed(SENTENCES)
    expected = pool_words(hidden, pieces.word_index, max(pieces.n_words), pooling)
    np.testing.assert_allclose(out, expected, rtol=1e-4, atol=1e-4)


def test_bytes_rebuild_the_blocks_without_the_model(tiny_xlmr_dir: Path) -> None:
    top = load_top_layers(str(tiny_xlmr_dir), 2, 1).eval()
    data = top_layers_to_bytes(top)
    again = top_layers_from_bytes(data).eval()
    assert (again.first_layer, again.last_layer, again.hidden_size) == (1, 2, 32)
    states = torch.randn(2, 5, 32)
    mask = torch.ones(2, 5)
    index = torch.tensor([[-1, 0, 1, 2, -1], [-1, 0, 0, 1, -1]])
    with torch.no_grad():
        torch.testing.assert_close(top(states, mask, index, 3), again(states, mask, index, 3))
    for value in again.state_dict().values():
        assert value.dtype == torch.float32  # the trained layers are kept in float32


def test_too_many_layers_are_refused_in_one_line(tiny_xlmr_dir: Path) -> None:
    with pytest.raises(TopLayersError, match="beyond") as err:
        load_top_layers(str(tiny_xlmr_dir), 2, 3)
    assert "\n" not in str(err.value)
    with pytest.raises(TopLayersError, match="which has 2 layers"):
        load_top_layers(str(tiny_xlmr_dir), 3, 3)


def test_learning_rate_warms_up_then_decays() -> None:
    opt = TopLayersOptimizer(1e-4, warmup_steps=4, decay_steps=14, grad_clip=1.0, weight_decay=0)
    rates = [opt.rate(step) for step in range(16)]
    assert rates[0] == pytest.approx(2.5e-5) and rates[3] == pytest.approx(1e-4)
    assert rates[4] == pytest.approx(1e-4) and rates[9] == pytest.approx(5e-5)
    assert rates[14] == 0.0 and rates[15] == 0.0
    flat = TopLayersOptimizer(1e-4, warmup_steps=0, decay_steps=0, grad_clip=0, weight_decay=0)
    assert {flat.rate(s) for s in (0, 100, 10_000)} == {1e-4}


def test_gradients_are_clipped_and_zeroed(tiny_xlmr_dir: Path) -> None:
    top = load_top_layers(str(tiny_xlmr_dir), 2, 1, dropout=0.0)
    before = {k: v.clone() for k, v in top.state_dict().items()}
    opt = TopLayersOptimizer(1e-3, warmup_steps=0, decay_steps=0, grad_clip=0.5, weight_decay=0)
    assert not opt.step(top)  # no gradients yet: nothing happens
    states = torch.randn(1, 4, 32) * 100
    out = top(states, torch.ones(1, 4), torch.tensor([[-1, 0, 1, -1]]), 2)
    out.pow(2).sum().backward()
    assert opt.step(top) and opt.step_count == 1
    assert all(p.grad is None for p in top.parameters())
    moved = [k for k, v in top.state_dict().items() if not torch.equal(v, before[k])]
    assert moved


def test_freed_memory_is_released_every_nth_cpu_update(
    tiny_xlmr_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The shim trims the C heap after every trim_every-th update that moved the blocks."""
    import sys

    from xner_spacy.encoders import top_layers
    from xner_spacy.encoders.top_layers import TopLayerShim

    # the real call: glibc has malloc_trim; elsewhere it is a no-op that says so
    assert top_layers.release_freed_memory() is sys.platform.startswith("linux")
    calls: list[int] = []
    monkeypatch.setattr(top_layers, "release_freed_memory", lambda: calls.append(1) or True)
    monkeypatch.setattr(TopLayerShim, "trim_every", 2)
    opt = TopLayersOptimizer(1e-3, warmup_steps=0, decay_steps=0, grad_clip=0, weight_decay=0)
    shim = TopLayerShim(opt)
    shim.set_module(load_top_layers(str(tiny_xlmr_dir), 2, 1, dropout=0.0))
    shim.finish_update(None)
    assert calls == [] and opt.step_count == 0  # no gradients, no update: nothing to trim
    index = torch.tensor([[-1, 0, 1, -1]])
    for step in (1, 2, 3, 4):
        shim.module(torch.randn(1, 4, 32), torch.ones(1, 4), index, 2).sum().backward()
        shim.finish_update(None)
        assert opt.step_count == step and len(calls) == step // 2  # after updates 2 and 4
    monkeypatch.setattr(TopLayerShim, "trim_every", 0)
    shim.module(torch.randn(1, 4, 32), torch.ones(1, 4), index, 2).sum().backward()
    shim.finish_update(None)
    assert len(calls) == 2 and opt.step_count == 5  # 0: updated, never trimmed
