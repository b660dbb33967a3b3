"""Solving backwards: which value of one size gives a count, or fits a budget.

The unknown is one size of the network, named as

* a layer field with a letter: ``CONV1.filters`` (k₁), ``FC3.units`` (c₁),
  ``CONV1.kernel`` (a square kernel: m₁ = n₁ together);
* a letter: ``k_1``, ``m_1`` (only letters a layer is given; d and p follow
  from the layer before);
* an input size: ``INPUT.height``, ``INPUT.width``, ``INPUT.size`` (both),
  ``INPUT.channels`` (``INPUT.features`` for a flat input), ``input[0]`` …,
  or ``H``/``W``/``C`` for a numeric input — the number is replaced by that
  symbol;
* a free name of the spec such as ``H`` in ``input: [H, H, 3]``.

The network is copied with that size as a symbol x, so its total (or one
layer's count) is a SymPy expression in x, and every answer is a positive
whole number:

* A polynomial count (filters, units) is solved by SymPy; every root is put
  back in to check it.
* A count with floors or ceilings (input sizes, kernels before pooling) is
  searched over the integers with exact SymPy arithmetic (``xreplace``, then
  compare): where the count is monotone in x — checked term by term, not
  assumed — by exponential then binary search for the first value that
  reaches the target and for the end of its plateau (floors make several
  values give the same count); where it is not (a kernel makes its own layer
  bigger and the next ones smaller), by trying every value for which the
  network is valid.

A value for which the network cannot be built (a kernel larger than its
input) is no answer: every answer is checked by building the network with it.

>>> from symparams import load
>>> lenet = load("lenet")
>>> lenet.solve("CONV1.filters", total=62958)
[8]
>>> lenet.solve("INPUT.height", total=62958)   # 32 … 35 round to the same shapes
[32, 33, 34, 35]
>>> lenet.max_value("CONV2.filters", budget=62957)
15
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable

from sympy import (Add, Dummy, Eq, Expr, Integer, Max, Min, Mul, Pow, Symbol, ceiling, floor,
                   solve as sympy_solve)

from ..addresses import AXIS_LETTER, INPUT_AXES, fresh_name, resolve_size
from ..errors import SymparamsError
from ..numbers import count_terms, thousands
from ..printing import natural_key, unicode_name, unicode_plain
from ..spec import size_symbol, size_value

if TYPE_CHECKING:  # imports stay one way: network.py imports this module lazily
    from ..network import Network

SCAN_LIMIT = 100_000     # a non-monotone count is tried value by value up to this many values
PLATEAU_LIMIT = 10_000   # more values than this giving the same count are not listed one by one
BUILD_LIMIT = 1_000      # answers up to this many are each checked by building the network



class NoUniqueAnswer(SymparamsError):
    """The question has no finite list of answers (every large value works)."""


# ------------------------------------------------------------------ the unknown

@dataclass(frozen=True)
class Unknown:
    """One size of a network made a symbol.

    ``network`` is the copy in which the size is ``symbol``; ``at(n)`` builds the
    original network with the size set to ``n`` (and raises SymparamsError when
    that network is invalid).
    """
    target: str                 # as the caller wrote it
    address: str                # CONV1.filters, INPUT.height, k_1, H
    symbol: Symbol
    network: "Network"
    original: Expr | None       # the number it had, None when it was a symbol already
    at: Callable[[int], "Network"] = field(repr=False, compare=False)
    together: tuple[str, ...] = ()   # other sizes set to the same value (n_1 with m_1)

    @property
    def name(self) -> str:
        """The symbol as printed: ``k₁``, ``H``."""
        return unicode_name(self.symbol.name)

    @property
    def lhs(self) -> str:
        """The left side of an answer: ``k₁``, or ``m₁ = n₁`` for a square kernel."""
        return " = ".join([self.name, *map(unicode_name, self.together)])

    def describe(self) -> str:
        """``k₁ (CONV1.filters, now 8)``."""
        parts = [] if self.address == self.symbol.name else [self.address]
        if self.together:
            parts.append(" = ".join([self.name, *map(unicode_name, self.together)]))
        if self.original is not None:
            parts.append(f"now {unicode_plain(self.original)}")
        return f"{self.name} ({', '.join(parts)})" if parts else self.name


def resolve(net: "Network", target: str) -> Unknown:
    """The unknown named by ``target``, an address read by
    :func:`symparams.addresses.resolve_size` as ``--set`` and ``sweep`` read it.

    >>> from symparams import load
    >>> unknown = resolve(load("lenet"), "INPUT.height")
    >>> unknown.describe(), unknown.network.input_shape
    ('H (INPUT.height, now 32)', (H, 32, 3))
    >>> resolve(load("lenet"), "d_2")
    Traceback (most recent call last):
    ...
    symparams.errors.SymparamsError: d_2: d_2 follows from the layer before (the channels coming into CONV2) and cannot be solved for; solve for the size it comes from, such as CONV1.filters
    """
    if not isinstance(target, str) or not target.strip():
        raise SymparamsError(f"expected a size to solve for, such as CONV1.filters, k_1 or "
                             f"INPUT.height, found {target!r}")
    target = target.strip()
    size = resolve_size(net, target, verb="solve for")
    if size.axis is not None:
        return _input_unknown(net, target, size.axis)
    if size.free:
        name = size.free[0]
        symbol = net.free_symbols[name]
        return Unknown(target, target, symbol, net, None, lambda n: net.subs({name: n}))
    if "." in target:
        info = net.layers[net._locate_letter(size.letters[0])[0]]
        values = {info.values[net.letters[l]] for l in size.letters}
        if len(values) > 1:
            shown = " × ".join(unicode_plain(info.values[net.letters[l]]) for l in size.letters)
            raise SymparamsError(f"{target} is {shown}, not one size; solve for "
                                 f"{' or '.join(size.letters)}", field=target)
    return _letters_unknown(net, target, target, size.letters)


def _letters_unknown(net: "Network", target: str, address: str,
                     letters: tuple[str, ...]) -> Unknown:
    """Layer letters set to one value: the first letter's symbol stands for all."""
    index, _ = net._locate_letter(letters[0])
    info = net.layers[index]
    symbol = net.letters[letters[0]]
    original = info.values[symbol]
    layers = list(net._layers)
    for name in letters:
        i, letter = net._locate_letter(name)
        layers[i - 1] = layers[i - 1].with_given(letter, symbol)
    freed = net._rebuild(layers, net.input_shape)
    return Unknown(target, address, symbol, freed, original if original.is_number else None,
                   lambda n: net.subs({name: n for name in letters}), letters[1:])


