"""Each layer family: formula in the document's letters, shapes, and field checks."""
import pytest
from sympy import Integer, Symbol, ceiling, floor

from symparams import (Activation, AvgPool2D, Conv2D, Dense, Dropout, Flatten, MaxPool2D,
                       SymparamsError, conv_output_size)
from symparams.layers import REGISTRY, layer_class
from symparams.spec import size_symbol

m, n, d, k, c, p = (size_symbol(x) for x in "mndkcp")
I = Integer


def test_conv_formula_is_the_documents():
    assert Conv2D(kernel=5, filters=8).formula == ((m * n * d) + 1) * k


def test_conv_without_bias_drops_the_plus_one():
    assert Conv2D(kernel=5, filters=8, bias=False).formula == m * n * d * k


def test_dense_formula_is_the_documents():
    assert Dense(units=120).formula == c * p + 1 * c
    assert Dense(units=120, bias=False).formula == c * p


@pytest.mark.parametrize("layer", [MaxPool2D(2), AvgPool2D(3), Flatten(), Dropout(0.5),
                                   Activation("relu")])
def test_layers_without_parameters_count_zero(layer):
    assert layer.formula == 0
    assert layer.reason  # every family says why


def test_params_puts_in_the_layers_own_sizes():
    assert Conv2D(kernel=[3, 5], filters=4).params == (3 * 5 * d + 1) * 4


@pytest.mark.parametrize("size, kernel, stride, padding, dilation, expected", [
    (32, 5, 1, 0, 1, 28),
    (28, 2, 2, 0, 1, 14),
    (7, 3, 2, 1, 1, 4),
    (7, 3, 2, "same", 1, 4),
    (10, 3, 1, 0, 2, 6),      # dilated kernel spans 5
    (224, 11, 4, 2, 1, 55),   # AlexNet's first layer
])
def test_conv_output_size(size, kernel, stride, padding, dilation, expected):
    pad = padding if padding == "same" else I(padding)
    assert conv_output_size(I(size), I(kernel), I(stride), pad, I(dilation)) == expected


def test_conv_output_size_symbolic():
    H = size_symbol("H")
    assert conv_output_size(H, I(5)) == H - 4
    assert conv_output_size(H, I(2), I(2)) == floor((H - 2) / 2) + 1
    assert conv_output_size(H, I(3), I(2), "same") == ceiling(H / 2)


def test_conv_shape_non_square_kernel_is_width_by_height():
    # kernel [m, n]: m is the width, n the height; input is (height, width, channels)
    out = Conv2D(kernel=[3, 5], filters=4).output_shape((I(20), I(30), I(3)))
    assert out == (16, 28, 4)


def test_pool_stride_defaults_to_kernel_and_keeps_channels():
    assert MaxPool2D(kernel=3).output_shape((I(9), I(9), I(7))) == (3, 3, 7)
    assert MaxPool2D(kernel=3, stride=1).output_shape((I(9), I(9), I(7))) == (7, 7, 7)


def test_flatten_and_dense_shapes():
    assert Flatten().output_shape((I(5), I(5), I(16))) == (400,)
    assert Dense(units=10).output_shape((I(400),)) == (10,)
    assert Dense(units=10).derived((I(5), I(5), I(16))) == {"p": 400}


@pytest.mark.parametrize("make, field", [
    (lambda: Conv2D(kernel=0, filters=8), "kernel"),
    (lambda: Conv2D(kernel=5, filters=-1), "filters"),
    (lambda: Conv2D(kernel=5, filters=2.5), "filters"),
    (lambda: Conv2D(kernel=5, filters=8, stride=0), "stride"),
    (lambda: Conv2D(kernel=5, filters=8, padding=-1), "padding"),
    (lambda: Conv2D(kernel=[1, 2, 3], filters=8), "kernel"),
    (lambda: Conv2D(kernel=5, filters=True), "filters"),
    (lambda: Conv2D(kernel=5, filters=8, bias="no"), "bias"),
    (lambda: Dense(units=0), "units"),
    (lambda: Dense(units="c(1)"), "units"),
    (lambda: MaxPool2D(kernel=2, stride=0), "stride"),
    (lambda: Dropout(1.5), "rate"),
])
def test_bad_sizes_name_the_field(make, field):
    with pytest.raises(SymparamsError) as info:
        make()
    assert info.value.field == field


def test_kernel_larger_than_input_is_refused():
    with pytest.raises(SymparamsError) as info:
        Conv2D(kernel=5, filters=8).output_shape((I(4), I(4), I(3)))
    assert info.value.field == "kernel"
    assert "would be 0" in str(info.value)


def test_registry_and_unknown_types():
    assert layer_class("CONV2D") is Conv2D
    assert layer_class("fc") is Dense
    assert set(REGISTRY.values()) >= {Conv2D, MaxPool2D, AvgPool2D, Dense, Flatten, Dropout,
                                      Activation}
    with pytest.raises(SymparamsError, match="did you mean 'conv2d'"):
        layer_class("conv2e")


def test_unknown_field_suggests_the_right_one():
    with pytest.raises(SymparamsError, match="did you mean 'filters'") as info:
        Conv2D.from_fields({"kernel": 3, "filter": 8})
    assert info.value.field == "filter"
