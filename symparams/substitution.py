"""Setting and freeing a network's sizes: the layers and input shape of the copy.

:meth:`Network.subs <symparams.network.Network.subs>`, :meth:`~symparams.network.Network.free`
and :meth:`~symparams.network.Network.symbolic` are thin: the functions here
resolve the size addresses (:mod:`symparams.addresses`) and give back the new
layers and input shape, which the network rebuilds itself from (this module
sits below the network and never builds one).
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Iterable, Mapping

from sympy import Expr, Symbol

from .addresses import AXIS_LETTER, fresh_name, input_axes, resolve_size
from .errors import SymparamsError
from .layerinfo import LayerInfo
from .layers import Layer
from .spec import size_symbol
from .walk import size_expr

if TYPE_CHECKING:
    from .network import Network

Rebuilt = tuple[list[Layer], tuple[Expr, ...]]


def letter_owners(infos: Iterable[LayerInfo]) -> dict[str, tuple[int, str]]:
    """Letter name → (layer index, plain letter); a dict so subs stays linear."""
    return {sym.name: (info.index, letter)
            for info in infos for letter, sym in info.letters.items()}


def with_sizes_set(net: "Network", values: Mapping[str, Any]) -> Rebuilt:
    """The layers and input shape with the sizes ``values`` addresses set."""
    layers = list(net._layers)
    shape = list(net.input_shape)
    free: dict[Symbol, Expr] = {}
    seen: dict[tuple, str] = {}
    for key, raw in values.items():
        size = resolve_size(net, key)
        for part in size.parts():
            if part in seen:
                raise SymparamsError(f"{seen[part]} and {key} set the same size", field=key)
            seen[part] = key
        value = size_expr(raw, key)
        for name in size.letters:
            index, letter = net._locate_letter(name)
            try:
                layers[index - 1] = layers[index - 1].with_given(letter, value)
            except SymparamsError as exc:
                raise exc.located(layer=(index, net._names[index - 1])) from None
        for name in size.free:
            free[net.free_symbols[name]] = value
        for axis in size.axes:
            shape[axis] = value
    if free:
        shape = [v.xreplace(free) for v in shape]
        layers = [layer.xreplace(free) for layer in layers]
    return layers, tuple(shape)


def with_sizes_freed(net: "Network", names: Iterable[Any]) -> Rebuilt:
    """The layers and input shape with the named sizes letters again (see
    :meth:`Network.free <symparams.network.Network.free>`)."""
    layers = list(net._layers)
    shape = list(net.input_shape)
    letters: list[str] = []
    for key in (getattr(n, "name", n) for n in names):  # addresses or their Symbols
        if key in net._letter_owner:   # d_2, p_1 …: nothing to free
            letters.append(key)
            continue
        size = resolve_size(net, key, verb="free")
        letters += size.letters
        if size.axes:
            letter = size_symbol(fresh_name(net, AXIS_LETTER[size.axis or "height"]))
            for axis in size.axes:
                shape[axis] = letter
    for name in letters:
        index, letter = net._locate_letter(name)
        layer = layers[index - 1]
        if letter in layer.given_letters:
            layers[index - 1] = layer.with_given(letter, net.layers[index].letters[letter])
    return layers, tuple(shape)


def every_size_name(net: "Network") -> list[str]:
    """The addresses :meth:`Network.symbolic <symparams.network.Network.symbolic>`
    frees: every letter and each numeric input axis."""
    # Numeric input sizes only: a name (H) is a letter already, an expression (2*F)
    # keeps its names.
    axes = [f"INPUT.{axis}" for axis, entries in input_axes(net).items()
            if len(entries) == 1 and net.input_shape[entries[0]].is_number]
    return [*net.letters, *axes]
