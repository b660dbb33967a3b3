"""Convolution variants: groups on conv2d, depthwise_conv2d, separable_conv2d,
conv2d_transpose.

Counts and shapes are checked against an independent integer recount written
here, and against the torch.nn modules that compute the same thing.
"""
from __future__ import annotations

import random
import warnings

import pytest
from hypothesis import given, settings, strategies as st
from sympy import Integer

from conftest import IN_CI
from symparams import Network, SymparamsError
from symparams.homework.questions import params_questions, shapes_questions
from symparams.layers import is_unsupported, layer_class
from symparams.printing import unicode_written
from symparams.spec import spec_from_data


def network(layers, input_shape=(12, 10, 4)):
    return Network.from_spec(spec_from_data({"name": "variants", "input": list(input_shape),
                                             "layers": layers}))


def side(size, kernel, stride=1, padding=0, dilation=1):
    """The output size along one axis, recounted with integers."""
    return (size + 2 * padding - dilation * (kernel - 1) - 1) // stride + 1


def recount(entry, shape):
    """(count, output shape) of one layer, with integer arithmetic only."""
    height, width, d = shape
    m, n = (entry["kernel"], entry["kernel"]) if isinstance(entry["kernel"], int) \
        else entry["kernel"]
    stride, padding, dilation = entry.get("stride", 1), entry.get("padding", 0), \
        entry.get("dilation", 1)
    bias = 1 if entry.get("bias", True) else 0
    out_hw = (side(height, n, stride, padding, dilation), side(width, m, stride, padding, dilation))
    kind = entry["type"]
    if kind == "conv2d_transpose":
        extra = entry.get("output_padding", 0)
        grow = [(size - 1) * stride - 2 * padding + dilation * (window - 1) + extra + 1
                for size, window in ((height, n), (width, m))]
        return entry["filters"] * (m * n * d + bias), (*grow, entry["filters"])
    if kind == "conv2d":
        g, k = entry.get("groups", 1), entry["filters"]
        return k * (m * n * (d // g) + bias), (*out_hw, k)
    q = entry.get("depth_multiplier", 1)
    if kind == "depthwise_conv2d":
        return d * q * (m * n + bias), (*out_hw, d * q)
    k = entry["filters"]
    return m * n * d * q + k * (d * q + bias), (*out_hw, k)


def test_the_formulas_in_letters():
    net = network([{"type": "conv2d", "kernel": 3, "filters": 8, "groups": 2},
                   {"type": "depthwise_conv2d", "kernel": 3, "depth_multiplier": 2},
                   {"type": "separable_conv2d", "kernel": 3, "filters": 6}], (12, 12, 4))
    written = [unicode_written(info.written) for info in net.layers[1:]]
    assert written == ["((m₁ × n₁ × d₁ / g₁) + 1) × k₁", "((m₂ × n₂) + 1) × d₂ × q₂",
                       "(m₃ × n₃ × d₃ × q₃) + ((d₃ × q₃) + 1) × k₃"]
    # 8 × (9 × 2 + 1); 8 × 2 × (9 + 1); 9 × 16 × 1 + 6 × (16 + 1)
    assert [info.params for info in net.layers[1:]] == [152, 160, 246]
    assert [info.output_shape for info in net.layers[1:]] == [(10, 10, 8), (8, 8, 16),
                                                              (6, 6, 6)]
    assert net.layers[2].step.output_shape == (8, 8, 16)


def test_plain_conv2d_keeps_the_document_formula():
    net = network([{"type": "conv2d", "kernel": 3, "filters": 8, "groups": 1}])
    assert unicode_written(net.layers[1].written) == "((m₁ × n₁ × d₁) + 1) × k₁"
    assert net.layers[1].layer.to_fields() == {"type": "conv2d", "kernel": 3, "filters": 8}


@pytest.mark.parametrize("entry, channels, words", [
    ({"type": "conv2d", "kernel": 3, "filters": 8, "groups": 3}, 6, "do not divide the 8 filters"),
    ({"type": "conv2d", "kernel": 3, "filters": 6, "groups": 3}, 4,
     "do not divide the 4 input channels"),
    ({"type": "conv2d", "kernel": 3, "filters": 6, "groups": 0}, 4, "positive"),
])
def test_groups_must_divide_channels_and_filters(entry, channels, words):
    with pytest.raises(SymparamsError) as info:
        network([entry], (8, 8, channels))
    assert info.value.field == "groups" and words in str(info.value)
    assert "layer 1" in str(info.value)


def test_new_kinds_are_registered():
    assert layer_class("DepthwiseConv2D").kind == "depthwise_conv2d"
    assert layer_class("SeparableConv2D").kind == "separable_conv2d"
    assert layer_class("ConvTranspose2d").kind == "conv2d_transpose"
    assert not is_unsupported("separable_conv2d") and not is_unsupported("depthwiseconv2d")
    assert not is_unsupported("conv2d_transpose") and is_unsupported("depthwise_conv1d")


def test_transposed_convolution_grows_the_input_and_works_its_shape():
    net = network([{"type": "conv2d_transpose", "kernel": 3, "filters": 8, "stride": 2,
                    "padding": 1, "output_padding": 1}], (7, 7, 4))
    info = net.layers[1]
    assert info.params == 8 * (3 * 3 * 4 + 1) and info.output_shape == (14, 14, 8)
    height = info.layer.shape_working(info.input_shape)[0]
    assert unicode_written(height.formula) == "(H - 1) × S - 2 × P + D × (n - 1) + O + 1"
    assert unicode_written(height.substituted) == "(7 - 1) × 2 - 2 × 1 + 1 × (3 - 1) + 1 + 1"
    assert height.result == 14


@pytest.mark.parametrize("entry, field", [
    ({"output_padding": 2, "stride": 2}, "output_padding"),
    ({"output_padding": 1}, "output_padding"),
    ({"padding": 9}, "padding"),
])
def test_transposed_convolution_refuses_impossible_sizes(entry, field):
    with pytest.raises(SymparamsError) as info:
        network([{"type": "conv2d_transpose", "kernel": 3, "filters": 2, **entry}], (4, 4, 1))
    assert info.value.field == field and "layer 1" in str(info.value)


variant = st.fixed_dictionaries({
    "type": st.sampled_from(["conv2d", "depthwise_conv2d", "separable_conv2d",
                             "conv2d_transpose"]),
    "kernel": st.one_of(st.integers(1, 4), st.tuples(st.integers(1, 4), st.integers(1, 4))),
    "stride": st.integers(1, 3), "padding": st.integers(0, 2), "dilation": st.integers(1, 2),
    "bias": st.booleans(), "groups": st.sampled_from([1, 2, 4]),
    "filters": st.sampled_from([4, 8, 12]), "depth_multiplier": st.integers(1, 3),
    "output_padding": st.integers(0, 1)})


def as_entry(raw):
    """Only the fields the kind takes; a pair kernel as a list."""
    entry = {key: value for key, value in raw.items()
             if key in layer_class(raw["type"]).fields or key == "type"}
    if isinstance(entry["kernel"], tuple):
        entry["kernel"] = list(entry["kernel"])
    if entry.get("output_padding", 0) >= max(entry["stride"], entry["dilation"]):
        del entry["output_padding"]  # PyTorch's limit, tested on its own
    return entry


@settings(max_examples=60, deadline=None)
@given(variant, st.sampled_from([4, 8]), st.integers(12, 20))
def test_counts_and_shapes_match_an_integer_recount(raw, channels, size):
    entry = as_entry(raw)
    net = network([entry], (size, size + 1, channels))
    count, shape = recount(entry, (size, size + 1, channels))
    assert net.layers[1].params == count
    assert net.layers[1].output_shape == shape


def test_homework_params_and_shapes_questions():
    net = network([{"type": "separable_conv2d", "kernel": 3, "filters": 6},
                   {"type": "depthwise_conv2d", "kernel": 3},
                   {"type": "conv2d", "kernel": 1, "filters": 4, "groups": 2},
                   {"type": "conv2d_transpose", "kernel": 2, "filters": 3, "stride": 2}],
                  (12, 12, 4))
    params = {q.id: q.answer for q in params_questions(net, 1, random.Random(1))}
    shapes = {q.id: q.answer for q in shapes_questions(net, 1, random.Random(1))}
    assert params == {"params.CONV1": 9 * 4 + 6 * 5, "params.CONV2": 6 * 10,
                      "params.CONV3": 4 * (3 + 1), "params.CONV4": 3 * (2 * 2 * 4 + 1),
                      "params.total": 66 + 60 + 16 + 51}
    assert shapes["shapes.CONV2"] == "8 × 8 × 6" and shapes["shapes.CONV3"] == "8 × 8 × 4"
    assert shapes["shapes.CONV4"] == "16 × 16 × 3"


def test_solve_over_the_new_sizes():
    net = network([{"type": "separable_conv2d", "kernel": 3, "filters": 6,
                    "depth_multiplier": 2},
                   {"type": "conv2d", "kernel": 3, "filters": 8, "groups": 2},
                   {"type": "conv2d_transpose", "kernel": 3, "filters": 5}], (12, 12, 4))
    total = int(net.total)
    assert net.solve("CONV1.depth_multiplier", total=total) == [2]
    assert net.solve("CONV1.filters", total=total) == [6]
    assert net.solve("CONV2.groups", total=total) == [2]
    assert net.solve("CONV3.filters", total=total) == [5]


# ------------------------------------------------------------------ PyTorch

def _torch():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if IN_CI:
            import torch
            return torch
        return pytest.importorskip("torch")


def torch_module(entry, channels):
    from torch import nn
    m, n = (entry["kernel"],) * 2 if isinstance(entry["kernel"], int) else entry["kernel"]
    common = dict(kernel_size=(n, m), stride=entry.get("stride", 1),
                  padding=entry.get("padding", 0), dilation=entry.get("dilation", 1))
    bias = entry.get("bias", True)
    q = entry.get("depth_multiplier", 1)
    if entry["type"] == "conv2d":
        return nn.Conv2d(channels, entry["filters"], groups=entry.get("groups", 1), bias=bias,
                         **common)
    if entry["type"] == "conv2d_transpose":
        return nn.ConvTranspose2d(channels, entry["filters"], bias=bias,
                                  output_padding=entry.get("output_padding", 0), **common)
    if entry["type"] == "depthwise_conv2d":
        return nn.Conv2d(channels, channels * q, groups=channels, bias=bias, **common)
    return nn.Sequential(nn.Conv2d(channels, channels * q, groups=channels, bias=False, **common),
                         nn.Conv2d(channels * q, entry["filters"], 1, bias=bias))


@pytest.mark.torch
@settings(max_examples=40, deadline=None)
@given(variant, st.sampled_from([4, 8]), st.integers(12, 20))
def test_counts_and_shapes_match_torch(raw, channels, size):
    torch = _torch()
    entry = as_entry(raw)
    net = network([entry], (size, size + 1, channels))
    module = torch_module(entry, channels)
    assert net.layers[1].params == sum(p.numel() for p in module.parameters())
    with torch.no_grad():
        out = module(torch.zeros(1, channels, size, size + 1))
    assert net.layers[1].output_shape == (out.shape[2], out.shape[3], out.shape[1])


def test_find_error_and_backwards_sheets_take_the_new_kinds():
    from symparams.homework.questions import backwards_questions, find_error_questions
    net = network([{"type": "conv2d", "kernel": 3, "filters": 6},
                   {"type": "depthwise_conv2d", "kernel": 3},
                   {"type": "conv2d_transpose", "kernel": 3, "filters": 4},
                   {"type": "dense", "units": 10}], (12, 12, 4))
    assert find_error_questions(net, 1, random.Random(3))
    asked = {q.id for seed in range(30) for q in backwards_questions(net, 1, random.Random(seed))}
    # a depthwise convolution has no filters or units to ask about; the others are asked
    assert "backwards.CONV3.filters" in asked and not any("CONV2" in key for key in asked)
