"""Walking a Keras model's config: Sequential and Functional, Keras 3 and Keras 2 layouts.

A Functional model lists its layers in graph order, each with ``inbound_nodes``:
one node per call, holding the tensors the call takes.  Keras 3 writes a tensor as
``{"class_name": "__keras_tensor__", "config": {"shape": [...], "keras_history":
[layer, node, tensor]}}`` inside the node's ``args`` and ``kwargs``; Keras 2
(tf.keras) writes a node as a list of ``[layer, node, tensor, kwargs]`` entries.
``input_layers`` and ``output_layers`` name the model's ends as
``[layer, node, tensor]``.  A Sequential model lists its layers in order; its
input is an ``InputLayer`` first or the first layer's ``batch_input_shape``.
A model used as a layer of another is walked in place, its layers named
``outer.inner``.
"""
from __future__ import annotations

import re
from typing import Any

from sympy import Expr, Symbol

from ..errors import SymparamsError
from ..spec import size_value
from .keras_config import MODEL_CLASSES, KerasImport, KerasLayer
from .keras_layers import emit_layer

_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.\-/]{0,120}")
MAX_MODEL_DEPTH = 8


def walk_model(state: KerasImport, entry: dict) -> list[str]:
    """Walk the top-level model (its inputs become the spec's inputs); the spec names
    of its outputs."""
    return _model(state, entry, prefix="", given=None, frozen=False, depth=0)


def _model(state: KerasImport, entry: dict, *, prefix: str, given: list[str] | None,
           frozen: bool, depth: int, layer: KerasLayer | None = None) -> list[str]:
    if depth > MAX_MODEL_DEPTH:
        raise state.error(layer, f"models nested more than {MAX_MODEL_DEPTH} deep")
    class_name = entry.get("class_name")
    config = entry.get("config")
    if class_name == "Sequential" and isinstance(config, list):
        config = {"layers": config}     # Keras 2.0 and 2.1 wrote the layers alone
    if not isinstance(config, dict) or class_name not in MODEL_CLASSES:
        raise state.error(layer, f"the model is a {_text(class_name)}, not a Sequential or "
                                 f"Functional model: a subclassed model keeps its architecture "
                                 f"in Python code, not in the config")
    frozen = frozen or config.get("trainable") is False
    layers = config.get("layers")
    if not isinstance(layers, list) or not layers:
        raise state.error(layer, "the model's config lists no layers", "layers")
    if class_name == "Sequential":
        return _sequential(state, config, layers, prefix, given, frozen, depth)
    return _functional(state, config, layers, prefix, given, frozen, depth)


# ------------------------------------------------------------------- Sequential

def _sequential(state, config, layers, prefix, given, frozen, depth) -> list[str]:
    current: str | None = None if given is None else given[0]
    first = layers[0] if isinstance(layers[0], dict) else {}
    if current is None and first.get("class_name") != "InputLayer":
        shape = _batch_shape(first.get("config", {}), "batch_input_shape") \
            or _batch_shape(config, "build_input_shape")
        current = _new_input(state, "input_layer", shape, None)
    group_counts: dict[str, int] = {}
    for position, raw in enumerate(layers):
        keras_layer = _layer(state, raw, prefix, frozen)
        if keras_layer.class_name == "InputLayer":
            if current is None:
                current = _input_layer(state, keras_layer)
            continue
        if depth == 0:
            keras_layer.group = _group_name(keras_layer.class_name, group_counts)
            state.groups[keras_layer.name] = keras_layer.group
        current = _one_output(state, keras_layer, _call(state, keras_layer, raw, [current],
                                                         depth))
    return [current]


# ------------------------------------------------------------------- Functional

