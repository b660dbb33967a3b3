"""Reading an ONNX file safely, and the graph as the ONNX importer sees it.

The file is parsed with the ``onnx`` package (protobuf), never run.  External
data is never followed: counting needs only each initializer's ``dims``, and a
hostile file may point its external data at any path (``../../etc/passwd``).
An initializer stored in the file must hold as many values as its dims claim,
so absurd dims (2**62) are refused before anything is sized from them.

:class:`OnnxGraph` classifies every value: an *activation* depends on a graph
input (the data flowing through the layers); every other value is a constant
(initializers, ``Constant`` nodes and what is computed from them or from
``Shape``).  A node with an activation output is a layer; constant nodes are the
exporter's preprocessing of weights (an LSTM's gates sliced and reordered) or
of shapes.  The *sources* of a constant are the floating-point initializers it
is computed from, each counted once; an ``Identity`` of an initializer is a
source of its own, because torch's exporter replaces equal fresh tensors (a
BatchNorm's running variance and its weight, both ones) by one initializer and
Identity copies, while torch counts each.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import SymparamsError
from ..printable import echo

# protobuf cannot serialise a message over 2 GiB, so a larger .onnx file is not a
# valid model (big models keep their weights in external files, which we do not
# read): refusing it also bounds the memory the parse can take.
MAX_FILE_BYTES = 2 * 1024 ** 3
# An external-data initializer cannot be checked against its data: far beyond any
# real tensor (10^13 values = 40 TB of float32), its dims are refused as damaged.
MAX_EXTERNAL_VALUES = 10 ** 13
# Constant tensors read for their values (axes, perms, clip bounds) are small.
MAX_READ_VALUES = 4096

SHAPE_OPS = {"Shape", "Size"}      # their output describes a value, it is not data


def read_model(path: str | Path):
    """The parsed ModelProto, or a one-line SymparamsError."""
    import onnx
    source = str(path)
    file = Path(path)
    try:
        size = file.stat().st_size
    except OSError as exc:
        raise SymparamsError(f"cannot read the file ({exc.strerror or exc})",
                             file=source) from None
    if not file.is_file():
        raise SymparamsError("not a regular file", file=source)
    if size == 0:
        raise SymparamsError("not an ONNX model: the file is empty", file=source)
    if size > MAX_FILE_BYTES:
        raise SymparamsError(f"the file has {size:,} bytes, more than an ONNX model can hold "
                             f"({MAX_FILE_BYTES:,}; larger models keep their weights in "
                             f"external data files)", file=source)
    try:
        model = onnx.load(source, load_external_data=False)
    except Exception as exc:   # DecodeError, RuntimeError, ValueError …: all mean damaged
        detail = " ".join(str(exc).split())[:120] or type(exc).__name__
        raise SymparamsError(f"not an ONNX model: {detail}", file=source) from None
    if not model.HasField("graph") or not model.graph.node:
        raise SymparamsError("not an ONNX model: it has no graph nodes", file=source)
    return model


def is_float(data_type: int) -> bool:
    import onnx
    try:
        name = onnx.TensorProto.DataType.Name(data_type)
    except ValueError:
        return False
    return "FLOAT" in name or "DOUBLE" in name


def _held_values(tensor) -> int | None:
    """How many values a stored initializer holds, or None when that cannot be told."""
    import onnx
    if tensor.HasField("raw_data") or not any(
            len(getattr(tensor, f)) for f in ("float_data", "int32_data", "int64_data",
                                              "double_data", "uint64_data", "string_data")):
        try:
            itemsize = onnx.helper.tensor_dtype_to_np_dtype(tensor.data_type).itemsize
        except Exception:
            return None
        bits = {"INT4", "UINT4", "FLOAT4E2M1"}
        if onnx.TensorProto.DataType.Name(tensor.data_type) in bits:
            return len(tensor.raw_data) * 2
        return len(tensor.raw_data) // itemsize if itemsize else None
    for name in ("float_data", "int32_data", "int64_data", "double_data", "uint64_data",
                 "string_data"):
        count = len(getattr(tensor, name))
        if count:
            complex_type = "COMPLEX" in onnx.TensorProto.DataType.Name(tensor.data_type)
            return count // 2 if complex_type else count
    return 0


def check_initializer(tensor, source: str) -> tuple[int, bool]:
    """(values, stored externally) of one initializer; absurd or damaged dims are refused."""
    import onnx
    name = echo(tensor.name)
    dims = list(tensor.dims)
    if any(d < 0 for d in dims):
        raise SymparamsError(f"initializer {name} has a negative size in its dims {dims}",
                             file=source)
    values = math.prod(dims)
    external = tensor.data_location == onnx.TensorProto.EXTERNAL
    if external:
        if values > MAX_EXTERNAL_VALUES:
            raise SymparamsError(f"initializer {name} claims {values:,} values (dims "
                                 f"{dims}): the file is damaged", file=source)
        return values, True
    held = _held_values(tensor)
    if held is not None and held != values:
        raise SymparamsError(f"initializer {name}: its dims {dims} claim {values:,} values "
                             f"but it holds {held:,}: the file is damaged", file=source)
    return values, False


@dataclass
class OnnxGraph:
    """The main graph's nodes, values and initializers, classified for import."""
    model: Any
    source: str
    initializers: dict[str, Any] = field(default_factory=dict)
    sizes: dict[str, int] = field(default_factory=dict)         # initializer -> values
    external: list[str] = field(default_factory=list)
    inputs: list[str] = field(default_factory=list)            # real inputs, in order
    producer: dict[str, int] = field(default_factory=dict)     # value -> node index
    consumers: dict[str, list[int]] = field(default_factory=dict)
    activations: set[str] = field(default_factory=set)
    constant_nodes: dict[str, Any] = field(default_factory=dict)  # value -> Constant node
    _sources: dict[str, frozenset[str]] = field(default_factory=dict)
    source_size: dict[str, int] = field(default_factory=dict)   # source key -> values
    source_origin: dict[str, str] = field(default_factory=dict)  # source key -> initializer

    @classmethod
    def read(cls, model, source: str) -> "OnnxGraph":
        graph = cls(model, source)
        g = model.graph
        for tensor in g.initializer:
            values, external = check_initializer(tensor, source)
            graph.initializers[tensor.name] = tensor
            graph.sizes[tensor.name] = values
            if external:
                graph.external.append(tensor.name)
        if len(g.sparse_initializer):
            raise SymparamsError("sparse initializers are not supported", file=source)
        graph.inputs = [v.name for v in g.input if v.name not in graph.initializers]
        if not graph.inputs:
            raise SymparamsError("the graph has no inputs", file=source)
        graph.activations.update(graph.inputs)
        for index, node in enumerate(g.node):
            for value in node.input:
                if value:
                    graph.consumers.setdefault(value, []).append(index)
            for value in node.output:
                if value:
                    graph.producer[value] = index
            if node.op_type == "Constant" and node.output:
                graph.constant_nodes[node.output[0]] = node
            if node.op_type not in SHAPE_OPS and any(v in graph.activations for v in node.input):
                graph.activations.update(v for v in node.output if v)
        return graph

    @property
    def nodes(self):
        return self.model.graph.node

    def sources(self, value: str) -> frozenset[str]:
        """The floating-point initializers (source keys) a constant value is computed from."""
        if value in self._sources:
            return self._sources[value]
        # Walk back to the values it needs, then compute them in graph order (ONNX keeps
        # nodes topologically sorted): iterative, so a deep chain of constants never recurses.
        stack, needed = [value], set()
        while stack:
            current = stack.pop()
            if current in self._sources or current in needed:
                continue
            needed.add(current)
            index = self.producer.get(current)
            if index is not None and current not in self.activations:
                stack.extend(v for v in self.nodes[index].input if v)
        for current in sorted(needed, key=lambda v: self.producer.get(v, -1)):
            self._sources[current] = self._compute_sources(current)
        return self._sources[value]

    def _compute_sources(self, value: str) -> frozenset[str]:
        if value in self.activations:
            return frozenset()
        if value in self.initializers:
            if not is_float(self.initializers[value].data_type) or not self.sizes[value]:
                return frozenset()
            self.source_size[value] = self.sizes[value]
            self.source_origin[value] = value
            return frozenset([value])
        index = self.producer.get(value)
        if index is None:
            return frozenset()
        node = self.nodes[index]
        if node.op_type in SHAPE_OPS:
            return frozenset()
        if node.op_type == "Identity" and node.input and node.input[0] in self.initializers:
            if not self._known(node.input[0]):
                return frozenset()
            # torch's de-duplicated copy: a tensor of its own (see the module docstring)
            self.source_size[value] = self.sizes[node.input[0]]
            self.source_origin[value] = node.input[0]
            return frozenset([value])
        found: set[str] = set()
        for v in node.input:
            if v:
                found |= self._known(v)
        return frozenset(found)

    def _known(self, value: str) -> frozenset[str]:
        if value not in self._sources:
            self._sources[value] = self._compute_sources(value)
        return self._sources[value]

    def constant_values(self, value: str) -> list[Any] | None:
        """The values of a small constant (an initializer or a Constant node), else None."""
        import onnx
        from onnx import numpy_helper
        tensor = self.initializers.get(value)
        node = self.constant_nodes.get(value)
        if tensor is None and node is not None:
            for attribute in node.attribute:
                if attribute.name == "value":
                    tensor = attribute.t
                elif attribute.name in ("value_float", "value_int"):
                    return [onnx.helper.get_attribute_value(attribute)]
                elif attribute.name in ("value_floats", "value_ints"):
                    return list(onnx.helper.get_attribute_value(attribute))
        if tensor is None or tensor.data_location == onnx.TensorProto.EXTERNAL:
            return None
        if math.prod(tensor.dims) > MAX_READ_VALUES:
            return None
        try:
            return numpy_helper.to_array(tensor).reshape(-1).tolist()
        except Exception:
            return None
