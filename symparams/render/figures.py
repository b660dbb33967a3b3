"""Figures for the reports: an architecture diagram and a bar chart of the counts.

Both are SVG documents built from a :class:`~symparams.render.report.Report`
with :mod:`symparams.render.svgbuild` (ElementTree), so every piece of text
from a spec is escaped by the XML writer and nothing is pasted into markup by
hand.  All geometry is computed here (no script, no external font or file);
the same report always gives the same bytes.

* :func:`architecture_svg` draws one block per layer, input included, in a
  left-to-right flow with arrows, wrapping into rows for long networks.  A
  block's height hints at its size on a log scale: the height of a feature map
  (height × width × channels) or the length of a vector.  Feature maps are
  drawn as a stack, vectors as narrow bars; sizes that are symbols get a
  middle height and a dashed outline.
* :func:`parameter_chart_svg` draws a horizontal bar per layer with
  parameters, its length exactly proportional to the count (Rational
  arithmetic, rounded to 0.01 only when written), labelled with the count and
  its share of the total.  When counts are symbolic it says so and draws no
  bars.
"""
from __future__ import annotations

import math
from fractions import Fraction
from typing import Iterable

from markupsafe import Markup

from ..printing import natural_key, unicode_plain
from .common import thousands
from .svgbuild import INK, MUTED, Svg, clean_text, fit_text, text_width
from .svgbuild import fmt as _fmt  # its name here before svgbuild; the tests use it

RULE = "#c4cad3"

# Fill and outline per layer kind; anything else uses "other".
PALETTE = {
    "input": ("#eef0f3", "#8a93a1"),
    "conv2d": ("#d7e4f5", "#2f5d9b"),
    "maxpool2d": ("#dcefe3", "#2e7d4f"),
    "avgpool2d": ("#dcefe3", "#2e7d4f"),
    "dense": ("#fbe3cc", "#b0601a"),
    "other": ("#ece6f4", "#6a5592"),
}
BAR_FILL = "#2f5d9b"


# ------------------------------------------------------------- architecture

BLOCKS_PER_ROW = 8      # at most; rows are balanced
MARGIN = 24
SLOT_W = 92             # room for a block and its labels
GAP = 24                # between slots; the arrows live here
BAND_H = 92             # the band the blocks are centred in
MIN_H, MAX_H = 14, 84   # block heights, log-scaled between them
MAP_W, VEC_W = 48, 18   # front face of a feature map, a vector bar
DEPTH = 6               # offset of the stacked faces behind a feature map
LABEL_SIZE, SMALL = 11.5, 10.5
LINE = 14
ROW_GAP = 30            # between the labels of a row and the next row's band


def _size_hint(shape: tuple):
    """The extent a block's height stands for: height of a map (a volume's too, not its
    depth), length of a signal or a vector."""
    if not shape:
        return None
    value = shape[-3] if len(shape) == 4 else shape[0]
    return int(value) if getattr(value, "is_Integer", False) else None


def _block_height(size: int | None, largest: int) -> Fraction:
    if size is None:
        return Fraction(MIN_H + MAX_H, 2)
    if largest <= 1 or size <= 1:
        return Fraction(MIN_H)
    share = math.log(size) / math.log(largest)
    # Round the float through tenths so the result does not hang on the last bit.
    return Fraction(MIN_H) + Fraction(round((MAX_H - MIN_H) * share * 10), 10)


LABEL_WIDTH = SLOT_W + GAP - 8  # labels may reach into the gaps, clear of the arrows
SHAPE_LINES = 3                 # a long (symbolic) shape wraps at its × signs


