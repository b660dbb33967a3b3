"""Formulas as inline SVG for the PDF report: ziamath typesets, then we trim.

The PDF's math filters (:class:`PrintMath`) return inline SVG instead of
MathML: ziamath typesets each LaTeX face from :mod:`symparams.printing` into
glyph outlines (``<path>`` elements, never ``<text>``), so every formula in
the PDF is vector graphics and no LaTeX source can reach the page.

* Typesetting is cached by LaTeX string (:func:`typeset`): the substituted
  faces and results repeat, and the summary table repeats each step's formula.
  The MathML is patched first (``×`` spaced as TeX does, one-child rows
  dropped, see :func:`_flatten`).
* Glyph outlines are refitted with fewer curves and written compactly
  (:func:`compact_path`), since WeasyPrint's time goes into parsing paths.
  :mod:`symparams.render.pdf_reuse` turns these outlines into PDF operators.
* Long equations (the total of a deep network) are cut at their top-level
  ``+``, ``−`` and ``=`` (and a term wider than a line at its ``×``) into
  pieces the line breaker may wrap (:func:`split_top`,
  :meth:`PrintMath.pieces`); an equation too long for one line puts each of
  its faces on a line of its own, as in a worked solution on paper.
"""
from __future__ import annotations

import functools
import hashlib
import logging
import re
import threading
import warnings
import xml.etree.ElementTree as ET
from contextlib import contextmanager
from dataclasses import dataclass

from markupsafe import Markup

from ..errors import SymparamsError
from ..printing import latex_plain
from ..steps import Step

# ziamath draws at this many SVG units per em; coordinates are then rounded to
# whole units (compact_path).  The SVG is sized in em, so this only sets the
# resolution: 1/1000 em.
UNITS_PER_EM = 1000.0
PRECISION = 1  # ziafont strips trailing zeros, so whole numbers need one decimal
MARGIN = 10.0  # units of blank around the ink, so no glyph touches the box edge
# Glyph outlines are refitted with at most this error (units) as fewer, cubic curves.
CURVE_TOLERANCE = 1.0
# Faces longer than this many LaTeX characters are cut at their top-level + and −,
# so that a line may break there.
SPLIT_CHARS = 80
# An equation wider than this (em of its own font size) puts each face on a line.
LINE_EM = 34.0
# TeX sets × as a binary operator (a medium space on both sides); ziamath's
# MathML operator dictionary gives it only a very thin space.
_TIMES = re.compile(r"<mo>(?:&#x000D7;|×)</mo>")
_TIMES_SPACED = '<mo lspace="0.2222em" rspace="0.2222em">&#x000D7;</mo>'
# A count's thousands separator, ``62{,}958``: TeX sets the braced comma as an ordinary
# symbol, but the MathML converter makes it a punctuation operator with a space after
# it ("62, 958"), so the digit groups are joined back into one number.
_GROUPED = re.compile(r"<mn>(\d[\d,]*)</mn><mrow><mo>(?:&#x0002C;|,)</mo></mrow><mn>(\d{3})</mn>")
_OPERATORS = {"+": "{} + {}", "-": "{} - {}", "=": "{} = {}", r"\times": r"{} \times {}"}
_SVG_NS = "{http://www.w3.org/2000/svg}"
_MATHML_NS = "{http://www.w3.org/1998/Math/MathML}"
_TYPESET_LOCK = threading.RLock()


# ------------------------------------------------------------------ typesetting

@dataclass(frozen=True)
class Typeset:
    """One formula as inline SVG, with what the PDF needs to draw it itself.

    ``svg`` carries ``data-math="<key>"``, a digest of the drawing.  ``glyphs``
    are ``(x, y, outline)`` with each outline relative to its own origin (see
    :func:`compact_path`), ``rects`` the rules (fraction bars) as
    ``(x, y, width, height)``, all in the units of ``view_box``.  ``drawable``
    is False when the SVG holds anything else; then WeasyPrint draws it.
    """
    svg: Markup
    width: float                      # em
    key: str
    view_box: tuple[float, float, float, float]
    glyphs: tuple[tuple[int, int, str], ...]
    rects: tuple[tuple[float, float, float, float], ...]
    drawable: bool


