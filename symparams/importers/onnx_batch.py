"""Where the batch axis of each ONNX activation value is (see onnx_layout.py).

Followed from the inputs (axis 0) through each op: a Transpose moves it, an
Unsqueeze or Squeeze shifts it, a Gather before it removes an axis, a Reshape
keeps it where the sizes before it agree, an LSTM's sequences are time first.
"""
from __future__ import annotations

import math
from typing import Any

from .onnx_layout import CHANNELS_FIRST_OPS, ELEMENTWISE_OPS


def attributes(node) -> dict[str, Any]:
    import onnx.helper
    return {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}


def _int_list(importer, node, attr: str, slot: int) -> list[int] | None:
    """An axes-like list: the attribute (older opsets) or a constant input (newer ones)."""
    found = attributes(node).get(attr)
    if found is not None:
        return [int(v) for v in (found if isinstance(found, (list, tuple)) else [found])]
    if len(node.input) > slot and node.input[slot]:
        values = importer.graph.constant_values(node.input[slot])
        if values is not None:
            return [int(v) for v in values]
    return None


def propagate_batch(importer, node) -> None:
    """Where the batch axis of each output of ``node`` is (see onnx_layout.py)."""
    layout = importer.layout
    g = importer.graph
    acts = [v for v in node.input if v in g.activations]
    outs = [v for v in node.output if v]
    if not acts:
        for v in outs:
            layout.set_batch(v, None)
        return
    main = max(acts, key=lambda v: layout.rank(v) or 0)
    axis = layout.batch.get(main)
    in_rank, op = layout.rank(main), node.op_type
    a = attributes(node)

    def shifted(out: str) -> int | None:
        out_rank = layout.rank(out)
        if axis is None or in_rank is None or out_rank is None:
            return axis
        return axis + out_rank - in_rank if out_rank >= in_rank else axis

    if op in ("LSTM", "GRU", "RNN"):
        batch_first = a.get("layout", 0) == 1
        for i, v in enumerate(outs if len(node.output) else []):
            layout.set_batch(v, 0 if batch_first else (2 if node.output[0] == v else 1))
        return
    if op == "Transpose":
        perm = a.get("perm")
        if perm is None and in_rank is not None:
            perm = list(reversed(range(in_rank)))
        new = list(perm).index(axis) if axis is not None and perm and axis in perm else None
        layout.set_batch(outs[0], new)
        return
    if op in ("Unsqueeze", "Squeeze"):
        axes = _int_list(importer, node, "axes", 1)
        out_rank = layout.rank(outs[0])
        new = None
        if axis is not None and axes is not None and in_rank is not None and out_rank is not None:
            if op == "Unsqueeze":
                inserted = sorted(x % out_rank for x in axes)
                kept = [i for i in range(out_rank) if i not in inserted]
                new = kept[axis] if axis < len(kept) else None
            else:
                removed = {x % in_rank for x in axes}
                new = None if axis in removed else axis - sum(1 for x in removed if x < axis)
        layout.set_batch(outs[0], new)
        return
    if op in ("Gather",):
        gather_axis = a.get("axis", 0)
        index_rank = layout.rank(node.input[1]) if len(node.input) > 1 else 0
        new = None
        if axis is not None and in_rank is not None:
            gather_axis %= in_rank
            if gather_axis > axis:
                new = axis
            elif gather_axis < axis and index_rank is not None:
                new = axis - 1 + index_rank
        layout.set_batch(outs[0], new)
        return
    if op == "Reshape" or op == "Flatten":
        shape_in = layout.dims.get(main) or []
        shape_out = layout.dims.get(outs[0]) or []
        new = None
        if axis is not None and axis < len(shape_in):
            before = shape_in[:axis]
            if all(isinstance(s, int) for s in before + shape_out):
                for j in range(len(shape_out)):
                    if math.prod(shape_out[:j]) == math.prod(before) \
                            and shape_out[j] == shape_in[axis]:
                        new = j
                        break
        layout.set_batch(outs[0], new)
        return
    if op in ("ReduceMean", "ReduceSum", "ReduceMax", "ReduceMin") and not a.get("keepdims", 1):
        axes = _int_list(importer, node, "axes", 1)
        new = None
        if axis is not None and axes is not None and in_rank:
            removed = {x % in_rank for x in axes}
            new = None if axis in removed else axis - sum(1 for x in removed if x < axis)
        layout.set_batch(outs[0], new)
        return
    for v in outs:
        out_rank = layout.rank(v)
        same = op in CHANNELS_FIRST_OPS or op in ELEMENTWISE_OPS or out_rank == in_rank \
            or op in ("MatMul", "Gemm")
        layout.set_batch(v, shifted(v) if same else None)
