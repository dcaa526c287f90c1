import json

import pytest

from rectified import register


def _nb(path, cells):
    path.write_text(json.dumps({"cells": cells, "metadata": {}, "nbformat": 4,
                                "nbformat_minor": 5}))


def _md(text, tags=()):
    return {"cell_type": "markdown", "source": text, "metadata": {"tags": list(tags)}}


@pytest.fixture
def book(tmp_path):
    (tmp_path / "register.yml").write_text(
        "chapters:\n  alpha: The first chapter\n  beta: The second chapter\n"
        "entries:\n"
        "  Q01: {chapter: alpha, text: \"What is it?\"}\n"
        "  C01: {chapter: alpha, text: \"It is simple.\"}\n"
        "  Q02: {chapter: beta, text: \"Why?\"}\n")
    _nb(tmp_path / "alpha.ipynb", [
        _md("# Alpha\nintro"),
        {"cell_type": "code", "source": "# not a heading", "metadata": {}, "outputs": []},
        _md("## What it is, in `code` and $x^2$!\ntext"),
        _md("It is a thing.", ["Q01"]),
        _md("### A verdict section\n**Verdict: holds with a caveat.** Mostly.", ["C01"]),
    ])
    return tmp_path


def test_slugify_matches_myst_style_anchors():
    assert register.slugify("Why ReLU beat sigmoid, part 1") == "why-relu-beat-sigmoid-part-1"
    # MyST builds the anchor from text and inline code; inline math is left out
    assert register.slugify("What it is, in `code` and $x^2$!") == "what-it-is-in-code-and-"
    assert register.slugify("3. $|z|$: rectifying") == "3--rectifying"


def test_answers_record_section_anchor_and_verdict(book):
    found = register.answers_in(book / "alpha.ipynb", ["Q01", "C01"])
    q = found["Q01"][0]
    assert (q.chapter, q.section, q.anchor, q.verdict) == (
        "alpha", "What it is, in `code` and $x^2$!", "what-it-is-in-code-and-", "")
    c = found["C01"][0]
    assert c.section == "A verdict section" and c.verdict == "holds with a caveat."


def test_ledger_rows_and_missing_entries(book):
    rows, missing = register.ledger(book)
    assert [r["id"] for r in rows] == ["Q01", "C01", "Q02"]
    assert missing == ["Q02"]
    assert rows[1]["kind"] == "claim" and rows[1]["written"] and rows[1]["answers"]
    assert not rows[2]["written"] and rows[2]["chapter_title"] == "The second chapter"


def test_a_claim_without_verdict_has_an_empty_verdict(book):
    _nb(book / "alpha.ipynb", [_md("Probably true.", ["C01"])])
    rows, missing = register.ledger(book)
    assert rows[1]["answers"][0].verdict == "" and missing == ["Q01", "Q02"]


def test_bad_register_is_a_clear_error(tmp_path):
    (tmp_path / "register.yml").write_text("entries: {}\n")
    with pytest.raises(ValueError, match="must define 'chapters' and 'entries'"):
        register.load_register(tmp_path / "register.yml")


def test_the_books_register_loads():
    from pathlib import Path

    reg = register.load_register(Path(__file__).resolve().parents[1] / "book" / "register.yml")
    assert len(reg["entries"]) == 75


def test_a_verdict_has_a_label_and_a_reason(book):
    found = register.answers_in(book / "alpha.ipynb", ["C01"])
    a = found["C01"][0]
    assert a.label == "holds with a caveat" and a.reason == "Mostly."
    _nb(book / "alpha.ipynb", [
        _md("**Verdict: false.** It is not. Here is\nmore. And more.", ["C01"]),
        _md("x", ["Q01"])])
    rows, _ = register.ledger(book)
    c01 = next(r for r in rows if r["id"] == "C01")["answers"][0]
    assert c01.label == "false" and c01.reason == "It is not."
    assert register.off_label(rows) == []


def test_off_label_verdicts_are_found(book):
    for verdict in ("**Verdict: false at this scale.** Small nets.",
                    "**Verdict: holds.**"):                 # a label without a reason
        _nb(book / "alpha.ipynb", [_md(verdict, ["C01"]), _md("x", ["Q01"])])
        rows, _ = register.ledger(book)
        assert register.off_label(rows) == [f"C01 ({verdict.split('**')[1][9:]})"]


def test_the_book_is_found_from_other_folders(tmp_path, monkeypatch):
    book = register.find_book()
    assert (book / "register.yml").is_file()
    monkeypatch.chdir(tmp_path)                    # not inside the clone: beside the library
    assert register.find_book() == book
    monkeypatch.chdir(book.parent / "lib")         # inside the clone, another folder
    assert register.find_book() == book
    assert register.load_register()["entries"] and register.ledger()[0]
    assert register.find_book(book) == book


