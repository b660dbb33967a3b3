"""Functional calls and tensor methods of a traced PyTorch graph as spec entries.

``torch.relu(x)``, ``x + y``, ``torch.cat``, ``x.flatten(1)``, ``x.view(…)``,
``F.adaptive_avg_pool2d`` … map to our families; sizes (``x.size(0)``,
``x.shape``) stay constants; an operation with no family name that learns
nothing (a channel shuffle's transpose, ``torch.chunk``, torchvision's
window attention function) becomes a zero-parameter ``opaque`` layer with
PyTorch's output shape (contract 2). A call's layer is named by the module it
is called in and its op (``GraphWalk.call_name``): a residual add in
``layer1.0``'s forward is ``layer1.0.add``, a flatten in the top-level forward
``flatten``.
"""
from __future__ import annotations

import operator
from dataclasses import replace
from math import prod
from typing import Any

from .torch_graph import GraphWalk
from .torch_values import CF, FL, Const, Piece, Shaped, Tensor, flat_values, our_axis, ours

# Functions and methods that apply a fixed function to every value.
ACTIVATIONS = {
    "relu": "relu", "relu_": "relu", "relu6": "relu6", "leaky_relu": "leaky_relu",
    "leaky_relu_": "leaky_relu", "elu": "elu", "elu_": "elu", "selu": "selu", "celu": "celu",
    "gelu": "gelu", "sigmoid": "sigmoid", "sigmoid_": "sigmoid", "hardsigmoid": "hard_sigmoid",
    "logsigmoid": "log_sigmoid", "tanh": "tanh", "tanh_": "tanh", "hardtanh": "hard_tanh",
    "hardtanh_": "hard_tanh", "softmax": "softmax", "log_softmax": "log_softmax",
    "softmin": "softmin", "softplus": "softplus", "softsign": "softsign", "silu": "silu",
    "hardswish": "hard_swish", "mish": "mish", "tanhshrink": "tanhshrink",
}
DROPOUTS = ("dropout", "dropout1d", "dropout2d", "dropout3d", "alpha_dropout",
            "feature_alpha_dropout", "stochastic_depth")
ADDS = ("add", "iadd", "add_")
MULTIPLIES = ("mul", "imul", "mul_", "multiply")
CONCATS = ("cat", "concat", "concatenate")
SHAPE_OPS = ("view", "reshape", "flatten", "permute", "transpose", "swapaxes", "movedim",
             "squeeze", "unsqueeze", "unflatten", "view_as", "reshape_as", "t")
SAME = ("contiguous", "clone", "detach", "to", "type", "float", "identity")
POOLS = {"max_pool1d": "maxpool1d", "max_pool2d": "maxpool2d", "max_pool3d": "maxpool3d",
         "avg_pool1d": "avgpool1d", "avg_pool2d": "avgpool2d", "avg_pool3d": "avgpool3d"}


def op_text(node) -> str:
    """The framework's name of an op, for an opaque layer: ``torch.chunk``, ``Tensor.view``."""
    if node.op == "call_method":
        return f"Tensor.{node.target}"
    target = node.target
    module = getattr(target, "__module__", None) or "torch"
    if module.startswith("torch.nn.functional") or module == "torch._C._nn":
        module = "torch.nn.functional"
    elif module.startswith("torch"):
        module = "torch"
    return f"{module}.{getattr(target, '__name__', str(target))}"


def op_name(node) -> str:
    return node.target if node.op == "call_method" else getattr(node.target, "__name__", "")


