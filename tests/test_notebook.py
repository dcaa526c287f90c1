"""Cells run out of order get a note saying what to run first."""

import json

import pytest
from IPython.core.interactiveshell import InteractiveShell

from rectified import notebook


@pytest.fixture
def shell(capsys):
    InteractiveShell.clear_instance()
    sh = InteractiveShell.instance(colors="nocolor")
    assert notebook.explain_errors(sh)
    assert notebook.explain_errors(sh)          # a second call changes nothing
    yield sh
    InteractiveShell.clear_instance()


def _run(shell, capsys, code):
    result = shell.run_cell(code, store_history=True)
    return result, capsys.readouterr()


def test_a_name_error_asks_to_run_the_cells_above(shell, capsys, monkeypatch):
    monkeypatch.delenv("JPY_SESSION_NAME", raising=False)
    result, out = _run(shell, capsys, "fit_runs[0]")
    assert isinstance(result.error_in_exec, NameError)      # still an error
    assert "run the cells above this one first" in out.out + out.err


def test_a_name_error_names_the_section_that_makes_the_name(shell, capsys, monkeypatch,
                                                             tmp_path):
    nb = {"cells": [
        {"cell_type": "markdown", "source": "# Chapter\n## Training the fits\n"},
        {"cell_type": "code", "source": "import numpy as np\n%time x = 1\n"},
        {"cell_type": "code", "source": ["for seed in range(3):\n", "    pass\n",
                                         "fit_runs, other = {}, 2\n"]},
        {"cell_type": "markdown", "source": "## Later\n"},
        {"cell_type": "code", "source": "fit_runs[0]\n"}]}
    path = tmp_path / "chapter.ipynb"
    path.write_text(json.dumps(nb))
    monkeypatch.setenv("JPY_SESSION_NAME", str(path))
    _, out = _run(shell, capsys, "fit_runs[0]")
    assert "section 'Training the fits', code cell 2" in out.out + out.err
    assert notebook.defining_cell(path, "np") == (1, "Training the fits")
    assert notebook.defining_cell(path, "seed") == (2, "Training the fits")
    assert notebook.defining_cell(path, "missing") is None
    assert notebook.defining_cell(tmp_path / "none.ipynb", "x") is None


def test_errors_after_a_failed_cell_point_at_it(shell, capsys):
    _run(shell, capsys, "ok = 1")
    result, out = _run(shell, capsys, "assert ok == 2")
    assert isinstance(result.error_in_exec, AssertionError)
    assert "An earlier cell" not in out.out + out.err       # nothing failed before it
    failed, _ = _run(shell, capsys, "undefined_thing")
    _, out = _run(shell, capsys, "{}['k']")
    assert f"An earlier cell (In [{failed.execution_count}]) failed" in out.out + out.err


def test_outside_ipython_nothing_happens():
    InteractiveShell.clear_instance()
    assert notebook.explain_errors() is False
