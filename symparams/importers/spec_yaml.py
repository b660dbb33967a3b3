"""Spec data written as YAML a person can read and edit (``symparams import -o``).

The text is made by PyYAML's safe dumper, never pasted together: keys in the
order a hand-written spec has them, each layer on one line where it fits
(``- {name: conv1, type: conv2d, kernel: 7, filters: 64}``), short lists in flow
style (``input: [224, 224, 3]``), text quoted only where YAML would read it as
something else (``'1.10'``, ``'yes'``, ``'a: b'``), no tags, anchors or aliases,
and a header comment saying where the spec came from.  Repeated layers are
written as blocks (:mod:`symparams.importers.collapse`); whatever is written
reads back through :func:`symparams.spec.spec_from_data` as the same network.
"""
from __future__ import annotations

from typing import Any

import yaml

from ..printable import shorten

TOP_ORDER = ("name", "title", "description", "convention", "notes", "symbols", "input",
             "blocks", "layers", "outputs")
_LAYER_FIRST = ("block", "name", "type")
_LAYER_LAST = ("repeat", "with", "first", "inputs", "trainable", "when")
_BLOCK_ORDER = ("description", "params", "layers")
LINE = 120          # longer layers go on to the next line (flow style folds at a space)


class _Flow(dict):
    """A mapping written on one line: ``{kernel: 3, filters: 64}``."""


class _FlowList(list):
    """A list written on one line: ``[224, 224, 3]``."""


class _Text(str):
    """Text of several lines, written as a literal block (``|``) where YAML allows it."""


class _Dumper(yaml.SafeDumper):
    """The safe dumper, with our styles and never an anchor or alias."""

    def ignore_aliases(self, data):
        return True

    def increase_indent(self, flow=False, indentless=False):
        # A list under a key indented as in the presets (PyYAML would not indent it).
        return super().increase_indent(flow, False)


def _represent_flow(dumper, data):
    return dumper.represent_mapping("tag:yaml.org,2002:map", data.items(), flow_style=True)


def _represent_block_map(dumper, data):
    return dumper.represent_mapping("tag:yaml.org,2002:map", data.items(), flow_style=False)


def _represent_flow_list(dumper, data):
    return dumper.represent_sequence("tag:yaml.org,2002:seq", data, flow_style=True)


def _represent_block_list(dumper, data):
    return dumper.represent_sequence("tag:yaml.org,2002:seq", data, flow_style=False)


def _represent_text(dumper, data):
    return dumper.represent_scalar("tag:yaml.org,2002:str", str(data), style="|")


_Dumper.add_representer(_Flow, _represent_flow)
_Dumper.add_representer(dict, _represent_block_map)
_Dumper.add_representer(_FlowList, _represent_flow_list)
_Dumper.add_representer(list, _represent_block_list)
_Dumper.add_representer(_Text, _represent_text)
# null as the specs write it: a block parameter that must be given is ``~``.
_Dumper.add_representer(type(None),
                        lambda dumper, _: dumper.represent_scalar("tag:yaml.org,2002:null", "~"))


def _plain(value: Any) -> Any:
    """Only what a spec holds: mappings, lists, text, whole numbers, numbers, true/false, null."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if getattr(value, "is_Integer", False):      # a SymPy Integer from a network
        return int(value)
    raise TypeError(f"spec data holds a {type(value).__name__}, which a spec file cannot")


def _ordered(mapping: dict, first: tuple, last: tuple = ()) -> dict:
    keys = [k for k in first if k in mapping]
    keys += [k for k in mapping if k not in first and k not in last]
    keys += [k for k in last if k in mapping]
    return {k: mapping[k] for k in keys}


def _flow(value: Any) -> Any:
    """Everything inside a one-line layer in flow style."""
    if isinstance(value, dict):
        return _Flow({k: _flow(v) for k, v in value.items()})
    if isinstance(value, list):
        return _FlowList(_flow(v) for v in value)
    return value


def _one_line(value: Any) -> bool:
    text = yaml.dump(value, Dumper=_Dumper, width=10_000, allow_unicode=True)
    return "\n" not in text.rstrip("\n") and len(text) <= LINE


def _layer(entry: dict) -> Any:
    """A layer or block use: on one line where it fits, else one field a line."""
    ordered = _ordered(entry, _LAYER_FIRST, _LAYER_LAST)
    if any(isinstance(v, str) and "\n" in v for v in ordered.values()):
        return _wrapped(ordered)      # text of several lines: one field a line
    return _flow(ordered)             # a long one is folded onto the next line by PyYAML


def _wrapped(value: Any) -> Any:
    # Long or several-line text as a literal block: YAML folds no line of it.
    if isinstance(value, str) and ("\n" in value or len(value) > LINE - 10):
        return _Text(value)
    if isinstance(value, list):
        return [_wrapped(v) for v in value]
    if isinstance(value, dict):
        return {k: _wrapped(v) for k, v in value.items()}
    return value


def _short_list(value: Any) -> Any:
    """``input: [224, 224, 3]`` and ``{input_ids: [T]}`` on one line; a long mapping
    one key a line, each value on one line where it fits."""
    flowing = _flow(value)
    if _one_line(flowing):
        return flowing
    if isinstance(value, dict):
        return {k: _short_list(v) for k, v in value.items()}
    return _wrapped(value)


def _document(data: dict) -> dict:
    out: dict[str, Any] = {}
    for key, value in _ordered(data, TOP_ORDER).items():
        if key == "layers" and isinstance(value, list):
            out[key] = [_layer(e) if isinstance(e, dict) else e for e in value]
        elif key == "blocks" and isinstance(value, dict):
            out[key] = {name: {k: (_layers(v) if k == "layers" else _short_list(v))
                               for k, v in _ordered(body, _BLOCK_ORDER).items()}
                        if isinstance(body, dict) else body for name, body in value.items()}
        elif key in ("input", "symbols", "outputs"):
            out[key] = _short_list(value)
        else:
            out[key] = _wrapped(value)
    return out


def _layers(value: Any) -> Any:
    return [_layer(e) if isinstance(e, dict) else e for e in value] \
        if isinstance(value, list) else value


def spec_to_yaml(data: dict[str, Any], *, source: str | None = None,
                 collapse: bool = True) -> str:
    """The spec ``data`` as YAML text, with a header comment naming ``source``.

    Repeated layers become blocks unless ``collapse`` is false (or the data has
    blocks already); the text reads back as the same network.
    """
    data = _plain(data)
    origin = shorten(source, 200) if source else "spec data"
    header = (f"# Written by symparams import from {origin}.\n"
              f"# A spec like any other: edit it, then 'symparams count' or 'report' it.\n")
    if collapse:
        from .collapse import collapse_blocks
        collapsed = collapse_blocks(data)
        if collapsed is not data:
            shorter = _dump(collapsed)
            # Blocks are for reading less: where every instance differs (a symbolic
            # network has letters of its own in each) the flat list is kept.  The flat
            # text has a line per layer at least, so it is only written to compare
            # when the blocks are not clearly shorter.
            lines = shorter.count("\n")
            if lines < len(data.get("layers") or ()) or lines < _dump(data).count("\n"):
                return header + shorter
    return header + _dump(data)


def _dump(data: dict) -> str:
    return yaml.dump(_document(data), Dumper=_Dumper, sort_keys=False, allow_unicode=True,
                     width=LINE, default_flow_style=False)
