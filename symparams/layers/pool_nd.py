"""Pooling over any number of axes: 1-D and 3-D windows, global pooling (every
position to one value per channel) and adaptive pooling (an output size given).
None of them learns anything."""
from __future__ import annotations

from sympy import Integer

from ..errors import SymparamsError
from ..printable import echo
from ..printing import unicode_plain
from ..shapes import AxisWorking, given_working, put_in
from .checks import check_size, expr_field
from .fields import Field, Flag, SameAs
from .base import Layer
from .windows import (Axes, AxesPadding, check_fits, options_text, spatial_axes, window_shape,
                      window_shape_working, window_text, window_tiles)

_POOL_REASON = ("Pooling only takes the {how} of each window; it has no weights or biases, "
                "so there is nothing to learn and the count is 0.")


class _PoolND(Layer):
    family = "pool"
    name_prefix = "POOL"
    dims = 1

    def check(self):
        check_fits(self.kernel, self.padding)

    def output_shape(self, in_shape):
        check_fits(self.kernel, self.padding)  # again: sizes may have been set since
        return window_shape(in_shape, self.kernel, self.stride, self.padding,
                            (Integer(1),) * self.dims, in_shape[-1])

    def divides_exactly(self, in_hw):
        return window_tiles(in_hw, self.kernel, self.stride, self.padding,
                            (Integer(1),) * self.dims)

    def shape_working(self, in_shape):
        out = self.output_shape(in_shape)
        return (*window_shape_working(in_shape, out, self.kernel, self.stride, self.padding,
                                      None),
                given_working("channels", "C", in_shape[-1]))

    def describe(self):
        return ", ".join([f"{window_text(self.kernel)} window",
                          *options_text(self, dilation=False)])


def _pool_schema(dims: int):
    # As in Keras and PyTorch, the stride defaults to the window size.
    return (Axes("kernel", count=dims), Axes("stride", default=SameAs("kernel"), count=dims),
            AxesPadding("padding", default=0, count=dims))


class MaxPool1D(_PoolND):
    """Max pooling over a signal [L, C].

    >>> from sympy import Integer
    >>> MaxPool1D(kernel=2).output_shape((Integer(9), Integer(4)))
    (4, 4)
    """
    kind = "maxpool1d"
    aliases = ("max_pool1d", "maxpooling1d")
    title = "1-D max pooling"
    dims, input_rank = 1, 2
    kind_by_rank = {3: "maxpool2d", 4: "maxpool3d"}
    schema = _pool_schema(1)
    reason = _POOL_REASON.format(how="maximum")


class AvgPool1D(_PoolND):
    kind = "avgpool1d"
    aliases = ("avg_pool1d", "averagepooling1d")
    title = "1-D average pooling"
    dims, input_rank = 1, 2
    kind_by_rank = {3: "avgpool2d", 4: "avgpool3d"}
    schema = _pool_schema(1)
    reason = _POOL_REASON.format(how="average")


class MaxPool3D(_PoolND):
    kind = "maxpool3d"
    aliases = ("max_pool3d", "maxpooling3d")
    title = "3-D max pooling"
    dims, input_rank = 3, 4
    kind_by_rank = {2: "maxpool1d", 3: "maxpool2d"}
    schema = _pool_schema(3)
    reason = _POOL_REASON.format(how="maximum")


class AvgPool3D(_PoolND):
    kind = "avgpool3d"
    aliases = ("avg_pool3d", "averagepooling3d")
    title = "3-D average pooling"
    dims, input_rank = 3, 4
    kind_by_rank = {2: "avgpool1d", 3: "avgpool2d"}
    schema = _pool_schema(3)
    reason = _POOL_REASON.format(how="average")


# ------------------------------------------------------------------- global

def needs_positions(layer, in_shape) -> None:
    """Global and adaptive pooling need positions to pool over: not a flat vector."""
    if len(in_shape) == 1:
        raise SymparamsError(f"{layer.kind} pools over positions: it needs a [length, channels]"
                             f", [height, width, channels] or [depth, height, width, channels]"
                             f" input, found a flat vector of {unicode_plain(in_shape[0])} "
                             f"values", field="type")


class _GlobalPool(Layer):
    """Every position of each channel pooled into one value: [.., C] to [C]."""
    name_prefix = "POOL"
    schema = (Flag("keepdims", default=False),)

    def check_input(self, in_shape):
        needs_positions(self, in_shape)

    def output_shape(self, in_shape):
        if self.keepdims:
            return (*(Integer(1),) * (len(in_shape) - 1), in_shape[-1])
        return (in_shape[-1],)

    def shape_working(self, in_shape):
        if not self.keepdims:
            return (given_working("values", "C", in_shape[-1]),)
        return (*(AxisWorking(label, Integer(1), Integer(1), Integer(1))
                  for label, _ in spatial_axes(len(in_shape))),
                given_working("channels", "C", in_shape[-1]))

    def describe(self):
        return "one value per channel, positions kept as 1" if self.keepdims \
            else "one value per channel"


_GLOBAL_REASON = ("Global {how} pooling takes the {how} of every position of each channel; "
                  "it has no weights, so there is nothing to learn and the count is 0.")