def _input_unknown(net: "Network", target: str, axis: str) -> Unknown:
    axes = INPUT_AXES[len(net.input_shape)][axis]
    entries = {net.input_shape[a] for a in axes}
    address = f"INPUT.{axis}"
    if len(entries) > 1:
        raise SymparamsError(f"{address} is {' × '.join(map(unicode_plain, entries))}, not one "
                             f"size; solve for INPUT.height or INPUT.width", field=target)
    entry = entries.pop()
    if entry.is_Symbol:
        name = entry.name
        return Unknown(target, address, entry, net, None, lambda n: net.subs({name: n}))
    if not entry.is_number:
        names = ", ".join(sorted((s.name for s in entry.free_symbols), key=natural_key))
        raise SymparamsError(f"{address} is {unicode_plain(entry)}; solve for {names} instead",
                             field=target)
    symbol = size_symbol(fresh_name(net, AXIS_LETTER[axis]))
    layers = list(net._layers)

    def shape_with(value) -> tuple:
        return tuple(value if i in axes else v for i, v in enumerate(net.input_shape))

    freed = net._rebuild(layers, shape_with(symbol))
    return Unknown(target, address, symbol, freed, entry,
                   lambda n: net._rebuild(layers, shape_with(Integer(n))))


# ---------------------------------------------------------------- the problem

def whole_number(raw: Any, what: str) -> int:
    """A count or budget from the caller: a whole number ≥ 0 (``62_958`` or ``"62,958"``)."""
    if isinstance(raw, str):
        text = raw.strip().replace(",", "").replace("_", "").replace(" ", "")
        if not text.isdigit():
            raise SymparamsError(f"expected a whole number, found {raw!r}", field=what)
        return int(text)
    try:
        value = size_value(raw)
    except SymparamsError as exc:
        raise exc.located(field=what) from None
    if not (value.is_Integer and value >= 0):
        raise SymparamsError(f"expected a whole number ≥ 0, found {raw!r}", field=what)
    return int(value)


