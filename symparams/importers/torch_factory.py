"""``torch:package.module:factory``: import the user's module, call the factory, import
the model it returns (contract 3).

This runs the user's Python code, so the CLI does it only for an argument that
starts with ``torch:``, never for a file. Every failure (no such module, no
such attribute, not callable, the factory raises, it returns something other
than an ``nn.Module``) is one line naming the factory. Where importing the
module fails only because torchvision's compiled ops cannot load (a CUDA
torchvision beside a CPU torch), torchvision_compat.py declares the op schemas
its import needs and the spec's notes say so.
"""
from __future__ import annotations

import importlib
import re
from typing import Any

from ..errors import SymparamsError
from .torch_fx import first_line, import_torch, spec_from_torch, with_notes

FACTORY = re.compile(r"torch:([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)"
                     r":([A-Za-z_][A-Za-z0-9_]*)")


def spec_from_factory(text: str, input_shape: Any, *, allow_unknown: bool = False) -> dict:
    """Spec data for the module ``torch:package.module:factory`` returns (called with no
    arguments). This imports and runs that Python code: only for a ``torch:`` argument."""
    match = FACTORY.fullmatch(text.strip()) if isinstance(text, str) else None
    if match is None:
        raise SymparamsError("expected torch:package.module:factory, such as "
                             "torch:torchvision.models:resnet50", file=str(text)[:80])
    module_name, attribute = match.groups()
    torch = import_torch()
    notes: list[str] = []
    python_module = _import_factory_module(module_name, text, notes)
    factory = getattr(python_module, attribute, None)
    if factory is None:
        raise SymparamsError(f"module {module_name} has no attribute {attribute}", file=text)
    if not callable(factory):
        raise SymparamsError(f"{module_name}.{attribute} is a {type(factory).__name__}, not "
                             f"a function or class that builds a model", file=text)
    try:
        model = factory()
    # The user's code: whatever it raises is bad input here, and so is sys.exit(),
    # which would otherwise end symparams with the factory's exit code (0: success).
    except (Exception, SystemExit) as exc:
        raise SymparamsError(f"calling {module_name}.{attribute}() failed: "
                             f"{type(exc).__name__}: {first_line(exc)}", file=text) from None
    if not isinstance(model, torch.nn.Module):
        raise SymparamsError(f"{module_name}.{attribute}() returned a {type(model).__name__}, "
                             f"not a torch.nn.Module", file=text)
    data = spec_from_torch(model, input_shape, name=attribute, allow_unknown=allow_unknown,
                           source=text)
    return with_notes(data, [*notes, *data.get("notes", [])]) if notes else data


def _import_factory_module(module_name: str, text: str, notes: list[str]):
    from .torchvision_compat import NOTE, forget_failed_import, is_nms_error, prepare_torchvision
    try:
        return importlib.import_module(module_name)
    except (Exception, SystemExit) as exc:   # an ImportError, or what the module raises
        if not (is_nms_error(exc) and prepare_torchvision()):
            raise SymparamsError(f"cannot import {module_name}: {type(exc).__name__}: "
                                 f"{first_line(exc)}", file=text) from None
    forget_failed_import()
    try:
        python_module = importlib.import_module(module_name)
    except (Exception, SystemExit) as exc:
        raise SymparamsError(f"cannot import {module_name}: {type(exc).__name__}: "
                             f"{first_line(exc)}", file=text) from None
    notes.append(NOTE)
    return python_module
