"""Markdown reports: math as $…$ LaTeX, text from specs escaped for Markdown."""
from __future__ import annotations

import jinja2

from .common import Raw, md_escape
from .report import Report, template_loader
from .templating import SafeEnvironment


def environment(templates=None) -> jinja2.Environment:
    env = SafeEnvironment(loader=template_loader(templates), autoescape=False,
                          finalize=lambda v: "" if v is None else md_escape(v),
                          trim_blocks=True, lstrip_blocks=True,
                          keep_trailing_newline=True, undefined=jinja2.StrictUndefined)
    env.filters["math"] = lambda step: Raw(f"$${step.latex.equation()}$$")
    env.filters["inline"] = lambda latex: Raw(f"${latex}$")
    return env


def render(report: Report, templates=None) -> str:
    from ..printing import latex_plain
    env = environment(templates)
    env.filters["latex"] = lambda expr: Raw(latex_plain(expr))
    return env.get_template("md/report.md.j2").render(report=report)
