"""Transposed convolution (PyTorch's ConvTranspose2d, Keras' Conv2DTranspose):
((m × n × d) + 1) × k parameters, and an output that grows with the stride."""
from __future__ import annotations

from sympy import Add, Expr, Integer, Mul, Symbol, evaluate

from ..errors import SymparamsError
from ..printing import Grouped, unicode_plain
from ..shapes import AxisWorking, Shape, given_working, put_in
from .base import Layer, show_pair
from .conv import filter_bank_formula
from .fields import Flag, Pair, Size


def transpose_rule(size: Expr, window: Expr, padding: Expr, stride: Expr, dilation: Expr,
                   output_padding: Expr) -> Expr:
    """``(H - 1) × S - 2 × P + D × (n - 1) + O + 1`` as written (unevaluated)."""
    with evaluate(False):
        return Add(Mul(Grouped(Add(size, Integer(-1))), stride), Mul(Integer(-2), padding),
                   Mul(dilation, Grouped(Add(window, Integer(-1)))), output_padding,
                   Integer(1))


def check_output_padding(layer) -> None:
    """As PyTorch requires of every transposed convolution: the extra output along each
    axis stays within one step (smaller than the stride or the dilation)."""
    for extra, stride, dilation in zip(layer.output_padding, layer.stride, layer.dilation):
        if (extra - stride).is_nonnegative and (extra - dilation).is_nonnegative:
            raise SymparamsError(
                f"output_padding {unicode_plain(extra)} must be smaller than the stride "
                f"{unicode_plain(stride)} or the dilation {unicode_plain(dilation)}",
                field="output_padding")


def transposed_sizes(axes) -> list[Expr]:
    """The output size along each axis of a transposed convolution; ``axes`` as a
    family's ``_axes`` gives them (label, letters, then transpose_output_size's sizes).
    Padding that leaves no output is refused, naming the axis."""
    out = []
    for axis, _, *sizes in axes:
        result = transpose_output_size(*sizes)
        if result.is_number and result < 1 or result.is_positive is False:
            raise SymparamsError(
                f"padding {unicode_plain(sizes[2])} leaves no output {axis}: it would be "
                f"{unicode_plain(result)}", field="padding")
        out.append(result)
    return out


def transpose_output_size(size, window, padding, stride, dilation, output_padding) -> Expr:
    """The output size along one axis (PyTorch's rule; nothing is rounded)."""
    return (size - 1) * stride - 2 * padding + dilation * (window - 1) + output_padding + 1


class Conv2DTranspose(Layer):
    """A transposed ("fractionally strided") convolution: each input value is spread
    over an m × n window of each of the k output channels.

    >>> Conv2DTranspose(kernel=3, filters=8, stride=2).formula
    k*(d*m*n + 1)
    >>> from sympy import Integer
    >>> Conv2DTranspose(kernel=3, filters=8, stride=2).output_shape((Integer(7),) * 2 + (Integer(4),))
    (15, 15, 8)
    """
    kind = "conv2d_transpose"
    aliases = ("conv2dtranspose", "convtranspose2d", "conv_transpose2d", "deconv2d",
               "deconvolution2d")
    title = "transposed convolution"
    family = "conv"
    name_prefix = "CONV"
    letters = {"m": "filter width", "n": "filter height",
               "d": "channels of the input (filters of the layer before)",
               "k": "filters (output channels) in this layer"}
    schema = (Pair("kernel", letters=("m", "n")), Size("filters", letter="k"),
              Pair("stride", default=1), Pair("padding", default=0, minimum=0),
              Pair("output_padding", default=0, minimum=0), Pair("dilation", default=1),
              Flag("bias", default=True))
    needs_image = True
    kind_by_rank = {2: "conv1d_transpose", 4: "conv3d_transpose"}
    reason = ("Every one of the d input channels is spread over an m × n window of each of "
              "the k output channels with a weight of its own, and each output channel adds "
              "one bias: the same count as a convolution from d to k channels.")
    reason_without_bias = ("Every one of the d input channels is spread over an m × n window "
                           "of each of the k output channels with a weight of its own, and no "
                           "bias (bias: false).")

    def check(self):
        check_output_padding(self)

    def derived(self, in_shape):
        return {"d": in_shape[2]}

    def written_formula(self, L):
        return filter_bank_formula(L, self.bias)

    def _axes(self, in_shape: Shape):
        """(label, letters, size, window, padding, stride, dilation, output padding)
        for height then width; pairs are (along width, along height)."""
        return (("height", ("H", "n"), in_shape[0], self.kernel[1], self.padding[1],
                 self.stride[1], self.dilation[1], self.output_padding[1]),
                ("width", ("W", "m"), in_shape[1], self.kernel[0], self.padding[0],
                 self.stride[0], self.dilation[0], self.output_padding[0]))

    def output_shape(self, in_shape):
        return (*transposed_sizes(self._axes(in_shape)), self.filters)

    def shape_working(self, in_shape):
        out = self.output_shape(in_shape)
        P, S, D, O = (Symbol(s) for s in "PSDO")
        workings = []
        for (axis, (size_letter, window_letter), *sizes), result in zip(self._axes(in_shape),
                                                                        out):
            formula = transpose_rule(Symbol(size_letter), Symbol(window_letter), P, S, D, O)
            substituted = transpose_rule(*(put_in(v) for v in sizes))
            workings.append(AxisWorking(axis, formula, substituted, result))
        return (*workings, given_working("channels", "k", self.filters))

    def describe(self):
        parts = [f"{show_pair(self.kernel, square=True)} filter",
                 f"{unicode_plain(self.filters)} filters", f"stride {show_pair(self.stride)}"]
        for label, pair, default in (("padding", self.padding, 0),
                                     ("output padding", self.output_padding, 0),
                                     ("dilation", self.dilation, 1)):
            if pair != (default, default):
                parts.append(f"{label} {show_pair(pair)}")
        return ", ".join(parts)