def _functional(state, config, layers, prefix, given, frozen, depth) -> list[str]:
    tensors: dict[tuple[str, int, int], str] = {}
    input_refs = _refs(state, config.get("input_layers"), "input_layers")
    if given is not None and len(given) != len(input_refs):
        raise state.error(None, f"a nested model takes {len(input_refs)} inputs, given "
                                f"{len(given)}")
    given_by_name = dict(zip((r[0] for r in input_refs), given or ()))
    _remember_shapes(state, layers, prefix)
    group_counts: dict[str, int] = {}
    for raw in layers:
        keras_layer = _layer(state, raw, prefix, frozen)
        local = raw.get("name") or keras_layer.config.get("name")
        if depth == 0:
            keras_layer.group = _group_name(keras_layer.class_name, group_counts)
            state.groups[keras_layer.name] = keras_layer.group
        if keras_layer.class_name == "InputLayer":
            tensors[(local, 0, 0)] = given_by_name[local] if local in given_by_name \
                else _input_layer(state, keras_layer)
            continue
        nodes = raw.get("inbound_nodes")
        if not isinstance(nodes, list) or not nodes:
            raise state.error(keras_layer, "takes no input (its inbound_nodes are empty)",
                              "inbound_nodes")
        for call, node in enumerate(nodes):
            keras_layer.call = call
            inputs = [_resolve(state, keras_layer, ref, tensors) for ref in _node_refs(
                state, keras_layer, node)]
            if not inputs:
                raise state.error(keras_layer, f"call {call} takes no tensor", "inbound_nodes")
            outputs = _call(state, keras_layer, raw, inputs, depth)
            for position, name in enumerate(outputs):
                tensors[(local, call, position)] = name
    if given is None:   # the model's inputs in the order of input_layers (model.inputs)
        state.builder.order_inputs([tensors[r] for r in input_refs if r in tensors])
    outputs = []
    for ref in _refs(state, config.get("output_layers"), "output_layers"):
        if ref not in tensors:
            raise state.error(None, f"output_layers names {_text(ref[0])}, which the model "
                                    f"does not compute", "output_layers")
        outputs.append(tensors[ref])
    return outputs


def _node_refs(state, layer: KerasLayer, node: Any) -> list[tuple[str, int, int]]:
    """The (layer, node, tensor) references a call takes, in order: positional ones,
    then keyword ones (attention's value= and key=)."""
    refs: list[tuple[str, int, int]] = []
    if isinstance(node, dict):   # Keras 3
        for value in _node_values(node):
            refs.extend(_keras3_tensors(state, layer, value))
        return refs
    if isinstance(node, list):   # Keras 2: [[layer, node, tensor, kwargs], ...]
        for item in node:
            if not isinstance(item, list) or len(item) < 3:
                raise state.error(layer, f"expected [layer, node, tensor] in inbound_nodes, "
                                         f"found {_text(item)}", "inbound_nodes")
            refs.append(_ref(state, layer, item[:3]))
            extra = item[3] if len(item) > 3 and isinstance(item[3], dict) else {}
            for key in ("value", "key"):   # MultiHeadAttention's other inputs
                if isinstance(extra.get(key), list) and len(extra[key]) >= 3:
                    refs.append(_ref(state, layer, extra[key][:3]))
        return refs
    raise state.error(layer, f"expected a node, found {_text(node)}", "inbound_nodes")


def _keras3_tensors(state, layer, value, depth=0) -> list[tuple[str, int, int]]:
    if depth > 4:
        return []
    if isinstance(value, dict) and value.get("class_name") == "__keras_tensor__":
        config = value.get("config")
        return [_ref(state, layer, config.get("keras_history") if isinstance(config, dict)
                     else None)]
    if isinstance(value, (list, tuple)):
        return [r for v in value for r in _keras3_tensors(state, layer, v, depth + 1)]
    return []


def _ref(state, layer, raw) -> tuple[str, int, int]:
    if not (isinstance(raw, list) and len(raw) == 3 and isinstance(raw[0], str)
            and all(isinstance(v, int) and not isinstance(v, bool) and 0 <= v < 10_000
                    for v in raw[1:])):
        raise state.error(layer, f"expected [layer, node, tensor], found {_text(raw)}",
                          "inbound_nodes")
    return (raw[0], raw[1], raw[2])


