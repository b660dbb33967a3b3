"""Time networks built from blocks: ResNet-50 (count and reports) and a generated
graph of 1,000 residual blocks (count), each next to a reference measured in the
same run.

References: with torch importable, PyTorch's own count of the same model
(torchvision's resnet50, and the same residual stack written as torch.nn
modules, built on the meta device: ``sum(p.numel() for p in model.parameters())``,
model construction included); always, the flat spec of the same network (what
``to_spec()`` writes: the layers already expanded, with their ``inputs``), which
shows what the expansion itself costs.  Figures only: nothing is asserted.

    python bench/bench_blocks.py [BLOCKS]        # default 1000
"""
from __future__ import annotations

import io
import sys
import time
from pathlib import Path

from symparams import Network, load
from symparams.spec import spec_from_data

ROOT = Path(__file__).resolve().parent.parent


def timed(fn):
    start = time.perf_counter()
    value = fn()
    return value, time.perf_counter() - start


def residual_stack(blocks: int) -> dict:
    """A spec: a stem, then ``blocks`` residual blocks of two 3 × 3 convolutions with
    BatchNorm and the block's input added back, then a classifier."""
    return {
        "name": f"residual{blocks}", "input": [8, 8, 16],
        "blocks": {"res": {"params": {"width": None}, "layers": [
            {"type": "conv2d", "name": "conv1", "kernel": 3, "padding": 1,
             "filters": "width", "bias": False},
            {"type": "batchnorm", "name": "bn1"},
            {"type": "activation", "name": "relu1", "function": "relu"},
            {"type": "conv2d", "name": "conv2", "kernel": 3, "padding": 1,
             "filters": "width", "bias": False},
            {"type": "batchnorm", "name": "bn2"},
            {"type": "add", "name": "add", "inputs": ["bn2", "in"]},
            {"type": "activation", "name": "relu2", "function": "relu"}]}},
        "layers": [{"block": "res", "name": "layer", "repeat": blocks, "with": {"width": 16}},
                   {"type": "flatten", "name": "flatten"},
                   {"type": "dense", "name": "fc", "units": 10}]}


def torch_counter():
    """A function counting a model built by a zero-argument builder with PyTorch, or
    None without torch (and torchvision for ResNet-50)."""
    try:
        sys.path.insert(0, str(ROOT / "tests"))
        import frameworks as fw
        torch = __import__("torch")
    except Exception:   # noqa: BLE001 - torch is optional here
        return None, None

    def count(build):
        with torch.device("meta"):
            model = build()
        return sum(p.numel() for p in model.parameters())

    def torch_stack(blocks: int):
        nn = torch.nn

        class Res(nn.Module):
            def __init__(self):
                super().__init__()
                self.conv1 = nn.Conv2d(16, 16, 3, padding=1, bias=False)
                self.bn1 = nn.BatchNorm2d(16)
                self.conv2 = nn.Conv2d(16, 16, 3, padding=1, bias=False)
                self.bn2 = nn.BatchNorm2d(16)

        return nn.Sequential(*[Res() for _ in range(blocks)], nn.Flatten(),
                             nn.Linear(8 * 8 * 16, 10))

    def resnet50():
        fw.prepare_torchvision()
        import torchvision
        return torchvision.models.resnet50(weights=None)

    return count, {"resnet50": resnet50, "stack": torch_stack}


def main(blocks: int) -> None:
    count, builders = torch_counter()
    print("ResNet-50 (symparams/presets/resnet50.yaml)")
    net, t_load = timed(lambda: load("resnet50"))
    print(f"  read, expand blocks, build       {t_load:8.3f} s   {len(net) - 1} layers, "
          f"total {net.total:,}")
    flat = net.to_spec()
    again, t_flat = timed(lambda: Network.from_spec(spec_from_data(flat)))
    print(f"  reference: the flat spec         {t_flat:8.3f} s   total {again.total:,}")
    if count:
        torch_total, t_torch = timed(lambda: count(builders["resnet50"]))
        print(f"  reference: torchvision numel sum {t_torch:8.3f} s   total {torch_total:,}")
    from rich.console import Console
    from symparams.render.terminal import print_count
    _, t_count = timed(lambda: print_count(load("resnet50"),
                                           Console(file=io.StringIO(), width=200)))
    print(f"  count (read, build, table)       {t_count:8.3f} s")
    for fmt, render in (("md", Network.to_markdown), ("html", Network.to_html),
                        ("tex", Network.to_latex), ("pdf", Network.to_pdf)):
        fresh = load("resnet50")
        start_cpu = time.process_time()
        _, seconds = timed(lambda: render(fresh))
        cpu = time.process_time() - start_cpu
        print(f"  report --format {fmt:<4}             {seconds:8.3f} s   ({cpu:.3f} s CPU)")

    print(f"\nGenerated graph: {blocks:,} residual blocks (7 layers each)")
    Network.from_spec(spec_from_data(residual_stack(50)))   # warm SymPy's caches first
    data = residual_stack(blocks)
    spec, t_expand = timed(lambda: spec_from_data(data, source="generated"))
    stack, t_build = timed(lambda: Network.from_spec(spec))
    print(f"  expand blocks                    {t_expand:8.3f} s   {len(spec.layers):,} layers")
    print(f"  build network and count          {t_build:8.3f} s   total {stack.total:,}")
    flat = stack.to_spec()
    again, t_flat = timed(lambda: Network.from_spec(spec_from_data(flat)))
    print(f"  reference: the flat spec         {t_flat:8.3f} s   total {again.total:,}")
    if count:
        torch_total, t_torch = timed(lambda: count(lambda: builders["stack"](blocks)))
        print(f"  reference: torch.nn numel sum    {t_torch:8.3f} s   total {torch_total:,}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1000)
