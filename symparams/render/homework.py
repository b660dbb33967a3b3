"""Homework sheets: one variant's question sheet and its worked answer key.

``render_sheet(variant, "questions" | "answers", fmt)`` renders a sheet as
Markdown, HTML, LaTeX or PDF (bytes).  As for reports, everything a sheet shows
is gathered here into ready objects (:class:`Sheet`), the format picks the math
markup and escaping (the environments of :mod:`~symparams.render.markdown`,
:mod:`~symparams.render.html` and :mod:`~symparams.render.latex`), and the
templates in ``templates/homework/{md,html,tex}`` only place things.

* The **question sheet** shows the network as a table of its layers' settings
  (no output shapes, no counts), then the questions grouped by type, numbered,
  with their points and room for the answers.  A find-error question shows the
  classmate's worked solution it is about.  It never shows one of the variant's
  real counts.
* The **answer key** shows the network's table again with output shapes and
  counts, every question's answer with its worked steps, and the network's full
  worked solution once (every layer and the total), which the parameter and
  shape answers refer to instead of repeating it.

Sheets carry the homework's title, the variant id and the seed, and no date:
the same variant gives the same bytes in every format, the PDF included.
"""
from __future__ import annotations

import functools
from contextvars import ContextVar
from dataclasses import dataclass, field, replace
from typing import Any

import jinja2
from sympy import Basic

from ..errors import SymparamsError
from ..layers import Conv2D, Dense
from ..printing import ascii_plain, latex_plain, unicode_plain, unicode_shape
from ..shapes import AXES
from ..steps import Step
from .common import Raw, thousands
from .pdf import page_pdf

KINDS = ("questions", "answers")
FORMATS = ("md", "html", "tex", "pdf")

# Per question type, in the order of the template's plan: heading and what to do.
GROUP_TEXT = {
    "params": ("Learnable parameters",
               "Count every weight and every bias. Write whole numbers."),
    "shapes": ("Output shapes",
               "Give each layer's output as height × width × channels, or as the number of "
               "values for a layer that outputs a vector."),
    "find-error": ("Find the mistake", ""),
    "backwards": ("Working backwards", "Show the equation you solve."),
    "symbolic": ("The total in letters", "Simplify your expression as far as you can."),
}
# Room for an answer on the question sheet, in lines, by the kind of answer.
ANSWER_LINES = {"integer": 2, "shape": 1, "name": 1, "expression": 4}
WORKING_LINES = {"backwards": 6, "symbolic": 6}
# Labels for worked steps whose roles the question type fixes.
WORKED_LABELS = {"find-error": ("What the classmate wrote", "Correct")}
CONVENTIONS = [
    "Shapes are channels-last: height × width × channels.",
    "Every convolution and fully connected layer has one bias per filter or neuron, "
    "unless the table says “no bias”.",
    "A window a × b is a values wide and b high; a stride or padding given as one number "
    "applies along both axes.",
]
NONE = "—"


# ------------------------------------------------------------------ the data

@dataclass(frozen=True)
class LayerRow:
    """One layer of the network table; strings ready to print."""
    index: int
    name: str
    type: str
    window: str
    stride: str
    padding: str
    size: str          # filters or units
    activation: str
    notes: str         # no bias, dilation, dropout rate …
    shape: str         # output shape (answer key only; empty on the question sheet)
    params: str        # learnable parameters (answer key only; empty on the question sheet)


@dataclass(frozen=True)
class SolutionStep:
    """A layer's step in the answer key's worked solution.

    ``reason`` is left empty when an earlier layer of the same kind gave it.
    """
    step: Step
    reason: str
    shape: str


@dataclass
class Worked:
    """A worked step of an answer, with an optional label (``Correct``)."""
    label: str
    step: Step


