"""Which importer reads a target: the one way the CLI and ``symparams.load`` reach them.

A target is an import target when it names a framework's model: a PyTorch
factory ``torch:package.module:factory``, an ``.onnx`` file, a ``.keras`` archive
or a Keras model ``.json`` (a JSON document whose top level has ``class_name``
and ``config``).  Formats we do not read (Keras HDF5, TensorFlow graphs and
SavedModel folders, PyTorch checkpoints, Python files) are import targets too,
only to be refused with a line saying what to export instead.  Anything else is a
spec file or a preset, read by :mod:`symparams.spec`.

Only ``torch:`` runs Python code (the user's module, imported by name); a plain
file argument never does: ONNX and Keras files are read as data.  Each importer
module, and the framework package it needs, is imported only when it is used.
"""
from __future__ import annotations

import json
import re
from importlib import import_module
from pathlib import Path
from typing import Any

from ..errors import SymparamsError
from ..printable import echo

TORCH_PREFIX = "torch:"
# Files we do not read, and what to give symparams instead.
_REFUSED = {
    ".h5": "a Keras HDF5 file is not read: save the model as .keras (model.save('m.keras')) "
           "or its architecture as JSON (model.to_json())",
    ".hdf5": "a Keras HDF5 file is not read: save the model as .keras (model.save('m.keras')) "
             "or its architecture as JSON (model.to_json())",
    ".pb": "a TensorFlow graph is not read: export the model to ONNX (tf2onnx) or save the "
           "Keras model as .keras",
    ".pt": "a PyTorch checkpoint is not read (unpickling can run code): name the code that "
           "builds the model, torch:package.module:factory, with --input",
    ".pth": "a PyTorch checkpoint is not read (unpickling can run code): name the code that "
            "builds the model, torch:package.module:factory, with --input",
    ".py": "a Python file is never run: name its factory as torch:package.module:factory "
           "(this imports and runs it) with --input",
}
_SAVED_MODEL = ("a TensorFlow SavedModel folder is not read: export the model to ONNX "
                "(tf2onnx) or save the Keras model as .keras")
# The optional package each importer needs, and how to get it.
_PACKAGES = {"torch": "pip install torch", "onnx": "pip install onnx",
             "h5py": "pip install h5py"}
_FACTORY = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*"
                      r":[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*")


def is_import_target(target: Any) -> bool:
    """True when ``target`` names a framework's model (or a format we refuse), False
    for what :mod:`symparams.spec` reads (a spec file, ``-``, a preset name)."""
    text = str(target)
    if text.startswith(TORCH_PREFIX):
        return True
    path = Path(text)
    suffix = path.suffix.lower()
    if suffix in (".onnx", ".keras") or suffix in _REFUSED:
        return True
    if path.is_dir() and (path / "saved_model.pb").is_file():
        return True
    return suffix == ".json" and path.is_file() and _keras_json(path) is not None


def _keras_json(path: Path) -> dict | None:
    """The document when a .json file is a Keras model (top level: class_name and
    config), else None (a spec in JSON, or not JSON at all: the spec reader says so)."""
    from ..documents import MAX_BYTES
    try:
        with path.open("rb") as handle:
            raw = handle.read(MAX_BYTES + 1)
        if len(raw) > MAX_BYTES:
            return None
        data = json.loads(raw.decode("utf-8"))
    except (OSError, ValueError, RecursionError):
        return None
    if isinstance(data, dict) and "class_name" in data and "config" in data:
        return data
    return None


def load_source(target: Any, *, input_shape=None,
                allow_unknown: bool = False) -> tuple[dict, str]:
    """(spec data, source) of the model ``target`` names, read by its importer.

    ``input_shape`` is the input in the framework's order without the batch axis
    (``(3, 224, 224)``; letters such as ``"T"`` for a dynamic size): required for
    ``torch:``, optional for ONNX and Keras (it fills in sizes the model leaves
    dynamic).  ``allow_unknown`` counts a module or node that holds parameters and
    has no family as an opaque layer instead of refusing the model.  The source is
    the file or factory, for error messages.  Every problem is one SymparamsError line.
    """
    text = str(target)
    if text.startswith(TORCH_PREFIX):
        factory = text[len(TORCH_PREFIX):]
        if not _FACTORY.fullmatch(factory):
            raise SymparamsError(f"expected torch:package.module:factory such as "
                                 f"torch:torchvision.models:resnet50, found {echo(text)}",
                                 file=text)
        if input_shape is None:
            raise SymparamsError("a torch: factory needs --input, the input shape in PyTorch's "
                                 "order without the batch axis, such as --input 3,224,224",
                                 file=text, field="--input")
        module = _importer("torch_fx", "torch", text)
        return _run(lambda: module.spec_from_factory(text, input_shape,
                                                     allow_unknown=allow_unknown), text), text
    path = Path(text)
    suffix = path.suffix.lower()
    if suffix in _REFUSED:
        raise SymparamsError(_REFUSED[suffix], file=text)
    if path.is_dir() and (path / "saved_model.pb").is_file():
        raise SymparamsError(_SAVED_MODEL, file=text)
    if suffix in (".onnx", ".keras", ".json"):
        if path.is_dir():
            raise SymparamsError("is a folder; expected a model file", file=text)
        if not path.is_file():
            raise SymparamsError("no such file", file=text)
    if suffix == ".onnx":
        module = _importer("onnx_graph", "onnx", text)
        return _run(lambda: module.spec_from_onnx(path, input_shape=input_shape,
                                                  allow_unknown=allow_unknown), text), text
    if suffix == ".keras" or (suffix == ".json" and _keras_json(path) is not None):
        module = _importer("keras_config", None, text)
        return _run(lambda: module.spec_from_keras(path, input_shape=input_shape,
                                                   allow_unknown=allow_unknown), text), text
    raise SymparamsError("is not a model to import (torch:package.module:factory, .onnx, "
                         ".keras or a Keras model .json); a spec file or preset is read "
                         "with symparams.load", file=text)