def shape_lines(shape: str, max_width=LABEL_WIDTH, size=SMALL) -> list[str]:
    """A shape label as lines that fit: whole, or wrapped after its × signs."""
    shape = clean_text(shape)
    if text_width(shape, size) <= max_width:
        return [shape]
    groups: list[list[str]] = []
    for part in shape.split(" × "):
        if groups and text_width(" × ".join(groups[-1] + [part]) + " ×", size) <= max_width:
            groups[-1].append(part)
        else:
            groups.append([part])
    if len(groups) > SHAPE_LINES:
        groups = groups[:SHAPE_LINES - 1] + [sum(groups[SHAPE_LINES - 1:], [])]
    lines = [" × ".join(g) + (" ×" if i < len(groups) - 1 else "") for i, g in enumerate(groups)]
    return [fit_text(line, size, max_width) for line in lines]


NAME_LINES = 2                  # a long name or kind wraps after its dots or underscores


def label_lines(text: str, size: float, bold: bool = False, max_width=LABEL_WIDTH) -> list[str]:
    """A name or kind as at most NAME_LINES lines that fit, broken after a '.' or '_'
    (``encoder.layer.`` / ``11.0``), so that hierarchical names keep the part that
    tells them apart instead of all reading ``encoder.layer…``; cut only if still too long."""
    text = clean_text(text)
    if text_width(text, size, bold) <= max_width:
        return [text]
    lines: list[str] = []
    rest = text
    while rest and len(lines) < NAME_LINES - 1 and text_width(rest, size, bold) > max_width:
        # the longest head that fits and ends at a break
        breaks = [i + 1 for i, c in enumerate(rest[:-1]) if c in "._"
                  and text_width(rest[:i + 1], size, bold) <= max_width]
        if not breaks:
            break
        lines.append(rest[:breaks[-1]])
        rest = rest[breaks[-1]:]
    lines.append(rest)
    return [fit_text(line, size, max_width, bold) for line in lines]


def architecture_layout(report) -> dict:
    """Rows, block geometry and the SVG size of the architecture diagram."""
    infos = list(report.net.layers)
    count = len(infos)
    rows = max(1, math.ceil(count / BLOCKS_PER_ROW))
    per_row = max(1, math.ceil(count / rows))
    width = 2 * MARGIN + per_row * SLOT_W + (per_row - 1) * GAP
    shapes = [shape_lines(row.shape) for row in report.rows]
    names = [label_lines(row.name, LABEL_SIZE, bold=True) for row in report.rows]
    kinds = [label_lines(row.kind, SMALL) for row in report.rows]
    lines = (max((len(n) for n in names), default=1) + max((len(k) for k in kinds), default=1)
             + max((len(s) for s in shapes), default=1))
    row_h = BAND_H + 8 + lines * LINE + ROW_GAP
    height = MARGIN + rows * row_h - ROW_GAP + MARGIN - 8
    sizes = [_size_hint(tuple(info.output_shape)) for info in infos]
    largest = max([s for s in sizes if s is not None], default=1)
    position_of = {info.name: position for position, info in enumerate(infos)}
    blocks = []
    for position, (info, row, size, name, kind) in enumerate(
            zip(infos, report.rows, sizes, names, kinds)):
        r, c = divmod(position, per_row)
        slot_x = MARGIN + c * (SLOT_W + GAP)
        top = MARGIN + r * row_h
        is_map = len(info.output_shape) >= 2  # with channels: signal, image or volume
        w = MAP_W if is_map else VEC_W
        h = _block_height(size, largest)
        cx = slot_x + Fraction(SLOT_W, 2)
        cy = top + Fraction(BAND_H, 2)
        blocks.append({
            "row": r, "column": c, "slot_x": slot_x, "top": top, "cx": cx, "cy": cy,
            "x": cx - Fraction(w, 2) - (Fraction(DEPTH, 2) if is_map else 0),
            "y": cy - h / 2 + (Fraction(DEPTH, 2) if is_map else 0),
            "w": Fraction(w), "h": h, "is_map": is_map, "symbolic": size is None,
            "name": row.name, "kind": row.kind, "shape": row.shape, "params": row.params,
            "shape_lines": shape_lines(row.shape), "name_lines": name, "kind_lines": kind,
            "exact": getattr(info.params, "is_Integer", False),
            # The block before among its inputs: the straight arrow; the other inputs
            # (inputs:) are drawn as skip arrows.
            "takes_previous": not position or position - 1 in [
                position_of[s] for s in getattr(info, "sources", (infos[position - 1].name,))],
            "skips": [position_of[s] for s in getattr(info, "sources", ())
                      if position_of[s] != position - 1] if position else [],
        })
    return {"width": width, "height": height, "rows": rows, "per_row": per_row,
            "row_height": row_h, "blocks": blocks}