def _ge(value: Expr, minimum: int) -> bool:
    return bool(value.is_number and value.is_extended_real and value >= minimum)


def _gt(value: Expr, minimum: int) -> bool:
    return bool(value.is_number and value.is_extended_real and value > minimum)


class _Problem:
    """A count as an expression in one symbol x, with exact evaluation and the
    values of x for which the network is valid."""

    def __init__(self, unknown: Unknown, expr: Expr, goal: int):
        self.unknown = unknown
        self.x = unknown.symbol
        self.expr = expr
        self.cap = 2 ** 64 * (goal + 1)
        self._values: dict[int, Expr] = {}
        self._built: dict[int, bool] = {}
        self.rejected: dict[int, str] = {}   # value → why the network cannot be built
        found: dict[Expr, int] = {}
        for info in unknown.network.layers:
            checks = [(v, 1) for v in info.output_shape]
            if info.index:
                checks += [(v, 0) for v in info.layer.sizes()]
                checks += [(v, 1) for v in info.layer.given().values()]
            for v, minimum in checks:
                if self.x in v.free_symbols and v != self.x:
                    found[v] = max(found.get(v, minimum), minimum)
        self.constraints = list(found.items())
        self._domain: tuple[int, int | None] | None | bool = False  # False: not yet known

    def at(self, n: int, expr: Expr | None = None) -> Expr:
        if expr is not None:
            return expr.xreplace({self.x: Integer(n)})
        if n not in self._values:
            self._values[n] = self.expr.xreplace({self.x: Integer(n)})
        return self._values[n]

    def fits(self, n: int) -> bool:
        """Every size that depends on x is a whole number at least its minimum."""
        for g, minimum in self.constraints:
            v = self.at(n, g)
            if not (v.is_Integer and v >= minimum):
                return False
        return n >= 1

    def builds(self, n: int) -> bool:
        """The network itself, built with x = n, is valid and has the same count."""
        if n not in self._built:
            try:
                self._built[n] = self._count_of(self.unknown.at(n)) == self.at(n)
            except SymparamsError as exc:
                self._built[n] = False
                self.rejected[n] = str(exc)
        return self._built[n]

    _count_of: Callable[["Network"], Expr] = staticmethod(lambda net: net.total)

    def confirm(self, values: list[int]) -> list[int]:
        """Keep the values for which the network is valid: built one by one when few."""
        if len(values) <= BUILD_LIMIT:
            return [n for n in values if self.builds(n)]
        return [n for n in values if self.fits(n)]

    # ---------------------------------------------------------------- domain

    def domain(self) -> tuple[int, int | None] | None:
        """[lo, hi] (hi None: no end) where every size stays ≥ its minimum; None: empty."""
        if self._domain is not False:
            return self._domain
        lo, hi = 1, None
        pending = list(self.constraints)
        while pending:
            progress = False
            for item in list(pending):
                g, minimum = item
                d = self.direction(g, (lo, hi))
                if d is None:
                    continue
                pending.remove(item)
                progress = True
                ok = lambda n, g=g, minimum=minimum: _ge(self.at(n, g), minimum)  # noqa: E731
                if d == 0:
                    if not ok(lo):
                        lo, hi = 1, 0
                elif d > 0:
                    first = first_true(ok, lo, hi, self.cap)
                    lo, hi = (lo, 0) if first is None else (first, hi)
                else:
                    last = last_true(ok, lo, hi, self.cap)
                    hi = 0 if last is False else last
                if hi is not None and hi < lo:
                    self._domain = None
                    return None
            if not progress:
                shown = ", ".join(unicode_plain(g) for g, _ in pending[:2])
                raise SymparamsError(f"cannot tell for which values of {self.unknown.name} the "
                                     f"network is valid: {shown} neither grows nor shrinks "
                                     f"steadily with it")
        self._domain = (lo, hi)
        return self._domain

    # ------------------------------------------------------------- direction

    def direction(self, e: Expr, domain: tuple[int, int | None]) -> int | None:
        """+1 when ``e`` never decreases as x grows through the domain, -1 when it never
        increases, 0 when it does not depend on x, None when this cannot be shown.

        Shown term by term: sums of terms that move the same way, products of factors
        that are positive on the domain, powers, floors and ceilings of such terms.
        """
        x = self.x
        if x not in e.free_symbols:
            return 0
        if e == x:
            return 1
        if isinstance(e, (Add, Min, Max)):
            return _combine(self.direction(a, domain) for a in e.args)
        if isinstance(e, (floor, ceiling)):
            return self.direction(e.args[0], domain)
        if isinstance(e, Mul):
            sign, dirs = 1, []
            moving = [f for f in e.args if x in f.free_symbols]
            for factor in e.args:
                if x not in factor.free_symbols:
                    if factor.is_positive:
                        continue
                    if factor.is_negative:
                        sign = -sign
                        continue
                    return None
                d = self.direction(factor, domain)
                # A product of several moving factors moves their way only where they are > 0.
                if d is None or (len(moving) > 1 and not self._positive(factor, d, domain)):
                    return None
                dirs.append(d)
            combined = _combine(dirs)
            return None if combined is None else sign * combined
        if isinstance(e, Pow):
            base, exp = e.args
            if x in exp.free_symbols or not exp.is_Rational:
                return None
            d = self.direction(base, domain)
            if d is None:
                return None
            if exp.is_Integer and exp > 0 and exp % 2 == 1:
                return d
            if not self._positive(base, d, domain):
                return None
            return d if exp > 0 else -d
        return None

    def _positive(self, e: Expr, d: int, domain) -> bool:
        lo, hi = domain
        if d >= 0:
            return _gt(self.at(lo, e), 0)
        return hi is not None and _gt(self.at(hi, e), 0)


