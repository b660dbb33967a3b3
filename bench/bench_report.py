"""Time PDF reports end to end: build the network, gather the report, lay out the
PDF, write the file.

Generated networks are conv stacks (3 × 3 kernels, padding "same", so any depth
is valid on a 32 × 32 × 3 input) closed by three dense layers; the lenet preset
is timed cold (first PDF in the process: fonts, ziamath and WeasyPrint warm-up)
and again warm.  Prints one row per network with the time of each stage.

    python bench/bench_report.py [LAYERS ...]        # default: 10 100 500

Aims: lenet under 1.5 s, 100 layers under 10 s.
"""
from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

from symparams import Conv2D, Dense, Network, load
from symparams.render.common import atomic_write
from symparams.render.pdf import render, typeset
from symparams.render.report import build_report


def conv_stack(layers: int) -> Network:
    """``layers`` layers in all: convolutions with padding 'same', then 3 dense layers."""
    convs = max(layers - 3, 0)
    stack = [Conv2D(kernel=3, filters=8 + 8 * (i % 4), padding="same") for i in range(convs)]
    stack += [Dense(units=u) for u in (64, 32, 10)[3 - min(layers, 3):]]
    return Network(stack, input=(32, 32, 3), name=f"stack{layers}")


def timed(fn):
    start = time.perf_counter()
    value = fn()
    return value, time.perf_counter() - start


def page_count(pdf: bytes) -> str:
    try:
        from io import BytesIO
        from pypdf import PdfReader  # a test extra
    except ImportError:
        return "-"
    return str(len(PdfReader(BytesIO(pdf)).pages))


def run(label: str, make, out: Path) -> float:
    net, t_build = timed(make)
    report, t_report = timed(lambda: build_report(net))
    pdf, t_pdf = timed(lambda: render(report))
    _, t_write = timed(lambda: atomic_write(out / f"{label}.pdf", pdf))
    total = t_build + t_report + t_pdf + t_write
    pages = page_count(pdf)
    print(f"{label:>12} {len(net) - 1:>7} {t_build:>8.2f}s {t_report:>8.2f}s {t_pdf:>8.2f}s "
          f"{t_write:>7.3f}s {total:>8.2f}s {len(pdf) / 1024:>8.0f} KiB {pages:>5}", flush=True)
    return total


def main(sizes: list[int]) -> None:
    print(f"{'network':>12} {'layers':>7} {'build':>9} {'report':>9} {'pdf':>9} {'write':>8} "
          f"{'total':>9} {'size':>12} {'pages':>5}")
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder)
        run("lenet", lambda: load("lenet"), out)
        run("lenet warm", lambda: load("lenet"), out)
        for size in sizes:
            run(f"stack{size}", lambda size=size: conv_stack(size), out)
    info = typeset.cache_info()
    print(f"typeset cache: {info.currsize} formulas typeset, {info.hits} reused")


if __name__ == "__main__":
    main([int(a) for a in sys.argv[1:]] or [10, 100, 500])
