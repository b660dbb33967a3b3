"""Reading spec documents (YAML, JSON, TOML) into plain data, within limits.

A network spec is small: a few levels of nesting and at most a few hundred
thousand values.  A hostile document is refused here, before anything is built
from it, with one line:

* YAML aliases are counted as what they expand to, while the parser streams
  its events (before the document is composed), so a "billion laughs" document
  is refused after reading at most ``MAX_NODES`` values instead of expanding
  into gigabytes later;
* nesting deeper than ``MAX_DEPTH`` is refused in every format instead of
  overflowing the loaders' recursion;
* an integer larger than ``MAX_NUMBER`` is "too large to be a size" — one
  maximum for literals here and for expression results in :mod:`symparams.spec`;
* a key given twice in one mapping is refused, naming the key.

YAML is read with libyaml (``CSafeLoader``) when PyYAML has it, else with the
pure-Python ``SafeLoader``; both get the same limits.
"""
from __future__ import annotations

import json
import re
import tomllib
from typing import Any

import yaml

from .errors import SymparamsError
from .printable import echo

MAX_NUMBER = 10 ** 100   # the largest size: larger numbers are no network, only a way to stall us
MAX_DEPTH = 64           # a spec needs about six levels
MAX_NODES = 500_000      # values, keys and collections, aliases expanded
MAX_BYTES = 32 * 2 ** 20  # a file: the largest presets are a few kilobytes
# Longer integer literals are refused without converting them (int() of over 4,300
# digits raises); 400 characters leaves room for underscores, signs and 0x.
_MAX_LITERAL = 400


def too_large(digits: int | None = None) -> SymparamsError:
    size = f" ({digits:,} digits)" if digits else ""
    return SymparamsError(f"number too large to be a size{size}; a size is at most 10^100")


def digits_of(value: int) -> int:
    """The number of decimal digits of ``value`` (never converts it to text)."""
    value = abs(value)
    estimate = max(1, int(value.bit_length() * 0.30102999566398120) + 1)
    return estimate - 1 if value < 10 ** (estimate - 1) else estimate


def check_number(value: int) -> int:
    if abs(value) > MAX_NUMBER:
        raise too_large(digits_of(value))
    return value


def _literal(text: str) -> None:
    if len(text) > _MAX_LITERAL:
        raise too_large(sum(c.isalnum() for c in text))


def _at(mark) -> str:
    return f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""


# ------------------------------------------------------------------------ YAML

_YAML_BASE = getattr(yaml, "CSafeLoader", None) or yaml.SafeLoader


def spec_yaml_loader(base: type) -> type:
    """``base`` (CSafeLoader or SafeLoader) refusing duplicate keys and integers too
    large to be a size."""

    class SpecYamlLoader(base):
        def construct_mapping(self, node, deep=False):
            if isinstance(node, yaml.MappingNode):
                seen: dict[Any, Any] = {}
                for key_node, _ in node.value:
                    if key_node.tag == "tag:yaml.org,2002:merge":
                        continue  # '<<: *base' merges; its keys may be overridden
                    if not isinstance(key_node, yaml.ScalarNode):
                        continue  # a list as a key: the base class refuses it
                    # Compared as written (with its resolved tag): constructing every key
                    # here would double the time of a large spec.
                    first = seen.setdefault((key_node.tag, key_node.value), key_node)
                    if first is not key_node:
                        raise SymparamsError(f"duplicate key {echo(key_node.value)}"
                                             f"{_at(key_node.start_mark)} (first given at line "
                                             f"{first.start_mark.line + 1})")
            return super().construct_mapping(node, deep)

        def construct_yaml_int(self, node):
            try:
                _literal(node.value)
                return check_number(super().construct_yaml_int(node))
            except SymparamsError as exc:
                raise SymparamsError(f"{exc.message}{_at(node.start_mark)}") from None

    SpecYamlLoader.add_constructor("tag:yaml.org,2002:int", SpecYamlLoader.construct_yaml_int)
    return SpecYamlLoader


_YAML_LOADER = spec_yaml_loader(_YAML_BASE)


def _check_yaml_events(text: str, base: type) -> None:
    """Stream the parser's events and refuse deep nesting and documents whose aliases
    expand to more than MAX_NODES values, before the document is composed."""
    events = base(text)
    try:
        total, aliases = 0, False
        open_: list[tuple[int, str | None]] = []   # (total at start, anchor) per collection
        sizes: dict[str, int] = {}                 # anchor -> values it expands to
        while events.check_event():
            event = events.get_event()
            if isinstance(event, yaml.ScalarEvent):
                total += 1
                if event.anchor:
                    sizes[event.anchor] = 1
            elif isinstance(event, yaml.AliasEvent):
                aliases = True
                if any(anchor == event.anchor for _, anchor in open_):
                    raise SymparamsError(f"the alias *{echo(event.anchor)[1:-1]} refers to a "
                                         f"collection that contains it{_at(event.start_mark)}")
                total += sizes.get(event.anchor, 1)
            elif isinstance(event, yaml.CollectionStartEvent):
                total += 1
                open_.append((total, event.anchor))
                if len(open_) > MAX_DEPTH:
                    raise SymparamsError(f"nested more than {MAX_DEPTH} levels deep"
                                         f"{_at(event.start_mark)}")
            elif isinstance(event, yaml.CollectionEndEvent):
                start, anchor = open_.pop()
                if anchor:
                    sizes[anchor] = total - start + 1
            if total > MAX_NODES:
                how = " once its aliases (*name) are expanded" if aliases else ""
                raise SymparamsError(f"more than {MAX_NODES:,} nodes{how}; a network spec is "
                                     f"far smaller")
    finally:
        events.dispose()