def _combine(dirs) -> int | None:
    seen = set()
    for d in dirs:
        if d is None:
            return None
        if d:
            seen.add(d)
    if len(seen) > 1:
        return None
    return seen.pop() if seen else 0


def first_true(pred: Callable[[int], bool], lo: int, hi: int | None, cap: int) -> int | None:
    """The smallest n in [lo, hi] with pred(n), for pred False … False True … True.

    With no hi, steps up exponentially (lo+1, lo+2, lo+4 …) up to ``cap``; None when
    pred is never true there.

    >>> first_true(lambda n: n * n >= 1000, 1, None, 10 ** 6)
    32
    """
    if hi is None:
        prev, step, n = lo - 1, 1, lo
        while not pred(n):
            if n >= cap:
                return None
            prev, n = n, min(lo + step, cap)
            step *= 2
        low, high = prev + 1, n
    else:
        if lo > hi or not pred(hi):
            return None
        low, high = lo, hi
    while low < high:
        mid = (low + high) // 2
        if pred(mid):
            high = mid
        else:
            low = mid + 1
    return low


def last_true(pred: Callable[[int], bool], lo: int, hi: int | None, cap: int):
    """The largest n in [lo, hi] with pred(n), for pred True … True False … False.

    False when pred(lo) is already false; None when pred holds up to ``cap`` with no hi.
    """
    if lo > (hi if hi is not None else lo) or not pred(lo):
        return False
    first_false = first_true(lambda n: not pred(n), lo, hi, cap)
    if first_false is None:
        return hi
    return first_false - 1


# ------------------------------------------------------------------ answers

