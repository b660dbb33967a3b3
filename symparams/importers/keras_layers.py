"""Keras layer classes as spec entries: one rule per class, registered by class name.

A rule reads the layer's config (Keras' own field names: ``kernel_size``,
``strides``, ``use_bias`` …), adds the spec entries that count it through
:meth:`KerasImport.emit` and returns the name of the entry that gives its output.
Keras' sizes come with the batch axis in ``axis`` fields (``axis: 3`` is the
channels of an image) and as ``(height, width)`` in 2-D windows, which our
``conv2d``/``maxpool2d`` write ``[width, height]``; the rules turn them round.
A class without a rule that holds weights cannot be counted from the config:
see :func:`emit_layer`.
"""
from __future__ import annotations

from typing import Any, Callable

from sympy import Expr, Integer

from .keras_config import KerasImport, KerasLayer, written
from .keras_rules_more import MORE_RULES, SHAPE_ONLY, broadcast, opaque_shape_only, seen_output
from .keras_values import (Unsupported, _echo, activation_name, axis_of, channels_last, flag,
                           padding_word, pair, per_axis, rank_of, size, sizes, word)

Rule = Callable[[KerasImport, KerasLayer, list[str]], "str | list[str]"]
RULES: dict[str, Rule] = {}


def rule(*class_names: str):
    def register(function: Rule) -> Rule:
        for name in class_names:
            RULES[name] = function
        return function
    return register


# ------------------------------------------------------------------ convolutions

def _conv_fields(state, layer, dims: int) -> dict[str, Any]:
    channels_last(state, layer)
    kernel = sizes(state, layer, "kernel_size", dims)
    strides = sizes(state, layer, "strides", dims, 1)
    dilation = sizes(state, layer, "dilation_rate", dims, 1)
    shape = pair if dims == 2 else per_axis
    fields: dict[str, Any] = {"kernel": shape(kernel)}
    if strides != [1] * dims:
        fields["stride"] = shape(strides)
    fields["padding"] = padding_word(state, layer, causal=dims == 1)
    if dilation != [1] * dims:
        fields["dilation"] = shape(dilation)
    return fields


@rule("Conv1D", "Conv2D", "Conv3D", "Convolution1D", "Convolution2D", "Convolution3D")
def conv(state, layer, inputs):
    dims = int(layer.class_name[-2])
    fields = _conv_fields(state, layer, dims)
    groups = size(state, layer, "groups", 1)
    if groups != 1:
        fields["groups"] = groups
    if not flag(state, layer, "use_bias", True):
        fields["bias"] = False
    return state.emit(layer, f"conv{dims}d", inputs[:1],
                      filters=size(state, layer, "filters"), **fields)


@rule("DepthwiseConv2D", "DepthwiseConv1D")
def depthwise(state, layer, inputs):
    dims = int(layer.class_name[-2])
    fields = _conv_fields(state, layer, dims)
    multiplier = size(state, layer, "depth_multiplier", 1)
    bias = flag(state, layer, "use_bias", True)
    if dims == 1:   # no depthwise_conv1d family: a convolution with one group per channel
        channels = state.shapes[inputs[0]][-1]
        return state.emit(layer, "conv1d", inputs[:1], filters=written(channels * multiplier),
                          groups=written(channels), **fields, **({} if bias else {"bias": False}))
    if multiplier != 1:
        fields["depth_multiplier"] = multiplier
    return state.emit(layer, "depthwise_conv2d", inputs[:1], **fields,
                      **({} if bias else {"bias": False}))


@rule("SeparableConv2D", "SeparableConvolution2D", "SeparableConv1D")
def separable(state, layer, inputs):
    dims = int(layer.class_name[-2])
    fields = _conv_fields(state, layer, dims)
    multiplier = size(state, layer, "depth_multiplier", 1)
    filters = size(state, layer, "filters")
    bias = flag(state, layer, "use_bias", True)
    if dims == 1:   # depthwise (one group per channel, no bias), then pointwise
        channels = state.shapes[inputs[0]][-1]
        depth = state.emit(layer, "conv1d", inputs[:1], name=f"{layer.name}.depthwise",
                           filters=written(channels * multiplier), groups=written(channels),
                           bias=False, **fields)
        return state.emit(layer, "conv1d", [depth], name=layer.name, kernel=1, filters=filters,
                          **({} if bias else {"bias": False}))
    if multiplier != 1:
        fields["depth_multiplier"] = multiplier
    return state.emit(layer, "separable_conv2d", inputs[:1], filters=filters, **fields,
                      **({} if bias else {"bias": False}))


