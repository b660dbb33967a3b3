"""ONNX shapes in symparams' layout: the batch axis dropped, channels last.

ONNX values are ``N, C, H, W`` (images), ``N, T, E`` (sequences) or anything an
exporter reshapes them into (``T, N, heads, d`` inside attention; an LSTM's
``T, D, N, H``).  Two facts per activation value turn its ONNX shape into ours:

* where its **batch axis** is: followed from the inputs (axis 0) through each
  op (a Transpose moves it, an Unsqueeze shifts it, a Reshape keeps it where the
  sizes before it agree, an LSTM takes ``T, N, E``); where it is lost, the first
  axis of the batch size is taken for it;
* whether it is **channels first**: the output of a convolution, pooling or
  normalisation op, an input of rank 4 or 5 (or of rank 3 that a convolution
  reads), and what element-wise ops pass on from them (forwards and backwards,
  so that a reshape feeding a convolution is read as ``C, H, W``).

Sizes come from ``onnx.shape_inference`` helped by our own rules
(onnx_shapes.py).  A size the model leaves
dynamic (``dim_param``) is a letter: the input's letters are chosen by the
axis' role (``T`` for a sequence, ``H``/``W`` for an image), ``--input`` sets them.
"""
from __future__ import annotations

from typing import Any

from ..errors import SymparamsError

# Ops whose activation input and output are channels first when of rank ≥ 3.
CHANNELS_FIRST_OPS = {"Conv", "ConvTranspose", "MaxPool", "AveragePool", "LpPool",
                      "GlobalAveragePool", "GlobalMaxPool", "GlobalLpPool",
                      "BatchNormalization", "InstanceNormalization", "GroupNormalization",
                      "LRN", "Resize", "Upsample", "DepthToSpace", "SpaceToDepth",
                      "MaxUnpool"}
# Element-wise ops: their output is laid out as their (largest) activation input.
ELEMENTWISE_OPS = {"Relu", "Sigmoid", "Tanh", "LeakyRelu", "Elu", "Selu", "Celu", "Gelu",
                   "HardSigmoid", "HardSwish", "Softplus", "Softsign", "Mish", "Clip",
                   "Dropout", "Identity", "Add", "Sub", "Mul", "Div", "Pow", "Sqrt", "Erf",
                   "Neg", "Abs", "Exp", "Log", "Cast", "Max", "Min", "Sum", "Mean", "Where",
                   "PRelu", "ThresholdedRelu", "Reciprocal", "Floor", "Ceil", "Round",
                   "Sign", "Concat", "Pad", "Softmax", "LogSoftmax", "Hardmax", "Swish",
                   "Sin", "Cos", "Not", "And", "Or", "Equal", "Less", "Greater", "Shrink",
                   "LayerNormalization", "CastLike", "BitShift", "Mod", "IsNaN", "IsInf",
                   "Expand", "Tile", "Slice", "Split"}

# Letters for dynamic sizes of an input, by its rank in our layout and channels-first.
_IMAGE_LETTERS = {1: ("L",), 2: ("H", "W"), 3: ("D", "H", "W")}
_SEQUENCE_LETTERS = {1: ("T",), 2: ("T", "E"), 3: ("T", "H", "W")}

MAX_RANK = 4   # our shapes have 1 to 4 axes


def fix_input_dims(model, graph, input_shape, source: str) -> dict[str, str]:
    """Fill the inputs' dynamic sizes from ``--input`` (framework order, no batch axis),
    set a dynamic batch to 1, and return the letters for the sizes left dynamic."""
    letters: dict[str, str] = {}
    by_name = {v.name: v for v in model.graph.input}
    for position, name in enumerate(graph.inputs):
        tensor_type = by_name[name].type.tensor_type
        dims = list(tensor_type.shape.dim)
        if input_shape is not None and position == 0:
            if len(input_shape) != len(dims) - 1:
                raise SymparamsError(f"--input {','.join(map(str, input_shape))} has "
                                     f"{len(input_shape)} sizes but the model's input "
                                     f"{name!r} has {len(dims) - 1} (without the batch axis)",
                                     file=source)
            for dim, size in zip(dims[1:], input_shape):
                if dim.HasField("dim_value") and dim.dim_value != size:
                    raise SymparamsError(f"--input {','.join(map(str, input_shape))}: the "
                                         f"model's input {name!r} is fixed at "
                                         f"{[d.dim_value or d.dim_param for d in dims[1:]]}",
                                         file=source)
                if isinstance(size, str):       # a letter: the size stays dynamic, so named
                    if not dim.HasField("dim_value"):
                        dim.dim_param = size
                        letters[size] = size
                else:
                    dim.dim_value = int(size)
        if dims and not dims[0].HasField("dim_value"):
            dims[0].dim_value = 1            # the batch axis is dropped anyway
        channels_first = len(dims) in (4, 5)
        rank = len(dims) - 1
        spatial = rank - 1 if channels_first else rank
        table = _IMAGE_LETTERS if channels_first else _SEQUENCE_LETTERS
        names = table.get(spatial, ())
        axes = dims[2:] if channels_first else dims[1:]
        for i, dim in enumerate(axes):
            if not dim.HasField("dim_value") and dim.dim_param:
                letters.setdefault(dim.dim_param, names[i] if i < len(names) else f"S_{i}")
        if channels_first and len(dims) > 1 and not dims[1].HasField("dim_value") \
                and dims[1].dim_param:
            letters.setdefault(dims[1].dim_param, "C")
    return letters


