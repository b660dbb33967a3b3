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
import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from ..errors import SymparamsError
from ..spec import spec_from_data
from .collapse_find import (ABSENT, IN, LITERAL, Entry, Family, Instance, filled,
                            find_families, key, normalised, sources_of, union)

_WORD = re.compile(r"[A-Za-z][A-Za-z0-9_]*")
_NOT_PARAM = re.compile(r"[^A-Za-z0-9_]+")


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
    body: list[Entry]
    instances: list[Instance]
    params: dict[str, Any] = field(default_factory=dict)          # name → default
    values: list[dict[str, Any]] = field(default_factory=list)    # per instance
    layers: list[dict] = field(default_factory=list)


def _most_common(values: list) -> Any:
    counts = Counter(key(v) for v in values)
    best = counts.most_common(1)[0][0]
    return next(v for v in values if key(v) == best)


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


def _make_block(name: str, body: list[Entry], instances: list[Instance]) -> _Block:
    block = _Block(name, body, instances, values=[{} for _ in instances])
    taken: set[str] = set()
    slots: dict[tuple[str, str], str] = {}     # (layer, field) → parameter
    columns: dict[str, list] = {}              # parameter → its value in each instance
    flags: dict[tuple, str] = {}
    for entry in body:
        if not all(entry.present):
            vector = tuple(entry.present)
            if vector not in flags:
                flags[vector] = _param_name(f"has_{entry.name.split('.')[0].lower()}", taken)
                block.params[flags[vector]] = _most_common(list(vector))
                for values, flag in zip(block.values, vector):
                    values[flags[vector]] = flag
    vectors = {}
    for entry in body:
        for f in entry.fields:
            vectors[(entry.name, f)] = [
                filled(entry.type, inst.entries[entry.name], [f])[f]
                if entry.name in inst.entries else ABSENT for inst in instances]
    constant = {slot: next(x for x in v if x is not ABSENT) for slot, v in vectors.items()
                if len({key(x) for x in v if x is not ABSENT}) == 1}
    for _ in range(2):   # a new parameter can make another constant risky
        for slot, vector in vectors.items():
            if slot in slots or (slot in constant and (
                    slot[1] in LITERAL or not _risky(constant[slot], taken))):
                continue
            # Two fields that agree wherever both are present share one parameter
            # (a projection's filters and the last convolution's, say).
            param = next((p for p, seen in columns.items() if all(
                a is ABSENT or b is ABSENT or key(a) == key(b)
                for a, b in zip(seen, vector))), None)
            if param is None:
                param = _param_name(slot[1], taken)
                columns[param] = list(vector)
            else:
                columns[param] = [b if a is ABSENT else a for a, b in zip(columns[param], vector)]
            slots[slot] = param
    for param, vector in columns.items():
        present = [x for x in vector if x is not ABSENT]
        block.params[param] = _most_common(present)
        for values, x in zip(block.values, vector):
            values[param] = x if x is not ABSENT else block.params[param]
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

def _use(block: _Block, run: list[Instance]) -> dict[str, Any]:
    """``{block, repeat, with, first}`` for a run: ``with`` what differs from the
    defaults in the later instances, ``first`` what differs in the first."""
    where = {id(inst): i for i, inst in enumerate(block.instances)}
    values = [block.values[where[id(inst)]] for inst in run]
    common = values[-1]
    use: dict[str, Any] = {"block": block.name}
    if len(run) > 1:
        use["repeat"] = len(run)
    given = {p: v for p, v in common.items() if key(v) != key(block.params[p])}
    first = {p: v for p, v in values[0].items() if key(v) != key(common[p])}
    if given:
        use["with"] = given
    if first:
        use["first"] = first
    return use


def _written(family: Family, blocks: dict[int, _Block], layers: list[dict],
             sources: list[list[str]], previous: str, wrappers: dict[str, dict]) -> dict:
    """The family's top-level use; a family with children of several kinds gets a
    block of its own (put in ``wrappers``) holding them in order."""
    use: dict[str, Any]
    if len(family.runs) == 1 and len(family.runs[0]) == len(family.children):
        run = family.runs[0]
        use = {"block": blocks[id(run[0])].name, "name": family.prefix,
               **{k: v for k, v in _use(blocks[id(run[0])], run).items() if k != "block"}}
    else:
        use = {"block": _wrapped(family, blocks, layers, sources, wrappers),
               "name": family.prefix}
    if family.input != previous:
        use["inputs"] = [family.input]
    return use


