"""Sweeps: exact parameter counts over a grid of sizes, as rows, a CSV and a plot.

A sweep varies one or more sizes of a network — a layer field
(``CONV1.filters``), a layer letter (``k_1``), a free name (``H``) or an input
axis (``INPUT.height``, ``INPUT.width``, ``INPUT.size`` for both,
``INPUT.channels``; ``INPUT.features`` for a flat input; ``H``, ``W``, ``C``
for a numeric input's axes, as ``solve`` reads them) — and evaluates the count
of every layer and the total at each point of the grid.

The counts are SymPy expressions in the varied sizes, turned once into one
Python function by ``lambdify`` with a printer that keeps Python integers:
``floor(p/q)`` becomes ``p // q``, ``ceiling`` its negated twin, and no
division ever produces a float.  So the counts are exact at any size, also
where the input size sits inside nested floors.  Every point is checked to be
a valid network (all sizes ≥ 1); the first invalid one is reported with the
network's own message.

>>> from symparams import load
>>> lenet = load("lenet")
>>> rows = lenet.sweep({"CONV1.filters": "4:16:4"})
>>> [row["total"] for row in rows]
[61054, 62958, 64862, 66766]
>>> rows.columns
['CONV1.filters', 'CONV1', 'CONV2', 'FC3', 'FC4', 'SOFTMAX', 'total']
>>> rows[1]["CONV2"]
3216
"""
from __future__ import annotations

import csv
import io
import itertools
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping

from sympy import Add, Dummy, Expr, Function, Integer, Pow, Rational, Symbol, ceiling, floor
from sympy import fraction, lambdify, together
from sympy.printing.lambdarepr import LambdaPrinter

from ..addresses import Size, resolve_size
from ..errors import SymparamsError
from ..numbers import thousands
from ..printing import natural_key

if TYPE_CHECKING:  # imports stay one way: network.py imports this module lazily
    from ..network import Network

__all__ = ["sweep", "Sweep", "parse_vary", "parse_values", "integer_form", "IntegerPrinter",
           "MAX_POINTS"]

MAX_POINTS = 1_000_000
_RANGE = re.compile(r"^\s*(\d[\d_]*)\s*(?::\s*(\d[\d_]*)\s*(?::\s*(\d[\d_]*)\s*)?)?$")


# ------------------------------------------------------------------ parsing

def parse_values(text: str, key: str = "") -> tuple[int, ...]:
    """``4:64:4`` → 4, 8, … 64 (the stop is included); ``4:8`` steps by 1; ``8`` is one
    value; ``4,8,16`` lists them.

    >>> parse_values("4:16:4")
    (4, 8, 12, 16)
    >>> parse_values("3,5, 7")
    (3, 5, 7)
    >>> parse_values("16:4")
    Traceback (most recent call last):
    ...
    symparams.errors.SymparamsError: --vary: expected START:STOP[:STEP] with START ≤ STOP, found '16:4'
    """
    field = f"--vary {key}".rstrip()
    where = {"field": field}
    if "," in text:
        values = []
        for part in text.split(","):
            if not re.fullmatch(r"\s*\d[\d_]*\s*", part):
                raise SymparamsError(f"expected whole numbers separated by commas, found "
                                     f"{text!r}", **where)
            values.append(int(part))
        return _check_values(tuple(values), field)
    match = _RANGE.match(text)
    if not match:
        raise SymparamsError(f"expected START:STOP[:STEP] (such as 4:64:4), a whole number "
                             f"or a list 4,8,16, found {text!r}", **where)
    start, stop, step = (int(g) if g is not None else None for g in match.groups())
    if stop is None:
        return _check_values((start,), field)
    step = 1 if step is None else step
    if step < 1:
        raise SymparamsError(f"expected a step of at least 1, found {step}", **where)
    if start > stop:
        raise SymparamsError(f"expected START:STOP[:STEP] with START ≤ STOP, found {text!r}",
                             **where)
    if (stop - start) // step + 1 > MAX_POINTS:
        raise SymparamsError(f"{text!r} has more than {thousands(MAX_POINTS)} values", **where)
    return _check_values(tuple(range(start, stop + 1, step)), field)


def _check_values(values: tuple[int, ...], field: str) -> tuple[int, ...]:
    for v in values:
        if isinstance(v, bool) or not isinstance(v, int):
            raise SymparamsError(f"expected whole numbers, found {v!r}", field=field)
        if v < 1:
            raise SymparamsError(f"expected sizes of at least 1, found {v}", field=field)
    if not values:
        raise SymparamsError("expected at least one value", field=field)
    return values


