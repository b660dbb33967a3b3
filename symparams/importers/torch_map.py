"""PyTorch modules to symparams families: one rule per module class.

Shared by both PyTorch walkers (``torch_fx.py``: the fx graph; ``torch_leaves.py``:
leaf modules in call order, for models fx cannot trace). A rule receives one
call of a leaf module and returns the spec entries that count it: usually one
(``nn.Conv2d`` → ``conv2d``), sometimes a short chain. Rules are registered with
:func:`module_rule` under the class name; a subclass finds its parent's rule
through the method resolution order, and the walkers' accounting check (our
count against the module's own ``numel()``) catches a subclass that adds
parameters.

Rules live in two modules, one per area: ``torch_cnn_rules.py`` (convolution,
pooling, normalisation, dense, activations, shape modules) and
``torch_sequence_rules.py`` (embeddings, recurrent layers, attention,
transformer layers, transformers' own modules). :func:`rule_for` imports both.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class ModuleCall:
    """One call of a leaf module, as a rule sees it.

    Shapes are PyTorch's (channels first), with the batch axis removed; the
    walker converts them to symparams' layout (channels last) for the spec.
    """
    path: str                                  # module path: "layer1.0.conv1"
    module: Any                                # the torch.nn.Module
    in_shapes: tuple[tuple[int, ...], ...]     # shapes of the tensor arguments
    out_shape: tuple[int, ...] | None          # shape of the (first) output
    convention: str = "pytorch"


# A rule returns spec entries ({"type": ..., fields}), without names or inputs:
# the first takes the call's input, each next one the entry before it, and the
# walker names them (the module path; a chain gets path, path.1, …).
Rule = Callable[[ModuleCall], list[dict[str, Any]]]
MODULE_RULES: dict[str, Rule] = {}


def module_rule(*class_names: str) -> Callable[[Rule], Rule]:
    """Register a rule for modules whose class (or a parent class) has one of these names."""
    def register(rule: Rule) -> Rule:
        for name in class_names:
            MODULE_RULES[name] = rule
        return rule
    return register


def rule_for(module: Any) -> Rule | None:
    """The rule for ``module``'s class or its nearest parent class with one, else None."""
    from . import torch_cnn_rules, torch_sequence_rules  # noqa: F401  (they register rules)
    for cls in type(module).__mro__:
        rule = MODULE_RULES.get(cls.__name__)
        if rule is not None:
            return rule
    return None