def _wrapped(family: Family, blocks: dict[int, _Block], layers: list[dict],
             sources: list[list[str]], wrappers: dict[str, dict]) -> str:
    """A block of the family's children, unnamed so that they are numbered by place
    as ``nn.Sequential`` numbers them; returns its name."""
    runs = {id(run[0]): run for run in family.runs}
    local = {family.input: IN}
    entries: list[dict] = []
    params: dict[str, Any] = {}      # text a block cannot hold as written (an opaque op)
    position, last, i = 0, IN, 0

    def source(name: str) -> str:
        found = local.get(name)
        if found is None:
            raise SymparamsError("takes a layer from inside another child")
        return found

    while i < len(family.children):
        child = family.children[i]
        if child.family is not None:
            entry: dict[str, Any] = {"block": _wrapped(child.family, blocks, layers, sources,
                                                       wrappers)}
            mine, output, step = [source(child.family.input)], layers[child.layers[-1]]["name"], 1
        elif child.instance is None:
            entry = {k: v for k, v in layers[child.layers[0]].items()
                     if k not in ("name", "inputs")}
            for field_name, value in list(entry.items()):
                if field_name != "type" and field_name not in LITERAL \
                        and _risky(value, set(params)):
                    param = _param_name(field_name, set(params))
                    params[param] = value
                    entry[field_name] = param
            mine = [source(s) for s in sources[child.layers[0]]]
            output, step = layers[child.layers[0]]["name"], 1
        else:
            run = runs[id(child.instance)]
            entry = _use(blocks[id(run[0])], run)
            mine, output, step = [source(run[0].input)], run[-1].output, len(run)
        if mine != [last]:
            entry["inputs"] = mine
        entries.append(entry)
        local[str(output)] = last = str(position)
        position, i = position + step, i + step
    name = family.wrapper
    wrappers[name] = {**({"params": params} if params else {}), "layers": entries}
    return name


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
    sources = sources_of(layers, first_input)
    families = [f for f in find_families(layers, sources) if f.repeats()]
    blocks = _blocks(families)
    _name_blocks(families, blocks)
    expected = normalised(layers, first_input)
    kept: list[tuple[Family, dict, dict[str, dict]]] = []
    trial: dict[str, Any] = data
    for family in families:
        wrappers: dict[str, dict] = {}
        before = str(layers[family.layers[0] - 1]["name"]) if family.layers[0] else first_input
        try:
            use = _written(family, blocks, layers, sources, before, wrappers)
        except SymparamsError:
            continue
        # Each family is checked alone, so one that does not come back stays flat.
        trial = _assemble(data, layers, [(family, use, wrappers)], blocks)
        if _same(trial, expected, first_input):
            kept.append((family, use, wrappers))
    if not kept:
        return data
    if len(kept) == 1 and len(families) == 1:
        return trial           # the one family, already checked
    result = _assemble(data, layers, kept, blocks)
    return result if _same(result, expected, first_input) else data


def _blocks(families: list[Family]) -> dict[int, _Block]:
    """One block per structure: each run joins the first block it unites with."""
    groups: list[list[list[Instance]]] = []
    for family in families:
        for run in family.all_runs():
            for group in groups:
                if union([inst for r in group for inst in r] + run) is not None:
                    group.append(run)
                    break
            else:
                groups.append([run])
    blocks: dict[int, _Block] = {}
    for group in groups:
        members = [inst for run in group for inst in run]
        block = _make_block("", union(members), members)
        for run in group:
            blocks[id(run[0])] = block
    return blocks


def _name_blocks(families: list[Family], blocks: dict[int, _Block]) -> None:
    """Blocks named after the prefixes (``layer1`` → ``layer``), in order of use; the
    block holding a family's mixed children after the family (``features_stack``)."""
    taken: set[str] = set()

    def walk(family: Family):
        yield family
        for child in family.children:
            if child.family is not None:
                yield from walk(child.family)

    every = [f for family in families for f in walk(family)]
    for family in every:
        for run in family.runs:
            block = blocks[id(run[0])]
            if not block.name:
                words = [w for w in family.prefix.split(".") if not w.isdigit()]
                base = re.sub(r"[0-9_]+$", "", words[-1] if words else "") or "block"
                inner = family.prefix.rpartition(".")[2].isdigit()   # features.3's units
                block.name = _param_name(f"{base}_unit" if inner else base, taken)
    for family in every:
        family.wrapper = _param_name(f"{family.prefix}_stack", taken)


def _assemble(data, layers, kept, blocks) -> dict[str, Any]:
    """The spec data with each kept family's layers replaced by its use."""
    out_layers: list[dict] = []
    defined: dict[str, dict] = {}
    starts = {family.layers[0]: (family, use, wrappers) for family, use, wrappers in kept}
    i = 0
    while i < len(layers):
        if i not in starts:
            out_layers.append(layers[i])
            i += 1
            continue
        family, use, wrappers = starts[i]
        for run in family.all_runs():
            block = blocks[id(run[0])]
            defined.setdefault(block.name, {
                **({"params": dict(block.params)} if block.params else {}),
                "layers": block.layers})
        defined.update(wrappers)
        out_layers.append(use)
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