def function_call(walk: GraphWalk, node, args: tuple, kwargs: dict, out: Any) -> Any:
    """The value of one ``call_function``/``call_method`` node, writing its layers."""
    name = op_name(node)
    if node.op == "call_function" and node.target is getattr:
        return _python(out)
    if name == "getitem" and node.target is operator.getitem:
        return _getitem(walk, node, args, out)
    tensors = [v for v in flat_values((args, kwargs)) if isinstance(v, (Tensor, Piece))]
    tensors = [walk.piece(v) if isinstance(v, Piece) else v for v in tensors]
    if not isinstance(out, Shaped):
        if isinstance(out, (list, tuple)) and any(isinstance(o, Shaped) for o in out) and tensors:
            source = walk.placed(tensors[0])
            return tuple(Piece(source, o, f"{walk.call_name(node)}.{i}", op_text(node))
                         if isinstance(o, Shaped) else Const(o) for i, o in enumerate(out))
        return _python(out)
    batched = any(t.batched for t in tensors)
    shape = out.shape[1:] if batched else out.shape
    if not tensors:
        return Const(None)      # made from sizes and buffers alone (an index table)
    live = [t for t in tensors if t.name is not None or t.param is not None]
    x = next((t for t in live if t.batched), live[0])
    if name in SAME or (name == "expand" and x.name is not None and tuple(x.shape) == shape):
        return walk.placed(x)
    if name == "expand" and x.param is not None and x.name is None:
        if batched is False and prod(out.shape[1:]) == prod(x.shape):
            return Tensor(None, tuple(out.shape[1:]), FL, True, param=x.param)
    if name in ACTIVATIONS and len(live) == 1:
        return walk.emit("activation", walk.call_name(node), [walk.placed(x)], shape,
                         x.layout, batched, function=ACTIVATIONS[name])
    if name in DROPOUTS and len(live) == 1:
        rate = _argument(node, args, kwargs, "p", 1, 0.5)
        return walk.emit("dropout", walk.call_name(node), [walk.placed(x)], shape, x.layout,
                         batched, rate=float(rate))
    if name in ADDS + MULTIPLIES and len(live) == 2:
        kind = "add" if name in ADDS else "multiply"
        a, b = (walk.placed(t, x) for t in live)
        label = walk.call_name(node)     # layer1.0.add: the op in the module it is called in
        b = walk.relayout(b, a.layout, label) if len(a.shape) == len(b.shape) else b
        return walk.emit(kind, label, [a, b], shape, a.layout, batched)
    if name in CONCATS:
        return _concat(walk, node, args, kwargs, live, shape, x)
    if name == "flatten" and batched and len(shape) == 1:
        return walk.emit("flatten", walk.call_name(node), [walk.placed(x)], shape, FL, batched)
    if name in SHAPE_OPS and len(live) == 1:
        return _reshape(walk, node, walk.placed(x), shape, batched)
    if name.startswith("adaptive_") and len(live) == 1:
        x = walk.relayout(walk.placed(x), CF, walk.call_name(node))
        kind = "adaptive_max_pool" if "max" in name else "adaptive_avg_pool"
        sizes = list(shape[1:])
        return _checked(walk, node, kind, x, shape, CF,
                        output_size=sizes[0] if len(set(sizes)) == 1 else sizes)
    if name in POOLS and len(live) == 1:
        x = walk.relayout(walk.placed(x), CF, walk.call_name(node))
        return _pool(walk, node, args, kwargs, x, shape, POOLS[name])
    if name == "mean" and len(live) == 1 and x.layout == CF and len(shape) in (1, len(x.shape)):
        keep = len(shape) == len(x.shape)
        return _checked(walk, node, "global_avg_pool", walk.placed(x), shape,
                        CF if keep else FL, **({"keepdims": True} if keep else {}))
    return _opaque(walk, node, live, x, shape, batched)


def _python(out: Any) -> Any:
    return Const(out)


def _argument(node, args, kwargs, name: str, index: int, default: Any) -> Any:
    value = kwargs.get(name, args[index] if len(args) > index else default)
    return value.value if isinstance(value, Const) else value


def _opaque(walk: GraphWalk, node, live, x, shape, batched) -> Tensor:
    inputs = [walk.placed(t, x) for t in live]
    layout = x.layout if len(shape) == len(x.shape) else FL
    return walk.opaque(walk.call_name(node), op_text(node), inputs, shape, layout, batched)


def _getitem(walk: GraphWalk, node, args, out) -> Any:
    container, index = args[0], args[1]
    index = index.value if isinstance(index, Const) else index
    if isinstance(container, tuple):
        return container[index]
    if isinstance(container, Piece):
        container = walk.piece(container)
    if isinstance(container, Tensor) and isinstance(out, Shaped):
        x = walk.placed(container)
        shape = out.shape[1:] if x.batched else out.shape
        if x.batched and x.layout == FL and len(x.shape) == 2 and len(shape) == 1 \
                and isinstance(index, tuple) and len(index) == 2 and index[0] == slice(None) \
                and isinstance(index[1], int) and index[1] >= 0:
            return walk.emit("select_token", walk.call_name(node), [x], shape, FL, index=index[1])
        layout = x.layout if len(shape) == len(x.shape) else FL
        return walk.opaque(walk.call_name(node), "Tensor.__getitem__", [x], shape, layout,
                           x.batched)
    return Const(out if not isinstance(out, Shaped) else None)


