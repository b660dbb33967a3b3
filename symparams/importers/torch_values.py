"""The values of a traced PyTorch graph as the walker sees them, and our layout.

Every fx node's result is a :class:`Tensor` (a spec layer or input that holds
it, its PyTorch shape and whether that shape is channels first), a Python tuple
of values, a :class:`Piece` (a further output written when used) or a
:class:`Const` (sizes from ``x.size()``, index tables, ``None``), which feeds
shapes but no layer. Shape propagation describes each result as a
:class:`Shaped` (with the batch axis).
"""
from __future__ import annotations

from dataclasses import dataclass
from math import prod
from typing import Any

CF, FL = "channels first", "features last"


@dataclass(frozen=True)
class Tensor:
    """A tensor in the spec: the layer (or input) that holds it, or a parameter not yet written."""
    name: str | None                  # spec layer or input; None until a parameter is written
    shape: tuple[int, ...]            # PyTorch's shape, without the batch axis when batched
    layout: str = FL
    batched: bool = True
    param: str | None = None          # get_attr target of a parameter not written yet
    buffer: bool = False              # the target is a floating-point buffer, not a parameter


@dataclass(frozen=True)
class Const:
    """A value that is not a tensor of the spec (a size, a buffer, None)."""
    value: Any


def ours(shape: tuple[int, ...], layout: str) -> list[int]:
    """Our (channels-last) shape of a PyTorch shape without batch axis."""
    shape = tuple(int(v) for v in shape) or (1,)
    if layout == CF and len(shape) >= 2:
        shape = (*shape[1:], shape[0])
    if len(shape) > 4:   # our shapes have at most 4 axes: the leading ones are joined
        shape = (prod(shape[:-3]), *shape[-3:])   # (MaxViT's windows), the features stay last
    return list(shape)


def our_axis(axis: int, rank: int, layout: str) -> int:
    """Where PyTorch's axis (no batch, 0-based) sits in our shape."""
    if layout == CF and rank >= 2:
        return rank - 1 if axis == 0 else axis - 1
    return axis


def flat_values(args: Any) -> list[Any]:
    """The values in (nested) argument lists, in order."""
    if isinstance(args, (list, tuple)):
        return [v for a in args for v in flat_values(a)]
    if isinstance(args, dict):
        return [v for a in args.values() for v in flat_values(a)]
    return [args]


def first_shape(out: Any, batched: bool = True) -> tuple[int, ...] | None:
    """The shape of the first tensor in ``out``, without its batch axis when batched."""
    if isinstance(out, Shaped):
        return out.shape[1:] if out.shape and batched else out.shape
    if isinstance(out, (list, tuple)):
        for item in out:
            found = first_shape(item, batched)
            if found is not None:
                return found
    return None


@dataclass(frozen=True)
class Shaped:
    """A tensor result of shape propagation (with the batch axis)."""
    shape: tuple[int, ...]
    floating: bool = True


def with_first(out: Any, value: Tensor, path: str) -> Any:
    """The module's result as values: its first tensor is ``value``; the others become
    zero-parameter opaque layers when something reads them (see Piece)."""
    if isinstance(out, Shaped):
        return value
    if isinstance(out, (list, tuple)):
        items, seen = [], False
        for index, item in enumerate(out):
            if isinstance(item, Shaped) and not seen:
                items.append(value)
                seen = True
            elif isinstance(item, Shaped):
                items.append(Piece(value, item, f"{path}.output{index}", "output of " + path))
            else:
                items.append(with_first(item, value, path) if isinstance(item, (list, tuple))
                             else Const(item))
        return tuple(items)
    return Const(out)


@dataclass(frozen=True)
class Piece:
    """A further output of an op (chunk, split, an LSTM's state): written as an opaque
    layer from ``source`` when something uses it."""
    source: Tensor
    out: Shaped
    name: str
    op: str
