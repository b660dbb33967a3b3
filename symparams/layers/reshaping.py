"""Layers that only change the shape: upsampling, zero padding, reshape, permute and
identity.  None has anything to learn; each works its output shape out."""
from __future__ import annotations

from sympy import Add, Integer, Mul, Symbol, evaluate, simplify

from ..errors import SymparamsError
from ..printable import echo
from ..printing import SlashRatio, unicode_plain, unicode_shape
from ..shapes import AXES, RANKS, AxisWorking, flat_size, given_working, passed_on, put_in
from .base import Layer
from .checks import check_size, expr_field
from .fields import Field
from .pool_nd import SizeList, needs_positions, per_axis
from .windows import spatial_axes, window_text

_NOTHING = " it has no weights, so there is nothing to learn and the count is 0."


class Upsample(Layer):
    """Repeat (or interpolate) each position: every spatial size times the scale, or
    the size given (PyTorch's Upsample, Keras' UpSampling1D/2D/3D).

    >>> from sympy import Integer
    >>> Upsample(scale=2).output_shape((Integer(7), Integer(7), Integer(16)))
    (14, 14, 16)
    """
    kind = "upsample"
    aliases = ("upsampling", "upsampling1d", "upsampling2d", "upsampling3d", "upsample1d",
               "upsample2d", "upsample3d", "upsamplingnearest2d", "upsamplingbilinear2d")
    title = "upsampling"
    name_prefix = "UP"
    schema = (SizeList("scale", default=None), SizeList("size", default=None))
    reason = "Upsampling repeats or interpolates the values to a larger size;" + _NOTHING

    def check(self):
        if (self.scale is None) == (self.size is None):
            raise SymparamsError("give either scale (a whole-number factor) or size (the "
                                 "output size), not both or neither",
                                 field="scale" if self.scale is not None else "size")

    def check_input(self, in_shape):
        needs_positions(self, in_shape)
        self._sizes(in_shape)

    def _sizes(self, in_shape):
        field = "scale" if self.scale is not None else "size"
        return per_axis(self, field, getattr(self, field), in_shape)

    def output_shape(self, in_shape):
        sizes = self._sizes(in_shape)
        if self.size is not None:
            return (*sizes, in_shape[-1])
        return (*(v * s for v, s in zip(in_shape, sizes)), in_shape[-1])

    def shape_working(self, in_shape):
        out = self.output_shape(in_shape)
        sizes = self._sizes(in_shape)
        workings = []
        for i, (label, letter) in enumerate(spatial_axes(len(in_shape))):
            if self.size is not None:
                workings.append(AxisWorking(label, put_in(out[i]), put_in(out[i]), out[i]))
                continue
            with evaluate(False):
                formula = Mul(Symbol(letter), Symbol("U"))
                substituted = Mul(put_in(in_shape[i]), put_in(sizes[i]))
            workings.append(AxisWorking(label, formula, substituted, out[i]))
        return (*workings, given_working("channels", "C", in_shape[-1]))

    def describe(self):
        if self.size is not None:
            return f"output size {window_text(self.size)}"
        return f"scale {window_text(self.scale)}"


class Sides(Field):
    """Zero padding: one size for every side, one per spatial axis (both sides), or a
    [before, after] pair per axis, in the input's axis order (Keras' ZeroPadding)."""

    def parse(self, raw, symbols=()):
        items = list(raw) if isinstance(raw, (list, tuple)) else [raw]
        if not 1 <= len(items) <= 3:
            raise SymparamsError(f"expected one size, one per spatial axis or [before, after] "
                                 f"per axis, found {echo(list(items))}", field=self.name)
        sides = []
        for item in items:
            pair = list(item) if isinstance(item, (list, tuple)) else [item, item]
            if len(pair) != 2:
                raise SymparamsError(f"expected [before, after], found {echo(pair)}",
                                     field=self.name)
            sides.append(tuple(check_size(v, self.name, 0) for v in pair))
        return tuple(sides)

    def write(self, value):
        def one(pair):
            return expr_field(pair[0]) if pair[0] == pair[1] else [expr_field(v) for v in pair]
        if len(set(value)) == 1 and value[0][0] == value[0][1]:
            return expr_field(value[0][0])
        return [one(pair) for pair in value]

    def sizes(self, value):
        return [v for pair in value for v in pair]

    def replace(self, value, mapping):
        return tuple(tuple(v.xreplace(mapping) for v in pair) for pair in value)


