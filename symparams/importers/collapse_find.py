"""Where layers repeat: families of numbered module instances in flat spec data.

Layer names that follow module paths say which layers belong to one instance of
a repeated module: ``layer1.0.conv1`` … ``layer1.1.conv1`` (the family
``layer1``, instances 0 and 1), ``features.3.conv.0.0``, or two levels deep
``features.3.1.block.0.0`` (instance 1 of the family ``features.3``, itself
child 3 of ``features``).  This module finds the families, the instances (their
layers named relative to them, their inputs relative too: ``in`` for the one
layer outside they take), the runs of instances one ``repeat:`` can write, and
the block body several instances expand from (:func:`union`).
:mod:`symparams.importers.collapse` writes them out and checks the result.
"""
from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass, field
from typing import Any

from ..errors import SymparamsError

_DIGITS = re.compile(r"0|[1-9][0-9]*")
_SEGMENT = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_-]{0,40}")
OWN_KEYS = ("name", "type", "inputs")
LITERAL = ("op",)        # fields blocks.py keeps as text, never a parameter (an opaque op)
IN = "in"                # blocks.BLOCK_INPUT: inside a block, the block's input
ABSENT = object()        # a field or layer an instance does not have


def key(value: Any) -> str:
    """A value's identity for comparing (True is not 1, [1] is not 1)."""
    return json.dumps(value, sort_keys=True, default=repr)


@dataclass
class Instance:
    """One instance of a repeated module: ``layer1.0`` and its layers, relative to it."""
    path: str
    k: int
    names: list[str]                 # relative names, in order
    entries: dict[str, dict]         # relative name → fields (no name/type/inputs)
    types: dict[str, str]
    sources: dict[str, list[str]]    # relative names or IN
    input: str                       # the one outside layer it takes
    output: str                      # its last layer's full name

    def same_as(self, other: "Instance") -> bool:
        return (self.names == other.names and self.types == other.types
                and key(self.entries) == key(other.entries)
                and self.sources == other.sources)


@dataclass
class Child:
    """One child of a family: a single layer ``P.k``, an instance ``P.k.…``, or a
    family of its own (``features.3`` whose layers are ``features.3.0.…``, ``features.3.1.…``)."""
    k: int
    layers: list[int]                # flat positions
    instance: Instance | None = None
    family: "Family | None" = None


@dataclass
class Family:
    """Consecutive layers under one prefix with numbered children ``P.0``, ``P.1`` …"""
    prefix: str
    layers: list[int]
    children: list[Child]
    input: str
    runs: list[list[Instance]] = field(default_factory=list)
    wrapper: str = ""        # the block holding its children, when they are mixed

    def all_runs(self) -> list[list[Instance]]:
        """Its runs and those of the families among its children."""
        found = list(self.runs)
        for child in self.children:
            if child.family is not None:
                found += child.family.all_runs()
        return found

    def repeats(self) -> bool:
        return any(len(run) > 1 for run in self.all_runs())


def _split(name: str) -> tuple[str, int, str] | None:
    """``layer1.0.conv1`` → (``layer1``, 0, ``conv1``): the first numbered part after the first."""
    parts = name.split(".")
    for j in range(1, len(parts)):
        if _DIGITS.fullmatch(parts[j]):
            return ".".join(parts[:j]), int(parts[j]), ".".join(parts[j + 1:])
    return None


def sources_of(layers: list[dict], first_input: str) -> list[list[str]]:
    """Every layer's inputs by name (the previous layer where none are written)."""
    found, previous = [], first_input
    for entry in layers:
        raw = entry.get("inputs")
        found.append([previous] if raw is None else
                     [str(i) for i in (raw if isinstance(raw, list) else [raw])])
        previous = str(entry["name"])
    return found


