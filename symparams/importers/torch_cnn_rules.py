"""PyTorch module rules: see torch_map.py."""
from __future__ import annotations

from .torch_map import ModuleCall, module_rule  # noqa: F401