@contextmanager
def _ziamath_settings():
    """Plain SVG 1.1 paths (no ``<symbol>``/``<use>`` whose ids would clash in one
    HTML page) and whole-unit coordinates; ziamath's settings are restored after.

    ziafont logs through the root logger (``logging.debug``), which makes
    :mod:`logging` install a stderr handler on the root logger when it has none;
    from then on every library's warnings reach the terminal.  A placeholder
    handler while typesetting keeps the root logger as it was.
    """
    with warnings.catch_warnings():  # ziamath 0.13 uses a deprecated importlib call
        warnings.simplefilter("ignore", DeprecationWarning)
        import ziamath
    with _TYPESET_LOCK:
        saved = ziamath.config.svg2, ziamath.config.precision
        ziamath.config.svg2, ziamath.config.precision = False, PRECISION
        root = logging.getLogger()
        placeholder = logging.NullHandler() if not root.handlers else None
        if placeholder:
            root.addHandler(placeholder)
        try:
            yield ziamath
        finally:
            ziamath.config.svg2, ziamath.config.precision = saved
            if placeholder:
                root.removeHandler(placeholder)


def _em(units: float) -> str:
    """SVG units as a CSS length in em, e.g. ``-0.21em``."""
    text = f"{units / UNITS_PER_EM:.3f}".rstrip("0").rstrip(".")
    return ("0" if text in ("", "-0") else text) + "em"


def _flatten(mathml: str) -> ET.Element:
    """Drop the ``<mrow>`` wrappers that hold one child, and the row around it all.

    They change nothing on the page, but ziamath lays out every child of a row
    twice (once to measure the row for stretchy operators), at every level, so
    each wrapper doubles the work below it.
    """
    root = ET.fromstring(mathml)

    def unwrap(element: ET.Element) -> None:
        for i, child in enumerate(list(element)):
            unwrap(child)
            if child.tag == f"{_MATHML_NS}mrow" and len(child) == 1 and not child.attrib:
                element.remove(child)
                element.insert(i, child[0])

    unwrap(root)
    if len(root) == 1 and root[0].tag == f"{_MATHML_NS}mrow" and not root[0].attrib:
        row = root[0]
        root.remove(row)
        root.extend(list(row))
    return root


@functools.lru_cache(maxsize=16384)
def typeset(latex: str, display: bool = False) -> Typeset:
    """Typeset one LaTeX formula as an inline SVG, once per distinct string.

    The SVG is sized in em so that it scales with the text around it, and
    lowered by its depth so that the formula's baseline sits on the line's
    baseline.  Glyphs are outlines: the SVG has no text.
    """
    with _ziamath_settings() as ziamath:
        from ziamath.tex import tex2mml
        mathml = tex2mml(latex if latex.strip() else "{}", inline=not display)
        while _GROUPED.search(mathml):
            mathml = _GROUPED.sub(r"<mn>\1,\2</mn>", mathml)
        math = ziamath.Math(_flatten(_TIMES.sub(_TIMES_SPACED, mathml)), size=UNITS_PER_EM,
                            margin=MARGIN)
        svg = math.svgxml()
    box = math.node.bbox
    xmin, xmax = (box.xmin, box.xmax) if box.xmax >= box.xmin else (0, 0)  # empty formula
    ymin, ymax = (box.ymin, box.ymax) if box.ymax >= box.ymin else (0, 0)
    width, height = xmax - xmin + 2 * MARGIN, ymax - ymin + 2 * MARGIN
    depth = -ymin + MARGIN
    view_box = (xmin - MARGIN, -ymax - MARGIN, width, height)  # as ziamath's own
    glyphs, rects, others = [], [], []
    for child in list(svg):
        tag = child.tag.removeprefix(_SVG_NS)
        black = child.get("fill", "black") in ("black", "#000", "#000000")
        if tag == "path" and set(child.attrib) <= {"d", "fill"} and black:
            glyphs.append(_glyph(child.get("d")))
        elif tag == "rect" and set(child.attrib) <= {"x", "y", "width", "height", "fill"} \
                and black:
            rects.append(tuple(float(child.get(k, 0)) for k in ("x", "y", "width", "height")))
            others.append(child)
        else:
            others.append(child)
        svg.remove(child)
    svg.attrib.clear()
    svg.attrib.update({"xmlns": "http://www.w3.org/2000/svg", "class": "math",
                       "width": _em(width), "height": _em(height),
                       "viewBox": _svg_view_box(view_box), "aria-hidden": "true",
                       "style": f"vertical-align: {_em(-depth)}"})
    if glyphs:  # one <path> for all glyphs: the same drawing, far fewer nodes to lay out
        ET.SubElement(svg, "path", {"d": "".join(
            f"M{x} {y}{shape.removeprefix('m0 0')}" for x, y, shape in glyphs)})
    svg.extend(others)
    key = hashlib.sha256(ET.tostring(svg)).hexdigest()[:20]
    svg.set("data-math", key)
    markup = ET.tostring(svg, encoding="unicode")
    if "<text" in markup:  # pragma: no cover - ziamath always draws outlines
        raise AssertionError(f"ziamath left text in the SVG of {latex!r}")
    drawable = len(others) == len(rects) and all(_OUTLINE.fullmatch(shape)
                                                  for _, _, shape in glyphs)
    return Typeset(Markup(markup), width / UNITS_PER_EM, key, view_box, tuple(glyphs),
                   tuple(rects), drawable)