def _block_right(block) -> Fraction:
    return block["x"] + block["w"] + (DEPTH if block["is_map"] else 0)


def architecture_svg(report, rows: tuple[int, int] | None = None, *, layout=None) -> str:
    """The architecture diagram of a report as an SVG document (text).

    ``rows`` = (first, stop) draws only those rows of the diagram, with the
    arrows in and out of the slice running to its top and bottom edges; see
    :func:`architecture_parts`.
    """
    layout = layout or architecture_layout(report)
    first, stop = rows or (0, layout["rows"])
    row_h = layout["row_height"]
    shift = first * row_h
    height = MARGIN + (stop - first) * row_h - ROW_GAP + MARGIN - 8
    blocks = layout["blocks"]
    label = (f"Architecture of {report.title}: {len(blocks)} blocks, input {report.input_shape}"
             + (f" (rows {first + 1} to {stop} of {layout['rows']})" if rows else ""))
    svg = Svg(layout["width"], height, label)
    arrows = svg.group(None, fill="none", stroke=MUTED, stroke_width="1.4")
    heads = svg.group(None)
    left_margin = MARGIN - Fraction(GAP, 2)
    for before, after in zip(blocks, blocks[1:]):
        shown_before, shown_after = first <= before["row"] < stop, first <= after["row"] < stop
        if not (shown_before or shown_after) or not after["takes_previous"]:
            continue  # a layer fed from elsewhere gets a skip arrow instead (below)
        start = _block_right(before) + 3
        end = after["x"] - 2
        y_before, y_after = before["cy"] - shift, after["cy"] - shift
        if before["row"] == after["row"]:
            svg.add(arrows, "path", d=f"M{_fmt(start)} {_fmt(y_before)}H{_fmt(end)}")
        else:  # down the right margin, back along the gap, into the next row
            right = before["slot_x"] + SLOT_W + Fraction(GAP, 2)
            middle = before["top"] + row_h - Fraction(ROW_GAP, 2) - shift
            if shown_before and shown_after:
                d = (f"M{_fmt(start)} {_fmt(y_before)}H{_fmt(right)}V{_fmt(middle)}"
                     f"H{_fmt(left_margin)}V{_fmt(y_after)}H{_fmt(end)}")
            elif shown_before:  # continues in the next part
                d = f"M{_fmt(start)} {_fmt(y_before)}H{_fmt(right)}V{_fmt(height)}"
            else:  # comes from the part before
                d = f"M{_fmt(left_margin)} 0V{_fmt(y_after)}H{_fmt(end)}"
            svg.add(arrows, "path", d=d)
        if shown_after:
            svg.arrow_head(heads, end + 1, y_after)
    _skip_arrows(svg, blocks, first, stop, shift)
    for block in blocks:
        if not first <= block["row"] < stop:
            continue
        fill, stroke = PALETTE.get(block["kind"], PALETTE["other"])
        counted = "no parameters" if block["params"] == "0" else (
            f"{block['params']} parameters")
        title = f"{block['name']} ({block['kind']}): output {block['shape']}, {counted}"
        g = svg.group(None, title=title, class_=f"layer {clean_text(block['kind'])}")
        dash = "4 3" if block["symbolic"] else None
        x, y, w, h = block["x"], block["y"] - shift, block["w"], block["h"]
        if block["is_map"]:
            for step in (2, 1):  # the faces behind, for the channels
                svg.add(g, "rect", x=x + step * Fraction(DEPTH, 2), y=y - step * Fraction(DEPTH, 2),
                        width=w, height=h, fill=fill, stroke=stroke, stroke_width="1",
                        stroke_dasharray=dash, opacity="0.55" if step == 2 else "0.8")
        svg.add(g, "rect", x=x, y=y, width=w, height=h, rx=2 if block["is_map"] else 3,
                fill=fill, stroke=stroke, stroke_width="1.4", stroke_dasharray=dash)
        base = block["top"] - shift + BAND_H + 8 + 11
        lines = [(line, dict(size=LABEL_SIZE, bold=True)) for line in block["name_lines"]]
        lines += [(line, dict(size=SMALL, fill=MUTED)) for line in block["kind_lines"]]
        lines += [(line, dict(size=SMALL)) for line in block["shape_lines"]]
        for i, (line, style) in enumerate(lines):
            svg.text(g, block["cx"], base + i * LINE, line, anchor="middle", **style)
    return svg.markup()


