"""Time a homework set end to end: N lenet variants with PDF sheets, 1 and 2 jobs.

    python bench/bench_homework.py [N]

Prints the wall time of each run (drawing, questions, rendering, writing) and
checks that both runs wrote identical files.
"""
from __future__ import annotations

import hashlib
import sys
import tempfile
import time
from pathlib import Path

from symparams.homework.output import write_homework


def digest(folder: Path) -> str:
    h = hashlib.sha256()
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            h.update(str(path.relative_to(folder)).encode())
            h.update(path.read_bytes())
    return h.hexdigest()


def main(n: int) -> None:
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        for jobs in (1, 2):
            out = Path(tmp) / f"jobs{jobs}"
            start = time.perf_counter()
            write_homework("lenet", n, seed=1, out_dir=out, formats=["pdf"], jobs=jobs,
                           quiet=True)
            elapsed = time.perf_counter() - start
            results[jobs] = digest(out)
            print(f"{n} lenet variants, PDF questions + answers, --jobs {jobs}: {elapsed:6.1f} s")
    print("identical output for 1 and 2 jobs:", results[1] == results[2])


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 100)
