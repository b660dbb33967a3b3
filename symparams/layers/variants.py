"""Formula variants of a family, made once when its module is imported.

A layer's formula is cached per class (``generic_formula(cls, bias)``), so a
family whose formula depends on a switch (an LSTM's bias vectors per gate, a
bidirectional or stacked recurrent layer, attention with its own key width)
has one class per formula.  The family's ``check()`` picks its class from the
field values, as the normalisation layers do.  The classes are module-level
names, so layers pickle and copy, and there are only a few of each.
"""
from __future__ import annotations

import itertools
import sys
from typing import Any


def make_variants(base: type, switches: dict[str, tuple[Any, ...]],
                  letters=None) -> dict[tuple, type]:
    """One subclass of ``base`` per combination of ``switches`` (attribute → values), as
    ``{values: class}`` in the order of ``switches``.  ``letters(values)`` gives the
    variant's letters when they differ from the base's (a stacked layer's s)."""
    module = sys.modules[base.__module__]
    names = list(switches)
    variants = {}
    for values in itertools.product(*switches.values()):
        attrs: dict[str, Any] = dict(zip(names, values))
        attrs["_base"] = base
        attrs["schema"] = base.schema
        attrs["letters"] = letters(attrs) if letters else base.letters
        attrs["__doc__"] = f"{base.__name__} with " + ", ".join(
            f"{n}={v!r}" for n, v in zip(names, values)) + "."
        suffix = "_".join(f"{n}{_short(v)}" for n, v in zip(names, values))
        cls = type(f"{base.__name__}_{suffix}", (base,), attrs)
        cls.__module__ = base.__module__
        setattr(module, cls.__name__, cls)
        variants[values] = cls
    base._variants = variants
    base._base = base
    return variants


def _short(value: Any) -> str:
    return str(int(value)) if isinstance(value, bool) else str(value)


class Variants:
    """Mixin: ``check()`` moves a layer to the variant of its field values, and a copy
    with a field changed (``with_given``, a network's convention) is moved again."""

    _variants: dict[tuple, type]
    _base: type

    def variant_key(self) -> tuple:
        raise NotImplementedError

    def check(self):
        base = type(self)._base
        if "_variants" in base.__dict__:
            self.__class__ = base._variants[self.variant_key()]
        object.__setattr__(self, "_fields_read", True)

    def __setattr__(self, key, value):
        # A field set after the layer is built (a copy with another num_layers, the
        # network's convention filled in) moves the layer to its variant again.
        object.__setattr__(self, key, value)
        if key in type(self).fields and self.__dict__.get("_fields_read"):
            self.check()


__all__ = ["make_variants", "Variants"]
