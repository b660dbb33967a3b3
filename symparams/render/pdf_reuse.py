"""Draw each distinct formula once in the PDF, however often it appears.

Why: a report of a deep network places the same few formulas hundreds of
times (each step's formula again in the summary table, the repeated
substitutions, the operators of the long total).  Left to itself WeasyPrint
parses and draws every inline SVG where it stands, so the PDF repeats each
drawing and most of the rendering time goes into glyph paths already drawn.
Here, after layout and before the PDF is written, the boxes of one formula
(same ``data-math`` key, see :func:`symparams.render.mathsvg.typeset`) share
one PDF form XObject, and each glyph shape's PDF operators are made once
(:func:`shape_operators`).

How it falls back: this leans on WeasyPrint internals (``Page._page_box``,
boxes' ``replacement`` images, the PDF stream's ``add_group``/``draw_x_object``).
If the pages do not look as expected, :func:`share_drawings` changes nothing
and returns 0; if drawing a shared form fails, that formula is drawn by
WeasyPrint itself from then on.  Either way the PDF shows the same formulas,
only larger and slower to make.
"""
from __future__ import annotations

import functools

from .mathsvg import PATH_TOKEN, Typeset


# ------------------------------------------------------- glyphs as PDF operators

def _number(value: float, decimals: int = 2) -> bytes:
    text = f"{value:.{decimals}f}".rstrip("0").rstrip(".")
    return b"0" if text in ("", "-0") else text.encode()


@functools.lru_cache(maxsize=8192)
def shape_operators(outline: str) -> bytes:
    """PDF path operators that fill an outline from
    :func:`~symparams.render.mathsvg.compact_path`.

    >>> shape_operators("m0 0h10v5q0 5-5 5z")
    b'0 0 m 10 0 l 10 5 l 10 8.33 8.33 10 5 10 c h f'
    """
    tokens = PATH_TOKEN.findall(outline)
    ops: list[bytes] = []
    x = y = sx = sy = 0.0
    i = 0
    while i < len(tokens):
        letter = tokens[i]
        values = []
        i += 1
        while i < len(tokens) and not tokens[i].isalpha():
            values.append(float(tokens[i]))
            i += 1
        if letter == "m":
            x, y = x + values[0], y + values[1]
            sx, sy = x, y
            ops.append(b"%s %s m" % (_number(x), _number(y)))
        elif letter in "lhv":
            if letter == "l":
                x, y = x + values[0], y + values[1]
            elif letter == "h":
                x += values[0]
            else:
                y += values[0]
            ops.append(b"%s %s l" % (_number(x), _number(y)))
        elif letter == "q":
            cx, cy, ex, ey = x + values[0], y + values[1], x + values[2], y + values[3]
            points = (x + 2 / 3 * (cx - x), y + 2 / 3 * (cy - y),
                      ex + 2 / 3 * (cx - ex), ey + 2 / 3 * (cy - ey), ex, ey)
            ops.append(b" ".join(map(_number, points)) + b" c")
            x, y = ex, ey
        elif letter == "c":
            points = [v + (x, y)[k % 2] for k, v in enumerate(values)]
            ops.append(b" ".join(map(_number, points)) + b" c")
            x, y = points[4], points[5]
        elif letter == "z":
            ops.append(b"h")
            x, y = sx, sy
        else:
            raise ValueError(f"unexpected path command {letter!r}")
    ops.append(b"f")
    return b" ".join(ops)


# --------------------------------------------------------- drawing each once

class _SharedDrawing:
    """The drawing of one formula, shared by every box that shows it.

    The first time the formula is drawn (per PDF resource dictionary) it goes
    into a PDF form XObject in the units of its viewBox; every box then places
    that form, scaled to the box: a formula that appears hundreds of times, at
    any size, is drawn once.  The form holds the glyphs' PDF operators
    (:func:`shape_operators`) when the formula is ``drawable``, else
    WeasyPrint's own drawing of the SVG.  Everything else is delegated to
    WeasyPrint's image object.  Should WeasyPrint's internals differ from what
    this expects, WeasyPrint draws every box as usual.
    """

    def __init__(self, image, formula: Typeset | None):
        self._image = image
        self._formula = formula
        self._forms: dict[int, str] = {}
        self._direct = formula is None

    def __getattr__(self, name):
        return getattr(self._image, name)

    def draw(self, stream, width, height, style):
        if not self._direct:
            try:
                self._place(stream, width, height, style)
                return
            except Exception:  # pragma: no cover - a WeasyPrint without these internals
                self._direct = True
        self._image.draw(stream, width, height, style)

    def _place(self, stream, width, height, style):
        formula = self._formula
        _, _, w, h = formula.view_box
        name = self._forms.get(id(stream._resources))
        if name is None:
            pad = w + h  # a form clips to its box; no glyph reaches this far
            form = stream.add_group(-pad, -pad, w + 2 * pad, h + 2 * pad)
            form.extra.pop("Group", None)  # a plain form, no transparency group
            if formula.drawable:
                form.stream.append(_formula_operators(formula))
            else:
                self._image.draw(form, w, h, style)
            name = self._forms[id(stream._resources)] = form.id
        # As WeasyPrint maps a viewBox: preserveAspectRatio="xMidYMid meet".
        scale = min(width / w, height / h)
        with stream.stacked():
            stream.transform(a=scale, d=scale, e=(width - w * scale) / 2,
                             f=(height - h * scale) / 2)
            stream.draw_x_object(name)


def _formula_operators(formula: Typeset) -> bytes:
    """PDF operators drawing a formula in a box of its viewBox's size (y down)."""
    x0, y0, _, _ = formula.view_box
    ops = [b"q 1 0 0 1 %s %s cm 0 g" % (_number(-x0), _number(-y0))]
    for x, y, shape in formula.glyphs:
        ops.append(b"q 1 0 0 1 %d %d cm %s Q" % (x, y, shape_operators(shape)))
    for x, y, w, h in formula.rects:
        ops.append(b"%s %s %s %s re f" % tuple(map(_number, (x, y, w, h))))
    ops.append(b"Q")
    return b"\n".join(ops)


def share_drawings(document, formulas: dict[str, Typeset] | None = None) -> int:
    """Let the boxes of identical formulas (same ``data-math``) share one drawing.

    Works on the laid-out pages (WeasyPrint's ``Page._page_box`` tree) before the
    PDF is written; returns the number of distinct formulas, or 0 if the pages
    do not look as expected (then every formula is drawn where it stands).
    """
    shared: dict[str, _SharedDrawing] = {}
    formulas = formulas or {}
    try:
        for page in document.pages:
            for box in page._page_box.descendants():
                element = getattr(box, "element", None)
                replacement = getattr(box, "replacement", None)
                if replacement is None or element is None:
                    continue
                key = element.get("data-math")
                if key:
                    if key not in shared:
                        shared[key] = _SharedDrawing(replacement, formulas.get(key))
                    box.replacement = shared[key]
    except AttributeError:  # pragma: no cover - a WeasyPrint with other internals
        return 0
    return len(shared)

