"""PyTorch module rules for convolutions, pooling, normalisation, dense layers,
activations and shape modules: see torch_map.py for the contract.

Each rule reads the module's own configuration (``kernel_size``, ``groups`` …)
and writes the symparams entry with the family's real fields.  Shapes and
layout are the walker's business: a rule never converts a shape, except where
a field *is* a shape (adaptive pooling's output size, read from the call's
output shape in PyTorch's channels-first order).

PyTorch writes 2-D sizes as (height, width); conv2d and the 2-D poolings take
(width, height) pairs (see layers/fields.Pair), so :func:`_wh` swaps them. The
1-D and 3-D families take one size per spatial axis in the input's order, as
PyTorch does.

A rule raises ``NotImplementedError`` (with the reason) for a configuration no
family counts exactly (a grouped transposed convolution, batch normalisation
without running statistics): the walker then treats the module as one without
a rule (an error, or an ``opaque`` layer under ``allow_unknown``; a module
without parameters becomes a zero-parameter ``opaque`` layer).
"""
from __future__ import annotations

from typing import Any

from .torch_map import ModuleCall, module_rule

# torch.nn activation classes and the ``function`` word of our activation family.
ACTIVATION_WORDS = {
    "ReLU": "relu", "ReLU6": "relu6", "LeakyReLU": "leaky_relu", "ELU": "elu", "SELU": "selu",
    "CELU": "celu", "GELU": "gelu", "Sigmoid": "sigmoid", "Hardsigmoid": "hard_sigmoid",
    "LogSigmoid": "log_sigmoid", "Tanh": "tanh", "Hardtanh": "hard_tanh",
    "Softmax": "softmax", "Softmax2d": "softmax", "LogSoftmax": "log_softmax",
    "Softmin": "softmin", "Softplus": "softplus", "Softsign": "softsign", "SiLU": "silu",
    "Hardswish": "hard_swish", "Mish": "mish", "Tanhshrink": "tanhshrink",
}


def _tuple(value: Any, count: int) -> tuple:
    return tuple(value) if isinstance(value, (tuple, list)) else (value,) * count


def _wh(value: Any) -> Any:
    """PyTorch's (height, width) as our [width, height] pair (one number stays one)."""
    h, w = _tuple(value, 2)
    return int(h) if h == w else [int(w), int(h)]


def _axes(value: Any, dims: int) -> Any:
    """One size per spatial axis in the input's order (one number when all agree)."""
    sizes = [int(v) for v in _tuple(value, dims)]
    return sizes[0] if len(set(sizes)) == 1 else sizes


def _sizes(value: Any, dims: int) -> Any:
    return _wh(value) if dims == 2 else _axes(value, dims)


def _padding(module, dims: int) -> Any:
    if isinstance(module.padding, str):   # 'same' / 'valid' (PyTorch's 'same' needs stride 1)
        return "same" if module.padding == "same" else 0
    return _sizes(module.padding, dims)


# ------------------------------------------------------------------ convolutions

_CONV_KINDS = {1: "conv1d", 2: "conv2d", 3: "conv3d"}


@module_rule("Conv1d", "Conv2d", "Conv3d")
def conv(call: ModuleCall) -> list[dict[str, Any]]:
    m = call.module
    dims = len(m.kernel_size)
    entry = {"type": _CONV_KINDS[dims], "kernel": _sizes(m.kernel_size, dims),
             "filters": int(m.out_channels)}
    for field, value, default in (("stride", m.stride, 1), ("dilation", m.dilation, 1)):
        if any(v != default for v in _tuple(value, dims)):
            entry[field] = _sizes(value, dims)
    padding = _padding(m, dims)
    if padding != 0:
        entry["padding"] = padding
    if m.groups != 1:
        entry["groups"] = int(m.groups)
    if m.bias is None:
        entry["bias"] = False
    return [entry]


