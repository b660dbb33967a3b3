"""Shape arithmetic shared by the layer families: channels-last (height, width, channels)."""
from __future__ import annotations

from sympy import Expr, Integer, Mul, ceiling, floor

Shape = tuple  # tuple[Expr, ...]: (height, width, channels) or (features,)


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
