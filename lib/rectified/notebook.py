"""Clear messages when a chapter's cells run out of order.

A chapter's cells build on each other. After a kernel restart, running a cell from the
middle fails with a ``NameError``, and cells after that can fail with a bare
``AssertionError`` or ``KeyError`` that reads like a claim that failed. With
:func:`explain_errors` (called by :func:`rectified.plots.use_style`, which every chapter
runs first) such errors carry a note saying what to run:

- a ``NameError`` names the section and cell of the notebook that defines the name when
  the notebook's file is known (Jupyter sets ``JPY_SESSION_NAME``), and otherwise asks to
  run the cells above;
- an error after an earlier failed cell points at that cell (``In [k]``), since this one
  may be using what it left half-built.
"""

from __future__ import annotations

import ast
import json
import os
import re
from pathlib import Path

__all__ = ["explain_errors", "defining_cell", "ipython_shell"]

_HEADING = re.compile(r"^#{1,4}\s+(.+?)\s*$", re.M)
_FOLLOW_ON = (AssertionError, KeyError, IndexError, ValueError, TypeError,
              AttributeError)


def _bound_names(source: str) -> set[str]:
    """Names a code cell binds at its top level (IPython's ! and % lines skipped)."""
    lines = [ln for ln in source.splitlines() if not ln.lstrip().startswith(("!", "%"))]
    try:
        tree = ast.parse("\n".join(lines))
    except SyntaxError:
        return set()
    names = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names |= {(a.asname or a.name).split(".")[0] for a in node.names}
        else:
            targets = []
            if isinstance(node, ast.Assign):
                targets = node.targets
            elif isinstance(node, (ast.AugAssign, ast.AnnAssign, ast.For)):
                targets = [node.target]
            elif isinstance(node, ast.With):
                targets = [i.optional_vars for i in node.items if i.optional_vars]
            for t in targets:
                names |= {n.id for n in ast.walk(t) if isinstance(n, ast.Name)}
    return names


def defining_cell(notebook: str | Path, name: str) -> tuple[int, str] | None:
    """(code cell number counted from 1, heading of its section) of the first code cell of
    ``notebook`` that binds ``name``; None if no cell does or the file cannot be read."""
    try:
        cells = json.loads(Path(notebook).read_text(encoding="utf-8"))["cells"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    heading, n_code = "", 0
    for cell in cells:
        source = "".join(cell.get("source", ""))
        if cell.get("cell_type") == "markdown":
            found = _HEADING.findall(source)
            heading = found[-1] if found else heading
        elif cell.get("cell_type") == "code":
            n_code += 1
            if name in _bound_names(source):
                return n_code, heading
    return None


def _notebook_path() -> Path | None:
    name = os.environ.get("JPY_SESSION_NAME", "")
    path = Path(name)
    return path if name.endswith(".ipynb") and path.is_file() else None


def _name_note(value: NameError) -> str:
    name = getattr(value, "name", None)
    where = defining_cell(_notebook_path(), name) if name and _notebook_path() else None
    if where is not None:
        cell, heading = where
        section = f"section '{heading}', " if heading else ""
        return (f"'{name}' is made earlier in this chapter ({section}code cell {cell}): "
                "run the cells above this one first (Run > Run All Above Selected Cell), "
                "or the whole notebook from the top.")
    return ("This chapter's cells build on each other: run the cells above this one "
            "first (Run > Run All Above Selected Cell), or the whole notebook from the top.")


def ipython_shell():
    """The running IPython shell, or None outside IPython."""
    try:
        from IPython import get_ipython
    except ImportError:     # pragma: no cover - IPython is a dependency of ipywidgets
        return None
    return get_ipython()


def explain_errors(shell=None) -> bool:
    """Give this IPython session's errors the notes described above. True inside IPython
    (and idempotent), False and nothing done elsewhere."""
    if shell is None:
        shell = ipython_shell()
    if shell is None:
        return False
    if getattr(shell, "_rectified_explains_errors", False):
        return True
    failed: list[int] = []

    def remember(result):
        if result.error_in_exec is not None:
            failed.append(result.execution_count)

    def handler(self, etype, value, tb, tb_offset=None):
        if isinstance(value, NameError):
            value.add_note(_name_note(value))
        elif failed and isinstance(value, _FOLLOW_ON):
            value.add_note(f"An earlier cell (In [{failed[-1]}]) failed, and this one may "
                           "use what it left unfinished: run the notebook from the top "
                           "(Kernel > Restart Kernel and Run All Cells).")
        # IPython leaves the showing to a custom handler: show it as it would
        self.showtraceback((etype, value, tb), tb_offset=tb_offset)

    shell.events.register("post_run_cell", remember)
    shell.set_custom_exc((NameError,) + _FOLLOW_ON, handler)
    shell._rectified_explains_errors = True
    return True
