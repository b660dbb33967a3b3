"""Reusable blocks: a spec's ``blocks:`` section, expanded into plain layer entries.

A block is a named list of layers with parameters::

    blocks:
      basic:
        params: {filters: ~, stride: 1, downsample: false}   # ~ (null): must be given
        layers:
          - {type: conv2d, name: conv1, kernel: 3, filters: filters, stride: stride, padding: 1}
          - {type: batchnorm, name: bn1}
          - {block: projection, name: downsample, with: {filters: filters, stride: stride},
             inputs: in, when: downsample}
          - {type: add, name: add, inputs: [bn1, downsample]}

and a layer list uses it with ``{block: basic, name: layer1, with: {filters: 64},
repeat: 2, first: {stride: 2, downsample: true}}``.  The expansion happens here,
on plain data, before any layer family sees the entries, so the families know
nothing of blocks: each block layer becomes an ordinary entry with a
hierarchical name as PyTorch's modules have (``layer1.0.conv1``), and
:class:`BlockInstance` records which block instances it sits in.

* Names: a named entry is ``PATH.name``; an unnamed one is numbered by its
  position among the entries present, from 0, as in ``nn.Sequential``
  (``downsample.0``).  ``repeat: r`` on a named use gives ``name.0 … name.(r-1)``;
  on an unnamed one each repeat takes the next position.
* Values: a field that is exactly a parameter's name takes the parameter's value
  (a number, an expression, a word, true/false); any other text naming a
  parameter is a size expression, read by the spec's whitelist parser
  (:func:`symparams.spec.parse_expression`) with the parameters put in.
* Inputs: ``inputs:`` inside a block names the block's own layers or ``in``, the
  block's input.  An entry left out by ``when:`` passes its input through:
  naming it names what it would have taken, which is how ``add`` joins the
  shortcut whether or not the projection is there.
* ``when:`` is a parameter that is true or false, ``not NAME``, or a comparison
  of two sizes (``t != 1``, ``stride == 1``).
* ``first:`` sets parameters for the first repeat only (ResNet's stride and
  projection shortcut in the first block of a stage).
* ``trainable: false`` on a use is copied onto every layer it expands to.

Hostile specs stay bad input: a block that uses itself, unknown or missing
parameters and more than :data:`MAX_LAYERS` expanded layers are one-line errors.
"""
from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from typing import Any

from sympy import Expr, Integer

from .errors import SymparamsError
from .printable import echo
from .spec import _describe, parse_expression, size_symbol, size_value

MAX_LAYERS = 100_000     # layers (and repeats) one spec may expand to
MAX_DEPTH = 32           # blocks inside blocks
BLOCK_INPUT = "in"       # inside a block: the block's input
_USE_KEYS = ("block", "name", "with", "first", "repeat", "inputs", "when", "trainable")
_BLOCK_KEYS = ("params", "layers", "description")
_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]*")
_PARAM = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,40}")
_SEGMENT = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_-]{0,40}(\.[A-Za-z0-9_][A-Za-z0-9_-]{0,40}){0,7}")
_COMPARISON = re.compile(r"^(.*?)(==|!=|<=|>=|<|>)(.*)$")
REQUIRED = None          # a parameter whose default is ~ must be given


@dataclass(frozen=True)
class BlockInstance:
    """One use of a block that a layer sits in: ``layer1.0``, an instance of ``bottleneck``.

    ``params`` are its parameters as given (name, value as text), so that two
    instances with equal ones are the same computation; ``group`` is the repeat
    it belongs to (``layer1``), ``repeat`` its place in it (0, 1 …).
    """
    path: str
    block: str
    params: tuple[tuple[str, str], ...] = ()
    group: str | None = None
    repeat: int | None = None


@dataclass(frozen=True)
class _Block:
    name: str
    params: dict[str, Any]
    layers: list


class _Prev:
    """The flat layer just before position ``at`` (an unnamed top-level layer)."""
    def __init__(self, at: int, index: int):
        self.at, self.index = at, index


