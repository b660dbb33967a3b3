"""ONNX ops that have a symparams family: convolutions, dense, normalisation,
recurrent layers, embeddings, activations, pooling, flatten, dropout.

Each mapper adds the entries that count one node and returns the name of the
last, or False when the node is not of the form its family counts (then
onnx_ops.py treats it as a shape op or an unknown op with weights).
"""
from __future__ import annotations

import math
from typing import Any

from .onnx_batch import attributes
from .onnx_shared import counted_weight, shared_dense

ACTIVATION_FUNCTIONS = {"Relu": "relu", "Sigmoid": "sigmoid", "Tanh": "tanh",
                        "Softmax": "softmax", "LogSoftmax": "log_softmax", "Gelu": "gelu",
                        "HardSwish": "hard_swish", "HardSigmoid": "hard_sigmoid",
                        "LeakyRelu": "leaky_relu", "Elu": "elu", "Selu": "selu", "Celu": "celu",
                        "Softplus": "softplus", "Softsign": "softsign", "Mish": "mish",
                        "Swish": "swish"}


def is_graph_output(importer, value):
    return any(v.name == value for v in importer.graph.model.graph.output)


def _weight_shape(importer, value: str, depth: int = 0) -> list[int] | None:
    dims = importer.layout.dims.get(value)
    if depth > 64:
        return None
    if dims and all(isinstance(d, int) for d in dims):
        return dims
    g = importer.graph
    index = g.producer.get(value)
    if index is not None:
        node = g.nodes[index]
        if node.op_type == "Transpose":
            inner = _weight_shape(importer, node.input[0], depth + 1)
            perm = attributes(node).get("perm") or list(reversed(range(len(inner or []))))
            return [inner[p] for p in perm] if inner else None
        if node.op_type == "Identity":
            return _weight_shape(importer, node.input[0], depth + 1)
    return None


def _pair(values: list[int]):
    """ONNX's (height, width) as our (width, height) pair, or one number when equal."""
    if len(values) == 2:
        height, width = values
        return height if height == width else [width, height]
    return values[0] if len(set(values)) == 1 else list(values)


def _window(a: dict, dims: int, with_padding=True):
    """kernel/stride/padding/dilation fields of a conv or pool, or None when the padding
    is asymmetric (then a zero_padding entry goes first)."""
    fields: dict[str, Any] = {}
    strides = a.get("strides") or [1] * dims
    dilations = a.get("dilations") or [1] * dims
    auto = a.get("auto_pad", b"NOTSET")
    auto = auto.decode() if isinstance(auto, bytes) else str(auto)
    pads = list(a.get("pads") or [0] * (2 * dims))
    before, after = pads[:dims], pads[dims:]
    if auto in ("SAME_UPPER", "SAME_LOWER"):
        padding: Any = "same"
        extra = None
    elif auto == "VALID":
        padding, extra = 0, None
    elif before == after:
        padding, extra = (_pair(before) if dims == 2 else
                          before[0] if len(set(before)) == 1 else before), None
    else:
        padding, extra = 0, [[b, e] for b, e in zip(before, after)]
    if dims == 2:
        fields["stride"] = _pair(list(strides))
        fields["dilation"] = _pair(list(dilations))
    else:
        fields["stride"] = strides[0] if len(set(strides)) == 1 else list(strides)
        fields["dilation"] = dilations[0] if len(set(dilations)) == 1 else list(dilations)
    if with_padding:
        fields["padding"] = padding
    return fields, extra