class Layout:
    """Batch axis and channels-first of each activation value, and shapes in our layout."""

    def __init__(self, graph, dims: dict[str, list[Any]], letters: dict[str, str]):
        self.graph = graph
        self.dims = dims
        self.letters = letters
        self.batch: dict[str, int | None] = {}
        self.channels_first: set[str] = set()
        self.batch_size = 1
        for name in graph.inputs:
            shape = dims.get(name) or []
            self.batch[name] = 0 if len(shape) >= 2 else None
            if shape and isinstance(shape[0], int):
                self.batch_size = shape[0]
        self._find_channels_first()

    def rank(self, value: str) -> int | None:
        shape = self.dims.get(value)
        return None if shape is None else len(shape)

    def _find_channels_first(self) -> None:
        """Element-wise ops join their same-rank values into groups (union-find, linear in
        the graph: no fixpoint that a long chain could make quadratic); a group is channels
        first when a convolution-like op reads or writes one of its values."""
        g = self.graph
        parent: dict[str, str] = {}

        def root(value: str) -> str:
            while parent.get(value, value) != value:
                parent[value] = parent.get(parent[value], parent[value])
                value = parent[value]
            return value

        marked = {name for name in g.inputs if self.rank(name) in (4, 5)}
        grouped: set[str] = set()
        for node in g.nodes:
            acts = [v for v in node.input if v in g.activations]
            outs = [v for v in node.output if v in g.activations]
            if not acts or not outs:
                continue
            if node.op_type in CHANNELS_FIRST_OPS:
                marked.update(v for v in (acts[0], outs[0]) if (self.rank(v) or 0) >= 3)
            elif node.op_type in ELEMENTWISE_OPS:
                rank = self.rank(outs[0])
                group = [v for v in acts + outs if (self.rank(v) or 0) >= 3
                         and self.rank(v) == rank]
                grouped.update(group)
                for value in group[1:]:
                    parent[root(value)] = root(group[0])
        roots = {root(v) for v in marked}
        self.channels_first.update(v for v in grouped | marked if root(v) in roots)

    # ---------------------------------------------------------------- batch axes
    def set_batch(self, value: str, axis: int | None) -> None:
        shape = self.dims.get(value)
        if axis is None and shape and len(shape) >= 2 and shape[0] == self.batch_size:
            axis = 0   # lost through a reshape: the first axis of the batch size
        self.batch[value] = axis

    def _ours_axes(self, value: str, shape: list[Any]) -> list[Any]:
        axis = self.batch.get(value)
        if axis is None or axis >= len(shape):
            return list(shape)
        rest = shape[:axis] + shape[axis + 1:]
        if value in self.channels_first and axis < len(rest) and len(rest) >= 2:
            rest = rest[:axis] + rest[axis + 1:] + [rest[axis]]
        return rest

    def ours(self, value: str) -> list[Any] | None:
        """The value's shape in our layout, or None when a size is unknown."""
        shape = self.dims.get(value)
        if shape is None:
            return None
        return self._written(self._ours_axes(value, list(shape)))

    def _written(self, shape: list[Any]) -> list[Any] | None:
        sizes = []
        for size in shape:
            if isinstance(size, int) and size > 0:
                sizes.append(size)
            elif isinstance(size, str) and size in self.letters:
                sizes.append(self.letters[size])
            else:
                return None
        while len(sizes) > MAX_RANK:    # attention's 5-axis reshapes: merge leading axes
            if not all(isinstance(s, int) for s in sizes[:2]):
                return None
            sizes[:2] = [sizes[0] * sizes[1]]
        return sizes or [1]

    def constant_like(self, constant: str, activation: str) -> list[Any] | None:
        """A constant operand's shape in the layout of the activation it is broadcast with."""
        shape = self.dims.get(constant)
        target = self.dims.get(activation)
        if shape is None or target is None:
            return None
        shape = list(shape)
        if len(shape) < len(target):
            shape = [1] * (len(target) - len(shape)) + shape
        axis = self.batch.get(activation)
        if axis is not None and len(shape) == len(target) and shape[axis] != 1:
            return None   # it has a batch axis of its own: not a plain broadcast
        saved = self.batch.get(constant)
        self.batch[constant] = axis
        try:
            if activation in self.channels_first:
                self.channels_first.add(constant)
            return self._written(self._ours_axes(constant, shape))
        finally:
            self.channels_first.discard(constant)
            self.batch[constant] = saved

    def concat_axis(self, value: str, onnx_axis: int) -> int | None:
        """Our axis for an ONNX concat axis on ``value`` (None: along the batch)."""
        rank = self.rank(value)
        axis = self.batch.get(value)
        if rank is None or axis is None:
            return None
        onnx_axis = onnx_axis + rank if onnx_axis < 0 else onnx_axis
        if onnx_axis == axis:
            return None
        ours = onnx_axis if onnx_axis < axis else onnx_axis - 1
        if value in self.channels_first and rank >= 3:
            if onnx_axis == axis + 1:
                return -1
            return ours - 1
        return -1 if ours == rank - 2 else ours