class _Expander:
    def __init__(self, blocks: dict[str, _Block], source: str | None):
        self.blocks = blocks
        self.source = source
        self.flat: list[tuple[dict, tuple[BlockInstance, ...]]] = []
        self.work = 0
        self.top_index = 0
        self.top_name = ""
        self.outputs: dict[str, Any] = {}   # instance paths and repeat groups → output
        self.first_input = "INPUT"          # the network input layer 1 takes

    # ---------------------------------------------------------------- errors

    def error(self, message: str, name: str | None = None, field: str | None = None):
        return SymparamsError(message, file=self.source,
                              layer=(self.top_index, name or self.top_name), field=field)

    def count(self, block: str, name: str):
        self.work += 1
        if self.work > MAX_LAYERS:
            raise self.error(f"block {block} expands to more than {MAX_LAYERS:,} layers "
                             f"(repeats nested too deep?)", name)

    # ---------------------------------------------------------------- emitting

    def emit(self, entry: dict, sources: list, chain: tuple[BlockInstance, ...], name: str):
        """Add one plain layer; ``inputs:`` is written only where it is not the layer before."""
        entry = dict(entry)
        previous = self.flat[-1][0].get("name") if self.flat else self.first_input
        if len(sources) == 1 and (sources[0] == previous or (
                isinstance(sources[0], _Prev) and sources[0].at == len(self.flat))):
            entry.pop("inputs", None)     # the layer before: the default
        else:
            for found in sources:
                if isinstance(found, _Prev):
                    raise self.error(f"layer {found.index} has no name, and a block's layer "
                                     f"takes it as an input: give it a name", name, "inputs")
            entry["inputs"] = list(sources)
        self.flat.append((entry, chain))

    # ---------------------------------------------------------------- blocks

    def use(self, entry: dict, paths, group: str | None, source_in, chain, stack,
            where: str, inherited_trainable: bool = True):
        """Expand one ``{block: …}`` entry; ``paths(i)`` names its i-th instance.
        Returns the output (a flat layer name or a _Prev) and the number of repeats."""
        unknown = [k for k in entry if k not in _USE_KEYS]
        if unknown:
            raise self.error(f"unknown key {echo(unknown[0])} in a block use (expected "
                             f"{', '.join(_USE_KEYS)})", where, unknown[0])
        name = entry["block"]
        if not isinstance(name, str) or name not in self.blocks:
            known = ", ".join(sorted(self.blocks)) or "none defined in blocks:"
            raise self.error(f"no block named {echo(name)} (blocks: {known})", where, "block")
        if name in stack:
            cycle = " → ".join([*stack[stack.index(name):], name])
            raise self.error(f"block {name} uses itself ({cycle})", where, "block")
        if len(stack) >= MAX_DEPTH:
            raise self.error(f"blocks nested more than {MAX_DEPTH} deep", where, "block")
        block = self.blocks[name]
        given = self.mapping(entry.get("with"), where, "with", block)
        first = self.mapping(entry.get("first"), where, "first", block)
        repeat = self.repeat(entry, where, name)
        trainable = entry.get("trainable", True)
        if not isinstance(trainable, bool):
            raise self.error(f"expected true or false, found {_describe(trainable)}",
                             where, "trainable")
        trainable = trainable and inherited_trainable
        output = source_in
        for i in range(repeat):
            self.count(name, where)
            params = dict(block.params)
            params.update(given)
            if i == 0:
                params.update(first)
            missing = [p for p, v in params.items() if v is REQUIRED]
            if missing:
                raise self.error(f"block {name} needs parameter {missing[0]} (give it in "
                                 f"with:)", where, f"with.{missing[0]}")
            path = paths(i)
            instance = BlockInstance(path, name, tuple((k, _shown(v)) for k, v in params.items()),
                                     group=group, repeat=i if group else None)
            output = self.body(block, params, path, output, (*chain, instance),
                               (*stack, name), trainable)
            self.outputs[path] = output
        if group:
            self.outputs[group] = output
        return output, repeat

    def body(self, block: _Block, env: dict, path: str, source_in, chain, stack,
             trainable: bool):
        """The layers of one instance; returns its output."""
        local: dict[str, Any] = {BLOCK_INPUT: source_in}
        previous = source_in
        position = 0      # the next unnamed entry's number, as nn.Sequential counts
        for number, raw in enumerate(block.layers):
            where = f"{path}[{number}]"
            if not isinstance(raw, dict):
                raise self.error(f"in block {block.name}: expected a layer or block use, "
                                 f"found {_describe(raw)}", where)
            own = raw.get("name")
            if own is not None and (not isinstance(own, (str, int)) or isinstance(own, bool)
                                    or not _SEGMENT.fullmatch(str(own))
                                    or str(own) == BLOCK_INPUT):
                raise self.error(f"in block {block.name}: expected a name of letters, digits "
                                 f"and _ (dots between parts; not {BLOCK_INPUT!r}), found "
                                 f"{_describe(own)}", where, "name")
            sources = self.sources(raw.get("inputs"), local, previous, block, where)
            if "when" in raw and not self.condition(raw["when"], env, block, where):
                if own is not None:
                    # left out: naming it names its input (the layer before, if none)
                    local[str(own)] = sources[0] if sources else previous
                continue
            if "block" in raw:
                use = {k: v for k, v in raw.items() if k not in ("inputs", "when", "name")}
                if "repeat" in use:
                    use["repeat"] = self.value(use["repeat"], env, block, where, "repeat")
                for key in ("with", "first"):   # parameters passed down: put ours in
                    if isinstance(use.get(key), dict):
                        use[key] = {k: self.value(v, env, block, where, f"{key}.{k}")
                                    for k, v in use[key].items()}
                if len(sources) != 1:
                    raise self.error(f"in block {block.name}: a block takes one input, found "
                                     f"{len(sources)}", where, "inputs")
                if own is not None:
                    full = f"{path}.{own}"
                    paths = (lambda i, full=full: f"{full}.{i}") if "repeat" in raw \
                        else (lambda i, full=full: full)
                    group = full if "repeat" in raw else None
                else:
                    full = f"{path}.{position}"
                    paths = (lambda i, start=position: f"{path}.{start + i}")
                    last = position + self.repeat(use, full, str(use.get("block"))) - 1
                    group = f"{path}.{position}…{last}" if "repeat" in raw else None
                out, count = self.use(use, paths, group, sources[0], chain, stack, full,
                                      trainable)
                position += 1 if own is not None else count
            else:
                full = f"{path}.{own}" if own is not None else f"{path}.{position}"
                self.count(block.name, full)
                fields = {}
                for key, value in raw.items():
                    if key in ("name", "inputs", "when"):
                        continue
                    # type and an opaque layer's op are text, never parameters.
                    fields[key] = value if key in ("type", "op") else \
                        self.value(value, env, block, full, key)
                fields["name"] = full
                if not trainable:
                    fields["trainable"] = False
                self.emit(fields, sources, chain, full)
                out = full
                position += 1
            local[str(own) if own is not None else full.rpartition(".")[2]] = out
            previous = out
        return previous

    # ---------------------------------------------------------------- values

    def sources(self, raw, local: dict, previous, block: _Block, where: str) -> list:
        if raw is None:
            return [previous]
        if raw == []:
            return []     # a layer that takes nothing (a learned tensor): the graph checks
        items = [raw] if isinstance(raw, (str, int)) and not isinstance(raw, bool) else raw
        if not isinstance(items, list) or not items:
            raise self.error(f"in block {block.name}: expected a layer name or a list of "
                             f"names, found {_describe(raw)}", where, "inputs")
        found = []
        for item in items:
            key = str(item)
            if key not in local:
                known = ", ".join(local)
                raise self.error(f"in block {block.name}: no layer named {echo(key)} before "
                                 f"this one (names: {known})", where, "inputs")
            found.append(local[key])
        return found

    def condition(self, raw, env: dict, block: _Block, where: str) -> bool:
        if isinstance(raw, bool):
            return raw
        if not isinstance(raw, str):
            raise self.error(f"in block {block.name}: expected a parameter, not NAME or a "
                             f"comparison such as t != 1, found {_describe(raw)}", where, "when")
        text = raw.strip()
        negate = text.startswith("not ")
        if negate:
            text = text[4:].strip()
        match = _COMPARISON.match(text)
        if match is None:
            if text not in env:
                raise self.error(f"in block {block.name}: {echo(text)} is no parameter "
                                 f"(parameters: {', '.join(env) or 'none'})", where, "when")
            value = env[text]
            if not isinstance(value, bool):
                raise self.error(f"in block {block.name}: {text} is {_shown(value)}, not "
                                 f"true or false", where, "when")
            return value != negate
        left, op, right = match.groups()
        a = self.size(left, env, block, where, "when")
        b = self.size(right, env, block, where, "when")
        difference = a - b
        if not difference.is_number:
            raise self.error(f"in block {block.name}: cannot decide {echo(raw)} with "
                             f"unknown sizes", where, "when")
        result = {"==": difference == 0, "!=": difference != 0, "<": difference < 0,
                  "<=": difference <= 0, ">": difference > 0, ">=": difference >= 0}[op]
        return bool(result) != negate

    def size(self, text: str, env: dict, block: _Block, where: str, field: str) -> Expr:
        value = self.value(text.strip(), env, block, where, field)
        try:
            return size_value(value)
        except SymparamsError as exc:
            raise self.error(f"in block {block.name}: {exc.message}", where, field) from None

    def value(self, raw, env: dict, block: _Block, where: str, field: str):
        """A field's value with the block's parameters put in (see the module docstring)."""
        if isinstance(raw, list):
            return [self.value(item, env, block, where, field) for item in raw]
        if not isinstance(raw, str):
            return raw
        text = raw.strip()
        if text in env:
            return env[text]
        names = set(_NAME.findall(text))
        if not names & set(env):
            if _NAME.fullmatch(text):
                close = difflib.get_close_matches(text, list(env), n=1, cutoff=0.8)
                if close:
                    raise self.error(f"in block {block.name}: unknown parameter {echo(text)}; "
                                     f"did you mean {close[0]!r}?", where, field)
            elif names - {"floor", "ceil", "ceiling", "min", "max", "Min", "Max"}:
                unknown = sorted(names)[0]
                raise self.error(f"in block {block.name}: unknown parameter {echo(unknown)} "
                                 f"(parameters: {', '.join(env) or 'none'})", where, field)
            return raw
        try:
            expr = parse_expression(text)
            mapping = {}
            for name in names & set(env):
                given = env[name]
                if isinstance(given, bool) or given is REQUIRED:
                    raise SymparamsError(f"{name} is {_shown(given)}; only sizes go in "
                                         f"expressions")
                mapping[size_symbol(name)] = size_value(given)
            result = expr.xreplace(mapping)
        except SymparamsError as exc:
            raise self.error(f"in block {block.name}: {exc.message}", where, field) from None
        return int(result) if result.is_Integer else result

    def mapping(self, raw, where: str, key: str, block: _Block) -> dict:
        if raw is None:
            return {}
        if not isinstance(raw, dict):
            raise self.error(f"expected parameters such as {{filters: 64}}, found "
                             f"{_describe(raw)}", where, key)
        out = {}
        for name, value in raw.items():
            name = str(name)
            if name not in block.params:
                close = difflib.get_close_matches(name, list(block.params), n=1)
                hint = f"; did you mean {close[0]!r}?" if close else ""
                raise self.error(f"block {block.name} has no parameter {echo(name)} "
                                 f"(parameters: {', '.join(block.params) or 'none'}){hint}",
                                 where, f"{key}.{name}")
            out[name] = value
        return out

    def repeat(self, entry: dict, where: str, name: str) -> int:
        raw = entry.get("repeat", 1)
        try:
            value = size_value(raw)
        except SymparamsError as exc:
            raise self.error(exc.message, where, "repeat") from None
        if not value.is_Integer or value < 1:
            raise self.error(f"expected a whole number of repeats ≥ 1, found {_describe(raw)}",
                             where, "repeat")
        if value > MAX_LAYERS:
            raise self.error(f"block {name} repeated {value} times; at most {MAX_LAYERS:,} "
                             f"layers in all", where, "repeat")
        return int(value)


