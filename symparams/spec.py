"""Reading network specs: files, presets and the layout of a spec.

Sizes written as text are read by the whitelist parser in
:mod:`symparams.expressions` (never ``eval``, ``exec``, ``sympify`` or
``parse_expr``); its names are imported here too, where most modules take them from.

This module knows the layout of a spec file but not the layer families: it
hands each layer's fields on as a plain dict, and ``layers/`` checks them.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from sympy import Expr

from .documents import MAX_BYTES, parse_document
from .errors import SymparamsError
# The parser's names, re-exported: modules and users import them from spec.
from .expressions import (FUNCTIONS, check_magnitude, parse_expression,  # noqa: F401
                          size_symbol, size_value)
from .expressions import describe_value as _describe
from .shapes import RANK_TEXT

# ---------------------------------------------------------------- spec files

@dataclass(frozen=True)
class LayerSpec:
    """One entry of ``layers:``: its 1-based position, type, name and raw fields."""
    index: int
    type: str
    name: str | None
    fields: dict[str, Any]
    # The block instances it was expanded from, outermost first (symparams.blocks).
    blocks: tuple = ()


@dataclass(frozen=True)
class Spec:
    """A parsed spec file: sizes still raw except the input shape."""
    name: str
    input: tuple[Expr, ...]
    layers: tuple[LayerSpec, ...]
    source: str | None = None
    title: str | None = None
    description: str | None = None
    symbols: tuple[str, ...] = ()   # names declared as sizes (see layers.base.keyword_or_size)
    outputs: tuple[str, ...] | None = None   # layers given out (default: those none takes)
    input_name: str | None = None            # the first input's name (None: INPUT)
    extra_inputs: tuple = ()                 # further named inputs: ((name, shape), ...)
    convention: str | None = None   # pytorch | keras: how the frameworks' counts differ
    notes: tuple[str, ...] = ()     # what every reader should know (an importer's remarks)


_TOP_FIELDS = {"name", "title", "description", "input", "layers", "symbols", "outputs",
               "convention", "blocks", "notes"}
NOTES_LIMIT = 20        # notes a spec may hold
NOTE_LENGTH = 500       # characters in one note
# Where PyTorch and Keras count a layer differently (batch normalisation's running
# statistics, recurrent biases), the network follows one of them; PyTorch by default.
CONVENTIONS = ("pytorch", "keras")
DEFAULT_CONVENTION = "pytorch"
_PRESET_DIR = "presets"


def preset_names(package: str = "symparams") -> list[str]:
    folder = resources.files(package) / _PRESET_DIR
    return sorted(p.name[:-5] for p in folder.iterdir() if p.name.endswith(".yaml"))


def _read_text(path: Path) -> str:
    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_BYTES + 1)
        if len(data) > MAX_BYTES:
            raise SymparamsError(f"larger than {MAX_BYTES // 2 ** 20} MB; a network spec is far "
                                 f"smaller", file=str(path))
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SymparamsError(f"not UTF-8 text ({exc.reason} at byte {exc.start})", file=str(path))
    except OSError as exc:
        raise SymparamsError(f"cannot read: {exc.strerror}", file=str(path))


def read_document(target: str | Path, package: str = "symparams",
                  what: str = "preset") -> tuple[Any, str]:
    """(data, source) from a file (YAML, JSON or TOML by suffix), ``-`` (YAML on
    standard input) or a preset shipped in ``package``'s presets folder."""
    path = Path(target)
    if str(target) == "-":
        import sys
        raw = sys.stdin.buffer.read(MAX_BYTES + 1) if hasattr(sys.stdin, "buffer") \
            else sys.stdin.read(MAX_BYTES + 1)
        if len(raw) > MAX_BYTES:
            raise SymparamsError(f"larger than {MAX_BYTES // 2 ** 20} MB; a network spec is far "
                                 f"smaller", file="<stdin>")
        if isinstance(raw, bytes):
            try:
                raw = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise SymparamsError(f"not UTF-8 text ({exc.reason} at byte {exc.start})",
                                     file="<stdin>") from None
        return parse_document(raw, ".yaml", "<stdin>"), "<stdin>"
    if path.is_dir():
        raise SymparamsError(f"is a folder; expected a spec file (.yaml, .json or .toml) or "
                             f"a {what} name", file=str(target))
    if path.is_file():
        return parse_document(_read_text(path), path.suffix.lower(), str(target)), str(target)
    if isinstance(target, str) and re.fullmatch(r"[A-Za-z0-9_-]+", target) \
            and target in preset_names(package):
        text = (resources.files(package) / _PRESET_DIR / f"{target}.yaml").read_text("utf-8")
        return parse_document(text, ".yaml", target), target
    raise SymparamsError(f"no such file or {what} (presets: "
                         f"{', '.join(preset_names(package))})", file=str(target))


