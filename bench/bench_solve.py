"""Time solving backwards on lenet and on a generated 100-layer network.

For each network and size: ``solve`` for the network's own total (filters and
units are polynomial: SymPy's solve, every root checked; the input height sits
inside nested floors: exact integer search for the first value and the end of
its plateau), and ``max_value`` for a budget.  Each answer is checked against
the network rebuilt with it; times are the median of several runs, each on a
freshly built network; the first run also pays for filling SymPy's caches.

    python bench/bench_solve.py [RUNS]
"""
from __future__ import annotations

import statistics
import sys
import time

from symparams import Conv2D, Dense, Flatten, MaxPool2D, Network, load
from symparams.explore.solve import resolve


def deep(layers: int = 100) -> Network:
    """``layers`` layers: 'same' and 'valid' convolutions with a pooling every 19, then
    flatten and three dense layers; a 192 × 160 input ends up 4 × 3 before the flatten."""
    stack = []
    body = layers - 4
    for i in range(body):
        if i % 19 == 18:
            stack.append(MaxPool2D(2))
        else:
            stack.append(Conv2D(kernel=3, filters=8 + 8 * (i % 4),
                                padding=0 if i % 19 == 0 else "same"))
    stack += [Flatten(), Dense(units=64), Dense(units=32), Dense(units=10)]
    return Network(stack, input=(192, 160, 3), name=f"deep{layers}")


def timed(fn, runs: int):
    """(value, first run, median of the runs): the first run pays for SymPy's caches."""
    times, value = [], None
    for _ in range(runs):
        start = time.perf_counter()
        value = fn()
        times.append(time.perf_counter() - start)
    return value, times[0], statistics.median(times)


def main(runs: int) -> None:
    lenet, big = load("lenet"), deep(100)
    conv_mid = next(i.name for i in big.layers if i.kind == "conv2d" and i.index >= 50)
    fc_first = next(i.name for i in big.layers if i.kind == "dense")
    cases = [
        ("lenet", lambda: load("lenet"), "CONV1.filters", lenet.total),
        ("lenet", lambda: load("lenet"), "FC3.units", lenet.total),
        ("lenet", lambda: load("lenet"), "INPUT.height", lenet.total),
        ("lenet", lambda: load("lenet"), "CONV1.kernel", lenet.total),
        (big.name, lambda: deep(100), f"{conv_mid}.filters", big.total),
        (big.name, lambda: deep(100), f"{fc_first}.units", big.total),
        (big.name, lambda: deep(100), "INPUT.height", big.total),
    ]
    print(f"{'network':<8} {'size':<16} {'solve first':>11} {'median':>9} "
          f"{'max_value':>10}  answers")
    for name, make, target, total in cases:
        nets = [make() for _ in range(2 * runs)]
        solved, t_first, t_solve = timed(lambda: nets.pop().solve(target, total=total), runs)
        budget = int(total) * 2
        best, _, t_max = timed(lambda: nets.pop().max_value(target, budget=budget), runs)
        for value in solved:  # every answer gives the total, checked by rebuilding
            assert resolve(make(), target).at(value).total == total
        shown = ", ".join(map(str, solved[:6])) + (" …" if len(solved) > 6 else "")
        print(f"{name:<8} {target:<16} {t_first * 1000:>9.1f}ms {t_solve * 1000:>7.1f}ms "
              f"{t_max * 1000:>8.1f}ms  "
              f"{shown}  (max within {budget:,}: {best})")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 5)