def _refs(state, raw, field) -> list[tuple[str, int, int]]:
    if isinstance(raw, list) and len(raw) == 3 and isinstance(raw[0], str):
        raw = [raw]    # Keras 3 writes a single input or output without the outer list
    if not isinstance(raw, list) or not raw:
        raise state.error(None, f"expected a list of [layer, node, tensor], found {_text(raw)}",
                          field)
    return [_ref(state, None, item) for item in raw]


def _resolve(state, layer, ref, tensors) -> str:
    if ref in tensors:
        return tensors[ref]
    if (ref[0], ref[1], 0) in tensors and ref[2] > 0:
        raise state.error(layer, f"takes output {ref[2]} of {ref[0]} (a second output, such "
                                 f"as a recurrent layer's state): not supported", "inbound_nodes")
    raise state.error(layer, f"takes {_text(ref[0])}, which no earlier layer computes",
                      "inbound_nodes")


def _remember_shapes(state, layers, prefix) -> None:
    """Keras 3 records the shape of every tensor a layer takes: kept by (layer, node,
    tensor) for the layers whose output shape the config does not otherwise give."""
    for raw in layers:
        nodes = raw.get("inbound_nodes") if isinstance(raw, dict) else None
        for node in nodes if isinstance(nodes, list) else ():
            for value in _node_values(node):
                items = value if isinstance(value, list) else [value]
                for item in items:
                    config = item.get("config") if isinstance(item, dict) \
                        and item.get("class_name") == "__keras_tensor__" else None
                    if not isinstance(config, dict):
                        continue
                    history, shape = config.get("keras_history"), config.get("shape")
                    try:
                        ref = _ref(state, None, history)
                    except SymparamsError:
                        continue   # refused where the layer is read
                    if isinstance(shape, list):
                        state.seen_shapes[(prefix + ref[0], ref[1], ref[2])] = shape


def _node_values(node: Any) -> list:
    """A Keras 3 node's positional arguments and its query, value and key keywords (masks
    are not inputs)."""
    if not isinstance(node, dict):
        return []
    args = node.get("args") if isinstance(node.get("args"), list) else []
    kwargs = node.get("kwargs") if isinstance(node.get("kwargs"), dict) else {}
    return [*args, *(kwargs[k] for k in ("query", "value", "key") if k in kwargs)]


# ---------------------------------------------------------------------- layers

def _layer(state: KerasImport, raw: Any, prefix: str, frozen: bool) -> KerasLayer:
    state.count += 1
    if not isinstance(raw, dict) or not isinstance(raw.get("class_name"), str) \
            or not isinstance(raw.get("config"), dict):
        raise SymparamsError(f"expected a layer with class_name and config, found "
                             f"{_text(raw)}", file=state.source, layer=(state.count, ""))
    config = raw["config"]
    name = raw.get("name", config.get("name"))
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise SymparamsError(f"expected a layer name (letters, digits, _ . - /), found "
                             f"{_text(name)}", file=state.source,
                             layer=(state.count, raw["class_name"][:40]), field="name")
    full = prefix + name.replace("/", ".")
    return KerasLayer(state.count, full, raw["class_name"][:60], config,
                      frozen or config.get("trainable") is False, top=state.nested_in or full)


def _call(state, layer: KerasLayer, raw: dict, inputs: list[str], depth: int) -> list[str]:
    """The spec names of a call's outputs: a nested model is walked in place."""
    if layer.class_name in MODEL_CLASSES:
        if layer.call:
            raise state.error(layer, "a nested model called twice (shared weights) is not "
                                     "supported")
        if depth == 0:
            state.nested_in = layer.name
        try:
            return _model(state, raw, prefix=layer.name + ".", given=inputs,
                          frozen=layer.frozen, depth=depth + 1, layer=layer)
        finally:
            if depth == 0:
                state.nested_in = None
    result = emit_layer(state, layer, inputs)
    return result if isinstance(result, list) else [result]