@dataclass
class Item:
    """One numbered question."""
    number: int
    id: str
    type: str
    kind: str
    prompt: str
    points: int
    points_text: str                 # "2 points"
    answer: str                      # the answer as text, counts with separators
    answer_math: Basic | None        # an expression answer, as SymPy for the math filters
    shown: list[Step]                # steps the question is about (a classmate's solution)
    worked: list[Worked]             # steps of the answer; empty when ``see`` says where
    see: str                         # "the worked solution of the network", "question 14"
    see_anchor: str                  # HTML anchor of ``see``: "solution", "q14"
    lines: int                       # room for the answer on the question sheet, in lines
    subject: str = ""                # the layer a parameter or shape question is about


@dataclass
class Group:
    """The questions of one type, numbered on through the sheet."""
    letter: str                      # "A"
    type: str
    title: str
    instructions: str
    points_text: str                 # "1 point each, 6 points" or "2 + 3 points, 5 points"
    items: list[Item]
    compact: bool                    # short questions in one table with answer cells
    uniform: bool                    # every question has the same points (said once)
    see: str                         # where a compact group's answers are worked out
    see_anchor: str


@dataclass
class Sheet:
    """Everything a sheet template needs, computed once."""
    kind: str                        # "questions" or "answers"
    heading: str                     # "Question sheet" or "Answer key"
    title: str
    template: str
    variant: str                     # "variant-01"
    seed: int
    meta: str                        # "lenet · variant-01 · seed 1"
    input_shape: str
    layer_count: int
    rows: list[LayerRow]
    has_notes: bool
    has_activation: bool
    conventions: list[str]
    groups: list[Group]
    points: int
    points_text: str                 # "30 points"
    question_count: int
    solution: list[SolutionStep] = field(default_factory=list)  # the network's, worked
    input_axes: str = "height × width × channels"  # what the input's sizes are
    total_step: Step | None = None
    total: str = ""

    @property
    def is_answers(self) -> bool:
        return self.kind == "answers"

    @property
    def total_span(self) -> int:
        """Columns of the network table between the "total" label and the count."""
        return 6 + self.has_activation + self.has_notes


# --------------------------------------------------------------- gathering

def _pair(pair) -> str:
    """One size when all are equal, else each (a pair, or a size per axis of a volume)."""
    if len(set(pair)) == 1:
        return unicode_plain(pair[0])
    return " × ".join(unicode_plain(v) for v in pair)


def _window(pair) -> str:
    return " × ".join(unicode_plain(v) for v in pair)


def _padding(padding) -> str:
    return "same" if padding == "same" else _pair(padding)


# How an output of each rank is written, for the shapes instructions and conventions.
SHAPE_WORDS = {1: "the number of values for a layer that outputs a vector",
               2: "length × channels for a sequence (positions × values at each)",
               3: "height × width × channels", 4: "depth × height × width × channels"}


def _takes_tokens(net) -> bool:
    """True when the input is token ids: an embedding reads it (one id per position)."""
    inputs = {info.name for info in net.layers if info.kind == "input"}
    return any(info.kind == "embedding" and inputs & set(info.sources) for info in net.layers)


def _output_ranks(net) -> list[int]:
    return sorted({len(info.output_shape) for info in net.layers[1:]}, reverse=True)


def _input_axes(net) -> str:
    if _takes_tokens(net):
        return "token ids, one per position"
    return " × ".join(name for name, _ in AXES[len(net.input_shape)])


def _shapes_instructions(net) -> str:
    """GROUP_TEXT's shapes line, naming only the kinds of output this network has
    (a token network's sheet used to ask for height × width × channels)."""
    words = [SHAPE_WORDS[r] for r in _output_ranks(net) if r in SHAPE_WORDS]
    if not words:
        return GROUP_TEXT["shapes"][1]
    listed = words[0] if len(words) == 1 else ", ".join(words[:-1]) + ", or as " + words[-1]
    return f"Give each layer's output as {listed}."