@module_rule("ConvTranspose1d", "ConvTranspose2d", "ConvTranspose3d")
def conv_transpose(call: ModuleCall) -> list[dict[str, Any]]:
    m = call.module
    dims = len(m.kernel_size)
    if m.groups != 1:
        raise NotImplementedError("a grouped transposed convolution (groups "
                                  f"{m.groups}) has no family")
    kind = {1: "conv1d_transpose", 2: "conv2d_transpose", 3: "conv3d_transpose"}[dims]
    entry = {"type": kind, "kernel": _sizes(m.kernel_size, dims), "filters": int(m.out_channels)}
    for field, value, default in (("stride", m.stride, 1), ("padding", m.padding, 0),
                                  ("output_padding", m.output_padding, 0),
                                  ("dilation", m.dilation, 1)):
        if any(v != default for v in _tuple(value, dims)):
            entry[field] = _sizes(value, dims)
    if m.bias is None:
        entry["bias"] = False
    return [entry]


@module_rule("Linear")
def linear(call: ModuleCall) -> list[dict[str, Any]]:
    entry = {"type": "dense", "units": int(call.module.out_features)}
    if call.module.bias is None:
        entry["bias"] = False
    return [entry]


# ---------------------------------------------------------------- normalisation

@module_rule("BatchNorm1d", "BatchNorm2d", "BatchNorm3d")
def batchnorm(call: ModuleCall) -> list[dict[str, Any]]:
    m = call.module
    if not m.track_running_stats:
        raise NotImplementedError("batch normalisation without running statistics "
                                  "(track_running_stats=False) has no family")
    return [{"type": "batchnorm"} if m.affine else {"type": "batchnorm", "affine": False}]


@module_rule("LayerNorm")
def layernorm(call: ModuleCall) -> list[dict[str, Any]]:
    m = call.module
    if len(m.normalized_shape) != 1:
        raise NotImplementedError(f"layer normalisation over {len(m.normalized_shape)} axes "
                                  f"has no family (ours normalises the last axis)")
    if not m.elementwise_affine:
        return [{"type": "layernorm", "affine": False}]
    if getattr(m, "bias", True) is None:   # LayerNorm(bias=False): γ only
        return [{"type": "layernorm", "center": False}]
    return [{"type": "layernorm"}]


@module_rule("GroupNorm")
def groupnorm(call: ModuleCall) -> list[dict[str, Any]]:
    entry = {"type": "groupnorm", "groups": int(call.module.num_groups)}
    if not call.module.affine:
        entry["affine"] = False
    return [entry]


@module_rule("InstanceNorm1d", "InstanceNorm2d", "InstanceNorm3d")
def instancenorm(call: ModuleCall) -> list[dict[str, Any]]:
    if call.module.track_running_stats:
        raise NotImplementedError("instance normalisation with running statistics has no family")
    return [{"type": "instancenorm", "affine": True} if call.module.affine
            else {"type": "instancenorm"}]


@module_rule("LocalResponseNorm", "CrossMapLRN2d")
def local_response_norm(call: ModuleCall) -> list[dict[str, Any]]:
    # Nothing learned and the shape kept: no family has the name, so an opaque layer.
    return [{"type": "opaque", "op": f"torch.nn.{type(call.module).__name__}"}]


# ---------------------------------------------------------------------- pooling

_POOL_KINDS = {("Max", 1): "maxpool1d", ("Max", 2): "maxpool2d", ("Max", 3): "maxpool3d",
               ("Avg", 1): "avgpool1d", ("Avg", 2): "avgpool2d", ("Avg", 3): "avgpool3d"}