def _conv(importer, node, index, acts, outs, transposed=False):
    if len(acts) != 1 or node.input[0] != acts[0] or len(node.input) < 2:
        return False
    w = _weight_shape(importer, node.input[1])
    if not w or len(w) < 3:
        return False
    a = attributes(node)
    group = a.get("group", 1)
    dims = len(w) - 2
    kernel = list(a.get("kernel_shape") or w[2:])
    bias = len(node.input) > 2 and bool(node.input[2])
    weights = importer.new_sources(node.input[1:])
    name = importer.node_name(node, index, weights)
    window, extra = _window(a, dims)
    first = acts
    if extra is not None:
        pad = importer.add("zero_padding", f"{name}.pad", acts, padding=extra)
        importer.layer_of[f"\0{pad}"] = pad
        first = [f"\0{pad}"]
    kernel_field = _pair(kernel) if dims == 2 else (kernel[0] if len(set(kernel)) == 1
                                                    else kernel)
    suffix = {1: "conv1d", 2: "conv2d", 3: "conv3d"}.get(dims)
    if suffix is None:
        return False
    if transposed:
        if group != 1:
            return False    # no family for grouped transposed convolutions: unknown
        output_padding = a.get("output_padding") or [0] * dims
        fields = {"kernel": kernel_field, "filters": w[1] * group, **window,
                  "bias": bias}
        if any(output_padding):
            fields["output_padding"] = (_pair(output_padding) if dims == 2
                                        else list(output_padding))
        return importer.add(f"{suffix}_transpose", name, first, outputs=outs[:1],
                            weights=weights, **fields)
    filters, per_group = w[0], w[1]
    if dims == 2 and group > 1 and per_group == 1 and filters % group == 0:
        return importer.add("depthwise_conv2d", name, first, outputs=outs[:1], weights=weights,
                            kernel=kernel_field, depth_multiplier=filters // group, **window,
                            bias=bias)
    fields = {"kernel": kernel_field, "filters": filters, **window, "bias": bias}
    if group != 1:
        fields["groups"] = group
    return importer.add(suffix, name, first, outputs=outs[:1], weights=weights, **fields)


def _conv_transpose(importer, node, index, acts, outs):
    return _conv(importer, node, index, acts, outs, transposed=True)


def _dense(importer, node, index, acts, outs):
    """Gemm, or MatMul by a weight (with the Add of its bias folded in)."""
    g = importer.graph
    a = attributes(node)
    if node.op_type == "Gemm":
        if len(acts) != 1 or node.input[0] != acts[0] or a.get("transA", 0) \
                or node.input[1] in g.activations:
            return False
        w = _weight_shape(importer, node.input[1])
        if not w or len(w) != 2:
            return False
        units = w[0] if a.get("transB", 0) else w[1]
        bias_values = [node.input[2]] if len(node.input) > 2 and node.input[2] else []
        owner = counted_weight(importer, node.input[1])
        if owner is not None:
            return shared_dense(importer, node, index, acts, outs[:1], owner, units,
                                 bias_values)
        weights = importer.new_sources([node.input[1], *bias_values])
        name = importer.node_name(node, index, weights)
        if importer.layout.ours(acts[0]) is None:
            # Gemm's input is rows of K values (the weight says K); when the rows are
            # not known (GPT-2's Conv1D after attention whose mask has a run-time batch
            # size), the layer above would hand on a wrong shape: say it here.
            rows = w[1] if a.get("transB", 0) else w[0]
            flat = importer.add("opaque", f"{name}.rows", acts, op="ONNX Gemm rows",
                                output=[rows])
            importer.layer_of[f"\0{flat}"] = flat
            acts = [f"\0{flat}"]
        return importer.add("dense", name, acts, outputs=outs[:1], weights=weights,
                            units=units, bias=bool(bias_values))
    if len(acts) != 1 or node.input[0] != acts[0]:
        return False                         # activation × activation: opaque below
    w = _weight_shape(importer, node.input[1])
    if not w or len(w) != 2 or not importer.graph.sources(node.input[1]):
        return False
    units = w[1]
    weights = importer.new_sources([node.input[1]])
    output = outs[0]
    bias_add = _bias_add(importer, output, units)
    if bias_add is not None:
        add_index, add_node, bias = bias_add
        weights += [k for k in importer.new_sources([bias]) if k not in weights]
        importer.skip.add(add_index)
        outputs = [output, add_node.output[0]]
    else:
        outputs = [output]
    owner = counted_weight(importer, node.input[1])
    if owner is not None:
        return shared_dense(importer, node, index, acts, outputs, owner, units,
                             [bias] if bias_add is not None else [])
    name = importer.node_name(node, index, weights)
    shape = importer.layout.ours(acts[0])
    if shape is not None and len(shape) <= 2:
        return importer.add("dense", name, acts, outputs=outputs, weights=weights, units=units,
                            bias=bias_add is not None)
    # MatMul acts on the last axis at every position of [H, W, C] (ConvNeXt, Swin), while
    # our dense on three axes reads them all: positions as a sequence, then back.  When
    # the positions are not known (sizes computed at run time), the weight's rows say
    # how many values each position has.
    onnx_dims = importer.layout.dims.get(acts[0]) or [None]
    if shape is not None and all(isinstance(s, int) for s in shape):
        flat_shape = [math.prod(shape[:-1]), shape[-1]]
    else:
        flat_shape = [onnx_dims[-1] if isinstance(onnx_dims[-1], int) else w[0]]
    flat = importer.add("opaque", f"{name}.positions", acts, op="ONNX MatMul positions",
                        output=flat_shape)
    importer.layer_of[f"\0{flat}"] = flat
    dense = importer.add("dense", name, [f"\0{flat}"], weights=weights, units=units,
                         bias=bias_add is not None)
    importer.layer_of[f"\0{dense}"] = dense
    fields = {"output": importer.layout.ours(outputs[-1])} \
        if importer.layout.ours(outputs[-1]) else {}
    return importer.add("opaque", f"{name}.unflatten", [f"\0{dense}"], outputs=outputs,
                        op="ONNX MatMul positions", **fields)


