"""The questions a network answers: solve, largest value, growth, diff, sweep.

A mixin of :class:`symparams.network.Network`, so that ``net.solve(...)`` and the
others stay methods of the network.  The machinery lives in
:mod:`symparams.explore`, which sits above the network, so each method imports
it when asked (imports go one way).
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Mapping

if TYPE_CHECKING:
    from .network import Network


class NetworkQuestions:
    """Questions about the sizes behind a network's total (mixed into Network)."""

    def solve(self, target: str, total: Any = None, *, params_of: str | None = None,
              value: Any = None) -> list[int]:
        """Every positive whole value of one size that gives this total (sorted).

        ``target`` is a layer field (``CONV1.filters``), a letter (``k_1``), an input
        size (``INPUT.height``, ``input[0]``; ``H`` for a numeric input) or a free name.
        With ``params_of=LAYER, value=N`` the count of that layer is matched instead.
        Sizes inside floors are searched exactly over the integers; see
        :mod:`symparams.explore.solve`.

        >>> from symparams import load
        >>> lenet = load("lenet")
        >>> lenet.solve("CONV1.filters", total=62958), lenet.solve("FC3.units", total=62958)
        ([8], [120])
        >>> lenet.solve("k_1", total=62959)
        []
        >>> lenet.solve("CONV2.filters", params_of="CONV2", value=3216)
        [16]
        """
        from .explore.solve import NoUniqueAnswer, solve_for
        result = solve_for(self, target, total, params_of=params_of, value=value)
        if result.unbounded_from is not None:
            raise NoUniqueAnswer(result.message())
        return list(result.values)

    def max_value(self, target: str, budget: Any, *, params_of: str | None = None) -> int | None:
        """The largest whole value of one size that keeps the total within ``budget``
        (None when even the smallest valid value exceeds it).

        >>> from symparams import load
        >>> load("lenet").max_value("CONV2.filters", budget=100_000)
        27
        """
        from .explore.solve import NoUniqueAnswer, max_value_for
        result = max_value_for(self, target, budget, params_of=params_of)
        if result.unbounded_from is not None:
            raise NoUniqueAnswer(result.message())
        return result.values[0] if result.values else None

    def growth(self, *targets: str):
        """How the total grows with one or more sizes: degree and leading term.

        >>> from symparams import load
        >>> load("lenet").growth("H").leading_term
        2400*H
        """
        from .explore.growth import growth
        return growth(self, *targets)

    def diff(self, other: "Network"):
        """Layer-by-layer comparison with another network (matched by name, then position).

        >>> from symparams import load
        >>> wider = load("lenet").subs(k_2=32)
        >>> load("lenet").diff(wider).total_change
        51216
        """
        from .explore.diff import diff
        return diff(self, other)

    def sweep(self, vary: Mapping[str, Any] | None = None, **sizes: Any):
        """Exact counts over a grid: one row (dict) per point, see :mod:`symparams.explore.sweep`.

        >>> from symparams import load
        >>> rows = load("lenet").sweep({"CONV1.filters": range(4, 17, 4)})
        >>> [row["total"] for row in rows]
        [61054, 62958, 64862, 66766]
        """
        from .explore.sweep import sweep
        return sweep(self, vary, **sizes)
