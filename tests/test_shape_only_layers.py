"""Layers with nothing to learn that change the shape: global and adaptive pooling,
upsample, zero padding, reshape, permute, identity, and the activation names.

Output shapes are checked against torch.nn (AdaptiveAvgPool1d/2d/3d, Upsample,
ZeroPad1d/2d/3d, flatten/permute/reshape) on a forward pass, with hypothesis.
"""
from __future__ import annotations

import warnings

import pytest
from hypothesis import given, settings, strategies as st
from sympy import Symbol

from conftest import IN_CI
from symparams import Network, SymparamsError
from symparams.layers import is_unsupported, layer_class
from symparams.layers.checks import ACTIVATIONS
from symparams.printing import unicode_written
from symparams.spec import spec_from_data


def network(layers, input_shape, symbols=None):
    data = {"name": "shapes", "input": list(input_shape), "layers": layers}
    if symbols:
        data["symbols"] = symbols
    return Network.from_spec(spec_from_data(data))


def out(entry, shape):
    net = network([entry], shape)
    assert net.layers[1].params == 0 and not net.layers[1].layer.has_params
    return net.layers[1].output_shape


@pytest.mark.parametrize("entry, shape, expected", [
    ({"type": "global_avg_pool"}, (7, 7, 512), (512,)),
    ({"type": "GlobalMaxPooling1D"}, (100, 64), (64,)),
    ({"type": "GlobalAveragePooling3D", "keepdims": True}, (4, 5, 6, 8), (1, 1, 1, 8)),
    ({"type": "adaptive_avg_pool", "output_size": 1}, (13, 9, 32), (1, 1, 32)),
    ({"type": "AdaptiveMaxPool2d", "output_size": [6, 4]}, (13, 9, 32), (6, 4, 32)),
    ({"type": "upsample", "scale": 2}, (7, 5, 16), (14, 10, 16)),
    ({"type": "UpSampling3D", "scale": [1, 2, 3]}, (4, 5, 6, 2), (4, 10, 18, 2)),
    ({"type": "upsample", "size": [20, 30]}, (7, 5, 16), (20, 30, 16)),
    ({"type": "ZeroPadding2D", "padding": [1, [2, 3]]}, (8, 8, 3), (10, 13, 3)),
    ({"type": "zero_padding", "padding": 2}, (28, 1), (32, 1)),
    ({"type": "reshape", "target": [-1, 8]}, (7, 7, 8), (49, 8)),
    ({"type": "reshape", "target": [4, 4, 2, 2]}, (64,), (4, 4, 2, 2)),
    ({"type": "permute", "dims": [2, 1]}, (10, 4), (4, 10)),
    ({"type": "permute", "dims": [3, 1, 2]}, (5, 6, 7), (7, 5, 6)),
    ({"type": "identity"}, (5, 6, 7), (5, 6, 7)),
])
def test_output_shapes(entry, shape, expected):
    assert out(entry, shape) == expected


def test_a_classifier_head_on_global_pooling_counts_the_channels():
    net = network([{"type": "conv2d", "kernel": 3, "filters": 64},
                   {"type": "global_avg_pool"}, {"type": "dense", "units": 10}], (32, 32, 3))
    assert net.layers[3].params == 10 * 64 + 10


def test_shape_working_steps():
    net = network([{"type": "upsample", "scale": 2}, {"type": "zero_padding",
                                                     "padding": [[1, 2], 1]},
                   {"type": "reshape", "target": [-1, 4]}], (7, 5, 4))
    up, pad, reshape = net.layers[1:]
    assert [(s.title, unicode_written(s.formula), unicode_written(s.substituted), s.result)
            for s in up.shape_steps] == [("Output height", "H × U", "7 × 2", 14),
                                         ("Output width", "W × U", "5 × 2", 10)]
    assert [unicode_written(s.formula) for s in pad.shape_steps] == ["H + P + Q", "W + 2 × P"]
    assert [s.result for s in pad.shape_steps] == [17, 12]
    step = reshape.shape_steps[0]
    assert unicode_written(step.formula) == "(H × W × C) / 4"
    assert unicode_written(step.substituted) == "(17 × 12 × 4) / 4" and step.result == 204


def test_symbolic_sizes_flow_through():
    net = network([{"type": "upsample", "scale": 2}, {"type": "reshape", "target": [-1, 3]},
                   {"type": "global_avg_pool"}, {"type": "dense", "units": 5}], ("H", "W", 3))
    H, W = Symbol("H", positive=True, integer=True), Symbol("W", positive=True, integer=True)
    assert net.layers[2].output_shape == (4 * H * W, 3)
    assert net.layers[4].params == 20


