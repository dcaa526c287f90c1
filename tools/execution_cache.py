"""A pytest plugin that keeps what nbval executed, so that the book's build need not run it again.

`make notebooks` executes every notebook under nbval. With this plugin, each notebook whose
cells all pass is stored, with its outputs, in the build's execution cache: the jupyter-cache
folder that myst-nb reads with `execute_notebooks: cache` (see _config.yml). The build that
follows (`make book`) matches the notebook by the hash of its code and shows the stored
outputs instead of executing the notebook a second time. A notebook with a failing, skipped
or unfinished cell is not stored: the build then executes it itself, and fails the same way.

The outputs are made from the kernel's messages the way Jupyter's own client (nbclient, which
the build would otherwise use) makes them: streams stay in the order they were printed,
`clear_output` is honoured, and what an ipywidgets `Output` widget captures stays in the
widget. nbval's own record of a cell does not serve: it merges every stream of a cell into
one, ahead of any figure or table shown between them. Two details of nbval 0.11 (pinned in
requirements.txt) are adjusted, and tests/test_execution_cache.py checks the result against
nbclient on a notebook built to show each difference:

- cells run with `store_history=True`, as in JupyterLab and nbclient, so that a trailing
  semicolon hides a cell's value and `_` holds the last result (nbval sends `False`);
- the messages nbval reads from the kernel are kept, cell by cell, to build the outputs.

Enable it with `-p execution_cache` (tools/ on PYTHONPATH) and `--execution-cache=PATH`. It
works under pytest-xdist with `--dist loadfile`, which keeps each notebook on one worker.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

_OUTPUT_MESSAGES = {"stream", "display_data", "execute_result", "error"}
_FILE = pytest.StashKey[dict]()


def pytest_addoption(parser):
    parser.addoption(
        "--execution-cache",
        default=None,
        metavar="PATH",
        help="store each notebook that passes under nbval in this jupyter-cache folder",
    )


def pytest_configure(config):
    path = config.getoption("execution_cache")
    if not path:
        return
    from nbval.kernel import RunningKernel
    from nbval.plugin import IPyNbFile

    if not getattr(RunningKernel, "_keeps_history", False):
        def execute_cell_input(self, cell_input, allow_stdin=None):
            self.last_msg_id = self.kc.execute(
                cell_input, store_history=True, allow_stdin=allow_stdin, stop_on_error=False
            )
            return self.last_msg_id

        def get_kernel_message(self, timeout=None, stream="iopub"):
            message = self.kernel.get_message(stream, timeout=timeout)
            log = self.stash.get(_FILE, None)
            if log is not None and stream == "iopub":
                log["messages"].append(message)
            return message

        RunningKernel.execute_cell_input = execute_cell_input
        RunningKernel._keeps_history = True
        IPyNbFile.get_kernel_message = get_kernel_message
    if not hasattr(config, "workerinput"):
        # create the cache once, in the main process, so that workers never race to
        # create its database
        from jupyter_cache import get_cache

        get_cache(path).list_cache_records()


def _file_record(item) -> dict:
    return item.parent.stash.setdefault(
        _FILE, {"messages": [], "widgets": {}, "outputs": {}, "seconds": 0.0, "ok": True}
    )


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item):
    if item.config.getoption("execution_cache") and hasattr(item, "cell_num"):
        _file_record(item)["messages"].clear()
    yield


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if not item.config.getoption("execution_cache") or not hasattr(item, "cell_num"):
        return
    record = _file_record(item)
    if report.when == "call":
        record["seconds"] += call.duration
        kernel = item.parent.kernel
        outputs = outputs_from_messages(
            record["messages"], getattr(kernel, "last_msg_id", None), record["widgets"]
        )
        if report.passed and outputs is not None:
            record["outputs"][item.cell_num] = outputs
        else:
            record["ok"] = False
        record["messages"].clear()
    elif not report.passed:
        record["ok"] = False


def pytest_runtest_teardown(item, nextitem):
    path = item.config.getoption("execution_cache")
    if not path or not hasattr(item, "cell_num"):
        return
    if nextitem is not None and nextitem.parent is item.parent:
        return
    record = _file_record(item)
    if record["ok"]:
        store(Path(str(item.parent.path)), record["outputs"], record["seconds"], path)


def outputs_from_messages(messages: list, msg_id: str | None, widgets: dict) -> list | None:
    """The outputs a cell shows, from the kernel's iopub `messages` while it ran.

    `msg_id` is the cell's execute request; `widgets` maps each open `Output` widget's comm
    id to the request whose output it is capturing (updated here, kept across cells).
    None when the cell used something this does not reproduce (display ids, updated in
    place), so that its notebook is left for the build to execute."""
    if msg_id is None:
        return None
    outputs: list = []
    clear_before_next = False
    for message in messages:
        kind, content = message["msg_type"], message["content"]
        if kind == "comm_open":
            state = content.get("data", {}).get("state", {})
            if state.get("_model_name") == "OutputModel":
                widgets[content["comm_id"]] = state.get("msg_id", "")
            continue
        if kind == "comm_msg":
            data = content.get("data", {})
            if content["comm_id"] in widgets and "msg_id" in data.get("state", {}):
                widgets[content["comm_id"]] = data["state"]["msg_id"]
            continue
        if kind == "comm_close":
            widgets.pop(content["comm_id"], None)
            continue
        if message["parent_header"].get("msg_id") != msg_id:
            continue
        if kind == "update_display_data" or (content.get("transient") or {}).get("display_id"):
            return None
        if kind not in _OUTPUT_MESSAGES and kind != "clear_output":
            continue
        if msg_id in widgets.values():
            continue  # captured by an Output widget: it is shown there, not in the cell
        if kind == "clear_output":
            if content.get("wait"):
                clear_before_next = True
            else:
                outputs.clear()
            continue
        if clear_before_next:
            outputs.clear()
            clear_before_next = False
        outputs.append(nbformat.v4.output_from_msg(message))
    return outputs


def executed_notebook(source: Path, outputs: dict) -> nbformat.NotebookNode | None:
    """The notebook at `source` with each code cell's outputs and execution count filled
    in from `outputs` (code-cell index -> list of outputs); None unless every code cell
    has its outputs."""
    nb = nbformat.read(source, as_version=4)
    code = [cell for cell in nb.cells if cell.cell_type == "code"]
    if set(outputs) != set(range(len(code))):
        return None
    for count, cell in enumerate(code, start=1):
        cell.execution_count = count
        cell.outputs = outputs[count - 1]
        for output in cell.outputs:
            if output.output_type == "execute_result":
                output.execution_count = count
    nbformat.validate(nb)
    return nb


def store(source: Path, outputs: dict, seconds: float, cache_path: str) -> bool:
    """Put the executed notebook into the jupyter-cache at `cache_path`; False if some
    code cell has no outputs recorded."""
    nb = executed_notebook(source, outputs)
    if nb is None:
        return False
    from jupyter_cache import get_cache
    from jupyter_cache.base import CacheBundleIn

    get_cache(cache_path).cache_notebook_bundle(
        CacheBundleIn(nb, str(source), data={"execution_seconds": seconds}),
        check_validity=True,
        overwrite=True,
    )
    return True
