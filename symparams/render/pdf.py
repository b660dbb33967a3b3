"""PDF reports: the HTML templates laid out by WeasyPrint, every formula drawn by ziamath.

The page is the HTML report rendered with ``medium="print"`` (so ``print.css``
applies) and with math filters that return inline SVG instead of MathML
(:class:`~symparams.render.mathsvg.PrintMath`: typesetting, caching and line
breaking of long equations live in :mod:`symparams.render.mathsvg`).  After
layout, the boxes of one formula share one drawing
(:func:`~symparams.render.pdf_reuse.share_drawings`), so a formula that
appears hundreds of times is written into the PDF once.

Only files shipped in symparams' own templates folder may be loaded while the
PDF is laid out (:class:`PackagedOnlyFetcher`).  The output is reproducible:
fixed metadata, no dates, no random identifiers.
"""
from __future__ import annotations

import logging
import mimetypes
import threading
from contextlib import contextmanager
from typing import Any
from pathlib import Path
from urllib.parse import unquote, urlsplit
from urllib.request import url2pathname

from .. import __version__
from ..errors import SymparamsError
from .html import render_page
from .mathsvg import PrintMath
from .pdf_reuse import share_drawings
from .report import Report, packaged_templates

# Still importable from here, where they were before the math had modules of its
# own (the tests and bench/bench_report.py use them through this module).
from .mathsvg import Typeset, compact_path, split_top, typeset  # noqa: F401
from .pdf_reuse import shape_operators  # noqa: F401


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
    math = PrintMath()
    page = render_html(report, templates, math)
    return page_pdf(page, title=f"Parameters of {report.title}",
                    subject=report.description or None, formulas=math.formulas,
                    templates=templates)


class _ErrorLog(logging.Handler):
    """The errors WeasyPrint logs in this thread."""

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


# One font configuration per thread: finding the system's fonts again for every
# sheet costs more than laying out a page.
_FONTS = threading.local()


def page_pdf(page: str, *, title: str, subject: str | None = None,
             formulas: dict[str, Any] | None = None, templates=None) -> bytes:
    """An HTML page as reproducible PDF bytes (reports and homework sheets).

    WeasyPrint may load only symparams' own template files
    (:class:`PackagedOnlyFetcher`); identical formulas share one drawing; the
    metadata holds the title and the generator, no dates.
    """
    try:
        import weasyprint
        from weasyprint.urls import FatalURLFetchingError
    except ImportError as exc:  # pragma: no cover - weasyprint is a dependency
        raise SymparamsError(f"the PDF format needs WeasyPrint 70 or newer ({exc})",
                             field="--format") from None
    fonts = getattr(_FONTS, "config", None)
    if fonts is None:
        from weasyprint.text.fonts import FontConfiguration
        fonts = _FONTS.config = FontConfiguration()
    fetcher = PackagedOnlyFetcher()
    where = str(templates) if templates is not None else "templates"
    result = None
    with _weasyprint_errors() as errors:
        try:
            document = weasyprint.HTML(string=page, base_url=None,
                                       url_fetcher=fetcher.for_weasyprint()).render(
                font_config=fonts)
            share_drawings(document, formulas or {})
            meta = document.metadata
            meta.title, meta.description = title, subject
            meta.generator = f"symparams {__version__}"
            meta.authors, meta.keywords = [], []
            meta.created = meta.modified = None
            meta.custom = {}
            result = document.write_pdf(pdf_identifier=True, finisher=_drop_dates)
        except FatalURLFetchingError:
            pass
    if fetcher.refused:
        raise SymparamsError(f"the PDF may only use files shipped with symparams; a template "
                             f"asks for {fetcher.refused[0]}", file=where)
    if errors or result is None:
        raise SymparamsError(f"PDF layout failed: {errors[0] if errors else 'unknown error'}",
                             file=where)
    return result


def _drop_dates(document, pdf) -> None:
    for key in ("CreationDate", "ModDate"):
        pdf.info.pop(key, None)


