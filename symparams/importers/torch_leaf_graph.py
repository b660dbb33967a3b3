"""The joins between leaf calls: which layer each leaf's input comes from.

During the fake forward pass (torch_leaf_calls.py) every torch function called
outside the leaves is recorded with its tensor arguments and result, so a
tensor's producer is known: the model's input, a leaf's output, a container's
parameter (a ``tensor`` layer) or a function. :class:`Sources` turns a tensor
into the name of the layer that gives it:

- a layer's own output: that layer (with a ``(not traced)`` layer after it when
  the shape we read differs from the one wanted, which only a layout guess makes);
- ``x + y`` / ``x * y`` of tensors that come from layers: an ``add`` / ``multiply``
  layer (a residual connection), ``torch.cat``: a ``concat`` layer on the right axis,
  an element-wise function (``torch.relu``, ``F.gelu``): an ``activation`` layer;
- any other functional code (a split into heads and scaled dot-product attention,
  a reshape, a slice): one zero-parameter ``opaque`` layer that takes every layer
  it reads, with the functions' names as its op and the recorded shape as its output.
"""
from __future__ import annotations

from typing import Any, Callable

JOINS = {"add": "add", "iadd": "add", "radd": "add", "mul": "multiply", "rmul": "multiply",
         "imul": "multiply", "multiply": "multiply"}
CONCATS = ("cat", "concat", "concatenate")
# Element-wise functions (torch.relu, F.gelu, x.tanh() …) and our activation's word.
FUNCTIONS = {"relu": "relu", "relu6": "relu6", "gelu": "gelu", "silu": "silu", "tanh": "tanh",
             "sigmoid": "sigmoid", "softmax": "softmax", "log_softmax": "log_softmax",
             "elu": "elu", "selu": "selu", "leaky_relu": "leaky_relu", "mish": "mish",
             "hardswish": "hard_swish", "hardsigmoid": "hard_sigmoid", "softplus": "softplus"}
MAX_OPS_SHOWN = 6


def broadcasts(shapes: list[list[int]], result: list[int]) -> bool:
    """NumPy's rule on our shapes: each axis, aligned from the right, is 1 or the result's."""
    for shape in shapes:
        if len(shape) > len(result):
            return False
        for size, out in zip(reversed(shape), reversed(result)):
            if size not in (1, out):
                return False
    return True


class Sources:
    """Layer names for tensors; ``add`` builds a layer (kind, name, inputs, fields) → name."""

    def __init__(self, made_by: dict[int, Any], add: Callable[..., str],
                 our_shape: Callable[[Any, bool], list[int]]):
        self.made_by, self.add, self.our_shape = made_by, add, our_shape
        self.layer_of: dict[int, tuple[str, list[int]]] = {}
        self.order: dict[str, int] = {}
        self.keep: list[Any] = []            # the registered tensors stay alive: ids stay theirs

    def register(self, tensor: Any, name: str, shape: list[int]) -> None:
        self.keep.append(tensor)
        self.layer_of[id(tensor)] = (name, list(shape))
        self.order.setdefault(name, len(self.order))

    def find(self, tensor: Any, wanted: list[int], channels_first: bool) -> str | None:
        """The layer giving ``tensor`` in the shape ``wanted``; None when no layer does."""
        known = self.layer_of.get(id(tensor))
        if known is not None:
            name, shape = known
            if shape == list(wanted):
                return name
            return self._layer("opaque", "not_traced", [name], tensor, wanted,
                               op="(not traced)", output=list(wanted))
        call = self.made_by.get(id(tensor))
        if call is None:
            return None
        return (self._join(call, tensor, wanted, channels_first)
                or self._region(tensor, wanted))

    def _layer(self, kind, name, inputs, tensor, shape, **fields) -> str:
        name = self.add(kind, name, inputs, **fields)
        self.register(tensor, name, shape)
        return name

    def _join(self, call, tensor, wanted, channels_first) -> str | None:
        tensors = [t for t in call.inputs if hasattr(t, "shape")]
        if call.name in JOINS and len(tensors) == 2:
            rank = len(tensor.shape)
            shapes = [self.our_shape(t, channels_first) if len(t.shape) == rank
                      else [int(s) for s in t.shape] for t in tensors]
            if not broadcasts(shapes, wanted):
                return None
            inputs = [self.find(t, s, channels_first) for t, s in zip(tensors, shapes)]
            if None in inputs:
                return None
            return self._layer(JOINS[call.name], call.name, inputs, tensor, wanted)
        if call.name in FUNCTIONS and len(tensors) == 1 and tensors[0].shape == tensor.shape:
            source = self.find(tensors[0], wanted, channels_first)
            if source is None:
                return None
            return self._layer("activation", call.name, [source], tensor, wanted,
                               function=FUNCTIONS[call.name])
        if call.name in CONCATS and len(tensors) >= 2:
            axis = self._concat_axis(call, len(tensor.shape), channels_first)
            if axis is None or any(len(t.shape) != len(tensor.shape) for t in tensors):
                return None
            inputs = [self.find(t, self.our_shape(t, channels_first), channels_first)
                      for t in tensors]
            if None in inputs:
                return None
            return self._layer("concat", call.name, inputs, tensor, wanted, axis=axis)
        return None

    @staticmethod
    def _concat_axis(call, rank: int, channels_first: bool) -> int | None:
        dim = call.kwargs.get("dim", call.kwargs.get("axis", call.kwargs.get("arg1", 0)))
        dim = dim + rank if dim < 0 else dim
        if dim == 0 or rank < 2:
            return None                        # along the batch: no axis of ours
        axis = dim - 1                         # without the batch axis
        if channels_first and rank >= 3:
            axis = rank - 2 if axis == 0 else axis - 1   # channels go last
        return axis

    def _region(self, tensor, wanted) -> str | None:
        """One opaque layer for the functional code between layers and ``tensor``."""
        sources, ops, seen, stack = set(), [], set(), [tensor]
        while stack:
            item = stack.pop()
            if id(item) in seen:
                continue
            seen.add(id(item))
            if id(item) in self.layer_of:
                sources.add(self.layer_of[id(item)][0])
                continue
            call = self.made_by.get(id(item))
            if call is not None:
                ops.append(call.name)
                stack.extend(call.inputs)
        if not sources:
            return None
        names = list(dict.fromkeys(reversed(ops)))   # first called first
        shown = ", ".join(names[:MAX_OPS_SHOWN]) + (", …" if len(names) > MAX_OPS_SHOWN else "")
        inputs = sorted(sources, key=self.order.__getitem__)
        return self._layer("opaque", ops[0], inputs, tensor, wanted,   # named as fx would
                           op=f"torch {shown}", output=list(wanted))