def test_broken_register_files_name_the_file(tmp_path):
    (tmp_path / "register.yml").write_text("chapters: {a: A}\nentries: {Q01: {chapter: b, "
                                           "text: x}}\n")
    with pytest.raises(ValueError, match="unknown chapter 'b'"):
        register.load_register(tmp_path)
    (tmp_path / "register.yml").write_text("chapters: [unclosed\n")
    with pytest.raises(ValueError, match="register.yml is not valid YAML"):
        register.load_register(tmp_path / "register.yml")
    with pytest.raises(FileNotFoundError, match="no register at"):
        register.load_register(tmp_path / "missing.yml")
    (tmp_path / "alpha.ipynb").write_text("{not json")
    with pytest.raises(ValueError, match="alpha.ipynb is not a notebook"):
        register.answers_in(tmp_path / "alpha.ipynb", ["Q01"])


def _register(tmp_path, c01):
    (tmp_path / "register.yml").write_text(
        "chapters:\n  alpha: The first chapter\nentries:\n  C01: " + c01 + "\n")
    return tmp_path / "register.yml"


def test_claims_carry_a_chinese_rendering_and_parts(tmp_path):
    path = _register(tmp_path, '{chapter: alpha, text: "A, and B.", zh: "甲，乙。", '
                     'parts: {C01a: {text: "A.", zh: "甲。"}, C01b: {text: "B."}}}')
    entry = register.load_register(path)["entries"]["C01"]
    assert entry["zh"] == "甲，乙。"
    assert register.entry_parts(entry) == [{"id": "C01a", "text": "A.", "zh": "甲。"},
                                           {"id": "C01b", "text": "B.", "zh": ""}]
    _nb(tmp_path / "alpha.ipynb", [
        _md("**Verdict: depends.** On B.", ["C01"]),
        _md("**Verdict: false.** Not A.", ["C01a"])])
    rows, missing = register.ledger(tmp_path)
    (row,) = rows
    assert row["zh"] == "甲，乙。" and missing == ["C01b"]
    assert [p["id"] for p in row["parts"]] == ["C01a", "C01b"]
    assert row["parts"][0]["answers"][0].label == "false"
    assert row["parts"][1]["answers"] == []
    _nb(tmp_path / "alpha.ipynb", [
        _md("**Verdict: depends.** On B.", ["C01"]),
        _md("**Verdict: false.** Not A.", ["C01a"]),
        _md("**Verdict: maybe.** Who knows.", ["C01b"])])
    rows, missing = register.ledger(tmp_path)
    assert missing == [] and register.off_label(rows) == ["C01b (maybe.)"]


@pytest.mark.parametrize("c01, message", [
    ('{chapter: alpha, text: "A.", zh: ""}', "'zh' must be a non-empty string"),
    ('{chapter: alpha, text: "A.", zh: 3}', "'zh' must be a non-empty string"),
    ('{chapter: alpha, text: "A.", note: "x"}', "unknown fields"),
    ('{chapter: alpha, text: "A.", parts: {X1: {text: "A."}}}', "starts with"),
    ('{chapter: alpha, text: "A.", parts: {C01: {text: "A."}}}', "starts with"),
    ('{chapter: alpha, text: "A.", parts: {C01a: {zh: "甲"}}}', "'text' must be"),
    ('{chapter: alpha, text: "A.", parts: {C01a: {text: "A.", why: "x"}}}',
     "needs a text"),
])
def test_bad_chinese_renderings_and_parts_are_clear_errors(tmp_path, c01, message):
    with pytest.raises(ValueError, match=message):
        register.load_register(_register(tmp_path, c01))


def test_only_claims_have_parts_and_parts_are_not_entries(tmp_path):
    (tmp_path / "register.yml").write_text(
        "chapters:\n  alpha: A\nentries:\n"
        "  Q01: {chapter: alpha, text: \"Q?\", parts: {Q01a: {text: \"a\"}}}\n")
    with pytest.raises(ValueError, match="only claims have parts"):
        register.load_register(tmp_path)
    (tmp_path / "register.yml").write_text(
        "chapters:\n  alpha: A\nentries:\n"
        "  C01: {chapter: alpha, text: \"A.\", parts: {C01a: {text: \"a\"}}}\n"
        "  C01a: {chapter: alpha, text: \"a\"}\n")
    with pytest.raises(ValueError, match="is also an entry"):
        register.load_register(tmp_path)
