"""Every value's ONNX dims: onnx.shape_inference, helped where it stops.

``onnx.shape_inference`` needs the values of the small integer tensors that
say how to slice or reshape (a Slice's ends, a Reshape's target).  Exporters
often compute them from ``Shape`` (``x.chunk(2, dim=1)`` divides a channel
count), and the inference does not evaluate every op on the way (``Div``), so
everything after such a Slice has unknown sizes.  Here those small tensors
are evaluated with our own rules (Shape, Gather, Concat, arithmetic …, on
lists of at most a few thousand numbers), written into a light copy of the
graph as constants, and the inference runs again, until nothing more is found.

The copy holds no weights: a large initializer becomes a graph input of the
same type and dims, so inference never serialises hundreds of megabytes.
"""
from __future__ import annotations

from typing import Any

from .onnx_read import MAX_READ_VALUES

MAX_PASSES = 24          # each pass resolves at least one more slice; a bound on the work
# Inputs that must be known values for the inference to size the output.
VALUE_INPUTS = {"Slice": (1, 2, 3, 4), "Reshape": (1,), "Expand": (1,), "Tile": (1,),
                "Split": (1,), "Unsqueeze": (1,), "Squeeze": (1,), "Pad": (1,),
                "Resize": (3,), "ConstantOfShape": (0,), "ReduceMean": (1,),
                "ReduceSum": (1,), "ReduceMax": (1,), "ReduceMin": (1,), "Range": (0, 1, 2)}


def infer_dims(model, graph) -> dict[str, list[Any]]:
    """Every value's dims (int, dim_param text, or None when unknown)."""
    light = _light_copy(model)
    known: dict[str, list] = {}
    dims: dict[str, list[Any]] = {}
    for _ in range(MAX_PASSES):
        dims = _inferred(light)
        added = _evaluate_missing(light, graph, dims, known)
        if not added:
            break
    for tensor in model.graph.initializer:
        dims[tensor.name] = list(tensor.dims)
    return dims


def _light_copy(model):
    import onnx
    light = onnx.ModelProto()
    light.ir_version = model.ir_version
    light.opset_import.extend(model.opset_import)
    g = light.graph
    g.name = model.graph.name
    g.node.extend(model.graph.node)
    g.input.extend(model.graph.input)
    g.output.extend(model.graph.output)
    g.value_info.extend(model.graph.value_info)
    listed = {v.name for v in model.graph.input}
    for tensor in model.graph.initializer:
        size = 1
        for d in tensor.dims:
            size *= d
        if size <= MAX_READ_VALUES and tensor.data_location != onnx.TensorProto.EXTERNAL:
            g.initializer.append(tensor)
        elif tensor.name not in listed:
            g.input.append(onnx.helper.make_tensor_value_info(tensor.name, tensor.data_type,
                                                              list(tensor.dims)))
    return light


def _inferred(light) -> dict[str, list[Any]]:
    import onnx
    try:
        inferred = onnx.shape_inference.infer_shapes(light, strict_mode=False, data_prop=True)
    except Exception:   # noqa: BLE001  (a help: without it the file's own value_info stays)
        inferred = light
    dims: dict[str, list[Any]] = {}
    g = inferred.graph
    for info in (*g.input, *g.value_info, *g.output):
        if info.type.WhichOneof("value") != "tensor_type" \
                or not info.type.tensor_type.HasField("shape"):
            continue
        dims[info.name] = [d.dim_value if d.HasField("dim_value") else
                           (d.dim_param or None) if d.HasField("dim_param") else None
                           for d in info.type.tensor_type.shape.dim]
    return dims