def parse_vary(item: str) -> tuple[str, tuple[int, ...]]:
    """``CONV1.filters=4:64:4`` → ``("CONV1.filters", (4, 8, … 64))``.

    >>> parse_vary("H=28:36:4")
    ('H', (28, 32, 36))
    >>> parse_vary("CONV1.filters")
    Traceback (most recent call last):
    ...
    symparams.errors.SymparamsError: --vary: expected SIZE=START:STOP[:STEP] such as CONV1.filters=4:64:4, found 'CONV1.filters'
    """
    key, sep, values = item.partition("=")
    key = key.strip()
    if not sep or not key or not values.strip():
        raise SymparamsError(f"expected SIZE=START:STOP[:STEP] such as CONV1.filters=4:64:4, "
                             f"found {item!r}", field="--vary")
    return key, parse_values(values, key)


def _values_of(key: str, raw: Any) -> tuple[int, ...]:
    if isinstance(raw, str):
        return parse_values(raw, key)
    if isinstance(raw, int) and not isinstance(raw, bool):
        return _check_values((raw,), f"--vary {key}")
    try:
        values = tuple(int(v) if isinstance(v, Integer) else v for v in raw)
    except TypeError:
        raise SymparamsError(f"expected a range, a list of whole numbers or text such as "
                             f"'4:64:4', found {raw!r}", field=f"--vary {key}") from None
    return _check_values(values, f"--vary {key}")


# ------------------------------------------------------------ exact printing

class FloorDiv(Function):
    """``floor(n / d)`` for integer-valued n and d, printed as ``n // d``."""
    nargs = 2


class CeilDiv(Function):
    """``ceiling(n / d)``, printed as ``-(-n // d)``."""
    nargs = 2


class ExactDiv(Function):
    """``n / d`` that must come out whole, printed as a checked division."""
    nargs = 2


class _NotExact(Exception):
    pass


def _exact_div(n: int, d: int) -> int:
    q, r = divmod(n, d)
    if r:
        raise _NotExact(f"{n}/{d}")
    return q


class IntegerPrinter(LambdaPrinter):
    """Python code in which every operation stays on Python integers."""

    def _print_FloorDiv(self, expr):
        n, d = (self._print(a) for a in expr.args)
        return f"(({n})//({d}))"

    def _print_CeilDiv(self, expr):
        n, d = (self._print(a) for a in expr.args)
        return f"(-((-({n}))//({d})))"

    def _print_ExactDiv(self, expr):
        n, d = (self._print(a) for a in expr.args)
        return f"_exact_div({n}, {d})"

    def _print_Rational(self, expr):  # never reached: _integer_form removes them
        raise TypeError(f"a fraction would be evaluated as a float: {expr}")

    def _print_Float(self, expr):
        raise TypeError(f"a float in a count: {expr}")


def _has_division(expr: Expr) -> bool:
    return any(not r.is_Integer for r in expr.atoms(Rational)) or \
        any(p.exp.is_negative for p in expr.atoms(Pow))


def _split(expr: Expr) -> tuple[Expr, Expr]:
    """numerator, denominator with integer coefficients (``H/2 - 3/2`` → ``H - 3``, ``2``)."""
    if not _has_division(expr):
        return expr, Integer(1)
    return fraction(together(expr))


def integer_form(expr: Expr) -> Expr:
    """The same value written with floor/ceiling/division nodes that print as integer code.

    >>> from sympy import Symbol, floor
    >>> H = Symbol("H", positive=True, integer=True)
    >>> integer_form(floor(floor(H/2)/2 - Rational(3, 2)))
    FloorDiv(FloorDiv(H, 2) - 3, 2)
    """
    if expr.is_Atom:
        return expr
    args = [integer_form(a) for a in expr.args]
    if isinstance(expr, (floor, ceiling)):
        n, d = _split(args[0])
        if d == 1:
            return n
        return (FloorDiv if isinstance(expr, floor) else CeilDiv)(n, d)
    rebuilt = expr.func(*args)
    return rebuilt


def _top_level(expr: Expr) -> Expr:
    expr = integer_form(expr)
    n, d = _split(expr)
    return n if d == 1 else ExactDiv(n, d)


# --------------------------------------------------------------------- sweep

def _resolve(net: "Network", key: str) -> Size:
    """The sizes a --vary key names, read as --set and solve read them."""
    try:
        return resolve_size(net, key, verb="vary")
    except SymparamsError as exc:
        raise SymparamsError(exc.message, field=f"--vary {key}") from None


