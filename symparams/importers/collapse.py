"""Repeated layers written back as blocks: flat spec data in, the same network out, shorter.

An imported model is a flat list of layers named by module path (``layer1.0.conv1``,
``features.3.conv.0.0``, ``encoder.layer.0.attention.self.query``).  Where the
names say the layers are instances of one module repeated (``PREFIX.0.…``,
``PREFIX.1.…`` …) and the instances have the same structure, :func:`collapse_blocks`
writes one block per structure and uses it with ``repeat:``/``with:``/``first:``;
layers that only some instances have (ResNet's projection shortcut, MobileNet's
residual add) are kept with ``when:``.  See :mod:`symparams.blocks` for the format.

The invariant: expanding the result gives exactly the flat data's layer names,
types, fields and inputs (a field left at its default counts as given with it).
Each family of instances is checked by expanding it with the spec reader; one that
does not come back exactly stays flat, so collapsing can make a spec shorter but
never different.
"""
from __future__ import annotations

import difflib
import json
import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from ..errors import SymparamsError
from ..spec import spec_from_data

_DIGITS = re.compile(r"0|[1-9][0-9]*")
_WORD = re.compile(r"[A-Za-z][A-Za-z0-9_]*")
_SEGMENT = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_-]{0,40}")
_NOT_PARAM = re.compile(r"[^A-Za-z0-9_]+")
_OWN_KEYS = ("name", "type", "inputs")
IN = "in"                # blocks.BLOCK_INPUT: inside a block, the block's input
_ABSENT = object()       # a field or layer an instance does not have


def _key(value: Any) -> str:
    """A value's identity for comparing (True is not 1, [1] is not 1)."""
    return json.dumps(value, sort_keys=True, default=repr)


@dataclass
class _Instance:
    """One instance of a repeated module: ``layer1.0`` and its layers, relative to it."""
    path: str
    k: int
    names: list[str]                 # relative names, in order
    entries: dict[str, dict]         # relative name → fields (no name/type/inputs)
    types: dict[str, str]
    sources: dict[str, list[str]]    # relative names or IN
    input: str                       # the one outside layer it takes
    output: str                      # its last layer's full name

    def same_as(self, other: "_Instance") -> bool:
        return (self.names == other.names and self.types == other.types
                and _key(self.entries) == _key(other.entries)
                and self.sources == other.sources)


@dataclass
class _Child:
    """One child of a family: a single layer ``P.k`` or an instance ``P.k.…``."""
    k: int
    layers: list[int]                # flat positions
    instance: _Instance | None = None


@dataclass
class _Family:
    """Consecutive layers under one prefix with numbered children ``P.0``, ``P.1`` …"""
    prefix: str
    layers: list[int]
    children: list[_Child]
    input: str
    runs: list[list[_Instance]] = field(default_factory=list)


def _split(name: str) -> tuple[str, int, str] | None:
    """``layer1.0.conv1`` → (``layer1``, 0, ``conv1``): the first numbered part after the first."""
    parts = name.split(".")
    for j in range(1, len(parts)):
        if _DIGITS.fullmatch(parts[j]):
            return ".".join(parts[:j]), int(parts[j]), ".".join(parts[j + 1:])
    return None


def _sources(layers: list[dict], first_input: str) -> list[list[str]]:
    """Every layer's inputs by name (the previous layer where none are written)."""
    found, previous = [], first_input
    for entry in layers:
        raw = entry.get("inputs")
        found.append([previous] if raw is None else
                     [str(i) for i in (raw if isinstance(raw, list) else [raw])])
        previous = str(entry["name"])
    return found


def _defaults(kind: str) -> dict[str, Any]:
    """A family's field defaults as a spec writes them (to_fields leaves them out)."""
    from ..layers import layer_class
    from ..layers.fields import REQUIRED, SameAs
    try:
        schema = layer_class(kind).schema
    except SymparamsError:
        return {}
    out = {}
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


