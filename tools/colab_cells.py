"""Give every notebook in book/ the same first cell: set-up where the library is missing.

    python tools/colab_cells.py [notebooks ...]      (or: make colab-cells)

In a clone of the repository (or Binder) the library is installed and the cell does
nothing. Where ``import rectified`` would fail (Google Colab, or a notebook downloaded on
its own) it clones the repository named by ``repository.url`` in _config.yml, installs the
book's library from it (with the pinned requirements, except on Colab, which already has
PyTorch and the scientific stack), and moves into the clone's book/ so that a chapter finds
its data files as it does locally. The cell is tagged ``remove-cell``: the HTML book does
not show it. Run this after changing the repository URL (a fork, for example);
tests/test_book.py checks that the cells match _config.yml.
"""

from __future__ import annotations

import sys
from pathlib import Path

import nbformat
import yaml

ROOT = Path(__file__).resolve().parents[1]
TAG = "colab-setup"

TEMPLATE = '''\
# Set-up where the book's library is missing (Colab, or a notebook downloaded
# on its own): fetch the book and install its library. Does nothing in a clone.
import importlib.util
import sys

if importlib.util.find_spec("rectified") is None:
    REPO = "{url}"
    COLAB = "google.colab" in sys.modules
    DEST = "/content/rectified" if COLAB else "rectified-book"
    print(f"The library 'rectified' is missing: cloning {{REPO}} into {{DEST}}")
    !git clone --quiet --depth 1 {{REPO}} {{DEST}}
    if COLAB:   # Colab has PyTorch and the rest; add only the library
        %pip install --quiet {{DEST}}
    else:       # the pinned versions the book was built with (see README)
        print("Installing the pinned requirements (large: PyTorch)")
        %pip install --quiet -r {{DEST}}/requirements.txt {{DEST}}
    %cd {{DEST}}/book'''


def repository_url(root: Path = ROOT) -> str:
    return yaml.safe_load((root / "_config.yml").read_text())["repository"]["url"]


def colab_cell(url: str):
    cell = nbformat.v4.new_code_cell(TEMPLATE.format(url=url))
    cell.metadata["tags"] = ["remove-cell", TAG]
    return cell


def update(path: Path, url: str) -> bool:
    """Insert or refresh the set-up cell; True when the file changed."""
    nb = nbformat.read(path, as_version=4)
    cell = colab_cell(url)
    first = nb.cells[0] if nb.cells else None
    if first is not None and TAG in first.metadata.get("tags", []):
        if first.source == cell.source:
            return False
        first.source = cell.source
    else:
        nb.cells.insert(0, cell)
    nbformat.write(nb, path)
    return True


def main(argv: list[str]) -> int:
    url = repository_url()
    paths = [Path(a).resolve() for a in argv] or sorted((ROOT / "book").glob("*.ipynb"))
    for path in paths:
        if update(path, url):
            print(f"updated {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