def _concat(walk: GraphWalk, node, args, kwargs, live, shape, x) -> Tensor:
    dim = _argument(node, args, kwargs, "dim", 1, 0)
    parts = [walk.placed(t, x) for t in live]
    if len(parts) == 1:              # DenseNet joins a list of one tensor: nothing to join
        return replace(parts[0], shape=tuple(shape))
    first = parts[0]
    parts = [first, *(walk.relayout(p, first.layout, f"{walk.call_name(node)}.{i}")
                      for i, p in enumerate(parts[1:], start=1))]
    rank = len(first.shape)
    axis = (dim % (rank + 1)) - 1 if first.batched else dim % rank
    if axis < 0:                       # joined along the batch axis: no family for that
        return _opaque(walk, node, parts, first, shape, first.batched)
    ours_axis = our_axis(axis, rank, first.layout)
    fields = {} if ours_axis == rank - 1 else {"axis": ours_axis}
    return walk.emit("concat", walk.call_name(node), parts, shape, first.layout,
                     first.batched, **fields)


def _reshape(walk: GraphWalk, node, x: Tensor, shape, batched) -> Tensor:
    """A view, reshape, permute … : no layer when our shape stays, else permute or reshape."""
    before = ours(x.shape, x.layout)
    layouts = [x.layout, FL if x.layout == CF else CF]
    if op_name(node) in ("view", "reshape", "flatten", "unflatten", "squeeze", "unsqueeze") \
            and not (x.layout == CF and len(shape) >= 2 and shape[0] == x.shape[0]):
        layouts = [FL, CF]
    for layout in layouts:
        if ours(shape, layout) == before:
            return Tensor(x.name, tuple(shape), layout, batched)
    layout = layouts[0]
    after = ours(shape, layout)
    permutation = _permutation(node, x, shape, layout)
    if permutation is not None:
        return walk.emit("permute", walk.call_name(node), [x], shape, layout, batched,
                         dims=permutation)
    return walk.emit("reshape", walk.call_name(node), [x], shape, layout, batched, target=after)


def _permutation(node, x: Tensor, shape, layout) -> list[int] | None:
    """Our permute's dims for a PyTorch permute/transpose, or None for other ops."""
    name, rank = op_name(node), len(x.shape)
    args = [a.value if isinstance(a, Const) else a for a in node.args[1:]]
    if len(shape) != rank or not x.batched or rank > 4:
        return None
    if name == "permute":
        dims = args[0] if len(args) == 1 and isinstance(args[0], (list, tuple)) else args
        order = [int(d) % (rank + 1) - 1 for d in dims][1:]
    elif name in ("transpose", "swapaxes") and len(args) == 2:
        a, b = (int(d) % (rank + 1) - 1 for d in args)
        if a < 0 or b < 0:
            return None
        order = list(range(rank))
        order[a], order[b] = order[b], order[a]
    else:
        return None
    if sorted(order) != list(range(rank)):
        return None
    # our output axis j holds PyTorch's output axis t, which is input axis order[t].
    dims = []
    for j in range(rank):
        t = next(t for t in range(rank) if our_axis(t, rank, layout) == j)
        dims.append(our_axis(order[t], rank, x.layout) + 1)
    return dims


def _checked(walk: GraphWalk, node, kind: str, x: Tensor, shape, layout, **fields) -> Tensor:
    """A shape-only family when its output shape is PyTorch's, else an opaque layer."""
    from .torch_shapes import family_shape
    if family_shape(kind, fields, [ours(x.shape, x.layout)]) == ours(shape, layout):
        return walk.emit(kind, walk.call_name(node), [x], shape, layout, x.batched, **fields)
    return walk.opaque(walk.call_name(node), op_text(node), [x], shape, layout, x.batched)


def _pool(walk: GraphWalk, node, args, kwargs, x: Tensor, shape, kind: str) -> Tensor:
    from .torch_cnn_rules import _sizes, _tuple
    dims = int(kind[-2])
    kernel = _argument(node, args, kwargs, "kernel_size", 1, None)
    stride = _argument(node, args, kwargs, "stride", 2, None) or kernel
    padding = _argument(node, args, kwargs, "padding", 3, 0)
    fields: dict[str, Any] = {"kernel": _sizes(kernel, dims)}
    if _tuple(stride, dims) != _tuple(kernel, dims):
        fields["stride"] = _sizes(stride, dims)
    if any(p != 0 for p in _tuple(padding, dims)):
        fields["padding"] = _sizes(padding, dims)
    return _checked(walk, node, kind, x, shape, CF, **fields)
