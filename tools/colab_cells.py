"""Give every notebook in book/ the same first cell: set-up for Google Colab.

    python tools/colab_cells.py [notebooks ...]      (or: make colab-cells)

The cell does nothing outside Colab. On Colab it clones the repository named by
``repository.url`` in _config.yml, installs the book's library from it, and moves into
book/ so that a chapter finds its data files as it does locally. The cell is tagged
``remove-cell``: the HTML book does not show it. Run this after changing the repository
URL (a fork, for example); tests/test_book.py checks that the cells match _config.yml.
"""

from __future__ import annotations

import sys
from pathlib import Path

import nbformat
import yaml

ROOT = Path(__file__).resolve().parents[1]
TAG = "colab-setup"

TEMPLATE = '''\
# Set-up for Google Colab (does nothing elsewhere): fetch the book and install its library.
import sys

if "google.colab" in sys.modules:
    !git clone --quiet --depth 1 {url} /content/rectified
    %pip install --quiet /content/rectified
    %cd /content/rectified/book'''


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
