"""Walking the input shape through a network's layers.

The walk settles each layer's shape, numbers its letters in order of appearance
per family (the first convolution has m_1, n_1, d_1, k_1, the second m_2 …),
fills in the letters that follow from the layers before (d from the channels
coming in, p from the number of values coming in) and counts its parameters.
On the way it checks what only the walk can see: sizes within bounds, the
shapes a layer takes (merges, attention's memory), ties to earlier layers, and
that no size uses another layer's letter.  :class:`symparams.network.Network`
calls it once when it is built.
"""
from __future__ import annotations

from typing import Any, Iterable, Mapping, Sequence

from sympy import Expr, Integer, Symbol

from .errors import SymparamsError
from .layerinfo import LayerInfo
from .layers import Input, Layer, generic_formula
from .layers.base import check_size
from .shapes import RANK_TEXT, RANKS, Shape
from .spec import check_magnitude, size_symbol, size_value


def size_expr(value: Any, what: str) -> Expr:
    """A size read from spec data or a keyword, errors located at field ``what``."""
    try:
        return size_value(value)
    except SymparamsError as exc:
        raise exc.located(field=what) from None


def check_input_shape(raw: Iterable[Any], field: str | None, source: str | None) -> Shape:
    """An input shape of a valid rank with every entry a valid size."""
    field = field or "input"
    shape = tuple(size_expr(v, f"{field}[{i}]") for i, v in enumerate(raw))
    if len(shape) not in RANKS:
        raise SymparamsError(f"expected {RANK_TEXT}, found {len(shape)} entries",
                             file=source, field=field)
    try:
        return tuple(check_size(v, f"{field}[{i}]") for i, v in enumerate(shape))
    except SymparamsError as exc:
        raise exc.located(file=source) from None


def walk(layers: Sequence[Layer], names: Sequence[str], sources: Sequence[tuple[int, ...]],
         input_shape: Shape, input_name: str, *, convention: str, frozen: frozenset[str],
         blocks: Mapping[str, tuple], source: str | None) -> tuple[LayerInfo, ...]:
    """One :class:`LayerInfo` per layer, the input (layer 0) first.

    ``sources[i]`` are the positions (0 the input) that layer ``i + 1`` takes.
    """
    shape = input_shape
    infos = [LayerInfo(0, input_name, Input(shape, name=input_name), (), shape,
                       {}, {}, Integer(0))]
    family_counts: dict[str, int] = {}
    letter_names: set[str] = set()
    all_names = [input_name, *names]
    for index, (layer, name) in enumerate(zip(layers, names), start=1):
        if isinstance(layer, Input):   # a further network input: takes nothing
            info = LayerInfo(index, name, layer, (), layer.shape, {}, {}, Integer(0))
            info.takes_previous = False
            infos.append(info)
            continue
        layer = in_convention(layer, convention)
        # A layer's shape (and so its d, p) comes from the layers it takes.
        found = sources[index - 1]
        in_shapes = tuple(infos[i].output_shape for i in found)
        # A learned tensor (or an opaque op given inputs: []) takes nothing.
        shape = in_shapes[0] if in_shapes else ()
        try:
            for size in layer.sizes():  # sizes set since (--set H=10^60 in H^64) too
                check_magnitude(size)
            if layer.merges:
                layer.check_inputs(list(in_shapes), [all_names[i] for i in found])
            elif in_shapes:
                layer.check_input(shape)
                if len(in_shapes) > 1 and not layer.takes_many:   # attention's memory
                    layer.check_memory(shape, in_shapes[1], all_names[found[1]])
            elif not layer.takes_no_input and getattr(layer, "output", None) is None:
                raise SymparamsError(f"{layer.kind} without inputs needs its output shape "
                                     f"(output: [..])", field="output")
            if getattr(layer, "tied", False):
                layer.check_tie(shape, tie_target(layer, all_names[:index], infos))
            letters: dict[str, Symbol] = {}
            if layer.family and layer.letters:
                number = family_counts[layer.family] = family_counts.get(layer.family, 0) + 1
                letters = {l: size_symbol(f"{l}_{number}") for l in layer.letters}
                letter_names.update(s.name for s in letters.values())
            by_letter = {**layer.given(), **layer.derived(shape)} if letters else {}
            out_shape = layer.merged_shape(list(in_shapes)) if layer.merges \
                else layer.output_shape(shape)
        except SymparamsError as exc:
            raise exc.located(file=source, layer=(index, name)) from None
        # One xreplace from the family's cached formula straight to the values.
        params = layer.counted if layer.counted is not None else \
            generic_formula(type(layer), layer.bias)[1].xreplace(
                {size_symbol(l): v for l, v in by_letter.items()})
        values = {letters[l]: v for l, v in by_letter.items()}
        info = LayerInfo(index, name, layer, shape, out_shape, letters, values, params,
                         sources=tuple(all_names[i] for i in found), input_shapes=in_shapes,
                         frozen=name in frozen)
        info.takes_previous = found == (index - 1,)
        info.blocks = blocks.get(name, ())
        infos.append(info)
    check_symbols(infos, letter_names, source)
    return tuple(infos)


def tie_target(layer: Layer, earlier: list[str], infos: list[LayerInfo]) -> Layer:
    """The earlier layer whose weights ``tie:`` names (an error if there is none)."""
    if layer.tie not in earlier:
        raise SymparamsError(f"no earlier layer named {layer.tie} to tie to (tie names "
                             f"the embedding whose table this layer uses)", field="tie")
    return infos[earlier.index(layer.tie)].layer


def in_convention(layer: Layer, convention: str) -> Layer:
    """The layer as counted here: a family the frameworks count differently that
    leaves its ``convention`` to the network (None) takes the network's."""
    if "convention" not in layer.fields or layer.convention is not None:
        return layer
    filled = layer._replace(convention=convention)
    filled.check()   # picks the family's variant (formula) for the convention
    return filled


def check_symbols(infos: Sequence[LayerInfo], letter_names: set[str],
                  source: str | None) -> None:
    """A size may use its own letter (stay symbolic) or free names, not another layer's letter."""
    for info in infos[1:]:
        own = {s.name for s in info.letters.values()}
        for size in info.layer.sizes():
            for sym in size.free_symbols:
                if sym.name in letter_names and sym.name not in own:
                    raise SymparamsError(
                        f"{sym.name} is a letter of another layer; a size may use its "
                        f"own letter or free names such as H", file=source,
                        layer=(info.index, info.name))
