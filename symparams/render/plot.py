"""The plot of a sweep: counts against the varied size (matplotlib, Agg, no pyplot).

With one varied size the plot shows the total and every layer with parameters
(the ten largest when there are more); with several, the total against the
first varied size, one line for each combination of the others (eight at
most, evenly chosen).  An axis turns logarithmic when its values span a factor
of 100 or more.  The same rows give the same bytes: SVG ids are salted with a
fixed string and no file carries a date or a version.
"""
from __future__ import annotations

import io
import textwrap
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import SymparamsError
from ..printing import unicode_name
from ..numbers import thousands

if TYPE_CHECKING:
    from ..explore.sweep import Sweep

FORMATS = ("svg", "png", "pdf")
LOG_RATIO = 100       # an axis spanning this factor or more is drawn on a log scale
MAX_LAYER_LINES = 10  # with one varied size: the total plus this many layers at most
MAX_SERIES = 8        # with several varied sizes: this many lines of the total at most
# Labels are wrapped at these many characters so that nothing reaches past the figure's
# edge: the constrained layout makes room for whatever is drawn, but it cannot shrink a
# line of text wider than the figure, nor a legend taller than it.
LEGEND_CHARS = 28
TITLE_CHARS = 72
FIGURE_SIZE = (7.5, 4.5)    # inches; taller when the legend needs it
LEGEND_MARGIN_IN = 0.1      # blank below a legend that made the figure grow

_RC = {"svg.hashsalt": "symparams", "svg.fonttype": "path", "font.family": "DejaVu Sans",
       "font.size": 9, "axes.spines.top": False, "axes.spines.right": False,
       "path.simplify": False}
_METADATA = {"svg": {"Date": None, "Creator": None}, "png": {"Software": None},
             "pdf": {"CreationDate": None, "ModDate": None, "Creator": None, "Producer": None}}


def _matplotlib():
    try:
        import matplotlib
    except ImportError:
        raise SymparamsError("drawing a plot needs matplotlib: pip install "
                             "'symparams[plot]'", field="--plot") from None
    return matplotlib


def _wants_log(values: list[int]) -> bool:
    positive = [v for v in values if v > 0]
    return len(positive) == len(values) and bool(values) and max(values) >= LOG_RATIO * min(values)


def _label(rows: "Sweep", key: str) -> str:
    """``CONV1.filters (k₁)``; a kernel varies both its letters: ``(m₁ = n₁)``."""
    letters = rows.letters.get(key)
    if letters:
        return f"{key} ({' = '.join(unicode_name(l) for l in letters)})"
    return unicode_name(key)


def _wrap(text: str, width: int) -> str:
    return "\n".join(textwrap.wrap(text, width, break_on_hyphens=False)) or text


def _evenly(items: list, n: int) -> list:
    if len(items) <= n:
        return items
    step = (len(items) - 1) / (n - 1)
    return [items[round(i * step)] for i in range(n)]


def sweep_figure(rows: "Sweep", log: bool | None = None):
    """A matplotlib Figure of a sweep; ``log`` forces (True) or forbids (False) a log
    count axis, ``None`` decides from the range."""
    _matplotlib()
    from matplotlib.figure import Figure
    from matplotlib.ticker import FuncFormatter, MaxNLocator

    import matplotlib as mpl
    with mpl.rc_context(_RC):
        fig = Figure(figsize=FIGURE_SIZE, dpi=100, layout="constrained")
        ax = fig.add_subplot()
        x_key = rows.varied[0]
        others = rows.varied[1:]
        series: list[tuple[str, list[int], list[int], dict]] = []
        if not others:
            xs = rows.column(x_key)
            series.append(("total", xs, rows.column("total"), {"linewidth": 2.2,
                                                               "color": "black"}))
            layers = sorted(rows.layers, key=lambda n: -max(rows.column(n)))
            shown = sorted(layers[:MAX_LAYER_LINES], key=rows.layers.index)
            for name in shown:
                series.append((name, xs, rows.column(name), {"linewidth": 1.3}))
            title = f"{rows.network}: learnable parameters"
            if len(shown) < len(layers):
                title += f" (total and the {len(shown)} largest of {len(layers)} layers)"
        else:
            groups: dict[tuple, list[dict]] = {}
            for row in rows:
                groups.setdefault(tuple(row[k] for k in others), []).append(row)
            chosen = _evenly(list(groups), MAX_SERIES)
            for combo in chosen:
                group = groups[combo]
                label = ", ".join(f"{_label(rows, k)} = {v}" for k, v in zip(others, combo))
                series.append((label, [r[x_key] for r in group], [r["total"] for r in group],
                               {"linewidth": 1.6}))
            title = f"{rows.network}: total learnable parameters"
            if len(chosen) < len(groups):
                title += f" ({len(chosen)} of {len(groups)} combinations)"
        marker = "o" if len(series[0][1]) <= 30 else None
        for label, xs, ys, style in series:
            ax.plot(xs, ys, label=_wrap(label, LEGEND_CHARS), marker=marker, markersize=3.5, **style)
        all_x = [x for _, xs, _, _ in series for x in xs]
        all_y = [y for _, _, ys, _ in series for y in ys]
        if _wants_log(all_x):
            ax.set_xscale("log")
        else:
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        if log if log is not None else _wants_log(all_y):
            if min(all_y) <= 0:
                raise SymparamsError("a log scale needs counts above 0", field="--plot")
            ax.set_yscale("log")
        else:
            ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: thousands(round(v))))
        ax.set_xlabel(_wrap(_label(rows, x_key), TITLE_CHARS))
        ax.set_ylabel("learnable parameters")
        ax.set_title(_wrap(title, TITLE_CHARS), loc="left")
        ax.grid(True, which="major", linewidth=0.5, alpha=0.5)
        legend = ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
        # The legend hangs from the top of the axes: when it reaches below the figure,
        # the figure grows by what is missing (measured after a layout pass), instead of
        # letting entries run off the page.
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        renderer = FigureCanvasAgg(fig).get_renderer()
        for _ in range(3):
            fig.draw_without_rendering()
            overflow = -legend.get_window_extent(renderer).y0 / fig.dpi
            if overflow <= 0:
                break
            fig.set_figheight(fig.get_figheight() + overflow + LEGEND_MARGIN_IN)
    return fig


def plot_bytes(rows: "Sweep", fmt: str = "svg", log: bool | None = None) -> bytes:
    """The plot as SVG, PNG or PDF bytes; the same rows give the same bytes."""
    if fmt not in FORMATS:
        raise SymparamsError(f"expected a .svg, .png or .pdf file, found .{fmt}", field="--plot")
    mpl = _matplotlib()
    fig = sweep_figure(rows, log=log)
    out = io.BytesIO()
    with mpl.rc_context(_RC):
        fig.savefig(out, format=fmt, metadata=_METADATA[fmt])
    return out.getvalue()


def write_plot(rows: "Sweep", path: str | Path, log: bool | None = None) -> Path:
    """Write the plot atomically; the format follows the file's suffix."""
    from .common import atomic_write
    fmt = Path(path).suffix.lower().lstrip(".")
    if fmt not in FORMATS:
        raise SymparamsError(f"expected a .svg, .png or .pdf file, found {str(path)!r}",
                             field="--plot")
    return atomic_write(path, plot_bytes(rows, fmt, log=log))


__all__ = ["sweep_figure", "plot_bytes", "write_plot", "FORMATS"]
