"""Writing the figures' SVG: a small ElementTree builder and text metrics.

:class:`Svg` builds an SVG document with :mod:`xml.etree.ElementTree`, so every
piece of text from a spec is escaped by the XML writer and nothing is pasted
into markup by hand; :func:`clean_text` keeps only characters XML can carry,
and :func:`fmt` writes coordinates exactly (integers as such, anything else
rounded half up to 0.01), so the same figure always gives the same bytes.
:func:`text_width` and :func:`fit_text` estimate how wide a label is in
DejaVu Sans, since no font is measured.  The figures themselves are drawn in
:mod:`symparams.render.figures`.
"""
from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from fractions import Fraction

SVG_NS = "http://www.w3.org/2000/svg"
FONT = "DejaVu Sans, Verdana, Arial, Helvetica, sans-serif"
INK = "#1d2330"
MUTED = "#5b6472"


# Characters XML 1.0 cannot carry; they are replaced, never written raw.
_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def clean_text(value) -> str:
    """Text from a spec as one line that XML can carry (escaping is ElementTree's job)."""
    return " ".join(_XML_INVALID.sub("\ufffd", str(value)).split())


def fmt(value) -> str:
    """A coordinate: integers as such, anything else rounded half up to 0.01."""
    if isinstance(value, float):
        value = Fraction(value).limit_denominator(10 ** 6)
    value = Fraction(value)
    if value.denominator == 1:
        return str(value.numerator)
    hundredths = (value * 200 + 1) // 2  # half up
    whole, frac = divmod(int(hundredths), 100)
    return f"{whole}.{frac:02d}".rstrip("0").rstrip(".")


def _width_factor(char: str) -> float:
    """Rough advance width of a DejaVu Sans character in em (errs on the wide side)."""
    if char == " " or char in ".,:;'|!·":
        return 0.34
    if char.isdigit():
        return 0.64
    if char in "×%MWmw@—…":
        return 0.98
    if char.isupper():
        return 0.76
    if char in "il":
        return 0.3
    if char.isascii():
        return 0.62
    return 0.85


def text_width(text: str, size: float, bold: bool = False) -> float:
    """Estimated width of ``text`` in user units at font size ``size``."""
    return sum(_width_factor(c) for c in text) * size * (1.1 if bold else 1.0)


def fit_text(text: str, size: float, max_width: float, bold: bool = False) -> str:
    """``text`` cut with an ellipsis so that it fits ``max_width``."""
    if text_width(text, size, bold) <= max_width:
        return text
    limit = max_width - text_width("…", size, bold)
    kept = ""
    for char in text:
        if text_width(kept + char, size, bold) > limit:
            break
        kept += char
    return kept.rstrip() + "…"


class Svg:
    """A small builder around ElementTree with formatted coordinates."""

    def __init__(self, width, height, label: str):
        self.root = ET.Element("svg", {
            "xmlns": SVG_NS, "width": fmt(width), "height": fmt(height),
            "viewBox": f"0 0 {fmt(width)} {fmt(height)}", "role": "img",
            "aria-label": clean_text(label), "font-family": FONT, "font-size": "11",
            "fill": INK})
        ET.SubElement(self.root, "title").text = clean_text(label)

    @staticmethod
    def _attrs(values: dict) -> dict[str, str]:
        out = {}
        for key, value in values.items():
            if value is None:
                continue
            key = key.rstrip("_").replace("_", "-")
            out[key] = value if isinstance(value, str) else fmt(value)
        return out

    def add(self, parent, tag: str, text: str | None = None, **attrs):
        node = ET.SubElement(self.root if parent is None else parent, tag, self._attrs(attrs))
        if text is not None:
            node.text = clean_text(text)
        return node

    def group(self, parent=None, title: str | None = None, **attrs):
        node = self.add(parent, "g", **attrs)
        if title:
            self.add(node, "title", title)
        return node

    def text(self, parent, x, y, text: str, *, size=11, bold=False, anchor="start",
             fill=None, max_width=None, italic=False):
        shown = clean_text(text)
        if max_width is not None:
            shown = fit_text(shown, size, max_width, bold)
        return self.add(parent, "text", shown, x=x, y=y, font_size=size,
                        font_weight="bold" if bold else None,
                        font_style="italic" if italic else None,
                        text_anchor=None if anchor == "start" else anchor, fill=fill)

    def arrow_head(self, parent, x, y, direction: str = "right", size=6, fill=MUTED):
        """A filled triangle whose tip is at (x, y)."""
        half = Fraction(size, 2) if isinstance(size, int) else size / 2
        if direction == "right":
            points = [(x, y), (x - size, y - half), (x - size, y + half)]
        elif direction == "down":
            points = [(x, y), (x - half, y - size), (x + half, y - size)]
        else:
            raise ValueError(direction)
        self.add(parent, "polygon", points=" ".join(f"{fmt(a)},{fmt(b)}" for a, b in points),
                 fill=fill)

    def markup(self) -> str:
        ET.indent(self.root, space="", level=0)
        return ET.tostring(self.root, encoding="unicode", short_empty_elements=True)
