"""Reading values from a Keras layer's config, each checked (an error names the field).

Keras writes sizes as whole numbers or lists of them, 2-D windows as ``(height,
width)`` and ``axis`` counting the batch axis as 0; these helpers turn them into
what a spec entry holds, or give the one-line error.
"""
from __future__ import annotations

from typing import Any

from ..layers.checks import ACTIVATIONS
from .keras_config import KerasImport, KerasLayer


class Unsupported(Exception):
    """A known class in a form no family counts (BatchNormalization with renorm …):
    handled like an unknown class."""


def size(state: KerasImport, layer: KerasLayer, key: str, default: Any = None,
         minimum: int = 1) -> int:
    value = layer.config.get(key, default)
    if isinstance(value, list) and len(value) == 1:
        value = value[0]
    if isinstance(value, bool) or not isinstance(value, int) or not minimum <= value <= 10 ** 9:
        raise state.error(layer, f"expected a whole number from {minimum} to 10^9, found "
                                 f"{_echo(value)}", key)
    return value


def sizes(state, layer, key: str, dims: int, default: Any = None, minimum: int = 1) -> list[int]:
    value = layer.config.get(key, default)
    if value is None:
        value = default
    items = list(value) if isinstance(value, (list, tuple)) else [value] * dims
    if len(items) != dims:
        raise state.error(layer, f"expected {dims} sizes, found {_echo(value)}", key)
    for item in items:
        if isinstance(item, bool) or not isinstance(item, int) or not minimum <= item <= 10 ** 9:
            raise state.error(layer, f"expected whole numbers from {minimum} to 10^9, found "
                                     f"{_echo(value)}", key)
    return items


def flag(state, layer, key: str, default: bool) -> bool:
    value = layer.config.get(key, default)
    if not isinstance(value, bool):
        raise state.error(layer, f"expected true or false, found {_echo(value)}", key)
    return value


def word(state, layer, key: str, choices: tuple[str, ...], default: str) -> str:
    value = layer.config.get(key, default)
    if not isinstance(value, str) or value.lower() not in choices:
        raise state.error(layer, f"expected one of {', '.join(choices)}, found {_echo(value)}",
                          key)
    return value.lower()


def axis_of(state, layer, key: str, rank: int, default: Any = -1) -> int:
    """Keras' ``axis`` (counting the batch axis as 0) as an axis of our shape, from 0."""
    value = layer.config.get(key, default)
    if isinstance(value, list) and len(value) == 1:
        value = value[0]
    if isinstance(value, bool) or not isinstance(value, int) or not -rank <= value <= rank \
            or value == 0:
        raise state.error(layer, f"expected one axis of the {rank}-axis input (not the batch "
                                 f"axis), found {_echo(value)}", key)
    return value - 1 if value > 0 else rank + value


def channels_last(state, layer) -> None:
    data_format = layer.config.get("data_format", "channels_last")
    if data_format not in (None, "channels_last"):
        raise Unsupported(f"data_format {_echo(data_format)}: symparams reads channels-last "
                          f"models")


def _echo(value: Any) -> str:
    from ..printable import echo
    return echo(value, 40)


def pair(values: list[int]) -> int | list[int]:
    """A Keras ``(height, width)`` as our ``[width, height]`` pair (one size when equal)."""
    return values[0] if values[0] == values[1] else [values[1], values[0]]


def per_axis(values: list[int]) -> int | list[int]:
    return values[0] if len(set(values)) == 1 else list(values)


def activation_name(raw: Any) -> str | None:
    """A Keras activation as one of our function names (None when we have no name)."""
    if isinstance(raw, dict):
        raw = raw.get("config") if isinstance(raw.get("config"), str) else raw.get("class_name")
    if not isinstance(raw, str):
        return None
    name = {"hard_silu": "hard_swish", "tanh_shrink": "tanhshrink"}.get(raw.lower(), raw.lower())
    return name if name in ACTIVATIONS else None


def rank_of(state, name: str) -> int:
    return len(state.shapes[name])


def padding_word(state, layer, causal: bool = False) -> str:
    choices = ("valid", "same", "causal") if causal else ("valid", "same")
    value = word(state, layer, "padding", choices, "valid")
    # Causal padding pads the start only; the output keeps ceil(L / S) steps, as same does.
    return "same" if value == "causal" else value


__all__ = ["Unsupported", "size", "sizes", "flag", "word", "axis_of", "channels_last", "pair",
           "per_axis", "activation_name", "rank_of", "padding_word"]