@module_rule("MaxPool1d", "MaxPool2d", "MaxPool3d", "AvgPool1d", "AvgPool2d", "AvgPool3d")
def pool(call: ModuleCall) -> list[dict[str, Any]]:
    m = call.module
    name = type(m).__name__
    dims = int(name[-2])
    if any(d != 1 for d in _tuple(getattr(m, "dilation", 1), dims)):
        raise NotImplementedError("pooling with dilation has no family")
    # ceil_mode is checked by the walker: it compares our output shape with PyTorch's.
    entry = {"type": _POOL_KINDS[(name[:3], dims)], "kernel": _sizes(m.kernel_size, dims)}
    stride = m.stride if m.stride is not None else m.kernel_size
    if _tuple(stride, dims) != _tuple(m.kernel_size, dims):
        entry["stride"] = _sizes(stride, dims)
    if any(p != 0 for p in _tuple(m.padding, dims)):
        entry["padding"] = _sizes(m.padding, dims)
    return [entry]


@module_rule("AdaptiveAvgPool1d", "AdaptiveAvgPool2d", "AdaptiveAvgPool3d",
             "AdaptiveMaxPool1d", "AdaptiveMaxPool2d", "AdaptiveMaxPool3d")
def adaptive_pool(call: ModuleCall) -> list[dict[str, Any]]:
    if call.out_shape is None:
        raise NotImplementedError("no output shape")
    # The output shape (channels first) holds the sizes, including those PyTorch's
    # output_size leaves as None (keep the input's).
    sizes = [int(v) for v in call.out_shape[1:]]
    kind = "adaptive_max_pool" if "Max" in type(call.module).__name__ else "adaptive_avg_pool"
    return [{"type": kind, "output_size": sizes[0] if len(set(sizes)) == 1 else sizes}]


# ----------------------------------------------------- activations and the like

@module_rule(*ACTIVATION_WORDS)
def activation(call: ModuleCall) -> list[dict[str, Any]]:
    for cls in type(call.module).__mro__:
        if cls.__name__ in ACTIVATION_WORDS:
            return [{"type": "activation", "function": ACTIVATION_WORDS[cls.__name__]}]
    raise NotImplementedError("no activation")


@module_rule("Dropout", "Dropout1d", "Dropout2d", "Dropout3d", "AlphaDropout",
             "FeatureAlphaDropout")
def dropout(call: ModuleCall) -> list[dict[str, Any]]:
    return [{"type": "dropout", "rate": float(call.module.p)}]


@module_rule("StochasticDepth")
def stochastic_depth(call: ModuleCall) -> list[dict[str, Any]]:
    # torchvision.ops.StochasticDepth drops a whole residual branch with probability
    # p while training: like dropout, it learns nothing.
    return [{"type": "dropout", "rate": float(call.module.p)}]


@module_rule("Identity")
def identity(call: ModuleCall) -> list[dict[str, Any]]:
    return [{"type": "identity"}]


@module_rule("Flatten")
def flatten(call: ModuleCall) -> list[dict[str, Any]]:
    if call.out_shape is not None and len(call.out_shape) != 1:
        raise NotImplementedError("a flatten that keeps several axes")  # the walker reshapes
    return [{"type": "flatten"}]


@module_rule("Upsample", "UpsamplingNearest2d", "UpsamplingBilinear2d")
def upsample(call: ModuleCall) -> list[dict[str, Any]]:
    m = call.module
    if m.size is not None and call.out_shape is not None:
        sizes = [int(v) for v in call.out_shape[1:]]
        return [{"type": "upsample", "size": sizes[0] if len(set(sizes)) == 1 else sizes}]
    scales = _tuple(m.scale_factor, max(len(call.in_shapes[0]) - 1, 1))
    if not all(float(s).is_integer() and s >= 1 for s in scales):
        raise NotImplementedError("a scale factor that is not a whole number")
    scales = [int(s) for s in scales]
    return [{"type": "upsample", "scale": scales[0] if len(set(scales)) == 1 else scales}]


@module_rule("ZeroPad1d", "ZeroPad2d", "ZeroPad3d")
def zero_pad(call: ModuleCall) -> list[dict[str, Any]]:
    pads = [int(v) for v in call.module.padding]   # last axis first: (left, right, top, bottom …)
    pairs = [[pads[i], pads[i + 1]] for i in range(0, len(pads), 2)][::-1]   # input's axis order
    return [{"type": "zero_padding", "padding": pairs}]
