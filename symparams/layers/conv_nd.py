"""1-D and 3-D convolutions, plain, grouped and transposed: the filter bank of conv2d
with one window size per spatial axis.

conv1d on a signal [L, C]: ((m × d) + 1) × k; conv3d on a volume [D, H, W, C]:
((m × n × o × d) + 1) × k (o is the window's depth); with groups, d / g in place of d.
"""
from __future__ import annotations

from sympy import Add, Integer, Mul, Symbol

from ..printing import Grouped, SlashRatio, unicode_plain
from ..shapes import AxisWorking, given_working, put_in
from .base import Layer
from .conv import check_groups_divide
from .fields import Flag, Size
from .transpose import check_output_padding, transpose_rule, \
    transposed_sizes
from .windows import (Axes, AxesPadding, dilation_letter, options_text, sizes_text,
                      spatial_axes, window_letters, window_shape, window_shape_working,
                      window_text, window_tiles)

_D = "channels of the input (filters of the layer before)"
_G = "groups the channels and filters are split into"
_WINDOW = {1: {"m": "filter length"},
           3: {"m": "filter width", "n": "filter height", "o": "filter depth"}}


def filters_formula(L, window: tuple[str, ...], bias: bool, grouped: bool):
    """((m × … × d) + 1) × k, with d / g for a grouped layer."""
    channels = SlashRatio(L["d"], L["g"]) if grouped else L["d"]
    weights = Grouped(Mul(*(L[w] for w in window), channels))
    return Mul(Add(weights, Integer(1)), L["k"]) if bias else Mul(weights, L["k"])


def _reason(window: str, grouped: bool, bias: bool, transposed: bool = False) -> str:
    if transposed:
        end = ("and each output channel adds one bias: the same count as a convolution from d "
               "to k channels." if bias else "and no bias (bias: false).")
        return (f"Every one of the d input channels is spread over a {window} window of each "
                f"of the k output channels with a weight of its own, {end}")
    over = "the d / g input channels of its group" if grouped else "all d input channels"
    end = "plus one bias" if bias else "and no bias (bias: false)"
    return (f"Each filter learns one weight for every value in its {window} window over "
            f"{over}, {end}; there are k such filters.")


class _ConvND(Layer):
    """What the 1-D and 3-D convolutions share; ``dims`` is the number of spatial axes."""
    family = "conv"
    name_prefix = "CONV"
    dims = 1
    grouped = False

    @classmethod
    def _class_for(cls, values):
        # groups other than 1 make the grouped variant, whose formula has g.
        plain = getattr(cls, "plain_class", None)
        if plain is cls and values.get("groups") is not None \
                and Size("groups").parse(values["groups"]) != 1:
            return cls.grouped_class
        return cls

    def check(self):
        check_groups_divide(self.groups, self.filters, "filters")

    def check_input(self, in_shape):
        super().check_input(in_shape)
        check_groups_divide(self.groups, in_shape[-1], "input channels")

    def derived(self, in_shape):
        return {"d": in_shape[-1]}

    def written_formula(self, L):
        return filters_formula(L, tuple(_WINDOW[self.dims]), self.bias, self.grouped)

    def output_shape(self, in_shape):
        return window_shape(in_shape, self.kernel, self.stride, self.padding, self.dilation,
                            self.filters)

    def divides_exactly(self, in_hw):
        return window_tiles(in_hw, self.kernel, self.stride, self.padding, self.dilation)

    def shape_working(self, in_shape):
        out = self.output_shape(in_shape)
        return (*window_shape_working(in_shape, out, self.kernel, self.stride, self.padding,
                                      self.dilation),
                given_working("channels", "k", self.filters))

    def describe(self):
        parts = [f"{window_text(self.kernel)} filter", f"{unicode_plain(self.filters)} filters",
                 *options_text(self)]
        if self.groups != 1:
            parts.append(f"{unicode_plain(self.groups)} groups")
        return ", ".join(parts)


def _conv_schema(dims: int):
    rank = dims + 1
    return (Axes("kernel", letters=window_letters(rank), count=dims),
            Size("filters", letter="k"), Axes("stride", default=1, count=dims),
            AxesPadding("padding", default=0, count=dims),
            Axes("dilation", default=1, count=dims), Size("groups", letter="g", default=1),
            Flag("bias", default=True))


class Conv1D(_ConvND):
    """A 1-D convolution over a signal [L, C]: k filters of m values over d channels.

    >>> Conv1D(kernel=3, filters=8).formula
    k*(d*m + 1)
    >>> from sympy import Integer
    >>> Conv1D(kernel=3, filters=8).output_shape((Integer(100), Integer(4)))
    (98, 8)
    """
    kind = "conv1d"
    aliases = ("convolution1d", "conv1")
    title = "1-D convolution"
    dims = 1
    input_rank = 2
    kind_by_rank = {3: "conv2d", 4: "conv3d"}
    letters = {**_WINDOW[1], "d": _D, "k": "filters in this layer"}
    schema = _conv_schema(1)
    reason = _reason("m", False, True)
    reason_without_bias = _reason("m", False, False)


class GroupedConv1D(Conv1D):
    """A 1-D convolution with its channels and filters split into g groups."""
    letters = {**_WINDOW[1], "d": _D, "g": _G, "k": "filters in this layer"}
    grouped = True
    reason = _reason("m", True, True)
    reason_without_bias = _reason("m", True, False)


