"""The varying sizes of a homework template: where each sits and its values.

``{choice: [3, 5, 7]}`` and ``{range: [4, 32], step: 4}`` are read here into
:class:`Slot` values, checked, with one-line errors naming the field.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..errors import SymparamsError

_MAX_DOMAIN = 10_000

@dataclass(frozen=True)
class Slot:
    """One varying size: where it sits in the template and the values it may take."""
    layer: int | None          # 1-based layer index; None for the input
    field: str                 # "kernel", "filters", "input[0]" …
    position: int | None       # index inside a [width, height] pair, else None
    values: tuple[int, ...]
    spatial: bool

    @property
    def where(self) -> str:
        pos = "" if self.position is None else f"[{self.position}]"
        return f"{self.field}{pos}"


def _domain(raw: dict, field: str) -> tuple[int, ...]:
    """Values of one variation, checked: a one-line error names what is wrong."""
    keys = set(raw)
    if keys == {"choice"}:
        values = raw["choice"]
        if not isinstance(values, list) or not values:
            raise SymparamsError(f"choice needs a non-empty list of whole numbers, found "
                                 f"{values!r}", field=field)
        for v in values:
            if isinstance(v, bool) or not isinstance(v, int):
                raise SymparamsError(f"choice entries must be whole numbers, found {v!r}",
                                     field=field)
        return tuple(dict.fromkeys(values))
    if keys in ({"range"}, {"range", "step"}):
        bounds, step = raw["range"], raw.get("step", 1)
        if not (isinstance(bounds, list) and len(bounds) == 2
                and all(isinstance(b, int) and not isinstance(b, bool) for b in bounds)):
            raise SymparamsError(f"range needs [low, high] as whole numbers, found {bounds!r}",
                                 field=field)
        if isinstance(step, bool) or not isinstance(step, int) or step <= 0:
            raise SymparamsError(f"step must be a whole number above 0, found {step!r}",
                                 field=field)
        low, high = bounds
        if low > high:
            raise SymparamsError(f"range low {low} is above high {high}", field=field)
        if (high - low) // step + 1 > _MAX_DOMAIN:
            raise SymparamsError(f"range gives more than {_MAX_DOMAIN} values", field=field)
        return tuple(range(low, high + 1, step))
    raise SymparamsError(f"expected a number, an expression, {{choice: [...]}} or "
                         f"{{range: [low, high], step: s}}, found {raw!r}", field=field)


def _is_variation(raw: Any) -> bool:
    return isinstance(raw, dict)
