"""The register of reader questions and claims, and where the chapters answer them.

``book/register.yml`` lists every question (Q..) and claim (C..) with the chapter that
answers it. A chapter answers an entry in a markdown cell tagged with the entry's ID; a
claim's cell starts with its bold verdict (``**Verdict: false.** ...``). This module reads
both and builds the claims ledger (appendix) from them, so the ledger is never written by
hand.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

import yaml

__all__ = ["Answer", "LABELS", "find_book", "load_register", "entry_parts", "slugify",
           "answers_in", "ledger", "off_label"]

#: The five verdicts a claim can get; each is followed by one sentence of reason.
LABELS = ("holds", "holds with a caveat", "false", "not reproduced at this scale", "depends")

_VERDICT = re.compile(r"^\s*\*\*Verdict:\s*(?P<verdict>[^*]+?)\*\*(?P<rest>.*)", re.M | re.S)
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z(])")
_HEADING = re.compile(r"^(#{1,3})\s+(.+?)\s*$", re.M)
_SLUG_CLEAN = re.compile(r"[^\w\u4e00-\u9fff\- ]")


@dataclass(frozen=True)
class Answer:
    """Where one register entry is answered."""

    id: str
    chapter: str      # notebook name without .ipynb
    section: str      # title of the nearest heading above the answering cell
    anchor: str       # that heading's anchor (GitHub-style slug, as MyST makes it)
    verdict: str      # the bold verdict of a claim ('' for a question)
    text: str         # the cell's markdown

    @property
    def label(self) -> str:
        """The verdict without its final full stop, in lower case ('' for a question)."""
        return self.verdict.strip().rstrip(".").strip().lower()

    @property
    def reason(self) -> str:
        """The first sentence after the bold verdict, on one line ('' if none)."""
        match = _VERDICT.search(self.text)
        rest = " ".join(match.group("rest").split()) if match else ""
        return _SENTENCE_END.split(rest, maxsplit=1)[0] if rest else ""


def find_book(start=None) -> Path:
    """The book's folder (the one holding ``register.yml``): ``start`` (default: the
    working directory) or a folder above it, else ``book/`` beside the library in a clone
    of the repository. A notebook run from anywhere in the clone finds it."""
    here = Path.cwd() if start is None else Path(start)
    candidates = [here, *here.resolve().parents, *(p / "book" for p in here.resolve().parents),
                  Path(__file__).resolve().parents[2] / "book"]
    for folder in candidates:
        if (folder / "register.yml").is_file():
            return folder
    raise FileNotFoundError(
        f"cannot find the book's register.yml from {here}: run the notebook from the book's "
        f"folder (book/ in a clone of the repository), or pass that folder's path")


def load_register(path=None) -> dict:
    """The register as a dict: ``chapters`` (name → title) and ``entries`` (ID → chapter,
    text, and optionally ``zh`` and ``parts``). ``path``: the register file or the book's folder (default: :func:`find_book`)."""
    path = find_book() if path is None else Path(path)
    if path.is_dir():
        path = path / "register.yml"
    try:
        reg = yaml.safe_load(path.read_text())
    except FileNotFoundError:
        raise FileNotFoundError(f"no register at {path}") from None
    except yaml.YAMLError as exc:
        raise ValueError(f"{path} is not valid YAML: {exc}") from None
    if not isinstance(reg, dict) or {"chapters", "entries"} - set(reg):
        raise ValueError(f"{path} must define 'chapters' and 'entries'")
    for key, entry in reg["entries"].items():
        if not isinstance(entry, dict) or {"chapter", "text"} - set(entry):
            raise ValueError(f"{path}: entry {key} needs a chapter and a text, got {entry!r}")
        if entry["chapter"] not in reg["chapters"]:
            raise ValueError(f"{path}: entry {key} names the unknown chapter "
                             f"{entry['chapter']!r}; chapters: {', '.join(reg['chapters'])}")
        unknown = set(entry) - _FIELDS
        if unknown:
            raise ValueError(f"{path}: entry {key} has unknown fields {sorted(unknown)}; "
                             f"allowed: {', '.join(sorted(_FIELDS))}")
        _check_text(path, key, entry, "zh", required=False)
        for part, body in (entry.get("parts") or {}).items():
            if not key.startswith("C") or not (isinstance(part, str)
                                               and part.startswith(key) and part != key):
                raise ValueError(f"{path}: entry {key}: a part needs an ID that starts "
                                 f"with its claim's ID (e.g. {key}a), and only claims "
                                 f"have parts; got {part!r}")
            if part in reg["entries"]:
                raise ValueError(f"{path}: part {part} of {key} is also an entry")
            if not isinstance(body, dict) or set(body) - {"text", "zh"}:
                raise ValueError(f"{path}: part {part} of {key} needs a text and may have "
                                 f"a zh, got {body!r}")
            _check_text(path, part, body, "text", required=True)
            _check_text(path, part, body, "zh", required=False)
    return reg