def _evaluate_missing(light, graph, dims, known) -> bool:
    """Write the values the inference needed and lacked as constants; True when any was."""
    import onnx
    added = False
    evaluator = _Evaluator(graph, dims, known)
    for node in light.graph.node:
        slots = VALUE_INPUTS.get(node.op_type)
        if not slots or not node.output or _all_known(dims.get(node.output[0])):
            continue
        for slot in slots:
            if slot >= len(node.input) or not node.input[slot]:
                continue
            name = node.input[slot]
            if name in graph.initializers or name in graph.constant_nodes \
                    or name.startswith("__symparams_value_"):
                continue
            values = evaluator.value(name)
            if values is None:
                continue
            constant = f"__symparams_value_{len(light.graph.initializer)}"
            light.graph.initializer.append(onnx.helper.make_tensor(
                constant, onnx.TensorProto.INT64, [len(values)], [int(v) for v in values]))
            node.input[slot] = constant
            added = True
    return added


def _all_known(shape) -> bool:
    return shape is not None and all(isinstance(d, int) for d in shape)


class _Evaluator:
    """Values of small integer tensors computed from constants and known shapes."""

    def __init__(self, graph, dims, cache):
        self.graph, self.dims, self.cache = graph, dims, cache

    def value(self, name: str, depth: int = 0) -> list | None:
        if name in self.cache:
            return self.cache[name]
        if depth > 64:
            return None
        found = self._compute(name, depth)
        if found is not None and len(found) <= MAX_READ_VALUES:
            self.cache[name] = found
            return found
        return None

    def _compute(self, name: str, depth: int) -> list | None:
        g = self.graph
        if name in g.initializers or name in g.constant_nodes:
            return g.constant_values(name)
        index = g.producer.get(name)
        if index is None:
            return None
        node = g.nodes[index]
        op = node.op_type
        a = {x.name: x for x in node.attribute}
        if op == "Shape":
            shape = self.dims.get(node.input[0])
            if not _all_known(shape):
                return None
            start = a["start"].i if "start" in a else 0
            end = a["end"].i if "end" in a else len(shape)
            return list(shape[start:end])
        if op == "Size":
            shape = self.dims.get(node.input[0])
            if not _all_known(shape):
                return None
            total = 1
            for d in shape:
                total *= d
            return [total]
        inputs = [self.value(v, depth + 1) if v else None for v in node.input]
        if op in ("Identity", "Cast", "Unsqueeze", "Squeeze", "Reshape", "Flatten"):
            return inputs[0]
        if any(v is None for v in inputs[:1]):
            return None
        if op == "Concat":
            if any(v is None for v in inputs):
                return None
            return [x for v in inputs for x in v]
        if op == "Gather":
            if inputs[1] is None:
                return None
            data = inputs[0]
            try:
                return [data[int(i)] for i in inputs[1]]
            except IndexError:
                return None
        if op == "Slice":
            if inputs[1] is None or inputs[2] is None:
                return None
            step = int(inputs[4][0]) if len(inputs) > 4 and inputs[4] else 1
            start, end = int(inputs[1][0]), int(inputs[2][0])
            return inputs[0][slice(start, end if abs(end) < 2 ** 62 else None, step or 1)]
        if op in ("Add", "Sub", "Mul", "Div", "Mod", "Max", "Min"):
            left, right = inputs[0], inputs[1] if len(inputs) > 1 else None
            if right is None or not left or not right:
                return None
            if len(left) != len(right) and 1 not in (len(left), len(right)):
                return None
            size = max(len(left), len(right))
            pairs = [(left[i % len(left)], right[i % len(right)]) for i in range(size)]
            try:
                return [_arithmetic(op, x, y) for x, y in pairs]
            except ZeroDivisionError:
                return None
        return None


def _arithmetic(op: str, x, y):
    if op == "Add":
        return x + y
    if op == "Sub":
        return x - y
    if op == "Mul":
        return x * y
    if op == "Div":
        if isinstance(x, int) and isinstance(y, int):
            return int(x / y) if abs(x) < 2 ** 52 else x // y   # ONNX truncates
        return x / y
    if op == "Mod":
        return x % y
    return max(x, y) if op == "Max" else min(x, y)
