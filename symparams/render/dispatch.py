"""Choosing a format and writing report files: the one dispatcher on top of the formats.

Imports run one way inside ``render/``: the report model (:mod:`.report`) at the
bottom, the formats (:mod:`.markdown`, :mod:`.html`, :mod:`.latex`, :mod:`.pdf`)
above it, this module on top.  Formats are imported when chosen, so a Markdown
report never loads WeasyPrint.
"""
from __future__ import annotations

from pathlib import Path
from typing import Callable, Iterable

from ..errors import SymparamsError
from ..network import Network
from ..outfiles import atomic_write, check_folder, check_target, write_files
from .report import FORMATS, Report, build_report, output_stem, template_loader
from .templating import template_error

__all__ = ["FORMATS", "renderer", "render_format", "write_reports", "parse_formats", "report",
           "render_network"]


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


def render_format(report: Report, fmt: str, templates: str | Path | None = None) -> str | bytes:
    """One format of a report in memory; a template error (syntax, run time, the
    sandbox) becomes one SymparamsError line naming the template file and line."""
    render = renderer(fmt)
    try:
        return render(report, templates)
    except Exception as exc:
        error = template_error(exc)
        if error is None:
            raise
        raise error from None


def write_reports(net: Network, formats: list[str], out_dir: str | Path = "reports",
                  templates: str | Path | None = None) -> list[Path]:
    """Render every format in memory first, then write the files as one run.

    Nothing is written unless every format rendered and every path can be
    written; the files are then replaced all together or not at all (see
    :func:`symparams.outfiles.write_files`).
    """
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise SymparamsError("is not a folder", file=str(out))
    check_folder(out)
    if templates is not None:
        template_loader(templates)        # a missing folder or wrong layout: before rendering
    report = build_report(net)
    rendered = []
    if "md" in formats:
        # Markdown links its figures as SVG files written next to it.
        from .figures import figure_files
        files = figure_files(report, output_stem(net))
        report.figures["files"] = {key: name for key, (name, _) in files.items()}
        rendered += [(out / name, svg) for name, svg in files.values()]
    for fmt in formats:
        content = render_format(report, fmt, templates)
        rendered.append((out / f"{output_stem(net)}.{fmt}", content))
    return write_files(rendered)


# ------------------------------------------------------------------ from Python

def parse_formats(formats: str | Iterable[str], allowed: tuple[str, ...] = FORMATS) -> list[str]:
    """``"md,pdf"`` or ``["md", "pdf"]`` → ``["md", "pdf"]``; ``all`` means every allowed
    format, in order.  The one reader of format lists (report, homework, the API)."""
    if isinstance(formats, str):
        text = formats
        names = [f.strip().lower() for f in formats.split(",") if f.strip()]
    else:
        names = [str(f).strip().lower() for f in formats]
        text = ",".join(names)
    if "all" in names:
        return list(allowed)
    unknown = [f for f in names if f not in allowed]
    if unknown or not names:
        raise SymparamsError(f"expected {', '.join(allowed)} or all (comma-separated), "
                             f"found {text!r}", field="--format")
    return list(dict.fromkeys(names))


def report(net: Network | str, out_dir: str | Path = "reports",
           formats: str | Iterable[str] = "all",
           templates: str | Path | None = None) -> list[Path]:
    """Write a network's worked solution into ``out_dir`` as ``symparams report`` does
    and return the files written.  ``net`` may be a Network, a preset name or a spec
    file; ``formats`` a list such as ``["pdf", "html"]``, ``"md,tex"`` or ``"all"``."""
    if not isinstance(net, Network):
        from ..network import load
        net = load(net)
    return write_reports(net, parse_formats(formats), out_dir, templates=templates)


def render_network(net: Network, fmt: str, path: str | Path | None = None,
                   templates: str | Path | None = None) -> str | bytes | Path:
    """One format of a network's report: the text (bytes for PDF), or written atomically
    to ``path`` (then the Path).  Behind ``net.to_html()``, ``net.to_pdf(path)`` …"""
    fmt = parse_formats([fmt])[0]
    if path is not None:
        check_target(path)                # a folder or a path under a file: before rendering
    content = render_format(build_report(net), fmt, templates)
    return content if path is None else atomic_write(path, content)
