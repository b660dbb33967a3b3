"""Worked steps: one calculation with three faces, printed by SymPy.

Like a handcalcs cell, a :class:`Step` holds the general formula in the
document's letters, the same formula with the numbers put in (unevaluated, in
the document's order) and the result.  Renderers only choose a format; every
string comes from a SymPy printer in :mod:`symparams.printing`.
"""
from __future__ import annotations

from functools import cached_property, partial
from typing import NamedTuple

from sympy import Basic, Expr

from . import printing
from .numbers import ShownCount


class Faces(NamedTuple):
    """The three faces of a step in one output format."""
    formula: str
    substituted: str
    result: str

    def chain(self) -> list[str]:
        """The faces to show joined by ``=``, without repeating an identical one."""
        shown: list[str] = []
        for face in self:
            if not shown or face != shown[-1]:
                shown.append(face)
        return shown

    def equation(self) -> str:
        return " = ".join(self.chain())


_FORMATS = {
    "latex": (printing.latex_written, printing.latex_plain),
    "text": (printing.unicode_written, printing.unicode_plain),
}


class Step:
    """One worked step of a derivation.

    ``formula`` and ``substituted`` are unevaluated SymPy expressions (or
    ``None`` for a layer without parameters); ``result`` is the evaluated count,
    or ``None`` for a statement (an equation to solve) shown as its formula alone.
    ``is_count`` says the result is a number of parameters: the faces renderers show
    (``text``, ``latex``, ``mathml``) group it in thousands, ``62,958``, as they do
    the counts a total adds up (:class:`~symparams.numbers.ShownCount`).  ``str()``,
    ``latex()`` and Jupyter's LaTeX keep SymPy's plain digits, so they parse back.
    """

    def __init__(self, *, title: str, result: Expr | None, formula: Basic | None = None,
                 substituted: Basic | None = None, name: str = "", kind: str = "",
                 index: int | None = None, description: str = "", reason: str = "",
                 notes: tuple[str, ...] = (), input_shape: tuple = (), output_shape: tuple = (),
                 letters: dict | None = None, shape_steps: tuple["Step", ...] = (),
                 is_count: bool = False):
        self.title = title
        self.is_count = is_count
        self.name = name
        self.kind = kind
        self.index = index
        self.description = description
        self.reason = reason
        self.notes = tuple(notes)
        self.formula = formula
        self.substituted = substituted
        self.result = result
        self.input_shape = tuple(input_shape)
        self.output_shape = tuple(output_shape)
        self.letters = dict(letters or {})
        # How the output shape is worked out: steps of their own (kind "shape").
        self.shape_steps = tuple(shape_steps)

    @property
    def has_formula(self) -> bool:
        return self.formula is not None

    @property
    def is_exact(self) -> bool:
        """True when the result is a plain integer."""
        return bool(getattr(self.result, "is_Integer", False))

    def faces(self, fmt: str, grouped: bool = True) -> Faces:
        """Formula, substituted form and result printed in ``fmt`` (latex, text, ascii,
        mathml); ``grouped`` puts thousands separators in counts (never in ascii)."""
        if fmt == "mathml":
            written, plain = printing.mathml_written, printing.mathml_plain
        elif fmt == "ascii":
            written, plain = printing.ascii_written, printing.ascii_plain
        else:
            written, plain = (partial(f, grouped=grouped) for f in _FORMATS[fmt])
        if self.result is None:  # a statement such as an equation to solve
            statement = written(self.formula)
            return Faces(statement, statement, statement)
        shown = self.result
        if self.is_count and self.is_exact:
            shown = ShownCount(self.result)
        result = plain(shown)
        if self.formula is None:
            return Faces(result, result, result)
        return Faces(written(self.formula), written(self.substituted), result)

    def shown(self) -> list[Basic]:
        """The faces worth showing, as expressions: repeated ones are left out."""
        if self.formula is None:
            return [self.result]
        if self.result is None:
            return [self.formula]
        text = self.text
        exprs = [self.formula]
        if text.substituted != text.formula:
            exprs.append(self.substituted)
        if text.result != text.substituted:
            exprs.append(self.result)
        return exprs

    def mathml_equation(self, display: str = "inline") -> str:
        """The whole step as one MathML <math> element: formula = substituted = result."""
        exprs = self.shown()
        if self.result is None:
            return printing.mathml_chain([], exprs[0], display, written_last=True)
        result = exprs[-1]
        if result is self.result and self.is_count and self.is_exact:
            result = ShownCount(result)
        return printing.mathml_chain(exprs[:-1], result, display)

    @cached_property
    def latex(self) -> Faces:
        return self.faces("latex")

    @cached_property
    def text(self) -> Faces:
        return self.faces("text")

    @cached_property
    def ascii(self) -> Faces:
        return self.faces("ascii")

    @cached_property
    def mathml(self) -> Faces:
        return self.faces("mathml")

    def shape_text(self) -> str:
        return printing.unicode_shape(self.output_shape)

    # Printing hooks: SymPy (latex(step)), Jupyter and plain str, in plain digits.
    @cached_property
    def _plain_latex(self) -> Faces:
        return self.faces("latex", grouped=False)

    def _latex(self, printer=None) -> str:
        return self._plain_latex.equation()

    def _repr_latex_(self) -> str:
        return f"$\\displaystyle {self._plain_latex.equation()}$"

    def __str__(self) -> str:
        return f"{self.title}: {self.faces('text', grouped=False).equation()}"

    def _sympystr(self, printer=None) -> str:
        return str(self)

    def _pretty(self, printer=None):
        # sympy.pprint(step): the text face, broken between terms to fit the line,
        # never inside a number (SymPy would cut a long line anywhere).
        return printing.pretty_lines(str(self), printer)

    def __repr__(self) -> str:
        return f"<Step {self.title}: {self.ascii.equation()}>"
