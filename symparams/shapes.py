"""Shape arithmetic shared by the layer families, channels last.

A shape is a tuple of sizes: a flat vector ``(N,)``, a sequence or 1-D signal
``(L, C)``, an image ``(H, W, C)`` or a volume ``(D, H, W, C)``.
"""
from __future__ import annotations

from typing import NamedTuple

from sympy import Add, Expr, Integer, Mul, Symbol, ceiling, evaluate, floor

from .printing import Grouped, Inserted, SlashRatio

Shape = tuple  # tuple[Expr, ...]: (N,), (L, C), (H, W, C) or (D, H, W, C)

# Each axis of a shape by its rank: (name, letter).  The letter is what a shape
# step writes for the size (``H × W × C``) and what --symbolic makes of it.
AXES: dict[int, tuple[tuple[str, str], ...]] = {
    1: (("features", "N"),),
    2: (("length", "L"), ("channels", "C")),
    3: (("height", "H"), ("width", "W"), ("channels", "C")),
    4: (("depth", "D"), ("height", "H"), ("width", "W"), ("channels", "C")),
}
RANKS = tuple(AXES)
RANK_TEXT = "[features], [length, channels], [height, width, channels] or " \
            "[depth, height, width, channels]"


def _is_int(*values) -> bool:
    return all(getattr(v, "is_Integer", False) for v in values)


def conv_output_size(size: Expr, kernel: Expr, stride: Expr = Integer(1),
                     padding: Expr | str = Integer(0), dilation: Expr = Integer(1)) -> Expr:
    """Output length along one axis of a convolution or pooling window.

    ``floor((W + 2P − D(m−1) − 1) / S) + 1``; with ``padding="same"`` it is
    ``ceil(W / S)``.

    >>> from sympy import Integer, Symbol
    >>> conv_output_size(Integer(32), Integer(5))
    28
    >>> conv_output_size(Integer(28), Integer(2), stride=Integer(2))
    14
    >>> conv_output_size(Integer(7), Integer(3), Integer(2), "same")
    4
    >>> conv_output_size(Symbol("H", positive=True, integer=True), Integer(5))
    H - 4
    """
    if padding == "same":
        if _is_int(size, stride):
            # Integer arithmetic first: deep networks call this thousands of times.
            return Integer(-(-int(size) // int(stride)))
        return ceiling(size / stride)
    if _is_int(size, kernel, stride, padding, dilation):
        span = int(size) + 2 * int(padding) - int(dilation) * (int(kernel) - 1) - 1
        return Integer(span // int(stride) + 1)
    return floor((size + 2 * padding - dilation * (kernel - 1) - 1) / stride) + 1


def conv_divides_exactly(size: Expr, kernel: Expr, stride: Expr = Integer(1),
                         padding: Expr | str = Integer(0), dilation: Expr = Integer(1)) -> bool:
    """True when :func:`conv_output_size` needs no rounding (the window tiles exactly).

    >>> from sympy import Integer
    >>> conv_divides_exactly(Integer(28), Integer(2), Integer(2))
    True
    >>> conv_divides_exactly(Integer(7), Integer(2), Integer(2))
    False
    """
    if padding == "same":
        return bool((size % stride) == 0)
    return bool(((size + 2 * padding - dilation * (kernel - 1) - 1) % stride) == 0)


def flat_size(shape: Shape) -> Expr:
    """Number of values in a shape (what a flatten produces)."""
    if _is_int(*shape):
        total = 1
        for v in shape:
            total *= int(v)
        return Integer(total)
    return Mul(*shape)


# ------------------------------------------------------------- worked shapes
# How an output size is worked out, as the three faces of a step (formula in
# letters, the same with the numbers put in, the size), built unevaluated so the
# written printers show them in the document's order.

class AxisWorking(NamedTuple):
    """How one output size follows from the input: ``formula`` in letters,
    ``substituted`` with the layer's sizes put in (both unevaluated), ``result``."""
    label: str
    formula: Expr
    substituted: Expr
    result: Expr

    @property
    def is_rule(self) -> bool:
        """False when the size is only handed on or given (``k``, ``C``): nothing to work out."""
        return not self.formula.is_Atom


def put_in(value: Expr) -> Expr:
    """A value put in place of a letter; compound ones print in parentheses."""
    return value if value.is_Atom else Inserted(value)


def window_rule(size: Expr, window: Expr, padding: Expr, stride: Expr,
                dilation: Expr | None = None) -> Expr:
    """``⌊(W + 2 × P - D × (m - 1) - 1) / S⌋ + 1`` as written (unevaluated);
    without dilation (pooling) ``⌊(W + 2 × P - m) / S⌋ + 1``."""
    with evaluate(False):
        if dilation is None:
            span = Add(size, Mul(Integer(2), padding), Mul(Integer(-1), window))
        else:
            span = Add(size, Mul(Integer(2), padding),
                       Mul(Integer(-1), dilation, Grouped(Add(window, Integer(-1)))),
                       Integer(-1))
        return Add(floor(SlashRatio(span, stride)), Integer(1))


def same_rule(size: Expr, stride: Expr) -> Expr:
    """``⌈W / S⌉``, the output size with padding 'same' (unevaluated)."""
    with evaluate(False):
        return ceiling(SlashRatio(size, stride))


def window_working(label: str, letters: tuple[str, str], size: Expr, window: Expr,
                   stride: Expr, padding: Expr | str, dilation: Expr | None,
                   result: Expr, dilation_letter: str = "D") -> AxisWorking:
    """One axis of a sliding window; ``letters`` name the input size and the window
    along it (``("W", "m")`` for the width, ``("H", "n")`` for the height).  A volume's
    depth is D, so 3-D layers write their dilation R (``dilation_letter``)."""
    size_letter, window_letter = (Symbol(l) for l in letters)
    P, S, D = Symbol("P"), Symbol("S"), Symbol(dilation_letter)
    if padding == "same":
        return AxisWorking(label, same_rule(size_letter, S),
                           same_rule(put_in(size), put_in(stride)), result)
    formula = window_rule(size_letter, window_letter, P, S, None if dilation is None else D)
    substituted = window_rule(put_in(size), put_in(window), put_in(padding), put_in(stride),
                              None if dilation is None else put_in(dilation))
    return AxisWorking(label, formula, substituted, result)


def axis_letters(shape: Shape) -> tuple[str, ...]:
    """The letters of a shape's axes: ``("H", "W", "C")`` for an image."""
    return tuple(letter for _, letter in AXES[len(shape)])


def flat_working(label: str, shape: Shape) -> AxisWorking:
    """``H × W × C`` = the product of a shape's sizes (``L × C``, ``D × H × W × C`` …)."""
    with evaluate(False):
        formula = Mul(*(Symbol(l) for l in axis_letters(shape)))
        substituted = Mul(*(put_in(v) for v in shape))
    return AxisWorking(label, formula, substituted, flat_size(shape))


def given_working(label: str, letter: str, value: Expr) -> AxisWorking:
    """A size that is given or handed on unchanged: its letter and its value."""
    return AxisWorking(label, Symbol(letter), put_in(value), value)


def passed_on(shape: Shape) -> tuple[AxisWorking, ...]:
    """Every size handed on unchanged: (H, W, C), (L, C), (N,) …"""
    if len(shape) == 1:
        return (given_working("values", "N", shape[0]),)
    return tuple(given_working(label, letter, v) for (label, letter), v in zip(AXES[len(shape)], shape))