@functools.lru_cache(maxsize=256)
def _defaults(kind: str) -> dict[str, Any]:
    """A family's field defaults as a spec writes them (to_fields leaves them out);
    cached per kind, so read only."""
    from ..layers import layer_class
    from ..layers.fields import REQUIRED, SameAs
    out: dict[str, Any] = {"trainable": True}     # every layer's, written only when false
    try:
        schema = layer_class(kind).schema
    except SymparamsError:
        return out
    for f in schema:
        if f.default is REQUIRED or f.default is None:
            continue
        if isinstance(f.default, SameAs):
            out[f.name] = f.default
            continue
        try:
            out[f.name] = f.write(f.parse(f.default))
        except (SymparamsError, TypeError, ValueError):
            continue
    return out


def filled(kind: str, fields: dict, wanted) -> dict | None:
    """``fields`` with each of ``wanted`` present (a left-out field at its default)."""
    from ..layers.fields import SameAs
    defaults = _defaults(kind)
    out = dict(fields)
    for name in wanted:
        if name in out:
            continue
        default = defaults.get(name, ABSENT)
        if isinstance(default, SameAs):
            default = out.get(default.field, ABSENT)
        if default is ABSENT:
            return None
        out[name] = default
    return out


def normalised(layers: list[dict], first_input: str) -> list[tuple]:
    """(name, type, fields with defaults, inputs): what two equal specs share."""
    rows = []
    for entry, sources in zip(layers, sources_of(layers, first_input)):
        fields = {k: v for k, v in entry.items() if k not in OWN_KEYS}
        if fields.get("trainable") is True:
            del fields["trainable"]
        kind = str(entry.get("type"))
        full = filled(kind, fields, [k for k in _defaults(kind) if k not in fields])
        rows.append((str(entry.get("name")), kind, key(full if full is not None else fields),
                     sources))
    return rows


# ---------------------------------------------------------------- families

def find_families(layers: list[dict], sources: list[list[str]]) -> list[Family]:
    """Runs of consecutive layers under one prefix, with children numbered 0, 1, … n-1."""
    families, i = [], 0
    while i < len(layers):
        split = _split(str(layers[i]["name"]))
        if split is None:
            i += 1
            continue
        prefix, j = split[0], i
        while j < len(layers) and (_split(str(layers[j]["name"])) or ("",))[0] == prefix:
            j += 1
        family = _family(prefix, list(range(i, j)), layers, sources)
        if family is not None:
            runs_of(family)
            families.append(family)
        i = j
    return families


def _family(prefix, positions, layers, sources) -> Family | None:
    """The layers at ``positions``, all named ``prefix.k…``, as numbered children."""
    children: list[Child] = []
    rests = {}
    for at in positions:
        head, _, rest = str(layers[at]["name"])[len(prefix) + 1:].partition(".")
        if not _DIGITS.fullmatch(head):
            return None
        k = int(head)
        rests[at] = rest
        if children and children[-1].k == k:
            children[-1].layers.append(at)
        else:
            children.append(Child(k, [at]))
    if [c.k for c in children] != list(range(len(children))):
        return None
    names = {str(layers[at]["name"]) for at in positions}
    outside = {s for at in positions for s in sources[at] if s not in names}
    if len(outside) != 1:
        return None
    for child in children:
        mine = [rests[at] for at in child.layers]
        path = f"{prefix}.{child.k}"
        if all(mine):
            if all(_DIGITS.fullmatch(r.partition(".")[0]) for r in mine):
                inner = _family(path, child.layers, layers, sources)
                if inner is not None:
                    runs_of(inner)
                    if inner.repeats():     # a stage of repeated units: a block of its own
                        child.family = inner
                        continue
            child.instance = _instance(path, child.k, child.layers, layers, sources)
            if child.instance is None:
                return None
        elif len(mine) != 1:
            return None
    return Family(prefix, positions, children, outside.pop())


