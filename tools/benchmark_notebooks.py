"""Execute each notebook of the book and print its wall time and peak memory.

    python tools/benchmark_notebooks.py [book/ or notebook paths ...]   (or: make benchmark)

Each notebook runs in a fresh kernel from its own folder, as in the build. Peak memory is
the kernel process's maximum resident set size, read inside the kernel after the last cell.
The chapter budget is under 60 s and under 1.5 GB per notebook on two CPU cores.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

BUDGET_S, BUDGET_MB = 60.0, 1536.0
PEAK_CELL = ("import resource\n"
             "print('PEAK_RSS_KB', resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)")


def run(path: Path) -> tuple[float, float, str]:
    nb = nbformat.read(path, as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell(PEAK_CELL))
    client = NotebookClient(nb, timeout=600, kernel_name="python3",
                            resources={"metadata": {"path": str(path.parent)}})
    start = time.perf_counter()
    try:
        client.execute()
        status = "ok"
    except Exception as exc:  # report and go on with the next notebook
        status = f"FAILED: {type(exc).__name__}"
    wall = time.perf_counter() - start
    peak_mb = float("nan")
    for out in nb.cells[-1].get("outputs", []):
        text = out.get("text", "")
        if "PEAK_RSS_KB" in text:
            peak_mb = int(text.split()[-1]) / 1024
    return wall, peak_mb, status


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="*", default=["book"])
    args = parser.parse_args(argv)
    notebooks = []
    for p in map(Path, args.paths):
        notebooks += sorted(p.rglob("*.ipynb")) if p.is_dir() else [p]
    notebooks = [p for p in notebooks if ".ipynb_checkpoints" not in p.parts]
    rows, ok = [], True
    for path in notebooks:
        wall, peak, status = run(path)
        over = wall > BUDGET_S or peak > BUDGET_MB
        ok &= status == "ok" and not over
        rows.append((str(path), wall, peak, status + (" (over budget)" if over else "")))
        print(f"  {path}: {wall:.1f} s, {peak:.0f} MB, {status}", file=sys.stderr)
    width = max([len(r[0]) for r in rows] + [8])
    print(f"\n{'notebook':<{width}}  {'wall (s)':>9}  {'peak (MB)':>10}  status")
    print(f"{'-' * width}  {'-' * 9}  {'-' * 10}  ------")
    for name, wall, peak, status in rows:
        print(f"{name:<{width}}  {wall:9.1f}  {peak:10.0f}  {status}")
    total = sum(r[1] for r in rows)
    print(f"{'total':<{width}}  {total:9.1f}")
    print(f"\nbudget per notebook: {BUDGET_S:.0f} s and {BUDGET_MB:.0f} MB")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
