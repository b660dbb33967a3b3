"""What every importer shares: spec entries, unique names and the accounting check.

Contract for the importers (torch_fx.py, torch_leaves.py, onnx_graph.py,
keras_config.py): each builds a :class:`SpecBuilder`, adds the model's inputs and
layers in graph order, and returns ``builder.data()``, plain spec data.
:func:`check_accounting` then compares the Network built from it with the count
the framework itself reports.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..errors import SymparamsError


@dataclass
class SpecBuilder:
    """Spec data being assembled, one layer at a time, in graph order.

    ``add`` takes the layer's family name and fields exactly as a spec file
    holds them; ``inputs`` (a list of earlier layer or input names) is written
    only when the layer does not simply take the previous one.
    """
    name: str
    source: str                        # the file or factory, for error messages
    convention: str = "pytorch"
    notes: list[str] = field(default_factory=list)   # shown as warnings in every output
    _inputs: dict[str, list[Any]] = field(default_factory=dict)
    _layers: list[dict[str, Any]] = field(default_factory=list)
    _names: set[str] = field(default_factory=set)

    def unique(self, name: str) -> str:
        """``name``, or ``name_2``, ``name_3`` … when it is taken."""
        candidate, n = name, 1
        while candidate in self._names:
            n += 1
            candidate = f"{name}_{n}"
        self._names.add(candidate)
        return candidate

    def add_input(self, name: str, shape: list[Any]) -> str:
        name = self.unique(name)
        self._inputs[name] = list(shape)
        return name

    @property
    def last(self) -> str | None:
        """The name of the layer (or input) added last."""
        if self._layers:
            return self._layers[-1]["name"]
        return next(reversed(self._inputs), None)

    def add(self, kind: str, name: str, inputs: list[str] | None = None,
            **fields: Any) -> str:
        """Add a layer; returns its (unique) name. ``inputs=None`` takes the previous one."""
        name = self.unique(name)
        entry: dict[str, Any] = {"name": name, "type": kind, **fields}
        # A spec's first layer takes the first input unless it says otherwise.
        implicit = self._layers[-1]["name"] if self._layers else next(iter(self._inputs), None)
        if inputs is not None and list(inputs) != [implicit]:
            entry["inputs"] = list(inputs)
        self._layers.append(entry)
        return name

    def order_inputs(self, names: list[str]) -> None:
        """Put the inputs in the model's own order (``names`` first), whatever order
        the graph walk met them in."""
        first = {n: self._inputs[n] for n in names if n in self._inputs}
        before = next(iter(self._inputs), None)
        self._inputs = {**first, **{n: s for n, s in self._inputs.items() if n not in first}}
        if self._layers and "inputs" not in self._layers[0] and before is not None:
            self._layers[0]["inputs"] = [before]   # it took the input that was first

    def data(self) -> dict[str, Any]:
        """The spec data: one unnamed input is written ``input: [..]``, several as a mapping."""
        if not self._layers:
            raise SymparamsError("the model has no layers to count", file=self.source)
        data: dict[str, Any] = {"name": self.name}
        if self.convention != "pytorch":
            data["convention"] = self.convention
        if self.notes:
            data["notes"] = list(self.notes)
        data["input"] = (next(iter(self._inputs.values())) if list(self._inputs) == ["INPUT"]
                         else dict(self._inputs))
        data["layers"] = list(self._layers)
        return data


def check_accounting(found: int, expected: int, what: str, source: str) -> None:
    """Refuse an import whose count differs from the framework's own.

    ``expected`` is what the framework reports and ``what`` names that count
    ("the sum of unique parameters' numel()", "the sum of initializer sizes",
    "Keras' count_params()"); ``found`` is the matching count of the network
    built from the spec data (parameters, or parameters plus buffers, as the
    importer documents).
    """
    if int(found) != int(expected):
        raise SymparamsError(f"imported {int(found):,} but {what} is {int(expected):,}; "
                             f"a layer was counted wrongly: please report this model",
                             file=source)