@dataclass
class Solution:
    """The answer to one question, with what is needed to say it plainly.

    ``values`` are the answers (for a budget: the largest value, or nothing);
    ``near`` pairs (value, count) around the target when nothing hits it;
    ``roots`` real roots that are not whole numbers (polynomial counts);
    ``unbounded_from`` is set when every value from there on is an answer.
    """
    unknown: Unknown
    expr: Expr
    goal: str            # "total" or "budget"
    target: int
    layer: str | None = None
    values: list[int] = field(default_factory=list)
    near: list[tuple[int, int]] = field(default_factory=list)
    roots: list[Expr] = field(default_factory=list)
    unbounded_from: int | None = None
    valid: bool = True   # False: no value of the unknown gives a valid network
    rejected: list[tuple[int, str]] = field(default_factory=list)  # hits that do not build
    limit: int | None = None   # the largest value for which the network is valid, if any

    @property
    def what(self) -> str:
        return f"{self.layer}'s count" if self.layer else "the total"

    def equation(self) -> str:
        relation = "=" if self.goal == "total" else "≤"
        return f"{unicode_plain(count_terms(self.expr))} {relation} {thousands(self.target)}"

    def message(self) -> str:
        """One plain sentence: the answer, or why there is none."""
        name = self.unknown.name
        if self.unbounded_from is not None:
            if self.goal == "total":
                why = ("does not depend on" if self.unknown.symbol not in self.expr.free_symbols
                       else "stops growing with")
                return (f"every {name} from {thousands(self.unbounded_from)} up gives {self.what} "
                        f"{thousands(self.target)}: {self.what} {why} {name}")
            return (f"every {name} from {thousands(self.unbounded_from)} up keeps {self.what} within "
                    f"{thousands(self.target)}: there is no largest value")
        if self.values:
            lhs = self.unknown.lhs
            if self.goal == "budget":
                n = self.values[0]
                text = f"{lhs} = {thousands(n)} gives {self.what} {thousands(self.count_at(n))}"
                following = [(v, c) for v, c in self.near if v > n]
                if following:
                    text += f"; {name} = {thousands(following[0][0])} would give {thousands(following[0][1])}"
                elif self.limit == n:
                    text += f"; a larger {name} makes the network invalid"
                return text
            if len(self.values) == 1:
                return f"{lhs} = {thousands(self.values[0])}"
            why = (": the floors round them to the same sizes"
                   if self.expr.has(floor, ceiling) else "")
            return (f"{lhs} = {value_list(self.values)} ({thousands(len(self.values))} values give "
                    f"{thousands(self.target)}{why})")
        if not self.valid:
            return f"no value of {name} gives a valid network"
        if self.goal == "budget":
            lowest = self.near[0] if self.near else None
            text = f"no {name} keeps {self.what} within {thousands(self.target)}"
            if lowest:
                text += f": the least it can be is {thousands(lowest[1])} ({name} = {thousands(lowest[0])})"
            return text
        text = f"no whole number {name} gives {self.what} {thousands(self.target)}"
        reasons = []
        for n, why in self.rejected[:3]:
            reasons.append(f"{name} = {thousands(n)} would, but then the network is invalid ({why})")
        if self.roots:
            shown = ", ".join(unicode_plain(r) + ("" if r.is_Integer else f" ≈ {r.evalf(6)}")
                              for r in self.roots)
            reasons.append(f"{name} = {shown} is not a whole number")
        if self.near:
            reasons.append(" and ".join(f"{name} = {thousands(v)} gives {thousands(c)}" for v, c in self.near))
        if self.unknown.symbol not in self.expr.free_symbols:
            reasons.append(f"{self.what} does not depend on {name}: it is "
                           f"{unicode_plain(self.expr)}")
        return text + (": " + "; ".join(reasons) if reasons else "")

    def count_at(self, n: int) -> int:
        return int(self.expr.xreplace({self.unknown.symbol: Integer(n)}))

    def to_dict(self) -> dict[str, Any]:
        """The data of ``symparams solve --json``."""
        from ..printing import ascii_plain
        data: dict[str, Any] = {
            "target": self.unknown.address, "symbol": self.unknown.symbol.name,
            "was": int(self.unknown.original) if self.unknown.original is not None else None,
            "layer": self.layer, "count": ascii_plain(self.expr), self.goal: self.target}
        if self.goal == "total":
            data["solutions"] = list(self.values)
        else:
            data["max_value"] = self.values[0] if self.values else None
            data["count_at_max"] = self.count_at(self.values[0]) if self.values else None
        data["unbounded_from"] = self.unbounded_from
        data["message"] = self.message()
        return data