@rule("Conv1DTranspose", "Conv2DTranspose", "Conv3DTranspose", "Convolution2DTranspose")
def transpose(state, layer, inputs):
    dims = int(layer.class_name[-11]) if layer.class_name[-11].isdigit() else 2
    channels_last(state, layer)
    kernel = sizes(state, layer, "kernel_size", dims)
    strides = sizes(state, layer, "strides", dims, 1)
    dilation = sizes(state, layer, "dilation_rate", dims, 1)
    padding = word(state, layer, "padding", ("valid", "same"), "valid")
    given = layer.config.get("output_padding")
    output_padding = None if given is None else sizes(state, layer, "output_padding", dims,
                                                      minimum=0)
    pads, extras = [], []
    for axis in range(dims):
        pad, extra = _transpose_padding(kernel[axis], strides[axis], dilation[axis], padding,
                                        None if output_padding is None else output_padding[axis])
        if pad is None:
            raise Unsupported(f"padding {padding} with kernel {kernel[axis]} and stride "
                              f"{strides[axis]}: no symmetric padding gives Keras' output size")
        pads.append(pad)
        extras.append(extra)
    shape = pair if dims == 2 else per_axis
    fields: dict[str, Any] = {"kernel": shape(kernel), "filters": size(state, layer, "filters")}
    for key, values, default in (("stride", strides, 1), ("padding", pads, 0),
                                 ("output_padding", extras, 0), ("dilation", dilation, 1)):
        if values != [default] * dims:
            fields[key] = shape(values)
    if not flag(state, layer, "use_bias", True):
        fields["bias"] = False
    return state.emit(layer, f"conv{dims}d_transpose", inputs[:1], **fields)


def _transpose_padding(kernel, stride, dilation, padding, output_padding):
    """(padding, output_padding) in PyTorch's rule, (L - 1) S - 2 P + D (k - 1) + O + 1,
    that give Keras' output length; (None, None) when none does."""
    span = kernel + (kernel - 1) * (dilation - 1)
    if output_padding is not None:       # Keras: (L - 1) S + span - 2 pad + O
        pad = span // 2 if padding == "same" else 0
        return pad, output_padding
    # Keras: L S + c, with c = max(span - S, 0) (valid) or 0 (same)
    c = max(span - stride, 0) if padding == "valid" else 0
    r = c - span + stride                # O - 2 P must equal r
    pad = 0 if r >= 0 else (-r + 1) // 2
    extra = r + 2 * pad
    return (pad, extra) if 0 <= extra < max(stride, dilation) else (None, None)


# ------------------------------------------------------------------ dense, norms

@rule("Dense")
def dense(state, layer, inputs):
    units = size(state, layer, "units")
    fields: dict[str, Any] = {}
    if not flag(state, layer, "use_bias", True):
        fields["bias"] = False
    rank = rank_of(state, inputs[0])
    if rank >= 3:
        # Keras' Dense acts on the last axis at every position: a 1 × 1 convolution.
        return state.emit(layer, "conv2d" if rank == 3 else "conv3d", inputs[:1], kernel=1,
                          filters=units, **fields)
    function = activation_name(layer.config.get("activation"))
    if function not in (None, "linear"):
        fields["activation"] = function
    return state.emit(layer, "dense", inputs[:1], units=units, **fields)


def _norm_switches(state, layer) -> dict[str, bool]:
    fields = {}
    for key in ("center", "scale"):
        if not flag(state, layer, key, True):
            fields[key] = False
    return fields


def _last_axis_only(state, layer, inputs, key="axis"):
    rank = rank_of(state, inputs[0])
    value = layer.config.get(key, -1)
    if isinstance(value, list) and len(value) != 1:
        raise Unsupported(f"normalisation over the axes {_echo(value)}: symparams normalises "
                          f"the last axis (channels)")
    if axis_of(state, layer, key, rank) != rank - 1:
        raise Unsupported(f"axis {_echo(value)}: symparams normalises the last axis (channels)")


@rule("BatchNormalization")
def batchnorm(state, layer, inputs):
    _last_axis_only(state, layer, inputs)
    if layer.config.get("renorm"):
        raise Unsupported("renorm: true keeps further moving statistics")
    return state.emit(layer, "batchnorm", inputs[:1], **_norm_switches(state, layer))


@rule("LayerNormalization")
def layernorm(state, layer, inputs):
    _last_axis_only(state, layer, inputs)
    fields = _norm_switches(state, layer)
    if layer.config.get("rms_scaling"):
        fields["center"] = False     # RMS scaling learns γ only
    return state.emit(layer, "layernorm", inputs[:1], **fields)


@rule("GroupNormalization")
def groupnorm(state, layer, inputs):
    _last_axis_only(state, layer, inputs)
    return state.emit(layer, "groupnorm", inputs[:1], groups=size(state, layer, "groups", 32),
                      **_norm_switches(state, layer))


# ------------------------------------------------------------------ pooling, shapes