class ZeroPadding(Layer):
    """Add rows and columns of zeros around each channel (Keras' ZeroPadding1D/2D/3D,
    PyTorch's ZeroPad1d/2d/3d).

    >>> from sympy import Integer
    >>> ZeroPadding(padding=[1, [2, 3]]).output_shape((Integer(8), Integer(8), Integer(3)))
    (10, 13, 3)
    """
    kind = "zero_padding"
    aliases = ("zeropadding1d", "zeropadding2d", "zeropadding3d", "zeropad1d", "zeropad2d",
               "zeropad3d", "zero_padding1d", "zero_padding2d", "zero_padding3d", "zeropad")
    title = "zero padding"
    name_prefix = "PAD"
    schema = (Sides("padding"),)
    reason = "Zero padding only adds zeros around the values;" + _NOTHING

    def check_input(self, in_shape):
        needs_positions(self, in_shape)
        per_axis(self, "padding", self.padding, in_shape)

    def output_shape(self, in_shape):
        sides = per_axis(self, "padding", self.padding, in_shape)
        return (*(v + a + b for v, (a, b) in zip(in_shape, sides)), in_shape[-1])

    def shape_working(self, in_shape):
        out = self.output_shape(in_shape)
        sides = per_axis(self, "padding", self.padding, in_shape)
        workings = []
        for i, (label, letter) in enumerate(spatial_axes(len(in_shape))):
            before, after = sides[i]
            with evaluate(False):
                if before == after:  # H + 2 × P, as the window rule writes the padding
                    formula = Add(Symbol(letter), Mul(Integer(2), Symbol("P")))
                    substituted = Add(put_in(in_shape[i]), Mul(Integer(2), put_in(before)))
                else:  # P before, Q after
                    formula = Add(Symbol(letter), Symbol("P"), Symbol("Q"))
                    substituted = Add(put_in(in_shape[i]), put_in(before), put_in(after))
            workings.append(AxisWorking(label, formula, substituted, out[i]))
        return (*workings, given_working("channels", "C", in_shape[-1]))

    def describe(self):
        if len(set(self.padding)) == 1 and self.padding[0][0] == self.padding[0][1]:
            return f"padding {unicode_plain(self.padding[0][0])}"
        return "padding " + ", ".join(
            unicode_plain(a) if a == b else f"{unicode_plain(a)}/{unicode_plain(b)}"
            for a, b in self.padding)


class Target(Field):
    """Reshape's target shape: 1 to 4 sizes, one of which may be -1 (worked out)."""

    def parse(self, raw, symbols=()):
        items = list(raw) if isinstance(raw, (list, tuple)) else [raw]
        if len(items) not in RANKS:
            raise SymparamsError(f"expected a shape of {RANKS[0]} to {RANKS[-1]} sizes, found "
                                 f"{echo(items)}", field=self.name)
        if sum(1 for v in items if v == -1 and not isinstance(v, bool)) > 1:
            raise SymparamsError(f"only one size may be -1 (worked out), found {echo(items)}",
                                 field=self.name)
        return tuple(Integer(-1) if v == -1 and not isinstance(v, bool)
                     else check_size(v, self.name) for v in items)

    def write(self, value):
        return [expr_field(v) for v in value]

    def sizes(self, value):
        return [v for v in value if v != -1]

    def replace(self, value, mapping):
        return tuple(v.xreplace(mapping) for v in value)