@pytest.mark.parametrize("entry, shape, field, words", [
    ({"type": "reshape", "target": [7, 7, 9]}, (7, 7, 8), "target", "holds 441 values"),
    ({"type": "reshape", "target": [-1, 5]}, (7, 7, 8), "target", "do not divide"),
    ({"type": "reshape", "target": [-1, -1]}, (7, 7, 8), "target", "only one size"),
    ({"type": "reshape", "target": [1, 2, 3, 4, 5]}, (120,), "target", "1 to 4 sizes"),
    ({"type": "permute", "dims": [1, 1]}, (4, 5), "dims", "each once"),
    ({"type": "permute", "dims": [2, 1]}, (4, 5, 6), "dims", "name every axis once"),
    ({"type": "adaptive_avg_pool", "output_size": [2, 2]}, (9, 4), "output_size",
     "1 spatial axis"),
    ({"type": "adaptive_avg_pool", "output_size": 0}, (9, 9, 4), "output_size", "positive"),
    ({"type": "global_avg_pool"}, (64,), "type", "flat vector of 64"),
    ({"type": "upsample"}, (9, 9, 4), "size", "either scale"),
    ({"type": "upsample", "scale": 2, "size": 4}, (9, 9, 4), "scale", "not both"),
    ({"type": "zero_padding", "padding": [[1, 2, 3]]}, (9, 4), "padding", "[before, after]"),
    ({"type": "zero_padding", "padding": -1}, (9, 4), "padding", "≥ 0"),
    ({"type": "activation", "function": "banana"}, (9, 4), "function", "unknown word"),
])
def test_bad_fields_are_one_line_naming_the_field(entry, shape, field, words):
    with pytest.raises(SymparamsError) as info:
        network([entry], shape)
    assert info.value.field == field and words in str(info.value), str(info.value)
    assert "layer 1" in str(info.value) and "\n" not in str(info.value)
    assert len(str(info.value)) < 300


def test_reshape_error_shows_both_counts_also_symbolically():
    with pytest.raises(SymparamsError) as info:
        network([{"type": "reshape", "target": ["H", "W", 2]}], ("H", "W", 3))
    assert "H × W × 2" in str(info.value) and "H × W × 3" in str(info.value)
    # Equal but written differently: accepted.
    net = network([{"type": "reshape", "target": ["W", "H", 3]}], ("H", "W", 3))
    assert [str(v) for v in net.layers[1].output_shape] == ["W", "H", "3"]


@pytest.mark.parametrize("name", ["softmax", "gelu", "silu", "swish", "tanh", "sigmoid",
                                  "leaky_relu", "elu", "selu", "softplus", "mish", "hardswish",
                                  "relu6", "log_softmax", "LeakyReLU", "Hard-Swish"])
def test_activation_names(name):
    net = network([{"type": "activation", "function": name}], (10,))
    assert net.layers[1].params == 0


def test_kinds_are_registered_and_the_unsupported_list_is_honest():
    for name in ["GlobalAveragePooling2D", "global_max_pool", "AdaptiveAvgPool2d",
                 "UpSampling2D", "Upsample", "ZeroPadding2D", "ZeroPad2d", "Reshape",
                 "Permute", "Identity"]:
        assert not is_unsupported(name)
        layer_class(name)
    for name in ["Cropping2D", "ReflectionPad2d", "LocallyConnected2D", "PixelShuffle",
                 "FractionalMaxPool2d"]:
        assert is_unsupported(name)
        with pytest.raises(SymparamsError, match="not supported yet"):
            layer_class(name)


def test_prelu_is_not_a_function_without_parameters():
    # PReLU learns its slopes: an activation with a count of 0 would be a silent zero.
    assert "prelu" not in ACTIVATIONS
    with pytest.raises(SymparamsError) as info:
        network([{"type": "activation", "function": "prelu"}], (10,))
    assert "learn" in str(info.value) and info.value.field == "function"


# ------------------------------------------------------------------ PyTorch

def _torch():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if IN_CI:
            import torch
            return torch
        return pytest.importorskip("torch")


def torch_forward(entry, shape):
    """The output shape of the torch.nn equivalent, channels last."""
    torch = _torch()
    from torch import nn
    dims = len(shape) - 1
    x = torch.zeros(1, shape[-1], *shape[:-1])
    kind = entry["type"]
    if kind == "adaptive_avg_pool":
        module = (nn.AdaptiveAvgPool1d, nn.AdaptiveAvgPool2d, nn.AdaptiveAvgPool3d)[dims - 1](
            tuple(entry["output_size"]))
    elif kind == "upsample":
        module = nn.Upsample(scale_factor=tuple(float(s) for s in entry["scale"]))
    elif kind == "zero_padding":
        flat = [v for before, after in reversed(entry["padding"]) for v in (before, after)]
        module = (nn.ZeroPad1d, nn.ZeroPad2d, nn.ZeroPad3d)[dims - 1](tuple(flat))
    else:  # global_avg_pool
        module = (nn.AdaptiveAvgPool1d, nn.AdaptiveAvgPool2d, nn.AdaptiveAvgPool3d)[dims - 1](1)
    with torch.no_grad():
        y = module(x)
    return (*y.shape[2:], y.shape[1])