def _svg_view_box(box) -> str:
    return " ".join(f"{v:.1f}".rstrip("0").rstrip(".") for v in box)


# ---------------------------------------------------------------- glyph outlines

PATH_TOKEN = re.compile(r"[A-Za-z]|-?\d+(?:\.\d*)?")  # a command or a number
_OUTLINE = re.compile(r"m[-\d ]*(?:[lhvqcmz][-\d ]*)*")  # what compact_path writes


def _glyph(d: str) -> tuple[int, int, str]:
    """One glyph as ziafont draws it (absolute ``M``/``L``/``Q``/``Z``) →
    ``(x, y, outline relative to (x, y))``.

    The outline relative to its first point is the same wherever the glyph
    stands, so it is compacted once per glyph shape.
    """
    tokens = PATH_TOKEN.findall(d)
    if len(tokens) < 3 or tokens[0] != "M":
        return 0, 0, _compact_shape(d)
    x, y = round(float(tokens[1])), round(float(tokens[2]))
    shifted, axis = [], 0
    for token in tokens:
        if token.isalpha():
            shifted.append(token)
        else:
            shifted.append(str(round(float(token)) - (x, y)[axis]))
            axis = 1 - axis
    return x, y, _compact_shape(" ".join(shifted))


@functools.lru_cache(maxsize=8192)
def _compact_shape(d: str) -> str:
    return compact_path(d)


def compact_path(d: str, tolerance: float = CURVE_TOLERANCE) -> str:
    """The same outline in fewer, shorter commands.

    ziafont writes TrueType outlines as absolute ``M``/``L``/``Q``/``Z`` commands,
    one quadratic curve per segment.  Runs of quadratic curves are refitted as
    cubic curves within ``tolerance`` units (fontTools' qu2cu), points are
    rounded to whole units and written relative to the current point, and lines
    along an axis become ``h``/``v``: about a third of the points and half of the
    characters go.  A path with any other command is returned unchanged.

    >>> compact_path("M 0 0 L 0 0 L 10 0 L 10 5 Q 10 10 5 10 Z")
    'm0 0h10v5q0 5-5 5z'
    """
    try:
        from fontTools.qu2cu import quadratic_to_curves
    except ImportError:  # pragma: no cover - fontTools comes with WeasyPrint
        quadratic_to_curves = None
    tokens = PATH_TOKEN.findall(d)
    out: list[str] = []
    here = start = (0, 0)   # current point and start of the contour, in whole units
    quads: list[tuple] = []  # pending quadratic curves (start, control, end)

    def command(letter: str, points) -> None:
        """A relative command; every point of a segment is relative to its start."""
        nonlocal here
        text = letter
        for x, y in points:
            for value in (x - here[0], y - here[1]):
                text += str(value) if value < 0 or text[-1].isalpha() else f" {value}"
        out.append(text)
        here = points[-1]

    def flush() -> None:
        if not quads:
            return
        curves = quads if quadratic_to_curves is None or len(quads) == 1 \
            else quadratic_to_curves(quads, tolerance)
        for curve in curves:
            command("q" if len(curve) == 3 else "c",
                    [(round(x), round(y)) for x, y in curve[1:]])
        quads.clear()

    i = 0
    try:
        while i < len(tokens):
            letter = tokens[i]
            if letter in "ML":
                point = (round(float(tokens[i + 1])), round(float(tokens[i + 2])))
                i += 3
                flush()
                if letter == "M":
                    command("m", [point])
                    start = point
                elif point == here:
                    continue
                elif point[1] == here[1]:
                    out.append(f"h{point[0] - here[0]}")
                    here = point
                elif point[0] == here[0]:
                    out.append(f"v{point[1] - here[1]}")
                    here = point
                else:
                    command("l", [point])
            elif letter == "Q":
                control = (float(tokens[i + 1]), float(tokens[i + 2]))
                end = (float(tokens[i + 3]), float(tokens[i + 4]))
                quads.append((quads[-1][-1] if quads else here, control, end))
                i += 5
            elif letter in "Zz":
                flush()
                out.append("z")
                here, i = start, i + 1
            else:
                return d
    except (IndexError, ValueError):
        return d
    flush()
    return "".join(out)


# ---------------------------------------------- long equations; the filters