def _conventions(net) -> list[str]:
    """CONVENTIONS, with the shapes line for the network's input and outputs."""
    rank = len(net.input_shape)
    if _takes_tokens(net):
        return ["Shapes are channels-last: a sequence is length × channels (positions × "
                "values at each); the input is one token id per position.", *CONVENTIONS[1:]]
    if rank in (1, 3) and set(_output_ranks(net)) <= {1, 3}:
        return CONVENTIONS
    axes = " × ".join(name for name, _ in AXES[rank])
    return [f"Shapes are channels-last: {axes}.", *CONVENTIONS[1:]]


def layer_row(info, answers: bool = True) -> LayerRow:
    """The table row of one layer: its settings, and for the key its shape and count."""
    layer = info.layer
    window = stride = padding = size = activation = NONE
    notes = []
    if isinstance(layer, Conv2D):
        window, stride, padding = _window((layer.m, layer.n)), _pair(layer.stride), \
            _padding(layer.padding)
        size = unicode_plain(layer.k)
        if tuple(layer.dilation) != (1, 1):
            notes.append(f"dilation {_pair(layer.dilation)}")
    elif hasattr(layer, "kernel") and hasattr(layer, "stride"):   # pooling, 1-D/3-D windows
        window, stride, padding = _window(layer.kernel), _pair(layer.stride), \
            _padding(layer.padding)
        if hasattr(layer, "filters"):
            size = unicode_plain(layer.filters)
        if any(v != 1 for v in getattr(layer, "dilation", ())):
            notes.append(f"dilation {_pair(layer.dilation)}")
    elif isinstance(layer, Dense):
        size = unicode_plain(layer.c)
        activation = layer.activation or NONE
    elif hasattr(layer, "function"):                               # activation layer
        activation = layer.function
    elif hasattr(layer, "rate"):                                   # dropout
        notes.append(f"rate {float(layer.rate):g}")
    elif layer.family in ("sequence", "recurrent"):   # embedding, lstm, attention …
        notes.append(layer.describe())              # the sizes behind the count: V × E, h …
    if layer.has_params and not layer.bias and "bias" in layer.fields:
        notes.append("no bias")
    if not getattr(info, "takes_previous", True):   # inputs: a branch or a merge
        notes.append(f"from {', '.join(info.sources)}")
    params = info.params
    shape = unicode_shape(info.output_shape) if answers else ""
    count = (thousands(params) if params.is_Integer else unicode_plain(params)) if answers else ""
    return LayerRow(index=info.index, name=info.name, type=layer.title, window=window,
                    stride=stride, padding=padding, size=size, activation=activation,
                    notes=", ".join(notes), shape=shape, params=count)


def _answer_text(question) -> str:
    answer = question.answer
    if isinstance(answer, int) and not isinstance(answer, bool):
        return thousands(answer)
    return str(answer)


def _answer_math(question) -> Basic | None:
    """An expression answer as SymPy, from its last worked step (the same expression)."""
    if question.kind != "expression" or not question.worked:
        return None
    result = question.worked[-1].result
    if isinstance(result, Basic) and ascii_plain(result) == str(question.answer):
        return result
    return None


def _points(points: int) -> str:
    return f"{points} point{'' if points == 1 else 's'}"


def _group_points(items: list[Item]) -> str:
    total = sum(item.points for item in items)
    each = {item.points for item in items}
    if len(items) > 1 and len(each) == 1:
        return f"{_points(items[0].points)} each, {_points(total)}"
    if len(items) > 1:
        return f"{' + '.join(str(item.points) for item in items)} points, {_points(total)}"
    return _points(total)


def _letter(n: int) -> str:
    letters = ""
    while True:
        n, rest = divmod(n, 26)
        letters = chr(ord("A") + rest) + letters
        if not n:
            return letters
        n -= 1


def _solution(steps: list[Step]) -> list[SolutionStep]:
    """Every layer's step; each reason once, at the first layer of its kind."""
    seen: set[str] = set()
    solution = []
    for step in steps:
        reason = "" if step.reason in seen else step.reason
        seen.add(step.reason)
        solution.append(SolutionStep(step, reason, step.shape_text()))
    return solution


