"""ONNX nodes to spec entries, one node at a time (see onnx_graph.py).

:func:`map_node` receives the importer and one node that computes on the data
(an activation output): an op with a family goes to its mapper
(onnx_families.py); a learned constant added, multiplied or joined in becomes a
``tensor`` and the merge; any other op without weights is a zero-parameter
``opaque`` shape op, and one with weights is unknown.  A node's weights are
the *sources* of its constant inputs in the weight slots (onnx_read.py); other
constant inputs of known ops (a Reshape's target, a Clip's bounds, a Resize's
scales) are attributes, not parameters.
"""
from __future__ import annotations

import math
from typing import Any

from .onnx_batch import attributes
from .onnx_families import MAPPERS, is_graph_output

MERGES = {"Add": "add", "Mul": "multiply", "Sum": "add"}
# Ops whose constant inputs are attributes (shapes, axes, bounds), never weights.
ATTRIBUTE_INPUT_OPS = {"Reshape", "Slice", "Pad", "Clip", "Resize", "Upsample", "Expand",
                       "Tile", "Dropout", "Split", "Unsqueeze", "Squeeze", "Gather",
                       "GatherElements", "GatherND", "ReduceMean", "ReduceSum", "ReduceMax",
                       "ReduceMin", "ReduceProd", "ReduceL2", "ReduceL1", "ReduceSumSquare",
                       "ReduceLogSumExp", "TopK", "CumSum", "OneHot", "ConstantOfShape",
                       "Range", "Trilu", "Transpose", "Flatten", "Shape", "Size",
                       "Cast", "CastLike", "Identity", "Equal", "Less", "Greater",
                       "LessOrEqual", "GreaterOrEqual", "Not", "And", "Or", "Mod",
                       "ArgMax", "ArgMin", "NonZero", "ScatterND", "ScatterElements",
                       "DepthToSpace", "SpaceToDepth"}


# ------------------------------------------------------------------ mapping

def map_node(importer, node, index: int) -> None:
    g = importer.graph
    op = node.op_type
    acts = [v for v in node.input if v in g.activations]
    outs = [v for v in node.output if v]
    constants = [v for v in node.input if v and v not in g.activations]
    inner = _subgraph_weights(importer, node)
    if inner:
        return importer.unknown(node, index, inner, acts)
    mapper = MAPPERS.get(op)
    if mapper is not None and mapper(importer, node, index, acts, outs) is not False:
        return
    weights = importer.new_sources(constants) if op not in ATTRIBUTE_INPUT_OPS else []
    if weights:
        if op in MERGES or op in ("Sub", "Div", "Concat", "Max", "Min", "Pow", "Where"):
            return _merge_with_tensors(importer, node, index, acts, outs, constants)
        return importer.unknown(node, index, weights, acts)
    if op in MERGES and len(acts) >= 2 and not constants:
        return _family(importer, node, index, MERGES[op], acts, outs)
    if op == "Concat" and len(acts) >= 2 and not constants:
        axis = importer.layout.concat_axis(acts[0], attributes(node).get("axis", 1))
        if axis is not None:
            return _family(importer, node, index, "concat", acts, outs,
                           **({} if axis == -1 else {"axis": axis}))
    _opaque(importer, node, index, acts, outs)


def _subgraph_weights(importer, node) -> list[str]:
    """Source keys for the floating-point initializers inside an If/Loop/Scan's graphs
    (never silently 0: such a node holds weights no family counts)."""
    import onnx
    from .onnx_read import check_initializer, is_float
    keys = []
    stack = [a for a in node.attribute
             if a.type in (onnx.AttributeProto.GRAPH, onnx.AttributeProto.GRAPHS)]
    graphs = []
    while stack:
        attribute = stack.pop()
        found = [attribute.g] if attribute.type == onnx.AttributeProto.GRAPH \
            else list(attribute.graphs)
        for graph in found:
            graphs.append(graph)
            for inner in graph.node:
                stack.extend(a for a in inner.attribute
                             if a.type in (onnx.AttributeProto.GRAPH,
                                           onnx.AttributeProto.GRAPHS))
        if len(graphs) > 10_000:
            break
    for number, graph in enumerate(graphs):
        for tensor in graph.initializer:
            values, _external = check_initializer(tensor, importer.source)
            if is_float(tensor.data_type) and values:
                key = f"{node.name or node.op_type}/{number}/{tensor.name}"
                importer.graph.source_size[key] = values
                importer.graph.source_origin[key] = key
                keys.append(key)
    return keys


