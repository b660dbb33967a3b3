"""Issue 8, section 4: no half-empty page before a table or figure that could have
split or moved.

Checked on the PDF itself with pypdf: on every page but the last, the text of the
page body (the running header and the page number left out) reaches at least
half way down.  The math is drawn as paths, not text, so the measure is on the
safe side: a page whose last line is an equation counts as emptier than it is.
"""
import re

import pypdf
import pytest

from symparams import load
from symparams.render.pdf import render
from symparams.render.report import build_report

MM = 72 / 25.4
TOP_MARGIN, BOTTOM_MARGIN = 15 * MM, 17 * MM   # print.css's @page margins


def body_fill(page) -> float:
    """How far down the page body its text reaches, from 0 (none) to 1 (the bottom)."""
    height = float(page.mediabox.height)
    top, bottom = height - TOP_MARGIN, BOTTOM_MARGIN
    lowest = []

    def visit(text, cm, tm, font, size):
        if not text.strip():
            return
        y = tm[4] * cm[1] + tm[5] * cm[3] + cm[5]
        if bottom < y < top:      # not the running header nor the page number
            lowest.append(y)

    page.extract_text(visitor_text=visit)
    if not lowest:
        return 0.0
    return (top - min(lowest)) / (top - bottom)


@pytest.fixture(scope="module", params=["lenet", "vgg16"])
def pdf_pages(request, tmp_path_factory):
    data = render(build_report(load(request.param)))
    path = tmp_path_factory.mktemp("pdf") / f"{request.param}.pdf"
    path.write_bytes(data)
    return request.param, pypdf.PdfReader(str(path)).pages


def test_no_page_but_the_last_is_half_empty(pdf_pages):
    name, pages = pdf_pages
    fills = [round(body_fill(page), 2) for page in pages]
    assert len(fills) > 1
    assert all(fill >= 0.5 for fill in fills[:-1]), (name, fills)


def test_step_numbers_in_the_pdf_are_the_table_index(pdf_pages):
    name, pages = pdf_pages
    # WeasyPrint ignores <ol start> and <li value>: the list counter itself starts
    # at 0, so the markers run 0, 1, 2 … like the summary table's index.
    markers = [int(m) for page in pages
               for m in re.findall(r"^(\d+)\. ?$", page.extract_text(), re.M)]
    assert markers == list(range(len(load(name).layers)))
