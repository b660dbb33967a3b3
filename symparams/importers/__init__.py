"""Bring your own model: a PyTorch module, an ONNX file or a Keras model as a Network.

Every importer turns the framework's model into plain **spec data** (the dict a
spec file holds: ``name``, ``input``, ``layers`` …), which is then read exactly
like a hand-written spec. So an imported model has the same formulas, steps,
reports, ``--symbolic``, ``solve`` and ``diff`` as any other, and ``import -o``
only has to write that data as YAML.

After import the count is checked against the framework's own (accounting,
never guessing): a module or node that holds parameters and has no family is an
error naming its path, class and parameter count, unless ``allow_unknown`` asks
for it to be counted as an opaque layer (a number, no formula, and a warning in
every output).

The importers sit above :mod:`symparams.network` (they build Networks) and below
the renderers and the CLI. Each framework module is imported only when used, so
``import symparams`` never imports torch, onnx or keras.
"""
from __future__ import annotations

# The one way the CLI and symparams.load reach the importers (see sources.py).
from .sources import is_import_target, load_source, parse_input_shape  # noqa: E402

__all__ = ["load_source", "is_import_target", "parse_input_shape"]
