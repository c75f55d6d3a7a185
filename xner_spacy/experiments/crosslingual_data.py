"""The cross-lingual benchmark's settings and data: gold splits, seeded samples, held-out keys,
per-language DocBins and text, floret vectors, the encoder feature cache (see
:mod:`xner_spacy.experiments.crosslingual`).
"""

from __future__ import annotations

import logging
import random
import sys
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from ..io.atomic import atomic_write
from .job_running import cached_step, run_logged
from .settings_config import as_list, settings_from_config

logger = logging.getLogger("xner_spacy")

LABELS = ("LOC", "MISC", "ORG", "PER")
VARIANTS = ("encoder", "cnn", "cnn-floret")
WEIGHTINGS = ("uniform", "similarity", "langid")
#: The methods every variant runs; ``full_variants`` run every k and weighting as well.
SHORT_METHODS = ("direct", "soft-k1", "soft-kmax-uniform")


@dataclass(frozen=True)
class GoldSplits:
    """A language's gold ``token TAG`` files."""

    train: Path
    dev: Path
    test: Path

    @classmethod
    def from_dir(cls, folder: Path) -> GoldSplits:
        """``train.txt``/``dev.txt``/``test.txt``, or CoNLL-2003's ``eng.train/testa/testb``."""
        names = [("train.txt", "dev.txt", "test.txt"), ("eng.train", "eng.testa", "eng.testb")]
        for names_ in names:
            paths = [folder / n for n in names_]
            if all(p.is_file() for p in paths):
                return cls(*paths)
        raise FileNotFoundError(
            f"{folder}: expected train.txt, dev.txt and test.txt (or eng.train/testa/testb)"
        )