def load_spec(target: str | Path) -> Spec:
    """Read a spec from a file (YAML, JSON or TOML), ``-`` (YAML on standard input)
    or a preset name such as ``lenet``."""
    data, source = read_document(target)
    return spec_from_data(data, source=source)


def spec_from_data(data: Any, source: str | None = None) -> Spec:
    """Check the top-level layout of a spec given as plain data."""
    if not isinstance(data, dict):
        raise SymparamsError(f"expected a mapping with name, input and layers, "
                             f"found {_describe(data)}", file=source)
    unknown = sorted(set(map(str, data)) - _TOP_FIELDS)
    if unknown:
        raise SymparamsError(f"unknown top-level field (expected one of "
                             f"{', '.join(sorted(_TOP_FIELDS))})", file=source, field=unknown[0])
    net_name = data.get("name", Path(source).stem if source else "network")
    for key in ("name", "title", "description"):
        if key in data and not isinstance(data[key], str):
            raise SymparamsError(f"expected text, found {_describe(data[key])}",
                                 file=source, field=key)
    if "input" not in data:
        raise SymparamsError("missing; give the input shape as [height, width, channels]",
                             file=source, field="input")
    inputs = _input_shapes(data["input"], source)
    (first_name, shape), extra_inputs = inputs[0], inputs[1:]
    symbols = _declared_symbols(data.get("symbols"), source)
    raw_layers = data.get("layers")
    if not isinstance(raw_layers, list) or not raw_layers:
        raise SymparamsError(f"expected a non-empty list of layers, found {_describe(raw_layers)}",
                             file=source, field="layers")
    instances: list[tuple] = [()] * len(raw_layers)
    from .blocks import expand_blocks, uses_blocks   # blocks.py reads sizes with this module
    if uses_blocks(data):
        expanded = expand_blocks(data, source)
        raw_layers = [entry for entry, _ in expanded]
        instances = [chain for _, chain in expanded]
    layers = []
    for index, entry in enumerate(raw_layers, start=1):
        if not isinstance(entry, dict):
            raise SymparamsError(f"expected a mapping with a type, found {_describe(entry)}",
                                 file=source, layer=(index, ""))
        fields = {str(k): v for k, v in entry.items()}
        name = fields.pop("name", None)
        if name is not None and (not isinstance(name, (str, int)) or isinstance(name, bool)):
            raise SymparamsError(f"expected text, found {_describe(name)}",
                                 file=source, layer=(index, ""), field="name")
        name = None if name is None else str(name)
        if "type" not in fields:
            raise SymparamsError("missing", file=source, layer=(index, name or ""), field="type")
        layer_type = fields.pop("type")
        if not isinstance(layer_type, str):
            raise SymparamsError(f"expected text, found {_describe(layer_type)}",
                                 file=source, layer=(index, name or ""), field="type")
        layers.append(LayerSpec(index, layer_type, name, fields, instances[index - 1]))
    return Spec(name=net_name, input=shape, layers=tuple(layers), source=source,
                input_name=first_name, extra_inputs=extra_inputs,
                title=data.get("title"), description=data.get("description"),
                symbols=symbols, outputs=_output_names(data.get("outputs"), source),
                convention=check_convention(data.get("convention"), source),
                notes=check_notes(data.get("notes"), source))


