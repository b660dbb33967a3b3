"""Size addresses: the one reader of the names a user gives a network's sizes.

``--set``, ``net.subs``, ``net.free``, ``sweep --vary``, ``solve --for`` and ``diff
--set-a/--set-b`` all name sizes the same way, and all read them here:

* ``LAYER.FIELD`` — a layer field with a letter: ``CONV1.filters`` (k₁),
  ``FC3.units`` (c₁), ``CONV2.kernel`` (m₂ and n₂ together);
* a letter a layer is given: ``k_1``, ``m_2`` (``d`` and ``p`` follow from the
  layer before and cannot be set);
* a free name of the spec: ``H`` in ``input: [H, H, 3]``;
* an input axis: ``INPUT.height``, ``INPUT.width``, ``INPUT.size`` (height and
  width together), ``INPUT.channels``, ``INPUT.features`` for a flat input,
  ``input[0]`` …; for a numeric input also ``H``, ``W``, ``C`` (``N`` for a flat
  one).  Where the input axis is a name (``H``), the address means that name.

Errors list what exists, shortened when long.  The network is read, never
imported (this module sits beside network.py, which imports it).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .errors import SymparamsError
from .printing import unicode_plain
from .shapes import AXES

if TYPE_CHECKING:
    from .network import Network

__all__ = ["Size", "resolve_size", "input_axes", "AXIS_LETTER", "listing", "fresh_name"]

# Input axes by the input's length: axis name -> entries of the shape.
# An image's (or a volume's) "size" is its height and width together.
INPUT_AXES = {rank: {**{name: (i,) for i, (name, _) in enumerate(axes)},
                     **({"size": (rank - 3, rank - 2)} if rank >= 3 else {})}
              for rank, axes in AXES.items()}
# The letter an input axis gets when it is made symbolic (and its short address).
AXIS_LETTER = {**{name: letter for axes in AXES.values() for name, letter in axes},
               "size": "H"}
_SHORT = {rank: {letter: name for name, letter in axes} for rank, axes in AXES.items()}
_ENTRY = re.compile(r"^input\s*\[\s*(\d+)\s*\]$", re.IGNORECASE)


@dataclass(frozen=True)
class Size:
    """What an address names: sizes that are set (or varied, or solved for) together.

    ``letters`` are layer letters (``m_2``, ``n_2`` for ``CONV2.kernel``), ``free``
    free names (``H``), ``axes`` numeric entries of the input shape.  ``axis`` is the
    input axis an address named (``height`` …), None for layer sizes and free names.
    """
    key: str
    address: str
    letters: tuple[str, ...] = ()
    free: tuple[str, ...] = ()
    axes: tuple[int, ...] = ()
    axis: str | None = None

    def parts(self) -> set[tuple[str, object]]:
        """What this address changes, to find two addresses of the same size."""
        return {("letter", l) for l in self.letters} | {("free", f) for f in self.free} | \
            {("axis", a) for a in self.axes}


def listing(names, limit: int = 12) -> str:
    """``a, b, c`` — the first ones and the last two when there are more than ``limit``."""
    names = list(names)
    if len(names) > limit:
        names = names[:limit - 3] + ["…"] + names[-2:]
    return ", ".join(map(str, names)) or "none"


def fresh_name(net: "Network", wanted: str) -> str:
    """``wanted`` unless the network already uses it (then ``H_in``, ``H_in2`` …)."""
    taken = set(net.symbols)
    name, number = wanted, 0
    while name in taken:
        number += 1
        name = f"{wanted}_in" if number == 1 else f"{wanted}_in{number}"
    return name


def input_axes(net: "Network") -> dict[str, tuple[int, ...]]:
    """``{"height": (0,), …}`` for this network's input."""
    return INPUT_AXES[len(net.input_shape)]


def known_sizes(net: "Network") -> str:
    """The addresses one can give, for an error message."""
    given = [info.letters[l].name for info in net.layers[1:]
             for l in info.layer.given_letters if l in info.letters]
    axes = ["INPUT." + a for a in input_axes(net)]
    numeric_short = [s for s, axis in _SHORT[len(net.input_shape)].items()
                     if s not in net.symbols and _all_numeric(net, axis)]
    return listing([*given, *net.free_symbols, *numeric_short], limit=16) + \
        f"; LAYER.FIELD such as CONV1.filters; {', '.join(axes)}"


def _all_numeric(net: "Network", axis: str) -> bool:
    return all(net.input_shape[a].is_number for a in input_axes(net)[axis])


