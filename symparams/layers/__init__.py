"""Layer families and the registry that maps spec type names to them.

A new family is one class (a subclass of :class:`Layer`) registered here, plus
its tests.
"""
from __future__ import annotations

import difflib

from ..errors import SymparamsError
from .base import Layer, generic_formula
from .conv import Conv2D
from .dense import Dense
from .pool import AvgPool2D, MaxPool2D
from .simple import Activation, Dropout, Flatten, Input

FAMILIES: tuple[type[Layer], ...] = (Conv2D, MaxPool2D, AvgPool2D, Dense, Flatten, Dropout,
                                     Activation)

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
    if key == "input":
        raise SymparamsError("the input is given by the top-level 'input:' field, "
                             "not as a layer", field="type")
    close = difflib.get_close_matches(key, REGISTRY, n=1)
    hint = f"; did you mean '{REGISTRY[close[0]].kind}'?" if close else ""
    kinds = ", ".join(cls.kind for cls in FAMILIES)
    raise SymparamsError(f"unknown layer type {type_name!r} (known: {kinds}){hint}",
                         field="type")


__all__ = ["Layer", "Conv2D", "MaxPool2D", "AvgPool2D", "Dense", "Flatten", "Dropout",
           "Activation", "Input", "REGISTRY", "FAMILIES", "layer_class", "generic_formula"]
