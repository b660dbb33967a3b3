"""The worked output shape of one layer, for the feedback of shape questions.

One function, :func:`shape_steps`, so that it switches in one place: when the
library's layers carry their own shape steps (``LayerInfo.shape_steps``, built
with the reports' shape working), those are used; until then each axis of a
convolution or pooling is worked out here from the same rule
(:func:`symparams.shapes.conv_output_size`), as SymPy expressions, and a
flatten shows its product.
"""
from __future__ import annotations

from sympy import Add, Integer, Mul, Symbol, ceiling, evaluate, floor

from ..layers import Conv2D, Dense
from ..layers.pool import _Pool2D
from ..printing import Inserted, Ratio
from ..steps import Step


def shape_steps(info) -> list[Step]:
    """How ``info``'s output shape is worked out: one step per worked size
    (none for a layer that hands its input's shape on)."""
    own = getattr(info, "shape_steps", None)
    if own is not None:
        return list(own)
    return _fallback_steps(info)


def _letter(name: str) -> Symbol:
    return Symbol(name, positive=True, integer=True)


def _window(layer):
    """(kernel, stride, padding, dilation) as (width, height) pairs, or None."""
    if isinstance(layer, Conv2D):
        return (layer.m, layer.n), layer.stride, layer.padding, layer.dilation
    if isinstance(layer, _Pool2D):
        return layer.kernel, layer.stride, layer.padding, (Integer(1), Integer(1))
    return None


def _put(formula, values: dict):
    with evaluate(False):
        return formula.xreplace({s: v if v.is_Atom else Inserted(v) for s, v in values.items()})


def _axis_step(label: str, size_letter: str, kernel_letter: str, size, kernel, stride,
               padding, dilation, result, info) -> Step:
    W, m, S = _letter(size_letter), _letter(kernel_letter), _letter("S")
    if padding == "same":
        with evaluate(False):
            formula = ceiling(Ratio(W, S))
        values = {W: size, S: stride}
    else:
        P, D, one = _letter("P"), _letter("D"), Integer(1)
        # ⌊(W + 2P − D(m − 1) − 1) / S⌋ + 1, term by term as it is written.
        span = Add(W, Mul(Integer(2), P, evaluate=False),
                   Mul(Integer(-1), D, Add(m, -one, evaluate=False), evaluate=False), -one,
                   evaluate=False)
        formula = Add(floor(Ratio(span, S), evaluate=False), one, evaluate=False)
        values = {W: size, P: padding, D: dilation, m: kernel, S: stride}
    return Step(title=f"{info.name}: output {label}", name=info.name, kind="shape",
                index=info.index, formula=formula, substituted=_put(formula, values),
                result=result, input_shape=info.input_shape, output_shape=info.output_shape)


def _fallback_steps(info) -> list[Step]:
    layer, shape_in, shape_out = info.layer, info.input_shape, info.output_shape
    window = _window(layer)
    if window is not None:
        kernel, stride, padding, dilation = window
        pads = ("same", "same") if padding == "same" else padding
        height = _axis_step("height", "H", "n", shape_in[0], kernel[1], stride[1], pads[1],
                            dilation[1], shape_out[0], info)
        width = _axis_step("width", "W", "m", shape_in[1], kernel[0], stride[0], pads[0],
                           dilation[0], shape_out[1], info)
        if height.text.substituted == width.text.substituted:
            height.title = f"{info.name}: output height and width"
            return [height]
        return [height, width]
    flattens = layer.kind == "flatten" or (isinstance(layer, Dense) and len(shape_in) == 3)
    if flattens and len(shape_in) == 3:
        H, W, C = _letter("H"), _letter("W"), _letter("C")
        with evaluate(False):
            formula = Mul(H, W, C)
        values = dict(zip((H, W, C), shape_in))
        return [Step(title=f"{info.name}: values after flattening", name=info.name,
                     kind="shape", index=info.index, formula=formula,
                     substituted=_put(formula, values), result=Mul(*shape_in),
                     input_shape=shape_in, output_shape=shape_out)]
    return []
