"""``xner crosslingual`` (the cross-lingual benchmark) and ``xner crosslingual-report``."""

from __future__ import annotations

import json
import shlex
import sys
import time
from pathlib import Path

import typer

from .app import app
from .common import emit_summary, fail, setup_logging


def _pairs(values: list[str], option: str) -> list[tuple[str, str]]:
    out = []
    for value in values:
        key, sep, rest = value.partition("=")
        if not sep or not key.strip() or not rest.strip():
            raise typer.BadParameter(f"expected LANG=PATH, got {value!r}", param_hint=option)
        out.append((key.strip(), rest.strip()))
    return out


def _csv(value: str) -> list[str]:
    return [v.strip() for v in value.split(",") if v.strip()]


@app.command("crosslingual")
def crosslingual_cmd(
    lang: list[str] = typer.Option(
        ...,
        help="LANG=DIR, repeatable: gold 'token TAG' files train.txt/dev.txt/test.txt (or "
        "CoNLL-2003's eng.train/testa/testb) of a language",
    ),
    targets: str = typer.Option(..., help="Target languages, comma-separated (e.g. de,es,nl)"),
    sources: str = typer.Option(
        ...,
        help="Source languages in the order they are added (the first is the single source), "
        "comma-separated; a target is never its own source",
    ),
    output_dir: Path = typer.Option(..., help="Data, feature cache and models go here"),
    output: Path = typer.Option(..., help="Result JSON (for xner crosslingual-report)"),
    shift: list[str] = typer.Option(
        [], help="TARGET=FILE, repeatable: an out-of-domain gold test file of a target"
    ),
    shift_pattern: list[str] = typer.Option(
        [],
        help="A path with {lang}, repeatable (e.g. data/wikiann/{lang}/test.txt): the "
        "out-of-domain test file of each target for which that file exists",
    ),
    labels: str = typer.Option("LOC,MISC,ORG,PER", help="Entity types, comma-separated"),
    ignore_labels: str = typer.Option(
        "",
        help="Gold entity types read as O everywhere (e.g. MasakhaNER's DATE), comma-separated; "
        "any type in neither list is an error naming file:line",
    ),
    variants: str = typer.Option(
        "encoder",
        help="Embedding variants, comma-separated: encoder (frozen pretrained encoder "
        "features), cnn (from scratch), cnn-floret (CNN with --vectors)",
    ),
    full_variants: str = typer.Option(
        "encoder",
        help="Variants that run every k and weighting and the hard-label student; the others "
        "run direct transfer, the single-source soft student and k = max with uniform weights",
    ),
    weightings: str = typer.Option(
        "uniform,similarity,langid", help="Teacher weightings for k >= 2, comma-separated"
    ),
    max_sources: int = typer.Option(3, help="Most sources per target (k = 1..max)"),
    train_limit: int = typer.Option(
        0, help="Gold train sentences per source (a seeded sample; 0: all)"
    ),
    dev_limit: int = typer.Option(
        0, help="Gold dev sentences per source (a seeded sample; 0: all)"
    ),
    text_limit: int = typer.Option(
        5000,
        help="Unlabelled sentences per target: its train split in the same seeded order as "
        "--train-limit, test sentences removed (0: all)",
    ),
    teacher_steps: int = typer.Option(2000, help="Training steps of each teacher"),
    student_steps: int = typer.Option(1500, help="Training steps of each student"),
    eval_frequency: int = typer.Option(250, help="Steps between dev evaluations"),
    encoder: str = typer.Option("assets/encoder", help="Encoder: hub name or local directory"),
    vectors: Path | None = typer.Option(
        None,
        help="spaCy vectors for the cnn-floret variant (default: floret vectors trained here "
        "on every language's train text)",
    ),
    configs_dir: Path = typer.Option(
        Path("configs"), exists=True, file_okay=False, help="student(_encoder).cfg live here"
    ),
    similarity_temperature: float = typer.Option(0.1, help="Similarity weights' temperature"),
    langid_temperature: float = typer.Option(1.0, help="Language-identifier weights' temperature"),
    shift_limit: int = typer.Option(
        0, help="Score out-of-domain files on a seeded sample of this many sentences (0: all)"
    ),
    ntrex_dir: Path | None = typer.Option(
        None,
        help="NTREX-128 folder (<iso3>.txt, line-aligned): adds projection-based "
        "translate-train (first source → target) and its student distilled with the teachers",
    ),
    projection_config: Path = typer.Option(
        Path("configs/projection.cfg"), help="Aligner and projector of translate-train"
    ),
    seed: int = typer.Option(0, help="Seed of the text samples and of training"),
    jobs: int = typer.Option(1, help="Models trained at the same time (one process each)"),
) -> None:
    """Direct transfer, hard- and soft-label students, multi-source students for k = 1..K."""
    from ..experiments.crosslingual import run_benchmark
    from ..experiments.crosslingual_data import BenchmarkSettings, GoldSplits
    from ..io.atomic import atomic_write

    setup_logging()
    t0 = time.perf_counter()
    try:
        languages = {k: GoldSplits.from_dir(Path(v)) for k, v in _pairs(lang, "--lang")}
        shifts: dict[str, list[Path]] = {}
        for key, path in _pairs(shift, "--shift"):
            if not Path(path).is_file():
                raise FileNotFoundError(f"--shift {key}={path}: no such file")
            shifts.setdefault(key, []).append(Path(path))
        for pattern in shift_pattern:
            if "{lang}" not in pattern:
                raise ValueError(f"--shift-pattern {pattern!r} has no {{lang}}")
            for target in _csv(targets):
                found = Path(pattern.replace("{lang}", target))
                if found.is_file():
                    shifts.setdefault(target, []).append(found)
        settings = BenchmarkSettings(
            languages=languages,
            targets=_csv(targets),
            sources=_csv(sources),
            output_dir=output_dir.resolve(),
            shift=shifts,
            labels=tuple(_csv(labels)),
            ignore_labels=tuple(_csv(ignore_labels)),
            variants=tuple(_csv(variants)),
            full_variants=tuple(_csv(full_variants)),
            weightings=tuple(_csv(weightings)),
            max_sources=max_sources,
            train_limit=train_limit,
            dev_limit=dev_limit,
            text_limit=text_limit,
            teacher_steps=teacher_steps,
            student_steps=student_steps,
            eval_frequency=eval_frequency,
            encoder=encoder,
            configs_dir=configs_dir,
            vectors=vectors,
            similarity_temperature=similarity_temperature,
            langid_temperature=langid_temperature,
            shift_limit=shift_limit,
            ntrex_dir=ntrex_dir,
            projection_config=projection_config,
            seed=seed,
            jobs=jobs,
        )
        result = run_benchmark(settings, command=shlex.join(["xner", *sys.argv[1:]]))
    except (ValueError, OSError, RuntimeError) as err:
        raise fail(err) from err
    with atomic_write(output) as fh:
        fh.write(json.dumps(result, indent=2, ensure_ascii=False, default=str) + "\n")
    summary = {
        "output": str(output),
        "models": len(result["rows"]),
        "step_seconds": result["step_seconds"],
        "f1": {
            f"{r['variant']}:{r['target']}:{r['method']}:k{r['k']}:{r['weighting'] or '-'}:"
            f"{'+'.join(r['sources'])}": {d: s["f1"] for d, s in r["scores"].items()}
            for r in result["rows"]
        },
    }
    emit_summary("crosslingual", summary, None, t0)


@app.command("crosslingual-report")
def crosslingual_report_cmd(
    results: list[Path] = typer.Argument(..., exists=True, help="xner crosslingual JSONs"),
    json_output: Path | None = typer.Option(None, "--json", help="The table (JSON)"),
    markdown_output: Path | None = typer.Option(None, "--markdown", help="Markdown tables"),
    plot: Path | None = typer.Option(None, help="PNG plot of F1 against the number of sources"),
) -> None:
    """Tables (methods × targets, in-domain and out-of-domain) and a plot of F1 against k."""
    from ..evaluation.crosslingual_report import report

    try:
        table = report(
            results, json_path=json_output, markdown_path=markdown_output, plot_path=plot
        )
    except (ValueError, KeyError) as err:
        raise fail(err) from err
    typer.echo(table["markdown"])
