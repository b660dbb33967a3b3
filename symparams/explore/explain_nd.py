"""``explain`` for the 1-D and 3-D windows and the layers that only change the shape:
why each has its count, the example it is worked on, and what its output shape is.
The rules themselves are printed from the layer's own shape working (explain.py)."""
from __future__ import annotations

from typing import Any

_CONV = ("A {n}-D convolution slides each of its k filters along the {axes} of the input. At "
         "every position a filter looks at a {window} window through all d input channels and "
         "has one weight for each of those values, plus one bias (the + 1); there are k "
         "filters (the × k). The same weights are used at every position, so the {size} does "
         "not appear in the count. With groups: g each filter sees only the d / g channels of "
         "its group: ((… × d / g) + 1) × k. bias: false drops the + 1.")
_TRANSPOSE = ("A transposed {n}-D convolution spreads every value of each of the d input "
              "channels over a {window} window of each of the k output channels, with a weight "
              "of its own for each, and each output channel adds one bias: the count of a "
              "{n}-D convolution from d to k channels. The output grows with the stride "
              "instead of shrinking; output_padding adds to one side (smaller than the stride "
              "or the dilation, as in PyTorch).")
_POOL = ("Pooling replaces each {window} window by its {how}, a fixed rule: no weights and no "
         "bias, so nothing to learn and the count is 0. It shrinks the {axes}, and with them "
         "what the next dense layer is connected to.")
_GLOBAL = ("Global {how} pooling takes the {how} of all positions of each channel: a [.., C] "
           "input becomes C values (keepdims: true keeps each spatial size as 1). It is "
           "usually the last step before a classifier and has nothing to learn: the count "
           "is 0. Keras writes it GlobalAveragePooling1D/2D/3D; the input's rank says which.")
_ADAPTIVE = ("Adaptive {how} pooling (PyTorch's Adaptive{Name}Pool1d/2d/3d) chooses its "
             "windows so the output has the size asked for (output_size), whatever the input "
             "size; it takes the {how} of each window and learns nothing: the count is 0.")

WHY: dict[str, str] = {
    "conv1d": _CONV.format(n=1, axes="length", window="m", size="signal's length L"),
    "conv3d": _CONV.format(n=3, axes="depth, height and width", window="m × n × o",
                           size="volume's size"),
    "conv1d_transpose": _TRANSPOSE.format(n=1, window="m"),
    "conv3d_transpose": _TRANSPOSE.format(n=3, window="m × n × o"),
    "maxpool1d": _POOL.format(window="m", how="largest value", axes="length"),
    "avgpool1d": _POOL.format(window="m", how="mean", axes="length"),
    "maxpool3d": _POOL.format(window="m × n × o", how="largest value",
                              axes="depth, height and width"),
    "avgpool3d": _POOL.format(window="m × n × o", how="mean", axes="depth, height and width"),
    "global_avg_pool": _GLOBAL.format(how="average"),
    "global_max_pool": _GLOBAL.format(how="maximum"),
    "adaptive_avg_pool": _ADAPTIVE.format(how="average", Name="Avg"),
    "adaptive_max_pool": _ADAPTIVE.format(how="maximum", Name="Max"),
    "upsample": (
        "Upsampling makes each spatial size U times larger (scale: U) or gives it the size "
        "asked for (size:), by repeating or interpolating the values; no weights, nothing to "
        "learn: the count is 0. It changes the shape, and so what the layers after it count."),
    "zero_padding": (
        "Zero padding adds P zeros before and Q after each spatial axis (one size for both "
        "sides, one per axis, or [before, after] per axis, in the input's axis order). Zeros "
        "are not learned: the count is 0."),
    "reshape": (
        "Reshaping lays the same values out in another shape (target; one size may be -1, "
        "worked out from the others). Nothing is computed: the count is 0. The target must "
        "hold as many values as the input; an error shows both counts when it does not."),
    "permute": (
        "Permuting puts the input's axes in another order (dims, numbered from 1 with the "
        "channels last, as Keras' Permute writes them). Nothing is computed: the count is 0."),
    "identity": (
        "An identity layer hands its input on unchanged (a placeholder, as PyTorch's "
        "nn.Identity replaces a removed head): nothing to learn, the count is 0."),
}

# The example each kind is worked on: the input shape and the layer's spec fields.
EXAMPLES: dict[str, tuple[tuple[int, ...], dict[str, Any]]] = {
    "conv1d": ((100, 4), {"kernel": 5, "filters": 8}),
    "conv3d": ((16, 32, 32, 1), {"kernel": 3, "filters": 8}),
    "conv1d_transpose": ((25, 16), {"kernel": 4, "filters": 8, "stride": 2}),
    "conv3d_transpose": ((4, 8, 8, 16), {"kernel": 2, "filters": 8, "stride": 2}),
    "maxpool1d": ((96, 8), {"kernel": 2}),
    "avgpool1d": ((96, 8), {"kernel": 2}),
    "maxpool3d": ((14, 30, 30, 8), {"kernel": 2}),
    "avgpool3d": ((14, 30, 30, 8), {"kernel": 2}),
    "global_avg_pool": ((7, 7, 512), {}),
    "global_max_pool": ((7, 7, 512), {}),
    "adaptive_avg_pool": ((13, 13, 256), {"output_size": 6}),
    "adaptive_max_pool": ((13, 13, 256), {"output_size": 6}),
    "upsample": ((7, 7, 16), {"scale": 2}),
    "zero_padding": ((28, 28, 1), {"padding": 2}),
    "reshape": ((7, 7, 8), {"target": [-1, 8]}),
    "permute": ((100, 16), {"dims": [2, 1]}),
    "identity": ((120,), {}),
}

# What the output shape is, in words, beside the rules worked from the example.
SHAPES: dict[str, str] = {
    "conv1d": "length by the window rule; channels: k. P padding, S stride, D dilation",
    "conv3d": ("depth, height and width by the window rule; channels: k. P padding, S stride, "
               "R dilation (D is the depth)"),
    "conv1d_transpose": "length grows with S; channels: k. O output_padding",
    "conv3d_transpose": "each spatial size grows with S; channels: k. R dilation, O output_padding",
    "maxpool1d": "length by the window rule; channels: C. S defaults to the window",
    "avgpool1d": "length by the window rule; channels: C. S defaults to the window",
    "maxpool3d": "depth, height and width by the window rule; channels: C",
    "avgpool3d": "depth, height and width by the window rule; channels: C",
    "global_avg_pool": "C values (keepdims: true: 1 × … × 1 × C)",
    "global_max_pool": "C values (keepdims: true: 1 × … × 1 × C)",
    "adaptive_avg_pool": "output_size along each spatial axis; channels: C",
    "adaptive_max_pool": "output_size along each spatial axis; channels: C",
    "upsample": "each spatial size × U (scale), or the size given; channels: C",
    "zero_padding": "each spatial size + P + Q (H + 2 × P when both sides are equal); channels: C",
    "reshape": "the target; a -1 is the input's values divided by the other sizes",
    "permute": "the input's sizes in the order dims gives",
    "identity": "the same as its input",
}
