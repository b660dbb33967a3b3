"""Our output shape of a family, to check an imported layer against PyTorch's.

A family that learns nothing but has PyTorch-only options (a max pooling with
``ceil_mode``, a ``'same'`` padding on an even window) may make another shape
than PyTorch does; the walkers compare the two and write an ``opaque`` layer
with PyTorch's shape instead, so the shapes downstream stay PyTorch's.
"""
from __future__ import annotations

from typing import Any

from sympy import Integer

from ..errors import SymparamsError


def family_shape(kind: str, fields: dict[str, Any], in_shapes: list[list[int]]) -> list[int] | None:
    """Our output shape of one layer of ``kind`` on ``in_shapes`` (None when the family
    refuses the input or fields)."""
    from ..layers import layer_class
    try:
        layer = layer_class(kind).from_fields(dict(fields))
        shapes = [tuple(Integer(v) for v in shape) for shape in in_shapes]
        if layer.merges:
            layer.check_inputs(shapes, [str(i) for i in range(len(shapes))])
            out = layer.merged_shape(shapes)
        else:
            layer.check_input(shapes[0])
            out = layer.output_shape(shapes[0])
    except (SymparamsError, TypeError, ValueError):
        return None
    return [int(v) for v in out]


def chain_shape(entries: list[dict[str, Any]], in_shape: list[int]) -> list[int] | None:
    """Our output shape after a rule's chain of entries (None when a family refuses it)."""
    shape = in_shape
    for entry in entries:
        fields = {k: v for k, v in entry.items() if k not in ("type", "tie", "trainable")}
        shape = family_shape(entry["type"], fields, [shape])
        if shape is None:
            return None
    return shape
