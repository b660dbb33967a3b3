"""Choosing a format and writing report files: the one dispatcher on top of the formats.

Imports run one way inside ``render/``: the report model (:mod:`.report`) at the
bottom, the formats (:mod:`.markdown`, :mod:`.html`, :mod:`.latex`, :mod:`.pdf`)
above it, this module on top.  Formats are imported when chosen, so a Markdown
report never loads WeasyPrint.
"""
from __future__ import annotations

from pathlib import Path
from typing import Callable

import jinja2

from ..errors import SymparamsError
from ..network import Network
from .common import atomic_write
from .report import FORMATS, Report, build_report, output_stem

__all__ = ["FORMATS", "renderer", "write_reports"]


# -------------------------------------------------------------------- writing

def renderer(fmt: str) -> Callable[[Report, str | Path | None], bytes | str]:
    if fmt == "md":
        from .markdown import render
    elif fmt == "html":
        from .html import render
    elif fmt == "tex":
        from .latex import render
    elif fmt == "pdf":
        from .pdf import render
    else:
        raise SymparamsError(f"unknown format {fmt!r} (expected md, html, tex, pdf or all)",
                             field="--format")
    return render


def write_reports(net: Network, formats: list[str], out_dir: str | Path = "reports",
                  templates: str | Path | None = None) -> list[Path]:
    """Render every format in memory first, then write each file atomically.

    Nothing is written unless every format rendered.
    """
    report = build_report(net)
    rendered = []
    if "md" in formats:
        # Markdown links its figures as SVG files written next to it.
        from .figures import figure_files
        files = figure_files(report, output_stem(net))
        report.figures["files"] = {key: name for key, (name, _) in files.items()}
        rendered += [(Path(out_dir) / name, svg) for name, svg in files.values()]
    for fmt in formats:
        try:
            content = renderer(fmt)(report, templates)
        except jinja2.TemplateError as exc:
            where = getattr(exc, "filename", None) or getattr(exc, "name", None) or "template"
            line = getattr(exc, "lineno", None)
            raise SymparamsError(f"template error{f' at line {line}' if line else ''}: "
                                 f"{exc.message if hasattr(exc, 'message') else exc}",
                                 file=where) from None
        rendered.append((Path(out_dir) / f"{output_stem(net)}.{fmt}", content))
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise SymparamsError("is not a folder", file=str(out))
    return [atomic_write(path, content) for path, content in rendered]