@dataclass
class BenchmarkSettings:
    """What to train and score, and where everything goes (see the module docstring)."""

    languages: dict[str, GoldSplits]
    targets: list[str]
    sources: list[str]
    output_dir: Path
    shift: dict[str, list[Path]] = field(default_factory=dict)
    labels: tuple[str, ...] = LABELS
    ignore_labels: tuple[str, ...] = ()
    variants: tuple[str, ...] = ("encoder",)
    full_variants: tuple[str, ...] = ("encoder",)
    weightings: tuple[str, ...] = WEIGHTINGS
    max_sources: int = 3
    train_limit: int = 0
    dev_limit: int = 0
    text_limit: int = 5000
    teacher_steps: int = 2000
    student_steps: int = 1500
    eval_frequency: int = 250
    encoder: str = "assets/encoder"
    #: the encoder variant's trained top layers (0: frozen features; docs/encoder.md)
    trainable_layers: int = 0
    configs_dir: Path = Path("configs")
    vectors: Path | None = None
    similarity_temperature: float = 0.1
    langid_temperature: float = 1.0
    shift_limit: int = 0
    ntrex_dir: Path | None = None
    projection_config: Path = Path("configs/projection.cfg")
    #: Training seeds: every teacher, student and direct-transfer model is trained once per seed
    #: (``system.seed``), in a folder of its own (``training/<variant>/seed<S>/``).
    seeds: tuple[int, ...] = (0,)
    #: The seed of the data samples (train/dev/text/shift samples), the same for every seed.
    data_seed: int = 0
    #: Translate-train: False: one eflomal alignment, made once and shared by every seed;
    #: True: each seed draws its own alignment, hence its own silver data.
    align_per_seed: bool = False
    #: Resamples of test sentences for the intervals and claims, and their seed.
    bootstrap: int = 1000
    bootstrap_seed: int = 0
    jobs: int = 1
    #: Retrain every model; or keep every trained model even where its fingerprint differs.
    force: bool = False
    reuse_stale: bool = False

    def __post_init__(self) -> None:
        for name, values, allowed in (
            ("variant", self.variants, VARIANTS),
            ("full variant", self.full_variants, VARIANTS),
            ("weighting", self.weightings, WEIGHTINGS),
        ):
            unknown = set(values) - set(allowed)
            if unknown:
                raise ValueError(f"unknown {name} {sorted(unknown)}; use {allowed}")
        missing = [lang for lang in {*self.targets, *self.sources} if lang not in self.languages]
        if missing:
            raise ValueError(f"no data for {sorted(missing)}: add them to [benchmark.languages]")
        for target in self.targets:
            if not self.sources_for(target):
                raise ValueError(f"target {target!r} has no source other than itself")
        unknown_shift = set(self.shift) - set(self.languages)
        if unknown_shift:
            raise ValueError(
                f"[benchmark.shift] names {sorted(unknown_shift)}, not in [benchmark.languages]"
            )
        unused = sorted(set(self.shift) - set(self.targets))
        if unused:  # e.g. the config's shift for es when --benchmark.targets leaves es out
            logger.info("out-of-domain files of %s not used: not targets", unused)
            self.shift = {k: v for k, v in self.shift.items() if k in self.targets}
        if self.max_sources < 1:
            raise ValueError(f"max_sources must be >= 1, got {self.max_sources}")
        if not self.seeds or len(set(self.seeds)) != len(self.seeds):
            raise ValueError(f"seeds must be distinct integers, at least one: {list(self.seeds)}")
        if self.bootstrap < 1:
            raise ValueError(f"bootstrap must be >= 1 resample, got {self.bootstrap}")

    @classmethod
    def from_config(cls, section: Mapping[str, Any]) -> BenchmarkSettings:
        """Settings from the ``[benchmark]`` section of a config file (read with confection).

        Keys are the field names; the defaults are the fields' own, so a config lists only
        what it sets (:func:`~xner_spacy.experiments.settings_config.settings_from_config`).
        ``languages`` maps LANG to a folder of gold splits (:class:`GoldSplits`; only the
        targets' and sources' are read), ``shift`` maps a target to one or more out-of-domain
        test files, and ``shift_patterns`` (paths with ``{lang}``) add each target's file where
        it exists. An unknown key, a missing folder or file is a one-line error.
        """
        used = {*as_list(section.get("targets", [])), *as_list(section.get("sources", []))}

        def languages(value: Mapping[str, Any]) -> dict[str, GoldSplits]:
            # only those the run uses: a mirror may lack the others
            return {k: GoldSplits.from_dir(Path(v)) for k, v in value.items() if k in used}

        def shift(value: Mapping[str, Any]) -> dict[str, list[Path]]:
            found = {k: [Path(p) for p in as_list(v)] for k, v in value.items()}
            for target, paths in found.items():
                for path in paths:
                    if not path.is_file():
                        raise FileNotFoundError(f"[benchmark.shift] {target}: no such file {path}")
            return found

        def seeds(value: Any) -> tuple[int, ...]:
            try:
                return tuple(int(v) for v in as_list([value] if isinstance(value, int) else value))
            except ValueError:
                raise ValueError(f"[benchmark] seeds must be integers, got {value!r}") from None

        if "seed" in section:
            raise ValueError(
                "[benchmark] seed is now two settings: data_seed (the data samples) and "
                "seeds (a list: each model is trained once per seed)"
            )
        parsers = {"languages": languages, "shift": shift, "seeds": seeds}
        settings = settings_from_config(
            cls, section, name="benchmark", parsers=parsers, extra=("shift_patterns",)
        )
        for pattern in as_list(section.get("shift_patterns", [])):
            if "{lang}" not in pattern:
                raise ValueError(f"shift_patterns: {pattern!r} has no {{lang}}")
            for target in settings.targets:
                path = Path(pattern.replace("{lang}", target))
                if path.is_file() and target in settings.languages:
                    settings.shift.setdefault(target, []).append(path)
        return settings

    def sources_for(self, target: str) -> list[str]:
        return [s for s in self.sources if s != target][: self.max_sources]

    @property
    def corpus_dir(self) -> Path:
        return self.output_dir / "corpus"

    @property
    def feature_cache(self) -> Path:
        return self.output_dir / "feature_cache"


def variant_folder(settings: BenchmarkSettings, variant: str) -> str:
    """The folder name of a variant; trained top layers get their own (``encoder-t2``)."""
    if variant == "encoder" and settings.trainable_layers:
        return f"encoder-t{settings.trainable_layers}"
    return variant


def words_key(words: Sequence[str]) -> str:
    """The identity of a sentence for leakage checks: its words, NFC, case kept."""
    from ..text import nfc

    return " ".join(nfc(w) for w in words)


def read_gold(path: Path, settings: BenchmarkSettings) -> list[Any]:
    """Gold sentences; ``ignore_labels`` read as O, any type outside both an error."""
    from ..io.conll import read_conll

    dropped: dict[str, str | None] = {lab: None for lab in settings.ignore_labels}
    return list(read_conll(path, labels=settings.labels, label_map=dropped))