class Sweep(list):
    """The rows of a sweep: one dict per grid point, with a column per varied size, one
    per layer with parameters and ``total``, all exact Python integers.

    The last varied size changes fastest.  ``to_csv`` writes the rows, ``plot`` draws
    them; in Jupyter a sweep shows as its plot.
    """

    def __init__(self, rows: list[dict[str, int]], *, network: str, varied: list[str],
                 layers: list[str], letters: Mapping[str, tuple[str, ...]] | None = None):
        super().__init__(rows)
        self.network = network
        self.varied = list(varied)
        self.layers = list(layers)
        #: the letters behind each varied size given as LAYER.FIELD (``k_1``)
        self.letters = dict(letters or {})

    @property
    def columns(self) -> list[str]:
        return [*self.varied, *self.layers, "total"]

    def column(self, name: str) -> list[int]:
        """One column as a list: ``rows.column("total")``."""
        if name not in self.columns:
            raise KeyError(f"no column {name!r} (columns: {', '.join(self.columns)})")
        return [row[name] for row in self]

    def csv_text(self) -> str:
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=self.columns, lineterminator="\n")
        writer.writeheader()
        writer.writerows(self)
        return out.getvalue()

    def to_csv(self, path: str | Path) -> Path:
        """Write the rows as CSV, atomically."""
        from ..render.common import atomic_write
        return atomic_write(path, self.csv_text())

    def figure(self, log: bool | None = None):
        """A matplotlib Figure of the counts (see :mod:`symparams.render.plot`)."""
        from ..render.plot import sweep_figure
        return sweep_figure(self, log=log)

    def plot(self, path: str | Path, log: bool | None = None) -> Path:
        """Draw the sweep into an SVG, PNG or PDF file (by its suffix), atomically;
        the same rows give the same bytes."""
        from ..render.plot import write_plot
        return write_plot(self, path, log=log)

    def _repr_svg_(self) -> str | None:
        try:
            from ..render.plot import plot_bytes
        except ImportError:  # pragma: no cover - matplotlib missing: fall back to text
            return None
        return plot_bytes(self, "svg").decode("utf-8")

    def __repr__(self) -> str:
        ranges = ", ".join(f"{k} {self[0][k]}…{self[-1][k]}" for k in self.varied)
        return (f"<Sweep {self.network}: {ranges} ({len(self)} points); "
                f"columns {', '.join(self.columns)}>")

    __str__ = __repr__


def sweep(net: "Network", vary: Mapping[str, Any] | None = None, **more: Any) -> Sweep:
    """Evaluate every layer's count and the total over a grid of sizes.

    ``vary`` maps a size (``"CONV1.filters"``, ``"k_1"``, ``"H"``, ``"INPUT.height"``)
    to its values: a range, a list of whole numbers or text such as ``"4:64:4"``
    (stop included).  Letters and free names may also be keywords:
    ``net.sweep(k_1=range(4, 65, 4))``.
    """
    vary = {**(vary or {}), **more}
    if not vary:
        raise SymparamsError("nothing to vary: give at least one size such as "
                             "CONV1.filters=4:64:4", field="--vary")
    targets = [_resolve(net, key) for key in vary]
    values = [_values_of(t.key, vary[t.key]) for t in targets]
    _check_distinct(targets)
    points = 1
    for v in values:
        points *= len(v)
    if points > MAX_POINTS:
        raise SymparamsError(f"the grid has {thousands(points)} points, more than {thousands(MAX_POINTS)}",
                             field="--vary")

    symbolic, variables = _symbolic_network(net, targets)
    counted = [info for info in symbolic.layers if info.layer.has_params]
    columns = [info.name for info in counted]
    clash = set(columns + ["total"]) & set(vary)
    if clash:
        raise SymparamsError(f"{', '.join(sorted(clash))} is both a varied size and a column "
                             f"of the sweep", field="--vary")
    tie = _ties(targets, variables)
    exprs = [info.params.xreplace(tie) for info in counted]
    _check_free(exprs, variables, net)

    constant = {i: int(e) for i, e in enumerate(exprs) if e.is_Integer}
    varying = [i for i in range(len(exprs)) if i not in constant]
    guards = _guards(symbolic, tie, variables)
    function = _compile([exprs[i] for i in varying], guards, variables)
    constant_total = sum(constant.values())
    n_varying = len(varying)

    rows: list[dict[str, int]] = []
    keys = [t.key for t in targets]
    # Each row lists its columns in order: varied sizes, layers, total.
    slots = [None] * len(columns)
    for i, value in constant.items():
        slots[i] = value
    where = {i: j for j, i in enumerate(varying)}
    for point in itertools.product(*values):
        try:
            out = function(*point)
        except _NotExact:
            out = None
        if out is None or (guards and min(out[n_varying:]) < 1):
            row = _slow_row(net, targets, point, columns)
        else:
            for i, j in where.items():
                slots[i] = out[j]
            row = dict(zip(keys, point))
            row.update(zip(columns, slots))
            row["total"] = constant_total + sum(out[:n_varying])
        rows.append(row)
    letters = {t.key: t.letters for t in targets if t.letters and t.letters != (t.key,)}
    result = Sweep(rows, network=net.name, varied=keys, layers=columns, letters=letters)
    _self_check(result, exprs, variables, columns)
    return result


