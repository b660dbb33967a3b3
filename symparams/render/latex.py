"""LaTeX reports: a standalone .tex file for pdflatex, with figures in ``picture``.

This module holds the Jinja environment (LaTeX-safe delimiters), its filters
and the rendering.  What is computed lives in the modules beside it, and the
templates in ``templates/tex`` only place ready pieces:

* :mod:`symparams.render.latex_math`: the equations (SymPy's LaTeX printed in
  the document's order, split into lines where a total is too long for the
  page);
* :mod:`symparams.render.latex_figures`: the geometry of the two figures (an
  architecture diagram and a bar chart of parameters per layer), drawn with the
  built-in ``picture`` environment so the file needs only texlive-latex-base
  and texlive-latex-recommended;
* :mod:`symparams.render.latex_escape`: text from a spec made safe.

Text from a spec reaches the page through the environment's ``finalize``,
which escapes every value with :func:`~symparams.render.latex_escape.escape`
unless it is :class:`~symparams.render.common.Raw` markup made by symparams.
"""
from __future__ import annotations

from dataclasses import dataclass

import jinja2

from ..printing import latex_plain, latex_written
from ..steps import Step
from .common import Raw, thousands
from .latex_escape import breakable, escape
from .latex_figures import Chart, chart, diagram
from .latex_math import display, inline_lines, shape_latex, step_number, symbolic_lines
from .report import Report, template_loader
from .templating import SafeEnvironment

# Still importable from here, where they were before the computing had modules
# of its own (the tests use them through this module).
from .latex_math import LINE_EM, math_width, split_top, wrap  # noqa: F401


# ------------------------------------------------------------------ pieces

def step_equation(step: Step) -> Raw:
    """The step's equation ``formula = substituted = result`` as display math."""
    return display(step.latex.chain())


def _see_step(step: Step) -> Raw:
    return Raw(r"\emph{see step %d}" % step_number(step))


def shape_cell(step: Step, width: float = 5.5) -> Raw:
    """The output shape for the summary table's narrow column."""
    text = shape_latex(step.output_shape)
    return inline_lines(text, width) or _see_step(step)


def count_cell(step: Step, width: float = 4.0) -> Raw:
    """The parameter count for the summary table: grouped digits, or a short expression."""
    if step.is_exact:
        return Raw(thousands(step.result))
    return inline_lines(latex_plain(step.result), width) or _see_step(step)


def face(step: Step, name: str) -> Raw:
    """One face of a step (``formula``, ``substituted`` or ``result``) as inline math."""
    if not step.has_formula:
        return Raw("0")
    return Raw(f"${getattr(step.latex, name)}$")


# ------------------------------------------------------------------ render

@dataclass
class TexReport:
    """The computed pieces only the LaTeX templates use."""
    total_equation: Raw
    symbolic_total: Raw
    diagram: list[Raw]
    chart: Chart


def tex_pieces(report: Report) -> TexReport:
    return TexReport(total_equation=step_equation(report.total_step),
                     symbolic_total=symbolic_lines(report.net.total_written, printer=latex_written)
                     if report.symbolic_step is not None else Raw(""),
                     diagram=diagram(report), chart=chart(report))


def _names(names: list[str], limit: int = 8) -> str:
    """``A, B and C``; long lists are cut after ``limit`` names: ``A, B, C and 12 more``."""
    names = list(names)
    if len(names) > limit:
        return f"{', '.join(names[:limit])} and {len(names) - limit} more"
    if len(names) > 1:
        return f"{', '.join(names[:-1])} and {names[-1]}"
    return "".join(names)


def environment(templates=None) -> jinja2.Environment:
    """Jinja with LaTeX-safe delimiters: ``\\VAR{…}``, ``\\BLOCK{…}``, ``\\#{…}``.

    Filters return ready markup: ``step | equation`` (display math),
    ``step | shape`` (inline math), ``step | shape_cell`` and ``step | count_cell``
    (summary table cells), ``expr | latex`` (SymPy's LaTeX, no dollars),
    ``latex | inline`` (``$…$``), ``text | breakable`` (escaped, may break in
    long words), ``names | names`` (``A, B and C``, escaped).
    """
    env = SafeEnvironment(
        loader=template_loader(templates), autoescape=False,
        block_start_string=r"\BLOCK{", block_end_string="}",
        variable_start_string=r"\VAR{", variable_end_string="}",
        comment_start_string=r"\#{", comment_end_string="}",
        line_statement_prefix=None, line_comment_prefix=None,
        trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined, finalize=escape)
    env.filters.update(
        equation=step_equation,
        shape=lambda step: Raw(f"${shape_latex(step.output_shape)}$"),
        shape_cell=shape_cell,
        count_cell=count_cell,
        face=face,
        latex=lambda expr: Raw(latex_plain(expr)),
        inline=lambda latex: Raw(f"${latex}$"),
        breakable=breakable,
        names=lambda names: _names(names),
    )
    return env


def render(report: Report, templates=None) -> str:
    """The report as a standalone LaTeX document (pdflatex, no shell escape needed)."""
    env = environment(templates)
    return env.get_template("tex/report.tex.j2").render(report=report, tex=tex_pieces(report))