def shift_name(path: Path) -> str:
    return f"shift:{path.parent.name}/{path.name}"


def test_files(settings: BenchmarkSettings, lang: str) -> dict[str, Path]:
    """The test files of ``lang`` as given: ``in_domain`` and each out-of-domain file."""
    found = {"in_domain": settings.languages[lang].test}
    for path in settings.shift.get(lang, []):
        found[shift_name(path)] = path
    return found


def eval_files(settings: BenchmarkSettings, lang: str) -> dict[str, Path]:
    """The files models are scored on: the test files, out-of-domain ones sampled.

    With ``shift_limit`` an out-of-domain file is scored on a seeded sample of that many of its
    sentences (written by :func:`build_language`); the in-domain test split is always whole.
    """
    found = test_files(settings, lang)
    if settings.shift_limit:
        for path in settings.shift.get(lang, []):
            found[shift_name(path)] = _sample_path(settings, lang, path)
    return found


def _sample_path(settings: BenchmarkSettings, lang: str, path: Path) -> Path:
    stem = f"{path.parent.name}_{path.name}".replace("/", "_")
    return settings.corpus_dir / lang / f"shift_sample_{stem}"


def held_out_keys(settings: BenchmarkSettings, lang: str) -> set[str]:
    """Every sentence of ``lang``'s test files (in-domain and shift): never trained on."""
    keys: set[str] = set()
    for path in test_files(settings, lang).values():
        keys.update(words_key(s.words) for s in read_gold(path, settings))
    return keys


def _seeded_order(n: int, seed: int) -> list[int]:
    """``range(n)`` shuffled by ``seed``: every seeded sample here takes a prefix of it."""
    order = list(range(n))
    random.Random(seed).shuffle(order)
    return order


def _shuffled(sents: list[Any], seed: int) -> list[Any]:
    return [sents[i] for i in _seeded_order(len(sents), seed)]


def build_language(settings: BenchmarkSettings, lang: str) -> dict[str, Any]:
    """Gold train/dev DocBins, and the unlabelled text: train sentences without labels.

    With ``train_limit``/``dev_limit`` the gold splits are seeded samples (``data_seed``) of that
    many sentences. The unlabelled text is at most ``text_limit`` train sentences, none of them
    equal to a test sentence of the language, taken in the same seeded order (so with
    ``text_limit <= train_limit`` they are sentences the encoder has seen for the teacher
    anyway); written as a DocBin (the gold tokens, for the students) and as text (one sentence
    per line, for the weights).
    """
    from ..io.docbin import sentences_to_docbin

    folder = settings.corpus_dir / lang
    folder.mkdir(parents=True, exist_ok=True)
    splits = settings.languages[lang]
    log: dict[str, Any] = {}
    limits = {"train": settings.train_limit, "dev": settings.dev_limit}

    def convert(split: str) -> dict[str, Any]:
        sents = read_gold(getattr(splits, split), settings)
        total = len(sents)
        if limits[split]:
            sents = _shuffled(sents, settings.data_seed)[: limits[split]]
        n = sentences_to_docbin(folder / f"{split}.spacy", sents)
        return {"sentences": n, "of": total, "file": str(getattr(splits, split))}

    for split in ("train", "dev"):
        params = {
            "file": getattr(splits, split),
            "labels": settings.labels,
            "limit": limits[split],
            "seed": settings.data_seed,
        }
        cached_step(folder / f"{split}.spacy", split, partial(convert, split), log, params)

    def unlabelled() -> dict[str, Any]:
        sents = read_gold(splits.train, settings)
        held_out = held_out_keys(settings, lang)
        shuffled = _shuffled(sents, settings.data_seed)
        kept = [s for s in shuffled if s.words and words_key(s.words) not in held_out]
        removed = len(sents) - len(kept)
        if settings.text_limit:
            kept = kept[: settings.text_limit]
        from ..io.conll import TaggedSentence

        bare = [TaggedSentence(s.words, ["O"] * len(s.words), [], s.path, s.line) for s in kept]
        sentences_to_docbin(folder / "unlabelled.spacy", bare)
        with atomic_write(folder / "unlabelled.txt") as fh:
            fh.writelines(" ".join(s.words) + "\n" for s in kept)
        return {"sentences": len(kept), "removed_test_sentences": removed}

    params = {
        "file": splits.train,
        "limit": settings.text_limit,
        "seed": settings.data_seed,
        "held_out": [str(p) for p in test_files(settings, lang).values()],
    }
    cached_step(folder / "unlabelled.spacy", "unlabelled", unlabelled, log, params)
    for path in settings.shift.get(lang, []) if settings.shift_limit else []:
        sample = partial(_write_sample, settings, path, _sample_path(settings, lang, path))
        params = {"file": path, "limit": settings.shift_limit, "seed": settings.data_seed}
        cached_step(_sample_path(settings, lang, path), f"sample {path}", sample, log, params)
    return log


