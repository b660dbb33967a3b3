"""The LaTeX report's figures, drawn with the built-in ``picture`` environment.

An architecture diagram (:func:`diagram`) and a bar chart of parameters per
layer (:func:`chart`), computed here to the hundredth of a unit so that the
file needs only texlive-latex-base and texlive-latex-recommended; the
templates only place the ready pictures.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction

from ..steps import Step
from .common import Raw, thousands
from .latex_escape import escape
from .latex_math import math_width, shape_latex, step_number
from .report import Report


def _num(value: float) -> str:
    """A picture coordinate: at most two decimals, no trailing zeros."""
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


# ---------------------------------------------------------------- diagram

# Picture coordinates are in hundredths of the line width (\unitlength = 0.01\linewidth).
_FILL = {"conv": "spconv", "pool": "sppool", "dense": "spdense"}


def _fill(kind: str, has_params: bool) -> str | None:
    for key, colour in _FILL.items():
        if key in kind:
            return colour
    return "spother" if has_params else None


def _label_units(latex: str) -> float:
    """Estimated width of a block's shape label (\\scriptsize, text style) in picture units."""
    # 1 em of the 11pt body font is 2.42 units of 0.01\linewidth; \scriptsize is 8pt and
    # text style sets fractions smaller than display style.
    return math_width(latex) * 0.85 * 8 / 11 * 2.42


def _shape_lines(step: Step, avail: float) -> list[str]:
    """The shape as one line when it fits the block, else one line per axis."""
    whole = shape_latex(step.output_shape)
    if _label_units(whole) <= avail or len(step.output_shape) < 2:
        return [whole]
    parts = whole.split(" \\times ")
    if len(parts) != len(step.output_shape):
        return [whole]
    return [parts[0]] + [f"{{}}\\times {p}" for p in parts[1:]]


def _block_width(per_row: int, gap: float, edge: float) -> float:
    return (100.0 - 2 * edge - (per_row - 1) * gap) / per_row


def diagram(report: Report, per_row: int | None = None) -> list[Raw]:
    """The architecture: one block per layer with its name and output shape,
    left to right in rows; one ``picture`` per row so long networks break
    across pages.  Shaded blocks have learnable parameters.

    Rows hold 8 blocks (10 for long networks), fewer when shapes are long
    expressions; a shape that would still have to shrink below 60 % is
    replaced by a pointer to its step.
    """
    steps = report.steps
    count = len(steps)
    gap, edge = 2.4, 2.0
    if per_row is None:
        per_row = min(count, 10 if count > 16 else 8)
        while per_row > 4:
            avail = _block_width(per_row, gap, edge) - 0.8
            if all(_label_units(line) <= avail / 0.8
                   for step in steps for line in _shape_lines(step, avail)):
                break
            per_row -= 1
    block = _block_width(per_row, gap, edge)
    avail = block - 0.8
    rows = [steps[i:i + per_row] for i in range(0, count, per_row)]
    # A layer fed from elsewhere (inputs:) gets no arrow from the block before it
    # but a line naming its inputs; within a row, a bracket arrow over the blocks.
    infos = list(report.net.layers)
    names = [info.name for info in infos]
    # chained: the block before is among the layer's inputs (the arrow between them).
    chained = [not i or names[i - 1] in getattr(info, "sources", (names[i - 1],))
               for i, info in enumerate(infos)]
    labelled = [getattr(info, "takes_previous", True) for info in infos]
    pictures = []
    for r, row in enumerate(rows):
        labels = []
        for step in row:
            lines = _shape_lines(step, avail)
            if any(_label_units(line) > avail / 0.6 for line in lines):
                labels.append([r"\text{see step %d}" % step_number(step)])
            else:
                labels.append(lines)
        # a line with fractions stands taller than one with plain numbers
        height = 6.0 + max(sum(4.0 if "\\frac" in line else 2.6 for line in label)
                           for label in labels)
        if any(not labelled[r * per_row + c] for c in range(len(row))):
            height += 2.6   # room for the "← inputs" line
        skips = _row_skips(infos, r * per_row, len(row))
        lane = 2.2
        parts = [r"\begin{picture}(100,%s)" % _num(height + 1 + lane * len(skips))]
        for number, (start, end) in enumerate(skips, start=1):
            top = height + 0.5 + lane * number
            x0 = edge + start * (block + gap) + block / 2
            x1 = edge + end * (block + gap) + block / 2
            parts.append(r"\put(%s,%s){\line(0,1){%s}}" % (_num(x0), _num(height + 0.5),
                                                           _num(lane * number)))
            parts.append(r"\put(%s,%s){\line(1,0){%s}}" % (_num(x0), _num(top), _num(x1 - x0)))
            parts.append(r"\put(%s,%s){\vector(0,-1){%s}}" % (_num(x1), _num(top),
                                                              _num(lane * number)))
        if r and chained[r * per_row]:
            parts.append(r"\put(0,%s){\vector(1,0){%s}}" % (_num(height / 2 + 0.5), _num(edge)))
        for c, (step, label) in enumerate(zip(row, labels)):
            x = edge + c * (block + gap)
            y = 0.5
            colour = _fill(step.kind, step.has_formula)
            if colour:
                parts.append(r"\put(%s,%s){\textcolor{%s}{\rule{%s\unitlength}{%s\unitlength}}}"
                             % (_num(x), _num(y), colour, _num(block), _num(height)))
            parts.append(r"\put(%s,%s){\framebox(%s,%s){}}"
                         % (_num(x), _num(y), _num(block), _num(height)))
            shape = r"\\".join(r"\spfit{%s\unitlength}{\scriptsize$%s$}" % (_num(avail), line)
                                for line in label)
            info = infos[r * per_row + c]
            if not labelled[r * per_row + c]:
                shape += r"\\\spfit{%s\unitlength}{\scriptsize $\leftarrow$ %s}" % (
                    _num(avail), escape(", ".join(info.sources)))
            text = (r"\shortstack{\spfit{%s\unitlength}{\footnotesize\bfseries %s}\\[2pt]%s}"
                    % (_num(avail), escape(step.name), shape))
            parts.append(r"\put(%s,%s){\makebox(%s,%s){%s}}"
                         % (_num(x), _num(y), _num(block), _num(height), text))
            last = c == len(row) - 1
            following = r * per_row + c + 1
            if (not last or r < len(rows) - 1) and following < len(chained) \
                    and chained[following]:
                parts.append(r"\put(%s,%s){\vector(1,0){%s}}"
                             % (_num(x + block), _num(y + height / 2),
                                _num(edge if last else gap)))
        parts.append(r"\end{picture}")
        pictures.append(Raw("\n".join(parts)))
    return pictures