class GlobalAvgPool(_GlobalPool):
    """Global average pooling (Keras' GlobalAveragePooling1D/2D/3D).

    >>> from sympy import Integer
    >>> GlobalAvgPool().output_shape((Integer(7), Integer(7), Integer(512)))
    (512,)
    """
    kind = "global_avg_pool"
    aliases = ("globalaveragepooling1d", "globalaveragepooling2d", "globalaveragepooling3d",
               "global_average_pooling", "global_average_pooling1d",
               "global_average_pooling2d", "global_average_pooling3d", "globalavgpool",
               "global_avg_pool1d", "global_avg_pool2d", "global_avg_pool3d")
    title = "global average pooling"
    reason = _GLOBAL_REASON.format(how="average")


class GlobalMaxPool(_GlobalPool):
    """Global max pooling (Keras' GlobalMaxPooling1D/2D/3D)."""
    kind = "global_max_pool"
    aliases = ("globalmaxpooling1d", "globalmaxpooling2d", "globalmaxpooling3d",
               "global_max_pooling", "global_max_pooling1d", "global_max_pooling2d",
               "global_max_pooling3d", "globalmaxpool", "global_max_pool1d",
               "global_max_pool2d", "global_max_pool3d")
    title = "global max pooling"
    reason = _GLOBAL_REASON.format(how="maximum")


# ----------------------------------------------------------------- adaptive

class SizeList(Field):
    """One size for every spatial axis, or one per axis (checked against the input)."""

    def parse(self, raw, symbols=()):
        if raw is None and self.default is None:
            return None
        items = list(raw) if isinstance(raw, (list, tuple)) else [raw]
        if not 1 <= len(items) <= 3:
            raise SymparamsError(f"expected one size or one per spatial axis (at most 3), "
                                 f"found {echo(list(items))}", field=self.name)
        return tuple(check_size(v, self.name, self.minimum) for v in items)

    def write(self, value):
        if value is None:
            return None
        return expr_field(value[0]) if len(value) == 1 else [expr_field(v) for v in value]

    def sizes(self, value):
        return [] if value is None else list(value)

    def replace(self, value, mapping):
        return None if value is None else tuple(v.xreplace(mapping) for v in value)


def per_axis(layer, field: str, sizes: tuple, in_shape) -> tuple:
    """``sizes`` for each spatial axis of ``in_shape``: one size stands for all."""
    axes = len(in_shape) - 1
    if len(sizes) == 1:
        return sizes * axes
    if len(sizes) != axes:
        names = ", ".join(label for label, _ in spatial_axes(len(in_shape)))
        raise SymparamsError(f"{len(sizes)} sizes for an input with {axes} spatial "
                             f"ax{'is' if axes == 1 else 'es'} ({names}): give one size or "
                             f"{axes}", field=field)
    return sizes


class _AdaptivePool(Layer):
    """The window is chosen to give the output size asked for, from any input size."""
    name_prefix = "POOL"
    schema = (SizeList("output_size"),)

    def check_input(self, in_shape):
        needs_positions(self, in_shape)
        per_axis(self, "output_size", self.output_size, in_shape)

    def output_shape(self, in_shape):
        return (*per_axis(self, "output_size", self.output_size, in_shape), in_shape[-1])

    def shape_working(self, in_shape):
        sizes = per_axis(self, "output_size", self.output_size, in_shape)
        return (*(AxisWorking(label, put_in(v), put_in(v), v)
                  for (label, _), v in zip(spatial_axes(len(in_shape)), sizes)),
                given_working("channels", "C", in_shape[-1]))

    def describe(self):
        return f"output size {window_text(self.output_size)}"


_ADAPTIVE_REASON = ("Adaptive {how} pooling picks its windows to give the output size asked "
                    "for and takes the {how} of each; it has no weights, so the count is 0.")


class AdaptiveAvgPool(_AdaptivePool):
    """PyTorch's AdaptiveAvgPool1d/2d/3d.

    >>> from sympy import Integer
    >>> AdaptiveAvgPool(output_size=1).output_shape((Integer(7), Integer(9), Integer(64)))
    (1, 1, 64)
    """
    kind = "adaptive_avg_pool"
    aliases = ("adaptiveavgpool1d", "adaptiveavgpool2d", "adaptiveavgpool3d",
               "adaptive_avg_pool1d", "adaptive_avg_pool2d", "adaptive_avg_pool3d",
               "adaptiveavgpool")
    title = "adaptive average pooling"
    reason = _ADAPTIVE_REASON.format(how="average")


class AdaptiveMaxPool(_AdaptivePool):
    """PyTorch's AdaptiveMaxPool1d/2d/3d."""
    kind = "adaptive_max_pool"
    aliases = ("adaptivemaxpool1d", "adaptivemaxpool2d", "adaptivemaxpool3d",
               "adaptive_max_pool1d", "adaptive_max_pool2d", "adaptive_max_pool3d",
               "adaptivemaxpool")
    title = "adaptive max pooling"
    reason = _ADAPTIVE_REASON.format(how="maximum")
