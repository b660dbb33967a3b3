"""Time bert-base (and gpt2): count and PDF report, with a reference measured in the
same run.

The reference is what a PyTorch user runs to get the count: build
``transformers.BertModel(BertConfig())`` on the meta device (no weights allocated,
nothing downloaded) and sum ``numel()`` over its parameters.  Both give 109,482,240;
the figures say how long each takes on this machine, now.

    python bench/bench_sequences.py            # bert-base and gpt2
    python bench/bench_sequences.py bert-base

Needs the test extra (torch, transformers) for the reference; without it the
reference column says so.  Timings are printed, never asserted.
"""
from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

from symparams import load
from symparams.render.common import atomic_write
from symparams.render.pdf import render
from symparams.render.report import build_report

HF = {"bert-base": ("BertModel", "BertConfig"), "gpt2": ("GPT2LMHeadModel", "GPT2Config")}


def timed(fn):
    start = time.perf_counter()
    value = fn()
    return value, time.perf_counter() - start


def reference(name: str) -> tuple[int | None, float | None, str]:
    """(count, seconds, what) of the framework's own count, or (None, None, why not)."""
    try:
        import warnings
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
            import frameworks as fw    # torchvision's compiled-ops workaround lives there
            import torch
            transformers = fw.import_transformers()
    except Exception as exc:   # noqa: BLE001 - any missing piece of the extra
        return None, None, f"no reference ({type(exc).__name__}: install the test extra)"
    model_name, config_name = HF[name]

    def count():
        with torch.device("meta"):
            model = getattr(transformers, model_name)(getattr(transformers, config_name)())
        return sum(p.numel() for p in model.parameters())
    count()   # the first build imports the model's modules: warm-up, not timed
    value, seconds = timed(count)
    return value, seconds, f"transformers.{model_name}({config_name}()) on meta, sum numel"


def main(names: list[str]) -> None:
    # The first PDF of a process loads fonts and warms WeasyPrint up: not the network's time.
    _, t_warm = timed(lambda: render(build_report(load("lenet"))))
    print(f"warm-up (lenet pdf, first in the process): {t_warm:.2f} s")
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder)
        for name in names:
            net, t_load = timed(lambda: load(name))
            total, t_total = timed(lambda: int(net.total))
            report, t_report = timed(lambda: build_report(net))
            pdf, t_pdf = timed(lambda: render(report))
            _, t_write = timed(lambda: atomic_write(out / f"{name}.pdf", pdf))
            count = t_load + t_total
            ref, t_ref, what = reference(name)
            print(f"{name}: {len(net) - 1} layers, total {total:,}")
            print(f"  symparams count (load + total)   {count:8.3f} s")
            print(f"  symparams report pdf             {t_report + t_pdf + t_write:8.3f} s "
                  f"(report {t_report:.2f} s, pdf {t_pdf:.2f} s, {len(pdf) / 1024:.0f} KiB)")
            if ref is None:
                print(f"  reference: {what}")
            else:
                same = "same count" if ref == total else f"DIFFERENT: {ref:,}"
                print(f"  reference {what}  {t_ref:8.3f} s ({same})")


if __name__ == "__main__":
    main(sys.argv[1:] or ["bert-base", "gpt2"])
