"""Homework templates: network specs in which sizes vary, and drawing variants.

A size may be written as a variation instead of a number:

* ``{choice: [3, 5, 7]}`` — one of the listed whole numbers;
* ``{range: [4, 32], step: 4}`` — every step-th number from low to high, both included;
* ``input: [{range: [28, 64]}, same, 3]`` — ``same`` as the width makes the input square.

Every variant is a valid network by construction.  The spatial sizes (input
height and width, kernels, strides, paddings, dilations) decide whether a
network is valid, so the valid variants are counted exactly with dynamic
programming over the height × width that reaches each layer; the other sizes
(filters, units, channels) only multiply the count.  Variants are then drawn as
distinct indices into that count with the seed and decoded — no retrying, and
the template can say exactly how many distinct valid variants it has.

A template whose layers have too many combinations to count this way (four
ranges of 1,000 values in one convolution are 10¹² choices for that layer
alone) is drawn by rejection instead: a uniformly drawn combination of all its
sizes, decoded as a mixed-radix number without enumerating anything, is kept
when the network is valid.  Either way memory stays bounded and the time grows
with the number of variants drawn.
"""
from __future__ import annotations

import copy
import math
import random
import sys
from sympy import Integer

from ..errors import SymparamsError
from ..layers import Layer, layer_class
from ..shapes import RANK_TEXT, RANKS
from .slots import Slot, _domain, _is_variation

FLAT = "flat"        # the state after a dense or flatten layer
INVALID = None       # a choice that makes the network invalid

# Fields that change spatial sizes, per layer kind; the rest only scale counts.
_SPATIAL_FIELDS = ("kernel", "stride", "padding", "dilation")
# The exact count visits (states entering a layer) × (that layer's choices) at
# most this many times; a template beyond it is drawn by rejection instead.
_MAX_COUNT_WORK = 2_000_000