def _load_yaml(text: str) -> Any:
    _check_yaml_events(text, _YAML_BASE)
    return yaml.load(text, Loader=_YAML_LOADER)


# ------------------------------------------------------------------ JSON, TOML

def _json_object(pairs: list[tuple[str, Any]]) -> dict:
    data: dict = {}
    for key, value in pairs:
        if key in data:
            raise SymparamsError(f"duplicate key {echo(key)}")
        data[key] = value
    return data


def _json_int(text: str) -> int:
    _literal(text)
    return int(text)


_SURROGATE = re.compile("[\ud800-\udfff]")
_TOML_LINE = re.compile(r"\(at line (\d+), column \d+\)")


def _toml_error(exc: tomllib.TOMLDecodeError, text: str) -> SymparamsError:
    message = str(exc)
    line = _TOML_LINE.search(message)
    if line and message.startswith(("Cannot overwrite a value", "Cannot declare")):
        number = int(line.group(1))
        lines = text.splitlines()
        key = lines[number - 1].split("=")[0].strip(" \t[]") if number <= len(lines) else ""
        return SymparamsError(f"duplicate key {echo(key)} at line {number}")
    return SymparamsError(f"malformed TOML: {message}")


# ------------------------------------------------------------------ all formats

def _check_tree(data: Any) -> None:
    """Depth, size and numbers of loaded data, walked without recursion (a YAML
    document may share or even contain itself through aliases)."""
    stack, nodes = [(data, 1)], 0
    while stack:
        item, depth = stack.pop()
        nodes += 1
        if nodes > MAX_NODES:
            raise SymparamsError(f"more than {MAX_NODES:,} nodes; a network spec is far smaller")
        if depth > MAX_DEPTH:
            raise SymparamsError(f"nested more than {MAX_DEPTH} levels deep")
        if isinstance(item, dict):
            stack.extend((k, depth + 1) for k in item)
            stack.extend((v, depth + 1) for v in item.values())
        elif isinstance(item, (list, tuple)):
            stack.extend((v, depth + 1) for v in item)
        elif isinstance(item, int) and not isinstance(item, bool):
            check_number(item)
        elif isinstance(item, str) and _SURROGATE.search(item):
            # JSON may escape half of a UTF-16 pair ("\udc80"): no file or terminal
            # can be written with it, so it is refused here, not when writing.
            raise SymparamsError(f"text with a lone surrogate, which is not Unicode text: "
                                 f"{echo(item, 40)}")


def parse_document(text: str, suffix: str, source: str) -> Any:
    """Plain data from the text of a YAML, JSON (``.json``) or TOML (``.toml``) document;
    every problem is a one-line SymparamsError naming ``source``."""
    try:
        if suffix == ".json":
            data = json.loads(text, object_pairs_hook=_json_object, parse_int=_json_int)
        elif suffix == ".toml":
            data = tomllib.loads(text)
        else:
            data = _load_yaml(text)
        _check_tree(data)
        return data
    except SymparamsError as exc:
        raise exc.located(file=source) from None
    except RecursionError:
        raise SymparamsError(f"nested more than {MAX_DEPTH} levels deep", file=source) from None
    except json.JSONDecodeError as exc:
        raise SymparamsError(f"malformed JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}",
                             file=source) from None
    except tomllib.TOMLDecodeError as exc:
        raise _toml_error(exc, text).located(file=source) from None
    except yaml.reader.ReaderError as exc:
        character = exc.character if isinstance(exc.character, int) else 0
        line = text.count("\n", 0, exc.position) + 1 if isinstance(exc.position, int) else 0
        raise SymparamsError(f"malformed YAML at line {line}: character U+{character:04X} is "
                             f"not allowed in YAML (control character)", file=source) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or "cannot parse"
        if "nesting depth" in problem:  # libyaml's own limit (1,000) met while scanning ahead
            problem = f"nested more than {MAX_DEPTH} levels deep"
        raise SymparamsError(f"malformed YAML{_at(mark)}: {problem}", file=source) from None
    except ValueError as exc:  # tomllib converts integers itself: over 4,300 digits raise
        if "integer string conversion" in str(exc):
            raise too_large().located(file=source) from None
        raise SymparamsError(f"malformed document: {exc}", file=source) from None
