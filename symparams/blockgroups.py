"""A network built from blocks, seen as stages and block instances.

The count table and the reports of a 150-layer ResNet-50 stay readable by
grouping its layers the way the spec wrote them (:mod:`symparams.blocks`):

* a **stage** is one top-level block use (``layer1``: three bottlenecks), or a
  run of layers outside any block (the stem ``conv1 … maxpool``, the head);
* a **unit** is one block instance inside a stage: ``layer1.0`` of a repeated
  use, or for a single use holding several blocks (MobileNetV2's ``features``)
  each block under it (``features.2``);
* units with the same block, parameters and layer counts and shapes are the
  same computation: reports work one out in full and list the others.

This module only reads a network; it knows nothing of any output format.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from sympy import Add, Expr

from .layerinfo import LayerInfo
from .network import Network
from .numbers import as_count, plain
from .printing import unicode_shape


@dataclass
class Unit:
    """One block instance treated as a whole: its layers and their subtotal."""
    path: str
    block: str
    params: tuple[tuple[str, str], ...]
    layers: list[LayerInfo] = field(default_factory=list)
    group: str | None = None     # the repeat it belongs to (features.2…3), if any

    @property
    def total(self) -> Expr:
        return as_count(Add(*(plain(info.params) for info in self.layers)))

    @property
    def signature(self) -> tuple:
        """Equal for units that are the same computation on the same shapes."""
        start = len(self.path) + 1
        return (self.block, self.params, tuple(
            (info.name[start:], info.kind, str(info.params), unicode_shape(info.output_shape))
            for info in self.layers))

    @property
    def parameters_text(self) -> str:
        """``filters 64, stride 2, downsample true``."""
        return ", ".join(f"{name} {value}" for name, value in self.params)


@dataclass
class Stage:
    """A top-level block use (its units), or a run of layers outside blocks (no units)."""
    name: str
    block: str | None
    units: list[Unit] = field(default_factory=list)
    layers: list[LayerInfo] = field(default_factory=list)

    @property
    def total(self) -> Expr:
        return as_count(Add(*(plain(info.params) for info in self.layers)))

    @property
    def blocks_text(self) -> str:
        """``3 × bottleneck`` (or the blocks a single use holds), ``—`` outside blocks."""
        if self.block is None:
            return "—"
        kinds: dict[str, int] = {}
        for unit in self.units:
            kinds[unit.block] = kinds.get(unit.block, 0) + 1
        return ", ".join(f"{n} × {b}" if n > 1 else b for b, n in kinds.items())


def has_blocks(net: Network) -> bool:
    return any(info.blocks for info in net.layers[1:])


def _unit_of(info: LayerInfo):
    """(stage name, stage block, unit instance) of a layer in a block."""
    chain = info.blocks
    top = chain[0]
    if top.group is not None:
        return top.group, top.block, top
    return top.path, top.block, chain[1] if len(chain) > 1 else top


def stages(net: Network) -> list[Stage]:
    """The network's stages in order (the input is in none).

    A single top-level use that holds repeats of several blocks (MobileNetV2's
    ``features``) is split at its repeats: ``features.2…3``, ``features.4…6`` …,
    one stage per row of the paper's table."""
    found: list[Stage] = []
    for stage in _top_level_stages(net):
        found += _split_at_repeats(stage)
    return found


def _split_at_repeats(stage: Stage) -> list[Stage]:
    keys = [unit.group or unit.path for unit in stage.units]
    if stage.block is None or len(set(keys)) < 2 or \
            all(unit.group is None for unit in stage.units):
        return [stage]
    parts: list[Stage] = []
    for key, unit in zip(keys, stage.units):
        if not parts or parts[-1].name != key:
            parts.append(Stage(key, unit.block))
        parts[-1].units.append(unit)
        parts[-1].layers += unit.layers
    return parts


def _top_level_stages(net: Network) -> list[Stage]:
    found: list[Stage] = []
    for info in net.layers[1:]:
        if not info.blocks:
            if not found or found[-1].block is not None:
                found.append(Stage(info.name, None))
            stage = found[-1]
            stage.layers.append(info)
            first = stage.layers[0].name
            stage.name = first if len(stage.layers) == 1 else f"{first} … {info.name}"
            continue
        name, block, instance = _unit_of(info)
        if not found or found[-1].block is None or found[-1].name != name:
            found.append(Stage(name, block))
        stage = found[-1]
        stage.layers.append(info)
        if not stage.units or stage.units[-1].path != instance.path:
            stage.units.append(Unit(instance.path, instance.block, instance.params,
                                    group=instance.group))
        stage.units[-1].layers.append(info)
    return found


@dataclass
class DistinctUnit:
    """One unit worked out in full, and every unit that is the same computation."""
    first: Unit
    repeats: list[Unit]

    @property
    def count(self) -> int:
        return len(self.repeats)


def distinct_units(net: Network) -> dict[str, DistinctUnit]:
    """Unit path → its distinct unit (keyed by the first such unit's path)."""
    by_signature: dict[tuple, DistinctUnit] = {}
    out: dict[str, DistinctUnit] = {}
    for stage in stages(net):
        for unit in stage.units:
            entry = by_signature.setdefault(unit.signature, DistinctUnit(unit, []))
            entry.repeats.append(unit)
            out[unit.path] = entry
    return out