def _problem(net: "Network", target: str, goal: int, params_of: str | None,
             what: str) -> _Problem:
    unknown = resolve(net, target)
    if params_of is not None:
        try:
            layer_name = unknown.network[params_of].name
        except (KeyError, IndexError, TypeError):
            names = ", ".join(i.name for i in net.layers[1:])
            raise SymparamsError(f"no layer named {params_of!r} (layers: {names})",
                                 field="params_of") from None
        expr = unknown.network[layer_name].params
        problem = _Problem(unknown, expr, goal)
        problem._count_of = lambda built: built[layer_name].params
    else:
        problem = _Problem(unknown, unknown.network.total, goal)
    others = sorted((s.name for s in problem.expr.free_symbols if s != unknown.symbol),
                    key=natural_key)
    if others:
        sets = " ".join(f"{o}=…" for o in others[:3])
        raise SymparamsError(f"{what} also depends on {', '.join(others)}; give "
                             f"{'them' if len(others) > 1 else 'it'} a value first "
                             f"(--set {sets})", field=target)
    return problem


def solve_for(net: "Network", target: str, total: Any = None, *, params_of: str | None = None,
              value: Any = None) -> Solution:
    """Every positive whole value of ``target`` for which the total (or, with
    ``params_of``, that layer's count) equals the given number."""
    if params_of is None and value is not None:
        raise SymparamsError("value= goes with params_of=LAYER; for the network's count "
                             "use total=")
    goal_raw = value if params_of is not None else total
    if goal_raw is None:
        raise SymparamsError("expected the count to solve for: total=N (or params_of=LAYER, "
                             "value=N)")
    goal = whole_number(goal_raw, "value" if params_of is not None else "total")
    problem = _problem(net, target, goal, params_of,
                       f"{params_of}'s count" if params_of else "the total")
    result = Solution(problem.unknown, problem.expr, "total", goal,
                      layer=problem.unknown.network[params_of].name if params_of else None)
    x, expr = problem.x, problem.expr
    if x not in expr.free_symbols:
        domain = problem.domain()
        if domain is None:
            result.valid = False
        elif expr == goal:
            result.unbounded_from = domain[0]
        return result
    if not expr.has(floor, ceiling, Min, Max) and expr.is_polynomial(x):
        found = _solve_polynomial(problem, goal, result)
        if found is not None:
            result.values = problem.confirm(found)
            result.rejected = sorted(problem.rejected.items())
            return result
    domain = problem.domain()
    if domain is None:
        result.valid = False
        return result
    lo, hi = domain
    direction = problem.direction(expr, domain)
    if direction is None:
        values = _scan(problem, lo, hi)
        hits = [n for n, c in values if c == goal]
        result.values = problem.confirm(hits)
        result.rejected = sorted(problem.rejected.items())
        if not hits:
            result.near = _nearest(values, goal)
        return result
    sign = direction or 1
    reach = lambda n: sign * problem.at(n) >= sign * goal    # noqa: E731
    beyond = lambda n: sign * problem.at(n) > sign * goal    # noqa: E731
    first = first_true(reach, lo, hi, problem.cap)
    if first is None or problem.at(first) != goal:
        if first is not None and first > lo:
            result.near = [(first - 1, int(problem.at(first - 1))), (first, int(problem.at(first)))]
        elif first is not None:
            result.near = [(first, int(problem.at(first)))]
        else:
            end = hi if hi is not None else None
            if end is not None:
                result.near = [(end, int(problem.at(end)))]
        result.near.sort()
        return result
    after = first_true(beyond, first, hi, problem.cap)
    if after is None:
        if hi is None:
            result.unbounded_from = first
            return result
        after = hi + 1
    if after - first > PLATEAU_LIMIT:
        raise NoUniqueAnswer(f"every {problem.unknown.name} from {thousands(first)} to {thousands(after - 1)} "
                             f"({thousands(after - first)} values) gives {thousands(goal)}")
    result.values = problem.confirm(list(range(first, after)))
    result.rejected = sorted(problem.rejected.items())
    return result