def _filled(kind: str, fields: dict, wanted) -> dict | None:
    """``fields`` with each of ``wanted`` present (a left-out field at its default)."""
    from ..layers.fields import SameAs
    defaults = _defaults(kind)
    out = dict(fields)
    for name in wanted:
        if name in out:
            continue
        default = defaults.get(name, _ABSENT)
        if isinstance(default, SameAs):
            default = out.get(default.field, _ABSENT)
        if default is _ABSENT:
            return None
        out[name] = default
    return out


def normalised(layers: list[dict], first_input: str) -> list[tuple]:
    """(name, type, fields with defaults, inputs): what two equal specs share."""
    rows = []
    for entry, sources in zip(layers, _sources(layers, first_input)):
        fields = {k: v for k, v in entry.items() if k not in _OWN_KEYS}
        if fields.get("trainable") is True:
            del fields["trainable"]
        kind = str(entry.get("type"))
        full = _filled(kind, fields, [k for k in _defaults(kind) if k not in fields])
        rows.append((str(entry.get("name")), kind, _key(full if full is not None else fields),
                     sources))
    return rows


# ---------------------------------------------------------------- families

def _families(layers: list[dict], sources: list[list[str]]) -> list[_Family]:
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
            families.append(family)
        i = j
    return families


def _family(prefix, positions, layers, sources) -> _Family | None:
    children: list[_Child] = []
    for at in positions:
        _, k, rest = _split(str(layers[at]["name"]))
        if children and children[-1].k == k:
            children[-1].layers.append(at)
        else:
            children.append(_Child(k, [at]))
    if [c.k for c in children] != list(range(len(children))):
        return None
    names = {str(layers[at]["name"]) for at in positions}
    outside = {s for at in positions for s in sources[at] if s not in names}
    if len(outside) != 1:
        return None
    for child in children:
        rests = [_split(str(layers[at]["name"]))[2] for at in child.layers]
        if all(rests):
            child.instance = _instance(f"{prefix}.{child.k}", child.k, child.layers, layers,
                                       sources)
            if child.instance is None:
                return None
        elif len(rests) != 1:
            return None
    return _Family(prefix, positions, children, outside.pop())


def _instance(path, k, positions, layers, sources) -> _Instance | None:
    names, entries, types, rel = [], {}, {}, {}
    full = {str(layers[at]["name"]): str(layers[at]["name"])[len(path) + 1:] for at in positions}
    outside = set()
    for at in positions:
        name = full[str(layers[at]["name"])]
        if not all(_SEGMENT.fullmatch(p) for p in name.split(".")) or name.count(".") > 7:
            return None
        names.append(name)
        entries[name] = {k2: v for k2, v in layers[at].items() if k2 not in _OWN_KEYS}
        types[name] = str(layers[at]["type"])
        rel[name] = [full[s] if s in full else IN for s in sources[at]]
        outside |= {s for s in sources[at] if s not in full}
        if not sources[at]:
            return None     # a layer that takes nothing (a tensor) cannot sit in a block
    if len(outside) != 1:
        return None
    return _Instance(path, k, names, entries, types, rel, outside.pop(),
                     str(layers[positions[-1]]["name"]))