def build_sheet(variant, kind: str) -> Sheet:
    """Gather what the ``kind`` sheet of ``variant`` shows."""
    if kind not in KINDS:
        raise SymparamsError(f"unknown sheet {kind!r} (expected questions or answers)")
    net = variant.net
    solution = [info.step for info in net.layers]
    in_solution = {id(step) for step in solution} | {id(net.total_step)}
    # Group by type in the order of first appearance, numbering on through the sheet.
    by_type: dict[str, list] = {}
    for question in variant.questions:
        by_type.setdefault(question.type, []).append(question)
    groups, number = [], 0
    worked_at: dict[tuple, int] = {}     # worked steps already shown → question number
    shown_seen: set[tuple] = set()
    for g, (qtype, questions) in enumerate(by_type.items()):
        items = []
        for question in questions:
            number += 1
            shown_key = tuple(id(s) for s in question.shown)
            shown = list(question.shown) if shown_key and shown_key not in shown_seen else []
            shown_seen.add(shown_key)
            worked_key = tuple(id(s) for s in question.worked)
            worked: list[Worked] = []
            see = anchor = subject = ""
            if worked_key and all(k in in_solution for k in worked_key):
                see, anchor = "the worked solution of the network", "solution"
                if len(question.worked) == 1:
                    step = question.worked[0]
                    subject = "total" if step is net.total_step else step.name
            elif worked_key in worked_at:
                see, anchor = f"question {worked_at[worked_key]}", f"q{worked_at[worked_key]}"
            elif worked_key:
                worked_at[worked_key] = number
                labels = WORKED_LABELS.get(qtype, ())
                if len(labels) != len(question.worked):
                    labels = ("",) * len(question.worked)
                worked = [Worked(label, step) for label, step in zip(labels, question.worked)]
            lines = WORKING_LINES.get(qtype, ANSWER_LINES.get(question.kind, 2))
            items.append(Item(number=number, id=question.id, type=qtype, kind=question.kind,
                              prompt=question.prompt, points=question.points,
                              points_text=_points(question.points),
                              answer=_answer_text(question), answer_math=_answer_math(question),
                              shown=shown, worked=worked, see=see, see_anchor=anchor,
                              lines=lines, subject=subject))
        compact = all(not item.shown and not item.worked and item.kind in ("integer", "shape")
                      for item in items)
        sees = {(item.see, item.see_anchor) for item in items}
        group_see = sees.pop() if compact and len(sees) == 1 else ("", "")
        title, instructions = GROUP_TEXT.get(qtype, (qtype.replace("-", " ").capitalize(), ""))
        if qtype == "shapes":
            instructions = _shapes_instructions(net)
        groups.append(Group(letter=_letter(g), type=qtype, title=title,
                            instructions=instructions, points_text=_group_points(items),
                            items=items, compact=compact,
                            uniform=len({item.points for item in items}) == 1, see=group_see[0],
                            see_anchor=group_see[1]))
    answers = kind == "answers"
    if not answers:
        # The question sheet's data holds no answer at all, whatever a template shows.
        for group in groups:
            group.items = [replace(item, answer="", answer_math=None, worked=[])
                           for item in group.items]
    points = sum(q.points for q in variant.questions)
    rows = [layer_row(info, answers) for info in net.layers[1:]]
    title = str(variant.spec.get("title") or variant.template)
    return Sheet(
        kind=kind, heading="Answer key" if answers else "Question sheet", title=title,
        template=variant.template, variant=variant.id, seed=variant.seed,
        meta=f"{variant.template} · {variant.id} · seed {variant.seed}",
        input_shape=unicode_shape(net.input_shape), layer_count=len(rows), rows=rows,
        has_notes=any(row.notes for row in rows),
        has_activation=any(row.activation != NONE for row in rows),
        input_axes=_input_axes(net),
        conventions=_conventions(net), groups=groups, points=points, points_text=_points(points),
        question_count=number, solution=_solution(solution) if answers else [],
        total_step=net.total_step if answers else None,
        total=thousands(net.total) if answers else "")


# ------------------------------------------------------------------ rendering

