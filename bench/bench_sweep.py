"""Time 10,000-point sweeps on lenet and on a 101-layer network.

Each case sweeps one or two sizes over 10,000 grid points and prints the time
of the whole ``net.sweep`` call (building the symbolic network, compiling the
formulas into integer code, evaluating every point), the time per point, and
checks a few rows against SymPy (``xreplace`` on the symbolic total) so the
figures are for exact results.

The large network has 5 stages of 19 'same' convolutions and a 2 × 2 max
pooling, then a dense layer: varying the input size puts the count of the
dense layer under five nested floors.

    python bench/bench_sweep.py
"""
from __future__ import annotations

import random
import sys
import time

from sympy import Integer

from symparams import Conv2D, Dense, Flatten, MaxPool2D, Network, load
from symparams.spec import size_symbol


def deep_network() -> Network:
    layers = []
    for stage in range(5):
        layers += [Conv2D(kernel=3, filters=8 * (stage + 1), padding="same") for _ in range(19)]
        layers.append(MaxPool2D(2))
    layers += [Flatten(), Dense(units=10)]
    return Network(layers, input=(64, 64, 3), name="deep101")


def check(net: Network, vary: dict, rows, samples: int = 5) -> None:
    """A few rows against the network rebuilt with those sizes set (SymPy's own path)."""
    rng = random.Random(0)
    for row in rng.sample(list(rows), min(samples, len(rows))):
        values = {k: row[k] for k in vary if not k.startswith("INPUT.")}
        at = net
        if any(k.startswith("INPUT.") for k in vary):
            size = row["INPUT.size"]
            at = Network([*at._layers], input=(size, size, at.input_shape[2]), name=at.name)
        at = at.subs(values) if values else at
        assert at.total == row["total"], (row, at.total)


def symbolic_check(net: Network, key: str, rows) -> None:
    """The free-name case: xreplace on the symbolic total itself."""
    symbol = size_symbol(key)
    for row in (rows[0], rows[len(rows) // 2], rows[-1]):
        assert net.total.xreplace({symbol: Integer(row[key])}) == row["total"]


def case(label: str, net: Network, vary: dict) -> None:
    start = time.perf_counter()
    rows = net.sweep(vary)
    elapsed = time.perf_counter() - start
    check(net, vary, rows)
    print(f"{label:<46} {len(rows):>7,} {elapsed * 1000:>9.1f} ms "
          f"{elapsed / len(rows) * 1e6:>7.2f} µs   total {rows[0]['total']:,} … "
          f"{rows[-1]['total']:,}")


def main() -> None:
    lenet = load("lenet")
    deep = deep_network()
    print(f"{'case':<46} {'points':>7} {'sweep':>12} {'/point':>10}")
    case("lenet  CONV1.filters=1:10000", lenet, {"CONV1.filters": range(1, 10001)})
    case("lenet  INPUT.size=32:10031 (floors)", lenet, {"INPUT.size": range(32, 10032)})
    case("lenet  CONV2.filters × FC3.units 100 × 100", lenet,
         {"CONV2.filters": range(1, 101), "FC3.units": range(1, 101)})
    case(f"{deep.name} CONV1.filters=1:10000", deep, {"CONV1.filters": range(1, 10001)})
    case(f"{deep.name} INPUT.size=32:10031 (5 floors)", deep, {"INPUT.size": range(32, 10032)})
    case(f"{deep.name} CONV50.filters × INPUT.size 100 × 100", deep,
         {"CONV50.filters": range(1, 101), "INPUT.size": range(32, 132)})
    symbolic = load("examples/lenet-symbolic.yaml").subs(k_1=8, k_2=16, W=32)
    start = time.perf_counter()
    rows = symbolic.sweep(H=range(16, 10016))
    elapsed = time.perf_counter() - start
    symbolic_check(symbolic, "H", rows)
    print(f"{'lenet-symbolic H=16:10015':<46} {len(rows):>7,} {elapsed * 1000:>9.1f} ms "
          f"{elapsed / len(rows) * 1e6:>7.2f} µs   total {rows[0]['total']:,} … "
          f"{rows[-1]['total']:,}")


if __name__ == "__main__":
    sys.exit(main())