def _runs(family: _Family) -> None:
    """Consecutive instances that one ``repeat:`` can write: the first may differ."""
    run: list[_Instance] = []
    for child in family.children:
        inst = child.instance
        if run and inst is not None and inst.input == run[-1].output and (
                (len(run) == 1 and _union(run + [inst]) is not None)
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
class _Entry:
    name: str
    type: str
    fields: list[str]
    sources: list[str] = field(default_factory=list)
    present: list[bool] = field(default_factory=list)   # per instance


def _order(instances: list[_Instance]) -> list[str] | None:
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


def _union(instances: list[_Instance]) -> list[_Entry] | None:
    """The block body all ``instances`` expand from, or None.  A layer some lack is
    left out with ``when:``; naming it then names its first input (blocks.py's rule),
    which each instance is simulated with, so the inputs chosen give every one."""
    order = _order(instances)
    common = set.intersection(*(set(inst.names) for inst in instances))
    if order is None or 2 * len(common) < len(order):
        return None     # mostly different layers: not one module repeated
    body: list[_Entry] = []
    local = [{IN: inst.input} for inst in instances]
    for name in order:
        have = [inst for inst in instances if name in inst.names]
        kinds = {inst.types[name] for inst in have}
        if len(kinds) != 1:
            return None
        kind = kinds.pop()
        wanted = _field_order(kind, dict.fromkeys(f for inst in have for f in inst.entries[name]))
        if any(_filled(kind, inst.entries[name], wanted) is None for inst in have):
            return None
        entry = _Entry(name, kind, wanted, present=[name in i.names for i in instances])
        for candidate in dict.fromkeys(tuple(inst.sources[name]) for inst in have):
            if all(name not in inst.names or [env.get(s, _ABSENT) for s in candidate]
                   == [f"{inst.path}.{s}" if s != IN else inst.input
                       for s in inst.sources[name]]
                   for inst, env in zip(instances, local)):
                entry.sources = list(candidate)
                break
        else:
            return None
        for inst, env in zip(instances, local):
            env[name] = f"{inst.path}.{name}" if name in inst.names \
                else env.get(entry.sources[0], _ABSENT)
        body.append(entry)
    return body


def _param_name(base: str, taken: set[str]) -> str:
    name = _NOT_PARAM.sub("_", base).strip("_") or "p"
    if not name[0].isalpha():
        name = f"p_{name}"
    name, n, candidate = name[:36], 1, name[:36]
    while candidate in taken or candidate == IN:
        n += 1
        candidate = f"{name}_{n}"
    taken.add(candidate)
    return candidate


@dataclass
class _Block:
    name: str
    body: list[_Entry]
    instances: list[_Instance]
    params: dict[str, Any] = field(default_factory=dict)          # name → default
    values: list[dict[str, Any]] = field(default_factory=list)    # per instance
    layers: list[dict] = field(default_factory=list)


def _most_common(values: list) -> Any:
    counts = Counter(_key(v) for v in values)
    best = counts.most_common(1)[0][0]
    return next(v for v in values if _key(v) == best)


def _risky(value: Any, params: set[str]) -> bool:
    """A constant a block cannot hold as written: blocks.py reads text in a block's
    fields as a parameter or a size expression in the parameters."""
    if isinstance(value, list):
        return any(_risky(v, params) for v in value)
    if not isinstance(value, str):
        return False
    text = value.strip()
    return not _WORD.fullmatch(text) or text in params or bool(
        difflib.get_close_matches(text, list(params), n=1, cutoff=0.8))


def _make_block(name: str, body: list[_Entry], instances: list[_Instance]) -> _Block:
    block = _Block(name, body, instances, values=[{} for _ in instances])
    taken: set[str] = set()
    slots: dict[tuple[str, str], str] = {}     # (layer, field) → parameter
    columns: dict[str, list] = {}              # parameter → its value in each instance
    flags: dict[tuple, str] = {}
    for entry in body:
        if not all(entry.present):
            vector = tuple(entry.present)
            if vector not in flags:
                flags[vector] = _param_name(f"has_{entry.name.split('.')[0]}", taken)
                block.params[flags[vector]] = _most_common(list(vector))
                for values, flag in zip(block.values, vector):
                    values[flags[vector]] = flag
    vectors = {}
    for entry in body:
        for f in entry.fields:
            vectors[(entry.name, f)] = [
                _filled(entry.type, inst.entries[entry.name], [f])[f]
                if entry.name in inst.entries else _ABSENT for inst in instances]
    constant = {slot: next(x for x in v if x is not _ABSENT) for slot, v in vectors.items()
                if len({_key(x) for x in v if x is not _ABSENT}) == 1}
    for _ in range(2):   # a new parameter can make another constant risky
        for slot, vector in vectors.items():
            if slot in slots or (slot in constant and not _risky(constant[slot], taken)):
                continue
            # Two fields that agree wherever both are present share one parameter
            # (a projection's filters and the last convolution's, say).
            param = next((p for p, seen in columns.items() if all(
                a is _ABSENT or b is _ABSENT or _key(a) == _key(b)
                for a, b in zip(seen, vector))), None)
            if param is None:
                param = _param_name(slot[1], taken)
                columns[param] = list(vector)
            else:
                columns[param] = [b if a is _ABSENT else a for a, b in zip(columns[param], vector)]
            slots[slot] = param
    for param, vector in columns.items():
        present = [x for x in vector if x is not _ABSENT]
        block.params[param] = _most_common(present)
        for values, x in zip(block.values, vector):
            values[param] = x if x is not _ABSENT else block.params[param]
    flag_names = set(flags.values())     # the switches after the sizes, as in the presets
    block.params = {p: v for p, v in sorted(block.params.items(),
                                             key=lambda item: item[0] in flag_names)}
    previous, optional_before, previous_optional = IN, False, False
    for position, entry in enumerate(body):
        layer: dict[str, Any] = {}
        if optional_before or entry.name != str(position):
            layer["name"] = entry.name
        layer["type"] = entry.type
        for f in entry.fields:
            slot = (entry.name, f)
            layer[f] = slots[slot] if slot in slots else constant[slot]
        # Without inputs: the last layer present, which is the one before only when
        # that one is always there.
        if entry.sources != [previous] or previous_optional:
            layer["inputs"] = list(entry.sources)
        previous_optional = not all(entry.present)
        if previous_optional:
            layer["when"] = flags[tuple(entry.present)]
            optional_before = True
        block.layers.append(layer)
        previous = entry.name
    return block


# ---------------------------------------------------------------- writing it out

def _use(block: _Block, run: list[_Instance]) -> dict[str, Any]:
    """``{block, repeat, with, first}`` for a run: ``with`` what differs from the
    defaults in the later instances, ``first`` what differs in the first."""
    where = {id(inst): i for i, inst in enumerate(block.instances)}
    values = [block.values[where[id(inst)]] for inst in run]
    common = values[-1]
    use: dict[str, Any] = {"block": block.name}
    if len(run) > 1:
        use["repeat"] = len(run)
    given = {p: v for p, v in common.items() if _key(v) != _key(block.params[p])}
    first = {p: v for p, v in values[0].items() if _key(v) != _key(common[p])}
    if given:
        use["with"] = given
    if first:
        use["first"] = first
    return use


def _written(family: _Family, blocks: dict[int, _Block], layers: list[dict],
             previous: str) -> tuple[list[dict], dict | None]:
    """The family's top-level use and, for mixed children, the block that holds them."""
    runs = {id(run[0]): run for run in family.runs}
    if len(family.runs) == 1 and len(family.runs[0]) == len(family.children):
        run = family.runs[0]
        use = {**_use(blocks[id(run[0])], run), "name": family.prefix}
        use = {"block": use.pop("block"), "name": use.pop("name"), **use}
        if len(run) == 1:
            use["repeat"] = 1
        if family.input != previous:
            use["inputs"] = [family.input]
        return [use], None
    local = {family.input: IN}
    entries, position, last = [], 0, IN
    i = 0
    while i < len(family.children):
        child = family.children[i]
        if child.instance is None:
            entry = {k: v for k, v in layers[child.layers[0]].items() if k != "name"}
            mine = [local.get(s, _ABSENT) for s in _sources([layers[child.layers[0]]], "")[0]]
            if _ABSENT in mine:
                raise SymparamsError("takes a layer from inside a repeat")
            entry.pop("inputs", None)
            if mine != [last]:
                entry["inputs"] = mine
            entries.append(entry)
            local[str(layers[child.layers[0]]["name"])] = last = str(position)
            position, i = position + 1, i + 1
            continue
        run = runs[id(child.instance)]
        use = _use(blocks[id(run[0])], run)
        mine = local.get(run[0].input, _ABSENT)
        if mine is _ABSENT:
            raise SymparamsError("takes a layer from inside a repeat")
        if mine != last:
            use["inputs"] = [mine]
        entries.append(use)
        local[run[-1].output] = last = str(position)
        position, i = position + len(run), i + len(run)
    wrapper = {"layers": entries}
    use = {"block": None, "name": family.prefix}
    if family.input != previous:
        use["inputs"] = [family.input]
    return [use], wrapper


def collapse_blocks(data: dict[str, Any]) -> dict[str, Any]:
    """Flat spec data with repeated instances written as blocks (see the module doc).

    Data that already has blocks, or whose layers are not all named, comes back as is.
    """
    layers = data.get("layers")
    if "blocks" in data or not isinstance(layers, list) or not layers or not all(
            isinstance(e, dict) and "block" not in e and isinstance(e.get("name"), str)
            and isinstance(e.get("type"), str) for e in layers):
        return data
    raw_input = data.get("input")
    first_input = str(next(iter(raw_input))) if isinstance(raw_input, dict) and raw_input \
        else "INPUT"
    sources = _sources(layers, first_input)
    families = _families(layers, sources)
    for family in families:
        _runs(family)
    families = [f for f in families if any(len(run) > 1 for run in f.runs)]
    blocks = _blocks(families)
    names = _block_names(families, blocks)
    expected = normalised(layers, first_input)
    kept: list[tuple[_Family, list[dict], dict | None]] = []
    for family in families:
        try:
            before = str(layers[family.layers[0] - 1]["name"]) if family.layers[0] else first_input
            uses, wrapper = _written(family, blocks, layers, before)
        except SymparamsError:
            continue
        trial = _assemble(data, layers, [(family, uses, wrapper)], blocks, names)
        if _same(trial, expected, first_input):
            kept.append((family, uses, wrapper))
    if not kept:
        return data
    result = _assemble(data, layers, kept, blocks, names)
    return result if _same(result, expected, first_input) else data


def _blocks(families: list[_Family]) -> dict[int, _Block]:
    """One block per structure: each run joins the first block it unites with."""
    groups: list[list[list[_Instance]]] = []
    for family in families:
        for run in family.runs:
            for group in groups:
                if _union([inst for r in group for inst in r] + run) is not None:
                    group.append(run)
                    break
            else:
                groups.append([run])
    blocks: dict[int, _Block] = {}
    for group in groups:
        members = [inst for run in group for inst in run]
        block = _make_block("", _union(members), members)
        for run in group:
            blocks[id(run[0])] = block
    return blocks


def _block_names(families: list[_Family], blocks: dict[int, _Block]) -> dict[str, str]:
    """Names from the prefixes (``layer1`` → ``layer``); wrappers named after the prefix."""
    taken: set[str] = set()
    wrappers = {}
    for family in families:
        for run in family.runs:
            block = blocks[id(run[0])]
            if not block.name:
                base = re.sub(r"[0-9_]+$", "", family.prefix.rpartition(".")[2]) or "block"
                block.name = _param_name(base, taken)
    for family in families:
        wrappers[family.prefix] = _param_name(f"{family.prefix}_stack", taken)
    return wrappers


def _assemble(data, layers, kept, blocks, wrapper_names) -> dict[str, Any]:
    out_layers: list[dict] = []
    defined: dict[str, dict] = {}
    starts = {family.layers[0]: (family, uses, wrapper) for family, uses, wrapper in kept}
    i = 0
    while i < len(layers):
        if i not in starts:
            out_layers.append(layers[i])
            i += 1
            continue
        family, uses, wrapper = starts[i]
        for run in family.runs:
            block = blocks[id(run[0])]
            defined.setdefault(block.name, {
                **({"params": dict(block.params)} if block.params else {}),
                "layers": block.layers})
        if wrapper is not None:
            name = wrapper_names[family.prefix]
            defined[name] = wrapper
            uses = [{**u, "block": name} for u in uses]
        out_layers.extend(uses)
        i = family.layers[-1] + 1
    result = {k: v for k, v in data.items() if k != "layers"}
    result["blocks"] = defined
    result["layers"] = out_layers
    return result


def _same(candidate: dict, expected: list[tuple], first_input: str) -> bool:
    try:
        spec = spec_from_data(candidate, source="<collapsed>")
    except SymparamsError:
        return False
    flat = [{"name": layer.name, "type": layer.type, **layer.fields} for layer in spec.layers]
    return normalised(flat, first_input) == expected