def resolve_size(net: "Network", key, *, verb: str = "set") -> Size:
    """The size(s) an address names in ``net``; ``verb`` words the errors (set, vary …).

    >>> from symparams import load
    >>> resolve_size(load("lenet"), "CONV2.kernel").letters
    ('m_2', 'n_2')
    >>> resolve_size(load("lenet"), "INPUT.size").axes
    (0, 1)
    """
    key = getattr(key, "name", key)   # a SymPy Symbol stands for its name
    if not isinstance(key, str) or not key.strip():
        raise SymparamsError(f"expected a size such as CONV1.filters, k_1 or INPUT.height, "
                             f"found {key!r}")
    key = key.strip()
    entry = _ENTRY.match(key)
    if entry:
        index = int(entry.group(1))
        names = {a[0]: axis for axis, a in input_axes(net).items() if len(a) == 1}
        if index not in names:
            raise SymparamsError(f"the input has {len(net.input_shape)} entries, found "
                                 f"input[{index}] (sizes: input[0] … "
                                 f"input[{len(net.input_shape) - 1}])", field=key)
        return _input_size(net, key, names[index])
    # The field is after the last dot: block layers have dots in their names (layer1.0.conv1).
    layer_name, dot, field = key.rpartition(".")
    if dot and layer_name.upper() == "INPUT":
        axes = input_axes(net)
        if field.lower() not in axes:
            raise SymparamsError(f"the input has no size called {field!r} (sizes: "
                                 f"{', '.join('INPUT.' + a for a in axes)})", field=key)
        return _input_size(net, key, field.lower())
    if dot:
        return _field_size(net, key, layer_name, field, verb)
    if key in net.letters:
        index, letter = net._locate_letter(key)
        info = net.layers[index]
        if letter not in info.layer.given_letters:
            came = "channels coming into" if letter == "d" else "values coming into"
            raise SymparamsError(f"{key} follows from the layer before (the {came} "
                                 f"{info.name}) and cannot be {_past(verb)}; {verb} the size it "
                                 f"comes from, such as {_source_hint(net, index)}", field=key)
        return Size(key, key, letters=(key,))
    if key in net.free_symbols:
        return Size(key, key, free=(key,))
    short = _SHORT[len(net.input_shape)]
    if key in short:
        return _input_size(net, key, short[key])
    raise SymparamsError(f"unknown size {key!r} (sizes: {known_sizes(net)})", field=key)


def _past(verb: str) -> str:
    return {"set": "set", "vary": "varied", "solve for": "solved for", "free": "freed"}.get(
        verb, verb)


def _source_hint(net: "Network", index: int) -> str:
    for info in reversed(net.layers[1:index]):
        for fieldname in info.layer.given_letters.values():
            if fieldname in ("filters", "units"):
                return f"{info.name}.{fieldname}"
    return "INPUT.features" if len(net.input_shape) == 1 else "INPUT.channels"


def _field_size(net: "Network", key: str, layer_name: str, field: str, verb: str) -> Size:
    infos = {info.name: info for info in net.layers}
    info = infos.get(layer_name)
    if info is None:
        raise SymparamsError(f"no layer named {layer_name!r} (layers: {listing(infos)})",
                             field=key)
    letters = tuple(info.letters[l].name for l, f in info.layer.given_letters.items()
                    if f == field and l in info.letters)
    if letters:
        return Size(key, f"{info.name}.{field}", letters=letters)
    fields = list(dict.fromkeys(info.layer.given_letters.values()))
    if fields:
        raise SymparamsError(f"{info.name} has no size called {field!r} that can be "
                             f"{_past(verb)} (sizes with a letter: "
                             f"{', '.join(f'{info.name}.{f}' for f in fields)})", field=key)
    raise SymparamsError(f"{info.name} has no size called {field!r} with a letter "
                         f"({info.layer.title} has no parameters); sizes: {known_sizes(net)}",
                         field=key)


def _input_size(net: "Network", key: str, axis: str) -> Size:
    """Numeric entries become axes; an entry that is a name means that name."""
    axes, free = [], []
    for a in input_axes(net)[axis]:
        entry = net.input_shape[a]
        if entry.is_number:
            axes.append(a)
        elif entry.is_Symbol:
            free.append(entry.name)
        else:
            names = ", ".join(sorted(s.name for s in entry.free_symbols))
            raise SymparamsError(f"INPUT.{axis} is {unicode_plain(entry)}; give {names} "
                                 f"instead", field=key)
    return Size(key, f"INPUT.{axis}", free=tuple(dict.fromkeys(free)), axes=tuple(axes),
                axis=axis)