def _solve_polynomial(problem: _Problem, goal: int, result: Solution) -> list[int] | None:
    """Whole-number roots of a polynomial count, each put back in; None when SymPy cannot."""
    y = Dummy("y")
    try:
        roots = sympy_solve(Eq(problem.expr.xreplace({problem.x: y}), goal), y)
    except (NotImplementedError, ValueError):
        return None
    found, others = [], []
    for r in roots:
        if r.is_Integer and r >= 1:
            found.append(int(r))
        elif r.is_real and r.is_positive:
            others.append(r)
    checked = sorted(n for n in set(found) if problem.at(n) == goal)
    if not checked:
        result.roots = sorted(others, key=lambda r: r.evalf())
        near = set()
        for r in result.roots:
            below = int(floor(r))
            for n in (below, below + 1):
                if n >= 1 and problem.fits(n):
                    near.add((n, int(problem.at(n))))
        result.near = sorted(near)
    return checked


def _scan(problem: _Problem, lo: int, hi: int | None) -> list[tuple[int, Expr]]:
    if hi is None or hi - lo + 1 > SCAN_LIMIT:
        raise SymparamsError(f"cannot solve for {problem.unknown.name}: the count neither grows "
                             f"nor shrinks steadily with it, and there are too many values to "
                             f"try (more than {thousands(SCAN_LIMIT)})")
    return [(n, problem.at(n)) for n in range(lo, hi + 1)]


def value_list(values: list[int]) -> str:
    """``32, 33, 34, 35``; runs of more than four as ``224 … 255``.

    >>> value_list([1, 5, 6, 7, 8, 9, 10, 20])
    '1, 5 … 10, 20'
    """
    parts, start = [], 0
    for i in range(1, len(values) + 1):
        if i == len(values) or values[i] != values[i - 1] + 1:
            run = values[start:i]
            parts.append(f"{thousands(run[0])} … {thousands(run[-1])}" if len(run) > 4
                         else ", ".join(f"{thousands(n)}" for n in run))
            start = i
    return ", ".join(parts)


def _nearest(values: list[tuple[int, Expr]], goal: int) -> list[tuple[int, int]]:
    below = [(n, c) for n, c in values if c.is_Integer and c < goal]
    above = [(n, c) for n, c in values if c.is_Integer and c > goal]
    near = []
    if below:
        near.append(max(below, key=lambda p: (p[1], -p[0])))
    if above:
        near.append(min(above, key=lambda p: (p[1], p[0])))
    return sorted((n, int(c)) for n, c in near)


def max_value_for(net: "Network", target: str, budget: Any, *,
                  params_of: str | None = None) -> Solution:
    """The largest positive whole value of ``target`` that keeps the total (or that
    layer's count) within ``budget``."""
    goal = whole_number(budget, "budget")
    problem = _problem(net, target, goal, params_of,
                       f"{params_of}'s count" if params_of else "the total")
    result = Solution(problem.unknown, problem.expr, "budget", goal,
                      layer=problem.unknown.network[params_of].name if params_of else None)
    domain = problem.domain()
    if domain is None:
        result.valid = False
        return result
    lo, hi = domain
    result.limit = hi
    direction = problem.direction(problem.expr, domain)
    within = lambda n: problem.at(n) <= goal   # noqa: E731
    if direction is None:
        values = _scan(problem, lo, hi)
        fitting = [n for n, c in values if c <= goal]
        best = fitting[-1] if fitting else None
        if best is None:
            result.near = [min(((n, int(c)) for n, c in values), key=lambda p: p[1])]
            return result
    elif direction >= 0:
        best = last_true(within, lo, hi, problem.cap)
        if best is False:
            result.near = [(lo, int(problem.at(lo)))]
            return result
        if best is None:
            result.unbounded_from = lo
            return result
    else:
        if hi is None:
            start = first_true(within, lo, None, problem.cap)
            if start is None:
                result.near = []
                return result
            result.unbounded_from = start
            return result
        best = hi if within(hi) else None
        if best is None:
            result.near = [(hi, int(problem.at(hi)))]
            return result
    # The largest value that also builds (a value skipped by a size that must divide).
    for n in range(best, max(lo, best - SCAN_LIMIT) - 1, -1):
        if within(n) and problem.fits(n) and problem.builds(n):
            result.values = [n]
            following = n + 1
            if (hi is None or following <= hi) and problem.fits(following):
                result.near = [(following, int(problem.at(following)))]
            return result
    return result