class Template:
    """A homework template: spec data with variations, ready to count and draw from.

    >>> t = Template({"name": "t", "input": [{"choice": [8, 9]}, 8, 1],
    ...               "layers": [{"type": "conv2d", "kernel": {"choice": [3, 9]},
    ...                           "filters": {"range": [2, 6], "step": 2}}]})
    >>> t.count()          # kernel 9 does not fit: 2 heights × 1 kernel × 3 filter counts
    6
    >>> t.variant(0)["layers"][0]
    {'type': 'conv2d', 'kernel': 3, 'filters': 2}
    """

    def __init__(self, data: dict, source: str | None = None, exact: bool = False):
        if not isinstance(data, dict):
            raise SymparamsError("expected a mapping with name, input and layers", file=source)
        self.data = data
        self.source = source
        self.exact = exact
        self.slots: list[Slot] = []
        # Per-template memos (not module caches, which would keep every template alive).
        self._counts: dict = {}
        self._layers: dict = {}
        self._collect()

    # ------------------------------------------------------------ reading slots

    def _collect(self) -> None:
        raw_input = self.data.get("input")
        if not isinstance(raw_input, list) or len(raw_input) not in RANKS:
            raise SymparamsError(f"expected {RANK_TEXT}",
                                 file=self.source, field="input")
        self.square = len(raw_input) == 3 and raw_input[1] == "same"
        for i, raw in enumerate(raw_input):
            if raw == "same" and not (i == 1 and len(raw_input) == 3):
                raise SymparamsError("'same' may only stand for the width, meaning "
                                     "width = height", file=self.source, field=f"input[{i}]")
            if _is_variation(raw):
                try:
                    domain = _domain(raw, f"input[{i}]")
                except SymparamsError as exc:
                    raise exc.located(file=self.source) from None
                values = self._checked(domain, None, f"input[{i}]", 1)
                self.slots.append(Slot(None, f"input[{i}]", None, values,
                                       spatial=len(raw_input) == 3 and i < 2))
        layers = self.data.get("layers")
        if not isinstance(layers, list) or not layers:
            raise SymparamsError("expected a non-empty list of layers", file=self.source,
                                 field="layers")
        _refuse_variations_in_blocks(self.data.get("blocks"), self.source)
        for index, entry in enumerate(layers, start=1):
            if not isinstance(entry, dict):
                raise SymparamsError("expected a mapping with a type", file=self.source,
                                     layer=(index, ""))
            name = str(entry.get("name", ""))
            self._collect_block_parameters(index, name, entry)
            for field, raw in entry.items():
                if "block" in entry and field in ("with", "first"):
                    continue     # read by _collect_block_parameters
                spatial = field in _SPATIAL_FIELDS
                minimum = 0 if field == "padding" else 1
                items = raw if isinstance(raw, list) else [raw]
                for pos, item in enumerate(items):
                    if _is_variation(item):
                        try:
                            domain = _domain(item, field)
                        except SymparamsError as exc:
                            raise exc.located(file=self.source, layer=(index, name)) from None
                        values = self._checked(domain, (index, name), field, minimum)
                        self.slots.append(Slot(index, field,
                                               pos if isinstance(raw, list) else None,
                                               values, spatial))

    def _collect_block_parameters(self, index: int, name: str, entry: dict) -> None:
        """A block use's parameters may vary (``with: {filters: {choice: [8, 16]}}``):
        one slot each, put back into ``with:`` (or ``first:``) when a variant is filled."""
        if "block" not in entry:
            return
        for key in ("with", "first"):
            given = entry.get(key)
            if not isinstance(given, dict):
                continue
            for param, raw in given.items():
                if _is_variation(raw):
                    field = f"{key}.{param}"
                    try:
                        domain = _domain(raw, field)
                    except SymparamsError as exc:
                        raise exc.located(file=self.source, layer=(index, name)) from None
                    values = self._checked(domain, (index, name), field, 1)
                    self.slots.append(Slot(index, field, None, values, False))

    @property
    def has_blocks(self) -> bool:
        return "blocks" in self.data or any(isinstance(e, dict) and "block" in e
                                            for e in self.data.get("layers", ()))

    def _checked(self, values, layer, field, minimum):
        bad = [v for v in values if v < minimum]
        if bad:
            raise SymparamsError(f"values must be at least {minimum}, found {bad[0]}",
                                 file=self.source, layer=layer, field=field)
        return values

    def size_values(self) -> dict[tuple[int, str], tuple[int, ...]]:
        """(layer index, field) → values, for every varying size of a layer that is
        one number (not one axis of a [height, width] pair)."""
        if self.has_blocks:
            # The network's layer indices are not the template's once blocks expand
            # (and a block parameter is no one layer's field): questions then vary
            # every counted layer instead of keying sizes to the wrong layer.
            return {}
        return {(slot.layer, slot.field): slot.values for slot in self.slots
                if slot.layer is not None and slot.position is None}

    # --------------------------------------------------------------- variants

    def _fill(self, choice: dict[Slot, int]) -> dict:
        data = copy.deepcopy(self.data)
        data.pop("questions", None)
        for slot, value in choice.items():
            if slot.layer is None:
                data["input"][int(slot.field[6:-1])] = value
            else:
                _put(data["layers"][slot.layer - 1], slot, value)
        if self.square:
            data["input"][1] = data["input"][0]
        return data

    @property
    def _spatial(self) -> list[Slot]:
        return [s for s in self.slots if s.spatial]

    @property
    def _scaling(self) -> list[Slot]:
        return [s for s in self.slots if not s.spatial]

    def _layer_slots(self, index: int) -> list[Slot]:
        return [s for s in self._spatial if s.layer == index]

    def _input_slots(self) -> list[Slot]:
        return [s for s in self._spatial if s.layer is None]

    def _combos(self, slots: list[Slot]):
        """Every assignment of the given slots, in a fixed order."""
        combos = [{}]
        for slot in slots:
            combos = [{**c, slot: v} for c in combos for v in slot.values]
        return combos

    def _step(self, index: int, hw, combo: dict[Slot, int]):
        """The state after layer ``index`` for one choice of its spatial slots:
        (height, width), FLAT after a dense or flatten layer, or INVALID."""
        key = (index, tuple(sorted(combo.items(), key=_slot_key)))
        if key not in self._layers:
            self._layers[key] = _layer_for(self, *key)
        layer = self._layers[key]
        if hw is FLAT:
            return INVALID if layer.needs_image else FLAT
        if layer.kind in ("dense", "flatten"):
            return FLAT
        if not layer.needs_image:
            return hw
        h, w = hw
        try:
            out = layer.output_shape((Integer(h), Integer(w), Integer(1)))
        except SymparamsError:
            return INVALID
        if not (out[0].is_Integer and out[1].is_Integer):
            # A name (padding: P) in a spatial size: a variant could not be drawn.
            raise SymparamsError("kernel, stride, padding and dilation of a homework template "
                                 "must be whole numbers or variations, not names",
                                 file=self.source, layer=(index, str(
                                     self.data["layers"][index - 1].get("name") or "")))
        if self.exact and not layer.divides_exactly((Integer(h), Integer(w))):
            return INVALID
        return int(out[0]), int(out[1])

    def _start_states(self, combos=None):
        """(height, width) of the input for each choice of its spatial slots (or
        for each of the given ``combos``)."""
        raw = self.data["input"]
        if len(raw) != 3:
            return [({}, FLAT)]
        states = []
        for combo in self._combos(self._input_slots()) if combos is None else combos:
            h = combo.get(next((s for s in self._input_slots() if s.field == "input[0]"), None),
                          raw[0])
            w = h if self.square else combo.get(
                next((s for s in self._input_slots() if s.field == "input[1]"), None), raw[1])
            if not (isinstance(h, int) and isinstance(w, int)):
                raise SymparamsError("homework input sizes must be whole numbers or "
                                     "variations", file=self.source, field="input")
            states.append((combo, (h, w)))
        return states

    def _count_from(self, index: int, hw) -> int:
        """Valid completions from layer ``index`` on, entered with state ``hw``."""
        key = (index, hw)
        if key not in self._counts:
            total = 1
            if index <= len(self.data["layers"]):
                total = sum(self._count_from(index + 1, nxt)
                            for combo in self._combos(self._layer_slots(index))
                            if (nxt := self._step(index, hw, combo)) is not INVALID)
            self._counts[key] = total
        return self._counts[key]

    def _scale(self) -> int:
        total = 1
        for slot in self._scaling:
            total *= len(slot.values)
        return total

    def _count_work(self) -> int:
        """An upper bound of the steps the exact count takes, found without
        enumerating anything: the states entering each layer (distinct heights ×
        widths, bounded by how far paddings can grow them) times its choices."""
        raw = self.data["input"]
        if len(raw) != 3:
            return 1
        inputs = math.prod(len(s.values) for s in self._input_slots())
        heights = [max(s.values) for s in self._input_slots() if s.field == "input[0]"]
        widths = [max(s.values) for s in self._input_slots() if s.field == "input[1]"]
        high = heights[0] if heights else raw[0]
        wide = high if self.square else (widths[0] if widths else raw[1])
        if not (isinstance(high, int) and isinstance(wide, int)):
            return 1            # _start_states reports the bad input
        states, work = inputs, 0
        for index, entry in enumerate(self.data["layers"], start=1):
            choices = math.prod(len(s.values) for s in self._layer_slots(index))
            work += states * choices
            if work > _MAX_COUNT_WORK:
                return work
            grow = 2 * _largest_padding(entry, self._layer_slots(index))
            high, wide = high + grow, wide + grow
            states = min(states * choices, (high + 1) * (wide + 1))
        return work

    @property
    def is_graph(self) -> bool:
        """True when a layer names its inputs: shapes then run down several branches,
        which the chain count below does not follow, so variants are drawn at random
        and each is checked by building its network."""
        return self.has_blocks or any(
            isinstance(e, dict) and ("inputs" in e or _sizes_checked_on_build(e))
            for e in self.data.get("layers", ())) \
            or not self._chain_follows()

    def _chain_follows(self) -> bool:
        """Whether the chain count follows every shape: an image or flat input through
        2-D windows, dense and flatten, and layers that hand their shape on.  A signal or
        a volume, or a layer that reshapes (upsample, global pooling …), is checked by
        building its network instead."""
        if len(self.data.get("input", ())) not in (1, 3):
            return False
        for entry in self.data.get("layers", ()):
            try:
                cls = layer_class(str(entry.get("type", "")))
            except SymparamsError:
                return True  # the build reports it
            if not (cls.needs_image or cls.kind in ("dense", "flatten")
                    or cls.output_shape is Layer.output_shape):
                return False
        return True

    @property
    def countable(self) -> bool:
        """True when the valid variants can be counted exactly in reasonable time."""
        return not self.is_graph and self._count_work() <= _MAX_COUNT_WORK

    def count(self) -> int:
        """The number of distinct valid variants."""
        if not self.countable:
            space = math.prod(len(s.values) for s in self.slots)
            raise SymparamsError(f"too many combinations to count exactly ({space:.3g}); "
                                 "variants are drawn at random and checked instead",
                                 file=self.source)
        return self._scale() * sum(self._count_from(1, hw) for _, hw in self._start_states())

    def variant(self, number: int) -> dict:
        """Decode variant ``number`` (0 ≤ number < count()) into concrete spec data."""
        choice: dict[Slot, int] = {}
        # The scaling sizes vary fastest, so neighbouring numbers differ in them.
        for slot in self._scaling:
            number, digit = divmod(number, len(slot.values))
            choice[slot] = slot.values[digit]
        for combo, hw in self._start_states():
            paths = self._count_from(1, hw)
            if number < paths:
                choice.update(combo)
                break
            number -= paths
        else:
            raise IndexError("variant number out of range")
        layers = self.data["layers"]
        for index in range(1, len(layers) + 1):
            for combo in self._combos(self._layer_slots(index)):
                nxt = self._step(index, hw, combo)
                if nxt is INVALID:
                    continue
                paths = self._count_from(index + 1, nxt)
                if number < paths:
                    choice.update(combo)
                    hw = nxt
                    break
                number -= paths
        return self._fill(choice)

    def draw(self, n: int, seed: int) -> list[dict]:
        """``n`` distinct valid variants, the same ones for the same seed."""
        if n < 1:
            raise SymparamsError(f"expected at least 1 variant, found {n}", field="--variants")
        if not self.countable:
            return self._draw_by_rejection(n, seed)
        total = self.count()
        if total == 0:
            raise SymparamsError("the template cannot give any valid network",
                                 file=self.source)
        if total < n:
            raise SymparamsError(f"the template gives only {total} distinct valid variants, "
                                 f"not {n}", file=self.source, field="--variants")
        rng = random.Random(seed)
        if total <= sys.maxsize:
            numbers = rng.sample(range(total), n)
        else:
            # random.sample cannot take a range this long; with n far below the
            # count, drawing until n distinct numbers is as uniform and quick.
            numbers, seen = [], set()
            while len(numbers) < n:
                k = rng.randrange(total)
                if k not in seen:
                    seen.add(k)
                    numbers.append(k)
        return [self.variant(k) for k in numbers]

    def _draw_by_rejection(self, n: int, seed: int) -> list[dict]:
        """``n`` distinct valid variants of a template too large to count: draw a
        combination of all its sizes uniformly (a mixed-radix number over the
        slots, so nothing is enumerated), keep it when the network is valid.
        Uniform over the valid variants; memory and time grow with the draws."""
        rng = random.Random(seed)
        space = math.prod(len(s.values) for s in self.slots)
        tries = 10_000 + 1_000 * n
        seen: set[int] = set()
        found: list[dict] = []
        for _ in range(tries):
            number = rng.randrange(space)
            if number in seen:
                continue
            seen.add(number)
            choice = {}
            for slot in self.slots:
                number, digit = divmod(number, len(slot.values))
                choice[slot] = slot.values[digit]
            if self._is_valid(choice):
                found.append(self._fill(choice))
                if len(found) == n:
                    return found
        raise SymparamsError(f"found only {len(found)} valid variants in {tries:,} random "
                             f"draws among {space:.3g} combinations, not {n}; narrow the "
                             "template's ranges", file=self.source, field="--variants")

    def _graph_is_valid(self, choice: dict[Slot, int]) -> bool:
        return _graph_builds(self, choice)

    def _is_valid(self, choice: dict[Slot, int]) -> bool:
        """Whether one choice of every slot gives a valid network."""
        if self.is_graph:
            return self._graph_is_valid(choice)
        for combo, hw in self._start_states([choice]):
            for index in range(1, len(self.data["layers"]) + 1):
                hw = self._step(index, hw, {s: choice[s] for s in self._layer_slots(index)})
                if hw is INVALID:
                    return False
        return True


