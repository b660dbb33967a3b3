"""A Keras model as spec data, read from its config alone (no TensorFlow, no Keras).

:func:`spec_from_keras` reads a ``.keras`` archive's ``config.json`` or the text
of ``model.to_json()`` (see :mod:`.keras_archive`), walks the model — Sequential
or Functional, Keras 3's layout (``inbound_nodes`` of ``__keras_tensor__``
records) or Keras 2's (tf.keras: nested lists ``[layer, node, tensor, kwargs]``),
nested models used as layers — and hands each layer call to its rule in
:mod:`.keras_layers`, which adds the spec entries that count it.  Names are the
Keras layer names (a nested model's layers as ``outer.inner``); the convention
is Keras' (BatchNormalization's moving statistics are non-trainable parameters).

Accounting: the config is the only source of the architecture.  When the archive
holds ``model.weights.h5`` and h5py can read it, the count of every Keras layer
and the total are compared with the sizes of the stored tensors (shapes only);
otherwise a note says that the count comes from the config.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sympy import Expr, Integer

from ..errors import SymparamsError
from .common import SpecBuilder, check_accounting
from .keras_archive import KerasSource, read_keras

MODEL_CLASSES = ("Functional", "Model", "Sequential")


@dataclass
class KerasLayer:
    """One call of a Keras layer: where it is (for errors) and what its config says."""
    index: int          # position among all the model's layers, 1-based, nested ones too
    name: str           # the spec name: the Keras name, prefixed inside nested models
    class_name: str
    config: dict[str, Any]
    frozen: bool
    call: int = 0       # which call of a shared layer (0: the first, which owns the weights)
    group: str | None = None    # its top-level group in model.weights.h5
    top: str | None = None      # the top-level layer it belongs to (a nested model's layers)

    @property
    def where(self) -> tuple[int, str]:
        return (self.index, self.name)


@dataclass
class KerasImport:
    """The spec being built from one Keras model, with each entry's output shape."""
    loaded: KerasSource
    allow_unknown: bool = False
    input_shape: tuple | None = None
    builder: SpecBuilder = field(init=False)
    shapes: dict[str, tuple[Expr, ...]] = field(default_factory=dict)
    # Keras 3 configs give each tensor's shape where a layer takes it: (layer, node, tensor).
    seen_shapes: dict[tuple[str, int, int], list] = field(default_factory=dict)
    entries: dict[str, list[str]] = field(default_factory=dict)   # Keras layer -> spec names
    groups: dict[str, str] = field(default_factory=dict)          # Keras layer -> h5 group
    count: int = 0
    nested_in: str | None = None   # the top-level nested model being walked

    def __post_init__(self):
        config = self.loaded.config.get("config")
        name = config.get("name") if isinstance(config, dict) else None
        name = name if isinstance(name, str) else None
        self.builder = SpecBuilder(name=_clean_name(name or Path(self.loaded.source).stem),
                                   source=self.loaded.source, convention="keras")

    @property
    def source(self) -> str:
        return self.loaded.source

    # ------------------------------------------------------------------ errors

    def error(self, layer: KerasLayer | None, message: str,
              field: str | None = None) -> SymparamsError:
        where = None if layer is None else (layer.index, f"{layer.name}, {layer.class_name}")
        return SymparamsError(message, file=self.source, layer=where, field=field)

    # ---------------------------------------------------------------- emitting

    def emit(self, layer: KerasLayer, kind: str, inputs: list[str], *, name: str | None = None,
             out_shape: tuple | None = None, **fields: Any) -> str:
        """Add one spec entry for ``layer`` and work out its output shape the way the
        network will (so the next rule can read it).  ``out_shape`` gives the shape of
        an ``opaque`` or ``tensor`` entry; other kinds are shaped by their family."""
        from ..layers import layer_class
        if layer.frozen:
            fields["trainable"] = False
        in_shapes = [self.shapes[i] for i in inputs]
        output = out_shape
        if output is None:
            try:
                family = layer_class(kind).from_fields(fields_for_family(fields))
                if family.merges:
                    family.check_inputs(in_shapes, inputs)
                    output = family.merged_shape(in_shapes)
                else:
                    family.check_input(in_shapes[0])
                    output = family.output_shape(in_shapes[0])
            except SymparamsError as exc:
                raise self.error(layer, exc.message, exc.field) from None
        spec_name = self.builder.add(kind, name or layer.name, inputs, **fields)
        self.shapes[spec_name] = tuple(output)
        # Per top-level Keras layer: a nested model's entries are checked as one group.
        self.entries.setdefault(layer.top or layer.name, []).append(spec_name)
        return spec_name

    def add_input(self, name: str, shape: tuple[Expr, ...]) -> str:
        spec_name = self.builder.add_input(name, [written(v) for v in shape])
        self.shapes[spec_name] = tuple(shape)
        return spec_name


