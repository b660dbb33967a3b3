"""More Keras layer rules: sequences (Embedding, recurrent, attention), Normalization,
and the layers that learn nothing but have no family (shape-only ``opaque`` entries).

See :mod:`.keras_layers` for how a rule works.
"""
from __future__ import annotations

from typing import Any

from sympy import Expr, Integer

from ..spec import size_value
from .keras_config import KerasImport, KerasLayer, written
from .keras_values import Unsupported, _echo, axis_of, flag, size

MORE_RULES: dict[str, Any] = {}
SHAPE_ONLY: dict[str, Any] = {}


def _rule(table, *names):
    def register(function):
        for name in names:
            table[name] = function
        return function
    return register


_size, _flag = size, flag


# ------------------------------------------------------------------ shapes

def seen_output(state: KerasImport, layer: KerasLayer) -> tuple[Expr, ...] | None:
    """The output shape Keras 3 recorded where a later layer takes this one (no batch
    axis; open sizes as the input's letters where the rank allows), or None."""
    local = layer.name.rsplit(".", 1)[-1] if "." in layer.name else layer.name
    for key in ((layer.name, layer.call, 0), (local, layer.call, 0)):
        shape = state.seen_shapes.get(key)
        if isinstance(shape, list) and 2 <= len(shape) <= 5:
            sizes = []
            for value in shape[1:]:
                if value is None:
                    return None
                if isinstance(value, bool) or not isinstance(value, int) \
                        or not 1 <= value <= 10 ** 9:
                    return None
                sizes.append(Integer(value))
            return tuple(sizes)
    return None


def broadcast(state, layer, shapes: list[tuple[Expr, ...]]) -> tuple[Expr, ...]:
    """NumPy's broadcasting of channels-last shapes (the elementwise merges)."""
    rank = max(len(s) for s in shapes)
    out = []
    for axis in range(rank):
        sizes = [s[axis - rank + len(s)] for s in shapes if axis - rank + len(s) >= 0]
        wider = [v for v in sizes if v != 1]
        if any((v - wider[0]).is_number and v != wider[0] for v in wider):
            raise state.error(layer, f"cannot broadcast the shapes {_echo(shapes)} together",
                              "inputs")
        out.append(wider[0] if wider else Integer(1))
    return tuple(out)


def opaque_shape_only(state: KerasImport, layer: KerasLayer, inputs: list[str], op: str,
                      shape: tuple[Expr, ...] | None = None) -> str:
    """A layer with nothing to learn and no family: counted 0, its shape handed on (or
    ``shape``, or what Keras recorded where the next layer takes it)."""
    shape = shape or seen_output(state, layer) or state.shapes[inputs[0]]
    return state.emit(layer, "opaque", inputs, op=op, out_shape=shape,
                      **({} if shape == state.shapes[inputs[0]]
                         else {"output": [written(v) for v in shape]}))


@_rule(SHAPE_ONLY, "Rescaling", "Masking", "GaussianNoise", "GaussianDropout",
       "ActivityRegularization", "UnitNormalization", "Identity", "RandomFlip",
       "RandomRotation", "RandomZoom", "RandomContrast", "RandomTranslation",
       "RandomBrightness")
def shape_only(state, layer, inputs):
    return opaque_shape_only(state, layer, inputs, f"keras {layer.class_name}")


@_rule(SHAPE_ONLY, "Lambda", "TFOpLambda", "SlicingOpLambda")
def python_function(state, layer, inputs):
    """Python code learns nothing Keras can save, but its output shape is only known where
    Keras 3 recorded it (the next layer's input) or checked by the stored weights."""
    shape = seen_output(state, layer)
    if shape is None and state.loaded.weights is None:
        raise state.error(layer, "a Python function whose output shape is not in the config: "
                                 "save the model as .keras (Keras 3) to import it")
    return opaque_shape_only(state, layer, inputs, f"keras {layer.class_name}", shape)


@_rule(SHAPE_ONLY, "Subtract", "Average", "Maximum", "Minimum")
def elementwise(state, layer, inputs):
    shape = broadcast(state, layer, [state.shapes[i] for i in inputs])
    return opaque_shape_only(state, layer, inputs, f"keras {layer.class_name}", shape)