def _bias_add(importer, value: str, units: int):
    """The Add right after a MatMul that adds a learned bias of ``units`` values."""
    g = importer.graph
    users = g.consumers.get(value, [])
    if len(users) != 1 or is_graph_output(importer, value):
        return None
    node = g.nodes[users[0]]
    if node.op_type != "Add" or len(node.input) != 2:
        return None
    other = node.input[1] if node.input[0] == value else node.input[0]
    if other in g.activations or not g.sources(other):
        return None
    dims = importer.layout.dims.get(other) or []
    if [d for d in dims if d != 1] != [units]:
        return None
    return users[0], node, other


def _norm(kind, **fields):
    def mapper(importer, node, index, acts, outs):
        if len(acts) != 1 or node.input[0] != acts[0]:
            return False
        weights = importer.new_sources(node.input[1:])
        extra = dict(fields)
        if node.op_type == "LayerNormalization":
            axis = attributes(node).get("axis", -1)
            rank = importer.layout.rank(acts[0])
            if rank is not None and axis % rank != rank - 1:
                return False                      # normalised over more than the last axis
            if len(node.input) < 3 or not node.input[2]:
                extra["center"] = False
        if node.op_type == "GroupNormalization":
            extra["groups"] = attributes(node).get("num_groups", 1)
        return importer.add(kind, importer.node_name(node, index, weights), acts,
                            outputs=outs[:1], weights=weights, expect=outs[0], **extra)
    return mapper


def _recurrent(importer, node, index, acts, outs):
    if len(acts) != 1 or node.input[0] != acts[0]:
        return False
    a = attributes(node)
    direction = a.get("direction", b"forward")
    direction = direction.decode() if isinstance(direction, bytes) else str(direction)
    if direction == "reverse":
        direction = "forward"        # one direction all the same: the same count
    hidden = a.get("hidden_size")
    if hidden is None:
        return False
    weight_inputs = [v for v in node.input[1:4] if v]
    weights = importer.new_sources(weight_inputs)
    bias = len(node.input) > 3 and bool(node.input[3])
    name = importer.node_name(node, index, weights)
    fields: dict[str, Any] = {"hidden_size": hidden,
                              "bidirectional": direction == "bidirectional", "bias": bias}
    layer = importer.add(node.op_type.lower(), name, acts, outputs=outs[:1], weights=weights,
                         **fields)
    for position, value in enumerate(node.output[1:], start=1):
        if value and value in importer.graph.consumers:
            shape = importer.layout.ours(value)
            extra = {"output": shape} if shape is not None else {}
            importer.layer_of[f"\0{layer}"] = layer
            importer.add("opaque", f"{layer}.state{position}", [f"\0{layer}"], outputs=[value],
                         op=f"ONNX {node.op_type} state", **extra)
    return layer


def _embedding(importer, node, index, acts, outs):
    g = importer.graph
    if len(node.input) < 2 or node.input[0] in g.activations or node.input[1] not in acts:
        return False
    if attributes(node).get("axis", 0) != 0 or not g.sources(node.input[0]):
        return False
    w = _weight_shape(importer, node.input[0])
    if not w or len(w) != 2:
        return False
    weights = importer.new_sources([node.input[0]])
    layer = importer.add("embedding", importer.node_name(node, index, weights), acts,
                         outputs=outs[:1], weights=weights, vocab_size=w[0], embed_dim=w[1])
    importer.tables[layer] = list(w)
    return layer