@rule("MaxPooling1D", "MaxPooling2D", "MaxPooling3D", "AveragePooling1D", "AveragePooling2D",
      "AveragePooling3D", "MaxPool1D", "MaxPool2D", "MaxPool3D", "AvgPool1D", "AvgPool2D",
      "AvgPool3D")
def pooling(state, layer, inputs):
    channels_last(state, layer)
    dims = int(layer.class_name[-2])
    kind = ("maxpool" if layer.class_name.startswith("Max") else "avgpool") + f"{dims}d"
    window = sizes(state, layer, "pool_size", dims, 2)
    strides = layer.config.get("strides")
    stride = window if strides is None else sizes(state, layer, "strides", dims)
    shape = pair if dims == 2 else per_axis
    fields = {"kernel": shape(window), "padding": padding_word(state, layer)}
    if stride != window:
        fields["stride"] = shape(stride)
    return state.emit(layer, kind, inputs[:1], **fields)


@rule("GlobalAveragePooling1D", "GlobalAveragePooling2D", "GlobalAveragePooling3D",
      "GlobalMaxPooling1D", "GlobalMaxPooling2D", "GlobalMaxPooling3D", "GlobalAvgPool1D",
      "GlobalAvgPool2D", "GlobalAvgPool3D", "GlobalMaxPool1D", "GlobalMaxPool2D",
      "GlobalMaxPool3D")
def global_pooling(state, layer, inputs):
    channels_last(state, layer)
    kind = "global_max_pool" if "Max" in layer.class_name else "global_avg_pool"
    fields = {"keepdims": True} if flag(state, layer, "keepdims", False) else {}
    return state.emit(layer, kind, inputs[:1], **fields)


@rule("ZeroPadding1D", "ZeroPadding2D", "ZeroPadding3D")
def zero_padding(state, layer, inputs):
    channels_last(state, layer)
    raw = layer.config.get("padding", 1)
    return state.emit(layer, "zero_padding", inputs[:1], padding=raw)


@rule("UpSampling1D", "UpSampling2D", "UpSampling3D")
def upsampling(state, layer, inputs):
    channels_last(state, layer)
    dims = int(layer.class_name[-2])
    scale = sizes(state, layer, "size", dims, 2)
    return state.emit(layer, "upsample", inputs[:1], scale=per_axis(scale))


@rule("Flatten")
def flatten(state, layer, inputs):
    return state.emit(layer, "flatten", inputs[:1])


@rule("Reshape")
def reshape(state, layer, inputs):
    target = layer.config.get("target_shape")
    if not isinstance(target, list) or not target or not all(
            isinstance(v, int) and not isinstance(v, bool) and (v == -1 or 1 <= v <= 10 ** 9)
            for v in target):
        raise state.error(layer, f"expected a shape of whole numbers (one may be -1), found "
                                 f"{_echo(target)}", "target_shape")
    return state.emit(layer, "reshape", inputs[:1], target=list(target))


@rule("Permute")
def permute(state, layer, inputs):
    dims = layer.config.get("dims")
    if not isinstance(dims, list) or not all(isinstance(v, int) and not isinstance(v, bool)
                                             for v in dims):
        raise state.error(layer, f"expected the axes in their new order, found {_echo(dims)}",
                          "dims")
    return state.emit(layer, "permute", inputs[:1], dims=list(dims))


@rule("Dropout", "SpatialDropout1D", "SpatialDropout2D", "SpatialDropout3D", "AlphaDropout")
def dropout(state, layer, inputs):
    rate = layer.config.get("rate", 0.5)
    if isinstance(rate, bool) or not isinstance(rate, (int, float)) or not 0 <= rate < 1:
        raise state.error(layer, f"expected a rate from 0 to 1, found {_echo(rate)}", "rate")
    return state.emit(layer, "dropout", inputs[:1], rate=rate)


# ------------------------------------------------------------------ activations, merges

@rule("Activation")
def activation(state, layer, inputs):
    raw = layer.config.get("activation")
    function = activation_name(raw)
    if function is None:
        return opaque_shape_only(state, layer, inputs, f"keras Activation({_echo(raw)})")
    return state.emit(layer, "activation", inputs[:1], function=function)


@rule("ReLU")
def relu(state, layer, inputs):
    top = layer.config.get("max_value")
    slope = layer.config.get("negative_slope", 0) or 0
    function = "leaky_relu" if slope else "relu6" if top == 6 else "relu"
    if top not in (None, 6) or layer.config.get("threshold", 0):
        return opaque_shape_only(state, layer, inputs, "keras ReLU")
    return state.emit(layer, "activation", inputs[:1], function=function)


