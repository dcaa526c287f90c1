"""The book's invariants: the toc lists exactly the notebooks, notebooks are committed
without outputs, and every register entry of a written chapter has its tagged answer."""

import json
import shutil
from pathlib import Path

import pytest

import book_checks as bc

ROOT = Path(__file__).resolve().parents[1]


def test_toc_lists_exactly_the_notebooks_in_book():
    unlisted, missing = bc.toc_mismatch(ROOT)
    assert not unlisted, f"notebooks missing from _toc.yml: {sorted(unlisted)}"
    assert not missing, f"_toc.yml entries with no file: {sorted(missing)}"


def test_notebooks_are_committed_without_outputs():
    assert bc.notebooks_with_outputs(ROOT) == [], \
        "strip outputs: jupyter nbconvert --clear-output --inplace book/*.ipynb"


def test_every_register_entry_is_answered():
    missing, verdictless = bc.register_gaps(ROOT)
    assert not missing, f"register entries without a tagged markdown cell: {missing}"
    assert not verdictless, f"claims whose tagged cell has no bold verdict: {verdictless}"


def test_every_question_has_a_quick_answer():
    assert bc.quick_answer_gaps(ROOT) == {}, \
        "add the question's answer, under its (quick-qNN)= target, to the page"


#: Plain language: the house target is about 18 words a sentence. Every page of 20
#: sentences or more (each chapter, the quick answers) keeps its mean at or under it; the
#: chapters averaged 14.2-16.5 when the bound was set here.
PAGE_MAX_WORDS = 18


def test_sentence_length_per_page():
    lengths = bc.sentence_lengths(ROOT)
    print("\nwords per sentence (mean), per page:")
    for page, (n, mean) in lengths.items():
        print(f"  {page:34s} {mean:5.1f}  ({n} sentences)")
    assert lengths["book/quick-answers.md"][0] >= 20
    long = {p: round(m, 1) for p, (n, m) in lengths.items()
            if n >= 20 and m > PAGE_MAX_WORDS}
    assert not long, f"pages whose sentences average over {PAGE_MAX_WORDS} words: {long}"


#: Idioms a reader of English as a second language may not know; the prose says these
#: things in literal words. (A list catches only what it names: it keeps out the ones
#: that were swept from the chapters.)
IDIOMS = ["the exception that proves the rule", "rule of thumb", "ballpark", "for free",
          "in a nutshell", "kicks in", "pays off", "on the table", "falls flat",
          "at face value", "hand-wavy", "lion's share", "across the board", "a far cry",
          "moves the needle", "sweet spot", "bit for bit", "the whole story", "blows up",
          "blow up", "in miniature", "in disguise", "for good", "once and for all",
          "stand-in", "under the hood", "out of the box", "silver bullet", "boils down",
          "grain of truth", "too close to call", "stays put", "told apart", "handful"]


def test_the_prose_has_no_idioms_from_the_list():
    assert bc.phrases_in_prose(ROOT, IDIOMS) == {}


def test_the_idiom_check_reads_the_prose(tmp_path):
    (tmp_path / "book").mkdir()
    (tmp_path / "book" / "page.md").write_text("# Title\n\nThis rule of\nthumb pays.\n")
    (tmp_path / "book" / "page-zh.md").write_text("rule of thumb\n")
    assert bc.phrases_in_prose(tmp_path, ["rule of thumb", "for free"]) == {
        "book/page.md": ["rule of thumb"]}


def test_sentences_are_counted_in_the_prose_only():
    text = ("# A heading that is long\n\nReLU is $\\max(0, z)$, see [the intro](intro.md) "
            "and {cite:t}`nair2010rectified`. It has e.g. one kink! Code `np.maximum(0, z)` "
            "counts as one word.\n\n$$\na = b + c\n$$\n\n| a | table |\n|---|---|\n"
            "```python\nx = 1. Not prose.\n```\n")
    found = bc.sentences(text)
    assert found == ["ReLU is X, see the intro and nair2010rectified.",
                     "It has eg one kink!", "Code Code counts as one word."]
    assert bc.prose("**Bold** and *it* and {term}`kink <kink>`") == "Bold and it and kink"


def test_code_lines_fit_the_page():
    assert bc.long_code_lines(ROOT) == []