def _write_sample(settings: BenchmarkSettings, path: Path, output: Path) -> dict[str, Any]:
    from ..io.conll import write_conll

    sents = read_gold(path, settings)
    order = _seeded_order(len(sents), settings.data_seed)
    keep = sorted(order[: settings.shift_limit])  # a sample, kept in file order
    write_conll(output, ((sents[i].words, sents[i].ents) for i in keep))
    return {"sentences": len(keep), "of": len(sents)}


def build_vectors(settings: BenchmarkSettings, langs: Sequence[str]) -> dict[str, Any]:
    """In-project floret vectors on every language's train text (no test sentence), for
    the ``cnn-floret`` variant: ``xner train-vectors`` then ``spacy init vectors``."""
    from .floret_vectors import train_floret

    folder = settings.output_dir / "vectors"
    folder.mkdir(parents=True, exist_ok=True)
    log: dict[str, Any] = {}

    def run() -> dict[str, Any]:
        text = folder / "text.txt"
        n = 0
        with atomic_write(text) as fh:
            for lang in langs:
                held_out = held_out_keys(settings, lang)
                for sent in read_gold(settings.languages[lang].train, settings):
                    if sent.words and words_key(sent.words) not in held_out:
                        fh.write(" ".join(sent.words) + "\n")
                        n += 1
        stats = train_floret(text, folder / "vectors.floret", threads=2)
        cmd = [sys.executable, "-m", "spacy", "init", "vectors", "xx"]
        cmd += [str(folder / "vectors.floret"), str(folder / "spacy"), "--mode", "floret"]
        run_logged(cmd, folder / "init_vectors.log")
        return {"lines": n, **stats}

    params = {"langs": list(langs), "seed": settings.data_seed}
    cached_step(folder / "spacy", "vectors", run, log, params)
    return log["vectors"]


def encode_all(settings: BenchmarkSettings, langs: Iterable[str]) -> dict[str, Any]:
    """Run the encoder once over every sentence any model will see (into the disk cache)."""
    import spacy
    from spacy.tokens import DocBin

    from ..pipeline.encoder_component import FrozenEncoder

    t0 = time.perf_counter()
    cfg = spacy.util.load_config(settings.configs_dir / "student_encoder.cfg")
    block = dict(cfg["components"]["xner_encoder"])
    nlp = spacy.blank("xx")
    encoder = FrozenEncoder(
        "xner_encoder",
        model=settings.encoder,
        layer=int(block["layer"]),
        pooling=block["pooling"],
        batch_size=int(block["batch_size"]),
        device=block["device"],
        max_length=block["max_length"],
        on_overflow=block["on_overflow"],
        cache_size=0,
        weights_dtype=block["weights_dtype"],
        cache_dir=settings.feature_cache,
        trainable_layers=settings.trainable_layers,
    )
    n_docs = 0
    for lang in langs:
        folder = settings.corpus_dir / lang
        files = [folder / f"{name}.spacy" for name in ("train", "dev", "unlabelled")]
        docs = [d for f in files if f.is_file() for d in DocBin().from_disk(f).get_docs(nlp.vocab)]
        for path in eval_files(settings, lang).values() if lang in settings.targets else []:
            docs.extend(
                spacy.tokens.Doc(nlp.vocab, words=s.words) for s in read_gold(path, settings)
            )
        for start in range(0, len(docs), 2048):
            encoder.predict(docs[start : start + 2048])
        n_docs += len(docs)
        logger.info(
            "encode %s: %d docs, %d encoded so far (%.0f s)",
            lang,
            len(docs),
            encoder.n_encoded,
            time.perf_counter() - t0,
        )
    return {
        "docs": n_docs,
        "encoded": encoder.n_encoded,
        "from_disk": encoder.n_from_disk,
        "encode_seconds": round(encoder.encode_seconds, 1),
        "seconds": round(time.perf_counter() - t0, 1),
    }