class Conv3D(_ConvND):
    """A 3-D convolution over a volume [D, H, W, C]: k filters of o × n × m × d weights.

    >>> Conv3D(kernel=3, filters=8).formula
    k*(d*m*n*o + 1)
    >>> from sympy import Integer
    >>> Conv3D(kernel=3, filters=8).output_shape((Integer(8), Integer(16), Integer(16), Integer(1)))
    (6, 14, 14, 8)
    """
    kind = "conv3d"
    aliases = ("convolution3d", "conv3")
    title = "3-D convolution"
    dims = 3
    input_rank = 4
    kind_by_rank = {2: "conv1d", 3: "conv2d"}
    letters = {**_WINDOW[3], "d": _D, "k": "filters in this layer"}
    schema = _conv_schema(3)
    reason = _reason("m × n × o", False, True)
    reason_without_bias = _reason("m × n × o", False, False)


class GroupedConv3D(Conv3D):
    """A 3-D convolution with its channels and filters split into g groups."""
    letters = {**_WINDOW[3], "d": _D, "g": _G, "k": "filters in this layer"}
    grouped = True
    reason = _reason("m × n × o", True, True)
    reason_without_bias = _reason("m × n × o", True, False)


for _plain, _grouped in ((Conv1D, GroupedConv1D), (Conv3D, GroupedConv3D)):
    _plain.plain_class, _plain.grouped_class = _plain, _grouped


# ------------------------------------------------------------------ transposed

class _ConvNDTranspose(Layer):
    """Transposed 1-D and 3-D convolutions (PyTorch's ConvTranspose1d/3d, Keras'
    Conv1DTranspose/Conv3DTranspose): the count of conv1d/conv3d, a growing output."""
    family = "conv"
    name_prefix = "CONV"
    dims = 1

    def check(self):
        check_output_padding(self)

    def derived(self, in_shape):
        return {"d": in_shape[-1]}

    def written_formula(self, L):
        return filters_formula(L, tuple(_WINDOW[self.dims]), self.bias, False)

    def _axes(self, in_shape):
        """(label, letters, size, window, padding, stride, dilation, output padding)."""
        return tuple((label, (letter, window_letters(len(in_shape))[i]), in_shape[i],
                      self.kernel[i], self.padding[i], self.stride[i], self.dilation[i],
                      self.output_padding[i])
                     for i, (label, letter) in enumerate(spatial_axes(len(in_shape))))

    def output_shape(self, in_shape):
        return (*transposed_sizes(self._axes(in_shape)), self.filters)

    def shape_working(self, in_shape):
        out = self.output_shape(in_shape)
        P, S, O = Symbol("P"), Symbol("S"), Symbol("O")
        D = Symbol(dilation_letter(len(in_shape)))
        workings = []
        for (axis, (size_letter, window_letter), *sizes), result in zip(self._axes(in_shape),
                                                                        out):
            formula = transpose_rule(Symbol(size_letter), Symbol(window_letter), P, S, D, O)
            workings.append(AxisWorking(axis, formula,
                                        transpose_rule(*(put_in(v) for v in sizes)), result))
        return (*workings, given_working("channels", "k", self.filters))

    def describe(self):
        parts = [f"{window_text(self.kernel)} filter", f"{unicode_plain(self.filters)} filters",
                 f"stride {sizes_text(self.stride)}"]
        for label, sizes, default in (("padding", self.padding, 0),
                                      ("output padding", self.output_padding, 0),
                                      ("dilation", self.dilation, 1)):
            if any(v != default for v in sizes):
                parts.append(f"{label} {sizes_text(sizes)}")
        return ", ".join(parts)


def _transpose_schema(dims: int):
    return (Axes("kernel", letters=window_letters(dims + 1), count=dims),
            Size("filters", letter="k"), Axes("stride", default=1, count=dims),
            Axes("padding", default=0, minimum=0, count=dims),
            Axes("output_padding", default=0, minimum=0, count=dims),
            Axes("dilation", default=1, count=dims), Flag("bias", default=True))


class Conv1DTranspose(_ConvNDTranspose):
    """A transposed 1-D convolution.

    >>> from sympy import Integer
    >>> Conv1DTranspose(kernel=4, filters=2, stride=2).output_shape((Integer(10), Integer(3)))
    (22, 2)
    """
    kind = "conv1d_transpose"
    aliases = ("conv1dtranspose", "convtranspose1d", "conv_transpose1d", "deconv1d")
    title = "transposed 1-D convolution"
    dims = 1
    input_rank = 2
    kind_by_rank = {3: "conv2d_transpose", 4: "conv3d_transpose"}
    letters = {**_WINDOW[1], "d": _D, "k": "filters (output channels) in this layer"}
    schema = _transpose_schema(1)
    reason = _reason("m", False, True, transposed=True)
    reason_without_bias = _reason("m", False, False, transposed=True)


class Conv3DTranspose(_ConvNDTranspose):
    """A transposed 3-D convolution."""
    kind = "conv3d_transpose"
    aliases = ("conv3dtranspose", "convtranspose3d", "conv_transpose3d", "deconv3d")
    title = "transposed 3-D convolution"
    dims = 3
    input_rank = 4
    kind_by_rank = {2: "conv1d_transpose", 3: "conv2d_transpose"}
    letters = {**_WINDOW[3], "d": _D, "k": "filters (output channels) in this layer"}
    schema = _transpose_schema(3)
    reason = _reason("m × n × o", False, True, transposed=True)
    reason_without_bias = _reason("m × n × o", False, False, transposed=True)
