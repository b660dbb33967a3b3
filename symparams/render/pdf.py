"""PDF reports: the HTML templates laid out by WeasyPrint, every formula drawn by ziamath.

The page is the HTML report rendered with ``medium="print"`` (so ``print.css``
applies) and with math filters that return inline SVG instead of MathML:
ziamath typesets each LaTeX face from :mod:`symparams.printing` into glyph
outlines (``<path>`` elements, never ``<text>``), so every formula in the PDF is
vector graphics and no LaTeX source can reach the page.

Speed, for networks with hundreds of layers:

* Typesetting is cached by LaTeX string (:func:`typeset`): the substituted
  faces and results repeat, and the summary table repeats each step's formula.
* Glyph outlines are refitted with fewer curves and written compactly
  (:func:`compact_path`), since WeasyPrint's time goes into parsing paths.
* After layout, the boxes of one formula share one drawing (:func:`share_drawings`):
  it is written once into the PDF as a form XObject and placed wherever the
  formula appears, with the glyphs' PDF operators made once per glyph shape.

Long equations (the total of a deep network) are cut at their top-level ``+``,
``−`` and ``=`` (and a term wider than a line at its ``×``) into pieces the line
breaker may wrap; an equation too long for one line puts each of its faces on a
line of its own, as in a worked solution on paper.

Only files shipped in symparams' own templates folder may be loaded while the
PDF is laid out (:class:`PackagedOnlyFetcher`).  The output is reproducible:
fixed metadata, no dates, no random identifiers.
"""
from __future__ import annotations

import functools
import hashlib
import logging
import mimetypes
import re
import threading
import warnings
import xml.etree.ElementTree as ET
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit
from urllib.request import url2pathname

from markupsafe import Markup

from .. import __version__
from ..errors import SymparamsError
from ..printing import latex_plain
from ..steps import Step
from .html import render_page
from .report import Report, packaged_templates

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


_PATH_TOKEN = re.compile(r"[A-Za-z]|-?\d+(?:\.\d*)?")
_OUTLINE = re.compile(r"m[-\d ]*(?:[lhvqcmz][-\d ]*)*")  # what compact_path writes


def _glyph(d: str) -> tuple[int, int, str]:
    """One glyph as ziafont draws it (absolute ``M``/``L``/``Q``/``Z``) →
    ``(x, y, outline relative to (x, y))``.

    The outline relative to its first point is the same wherever the glyph
    stands, so it is compacted once per glyph shape.
    """
    tokens = _PATH_TOKEN.findall(d)
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
    tokens = _PATH_TOKEN.findall(d)
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


def _number(value: float, decimals: int = 2) -> bytes:
    text = f"{value:.{decimals}f}".rstrip("0").rstrip(".")
    return b"0" if text in ("", "-0") else text.encode()


@functools.lru_cache(maxsize=8192)
def shape_operators(outline: str) -> bytes:
    """PDF path operators that fill an outline from :func:`compact_path`.

    >>> shape_operators("m0 0h10v5q0 5-5 5z")
    b'0 0 m 10 0 l 10 5 l 10 8.33 8.33 10 5 10 c h f'
    """
    tokens = _PATH_TOKEN.findall(outline)
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


# ---------------------------------------------------------------- the filters

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


# ------------------------------------------------------------- loading files

