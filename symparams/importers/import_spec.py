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

from typing import Any

from ..errors import SymparamsError

_CARRIED = ("description",)          # top-level text a Network does not keep


def source_data(target: str, *, input_shape: tuple | None = None,
                allow_unknown: bool = False) -> tuple[dict[str, Any], str]:
    """(spec data, source) for ``target``, as the importer or the spec file has it."""
    from . import is_import_target, load_source
    if is_import_target(target):
        return load_source(target, input_shape=input_shape, allow_unknown=allow_unknown)
    from ..spec import read_document
    data, source = read_document(target)
    if input_shape is not None:
        raise SymparamsError("only for a framework model (torch:…, .onnx, .keras, a Keras "
                             ".json); a spec gives its own input:", file=source, field="--input")
    return data, source


def imported_spec(target: str, *, input_shape: tuple | None = None,
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