def _activation(importer, node, index, acts, outs):
    if len(acts) != 1:
        return False
    function = ACTIVATION_FUNCTIONS.get(node.op_type)
    if node.op_type == "Clip":
        a = attributes(node)
        low = a.get("min")
        high = a.get("max")
        if low is None and len(node.input) > 1 and node.input[1]:
            values = importer.graph.constant_values(node.input[1])
            low = values[0] if values else None
        if high is None and len(node.input) > 2 and node.input[2]:
            values = importer.graph.constant_values(node.input[2])
            high = values[0] if values else None
        function = {(0.0, 6.0): "relu6", (-1.0, 1.0): "hard_tanh"}.get(
            (None if low is None else float(low), None if high is None else float(high)))
        if function is None and low is not None and float(low) == 0.0 and high is None:
            function = "relu"
    if function is None:
        return False
    return importer.add("activation", importer.node_name(node, index, short=True), acts, outputs=outs[:1],
                        expect=outs[0], function=function)


def _simple(kind):
    def mapper(importer, node, index, acts, outs):
        if len(acts) != 1 or node.input[0] != acts[0]:
            return False
        fields: dict[str, Any] = {}
        if node.op_type in ("GlobalAveragePool", "GlobalMaxPool"):
            fields["keepdims"] = True
        return importer.add(kind, importer.node_name(node, index, short=True), acts,
                            outputs=outs[:1], expect=outs[0], **fields)
    return mapper


def _pool(importer, node, index, acts, outs):
    if len(acts) != 1 or node.input[0] != acts[0]:
        return False
    a = attributes(node)
    kernel = list(a.get("kernel_shape") or [])
    dims = len(kernel)
    if dims not in (1, 2, 3) or a.get("ceil_mode", 0) or any(d != 1 for d in
                                                            a.get("dilations") or []):
        return False
    window, extra = _window(a, dims)
    window.pop("dilation", None)
    if extra is not None:
        return False
    kind = ("maxpool" if node.op_type == "MaxPool" else "avgpool") + f"{dims}d"
    kernel_field = _pair(kernel) if dims == 2 else (kernel[0] if len(set(kernel)) == 1
                                                    else kernel)
    return importer.add(kind, importer.node_name(node, index, short=True), acts,
                        outputs=outs[:1], expect=outs[0], kernel=kernel_field, **window)


def _flatten(importer, node, index, acts, outs):
    if len(acts) != 1 or node.input[0] != acts[0]:
        return False
    layout = importer.layout
    out = layout.dims.get(outs[0]) or []
    if layout.batch.get(acts[0]) != 0 or len(out) != 2 or layout.batch.get(outs[0]) != 0:
        return False
    if node.op_type == "Flatten" and attributes(node).get("axis", 1) != 1:
        return False
    return importer.add("flatten", importer.node_name(node, index, short=True), acts, outputs=outs[:1],
                        expect=outs[0])


def _dropout(importer, node, index, acts, outs):
    if len(acts) != 1 or node.input[0] != acts[0]:
        return False
    kind = "dropout" if node.op_type == "Dropout" else "identity"
    return importer.add(kind, importer.node_name(node, index, short=True), acts,
                        outputs=outs[:1], expect=outs[0])


MAPPERS = {"Conv": _conv, "ConvTranspose": _conv_transpose, "Gemm": _dense,
           "MatMul": _dense, "BatchNormalization": _norm("batchnorm"),
           "LayerNormalization": _norm("layernorm"),
           "InstanceNormalization": _norm("instancenorm", affine=True),
           "GroupNormalization": _norm("groupnorm"),
           "LSTM": _recurrent, "GRU": _recurrent, "RNN": _recurrent, "Gather": _embedding,
           "MaxPool": _pool, "AveragePool": _pool, "GlobalAveragePool": _simple("global_avg_pool"),
           "GlobalMaxPool": _simple("global_max_pool"), "Flatten": _flatten,
           "Reshape": _flatten, "Dropout": _dropout, "Identity": _dropout,
           **{op: _activation for op in (*ACTIVATION_FUNCTIONS, "Clip")}}