@_rule(SHAPE_ONLY, "Cropping1D", "Cropping2D", "Cropping3D")
def cropping(state, layer, inputs):
    shape = list(state.shapes[inputs[0]])
    raw = layer.config.get("cropping")
    dims = int(layer.class_name[-2])
    items = raw if isinstance(raw, list) else [raw] * dims
    if len(items) != dims or len(shape) != dims + 1:
        raise state.error(layer, f"expected {dims} croppings for a {dims}-D input, found "
                                 f"{_echo(raw)}", "cropping")
    for axis, item in enumerate(items):
        pair = item if isinstance(item, list) else [item, item]
        if len(pair) != 2 or not all(isinstance(v, int) and not isinstance(v, bool)
                                     and 0 <= v <= 10 ** 9 for v in pair):
            raise state.error(layer, f"expected whole numbers, found {_echo(raw)}", "cropping")
        shape[axis] = shape[axis] - pair[0] - pair[1]
    return opaque_shape_only(state, layer, inputs, f"keras {layer.class_name}", tuple(shape))


@_rule(SHAPE_ONLY, "Resizing", "CenterCrop")
def resizing(state, layer, inputs):
    shape = state.shapes[inputs[0]]
    size = (size_value(_size(state, layer, "height")), size_value(_size(state, layer, "width")))
    return opaque_shape_only(state, layer, inputs, f"keras {layer.class_name}",
                             (*size, shape[-1]))


@_rule(SHAPE_ONLY, "RepeatVector")
def repeat_vector(state, layer, inputs):
    times = Integer(_size(state, layer, "n"))
    return opaque_shape_only(state, layer, inputs, "keras RepeatVector",
                             (times, *state.shapes[inputs[0]]))


# ------------------------------------------------------------------ Normalization

@_rule(MORE_RULES, "Normalization")
def normalization(state, layer, inputs):
    """Keras keeps the mean and variance of the axes it keeps, and a count (one value),
    all non-trainable, unless the config gives the mean and variance as constants."""
    if layer.config.get("mean") is not None:
        return opaque_shape_only(state, layer, inputs, "keras Normalization")
    shape = state.shapes[inputs[0]]
    raw = layer.config.get("axis", -1)
    axes = raw if isinstance(raw, list) else [raw]
    positions = set()
    for value in axes if raw is not None else ():
        one = KerasLayer(layer.index, layer.name, layer.class_name, {"axis": value},
                         layer.frozen)
        positions.add(axis_of(state, one, "axis", len(shape)))
    kept = [shape[p] for p in sorted(positions)]
    sizes = [written(v) for v in kept] or [1]
    tensors = []
    for part in ("mean", "variance"):
        tensors.append(state.emit(layer, "tensor", [], name=f"{layer.name}.{part}",
                                  shape=list(sizes), trainable=False,
                                  out_shape=tuple(size_value(v) for v in sizes)))
    tensors.append(state.emit(layer, "tensor", [], name=f"{layer.name}.count", shape=[1],
                              trainable=False, out_shape=(Integer(1),)))
    return state.emit(layer, "opaque", [inputs[0], *tensors], name=layer.name,
                      op="keras Normalization", out_shape=shape)


# ------------------------------------------------------------------ sequences

@_rule(MORE_RULES, "Embedding")
def embedding(state, layer, inputs):
    return state.emit(layer, "embedding", inputs[:1], vocab_size=_size(state, layer, "input_dim"),
                      embed_dim=_size(state, layer, "output_dim"))


_RECURRENT = {"SimpleRNN": "rnn", "LSTM": "lstm", "GRU": "gru", "CuDNNLSTM": "lstm",
              "CuDNNGRU": "gru"}


def _recurrent_fields(state, layer) -> dict[str, Any]:
    fields: dict[str, Any] = {"hidden_size": _size(state, layer, "units")}
    fields["return_sequences"] = _flag(state, layer, "return_sequences", False)
    if not _flag(state, layer, "use_bias", True):
        fields["bias"] = False
    if layer.class_name in ("GRU", "CuDNNGRU"):
        # tf.keras 1 wrote no reset_after (it was false); Keras 2 and 3 default to true.
        fields["reset_after"] = _flag(state, layer, "reset_after",
                                      layer.class_name == "CuDNNGRU" or "reset_after"
                                      in layer.config)
    return fields


@_rule(MORE_RULES, *_RECURRENT)
def recurrent(state, layer, inputs):
    fields = _recurrent_fields(state, layer)
    return state.emit(layer, _RECURRENT[layer.class_name], inputs[:1], **fields)


def _wrapped_class(inner: Any) -> str:
    return _echo(inner.get("class_name") if isinstance(inner, dict) else inner)