def _family(importer, node, index, kind, acts, outs, weights=(), **fields):
    name = importer.node_name(node, index, weights, short=kind not in ("add", "multiply",
                                                                       "concat"))
    return importer.add(kind, name, acts[:1] if kind not in ("add", "multiply", "concat")
                        else acts, outputs=outs[:1], weights=list(weights), expect=outs[0],
                        **fields)


def _opaque(importer, node, index, acts, outs):
    """A shape-only op (no weights): one zero-parameter opaque entry per used output."""
    layout = importer.layout
    name = importer.node_name(node, index)
    used = [v for v in outs if v in importer.graph.consumers or is_graph_output(importer, v)]
    for position, value in enumerate(used or outs[:1]):
        fields: dict[str, Any] = {"op": f"ONNX {node.op_type}"}
        shape = layout.ours(value)
        if shape is not None:
            fields["output"] = shape
        importer.add("opaque", name if position == 0 else f"{name}.{position}", acts,
                     outputs=[value], **fields)


def _merge_with_tensors(importer, node, index, acts, outs, constants):
    """An element-wise op or concat with learned constants: a ``tensor`` entry each."""
    layout = importer.layout
    g = importer.graph
    operands: list[str] = []
    for value in node.input:
        if not value:
            continue
        if value in g.activations:
            operands.append(value)
            continue
        keys = importer.new_sources([value])
        if not keys:
            if g.sources(value):               # a tensor counted by an earlier layer
                owner = importer.claimed[next(iter(sorted(g.sources(value))))]
                importer.layer_of.setdefault(value, owner)
                operands.append(value)
            continue
        shape = layout.constant_like(value, acts[0]) if acts else None
        direct = len(keys) == 1 and shape is not None and \
            math.prod(s for s in shape if isinstance(s, int)) == g.source_size[keys[0]] \
            and all(isinstance(s, int) for s in shape)
        if direct:
            tensor = importer.add("tensor", _tensor_name(keys[0]), [], outputs=[value],
                                  weights=keys, shape=shape)
            importer.layer_of[value] = tensor
        else:
            made = [importer.add("tensor", _tensor_name(key), [], weights=[key],
                                 shape=_tensor_shape(g, key)) for key in keys]
            for key, layer in zip(keys, made):
                importer.layer_of[f"\0{key}"] = layer
            fields: dict[str, Any] = {"op": f"ONNX {_constant_op(g, value)}"}
            if shape is not None:
                fields["output"] = shape
            importer.add("opaque", f"{made[0]}.value", [f"\0{k}" for k in keys],
                         outputs=[value], **fields)
        operands.append(value)
    op = node.op_type
    kind = MERGES.get(op)
    if op == "Concat":
        axis = layout.concat_axis(acts[0], attributes(node).get("axis", 1)) if acts else None
        if axis is not None:
            return importer.add("concat", importer.node_name(node, index), operands,
                                outputs=outs[:1], **({} if axis == -1 else {"axis": axis}))
        kind = None
    if kind is None:
        fields = {"op": f"ONNX {op}"}
        shape = layout.ours(outs[0])
        if shape is not None:
            fields["output"] = shape
        return importer.add("opaque", importer.node_name(node, index), operands,
                            outputs=outs[:1], **fields)
    return importer.add(kind, importer.node_name(node, index), operands, outputs=outs[:1],
                        expect=outs[0])


def _tensor_name(key: str) -> str:
    return key if "/" not in key and "::" not in key else "tensor"


def _tensor_shape(g, key: str) -> list[int]:
    dims = [int(d) for d in g.initializers[g.source_origin[key]].dims] or [1]
    while len(dims) > 4:
        dims[:2] = [dims[0] * dims[1]]
    return dims


def _constant_op(g, value: str) -> str:
    index = g.producer.get(value)
    return g.nodes[index].op_type if index is not None else "Identity"