@rule("Softmax", "LeakyReLU", "ELU")
def named_activation(state, layer, inputs):
    function = {"Softmax": "softmax", "LeakyReLU": "leaky_relu", "ELU": "elu"}[layer.class_name]
    return state.emit(layer, "activation", inputs[:1], function=function)


@rule("Add", "Multiply")
def add(state, layer, inputs):
    return state.emit(layer, layer.class_name.lower(), inputs)


@rule("Concatenate")
def concatenate(state, layer, inputs):
    rank = rank_of(state, inputs[0])
    axis = axis_of(state, layer, "axis", rank)
    return state.emit(layer, "concat", inputs, **({} if axis == rank - 1 else {"axis": axis}))


@rule("PReLU")
def prelu(state, layer, inputs):
    """PReLU learns a slope per value of its input (axes in ``shared_axes`` share one):
    a tensor of that shape, multiplied in."""
    shape = list(state.shapes[inputs[0]])
    shared = layer.config.get("shared_axes") or []
    for axis in shared if isinstance(shared, list) else [shared]:
        if isinstance(axis, bool) or not isinstance(axis, int) or not 1 <= axis <= len(shape):
            raise state.error(layer, f"expected axes from 1 to {len(shape)}, found "
                                     f"{_echo(shared)}", "shared_axes")
        shape[axis - 1] = Integer(1)
    alpha = state.emit(layer, "tensor", [], name=f"{layer.name}.alpha",
                       shape=[written(v) for v in shape], out_shape=tuple(shape))
    return state.emit(layer, "multiply", [inputs[0], alpha],
                      out_shape=broadcast(state, layer, [state.shapes[inputs[0]], tuple(shape)]))


# ------------------------------------------------------------------ dispatch

RULES.update(MORE_RULES)


def emit_layer(state: KerasImport, layer: KerasLayer, inputs: list[str]) -> "str | list[str]":
    """The entries of one call of ``layer``.  A later call of a shared layer reuses the
    first call's weights: it is written as a shape-only entry (counted 0)."""
    rule_for = RULES.get(layer.class_name)
    if layer.class_name in SHAPE_ONLY:
        return SHAPE_ONLY[layer.class_name](state, layer, inputs)
    if layer.call:
        shape_of = None
        if rule_for is not None:
            try:
                shape_of = _first_call_shape(state, layer, inputs, rule_for)
            except Unsupported:
                pass
        shape_of = shape_of or opaque_output(state, layer, inputs)
        return state.emit(layer, "opaque", inputs, name=layer.name,
                          op=f"keras {layer.class_name} (shared: counted at its first call)",
                          out_shape=shape_of, output=[written(v) for v in shape_of])
    if rule_for is not None:
        try:
            return rule_for(state, layer, inputs)
        except Unsupported as exc:
            return unknown(state, layer, inputs, str(exc))
    return unknown(state, layer, inputs, None)


def _first_call_shape(state, layer, inputs, rule_for) -> tuple[Expr, ...]:
    """The output shape of a shared layer's later call: the rule run on a scratch copy."""
    import copy
    scratch = copy.copy(state)
    scratch.builder = copy.deepcopy(state.builder)
    scratch.shapes = dict(state.shapes)
    scratch.entries = {}
    name = rule_for(scratch, layer, inputs)
    return scratch.shapes[name if isinstance(name, str) else name[0]]


def unknown(state: KerasImport, layer: KerasLayer, inputs: list[str], why: str | None):
    """A class (or form) no family counts.  Its count is in model.weights.h5, not in the
    config: with the weights, a layer without any is shape-only, and one with some is an
    error unless ``allow_unknown`` makes it an opaque layer of that count."""
    what = f"class {layer.class_name}" + (f" with {why}" if why else "")
    weights = state.loaded.weights
    stored = None
    if weights is not None and layer.group is not None:
        stored = weights.by_group.get(layer.group, 0)
    if stored == 0:
        return opaque_shape_only(state, layer, inputs, f"keras {layer.class_name}")
    if stored is None:
        raise state.error(layer, f"{what} has no family, and its parameter count is not in "
                                 f"the config: save the model as .keras with its weights (and "
                                 f"install h5py) to count it with --allow-unknown")
    if not state.allow_unknown:
        raise state.error(layer, f"{what} has no family and holds {stored:,} parameters "
                                 f"(model.weights.h5); --allow-unknown counts it as an opaque "
                                 f"layer")
    shape = opaque_output(state, layer, inputs)
    return state.emit(layer, "opaque", inputs, op=f"keras {layer.class_name}", params=stored,
                      out_shape=shape, output=[written(v) for v in shape])


def opaque_output(state, layer, inputs) -> tuple[Expr, ...]:
    return seen_output(state, layer) or state.shapes[inputs[0]]


__all__ = ["RULES", "emit_layer", "rule", "Unsupported"]