def _row_skips(infos: list, first: int, length: int) -> list[tuple[int, int]]:
    """(from, to) columns of the skips inside one row: a layer taking an earlier
    layer of the same row that is not the one just before it."""
    position = {info.name: i for i, info in enumerate(infos)}
    skips = []
    for column in range(length):
        info = infos[first + column]
        for name in getattr(info, "sources", ()):
            at = position[name] - first
            if 0 <= at < column - 1:
                skips.append((at, column))
    return skips


# -------------------------------------------------------------- bar chart

@dataclass
class Chart:
    """The bar chart's pictures and what it leaves out."""
    pictures: list[Raw] = field(default_factory=list)
    omitted: list[str] = field(default_factory=list)   # layers whose count is an expression


def chart(report: Report, chunk: int = 12) -> Chart:
    """A horizontal bar per layer, proportional to its parameters, with the
    count and its share of the total; counts that are expressions get no bar."""
    rows = [row for row in report.rows if row.index > 0]
    exact = [row for row in rows if row.step.is_exact]
    omitted = [row.name for row in rows if not row.step.is_exact]
    result = Chart(omitted=omitted)
    largest = max((int(row.step.result) for row in exact), default=0)
    if largest == 0:
        return result
    label_w, bar_x, bar_max = 17.0, 19.0, 58.0
    row_h, bar_h = 3.4, 2.0
    for start in range(0, len(exact), chunk):
        part = exact[start:start + chunk]
        height = row_h * len(part)
        lines = [r"\begin{picture}(100,%s)" % _num(height)]
        lines.append(r"\put(%s,0){\line(0,1){%s}}" % (_num(bar_x), _num(height)))
        for k, row in enumerate(part):
            y = height - (k + 1) * row_h
            value = int(row.step.result)
            length = float(Fraction(value, largest)) * bar_max
            lines.append(r"\put(0,%s){\makebox(%s,%s)[r]{\spfit{%s\unitlength}{\small %s}}}"
                         % (_num(y), _num(label_w), _num(row_h), _num(label_w), escape(row.name)))
            if length > 0:
                lines.append(r"\put(%s,%s){\textcolor{spbar}{\rule{%s\unitlength}{%s\unitlength}}}"
                             % (_num(bar_x), _num(y + (row_h - bar_h) / 2), _num(length),
                                _num(bar_h)))
            label = thousands(row.step.result) + (f" ({row.share})" if row.share else "")
            lines.append(r"\put(%s,%s){\makebox(0,%s)[l]{\small %s}}"
                         % (_num(bar_x + length + 1), _num(y), _num(row_h), escape(label)))
        lines.append(r"\end{picture}")
        result.pictures.append(Raw("\n".join(lines)))
    return result

