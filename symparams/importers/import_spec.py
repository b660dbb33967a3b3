"""What ``symparams import SOURCE`` reads: a framework model, or a spec or preset.

A framework source (``torch:package.module:factory``, a ``.onnx`` or ``.keras``
file, a Keras model ``.json``) goes through :func:`symparams.importers.load_source`,
the one way to the importers.  A spec file or preset is read as any spec, so
``import`` is also a normaliser: blocks expanded, then repeated layers collapsed
again by :func:`~symparams.importers.spec_yaml.spec_to_yaml`.  Either way the data
is built into a Network first (every field checked, the importer's accounting
done), and what is written is that Network's own spec data, so it reads back as
the same network.
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from ..errors import SymparamsError
from ..printable import echo

TORCH_PREFIX = "torch:"
FRAMEWORK_SUFFIXES = (".onnx", ".keras")
_CARRIED = ("description",)          # top-level text a Network does not keep


def is_framework_source(target: str, data: Any = None) -> bool:
    """``torch:…``, ``.onnx``, ``.keras``, or JSON ``data`` that is a Keras model."""
    text = str(target)
    if text.startswith(TORCH_PREFIX) or Path(text).suffix.lower() in FRAMEWORK_SUFFIXES:
        return True
    return isinstance(data, dict) and "class_name" in data and "config" in data \
        and "layers" not in data


def parse_input_shape(text: str | None) -> tuple[int, ...] | None:
    """``--input 3,224,224`` (the framework's order, no batch axis) → (3, 224, 224)."""
    if text is None:
        return None
    parts = [p.strip() for p in str(text).split(",")]
    if not 1 <= len(parts) <= 4 or not all(re.fullmatch(r"[1-9][0-9]{0,6}", p) for p in parts):
        raise SymparamsError(f"expected 1 to 4 whole sizes separated by commas, such as "
                             f"3,224,224, found {echo(text)}", field="--input")
    return tuple(int(p) for p in parts)


def source_data(target: str, *, input_shape: tuple[int, ...] | None = None,
                allow_unknown: bool = False) -> tuple[dict[str, Any], str]:
    """(spec data, source) for ``target``, as the importer or the spec file has it."""
    data, source = None, str(target)
    if not is_framework_source(target):
        from ..spec import read_document
        data, source = read_document(target)
        if not is_framework_source(target, data):
            if input_shape is not None:
                raise SymparamsError("only for a framework model (torch:…, .onnx, "
                                     ".keras, a Keras .json); a spec gives its own input:",
                                     file=source, field="--input")
            return data, source
    try:
        from . import load_source
    except ImportError:
        raise SymparamsError("importing framework models needs symparams.importers."
                             "load_source, which this installation lacks", file=source) from None
    return load_source(target, input_shape=input_shape, allow_unknown=allow_unknown)


def imported_spec(target: str, *, input_shape: tuple[int, ...] | None = None,
                  allow_unknown: bool = False) -> tuple[dict[str, Any], str]:
    """The flat spec data of ``target`` as its Network writes it, and the source."""
    from ..network import Network
    from ..spec import spec_from_data
    data, source = source_data(target, input_shape=input_shape, allow_unknown=allow_unknown)
    net = Network.from_spec(spec_from_data(data, source=source))
    flat = net.to_spec()
    if isinstance(data, dict):
        for key in _CARRIED:
            if isinstance(data.get(key), str) and key not in flat:
                flat = {**flat, key: data[key]}
    return flat, source