def _graph_builds(template: "Template", choice: dict) -> bool:
    """Whether a branched template's choice builds (merge shapes match …); with
    --exact also whether every window divides its input exactly."""
    from ..network import Network
    from ..spec import spec_from_data
    try:
        net = Network.from_spec(spec_from_data(template._fill(choice), template.source))
    except SymparamsError:
        return False
    return not template.exact or all(
        info.layer.divides_exactly(tuple(info.input_shape[:2]))
        for info in net.layers[1:] if len(info.input_shape) == 3 and not info.layer.merges)


def _sizes_checked_on_build(entry: dict) -> bool:
    """A sequence layer's sizes must agree in ways the chain count of heights and widths
    does not follow (heads divide E, max_positions covers T): its template's variants
    are drawn and each built, as a branched template's are."""
    from ..layers import REGISTRY
    cls = REGISTRY.get(str(entry.get("type", "")).strip().lower())
    return cls is not None and cls.family in ("sequence", "recurrent")


def _largest_padding(entry: dict, slots: list[Slot]) -> int:
    """The largest padding a layer of the template can have (0 when unknown)."""
    values = [v for s in slots if s.field == "padding" for v in s.values]
    raw = entry.get("padding", 0)
    for item in raw if isinstance(raw, list) else [raw]:
        if isinstance(item, int) and not isinstance(item, bool):
            values.append(item)
    return max(values, default=0)


