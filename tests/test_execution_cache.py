"""The execution-cache plugin (tools/execution_cache.py): a notebook run under nbval is
stored with the outputs nbclient (the build's own executor) would have given it."""

import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))

import execution_cache  # noqa: E402

# Each cell shows one way nbval's record of a cell differs from a notebook's outputs.
CELLS = [
    # streams interleaved with a displayed object keep their order
    "from IPython.display import Markdown, display, clear_output\n"
    "print('before')\ndisplay(Markdown('**table**'))\nprint('after')",
    # a trailing semicolon hides the value; `_` is the last value shown
    "41 + 1",
    "_ + 1;",
    # clear_output(wait=True) clears at the next output
    "print('gone')\nclear_output(wait=True)\nprint('kept')",
    # what an Output widget captures is not a cell output
    "import ipywidgets\nout = ipywidgets.Output()\nwith out:\n    print('inside')\nprint('outside')",
    "import sys\nprint('to stderr', file=sys.stderr)\n'value'",
]


def _notebook(path: Path, cells) -> Path:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    nb.cells = [nbformat.v4.new_code_cell(source) for source in cells]
    nbformat.write(nb, path)
    return path


def _run_nbval(folder: Path, cache: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "pytest", "--nbval-lax", str(folder), "-q",
         "-p", "no:cacheprovider", "-p", "execution_cache", f"--execution-cache={cache}",
         "--rootdir", str(folder)],
        cwd=folder, capture_output=True, text=True, timeout=240,
        env={**os.environ, "PYTHONPATH": str(ROOT / "tools")},
    )


def _shown(nb):
    """What a reader sees of each code cell: output kinds and their text."""
    cells = []
    for cell in nb.cells:
        shown = []
        for out in cell.outputs:
            if out.output_type == "stream":
                shown.append((out.name, out.text))
            elif out.output_type in ("display_data", "execute_result"):
                shown.append((out.output_type, dict(out.data), out.get("execution_count")))
        cells.append(shown)
    return cells


@pytest.fixture(scope="module")
def cached(tmp_path_factory):
    """One nbval run over two notebooks: one that passes, one with a failing cell."""
    folder = tmp_path_factory.mktemp("nb")
    notebook = _notebook(folder / "sample.ipynb", CELLS)
    failing = _notebook(folder / "fails.ipynb", ["x = 1", "assert x == 2", "print(x)"])
    result = _run_nbval(folder, folder / "cache")
    assert "1 failed" in result.stdout, result.stdout + result.stderr
    return notebook, failing, folder / "cache"


def test_cached_outputs_match_nbclient(cached):
    from jupyter_cache import get_cache

    notebook, _, cache = cached
    source = nbformat.read(notebook, as_version=4)
    record = get_cache(cache).match_cache_notebook(source)
    stored = get_cache(cache).get_cache_bundle(record.pk).nb
    expected = nbformat.read(notebook, as_version=4)
    NotebookClient(expected, timeout=120, kernel_name="python3",
                   resources={"metadata": {"path": str(notebook.parent)}}).execute()
    assert _shown(stored) == _shown(expected)
    assert [c.execution_count for c in stored.cells] == list(range(1, len(CELLS) + 1))
    # the differences the plugin exists for are really there
    first = _shown(stored)[0]
    assert [kind for kind, *_ in first] == ["stdout", "display_data", "stdout"]
    assert _shown(stored)[2] == []
    assert _shown(stored)[3] == [("stdout", "kept\n")]
    assert _shown(stored)[4] == [("stdout", "outside\n")]
    assert record.data["execution_seconds"] > 0


def test_a_failing_notebook_is_not_stored(cached):
    from jupyter_cache import get_cache

    _, failing, cache = cached
    records = get_cache(cache).list_cache_records()
    assert [Path(r.uri).name for r in records] == ["sample.ipynb"]
    with pytest.raises(KeyError):
        get_cache(cache).match_cache_notebook(nbformat.read(failing, as_version=4))


def test_outputs_need_every_code_cell(tmp_path):
    notebook = _notebook(tmp_path / "two.ipynb", ["1", "2"])
    assert execution_cache.executed_notebook(notebook, {0: []}) is None
    nb = execution_cache.executed_notebook(notebook, {0: [], 1: []})
    assert [c.execution_count for c in nb.cells] == [1, 2]


def test_display_ids_are_left_to_the_build():
    message = {"msg_type": "display_data", "parent_header": {"msg_id": "m"},
               "content": {"data": {"text/plain": "1"}, "metadata": {},
                           "transient": {"display_id": "d"}}}
    assert execution_cache.outputs_from_messages([message], "m", {}) is None
    assert execution_cache.outputs_from_messages([], None, {}) is None