def _one_output(state, layer, outputs: list[str]) -> str:
    if len(outputs) != 1:
        raise state.error(layer, "a layer of a Sequential model must give one output")
    return outputs[0]


def _input_layer(state: KerasImport, layer: KerasLayer) -> str:
    config = layer.config
    shape = _batch_shape(config, "batch_shape") or _batch_shape(config, "batch_input_shape")
    dtype = config.get("dtype")
    integer = isinstance(dtype, str) and "int" in dtype
    return _new_input(state, layer.name, shape, layer, integer)


def _batch_shape(config: Any, key: str) -> list | None:
    if not isinstance(config, dict):
        return None
    shape = config.get(key)
    if isinstance(shape, dict) and "input_shape" in shape:
        shape = shape["input_shape"]
    return shape if isinstance(shape, list) and shape else None


# Letters for the sizes a model leaves open, by rank (tokens: T; images: H, W).
_OPEN = {1: ("N",), 2: ("T", "C"), 3: ("H", "W", "C"), 4: ("D", "H", "W", "C")}


def _new_input(state: KerasImport, name: str, batch_shape: list | None,
               layer: KerasLayer | None, integer: bool = False) -> str:
    given = state.input_shape if not state.builder._inputs else None
    if batch_shape is None:
        if given is None:
            raise state.error(layer, "the config does not give the model's input shape: "
                                     "give it with --input (channels last, no batch axis)")
        batch_shape = [None, *given]
    shape = batch_shape[1:]
    if not 1 <= len(shape) <= 4:
        raise state.error(layer, f"an input of rank {len(shape)} (without the batch axis): "
                                 f"symparams takes ranks 1 to 4", "batch_shape")
    if given is not None and len(given) != len(shape):
        raise state.error(layer, f"--input has {len(given)} sizes but the model's input has "
                                 f"{len(shape)} (channels last, no batch axis)", "batch_shape")
    letters = ("T",) if integer and len(shape) == 1 else _OPEN[len(shape)]
    sizes: list[Expr] = []
    for axis, value in enumerate(shape):
        wanted = None if given is None else given[axis]
        if value is None:
            sizes.append(Symbol(letters[axis]) if wanted is None else _wanted(state, layer,
                                                                              wanted))
            continue
        size = _size(state, layer, value)
        if wanted is not None and _wanted(state, layer, wanted) != size:
            raise state.error(layer, f"--input gives {wanted} for axis {axis + 1}, but the "
                                     f"model fixes it at {value}", "batch_shape")
        sizes.append(size)
    return state.add_input(name, tuple(sizes))


def _size(state, layer, value) -> Expr:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 10 ** 9:
        raise state.error(layer, f"expected a size from 1 to 10^9 in the input shape, found "
                                 f"{_text(value)}", "batch_shape")
    return size_value(value)


def _wanted(state, layer, value) -> Expr:
    """A size of --input: a whole number, or a letter for a size to keep open (T)."""
    if isinstance(value, str):
        try:
            return size_value(value)
        except SymparamsError as exc:
            raise state.error(layer, exc.message, "--input") from None
    return _size(state, layer, value)


def _group_name(class_name: str, counts: dict[str, int]) -> str:
    """The group Keras gives a layer in model.weights.h5: its class in snake case,
    numbered from the second of a class on (conv2d, conv2d_1 …)."""
    name = re.sub(r"\W+", "", class_name)
    name = re.sub("(.)([A-Z][a-z]+)", r"\1_\2", name)
    name = re.sub("([a-z])([A-Z])", r"\1_\2", name).lower()
    if name in counts:
        counts[name] += 1
        return f"{name}_{counts[name]}"
    counts[name] = 0
    return name


def _text(value: Any) -> str:
    from ..printable import echo
    return echo(value, 40) if not isinstance(value, str) else repr(value[:40])


__all__ = ["walk_model"]
