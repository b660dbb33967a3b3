"""Time counting generated conv stacks of growing depth.

For each depth: build the network with numbers (shape flow, per-layer counts),
take its symbolic total in the layer letters, build the fully symbolic network
(every given size its own letter), then substitute every letter's value back,
and evaluate the letter total with one xreplace.  Prints one row per depth so
the growth with depth is visible.

    python bench/bench_count.py [DEPTH ...]
"""
from __future__ import annotations

import sys
import time

from symparams import Conv2D, Network


def conv_stack(depth: int) -> Network:
    # 'same' padding keeps 32 × 32, so any depth is a valid network.
    layers = [Conv2D(kernel=3, filters=8 + 8 * (i % 4), padding="same") for i in range(depth)]
    return Network(layers, input=(32, 32, 3), name=f"conv{depth}")


def timed(fn):
    start = time.perf_counter()
    value = fn()
    return value, time.perf_counter() - start


def main(depths: list[int]) -> None:
    print(f"{'layers':>7} {'build':>9} {'symbolic':>9} {'letters':>9} {'subs all':>9} "
          f"{'xreplace':>9}  total")
    for depth in depths:
        net, t_build = timed(lambda: conv_stack(depth))
        total_letters, t_sym = timed(lambda: net.total_symbolic)
        symbolic, t_letters = timed(net.symbolic)
        values = {name: value for info in net.layers[1:]
                  for name, value in ((info.letters[l].name, v)
                                      for l, v in info.layer.given().items())}
        back, t_subs = timed(lambda: symbolic.subs(values).total)
        all_values = {s: v for info in net.layers for s, v in info.values.items()}
        direct, t_xr = timed(lambda: total_letters.xreplace(all_values))
        assert back == net.total == direct and net.total.is_Integer
        print(f"{depth:>7} {t_build:>8.3f}s {t_sym:>8.3f}s {t_letters:>8.3f}s {t_subs:>8.3f}s "
              f"{t_xr:>8.3f}s  {net.total}")


if __name__ == "__main__":
    main([int(a) for a in sys.argv[1:]] or [100, 1000, 5000])