def _instance(path, k, positions, layers, sources) -> Instance | None:
    names, entries, types, rel = [], {}, {}, {}
    full = {str(layers[at]["name"]): str(layers[at]["name"])[len(path) + 1:] for at in positions}
    outside = set()
    for at in positions:
        name = full[str(layers[at]["name"])]
        if not all(_SEGMENT.fullmatch(p) for p in name.split(".")) or name.count(".") > 7:
            return None
        names.append(name)
        entries[name] = {k2: v for k2, v in layers[at].items() if k2 not in OWN_KEYS}
        types[name] = str(layers[at]["type"])
        rel[name] = [full[s] if s in full else IN for s in sources[at]]
        outside |= {s for s in sources[at] if s not in full}
    if len(outside) != 1:
        return None
    return Instance(path, k, names, entries, types, rel, outside.pop(),
                     str(layers[positions[-1]]["name"]))


def runs_of(family: Family) -> None:
    """Consecutive instances that one ``repeat:`` can write: the first may differ."""
    run: list[Instance] = []
    for child in family.children:
        inst = child.instance
        if run and inst is not None and inst.input == run[-1].output and (
                (len(run) == 1 and union(run + [inst]) is not None)
                or (len(run) > 1 and inst.same_as(run[1]))):
            run.append(inst)
            continue
        if run:
            family.runs.append(run)
        run = [inst] if inst is not None else []
    if run:
        family.runs.append(run)


# ---------------------------------------------------------------- one block's structure

@dataclass
class Entry:
    name: str
    type: str
    fields: list[str]
    sources: list[str] = field(default_factory=list)
    present: list[bool] = field(default_factory=list)   # per instance


def _order(instances: list[Instance]) -> list[str] | None:
    """Every instance's layer names merged into one order they all follow."""
    merged = list(max(instances, key=lambda i: len(i.names)).names)
    for inst in instances:
        at = -1
        for name in inst.names:
            if name in merged:
                at = merged.index(name)
            else:
                at += 1
                merged.insert(at, name)
    for inst in instances:
        places = [merged.index(n) for n in inst.names]
        if places != sorted(places):
            return None
    return merged


def _field_order(kind: str, names) -> list[str]:
    """Fields in the order the layer family declares them (as to_fields writes them)."""
    from ..layers import layer_class
    try:
        declared = list(layer_class(kind).fields)
    except SymparamsError:
        declared = []
    return sorted(names, key=lambda n: (declared.index(n) if n in declared else len(declared),
                                        n == "trainable"))


def union(instances: list[Instance]) -> list[Entry] | None:
    """The block body all ``instances`` expand from, or None.  A layer some lack is
    left out with ``when:``; naming it then names its first input (blocks.py's rule),
    which each instance is simulated with, so the inputs chosen give every one."""
    order = _order(instances)
    common = set.intersection(*(set(inst.names) for inst in instances))
    if order is None or 2 * len(common) < len(order):
        return None     # mostly different layers: not one module repeated
    body: list[Entry] = []
    local = [{IN: inst.input} for inst in instances]
    for name in order:
        have = [inst for inst in instances if name in inst.names]
        kinds = {inst.types[name] for inst in have}
        if len(kinds) != 1:
            return None
        kind = kinds.pop()
        wanted = _field_order(kind, dict.fromkeys(f for inst in have for f in inst.entries[name]))
        if any(filled(kind, inst.entries[name], wanted) is None for inst in have):
            return None
        if any(len({key(inst.entries[name].get(f)) for inst in have}) > 1 for f in LITERAL):
            return None     # a different op is a different layer
        entry = Entry(name, kind, wanted, present=[name in i.names for i in instances])
        for candidate in dict.fromkeys(tuple(inst.sources[name]) for inst in have):
            if all(name not in inst.names or [env.get(s, ABSENT) for s in candidate]
                   == [f"{inst.path}.{s}" if s != IN else inst.input
                       for s in inst.sources[name]]
                   for inst, env in zip(instances, local)):
                entry.sources = list(candidate)
                break
        else:
            return None
        for inst, env in zip(instances, local):
            env[name] = f"{inst.path}.{name}" if name in inst.names \
                else env.get(entry.sources[0], ABSENT) if entry.sources else ABSENT
        body.append(entry)
    return body


