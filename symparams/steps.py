"""Worked steps: one calculation with three faces, printed by SymPy.

Like a handcalcs cell, a :class:`Step` holds the general formula in the
document's letters, the same formula with the numbers put in (unevaluated, in
the document's order) and the result.  Renderers only choose a format; every
string comes from a SymPy printer in :mod:`symparams.printing`.
"""
from __future__ import annotations

from functools import cached_property, partial
from typing import NamedTuple

from sympy import Add, Basic, Expr, evaluate

from . import printing
from .numbers import ShownCount, thousands


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


# ------------------------------------------------------------ steps of a network
# Built from a network's LayerInfo objects, which this module never imports: the
# network sits below the steps, and its convenience properties (info.step,
# net.steps) import these builders when asked.

def layer_step(info) -> Step:
    """The worked step of one layer: formula, the numbers put in, the count."""
    layer = info.layer
    description = layer.describe()
    title = f"{info.name} ({layer.title}{', ' + description if description else ''})"
    return Step(title=title, name=info.name, kind=info.kind, index=info.index,
                description=description, reason=layer.step_reason(),
                notes=(*info.graph_notes, *layer.notes(info.input_shape),
                       *_frozen_note(info)) if info.index else (),
                # An opaque layer's count is the framework's number: no formula to show.
                formula=None if layer.counted is not None else info.written,
                substituted=None if layer.counted is not None else info.substituted,
                result=info.params,
                input_shape=info.input_shape, output_shape=info.output_shape,
                letters={s: layer.letters[l] for l, s in info.letters.items()},
                shape_steps=info.shape_steps, is_count=True)


def _frozen_note(info) -> tuple[str, ...]:
    """A frozen layer (trainable: false) says its parameters are not trained."""
    if not info.frozen:
        return ()
    count = printing.unicode_plain(ShownCount(info.params) if info.params.is_Integer
                                   else info.params)
    return (f"frozen (trainable: false): its {count} parameters are non-trainable",)


def layer_shape_steps(info) -> tuple[Step, ...]:
    """How one layer's output shape is worked out: a step per size that is worked
    out (height and width as one step when both are worked out alike)."""
    if not info.index:
        return ()
    worked = [*info.layer.input_working(info.input_shape),
              *(w for w in info.shape_working if w.is_rule)]
    steps = []
    i = 0
    while i < len(worked):
        working, label = worked[i], worked[i].label
        pair = worked[i:i + 2]
        if [w.label for w in pair] == ["height", "width"]:
            height, width = pair
            if height.result == width.result and \
                    printing.unicode_written(height.substituted) == \
                    printing.unicode_written(width.substituted):
                working, label = width, "height and width"
                i += 1
        steps.append(Step(title=_shape_title(label), name=info.name, kind="shape",
                          index=info.index, formula=working.formula,
                          substituted=working.substituted, result=working.result,
                          input_shape=info.input_shape, output_shape=info.output_shape))
        i += 1
    return tuple(steps)


def _shape_title(label: str) -> str:
    """``Output height and width``; a size coming in keeps its own label."""
    if label.startswith("values coming in"):
        return label[0].upper() + label[1:]
    return f"Output {label}"


def total_step(net) -> Step:
    """The network's total: the layers' formulas added in order, then their counts."""
    counted = [info for info in net.layers if info.written is not None]
    with evaluate(False):
        formula = Add(*(info.written for info in counted))
        # The layers' counts, grouped in thousands where a person reads them.
        substituted = Add(*(ShownCount(info.params) if info.params.is_Integer
                            else info.params if info.params.is_Atom
                            else printing.Inserted(info.params) for info in counted))
    reason = "The network's count is the sum of the counts of its layers."
    if shows_split(net):
        reason += f" {split_text(net)}"
    return Step(title="Total", name="TOTAL", kind="total", formula=formula,
                substituted=substituted, result=net.total, is_count=True, reason=reason)


# --------------------------------------------- trainable, non-trainable, buffers
# Every output that states the split words it the same way: these sentences.

def convention_matters(net) -> bool:
    """True when the network has a layer that PyTorch and Keras count differently."""
    return any("convention" in info.layer.fields for info in net.layers)


# Families a reader meets in framework summaries (torchinfo, Keras' summary()): a
# network with one of them states its convention and the three parts even when
# nothing is non-trainable (BERT: "counted in the PyTorch convention, all trainable").
FRAMEWORK_FAMILIES = ("norm", "recurrent", "sequence")


def shows_split(net) -> bool:
    """True when the total is not simply all trainable (frozen layers, moving or
    running statistics), the convention changes a count, or the network has a
    normalisation or sequence layer: outputs then state the three parts and the
    convention, and leave a network of the document's layers as it was."""
    return bool(net.non_trainable_total != 0 or net.buffers_total != 0
                or convention_matters(net)
                or any(getattr(info.layer, "family", None) in FRAMEWORK_FAMILIES
                       for info in net.layers))


def _shown(value) -> str:
    return thousands(value) if value.is_Integer else printing.unicode_plain(value)


def convention_text(net, short: bool = False, flag: bool = False) -> str:
    """Which framework's convention the counts follow, and (unless ``short``) what
    that changes; ``flag`` names the command line's option (the terminal), else the
    spec's field (reports: a PDF font runs ``--`` together)."""
    framework = {"pytorch": "PyTorch", "keras": "Keras"}[net.convention]
    text = f"Counted in the {framework} convention"
    if short:
        return text + "."
    if not convention_matters(net):
        return text + " (no layer here is counted differently by PyTorch and Keras)."
    other = "Keras" if net.convention == "pytorch" else "PyTorch"
    # Each family that the frameworks count differently says how (its convention_note).
    notes = dict.fromkeys(getattr(info.layer, "convention_note", "") for info in net.layers
                          if "convention" in info.layer.fields)
    said = "; ".join(note for note in notes if note)
    switch = f"--convention {other.lower()}" if flag else f"convention: {other.lower()}"
    return text + f" ({switch} for the {other} count)" + \
        (f": {said}." if said else ".")


def split_text(net) -> str:
    """The total in its three parts, e.g. ``Of the 2,568 parameters, 2,528 are trainable
    and 40 non-trainable; 40 buffer values are kept besides, not parameters.``"""
    text = (f"Of the {_shown(net.total)} parameters, {_shown(net.trainable_total)} are "
            f"trainable and {_shown(net.non_trainable_total)} non-trainable")
    if net.non_trainable_total != 0:
        frozen = [info.name for info in net.layers if info.frozen]
        why = ["frozen layers, trainable: false"] if frozen else []
        if any(info.non_trainable != 0 and not info.frozen for info in net.layers):
            why.append("Keras' moving statistics")
        text += f" ({'; '.join(why)})"
    if net.buffers_total != 0:
        text += (f"; {_shown(net.buffers_total)} buffer values (PyTorch's running "
                 "statistics) are kept besides, not parameters")
    return f"{text}. {convention_text(net, short=True)}"