def torch_module_source(module, input_shape, *, allow_unknown: bool = False,
                        name: str | None = None) -> tuple[dict, str]:
    """(spec data, source) of a PyTorch module object (symparams.from_torch)."""
    cls = type(module)
    source = f"{cls.__module__}.{cls.__qualname__}"
    if input_shape is None:
        raise SymparamsError("from_torch needs input_shape, the input in PyTorch's order "
                             "without the batch axis, such as (3, 224, 224)", file=source,
                             field="input_shape")
    importer = _importer("torch_fx", "torch", source)
    return _run(lambda: importer.spec_from_torch(
        module, tuple(input_shape), name=name, allow_unknown=allow_unknown,
        source=source), source), source


def file_source(path, importer: str, *, input_shape=None,
                allow_unknown: bool = False) -> tuple[dict, str]:
    """(spec data, source) of an ONNX (``importer="onnx"``) or Keras (``"keras"``) file
    whatever its name ends with (symparams.from_onnx, symparams.from_keras)."""
    text = str(path)
    file = Path(text)
    if not file.is_file():
        raise SymparamsError("is a folder; expected a model file" if file.is_dir()
                             else "no such file", file=text)
    shape = None if input_shape is None else tuple(input_shape)
    if importer == "onnx":
        module = _importer("onnx_graph", "onnx", text)
        return _run(lambda: module.spec_from_onnx(file, input_shape=shape,
                                                  allow_unknown=allow_unknown), text), text
    module = _importer("keras_config", None, text)
    return _run(lambda: module.spec_from_keras(file, input_shape=shape,
                                               allow_unknown=allow_unknown), text), text


def _importer(name: str, package: str | None, source: str):
    """The importer module ``symparams.importers.<name>``, imported now (lazily)."""
    try:
        return import_module(f"{__package__}.{name}")
    except ModuleNotFoundError as exc:
        _missing(exc, source)
        if exc.name == f"{__package__}.{name}":
            raise SymparamsError(f"this installation of symparams has no {name} importer",
                                 file=source) from None
        raise


def _run(read, source: str) -> dict:
    """Run an importer; a framework package it needs and cannot import is one line."""
    try:
        return read()
    except ModuleNotFoundError as exc:
        _missing(exc, source)
        raise


def _missing(exc: ModuleNotFoundError, source: str) -> None:
    """Raise the one-line error for an optional package that is not installed."""
    top = (exc.name or "").split(".")[0]
    if top in _PACKAGES:
        raise SymparamsError(f"reading this model needs the {top} package, which is not "
                             f"installed ({_PACKAGES[top]})", file=source) from None


def parse_input_shape(text: str, field: str = "--input") -> tuple:
    """``"3,224,224"`` → ``(3, 224, 224)``; ``"T,768"`` → ``("T", 768)``: whole numbers
    ≥ 1 or names for a dynamic size (a letter, then letters, digits or _).  Read by
    hand, never with sympify."""
    items = [item.strip() for item in str(text).split(",")]
    if not 1 <= len(items) <= 5 or len(str(text)) > 200:
        raise SymparamsError(f"expected 1 to 5 sizes separated by commas such as 3,224,224, "
                             f"found {echo(text)}", field=field)
    shape: list = []
    for item in items:
        if re.fullmatch(r"[0-9]{1,9}", item) and int(item) >= 1:
            shape.append(int(item))
        elif re.fullmatch(r"[A-Za-z][A-Za-z0-9_]{0,30}", item):
            shape.append(item)
        else:
            raise SymparamsError(f"expected whole numbers ≥ 1 or names such as T for a "
                                 f"dynamic size, found {echo(item)} in {echo(text)}",
                                 field=field)
    return tuple(shape)


__all__ = ["load_source", "is_import_target", "parse_input_shape", "torch_module_source",
           "file_source", "TORCH_PREFIX"]
