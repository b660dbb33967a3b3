"""Which layer feeds which: ``inputs:`` of a layer and ``outputs:`` of a network.

A network is a list of layers in file order.  By default each layer takes the
output of the layer before it (a chain); a layer may instead name its inputs
(``inputs: [CONV1]``, ``inputs: [CONV2, INPUT]`` for a merge layer).  Only
earlier layers (or the input, ``INPUT``) may be named, so the file order is an
order in which the shapes can be worked out and no cycle can arise.  The
network's outputs are the layers whose output no other layer takes, unless the
spec lists them in ``outputs:``.
"""
from __future__ import annotations

from typing import Any, Mapping, Sequence

from .addresses import listing
from .errors import SymparamsError
from .printable import echo

INPUT_NAME = "INPUT"


def check_names_field(raw: Any, field: str) -> tuple[str, ...]:
    """A layer name or a non-empty list of them, as written in a spec."""
    items = [raw] if isinstance(raw, (str, int)) and not isinstance(raw, bool) else raw
    if not isinstance(items, (list, tuple)) or not items or not all(
            isinstance(i, (str, int)) and not isinstance(i, bool) for i in items):
        raise SymparamsError(f"expected a layer name or a list of names such as [CONV1, "
                             f"INPUT], found {echo(raw)}", field=field)
    return tuple(str(i) for i in items)


def inputs_per_layer(inputs: Mapping[str, Any] | Sequence[Any] | None, names: list[str],
                     source: str | None) -> list[tuple[str, ...] | None]:
    """The written ``inputs:`` of each layer (None where the layer before is meant),
    from a list parallel to the layers or a mapping of layer name → names."""
    if inputs is None:
        return [None] * len(names)
    if isinstance(inputs, Mapping):
        unknown = [k for k in inputs if k not in names]
        if unknown:
            raise SymparamsError(f"inputs given for {echo(unknown[0])}, which is no layer "
                                 f"(layers: {listing(names)})", file=source, field="inputs")
        inputs = [inputs.get(name) for name in names]
    inputs = list(inputs)
    if len(inputs) != len(names):
        raise SymparamsError(f"expected inputs for {len(names)} layers, found {len(inputs)}",
                             file=source, field="inputs")
    out = []
    for index, (raw, name) in enumerate(zip(inputs, names), start=1):
        try:
            # inputs: [] is a layer that takes nothing (a learned tensor); resolve_sources
            # refuses it for any layer that needs an input.
            out.append(None if raw is None else () if isinstance(raw, (list, tuple)) and
                       not raw else check_names_field(raw, "inputs"))
        except SymparamsError as exc:
            raise exc.located(file=source, layer=(index, name)) from None
    return out


def resolve_sources(names: list[str], written: list[tuple[str, ...] | None], merges: list[bool],
                    kinds: list[str], source: str | None,
                    first: str = INPUT_NAME,
                    pairs: list[bool] | None = None,
                    many: list[bool] | None = None,
                    none: list[bool] | None = None) -> list[tuple[int, ...]]:
    """For each layer, the positions of the layers it takes (0 is the first input,
    called ``first`` and INPUT both).

    Refuses an unknown name (listing what exists), a layer named before it is
    defined (a forward reference or a cycle), a merge layer with fewer than two
    inputs and any other layer with more than one.  A further network input
    (kind ``input``) takes nothing, and is never "the layer before" by default:
    the first layer after the inputs takes the first input.  A layer marked in
    ``pairs`` (attention: queries, then keys and values) takes one input or two, one
    marked in ``many`` (opaque) one or more; one marked in ``none`` (a learned tensor)
    takes nothing, and only such a layer or one in ``many`` may be given ``inputs: []``.
    """
    position = {INPUT_NAME: 0, first: 0, **{name: i for i, name in enumerate(names, start=1)}}
    resolved = []
    for index, (name, wanted, merge, kind) in enumerate(zip(names, written, merges, kinds),
                                                        start=1):
        where = dict(file=source, layer=(index, name), field="inputs")
        if kind == "input" or (none and none[index - 1] and not wanted):
            resolved.append(())
            continue
        if none and none[index - 1]:
            raise SymparamsError(f"{kind} takes no input: leave inputs out or write "
                                 f"inputs: []", **where)
        if wanted == ():
            if not (many and many[index - 1]):
                raise SymparamsError(f"{kind} needs an input; only a tensor (or an opaque "
                                     f"op with its output given) takes none (inputs: [])",
                                     **where)
            resolved.append(())
            continue
        if wanted is None:
            if merge:
                raise SymparamsError(f"{kind} joins several layers: name them, e.g. inputs: "
                                     f"[{names[index - 2] if index > 1 else INPUT_NAME}, "
                                     f"{INPUT_NAME}]", **where)
            before = index - 1
            while before and kinds[before - 1] == "input":
                before -= 1
            resolved.append((before,))
            continue
        found = []
        for wanted_name in wanted:
            at = position.get(wanted_name)
            if at is None:
                earlier = [first, *names[:index - 1]]
                raise SymparamsError(f"no layer or input named {echo(wanted_name)} (earlier: "
                                     f"{listing(earlier)})", **where)
            if at >= index:
                what = "itself (a cycle)" if at == index else \
                    f"{echo(wanted_name)}, layer {at}, which comes later (a forward reference)"
                raise SymparamsError(f"a layer can only take earlier layers or the input, "
                                     f"found {what}", **where)
            found.append(at)
        if merge and len(found) < 2:
            raise SymparamsError(f"{kind} joins several layers, found {len(found)} input",
                                 **where)
        most = 2 if pairs and pairs[index - 1] else 1
        if not merge and len(found) > most and not (many and many[index - 1]):
            takes = "one input" if most == 1 else \
                "at most two inputs (queries, then keys and values)"
            raise SymparamsError(f"{kind} takes {takes}, found {len(found)}; join them "
                                 f"first with add, multiply or concat", **where)
        resolved.append(tuple(found))
    return resolved


def output_positions(sources: list[tuple[int, ...]], names: list[str],
                     outputs: Sequence[str] | None, source: str | None) -> tuple[int, ...]:
    """The layers the network gives out: those listed in ``outputs:``, else those
    no layer takes (the last layer of a chain)."""
    if outputs is None:
        taken = {i for found in sources for i in found}
        # A further input takes nothing (sources ()); it is no output even when unused.
        return tuple(i for i in range(1, len(names) + 1)
                     if i not in taken and sources[i - 1] != ())
    position = {name: i for i, name in enumerate(names, start=1)}
    chosen = []
    for name in check_names_field(list(outputs), "outputs"):
        if name not in position:
            raise SymparamsError(f"no layer named {echo(name)} (layers: {listing(names)})",
                                 file=source, field="outputs")
        chosen.append(position[name])
    return tuple(dict.fromkeys(chosen))


def is_chain(sources: list[tuple[int, ...]]) -> bool:
    """True when every layer takes the one before it (a plain sequence)."""
    return all(found == (index,) for index, found in enumerate(sources))