def split_top(latex: str, ops: tuple[str, ...] = ("+", "-")) -> list[tuple[str, str]]:
    """Cut LaTeX at the operators that are outside every bracket.

    Returns ``[(piece, operator after it), …]`` with ``""`` after the last.

    >>> split_top(r"(a + b) \\times c + \\left(\\frac{x + 1}{2}\\right) - d")
    [('(a + b) \\\\times c', '+'), ('\\\\left(\\\\frac{x + 1}{2}\\\\right)', '-'), ('d', '')]
    """
    pieces: list[tuple[str, str]] = []
    depth, start = 0, 0
    for match in _LATEX_TOKEN.finditer(latex):
        token = match.group()
        if token.startswith(r"\left") or token in _OPENING:
            depth += 1
        elif token.startswith(r"\right") or token in _CLOSING:
            depth -= 1
        elif depth == 0 and token in ops:
            piece = latex[start:match.start()].strip()
            if piece:  # not a leading sign
                pieces.append((piece, token))
                start = match.end()
    pieces.append((latex[start:].strip(), ""))
    return pieces


_LATEX_TOKEN = re.compile(r"\\left\\?.|\\right\\?.|\\[A-Za-z]+|\\.|.", re.S)
_OPENING = {"(", "[", "{", r"\{", r"\lfloor", r"\lceil"}
_CLOSING = {")", "]", "}", r"\}", r"\rfloor", r"\rceil"}


class PrintMath:
    """The math filters of one PDF: inline SVG from ziamath.

    ``step | math`` (display equation), ``step | face("formula")`` and
    ``expression | expr`` as :func:`symparams.render.html.environment` expects.
    Every formula placed is remembered in ``formulas`` (by its ``data-math``
    key) so that the PDF can draw it itself.
    """

    def __init__(self):
        self.formulas: dict[str, Typeset] = {}

    def typeset(self, latex: str, display: bool) -> Typeset:
        formula = typeset(latex, display)
        self.formulas[formula.key] = formula
        return formula

    # filters
    def math(self, step: Step) -> Markup:
        """Formula = substituted = result, with repeated faces left out."""
        return self.equation(step.latex.chain(), display=True)

    def face(self, step: Step, face: str) -> Markup:
        """One face of a step (its result when it has no formula)."""
        if face not in ("formula", "substituted", "result"):
            raise SymparamsError(f"unknown face {face!r} (expected formula, substituted or "
                                 f"result)", field="--templates")
        return self.expression(getattr(step.latex, face))

    def expr(self, value) -> Markup:
        """A plain (evaluated) expression, such as a letter or the total in letters."""
        return self.expression(latex_plain(value))

    # layout
    def pieces(self, face: str, display: bool) -> list[tuple[Typeset, str]]:
        """A face as typeset pieces, each with the operator that follows it: cut at
        its top-level + and − when long, and a term wider than a line also at its ×."""
        if len(face) <= SPLIT_CHARS:
            return [(self.typeset(face, display), "")]
        parts = []
        for piece, op in split_top(face):
            term = self.typeset(piece, display)
            factors = split_top(piece, (r"\times",)) if term.width > LINE_EM else []
            if len(factors) > 1:
                factors[-1] = (factors[-1][0], op)
                parts += [(self.typeset(factor, display), times) for factor, times in factors]
            else:
                parts.append((term, op))
        return parts

    def join(self, parts: list[tuple[Typeset, str]], display: bool) -> Markup:
        """Pieces followed by their operators; a line may break after an operator
        (at the zero-width space), never inside a piece."""
        html = []
        for piece, op in parts:
            if op:
                html.append(Markup('<span class="math-piece">{}{}</span>\u200b').format(
                    piece.svg, self.typeset(_OPERATORS[op], display).svg))
            else:
                html.append(piece.svg)
        return Markup("").join(html)

    def width(self, parts: list[tuple[Typeset, str]], display: bool) -> float:
        return sum(piece.width + (self.typeset(_OPERATORS[op], display).width if op else 0)
                   for piece, op in parts)

    def equation(self, faces: list[str], display: bool = True) -> Markup:
        """Faces joined by ``=``: on one line if it fits, else one line per face."""
        per_face = [self.pieces(face, display) for face in faces]
        chained: list[tuple[Typeset, str]] = []
        for parts in per_face:
            if chained:
                chained[-1] = (chained[-1][0], "=")
            chained.extend(parts)
        if self.width(chained, display) <= LINE_EM:
            return Markup('<span class="math-flow">{}</span>').format(self.join(chained, display))
        lines = []
        for i, parts in enumerate(per_face):
            lead = self.typeset(_OPERATORS["="], display).svg if i else Markup("")
            lines.append(Markup('<span class="math-line">{}{}</span>').format(
                lead, self.join(parts, display)))
        return Markup('<span class="math-lines">{}</span>').format(Markup("").join(lines))

    def expression(self, latex: str, display: bool = False) -> Markup:
        """One face; a long one may wrap after its top-level + and −."""
        return Markup('<span class="math-flow">{}</span>').format(
            self.join(self.pieces(latex, display), display))