#: The fields an entry may have: its chapter and text, a Chinese rendering (``zh``) and,
#: for a claim that pairs a statement with its rival, ``parts``: one ID (the claim's ID
#: and a letter) per statement, each with a text and a ``zh``, each with its own verdict.
_FIELDS = {"chapter", "text", "zh", "parts"}


def _check_text(path, key, entry, field, required):
    value = entry.get(field)
    if value is None and not required:
        return
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{path}: {key}'s {field!r} must be a non-empty string, "
                         f"got {value!r}")


def entry_parts(entry: dict) -> list[dict]:
    """The parts of a register entry as ``{"id", "text", "zh"}`` dicts (``zh`` is ''
    when absent); a claim without parts has none."""
    return [{"id": k, "text": v["text"], "zh": v.get("zh", "")}
            for k, v in (entry.get("parts") or {}).items()]


def slugify(title: str) -> str:
    """The anchor MyST gives a heading: from its text and inline code only (math is left
    out), lower case, spaces to hyphens, punctuation dropped."""
    plain = re.sub(r"[`*_]", "", re.sub(r"\$[^$]*\$", "", title))
    return _SLUG_CLEAN.sub("", plain.lower().replace(" ", "-"))


def _source(cell) -> str:
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else src


def answers_in(notebook, ids) -> dict[str, list[Answer]]:
    """Every markdown cell of ``notebook`` tagged with one of ``ids``, with the section it
    sits in (the nearest heading of level 1–3 above or in the cell)."""
    path = Path(notebook)
    try:
        cells = json.loads(path.read_text())["cells"]
    except (json.JSONDecodeError, KeyError, TypeError) as exc:
        raise ValueError(f"{path} is not a notebook ({type(exc).__name__}: {exc})") from None
    ids = set(ids)
    section, anchor = "", ""
    found: dict[str, list[Answer]] = {}
    for cell in cells:
        if cell.get("cell_type") != "markdown":
            continue
        text = _source(cell)
        tags = [t for t in cell.get("metadata", {}).get("tags", []) if t in ids]
        headings = _HEADING.findall(text)
        # an answer sits in its own first heading, else in the last one above it
        here = headings[0][1] if headings else section
        here_anchor = slugify(here) if headings else anchor
        if headings:
            section = headings[-1][1]
            anchor = slugify(section)
        match = _VERDICT.search(text)
        verdict = match.group("verdict").strip() if match else ""
        for tag in tags:
            found.setdefault(tag, []).append(Answer(tag, path.stem, here, here_anchor,
                                                    verdict, text))
    return found


def ledger(book_dir=None) -> tuple[list[dict], list[str]]:
    """One row per register entry, in register order, and the IDs that have no answer yet.
    ``book_dir``: the book's folder (default: :func:`find_book`).

    Each row: id, kind ('claim' or 'question'), text, zh (its Chinese rendering, '' if
    none), chapter, chapter_title, written (whether the notebook exists), answers (a list
    of :class:`Answer`) and parts (for a claim that pairs two statements: one dict per
    statement with id, text, zh and answers; a part without an answer is also missing).
    """
    book = find_book() if book_dir is None else Path(book_dir)
    reg = load_register(book / "register.yml")
    by_chapter: dict[str, dict[str, list[Answer]]] = {}
    for chapter in reg["chapters"]:
        nb = book / f"{chapter}.ipynb"
        ids = [i for k, e in reg["entries"].items() if e["chapter"] == chapter
               for i in [k, *(p["id"] for p in entry_parts(e))]]
        by_chapter[chapter] = answers_in(nb, ids) if nb.exists() else {}
    rows, missing = [], []
    for key, entry in reg["entries"].items():
        chapter = entry["chapter"]
        found = by_chapter.get(chapter, {})
        answers = found.get(key, [])
        if not answers:
            missing.append(key)
        parts = [dict(p, answers=found.get(p["id"], [])) for p in entry_parts(entry)]
        missing += [p["id"] for p in parts if not p["answers"]]
        rows.append({"id": key, "kind": "claim" if key.startswith("C") else "question",
                     "text": entry["text"], "zh": entry.get("zh", ""), "chapter": chapter,
                     "chapter_title": reg["chapters"][chapter],
                     "written": (book / f"{chapter}.ipynb").exists(), "answers": answers,
                     "parts": parts})
    return rows, missing


def off_label(rows) -> list[str]:
    """``"ID (verdict)"`` for every answered claim of a :func:`ledger` whose verdict is not
    one of the five :data:`LABELS` or has no reason after it."""
    bad = []
    for r in rows:
        if r["kind"] != "claim":
            continue
        for key, answers in [(r["id"], r["answers"]),
                             *((p["id"], p["answers"]) for p in r.get("parts", []))]:
            for a in answers:
                if a.verdict and (a.label not in LABELS or not a.reason):
                    bad.append(f"{key} ({a.verdict})")
    return bad
