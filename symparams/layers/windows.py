"""Windows over any number of axes: the fields and shape rules of the 1-D and 3-D
convolutions and poolings.

conv2d and the 2-D poolings keep their (width, height) pairs (conv.py); the 1-D
and 3-D families give a size per spatial axis *in the input's order*: one size for
a 1-D signal ``[L, C]``, ``[depth, height, width]`` for a volume ``[D, H, W, C]``
(the order of PyTorch's and Keras' ``kernel_size``).  One size stands for every axis.
"""
from __future__ import annotations

from dataclasses import dataclass

from sympy import Integer

from ..errors import SymparamsError
from ..printable import echo
from ..printing import unicode_plain
from ..shapes import AXES, AxisWorking, Shape, conv_divides_exactly, conv_output_size, \
    window_working
from .checks import PADDINGS, check_size, expr_field, keyword_or_size
from .fields import Padding, Pair

# The window's letter along each spatial axis, as the document names them: m along
# the width (or a signal's length), n along the height, o along a volume's depth.
WINDOW_LETTER = {"length": "m", "width": "m", "height": "n", "depth": "o"}


def spatial_axes(rank: int) -> tuple[tuple[str, str], ...]:
    """(label, letter) of the spatial axes of an input of this rank (channels last)."""
    return AXES[rank][:-1]


def window_letters(rank: int) -> tuple[str, ...]:
    """The window letters of a layer on inputs of this rank, in axis order."""
    return tuple(WINDOW_LETTER[label] for label, _ in spatial_axes(rank))


def dilation_letter(rank: int) -> str:
    """D, but R for a volume, whose depth is D."""
    return "R" if rank == 4 else "D"


def _axis_names(count: int) -> str:
    return ", ".join(label for label, _ in spatial_axes(count + 1))


@dataclass(frozen=True)
class Axes(Pair):
    """A size per spatial axis, in the input's order (``[depth, height, width]``), or
    one size for all of them; kept as a tuple.  ``letters`` name the sizes in order."""
    count: int = 1

    def parse(self, raw, symbols=()):
        if isinstance(raw, (list, tuple)):
            if len(raw) != self.count:
                raise SymparamsError(f"expected one size or {self.count} [{_axis_names(self.count)}]"
                                     f", found {echo(list(raw))}", field=self.name)
            return tuple(check_size(v, self.name, self.minimum) for v in raw)
        return (check_size(raw, self.name, self.minimum),) * self.count

    def write(self, value):
        if len(set(value)) == 1:
            return expr_field(value[0])
        return [expr_field(v) for v in value]



@dataclass(frozen=True)
class AxesPadding(Padding):
    """``same``, ``valid`` (0), one size for every axis or one per spatial axis."""
    count: int = 1

    def parse(self, raw, symbols=()):
        if isinstance(raw, str) and raw.strip().lower() in PADDINGS:
            return "same" if raw.strip().lower() == "same" else (Integer(0),) * self.count
        items = list(raw) if isinstance(raw, (list, tuple)) else [raw] * self.count
        if len(items) != self.count:
            raise SymparamsError(f"expected same, valid, one size or {self.count} "
                                 f"[{_axis_names(self.count)}], found {echo(list(raw))}",
                                 field=self.name)
        if any(isinstance(v, str) and v.strip().lower() in PADDINGS for v in items):
            raise SymparamsError("same and valid stand for every axis: write padding: same, "
                                 "not inside a list", field=self.name)
        return tuple(keyword_or_size(v, self.name, self.keywords, symbols) for v in items)

    def write(self, value):
        if value == "same":
            return "same"
        return Axes.write(self, value)


def check_fits(kernel, padding, what: str = "pooling") -> None:
    """Pooling padding of at most half the window (2P ≤ m), as PyTorch requires."""
    if padding == "same":
        return
    for pad, size in zip(padding, kernel):
        if (2 * pad - size).is_positive:
            raise SymparamsError(
                f"padding {unicode_plain(pad)} is more than half the window "
                f"{unicode_plain(size)}: {what} padding may be at most half the window along "
                f"each axis (2 × padding ≤ kernel)", field="padding")


def window_shape(in_shape: Shape, kernel, stride, padding, dilation, channels) -> Shape:
    """Slide a window (a size per spatial axis, in axis order) over the input."""
    out = []
    for index, (label, _) in enumerate(spatial_axes(len(in_shape))):
        pad = "same" if padding == "same" else padding[index]
        size = in_shape[index]
        result = conv_output_size(size, kernel[index], stride[index], pad, dilation[index])
        if result.is_number and result < 1 or result.is_positive is False:
            pad_text = "" if padding == "same" else f" with padding {unicode_plain(pad)}"
            raise SymparamsError(
                f"the window {' × '.join(unicode_plain(k) for k in kernel)} does not fit the "
                f"input {label} {unicode_plain(size)}{pad_text}: output {label} would be "
                f"{unicode_plain(result)}", field="kernel")
        out.append(result)
    return (*out, channels)


def window_shape_working(in_shape: Shape, out_shape: Shape, kernel, stride, padding,
                         dilation) -> tuple[AxisWorking, ...]:
    """How each spatial output size follows (``dilation`` None for pooling)."""
    rank = len(in_shape)
    return tuple(
        window_working(label, (letter, WINDOW_LETTER[label]), in_shape[i], kernel[i],
                       stride[i], "same" if padding == "same" else padding[i],
                       None if dilation is None else dilation[i], out_shape[i],
                       dilation_letter=dilation_letter(rank))
        for i, (label, letter) in enumerate(spatial_axes(rank)))


def window_tiles(spatial, kernel, stride, padding, dilation) -> bool:
    """Every spatial axis is tiled exactly (no rounding down)."""
    return all(conv_divides_exactly(size, kernel[i], stride[i],
                                    "same" if padding == "same" else padding[i], dilation[i])
               for i, size in enumerate(spatial))


def sizes_text(sizes) -> str:
    """``3`` for equal sizes, ``3 × 5 × 5`` otherwise."""
    if len(set(sizes)) == 1:
        return unicode_plain(sizes[0])
    return " × ".join(unicode_plain(v) for v in sizes)


def window_text(kernel) -> str:
    """``3 × 3 × 3`` (every size written: a window's shape)."""
    return " × ".join(unicode_plain(v) for v in kernel)


def options_text(layer, dilation: bool = True) -> list[str]:
    """Stride, and padding and dilation where they are not the defaults."""
    parts = [f"stride {sizes_text(layer.stride)}"]
    if layer.padding == "same":
        parts.append("padding same")
    elif any(p != 0 for p in layer.padding):
        parts.append(f"padding {sizes_text(layer.padding)}")
    if dilation and any(d != 1 for d in layer.dilation):
        parts.append(f"dilation {sizes_text(layer.dilation)}")
    return parts

