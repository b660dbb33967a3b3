"""Time importing ResNet-50, ViT-B/16 and BERT-base from every source that can hold
them, each next to a reference measured in the same run, and writing the result as
YAML (``symparams import``).  Figures only: nothing is asserted.

Sources and references:

* PyTorch: torchvision's ``resnet50`` and ``vit_b_16`` and transformers'
  ``BertModel(BertConfig())``, built with random weights (nothing downloaded).
  ``symparams.from_torch`` against building the model, ``sum(p.numel())`` and
  ``torch.fx.symbolic_trace`` alone.
* ONNX: the same models exported once into a temporary folder with
  ``torch.onnx.export(..., dynamo=False, do_constant_folding=False)`` (the export
  time is printed too);
  ``symparams.from_onnx`` against ``onnx.load`` alone.
* Keras (PyTorch backend): ``keras.applications.ResNet50(weights=None)``'s
  ``model.to_json()`` and ``.keras`` archive; ``symparams.from_keras`` against
  building the model and ``count_params()``.  keras.applications has no ViT and no
  BERT, so those rows say so.

The YAML column is ``spec_to_yaml(net.to_spec())`` on the imported network (blocks
collapsed), with the lines written flat → collapsed.

    python bench/bench_import.py
"""
from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
os.environ.setdefault("KERAS_BACKEND", "torch")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import symparams  # noqa: E402
from symparams.importers.spec_yaml import spec_to_yaml  # noqa: E402

MODELS = ("resnet50", "vit_b_16", "bert-base")
INPUTS = {"resnet50": (3, 224, 224), "vit_b_16": (3, 224, 224), "bert-base": (128,)}
ROWS: list[tuple[str, ...]] = []


def timed(fn):
    start = time.perf_counter()
    value = fn()
    return value, time.perf_counter() - start


def seconds(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f} s"


def attempt(fn):
    """(value, seconds) or (None, None) with the reason printed: a source that is not
    installed, or an importer that cannot read the model yet, is a row, not a crash."""
    try:
        return timed(fn)
    except Exception as exc:   # noqa: BLE001 - a benchmark reports, it does not stop
        print(f"  ({type(exc).__name__}: {str(exc).splitlines()[0][:150] if str(exc) else ''})")
        return None, None


def yaml_cell(net) -> tuple[str, str]:
    if net is None:
        return "—", ""
    data = net.to_spec()
    text, took = timed(lambda: spec_to_yaml(data))
    flat = spec_to_yaml(data, collapse=False)
    return seconds(took), f"{len(flat.splitlines())} → {len(text.splitlines())}"


def row(model, source, net, took, reference, ref_took):
    total = f"{int(net.total):,}" if net is not None and net.is_exact else "—"
    yaml_time, lines = yaml_cell(net)
    ROWS.append((model, source, seconds(took), total, yaml_time, lines, reference,
                 seconds(ref_took)))


def build_torch(name: str, device: str = "cpu"):
    import frameworks as fw
    import torch
    if name == "vit_b_16":
        models = fw.import_torchvision().models
        with torch.device(device):
            return models.vit_b_16(weights=None)
    return fw.reference_model(name, device=device)


def ids_to_outputs(bert):
    """BERT for the exporter: token ids in, both outputs out (the pooler too, which an
    export of last_hidden_state alone would drop), keyword arguments inside."""
    import torch

    class Exported(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.bert = bert.eval()

        def forward(self, ids):
            out = self.bert(input_ids=ids)
            return out.last_hidden_state, out.pooler_output

    return Exported()


def torch_rows(folder: Path) -> dict[str, Path]:
    """PyTorch rows; returns the ONNX files exported from the same models."""
    exported = {}
    try:
        import torch
    except ImportError:
        print("torch is not installed: no PyTorch or ONNX rows")
        return exported
    for name in MODELS:
        print(f"PyTorch {name}")
        model, build = attempt(lambda: build_torch(name))
        if model is None:
            continue
        net, took = attempt(lambda: symparams.from_torch(model, INPUTS[name]))
        row(name, "PyTorch", net, took, "build the model", build)
        _, took = timed(lambda: sum(p.numel() for p in model.parameters()))
        row(name, "", None, None, "sum(p.numel())", took)
        # (BERT's forward has data-dependent branches that torch.fx may refuse: the row
        # then says so, and the importer's own fallback is what the import row timed.)
        _, took = attempt(lambda: torch.fx.symbolic_trace(model))
        row(name, "", None, None, "torch.fx.symbolic_trace alone", took)
        path = folder / f"{name}.onnx"
        example = (torch.zeros(1, *INPUTS[name]) if name != "bert-base"
                   else torch.zeros(1, *INPUTS[name], dtype=torch.long))
        exported_model = ids_to_outputs(model) if name == "bert-base" else model.eval()
        # Without constant folding, as the README advises: BatchNorm stays a node of its
        # own, so the ONNX count is PyTorch's (folded, ResNet-50 would count 25,530,472).
        _, took = attempt(lambda: torch.onnx.export(exported_model, (example,), str(path),
                                                    dynamo=False, do_constant_folding=False))
        if took is not None:
            exported[name] = path
            row(name, "", None, None, f"torch.onnx.export ({path.stat().st_size >> 20} MB)",
                took)
        model = None     # free it before the next one is built
    return exported


def onnx_rows(exported: dict[str, Path]) -> None:
    try:
        import onnx
    except ImportError:
        print("onnx is not installed: no ONNX rows")
        return
    for name in MODELS:
        if name not in exported:
            ROWS.append((name, "ONNX", "—", "—", "—", "", "(not exported)", "—"))
            continue
        print(f"ONNX {name}")
        path = exported[name]
        net, took = attempt(lambda: symparams.from_onnx(str(path)))
        _, ref = attempt(lambda: onnx.load(str(path)))
        row(name, "ONNX", net, took, "onnx.load alone", ref)


def keras_rows(folder: Path) -> None:
    try:
        import keras
    except ImportError:
        print("keras is not installed: no Keras rows")
        return
    print("Keras resnet50")
    model, build = attempt(lambda: keras.applications.ResNet50(weights=None))
    if model is not None:
        as_json = folder / "resnet50.json"
        as_json.write_text(model.to_json(), encoding="utf-8")
        archive = folder / "resnet50.keras"
        model.save(str(archive))
        for source, path in (("Keras .json", as_json), ("Keras .keras", archive)):
            net, took = attempt(lambda: symparams.from_keras(str(path)))
            row("resnet50", source, net, took, "build the model", build)
        _, took = timed(model.count_params)
        row("resnet50", "", None, None, "count_params()", took)
        _, took = timed(lambda: json.loads(as_json.read_text(encoding="utf-8")))
        row("resnet50", "", None, None, "json.loads of the config", took)
    for name in ("vit_b_16", "bert-base"):
        ROWS.append((name, "Keras", "—", "—", "—", "", "not in keras.applications", "—"))


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="symparams-bench-import-") as tmp:
        folder = Path(tmp)
        exported = torch_rows(folder)
        onnx_rows(exported)
        keras_rows(folder)
    headers = ("model", "source", "import", "total", "YAML", "lines", "reference", "time")
    table = [headers, *ROWS]
    widths = [max(len(r[i]) for r in table) for i in range(len(headers))]
    print()
    for r in table:
        print("  ".join(c.rjust(w) if i in (2, 3, 4, 7) else c.ljust(w)
                        for i, (c, w) in enumerate(zip(r, widths))).rstrip())


if __name__ == "__main__":
    main()