SKIP_LIFT = 14  # how far above the band a skip arrow arches


def _skip_arrows(svg: Svg, blocks: list[dict], first: int, stop: int, shift) -> None:
    """Arrows from a layer to one that takes it but is not next to it (a residual
    connection, a branch into a concat): arching over the blocks between them,
    into the top of the layer that takes it.  Drawn when both ends are in the part."""
    arrows = svg.group(None, fill="none", stroke=INK, stroke_width="1.2",
                       class_="skip")
    heads = svg.group(None)
    for target in blocks:
        for position in target["skips"]:
            source = blocks[position]
            if not (first <= source["row"] < stop and first <= target["row"] < stop):
                continue
            x0, x1 = source["cx"], target["cx"]
            y0 = source["y"] - shift - (DEPTH if source["is_map"] else 0) - 2
            y1 = target["y"] - shift - (DEPTH if target["is_map"] else 0) - 2
            # Up out of the source's band, down into the target's (its own row).
            lift0 = source["top"] - shift - SKIP_LIFT
            lift1 = target["top"] - shift - SKIP_LIFT
            svg.add(arrows, "path", d=f"M{_fmt(x0)} {_fmt(y0)}C{_fmt(x0)} {_fmt(lift0)} "
                                      f"{_fmt(x1)} {_fmt(lift1)} {_fmt(x1)} {_fmt(y1 - 6)}")
            svg.arrow_head(heads, x1, y1, direction="down", fill=INK)


ROWS_PER_PART = 6  # a part of a long diagram fits an A4 page with its heading


def architecture_parts(report, rows_per_part: int = ROWS_PER_PART) -> list[str]:
    """The diagram cut into SVGs of at most ``rows_per_part`` rows, for paged media."""
    layout = architecture_layout(report)
    return [architecture_svg(report, (first, min(first + rows_per_part, layout["rows"])),
                             layout=layout)
            for first in range(0, layout["rows"], rows_per_part)]


# --------------------------------------------------------------------- chart

BAR_MAX = 440           # length of the longest bar
BAR_H = 14
BAR_ROW = 24
CHART_MARGIN = 16
VALUE_SIZE = 11


def chart_rows(report) -> list[tuple]:
    """(row, LayerInfo) for the layers that have parameters, in network order; for a
    network built from blocks one bar per block instance (and per layer outside
    blocks), which keeps ResNet-50's chart to a page."""
    if getattr(report, "block_sections", None):
        return _block_bars(report)
    return [(row, info) for row, info in zip(report.rows, report.net.layers)
            if info.layer.has_params]


class _Bar:
    """A block instance as the chart draws it: a row (name, share) and a count."""

    def __init__(self, name: str, params, share: str):
        self.name, self.params, self.share = name, params, share


def _block_bars(report) -> list[tuple]:
    from ..blockgroups import stages
    from .common import percent
    net, bars = report.net, []
    rows = {row.index: row for row in report.rows}
    for stage in stages(net):
        if stage.block is None:
            bars += [(rows[info.index], info) for info in stage.layers if info.layer.has_params]
            continue
        for unit in stage.units:
            total = unit.total
            share = percent(total / net.total) if total.is_Integer and net.is_exact \
                and net.total else ""
            bar = _Bar(unit.path, total, share)
            bars.append((bar, bar))
    return bars


