"""Layer families and the registry that maps spec type names to them.

A new family is one class (a subclass of :class:`Layer`) registered here, plus
its tests.
"""
from __future__ import annotations

import difflib
import re

from ..errors import SymparamsError
from ..printable import echo
from .base import ACTIVATIONS, Layer, generic_formula
from .conv import Conv2D, GroupedConv2D
from .depthwise import DepthwiseConv2D, SeparableConv2D
from .transpose import Conv2DTranspose
from .dense import Dense
from .merge import AddMerge, Concat, MultiplyMerge
from .pool import AvgPool2D, MaxPool2D
from .simple import Activation, Dropout, Flatten, Input
from .norm import BatchNorm, GroupNorm, InstanceNorm, LayerNorm
from .embedding import Embedding, PositionalEmbedding, SelectToken
from .recurrent import GRU, LSTM, RNN
from .attention import MultiheadAttention, TransformerDecoder, TransformerEncoder
from .conv_nd import Conv1D, Conv1DTranspose, Conv3D, Conv3DTranspose, GroupedConv1D, GroupedConv3D
from .pool_nd import (AdaptiveAvgPool, AdaptiveMaxPool, AvgPool1D, AvgPool3D, GlobalAvgPool,
                      GlobalMaxPool, MaxPool1D, MaxPool3D)
from .reshaping import Identity, Permute, Reshape, Upsample, ZeroPadding
from .opaque import Opaque, Tensor

# The source document's kinds first: error messages list as many as fit.
FAMILIES: tuple[type[Layer], ...] = (Conv2D, MaxPool2D, AvgPool2D, Dense, Flatten, Dropout,
                                     Activation, DepthwiseConv2D, SeparableConv2D,
                                     Conv2DTranspose, BatchNorm, LayerNorm, GroupNorm,
                                     InstanceNorm, AddMerge, MultiplyMerge, Concat,
                                     Embedding, PositionalEmbedding, RNN, LSTM, GRU,
                                     MultiheadAttention, TransformerEncoder, TransformerDecoder,
                                     SelectToken,
                                     Conv1D, Conv3D, Conv1DTranspose, Conv3DTranspose,
                                     MaxPool1D, AvgPool1D, MaxPool3D, AvgPool3D, GlobalAvgPool,
                                     GlobalMaxPool, AdaptiveAvgPool, AdaptiveMaxPool, Upsample,
                                     ZeroPadding, Reshape, Permute, Identity, Opaque, Tensor)

REGISTRY: dict[str, type[Layer]] = {}
for _cls in FAMILIES:
    for _name in (_cls.kind, *_cls.aliases):
        REGISTRY[_name] = _cls


def layer_class(type_name: str) -> type[Layer]:
    """The class for a spec ``type:`` (case-insensitive).

    >>> layer_class("Conv2D").__name__
    'Conv2D'
    """
    key = type_name.strip().lower()
    if key in REGISTRY:
        return REGISTRY[key]
    squashed = re.sub(r"[\s_-]+", "", key)
    if squashed in _BY_SQUASHED:  # GlobalAvgPool2D, conv_1d, Zero-Padding-2D …
        return _BY_SQUASHED[squashed]
    if key == "input":
        raise SymparamsError("the input is given by the top-level 'input:' field, "
                             "not as a layer", field="type")
    kinds = kinds_text()
    if squashed in _SQUASHED_ACTIVATIONS:
        function = _SQUASHED_ACTIVATIONS[squashed]
        raise SymparamsError(f"{echo(type_name)} is an activation function: write type: "
                             f"activation, function: {function}", field="type")
    if is_unsupported(key):
        # A real layer kind we do not count yet: a did-you-mean would mislead
        # (conv1d is not a misspelt conv2d).
        raise SymparamsError(f"layer type {echo(type_name)} is not supported yet (supported: "
                             f"{kinds})", field="type")
    # Only close misspellings get a suggestion.
    close = difflib.get_close_matches(key, REGISTRY, n=1, cutoff=0.75)
    hint = f"; did you mean '{REGISTRY[close[0]].kind}'?" if close else ""
    raise SymparamsError(f"unknown layer type {echo(type_name)} (known: {kinds}){hint}",
                         field="type")


def kinds_text(limit: int = 100) -> str:
    """The supported kinds for an error line: all of them, or as many as fit in
    ``limit`` characters and a pointer to the full list (the line stays short)."""
    names = [cls.kind for cls in FAMILIES]
    if len(", ".join(names)) <= limit:
        return ", ".join(names)
    more = ", … (symparams explain lists all)"
    shown: list[str] = []
    for name in names:
        if len(", ".join([*shown, name]) + more) > limit:
            break
        shown.append(name)
    return ", ".join(shown) + more


# Layer kinds of other libraries that symparams cannot count yet (matched on the
# name without spaces, - and _): 1-D/3-D variants of the 2-D-only kinds (depthwise,
# separable, locally connected …), fractional and LP pooling, other normalisations (local
# response …), recurrent, embedding, attention, cropping …
_UNSUPPORTED = re.compile(
    r"1d|3d|deconv|global|adaptive|norm|recurrent"
    r"|upsampl|padding|reflectionpad|replicationpad|constantpad"
    r"|bidirectional|timedistributed|lambda|residual|resblock|bottleneck|conv3"
    r"|locallyconnected|cropping|repeatvector|masking|spatialdropout|gaussian|alphadropout"
    r"|pixelshuffle|unfold|fold|bilinear|highway|maxout|capsule|fractional|lppool|prelu")


def is_unsupported(type_name: str) -> bool:
    """True for a layer kind of other libraries that symparams does not count yet
    (conv1d, localresponsenorm, lstm, global pooling …): no did-you-mean for those."""
    squashed = re.sub(r"[\s_-]+", "", type_name.strip().lower())
    if squashed in _SQUASHED_KINDS:  # batch_norm is a spelling of a kind we count
        return False
    return bool(_UNSUPPORTED.search(squashed))


_SQUASHED_KINDS = {re.sub(r"[\s_-]+", "", name) for name in REGISTRY}
# Each kind and alias without spaces, - and _ (the first one registered wins).
_BY_SQUASHED: dict[str, type[Layer]] = {}
for _name, _cls in REGISTRY.items():
    _BY_SQUASHED.setdefault(re.sub(r"[\s_-]+", "", _name), _cls)


_SQUASHED_ACTIVATIONS = {a.replace("_", ""): a for a in ACTIVATIONS if a not in ("linear",
                                                                                  "none")}


__all__ = ["Conv1D", "Conv3D", "GroupedConv1D", "GroupedConv3D", "Conv1DTranspose",
           "Conv3DTranspose", "MaxPool1D", "AvgPool1D", "MaxPool3D", "AvgPool3D",
           "GlobalAvgPool", "GlobalMaxPool", "AdaptiveAvgPool", "AdaptiveMaxPool", "Upsample",
           "ZeroPadding", "Reshape", "Permute", "Identity", "Opaque", "Tensor",
           "Layer", "Conv2D", "GroupedConv2D", "DepthwiseConv2D", "SeparableConv2D", "Conv2DTranspose",
           "MaxPool2D", "AvgPool2D", "Dense", "Flatten", "Dropout",
           "Activation", "Input", "BatchNorm", "LayerNorm", "GroupNorm", "InstanceNorm",
           "Embedding", "PositionalEmbedding", "SelectToken", "RNN", "LSTM", "GRU",
           "MultiheadAttention", "TransformerEncoder", "TransformerDecoder",
           "REGISTRY", "FAMILIES", "layer_class", "generic_formula",
           "is_unsupported"]