def fields_for_family(fields: dict[str, Any]) -> dict[str, Any]:
    """The fields a family reads (``trainable`` belongs to the network, not the family)."""
    return {k: v for k, v in fields.items() if k != "trainable"}


def written(value: Expr) -> int | str:
    """A size as spec data: an int, or expression text such as ``H - 2``."""
    from ..layers.checks import expr_field
    return expr_field(value) if isinstance(value, Expr) else value


def _clean_name(name: str) -> str:
    return "".join(c if c.isalnum() or c in "_.-" else "_" for c in name)[:80] or "keras_model"


def spec_from_keras(path: str | Path, *, input_shape=None, allow_unknown: bool = False) -> dict:
    """Spec data (``convention: keras``) for the Keras model in ``path``: a ``.keras``
    archive or a ``.json`` file of ``model.to_json()``.  ``input_shape`` (channels last,
    no batch axis) fills in the sizes the model leaves open (None); ``allow_unknown``
    counts a layer class without a family as an ``opaque`` layer when model.weights.h5
    gives its count.  The result has passed the accounting check (see the module doc)."""
    from .keras_graph import walk_model
    loaded = read_keras(path)
    state = KerasImport(loaded, allow_unknown=allow_unknown,
                        input_shape=None if input_shape is None else tuple(input_shape))
    outputs = walk_model(state, loaded.config)
    data = state.builder.data()
    if outputs != [data["layers"][-1]["name"]]:
        data["outputs"] = list(outputs)   # Keras' output_layers, when not simply the last
    check_keras_accounting(state, data)
    return data


def check_keras_accounting(state: KerasImport, data: dict) -> None:
    """Compare each Keras layer's count and the total with model.weights.h5's tensor
    sizes, or say in a note that the config is the only source."""
    from ..network import Network
    from ..spec import spec_from_data
    network = Network.from_spec(spec_from_data(data, source=state.source))
    weights = state.loaded.weights
    if weights is None:
        why = state.loaded.weights_note or "a model.to_json() file holds no weights"
        data.setdefault("notes", []).append(
            f"counted from the Keras config alone ({why}); nothing checked it against "
            f"stored weights")
        return
    by_spec = {info.name: info.params for info in network}
    for keras_name, group in state.groups.items():
        ours = sum((by_spec.get(n, Integer(0)) for n in state.entries.get(keras_name, ())),
                   Integer(0))
        stored = weights.by_group.get(group, 0)
        if ours.is_number and int(ours) != stored:
            raise SymparamsError(f"layer {keras_name} counts {int(ours):,} but model.weights.h5 "
                                 f"stores {stored:,} values for it ({group}); please report "
                                 f"this model", file=state.source)
    check_accounting(network.total, weights.total, "the size of the tensors in model.weights.h5",
                     state.source)


__all__ = ["spec_from_keras", "KerasImport", "KerasLayer", "MODEL_CLASSES"]
