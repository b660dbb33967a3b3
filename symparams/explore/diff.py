"""Comparing two networks layer by layer.

Layers are matched by name first; layers left over are matched by position
when they sit at the same index and are of the same kind, and are otherwise
shown as removed (only in A) or added (only in B).  Every row gives both
output shapes and parameter counts and the change; counts stay symbolic where
a network is symbolic, and the change is then an expression too.

>>> from symparams import load
>>> lenet = load("lenet")
>>> d = lenet.diff(lenet.subs({"CONV2.filters": 32}))
>>> [(r.name, r.params_a, r.params_b) for r in d.changed]
[('CONV2', 3216, 6432), ('POOL2', 0, 0), ('FC3', 48120, 96120)]
>>> d.total_a, d.total_b, d.total_change
(62958, 114174, 51216)
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sympy import Expr, Integer

from ..numbers import as_count
from ..printing import ascii_plain, unicode_plain, unicode_shape
from ..numbers import thousands

if TYPE_CHECKING:  # imports stay one way: network.py imports this module lazily
    from ..layerinfo import LayerInfo
    from ..network import Network


def _change(a: Expr | None, b: Expr | None) -> Expr:
    """b - a; symbolic differences are left as SymPy combines them (not expanded); a
    number is a Count, so it takes format specs like the totals (``f"{d.total_change:+,}"``)."""
    return as_count((b if b is not None else Integer(0)) - (a if a is not None else Integer(0)))


@dataclass(frozen=True)
class DiffRow:
    """One layer of the comparison; ``a`` or ``b`` is None for a layer only in one."""
    a: "LayerInfo | None"
    b: "LayerInfo | None"

    @property
    def status(self) -> str:
        """``same``, ``changed`` (count or shape), ``added`` or ``removed``."""
        if self.a is None:
            return "added"
        if self.b is None:
            return "removed"
        if (self.params_a != self.params_b or self.a.output_shape != self.b.output_shape
                or self.a.kind != self.b.kind or self.a.name != self.b.name):
            return "changed"
        return "same"

    @property
    def name(self) -> str:
        if self.a is not None and self.b is not None and self.a.name != self.b.name:
            return f"{self.a.name} → {self.b.name}"
        return (self.b or self.a).name

    @property
    def kind(self) -> str:
        if self.a is not None and self.b is not None and self.a.kind != self.b.kind:
            return f"{self.a.kind} → {self.b.kind}"
        return (self.b or self.a).kind

    @property
    def params_a(self) -> Expr | None:
        return None if self.a is None else self.a.params

    @property
    def params_b(self) -> Expr | None:
        return None if self.b is None else self.b.params

    @property
    def change(self) -> Expr:
        return _change(self.params_a, self.params_b)

    def to_dict(self) -> dict[str, Any]:
        def side(info):
            if info is None:
                return None
            return {"index": info.index, "name": info.name, "kind": info.kind,
                    "output_shape": [_number(v) for v in info.output_shape],
                    "params": _number(info.params)}
        return {"name": self.name, "status": self.status, "a": side(self.a), "b": side(self.b),
                "change": _number(self.change)}


def _number(value: Expr):
    return int(value) if value.is_Integer else ascii_plain(value)


def _count(value: Expr | None) -> str:
    if value is None:
        return "—"
    return thousands(value) if value.is_Integer else unicode_plain(value)


def _signed(value: Expr) -> str:
    """``+3,216``, ``-850``, ``0``; a symbolic change as its expression."""
    if value.is_Integer:
        return "0" if value == 0 else ("+" if value > 0 else "") + thousands(value)
    return unicode_plain(value)


def _percent(a: Expr, b: Expr) -> str:
    """The change relative to A, ``+81.3 %`` (exact, rounded by render.common.percent)."""
    if not (a.is_Integer and b.is_Integer) or a == 0:
        return ""
    from ..render.common import percent
    return ("+" if b >= a else "-") + percent(abs(b - a) / a)


class NetworkDiff:
    """The comparison of network A with network B (``a.diff(b)``)."""

    def __init__(self, a: "Network", b: "Network"):
        self.a, self.b = a, b
        self.rows: list[DiffRow] = _match(a, b)

    @property
    def changed(self) -> list[DiffRow]:
        """The rows whose count, output shape, kind or name differ, or that are only in one."""
        return [r for r in self.rows if r.status != "same"]

    @property
    def total_a(self) -> Expr:
        return self.a.total

    @property
    def total_b(self) -> Expr:
        return self.b.total

    @property
    def total_change(self) -> Expr:
        return _change(self.total_a, self.total_b)

    def summary(self) -> str:
        """``Total: 62,958 → 114,174 (+51,216, +81.3 %)``."""
        change = _signed(self.total_change)
        share = _percent(self.total_a, self.total_b)
        extra = f", {share}" if share else ""
        return (f"Total: {_count(self.total_a)} → {_count(self.total_b)} "
                f"({change}{extra})")

    # ------------------------------------------------------------- outputs

    def table_rows(self) -> list[tuple[str, ...]]:
        """Cells of the table: layer, kind, shape A, shape B, params A, params B, change."""
        rows = []
        for r in self.rows:
            rows.append((r.name, r.kind,
                         unicode_shape(r.a.output_shape) if r.a else "—",
                         unicode_shape(r.b.output_shape) if r.b else "—",
                         _count(r.params_a), _count(r.params_b),
                         "" if r.status == "same" else
                         (_signed(r.change) if r.change != 0 else "0")
                         + {"added": " (added)", "removed": " (removed)"}.get(r.status, "")))
        return rows

    HEADERS = ("layer", "kind", "shape A", "shape B", "params A", "params B", "change")

    def __str__(self) -> str:
        rows = [self.HEADERS, *self.table_rows(),
                ("total", "", "", "", _count(self.total_a), _count(self.total_b),
                 _signed(self.total_change))]
        widths = [max(len(row[i]) for row in rows) for i in range(len(self.HEADERS))]
        right = {4, 5, 6}
        lines = [f"{self.a.name} (A) → {self.b.name} (B)"]
        for row in rows:
            cells = [c.rjust(w) if i in right else c.ljust(w)
                     for i, (c, w) in enumerate(zip(row, widths))]
            marker = "*" if row is not rows[0] and row[6] and row[0] != "total" else " "
            lines.append(f"{marker} " + "  ".join(cells).rstrip())
        lines.append(self.summary())
        return "\n".join(lines)

    def __rich__(self):
        """A rich table: changed rows in bold, additions green, removals red."""
        from rich.table import Table
        from rich.text import Text
        from ..printable import printable
        table = Table(title=Text(printable(f"{self.a.name} (A) → {self.b.name} (B)")),
                      title_justify="left")
        for i, header in enumerate(self.HEADERS):
            # In a narrow terminal names and shapes wrap (shapes at their "×"); the
            # counts are never cut short.
            table.add_column(header, justify="right" if i >= 4 else "left",
                             no_wrap=i >= 4, overflow="fold")
        styles = {"same": "", "changed": "bold", "added": "green", "removed": "red"}
        for r, cells in zip(self.rows, self.table_rows()):
            *cells, change = cells   # "(added)" on a line under the change: a narrow column
            table.add_row(*(Text(printable(c)) for c in cells),
                          Text(change.replace(" (", "\n(")), style=styles[r.status])
        table.add_section()
        table.add_row("total", "", "", "", Text(_count(self.total_a)),
                      Text(_count(self.total_b)), Text(_signed(self.total_change)),
                      style="bold")
        return table

    def to_dict(self) -> dict[str, Any]:
        """The data of ``symparams diff --json``."""
        return {"a": self.a.name, "b": self.b.name,
                "layers": [r.to_dict() for r in self.rows],
                "total_a": _number(self.total_a), "total_b": _number(self.total_b),
                "total_change": _number(self.total_change)}

    def __repr__(self) -> str:
        return (f"<NetworkDiff {self.a.name} → {self.b.name}: {len(self.changed)} of "
                f"{len(self.rows)} rows changed, total {ascii_plain(self.total_a)} → "
                f"{ascii_plain(self.total_b)}>")


def _match(a: "Network", b: "Network") -> list[DiffRow]:
    """Pairs of layers: by name, then the rest by position (same index, same kind)."""
    names_a = {info.name: info for info in a.layers}
    pairs: dict[int, "LayerInfo"] = {}          # index in B → layer of A
    for info in b.layers:
        if info.name in names_a:
            pairs[info.index] = names_a[info.name]
    used_a = {info.index for info in pairs.values()}
    for info in b.layers:
        if info.index in pairs or info.index >= len(a.layers):
            continue
        other = a.layers[info.index]
        if other.index not in used_a and other.name not in {i.name for i in b.layers} \
                and other.kind == info.kind:
            pairs[info.index] = other
            used_a.add(other.index)
    rows: list[DiffRow] = []
    emitted: set[int] = set()
    for info in b.layers:
        partner = pairs.get(info.index)
        # Layers only in A go first when they come before this row's place in A:
        # before the partner, or for a layer only in B, at or before its index.
        until = partner.index if partner is not None else info.index + 1
        for left in a.layers[:until]:
            if left.index not in used_a and left.index not in emitted:
                rows.append(DiffRow(left, None))
                emitted.add(left.index)
        rows.append(DiffRow(partner, info))
    for left in a.layers:
        if left.index not in used_a and left.index not in emitted:
            rows.append(DiffRow(left, None))
    return rows


def diff(a: "Network", b: "Network") -> NetworkDiff:
    """Compare network ``a`` with network ``b`` (see the module's docstring)."""
    from ..errors import SymparamsError
    from ..network import Network
    if not isinstance(b, Network):
        raise SymparamsError(f"expected a Network to compare with, found {type(b).__name__}")
    return NetworkDiff(a, b)