def _without_bars(report, rows) -> int:
    """Layers the chart leaves out: those without parameters outside blocks."""
    if getattr(report, "block_sections", None):
        return sum(1 for info in report.net.layers[1:]
                   if not info.blocks and not info.layer.has_params)
    return len(report.rows) - 1 - len(rows)  # the input never has parameters


def bar_lengths(counts: Iterable[int], longest: int = BAR_MAX) -> list[Fraction]:
    """Exact bar lengths: the largest count gets ``longest``, the others in proportion."""
    counts = [int(c) for c in counts]
    top = max(counts, default=0)
    if top <= 0:
        return [Fraction(0) for _ in counts]
    return [Fraction(c * longest, top) for c in counts]


def parameter_chart_svg(report, part: tuple[int, int] | None = None) -> str:
    """The bar chart of parameters per layer as an SVG document (text).

    ``part`` = (first, end) draws only those bars (on the whole chart's scale), for
    paged media: see :func:`parameter_chart_parts`.
    """
    rows = chart_rows(report)
    skipped = _without_bars(report, rows)
    exact = all(getattr(info.params, "is_Integer", False) for _, info in rows)
    names = [clean_text(row.name) for row, _ in rows] or [""]
    name_w = min(200, max(60, max(text_width(n, LABEL_SIZE - 0.5, True) for n in names) + 12))
    name_w = int(math.ceil(name_w))
    x0 = CHART_MARGIN + name_w
    value_w = 150
    width = x0 + BAR_MAX + value_w + CHART_MARGIN
    label = f"Parameters per layer of {report.title}"
    if not rows:
        lines = ["No layer has learnable parameters."]
        return _message_svg(width, label, lines, [])
    if not exact:
        symbols = sorted({s for _, info in rows for s in info.params.free_symbols},
                         key=natural_key)
        names_text = ", ".join(unicode_plain(s) for s in symbols)
        lines = ["The parameter counts are symbolic, so no bars are drawn.",
                 f"They depend on {names_text}; set sizes with --set NAME=VALUE for numbers."
                 if names_text else "Set sizes with --set NAME=VALUE for numbers."]
        entries = [(row.name, thousands(info.params) if info.params.is_Integer else row.params)
                   for row, info in rows]
        return _message_svg(width, label, lines, entries, name_w)
    lengths = bar_lengths(int(info.params) for _, info in rows)
    first, end = part or (0, len(rows))
    is_last = end >= len(rows)
    skipped = skipped if is_last else 0
    # Parts of one chart stack without a gap: margins only at its top and bottom.
    top = CHART_MARGIN if first == 0 else 4
    bottom = CHART_MARGIN if is_last else 0
    rows, lengths = rows[first:end], lengths[first:end]
    height = top + len(rows) * BAR_ROW + (22 if skipped else 4 if is_last else 0) + bottom
    svg = Svg(width, height, label)
    svg.add(None, "path", d=f"M{x0} {top - 4}V{top + len(rows) * BAR_ROW + 4}",
            stroke=RULE, stroke_width="1", fill="none")
    for i, ((row, info), length) in enumerate(zip(rows, lengths)):
        y = top + i * BAR_ROW
        middle = y + Fraction(BAR_ROW, 2)
        baseline = middle + 4
        value = f"{thousands(info.params)} · {row.share}" if row.share else thousands(info.params)
        g = svg.group(None, title=f"{row.name}: {thousands(info.params)} parameters"
                                  f"{', ' + row.share + ' of the total' if row.share else ''}",
                      class_="bar")
        svg.text(g, x0 - 8, baseline, row.name, size=LABEL_SIZE - 0.5, bold=True, anchor="end",
                 max_width=name_w - 8)
        svg.add(g, "rect", x=x0, y=middle - Fraction(BAR_H, 2), width=length, height=BAR_H,
                fill=BAR_FILL, data_count=str(int(info.params)))
        svg.text(g, x0 + length + 6, baseline, value, size=VALUE_SIZE, fill=INK)
    if skipped:
        svg.text(None, x0, top + len(rows) * BAR_ROW + 18,
                 f"{skipped} layer{'s' if skipped != 1 else ''} without parameters "
                 f"{'are' if skipped != 1 else 'is'} not shown.", size=SMALL, fill=MUTED,
                 italic=True)
    return svg.markup()