def check_notes(raw: Any, source: str | None = None) -> tuple[str, ...]:
    """``notes: [text, ...]``: remarks shown as warnings in every output; each one line
    of printable text (no control characters), at most NOTE_LENGTH characters, and at
    most NOTES_LIMIT of them."""
    if raw is None:
        return ()
    items = [raw] if isinstance(raw, str) else raw
    if not isinstance(items, (list, tuple)) or not all(isinstance(i, str) for i in items):
        raise SymparamsError(f"expected a list of texts, found {_describe(raw)}",
                             file=source, field="notes")
    if len(items) > NOTES_LIMIT:
        raise SymparamsError(f"expected at most {NOTES_LIMIT} notes, found {len(items)}",
                             file=source, field="notes")
    notes = []
    for i, note in enumerate(items):
        where = dict(file=source, field=f"notes[{i}]")
        if not note.isprintable():
            raise SymparamsError("control characters (line breaks, escapes) are not "
                                 "allowed in a note", **where)
        if len(note) > NOTE_LENGTH:
            raise SymparamsError(f"expected at most {NOTE_LENGTH} characters, found "
                                 f"{len(note)}", **where)
        if note.strip():
            notes.append(note.strip())
    return tuple(notes)


def check_convention(raw: Any, source: str | None = None,
                     field: str = "convention") -> str | None:
    """``convention: pytorch | keras`` (any case); None when not given."""
    if raw is None:
        return None
    if isinstance(raw, str) and raw.strip().lower() in CONVENTIONS:
        return raw.strip().lower()
    raise SymparamsError(f"expected {' or '.join(CONVENTIONS)}, found {_describe(raw)}",
                         file=source, field=field)


_INPUT_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_.-]{0,63}")


def _input_shapes(raw: Any, source: str | None) -> list[tuple[str | None, tuple[Expr, ...]]]:
    """``input: [32, 32, 3]`` (one input, called INPUT) or ``input: {input_ids: [T],
    token_type_ids: [T]}`` (several, named): (name, shape) pairs, the first None for INPUT."""
    if isinstance(raw, dict):
        if not raw:
            raise SymparamsError("expected at least one named input such as {image: [32, 32, 3]}",
                                 file=source, field="input")
        named = []
        for key, value in raw.items():
            name = str(key)
            if not _INPUT_NAME.fullmatch(name):
                raise SymparamsError(f"expected an input name (a letter, then letters, digits, "
                                     f"_ . or -), found {_describe(key)}", file=source,
                                     field="input")
            named.append((name, _one_shape(value, source, f"input.{name}")))
        return named
    return [(None, _one_shape(raw, source, "input"))]


def _one_shape(raw: Any, source: str | None, field: str) -> tuple[Expr, ...]:
    if not isinstance(raw, list) or not 1 <= len(raw) <= 4:
        raise SymparamsError(f"expected {RANK_TEXT}, found {_describe(raw)}", file=source,
                             field=field)
    shape = []
    for i, value in enumerate(raw):
        try:
            shape.append(size_value(value))
        except SymparamsError as exc:
            raise exc.located(file=source, field=f"{field}[{i}]") from None
    return tuple(shape)


def _output_names(raw: Any, source: str | None) -> tuple[str, ...] | None:
    """``outputs: [HEAD, AUX]``: layer names (checked against the layers by the network)."""
    if raw is None:
        return None
    items = [raw] if isinstance(raw, str) else raw
    if not isinstance(items, list) or not items or not all(
            isinstance(i, (str, int)) and not isinstance(i, bool) for i in items):
        raise SymparamsError(f"expected a list of layer names such as [FC3], found "
                             f"{_describe(raw)}", file=source, field="outputs")
    return tuple(str(i) for i in items)


def _declared_symbols(raw: Any, source: str | None) -> tuple[str, ...]:
    """``symbols: [pad, hidden]``: names that may stand for a size even in a field
    that otherwise takes keywords (padding: pad)."""
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise SymparamsError(f"expected a list of names such as [pad, hidden], found "
                             f"{_describe(raw)}", file=source, field="symbols")
    for name in raw:
        if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z][A-Za-z0-9_]{0,40}", name) \
                or name in FUNCTIONS:
            raise SymparamsError(f"expected a name (a letter, then letters, digits or _), found "
                                 f"{_describe(name)}", file=source, field="symbols")
    return tuple(dict.fromkeys(raw))
