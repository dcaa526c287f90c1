"""Checks of the book's files, shared by tests/test_book.py (and usable on any tree)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import yaml

from rectified.register import ledger, load_register


def toc_files(root: Path) -> set[str]:
    """Every `file:` listed in _toc.yml (root included), without extension."""
    toc = yaml.safe_load((root / "_toc.yml").read_text())
    files = {toc["root"]}

    def walk(entries):
        for entry in entries or []:
            if "file" in entry:
                files.add(entry["file"])
            walk(entry.get("sections"))

    for part in toc.get("parts", []):
        walk(part.get("chapters"))
    walk(toc.get("chapters"))
    return files


def notebooks(root: Path) -> set[str]:
    """Every notebook under book/, as a toc entry (book/name, no extension)."""
    return {str(p.relative_to(root).with_suffix(""))
            for p in (root / "book").rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts}


def toc_mismatch(root: Path) -> tuple[set[str], set[str]]:
    """(notebooks missing from the toc, toc entries with no file)."""
    listed = toc_files(root)
    on_disk = notebooks(root)
    missing_files = {f for f in listed
                     if not any((root / f).with_suffix(s).exists() for s in (".ipynb", ".md"))}
    return on_disk - listed, missing_files


def cells(path: Path) -> list[dict]:
    return json.loads(path.read_text())["cells"]


def source(cell: dict) -> str:
    src = cell["source"]
    return "".join(src) if isinstance(src, list) else src


def notebooks_with_outputs(root: Path) -> list[str]:
    """Notebooks that hold outputs or execution counts (they must be committed clean)."""
    bad = []
    for p in sorted((root / "book").rglob("*.ipynb")):
        if any(c["cell_type"] == "code" and (c.get("outputs") or c.get("execution_count"))
               for c in cells(p)):
            bad.append(str(p.relative_to(root)))
    return bad


def register(root: Path) -> dict:
    """The book's register, read by the library's one reader."""
    return load_register(root / "book" / "register.yml")


def register_gaps(root: Path) -> tuple[list[str], list[str]]:
    """(IDs with no tagged markdown cell in their chapter — a missing chapter answers
    nothing —, claims none of whose tagged cells carries a bold verdict)."""
    rows, missing = ledger(root / "book")
    verdictless = [r["id"] for r in rows if r["kind"] == "claim" and r["answers"]
                   and not any(a.verdict for a in r["answers"])]
    verdictless += [p["id"] for r in rows for p in r["parts"]
                    if p["answers"] and not any(a.verdict for a in p["answers"])]
    return missing, verdictless


def colab_mismatch(root: Path) -> list[str]:
    """Notebooks whose first cell is not the Colab set-up cell for repository.url in
    _config.yml (tools/colab_cells.py writes it)."""
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tools"))
    import colab_cells

    expected = colab_cells.colab_cell(colab_cells.repository_url(root)).source
    bad = []
    for p in sorted((root / "book").rglob("*.ipynb")):
        first = (cells(p) or [{}])[0]
        tags = first.get("metadata", {}).get("tags", [])
        if first.get("cell_type") != "code" or source(first) != expected or "remove-cell" not in tags:
            bad.append(str(p.relative_to(root)))
    return bad


#: The longest code line the page shows without a sideways scroll at 1280 px (the code
#: column holds 83 characters of the 13 px monospace font; tests/browser checks the pages).
MAX_CODE_LINE = 79


def long_code_lines(root: Path, limit: int = MAX_CODE_LINE) -> list[str]:
    """``"book/x.ipynb cell N: M chars"`` for every code line longer than ``limit``."""
    bad = []
    for p in sorted((root / "book").rglob("*.ipynb")):
        for i, cell in enumerate(cells(p)):
            if cell.get("cell_type") != "code":
                continue
            for line in source(cell).split("\n"):
                if len(line) > limit:
                    bad.append(f"{p.relative_to(root)} cell {i}: {len(line)} chars")
    return bad


#: The quick-answer pages and the target label each gives every question (MyST
#: ``(label)=`` before the answer's heading).
QUICK_ANSWERS = {"book/quick-answers.md": "quick-{}",
                 "book/quick-answers-zh.md": "quick-zh-{}"}


def quick_answer_gaps(root: Path, pages=None) -> dict[str, list[str]]:
    """For each quick-answer page, the register's questions (Q..) it has no answer for
    (no ``(quick-q01)=``-style target), and ``"missing page"`` when the file is absent."""
    pages = QUICK_ANSWERS if pages is None else pages
    ids = [k for k in register(root)["entries"] if k.startswith("Q")]
    gaps = {}
    for page, label in pages.items():
        path = root / page
        if not path.exists():
            gaps[page] = ["missing page"]
            continue
        text = path.read_text()
        missing = [k for k in ids if f"({label.format(k.lower())})=" not in text]
        if missing:
            gaps[page] = missing
    return gaps


# --- plain language: sentence length --------------------------------------------------------

_STRIP = [
    (re.compile(r"```.*?```|:::.*?:::", re.S), " "),               # fenced blocks
    (re.compile(r"^\s*(?:[-+]|\*(?=\s)|\d+\.)\s+", re.M), "\n. "),     # a list item
    (re.compile(r"\$\$.*?\$\$", re.S), " "),                         # display math
    (re.compile(r"\$[^$\n]+\$"), "X"),                               # inline math: a word
    (re.compile(r"\{[a-z:]+\}`([^`<]*?)(?: <[^>`]*>)?`"), r"\1"),    # roles: their text
    (re.compile(r"`[^`]*`"), "Code"),                                # inline code: a word
    (re.compile(r"!?\[([^\]]*)\]\([^)]*\)"), r"\1"),                 # links: their text
    (re.compile(r"<[^>]+>"), " "),                                   # HTML tags
    (re.compile(r"^\s*(#.*|\|.*|\(.*\)=)\s*$", re.M), " "),          # headings, tables, targets
    (re.compile(r"[*_]{1,2}"), ""),                                  # emphasis marks
]
_SENTENCE = re.compile(r"(?<=[.!?])[\"”’)]*\s+(?=[\"“(]*[A-Z0-9])")
_ABBREVIATIONS = re.compile(r"\b(e\.g|i\.e|et al|vs|cf|Fig|Eq|approx)\.", re.I)


def prose(markdown: str) -> str:
    """The running text of a markdown source: code, math, tables, headings and markup
    removed; a formula or inline code counts as one word, a link or role as its text."""
    text = markdown
    for pattern, repl in _STRIP:
        text = pattern.sub(repl, text)
    return " ".join(text.split())


def sentences(markdown: str) -> list[str]:
    """The sentences of a markdown source's prose (split after . ! ? before a capital or
    a digit; common abbreviations do not end a sentence)."""
    text = _ABBREVIATIONS.sub(lambda m: m.group(0).replace(".", ""), prose(markdown))
    return [s for s in _SENTENCE.split(text) if len(s.split()) >= 2]


def english_markdown(root: Path) -> dict[str, list[str]]:
    """Per English page of the book (chapters and markdown pages in book/, Chinese pages
    left out), keyed by its path from `root`: the markdown sources of its prose."""
    out = {}
    for p in sorted((root / "book").glob("*.ipynb")) + sorted((root / "book").glob("*.md")):
        if not p.stem.endswith("-zh"):
            out[str(p.relative_to(root))] = (
                [source(c) for c in cells(p) if c["cell_type"] == "markdown"]
                if p.suffix == ".ipynb" else [p.read_text()])
    return out


def sentence_lengths(root: Path) -> dict[str, tuple[int, float]]:
    """Per English page of the book: (number of sentences, mean words per sentence) of its
    markdown prose."""
    out = {}
    for page, texts in english_markdown(root).items():
        found = [s for t in texts for s in sentences(t)]
        if found:
            out[page] = (len(found), sum(len(s.split()) for s in found) / len(found))
    return out


def phrases_in_prose(root: Path, phrases: list[str]) -> dict[str, list[str]]:
    """Per English page of the book, which of `phrases` its prose contains (case-insensitive,
    line breaks read as spaces)."""
    out = {}
    for page, texts in english_markdown(root).items():
        text = prose("\n".join(texts)).lower()
        found = [phrase for phrase in phrases if phrase.lower() in text]
        if found:
            out[page] = found
    return out