def test_the_code_line_check_catches_a_long_line(tree):
    nb = tree / "book" / "intro.ipynb"
    data = json.loads(nb.read_text())
    data["cells"][1]["cell_type"] = "code"
    data["cells"][1]["source"] = ["x = 1  # " + "y" * 80]
    data["cells"][1].setdefault("outputs", [])
    nb.write_text(json.dumps(data))
    assert bc.long_code_lines(tree) == ["book/intro.ipynb cell 1: 89 chars"]


def test_every_notebook_starts_with_the_colab_setup_cell():
    assert bc.colab_mismatch(ROOT) == [], "run `make colab-cells`"


def test_register_names_only_known_chapters():
    reg = bc.register(ROOT)
    assert {e["chapter"] for e in reg["entries"].values()} <= set(reg["chapters"])


# --- the checks themselves fail when violated ---------------------------------------------

@pytest.fixture
def tree(tmp_path):
    for name in ("_toc.yml", "_config.yml"):
        shutil.copy(ROOT / name, tmp_path / name)
    shutil.copytree(ROOT / "book", tmp_path / "book",
                    ignore=shutil.ignore_patterns(".ipynb_checkpoints", "_build"))
    return tmp_path


def _notebook(cells):
    return json.dumps({"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5})


def test_toc_check_catches_an_unlisted_notebook_and_a_missing_file(tree):
    (tree / "book" / "stray.ipynb").write_text(_notebook([]))
    toc = (tree / "_toc.yml").read_text().replace(
        "      - file: book/running", "      - file: book/running\n      - file: book/ghost")
    (tree / "_toc.yml").write_text(toc)
    unlisted, missing = bc.toc_mismatch(tree)
    assert "book/stray" in unlisted and missing == {"book/ghost"}


def test_output_check_catches_a_stored_output(tree):
    cell = {"cell_type": "code", "source": "1", "metadata": {}, "execution_count": 1,
            "outputs": [{"output_type": "execute_result", "data": {"text/plain": "1"},
                         "metadata": {}, "execution_count": 1}]}
    (tree / "book" / "dirty.ipynb").write_text(_notebook([cell]))
    assert bc.notebooks_with_outputs(tree) == ["book/dirty.ipynb"]


def test_register_check_catches_missing_tags_and_verdicts(tree):
    reg = bc.register(tree)
    chapter = reg["entries"]["C13"]["chapter"]
    ids = [k for k, e in reg["entries"].items() if e["chapter"] == chapter]
    good = [{"cell_type": "markdown", "source": f"**Verdict: false.** {k}",
             "metadata": {"tags": [k]}} for k in ids]
    path = tree / "book" / f"{chapter}.ipynb"
    path.write_text(_notebook(good))
    assert not set(ids) & set(bc.register_gaps(tree)[0])
    broken = [c for c in good if c["metadata"]["tags"] != [ids[0]]]
    claim = next(c for c in broken if c["metadata"]["tags"][0].startswith("C"))
    claim["source"] = "Holds, probably."
    path.write_text(_notebook(broken))
    missing, verdictless = bc.register_gaps(tree)
    assert ids[0] in missing and claim["metadata"]["tags"][0] in verdictless


def test_colab_check_catches_a_stale_repository_url(tree):
    assert bc.colab_mismatch(tree) == bc.colab_mismatch(ROOT)
    config = (tree / "_config.yml").read_text()
    (tree / "_config.yml").write_text(config.replace("github.com/rectified-book/",
                                                     "github.com/a-fork/"))
    assert "book/intro.ipynb" in bc.colab_mismatch(tree)


def test_register_check_counts_a_missing_chapter_as_unanswered(tree):
    reg = bc.register(tree)
    chapter = reg["entries"]["Q01"]["chapter"]
    (tree / "book" / f"{chapter}.ipynb").unlink(missing_ok=True)
    missing, _ = bc.register_gaps(tree)
    assert "Q01" in missing


def test_quick_answer_check_catches_a_new_question(tree):
    assert bc.quick_answer_gaps(tree) == {}
    reg = (tree / "book" / "register.yml").read_text()
    chapter = bc.register(tree)["entries"]["Q01"]["chapter"]
    reg = reg.replace("entries:\n", "entries:\n  Q99: {chapter: %s, text: \"New?\"}\n"
                      % chapter)
    (tree / "book" / "register.yml").write_text(reg)
    pages = list(bc.QUICK_ANSWERS)
    assert bc.quick_answer_gaps(tree) == {page: ["Q99"] for page in pages}
    (tree / pages[0]).unlink()
    assert bc.quick_answer_gaps(tree)[pages[0]] == ["missing page"]