def _check_distinct(targets: list[Size]) -> None:
    seen: dict[tuple, str] = {}
    for t in targets:
        for part in t.parts():
            if part in seen:
                raise SymparamsError(f"{t.key} and {seen[part]} vary the same size",
                                     field="--vary")
            seen[part] = t.key


def _symbolic_network(net: "Network", targets: list[Size]):
    """The network with every varied size a symbol; one symbol per target."""
    letters = [l for t in targets for l in t.letters]
    symbolic = net.free(*letters) if letters else net
    variables: list[Symbol] = []
    shape = list(symbolic.input_shape)
    for number, t in enumerate(targets):
        if t.letters:
            variables.append(symbolic.letters[t.letters[0]])
        elif t.free:
            variables.append(symbolic.free_symbols[t.free[0]])
        else:
            variables.append(Dummy(f"input{number}", positive=True, integer=True))
        for a in t.axes:
            shape[a] = variables[-1]
    if any(t.axes for t in targets):
        symbolic = symbolic._rebuild(list(symbolic._layers), tuple(shape))
    return symbolic, variables


def _ties(targets: list[Size], variables: list[Symbol]) -> dict[Symbol, Symbol]:
    """Sizes varied together (m_1 and n_1 of CONV1.kernel; H and W of INPUT.size on
    ``[H, W, 3]``) become one symbol."""
    from ..spec import size_symbol
    tie = {}
    for t, var in zip(targets, variables):
        for name in (*t.letters, *t.free):
            if size_symbol(name) != var:
                tie[size_symbol(name)] = var
    return tie


def _check_free(exprs: list[Expr], variables: list[Symbol], net: "Network") -> None:
    left = set().union(*(e.free_symbols for e in exprs)) - set(variables)
    if left:
        names = ", ".join(sorted((s.name for s in left), key=natural_key))
        raise SymparamsError(f"the counts still depend on {names}: set them with --set "
                             f"NAME=VALUE or vary them too", file=net.source, field="--vary")


def _guards(symbolic: "Network", tie, variables) -> list[Expr]:
    """Every size that depends on a varied one and must stay ≥ 1 for a valid network."""
    found: dict[Expr, None] = {}
    plain = set(variables)
    for info in symbolic.layers[1:]:
        for v in (*info.output_shape, *info.values.values(), *info.layer.sizes()):
            v = v.xreplace(tie)
            if not v.is_number and v not in plain:
                found[v] = None
    return list(found)


def _compile(exprs: list[Expr], guards: list[Expr], variables: list[Symbol]):
    """One Python function of the varied sizes returning (counts…, guards…) as ints."""
    body = [_top_level(e) for e in exprs] + [_top_level(g) for g in guards]
    if not body:
        return lambda *point: ()
    for e in body:
        odd = [a for a in e.atoms(Function)
               if not isinstance(a, (FloorDiv, CeilDiv, ExactDiv)) and a.func.__name__
               not in ("Max", "Min")]
        if odd or e.atoms(Rational) - set(e.atoms(Integer)) or _has_division(e):
            raise SymparamsError(f"cannot evaluate {e} exactly over the integers")
    return lambdify(variables, body, modules=[{"_exact_div": _exact_div}, "math"],
                    printer=IntegerPrinter, cse=True, docstring_limit=0)


def _network_at(net: "Network", targets: list[Size], point: tuple[int, ...]) -> "Network":
    """The network itself at one grid point, built and checked as ``count`` would."""
    return net.subs({t.key: v for t, v in zip(targets, point)})


def _slow_row(net, targets, point, columns) -> dict[str, int]:
    """A point the fast path could not vouch for: build the network, or say why not."""
    where = ", ".join(f"{t.key}={v}" for t, v in zip(targets, point))
    try:
        at = _network_at(net, targets, point)
    except SymparamsError as exc:
        raise SymparamsError(f"{exc.message} (at {where})", file=exc.file, layer=exc.layer,
                             field=exc.field) from None
    if not at.is_exact:
        raise SymparamsError(f"the total is not a whole number at {where}: {at.total}")
    row = {t.key: v for t, v in zip(targets, point)}
    row.update({info.name: int(info.params) for info in at.layers if info.name in columns})
    row["total"] = int(at.total)
    return row


def _self_check(rows: Sweep, exprs, variables, columns) -> None:
    """The first and last rows again through SymPy: the compiled code must agree."""
    for row in {0: rows[0], len(rows) - 1: rows[-1]}.values():
        mapping = {var: Integer(row[key]) for var, key in zip(variables, rows.varied)}
        for name, expr in zip(columns, exprs):
            if expr.xreplace(mapping) != row[name]:  # pragma: no cover - a bug, not bad input
                raise AssertionError(f"sweep disagrees with SymPy for {name} at {mapping}: "
                                     f"{row[name]} != {expr.xreplace(mapping)}")

