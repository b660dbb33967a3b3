"""HTML reports: MathML from SymPy's printers (offline, no script, no CDN).

The PDF renderer reuses these templates with ``medium="print"`` and its own
math filters (SVG), so both stay one set of files.
"""
from __future__ import annotations

from typing import Callable

import jinja2
from markupsafe import Markup

from ..printing import mathml_plain
from ..steps import Step
from . import figures
from .report import Report, template_loader
from .templating import SafeEnvironment


def _mathml_face(step: Step, face: str) -> Markup:
    if not step.has_formula:
        return Markup(mathml_plain(step.result))
    return Markup(getattr(step.mathml, face))


def environment(templates=None, *, math: Callable | None = None, expr: Callable | None = None,
                face: Callable | None = None) -> jinja2.Environment:
    """The HTML environment. Filters return ready markup:

    ``step | math`` the whole step (formula = substituted = result),
    ``step | face("formula")`` one face, ``expression | expr`` a plain expression.
    """
    env = SafeEnvironment(loader=template_loader(templates), autoescape=True,
                          trim_blocks=True, lstrip_blocks=True,
                          undefined=jinja2.StrictUndefined)
    env.filters["math"] = math or (lambda step: Markup(step.mathml_equation()))
    env.filters["expr"] = expr or (lambda value: Markup(mathml_plain(value)))
    env.filters["face"] = face or _mathml_face
    return env


def render_page(report: Report, templates=None, *, medium: str = "screen",
                **filters: Callable) -> str:
    """The report page; ``filters`` replace the MathML ones (the PDF passes SVG).

    The architecture diagram and the parameter chart are inline SVG, made once
    per report (``report.figures``) for both media.
    """
    figures.attach(report)
    env = environment(templates, **filters)
    return env.get_template("html/report.html.j2").render(report=report, medium=medium)


def render(report: Report, templates=None) -> str:
    return render_page(report, templates, medium="screen")