@st.composite
def shape_only(draw):
    dims = draw(st.integers(1, 3))
    shape = tuple(draw(st.integers(3, 9)) for _ in range(dims)) + (draw(st.integers(1, 4)),)
    kind = draw(st.sampled_from(["adaptive_avg_pool", "upsample", "zero_padding",
                                 "global_avg_pool"]))
    per_axis = st.lists(st.integers(1, 4), min_size=dims, max_size=dims)
    entry = {"type": kind}
    if kind == "adaptive_avg_pool":
        entry["output_size"] = draw(per_axis)
    elif kind == "upsample":
        entry["scale"] = draw(per_axis)
    elif kind == "zero_padding":
        entry["padding"] = draw(st.lists(st.lists(st.integers(0, 3), min_size=2, max_size=2),
                                         min_size=dims, max_size=dims))
    else:
        entry["keepdims"] = True
    return entry, shape


@pytest.mark.torch
@settings(max_examples=60, deadline=None)
@given(shape_only())
def test_shapes_match_torch(case):
    entry, shape = case
    assert out(entry, shape) == torch_forward(entry, shape)


@pytest.mark.torch
@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(1, 5), min_size=1, max_size=4), st.data())
def test_reshape_and_permute_match_torch(shape, data):
    torch = _torch()
    shape = tuple(shape)
    x = torch.zeros(*shape)
    order = data.draw(st.permutations(range(len(shape))))
    assert out({"type": "permute", "dims": [i + 1 for i in order]}, shape) == \
        tuple(x.permute(*order).shape)
    numel = x.numel()
    first = data.draw(st.sampled_from([d for d in range(1, numel + 1) if numel % d == 0]))
    assert out({"type": "reshape", "target": [first, -1]}, shape) == \
        tuple(x.reshape(first, -1).shape)


NEW_KINDS = ["conv1d", "conv3d", "conv1d_transpose", "conv3d_transpose", "maxpool1d",
             "avgpool1d", "maxpool3d", "avgpool3d", "global_avg_pool", "global_max_pool",
             "adaptive_avg_pool", "adaptive_max_pool", "upsample", "zero_padding", "reshape",
             "permute", "identity"]


@pytest.mark.parametrize("kind", NEW_KINDS)
def test_explain_every_new_kind(kind):
    from symparams import explain
    from symparams.explore.explain import kinds
    text = explain(kind)
    assert kind in kinds()
    for section in ("Letters", "Parameters", "Why", "Output shape", "Example"):
        assert section in text
    cls = layer_class(kind)
    if cls.letters:   # a family with parameters always shows its formula, worked out
        assert "((m₁" in text and "with groups" in text or "transpose" in kind
    else:
        assert "0 parameters" in text


@pytest.mark.parametrize("name, kind", [("GlobalAvgPool2D", "global_avg_pool"),
                                        ("conv_1d", "conv1d"), ("Zero-Padding-2D", "zero_padding"),
                                        ("Conv_3D_Transpose", "conv3d_transpose")])
def test_names_are_read_without_spaces_dashes_and_underscores(name, kind):
    assert layer_class(name).kind == kind


def test_flatten_works_out_a_signal_and_a_volume():
    for shape, formula in (((10, 4), "L × C"), ((2, 3, 4, 5), "D × H × W × C")):
        net = network([{"type": "flatten"}], shape)
        step = net.layers[1].shape_steps[0]
        assert unicode_written(step.formula) == formula
        assert step.result == net.layers[1].output_shape[0]


def test_solve_and_sweep_over_the_sizes_of_shape_only_layers():
    # Their sizes have no letter of a formula; named sizes are solved and swept as names.
    net = network([{"type": "upsample", "scale": "s"}, {"type": "zero_padding", "padding": "q"},
                   {"type": "flatten"}, {"type": "dense", "units": 3}], (8, 8, 2))
    total = int(net.subs(s=2, q=1).total)
    assert total == 3 * (18 * 18 * 2) + 3
    assert net.subs(q=1).solve("s", total=total) == [2]
    assert net.subs(s=2).solve("q", total=total) == [1]
    assert [r["total"] for r in net.subs(q=0).sweep({"s": [1, 2, 3]})] == \
        [3 * (8 * s) ** 2 * 2 + 3 for s in (1, 2, 3)]
    head = network([{"type": "adaptive_avg_pool", "output_size": "A"}, {"type": "flatten"},
                    {"type": "dense", "units": 10}], ("H", "H", 4))
    assert head.solve("A", total=10 * 4 * 9 + 10) == [3]
