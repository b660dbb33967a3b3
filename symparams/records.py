"""A network as plain data: the dict of ``count --json``, its layers as records,
and CSV.  Counts are plain ints here (JSON and CSV have no SymPy); sizes still
symbolic are printed as parseable expressions.
"""
from __future__ import annotations

import csv
import io
from typing import Any

from sympy import Expr

from .outfiles import atomic_write
from .printing import ascii_plain, ascii_written, unicode_written


def network_dict(net) -> dict[str, Any]:
    """The data of ``symparams count --json``."""
    def number(value: Expr):
        return int(value) if value.is_Integer else ascii_plain(value)

    data = {
        "name": net.name,
        "input_shape": [number(v) for v in net.input_shape],
        "layers": [{
            "index": info.index, "name": info.name, "kind": info.kind,
            "inputs": list(info.sources),
            "output_shape": [number(v) for v in info.output_shape],
            "formula": ascii_written(info.written) if info.written is not None else "0",
            "substituted": (ascii_written(info.substituted) if info.substituted is not None
                            else "0"),
            "params": number(info.params),
            # params = trainable + non_trainable; buffers are not parameters.
            "trainable": number(info.trainable),
            "non_trainable": number(info.non_trainable),
            "buffers": number(info.buffers),
            "shape_formula": [ascii_written(w.formula) for w in info.shape_working],
            "shape_substituted": [ascii_written(w.substituted) for w in info.shape_working],
        } for info in net.layers],
        "total": number(net.total),
        "total_symbolic": total_symbolic_text(net, ascii_written),
        "convention": net.convention,
        "total_trainable": number(net.trainable_total),
        "total_non_trainable": number(net.non_trainable_total),
        "total_buffers": number(net.buffers_total),
        # The spec's notes and one line per opaque layer with parameters (always a list).
        "warnings": list(net.warnings),
    }
    # A layer expanded from blocks says which instances it sits in, outermost first.
    for record, info in zip(data["layers"], net.layers):
        if getattr(info, "blocks", ()):
            record["blocks"] = [{"path": i.path, "block": i.block} for i in info.blocks]
    return data


def total_symbolic_text(net, printer=unicode_written) -> str:
    """The symbolic total printed in the document's order (``"0"`` with no layer
    that has parameters)."""
    return printer(net.total_written) if net.total_written.args else "0"


def network_csv(net, path=None):
    """The layers as CSV with a last row for the total, written atomically to
    ``path`` (returns the Path) or returned as text."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    columns = ["index", "name", "kind", "output_shape", "formula", "substituted", "params",
               "trainable", "non_trainable", "buffers"]
    writer.writerow(columns)
    data = network_dict(net)
    for record in data["layers"]:
        record["output_shape"] = " x ".join(map(str, record["output_shape"]))
        writer.writerow([record[c] for c in columns])
    writer.writerow(["", "total", "", "", "", "", data["total"], data["total_trainable"],
                     data["total_non_trainable"], data["total_buffers"]])
    if path is None:
        return out.getvalue()
    return atomic_write(path, out.getvalue())