@_rule(MORE_RULES, "Bidirectional")
def bidirectional(state, layer, inputs):
    inner = layer.config.get("layer")
    if not isinstance(inner, dict) or inner.get("class_name") not in _RECURRENT \
            or not isinstance(inner.get("config"), dict):
        raise Unsupported(f"a wrapped {_wrapped_class(inner)} layer")
    wrapped = KerasLayer(layer.index, layer.name, inner["class_name"], inner["config"],
                         layer.frozen)
    fields = _recurrent_fields(state, wrapped)
    backward = layer.config.get("backward_layer")
    if isinstance(backward, dict) and isinstance(backward.get("config"), dict):
        other = KerasLayer(layer.index, layer.name, str(backward.get("class_name")),
                           backward["config"], layer.frozen)
        if other.class_name != inner["class_name"] or _recurrent_fields(state, other) != fields:
            raise Unsupported("a backward layer unlike the forward one")
    merge = layer.config.get("merge_mode", "concat")
    if merge not in ("concat", "sum", "mul", "ave"):
        raise Unsupported(f"merge_mode {_echo(merge)}")
    kind = _RECURRENT[inner["class_name"]]
    if merge == "concat":
        return state.emit(layer, kind, inputs[:1], bidirectional=True, **fields)
    both = state.emit(layer, kind, inputs[:1], name=f"{layer.name}.both", bidirectional=True,
                      **fields)
    shape = state.shapes[both]
    return state.emit(layer, "opaque", [both], name=layer.name,
                      op=f"keras Bidirectional merge_mode={merge}",
                      out_shape=(*shape[:-1], Integer(fields["hidden_size"])),
                      output=[*(written(v) for v in shape[:-1]), fields["hidden_size"]])


@_rule(MORE_RULES, "TimeDistributed")
def time_distributed(state, layer, inputs):
    """A Dense applied at every step is a Dense on the sequence (per position)."""
    from .keras_layers import RULES
    inner = layer.config.get("layer")
    if not isinstance(inner, dict) or inner.get("class_name") not in ("Dense", "Dropout") \
            or not isinstance(inner.get("config"), dict):
        raise Unsupported(f"a wrapped {_wrapped_class(inner)} layer")
    wrapped = KerasLayer(layer.index, layer.name, inner["class_name"], inner["config"],
                         layer.frozen)
    if len(state.shapes[inputs[0]]) != 2:
        raise Unsupported("an input that is not a [T, E] sequence")
    return RULES[inner["class_name"]](state, wrapped, inputs)


@_rule(MORE_RULES, "MultiHeadAttention")
def multi_head_attention(state, layer, inputs):
    """Keras' own projections: queries and keys to heads × key_dim, values to heads ×
    value_dim, then back to E (or ``output_shape``); inputs are query, value[, key]."""
    if layer.config.get("use_gate"):
        raise Unsupported("use_gate: true")
    attention_axes = layer.config.get("attention_axes")
    query = inputs[0]
    value = inputs[1] if len(inputs) > 1 else query
    key = inputs[2] if len(inputs) > 2 else value
    width = state.shapes[query][-1]
    if len(state.shapes[query]) != 2 or attention_axes not in (None, [1], 1, [-2]):
        raise Unsupported("attention over other axes than the sequence's")
    fields: dict[str, Any] = {"heads": _size(state, layer, "num_heads"),
                              "key_dim": _size(state, layer, "key_dim")}
    if layer.config.get("value_dim") is not None:
        value_dim = _size(state, layer, "value_dim")
        if value_dim != fields["key_dim"]:
            fields["value_dim"] = value_dim
    out = layer.config.get("output_shape")
    if isinstance(out, list) and len(out) == 1:
        out = out[0]
    if out is not None:
        if isinstance(out, bool) or not isinstance(out, int) or not 1 <= out <= 10 ** 9:
            raise Unsupported(f"output_shape {_echo(out)}")
        if out != width:
            fields["output_dim"] = out
    for field, name in (("kdim", key), ("vdim", value)):
        other = state.shapes[name][-1]
        if other != width:
            fields[field] = written(other)
    if not _flag(state, layer, "use_bias", True):
        fields["bias"] = False
    takes = list(dict.fromkeys([query, value, key]))
    if len(takes) > 2:
        if state.shapes[key][-1] != state.shapes[value][-1]:
            raise Unsupported("keys and values of different widths from two inputs")
        takes = takes[:2]
    return state.emit(layer, "multihead_attention", takes, **fields)


__all__ = ["MORE_RULES", "SHAPE_ONLY", "broadcast", "opaque_shape_only", "seen_output"]