class PackagedOnlyFetcher:
    """WeasyPrint's URL fetcher for reports: only our own packaged template files.

    Every URL the layout asks for is recorded in ``asked``.  ``file:`` URLs of
    files inside :func:`symparams.render.report.packaged_templates` (after
    resolving symlinks) and self-contained ``data:`` URLs are served; anything
    else (``http``, ``https``, ``ftp``, any other local file) is refused, recorded
    in ``refused`` and stops the rendering.

    A refusal fails the whole PDF with a :class:`SymparamsError` rather than
    leaving the resource out: a user template that links a stylesheet or an
    image would otherwise give a PDF that silently differs from what the
    template asks for, and nothing a template says may make the report read
    local files or reach the network.  Put what a template needs inline
    (``<style>``, ``data:`` URLs) instead.
    """

    def __init__(self, root: Path | None = None):
        self.root = Path(root or packaged_templates()).resolve()
        self.asked: list[str] = []
        self.refused: list[str] = []

    def packaged_file(self, url: str) -> Path | None:
        """The file a ``file:`` URL names, if it lies inside our templates folder."""
        parts = urlsplit(url)
        if parts.scheme.lower() != "file" or parts.netloc not in ("", "localhost"):
            return None
        path = Path(url2pathname(unquote(parts.path))).resolve()
        if path.is_relative_to(self.root) and path.is_file():
            return path
        return None

    def open(self, url: str) -> tuple[bytes, str] | None:
        """``(content, mime type)`` of an allowed file, ``None`` for a ``data:`` URL;
        raises :class:`PermissionError` for anything else."""
        self.asked.append(url)
        if url[:5].lower() == "data:":
            return None
        path = self.packaged_file(url)
        if path is None:
            self.refused.append(url)
            raise PermissionError(f"symparams reports may not load {url}")
        return path.read_bytes(), mimetypes.guess_type(path.name)[0] or "application/octet-stream"

    def for_weasyprint(self):
        """The object to pass as WeasyPrint's ``url_fetcher`` (WeasyPrint 70's API)."""
        from weasyprint.urls import URLFetcher, URLFetcherResponse
        owner = self

        class Fetcher(URLFetcher):
            def __init__(self):
                # fail_on_errors: a refused URL stops the layout at once.
                super().__init__(fail_on_errors=True, allowed_protocols=("data",))

            def fetch(self, url, headers=None):
                served = owner.open(url)
                if served is None:  # a data: URL, decoded by urllib without any I/O
                    return super().fetch(url, headers)
                content, mime = served
                return URLFetcherResponse(url, content, {"Content-Type": mime})

        return Fetcher()


class _ErrorLog(logging.Handler):
    """The errors WeasyPrint logs in this thread: resources it could not use,
    SVG it could not read."""

    def __init__(self):
        super().__init__(logging.ERROR)
        self.thread = threading.get_ident()
        self.messages: list[str] = []

    def emit(self, record):
        if record.thread == self.thread:
            self.messages.append(" ".join(record.getMessage().split()))


@contextmanager
def _weasyprint_errors():
    handler = _ErrorLog()
    logger = logging.getLogger("weasyprint")
    logger.addHandler(handler)
    try:
        yield handler.messages
    finally:
        logger.removeHandler(handler)


# ------------------------------------------------------------------ rendering

def render_html(report: Report, templates=None, math: PrintMath | None = None) -> str:
    """The print page with SVG math, as WeasyPrint receives it."""
    math = math or PrintMath()
    return render_page(report, templates, medium="print", math=math.math, expr=math.expr,
                       face=math.face)


def render(report: Report, templates=None) -> bytes:
    """The report as PDF bytes; the same report always gives the same bytes.

    Raises :class:`SymparamsError` when a template asks for anything outside
    symparams' own templates folder, or when WeasyPrint reports an error (an
    image or stylesheet it could not load, an SVG it could not read): the PDF
    is then not made at all, rather than made without it.
    """
    try:
        import weasyprint
        from weasyprint.urls import FatalURLFetchingError, URLFetcher  # noqa: F401
    except ImportError as exc:  # pragma: no cover - weasyprint is a dependency
        raise SymparamsError(f"the PDF format needs WeasyPrint 70 or newer ({exc})",
                             field="--format") from None
    math = PrintMath()
    page = render_html(report, templates, math)
    fetcher = PackagedOnlyFetcher()
    where = str(templates) if templates is not None else "templates"
    pdf = None
    with _weasyprint_errors() as errors:
        try:
            document = weasyprint.HTML(string=page, base_url=None,
                                       url_fetcher=fetcher.for_weasyprint()).render()
            share_drawings(document, math.formulas)
            _fix_metadata(document, report)
            pdf = document.write_pdf(pdf_identifier=True, finisher=_drop_dates)
        except FatalURLFetchingError:
            pass
    if fetcher.refused:
        raise SymparamsError(f"the PDF may only use files shipped with symparams; a template "
                             f"asks for {fetcher.refused[0]}", file=where)
    if errors or pdf is None:
        raise SymparamsError(f"PDF layout failed: {errors[0] if errors else 'unknown error'}",
                             file=where)
    return pdf


def _fix_metadata(document, report: Report) -> None:
    """Metadata from the report alone: title, description, generator; no dates."""
    meta = document.metadata
    meta.title = f"Parameters of {report.title}"
    meta.description = report.description or None
    meta.generator = f"symparams {__version__}"
    meta.authors, meta.keywords = [], []
    meta.created = meta.modified = None
    meta.custom = {}


def _drop_dates(document, pdf) -> None:
    """WeasyPrint's finisher hook: no creation or modification date, whatever the page says."""
    for key in ("CreationDate", "ModDate"):
        pdf.info.pop(key, None)