def template_name(fmt: str, kind: str) -> str:
    return f"homework/{fmt}/{kind}.{fmt}.j2"


# The PDF's math filters typeset into the PrintMath of the sheet being rendered.
_PRINT_MATH: ContextVar = ContextVar("symparams_homework_print_math")


@functools.lru_cache(maxsize=32)
def environment(fmt: str, templates: str | None = None) -> jinja2.Environment:
    """The Jinja environment of a format ("md", "html", "tex", or "pdf": HTML with SVG
    math), made once per process and templates folder: compiling the templates
    again for every sheet would cost more than rendering it."""
    if fmt == "md":
        from . import markdown
        env = markdown.environment(templates)
        env.filters["latex"] = lambda expr: Raw(latex_plain(expr))
        env.filters["shown_math"] = lambda step: Raw(f"${step.latex.equation()}$")
        return env
    if fmt == "tex":
        from . import latex
        return latex.environment(templates)
    from . import html
    if fmt == "pdf":
        return html.environment(
            templates, math=lambda step: _PRINT_MATH.get().math(step),
            expr=lambda value: _PRINT_MATH.get().expr(value),
            face=lambda step, face: _PRINT_MATH.get().face(step, face))
    return html.environment(templates)


def _folder(templates) -> str | None:
    return None if templates is None else str(templates)


def _markdown(sheet: Sheet, templates) -> str:
    env = environment("md", _folder(templates))
    return env.get_template(template_name("md", sheet.kind)).render(sheet=sheet)


def _tex(sheet: Sheet, templates) -> str:
    env = environment("tex", _folder(templates))
    return env.get_template(template_name("tex", sheet.kind)).render(sheet=sheet)


def render_page(sheet: Sheet, templates=None, *, medium: str = "screen", math=None) -> str:
    """The sheet as an HTML page: MathML on screen; with ``medium="print"`` the SVG
    math of ``math`` (a :class:`~symparams.render.mathsvg.PrintMath`) for the PDF."""
    if medium == "print":
        if math is None:
            from .mathsvg import PrintMath
            math = PrintMath()
        token = _PRINT_MATH.set(math)
        try:
            env = environment("pdf", _folder(templates))
            return env.get_template(template_name("html", sheet.kind)).render(
                sheet=sheet, medium=medium)
        finally:
            _PRINT_MATH.reset(token)
    env = environment("html", _folder(templates))
    return env.get_template(template_name("html", sheet.kind)).render(sheet=sheet,
                                                                      medium=medium)


def _pdf(sheet: Sheet, templates) -> bytes:
    from .mathsvg import PrintMath
    math = PrintMath()
    page = render_page(sheet, templates, medium="print", math=math)
    return page_pdf(page, title=f"{sheet.title}: {sheet.heading.lower()}, {sheet.variant}",
                    subject=sheet.meta, formulas=math.formulas, templates=templates)


_RENDERERS = {"md": _markdown, "html": render_page, "tex": _tex, "pdf": _pdf}


def render_sheet(variant, kind: str, fmt: str, templates=None) -> str | bytes:
    """The ``kind`` sheet ("questions" or "answers") of one variant in ``fmt``
    (md, html, tex: text; pdf: bytes).  The same variant gives the same bytes.

    ``templates`` is a folder whose files replace ours by name
    (``homework/html/answers.html.j2`` …).
    """
    if fmt not in _RENDERERS:
        raise SymparamsError(f"unknown format {fmt!r} (expected md, html, tex or pdf)",
                             field="--format")
    sheet = build_sheet(variant, kind)
    try:
        return _RENDERERS[fmt](sheet, templates)
    except Exception as exc:
        from .templating import template_error
        error = template_error(exc)
        if error is None:
            raise
        raise error from None


# --------------------------------------------------------------------- PDF

__all__ = ["KINDS", "FORMATS", "Sheet", "Group", "Item", "Worked", "LayerRow", "SolutionStep",
           "build_sheet", "environment", "render_sheet", "render_page", "page_pdf"]