def _slot_key(item):
    slot, _ = item
    return (slot.field, -1 if slot.position is None else slot.position)


def _layer_for(template: Template, index: int, combo: tuple) -> Layer:
    """The Layer for one choice of a layer's spatial slots, built by the library
    itself (the same shape rules as every count); scaling slots take their
    first value, which does not change the shape."""
    entry = copy.deepcopy(template.data["layers"][index - 1])
    for slot in template.slots:
        if slot.layer == index and not slot.spatial:
            _put(entry, slot, slot.values[0])
    for slot, value in combo:
        _put(entry, slot, value)
    # trainable: false is the network's key, not the family's: it moves no shape.
    fields = {k: v for k, v in entry.items() if k not in ("type", "name", "trainable")}
    try:
        return layer_class(str(entry.get("type", ""))).from_fields(fields)
    except SymparamsError as exc:
        raise exc.located(file=template.source,
                          layer=(index, str(entry.get("name", "")))) from None


def _put(entry: dict, slot: Slot, value: int) -> None:
    key, dot, param = slot.field.partition(".")
    if dot and key in ("with", "first") and "block" in entry:   # a block parameter
        entry[key][param] = value
        return
    if slot.position is None:
        entry[slot.field] = value
    else:
        entry[slot.field][slot.position] = value


def _refuse_variations_in_blocks(blocks, source) -> None:
    """Sizes inside a block's definition are the same for every use: a variation
    there is refused, pointing at ``with:`` on the use, where sizes may vary."""
    if not isinstance(blocks, dict):
        return
    for name, body in blocks.items():
        layers = body.get("layers") if isinstance(body, dict) else None
        for entry in layers if isinstance(layers, list) else ():
            for field, raw in (entry.items() if isinstance(entry, dict) else ()):
                if field in ("with", "first"):   # a nested use passes parameters on
                    items = list(raw.values()) if isinstance(raw, dict) else []
                else:
                    items = raw if isinstance(raw, list) else [raw]
                if any(_is_variation(item) for item in items):
                    raise SymparamsError(f"a size that varies belongs in with: on the "
                                         f"block's use; give block {name} a parameter for it",
                                         file=source, field=f"blocks.{name}.{field}")