class Reshape(Layer):
    """The same values in another shape; one size may be -1 (worked out).

    >>> from sympy import Integer
    >>> Reshape(target=[-1, 8]).output_shape((Integer(7), Integer(7), Integer(8)))
    (49, 8)
    """
    kind = "reshape"
    aliases = ("view",)
    title = "reshape"
    name_prefix = "RESHAPE"
    schema = (Target("target"),)
    reason = "Reshaping only arranges the same values in another shape;" + _NOTHING

    def output_shape(self, in_shape):
        values = flat_size(in_shape)
        known = [v for v in self.target if v != -1]
        held = flat_size(tuple(known)) if known else Integer(1)
        if -1 not in self.target:
            if _differs(values, held):
                raise SymparamsError(
                    f"the target {unicode_shape(self.target)} holds {unicode_plain(held)} "
                    f"values, the input {unicode_shape(in_shape)} holds {unicode_plain(values)}:"
                    f" a reshape keeps every value", field="target")
            return tuple(self.target)
        rest = simplify(values / held) if not (values.is_Integer and held.is_Integer) \
            else values / held
        if rest.is_number and not rest.is_Integer:
            raise SymparamsError(
                f"the input {unicode_shape(in_shape)} holds {unicode_plain(values)} values, "
                f"which the other sizes of the target ({unicode_shape(known)}, "
                f"{unicode_plain(held)} values) do not divide", field="target")
        return tuple(rest if v == -1 else v for v in self.target)

    def shape_working(self, in_shape):
        out = self.output_shape(in_shape)
        labels = AXES[len(out)]
        workings = []
        for (label, letter), v, result in zip(labels, self.target, out):
            if v != -1:
                workings.append(given_working(label, letter, result))
                continue
            known = [t for t in self.target if t != -1]
            letters = tuple(l for _, l in AXES[len(in_shape)])
            with evaluate(False):
                formula = SlashRatio(Mul(*(Symbol(l) for l in letters)),
                                     Mul(*known) if len(known) > 1 else known[0]) \
                    if known else Mul(*(Symbol(l) for l in letters))
                numbers = Mul(*(put_in(s) for s in in_shape))
                substituted = SlashRatio(numbers, Mul(*(put_in(s) for s in known))
                                         if len(known) > 1 else put_in(known[0])) \
                    if known else numbers
            workings.append(AxisWorking(label, formula, substituted, result))
        return tuple(workings)

    def describe(self):
        return "to " + " × ".join("−1" if v == -1 else unicode_plain(v) for v in self.target)


def _differs(a, b) -> bool:
    """True when two sizes are certainly different (symbolic sizes where decidable)."""
    difference = simplify(a - b)
    return bool(difference.is_number and difference != 0) or difference.is_zero is False


class Order(Field):
    """Permute's order: the input's axes numbered from 1 (channels last), as Keras'
    Permute writes them."""

    def parse(self, raw, symbols=()):
        items = list(raw) if isinstance(raw, (list, tuple)) else [raw]
        if not all(isinstance(v, int) and not isinstance(v, bool) and v >= 1 for v in items) \
                or sorted(items) != list(range(1, len(items) + 1)):
            raise SymparamsError(f"expected the axes 1 to {len(items)} in a new order, each "
                                 f"once, found {echo(items)}", field=self.name)
        return tuple(items)

    def write(self, value):
        return list(value)


class Permute(Layer):
    """The axes in another order (Keras' Permute; dims count from 1, channels included).

    >>> from sympy import Integer
    >>> Permute(dims=[2, 1]).output_shape((Integer(10), Integer(4)))
    (4, 10)
    """
    kind = "permute"
    title = "permute"
    name_prefix = "PERMUTE"
    schema = (Order("dims"),)
    reason = "Permuting only puts the axes in another order;" + _NOTHING

    def check_input(self, in_shape):
        if len(self.dims) != len(in_shape):
            raise SymparamsError(f"{len(self.dims)} axes for an input with {len(in_shape)} "
                                 f"({unicode_shape(in_shape)}): name every axis once",
                                 field="dims")

    def output_shape(self, in_shape):
        return tuple(in_shape[d - 1] for d in self.dims)

    def shape_working(self, in_shape):
        letters = [l for _, l in AXES[len(in_shape)]]
        return tuple(given_working(label, letters[d - 1], in_shape[d - 1])
                     for (label, _), d in zip(AXES[len(in_shape)], self.dims))

    def describe(self):
        return "axes " + ", ".join(str(d) for d in self.dims)


class Identity(Layer):
    """Hands its input on unchanged (PyTorch's nn.Identity, a placeholder)."""
    kind = "identity"
    title = "identity"
    name_prefix = "ID"
    reason = "An identity layer hands its input on unchanged;" + _NOTHING

    def shape_working(self, in_shape):
        return passed_on(in_shape)