def _shown(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is REQUIRED:
        return "missing"
    return str(value)


def read_blocks(raw: Any, source: str | None) -> dict[str, _Block]:
    """The ``blocks:`` section, checked for its layout (uses are checked as expanded)."""
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise SymparamsError(f"expected a mapping of block name → {{params, layers}}, found "
                             f"{_describe(raw)}", file=source, field="blocks")
    blocks = {}
    for name, body in raw.items():
        where = f"blocks.{name}"
        if not isinstance(name, str) or not _PARAM.fullmatch(name):
            raise SymparamsError(f"expected a block name (a letter, then letters, digits or "
                                 f"_), found {_describe(name)}", file=source, field="blocks")
        if not isinstance(body, dict):
            raise SymparamsError(f"expected {{params: …, layers: […]}}, found "
                                 f"{_describe(body)}", file=source, field=where)
        unknown = [k for k in body if k not in _BLOCK_KEYS]
        if unknown:
            raise SymparamsError(f"unknown key (expected {', '.join(_BLOCK_KEYS)})",
                                 file=source, field=f"{where}.{unknown[0]}")
        params = body.get("params") or {}
        if not isinstance(params, dict):
            raise SymparamsError(f"expected parameters with defaults such as {{filters: ~, "
                                 f"stride: 1}}, found {_describe(params)}", file=source,
                                 field=f"{where}.params")
        for param in params:
            if not isinstance(param, str) or not _PARAM.fullmatch(param) \
                    or param == BLOCK_INPUT:
                raise SymparamsError(f"expected a parameter name (a letter, then letters, "
                                     f"digits or _; not {BLOCK_INPUT!r}), found "
                                     f"{_describe(param)}", file=source, field=f"{where}.params")
        layers = body.get("layers")
        if not isinstance(layers, list) or not layers:
            raise SymparamsError(f"expected a non-empty list of layers, found "
                                 f"{_describe(layers)}", file=source, field=f"{where}.layers")
        blocks[name] = _Block(name, {str(k): v for k, v in params.items()}, layers)
    return blocks


def uses_blocks(data: dict) -> bool:
    layers = data.get("layers")
    return "blocks" in data or (isinstance(layers, list) and
                                any(isinstance(e, dict) and "block" in e for e in layers))


def expand_blocks(data: dict, source: str | None
                  ) -> list[tuple[dict, tuple[BlockInstance, ...]]]:
    """The spec's layers with every block use expanded: (plain entry, instances) pairs."""
    expander = _Expander(read_blocks(data.get("blocks"), source), source)
    raw_layers = data.get("layers")
    if not isinstance(raw_layers, list) or not raw_layers:
        raise SymparamsError(f"expected a non-empty list of layers, found "
                             f"{_describe(raw_layers)}", file=source, field="layers")
    raw_input = data.get("input")
    if isinstance(raw_input, dict) and raw_input:     # named inputs: the first is layer 0
        expander.first_input = str(next(iter(raw_input)))
    current: Any = expander.first_input   # what the next top-level entry takes by default
    for index, entry in enumerate(raw_layers, start=1):
        expander.top_index = index
        if not isinstance(entry, dict):
            raise SymparamsError(f"expected a mapping with a type or a block, found "
                                 f"{_describe(entry)}", file=source, layer=(index, ""))
        if "block" not in entry:
            expander.count("(top level)", "")
            plain = dict(entry)
            name = plain.get("name")
            expander.top_name = str(name) if isinstance(name, (str, int)) else ""
            if "inputs" in plain:
                plain["inputs"] = _aliased(plain["inputs"], expander.outputs)
            elif isinstance(current, str) and expander.flat \
                    and current != expander.flat[-1][0].get("name"):
                plain["inputs"] = [current]   # a block whose last layer was left out
            current = str(name) if isinstance(name, (str, int)) \
                and not isinstance(name, bool) else _Prev(len(expander.flat) + 1, index)
            expander.flat.append((plain, ()))
            continue
        name = entry.get("name")
        if not isinstance(name, (str, int)) or isinstance(name, bool) \
                or not _SEGMENT.fullmatch(str(name)):
            raise SymparamsError(f"a block use needs a name of letters, digits and _ (its "
                                 f"layers are named after it: layer1.0.conv1), found "
                                 f"{_describe(name)}", file=source, layer=(index, ""),
                                 field="name")
        expander.top_name = name = str(name)
        if "when" in entry:
            raise expander.error("when: chooses layers inside a block; at the top level "
                                 "leave the entry out instead", name, "when")
        start = current
        if "inputs" in entry:
            wanted = _aliased(entry["inputs"], expander.outputs)
            if not isinstance(wanted, list) or len(wanted) != 1:
                raise expander.error(f"a block takes one input, found {_describe(wanted)}",
                                     name, "inputs")
            start = str(wanted[0])
        repeated = "repeat" in entry
        paths = (lambda i, name=name: f"{name}.{i}") if repeated else (lambda i, name=name: name)
        output, _ = expander.use({k: v for k, v in entry.items() if k not in ("name", "inputs")},
                                 paths, name if repeated else None, start, (), (), name)
        expander.outputs[name] = output
        current = output
    return expander.flat


def _aliased(raw, alias: dict) -> Any:
    """Names in a top-level ``inputs:``, with a block use's name standing for its output."""
    items = [raw] if isinstance(raw, (str, int)) and not isinstance(raw, bool) else raw
    if not isinstance(items, list):
        return raw
    return [alias[str(i)] if isinstance(alias.get(str(i)), str) else i for i in items]