CHART_ROWS_PER_PART = 4


def parameter_chart_parts(report, rows_per_part: int = CHART_ROWS_PER_PART) -> list[str]:
    """The chart cut into SVGs of a few bars each, for paged media: a page may break
    between them, so a long chart never leaves the page before it half empty.
    A short chart (up to twice ``rows_per_part`` bars) stays one picture."""
    rows = chart_rows(report)
    exact = all(getattr(info.params, "is_Integer", False) for _, info in rows)
    if not rows or not exact or len(rows) <= 2 * rows_per_part:
        return [parameter_chart_svg(report)]
    return [parameter_chart_svg(report, (first, first + rows_per_part))
            for first in range(0, len(rows), rows_per_part)]


def _message_svg(width, label, lines, entries, name_w: int = 120) -> str:
    """A figure that states something in words: used when no bars can be drawn."""
    height = CHART_MARGIN + len(lines) * 18 + (8 + len(entries) * 18 if entries else 0) \
        + CHART_MARGIN
    svg = Svg(width, height, label)
    y = CHART_MARGIN + 12
    for i, line in enumerate(lines):
        svg.text(None, CHART_MARGIN, y, line, size=12 if i == 0 else SMALL,
                 bold=i == 0, fill=INK if i == 0 else MUTED,
                 max_width=width - 2 * CHART_MARGIN)
        y += 18
    y += 8
    x0 = CHART_MARGIN + name_w
    for name, count in entries:
        g = svg.group(None, title=f"{name}: {count} parameters", class_="symbolic")
        svg.text(g, x0 - 8, y, name, size=LABEL_SIZE - 0.5, bold=True, anchor="end",
                 max_width=name_w - 8)
        svg.text(g, x0, y, count, size=VALUE_SIZE, max_width=width - x0 - CHART_MARGIN)
        y += 18
    return svg.markup()


# ------------------------------------------------------------------ wiring

FIGURES = {"diagram": architecture_svg, "chart": parameter_chart_svg}


def attach(report) -> dict:
    """Fill ``report.figures`` with the SVG markup of every figure not there yet.

    ``diagram_parts`` holds the diagram cut into page-sized SVGs when it has
    more rows than fit a page (a single part otherwise), for the PDF;
    ``chart_parts`` the chart cut into a few bars each, so a page may break inside it.
    """
    for key, build in FIGURES.items():
        if key not in report.figures:
            report.figures[key] = Markup(build(report))
    if "diagram_parts" not in report.figures:
        parts = architecture_parts(report)
        report.figures["diagram_parts"] = (
            [report.figures["diagram"]] if len(parts) == 1 else [Markup(p) for p in parts])
    if "chart_parts" not in report.figures:
        parts = parameter_chart_parts(report)
        report.figures["chart_parts"] = (
            [report.figures["chart"]] if len(parts) == 1 else [Markup(p) for p in parts])
    return report.figures


def figure_files(report, stem: str) -> dict[str, tuple[str, str]]:
    """Figure → (file name, SVG document) for formats that link figures as files.

    The file names are ``<stem>-diagram.svg`` and ``<stem>-chart.svg`` next to
    the report; ``stem`` is :func:`~symparams.render.report.output_stem`.
    """
    header = '<?xml version="1.0" encoding="UTF-8"?>\n'
    return {key: (f"{stem}-{key}.svg", header + build(report) + "\n")
            for key, build in FIGURES.items()}
