"""The README and the docs pages: every relative link resolves, the README stays a front page.

Links are read with markdown-it (CommonMark, plus tables), so links inside code are not links.
External http(s) and mailto links are not fetched. An ``#anchor`` must match a heading of the
page it points to, slugged as GitHub does, or an HTML ``id``/``name`` on that page.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from functools import cache
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

markdown_it = pytest.importorskip("markdown_it")

REPO = Path(__file__).resolve().parents[1]
README = REPO / "README.md"
DOCS = REPO / "docs"
PAGES = (
    "README.md",
    "getting-started.md",
    "cli-and-api.md",
    "projection.md",
    "encoder.md",
    "conll-benchmark.md",
    "distillation.md",
    "speed-and-robustness.md",
    "design.md",
    "CHANGELOG.md",
)
MAX_README_LINES = 300

_HTML_ID = re.compile(r"""<[a-zA-Z][^>]*\s(?:id|name)\s*=\s*["']([^"']+)["']""")


def _markdown_files() -> list[Path]:
    return [README, *sorted(DOCS.glob("*.md"))]


@cache
def _tokens(path: Path) -> list:
    md = markdown_it.MarkdownIt("commonmark").enable("table")
    return md.parse(path.read_text(encoding="utf8"))


def _inline_children(path: Path):
    for token in _tokens(path):
        if token.type == "inline":
            yield token
            yield from token.children or []


def github_slug(text: str) -> str:
    """GitHub's heading anchor: lowercase, punctuation but hyphens and spaces dropped,
    spaces to hyphens (so "A — B" gives "a--b")."""
    text = text.strip().lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


@cache
def anchors(path: Path) -> frozenset[str]:
    """Every anchor a link may name on ``path``: heading slugs (GitHub numbers repeats
    ``-1``, ``-2``, …) and HTML ``id``/``name`` attributes."""
    tokens = _tokens(path)
    seen: dict[str, int] = {}
    found: set[str] = set()
    for i, token in enumerate(tokens):
        if token.type != "heading_open":
            continue
        inline = tokens[i + 1]
        # the heading's text as rendered: code spans keep their content, markup goes
        text = "".join(
            child.content
            for child in inline.children or []
            if child.type in ("text", "code_inline")
        )
        slug = github_slug(text)
        n = seen.get(slug, 0)
        seen[slug] = n + 1
        found.add(slug if n == 0 else f"{slug}-{n}")
    found.update(_HTML_ID.findall(path.read_text(encoding="utf8")))
    return frozenset(found)


def links(path: Path) -> list[str]:
    """The targets of every link and image on the page."""
    out = []
    for child in _inline_children(path):
        if child.type == "link_open":
            out.append(child.attrGet("href"))
        elif child.type == "image":
            out.append(child.attrGet("src"))
    return [href for href in out if href]


def _check(path: Path, href: str) -> str | None:
    """An error message for a broken link, or None."""
    parts = urlsplit(href)
    if parts.scheme in ("http", "https", "mailto"):
        return None
    if parts.scheme or parts.netloc:
        return f"{href}: unexpected link scheme"
    target = path if not parts.path else (path.parent / unquote(parts.path)).resolve()
    if not target.exists():
        shown = target.relative_to(REPO) if target.is_relative_to(REPO) else target
        return f"{href}: {shown} does not exist"
    if parts.fragment:
        if target.suffix != ".md" or target.is_dir():
            return f"{href}: an anchor on a file that is not a Markdown page"
        if unquote(parts.fragment) not in anchors(target):
            return f"{href}: no heading '#{parts.fragment}' on {target.relative_to(REPO)}"
    return None


def test_docs_pages_exist() -> None:
    missing = [name for name in PAGES if not (DOCS / name).is_file()]
    assert not missing, f"docs pages missing: {missing}"


def test_readme_is_a_front_page() -> None:
    n = len(README.read_text(encoding="utf8").splitlines())
    assert n <= MAX_README_LINES, (
        f"README.md has {n} lines (at most {MAX_README_LINES}); move detail to docs/"
    )


@pytest.mark.parametrize("path", _markdown_files(), ids=lambda p: str(p.relative_to(REPO)))
def test_relative_links_resolve(path: Path) -> None:
    errors = [err for href in links(path) if (err := _check(path, href))]
    assert not errors, f"{path.relative_to(REPO)}:\n" + "\n".join(errors)


def test_readme_links_every_docs_page() -> None:
    linked = {
        (README.parent / urlsplit(href).path).resolve()
        for href in links(README)
        if not urlsplit(href).scheme and urlsplit(href).path
    }
    unlinked = [name for name in PAGES if (DOCS / name).resolve() not in linked]
    assert not unlinked, f"README.md does not link {unlinked}"


def test_weasel_markers_in_readme() -> None:
    text = README.read_text(encoding="utf8")
    start = "<!-- WEASEL: AUTO-GENERATED DOCS START (do not remove) -->"
    end = "<!-- WEASEL: AUTO-GENERATED DOCS END (do not remove) -->"
    assert text.count(start) == 1 and text.count(end) == 1
    assert text.index(start) < text.index(end)


@pytest.mark.skipif(shutil.which("awk") is None, reason="awk not installed")
def test_ci_finds_the_test_command() -> None:
    """.ci/run reads the README's test command with an awk program; run that same program."""
    found = re.search(
        r"awk '([^']+)' README\.md", (REPO / ".ci" / "run").read_text(encoding="utf8")
    )
    assert found, ".ci/run no longer reads README.md with awk: update this test"
    out = subprocess.run(
        ["awk", found.group(1), str(README)], capture_output=True, text=True, check=True
    )
    cmd = out.stdout.strip()
    assert cmd.count("\n") == 0, f"the test command should be one line: {cmd!r}"
    assert "pip install" in cmd and "pytest" in cmd, cmd


def test_github_slug() -> None:
    assert github_slug("Frozen-encoder NER on CPU (configs/ner_encoder.cfg)") == (
        "frozen-encoder-ner-on-cpu-configsner_encodercfg"
    )
    assert github_slug("Teacher–student distillation") == "teacherstudent-distillation"
    assert github_slug("The `xner` command line") == "the-xner-command-line"
