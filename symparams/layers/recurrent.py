"""Recurrent layers: rnn, lstm and gru, as PyTorch or Keras counts them.

Each gate (an LSTM has 4, a GRU 3, a plain RNN 1) has an h × x weight matrix on the
input (x values at each step), an h × h matrix on the hidden state of the step
before, and bias vectors of h.  PyTorch gives each gate two bias vectors (b_ih and
b_hh): gates × (h × x + h × h + 2 × h).  Keras gives one, gates × (h × x + h × h + h),
except its GRU with ``reset_after: true`` (its default), which has two as PyTorch.
``convention`` picks the framework (None: the network's, PyTorch by default).

A bidirectional layer has a second set of weights running backwards (× 2); a stack
of s layers (``num_layers``) feeds each later layer the h (or 2 × h) outputs of the
one below, so its input size is that instead of x.
"""
from __future__ import annotations

from typing import ClassVar

from sympy import Add, Integer, Mul, Symbol, evaluate

from ..printing import Grouped, unicode_plain, unicode_written
from ..shapes import AxisWorking, given_working, put_in
from .base import Layer, generic_formula
from .embedding import needs_sequence
from .fields import Flag, Size, convention_field
from .variants import Variants, make_variants

_FRAMEWORKS = {1: "Keras", 2: "PyTorch"}


class _Recurrent(Variants, Layer):
    """What rnn, lstm and gru share; see the module docstring."""
    family = "recurrent"
    gates: ClassVar[int] = 1
    gate_names: ClassVar[str] = ""
    biases: ClassVar[int] = 2       # bias vectors per gate: PyTorch 2, Keras 1
    dirs: ClassVar[int] = 1         # 2 when bidirectional
    stacked: ClassVar[bool] = False
    letters = {"h": "hidden size: values in the hidden state (hidden_size)",
               "x": "input size: values at each step of the input (its last axis)"}
    schema = (Size("hidden_size", letter="h"), Size("num_layers", default=1, letter="s"),
              Flag("bidirectional", default=False), Flag("return_sequences", default=True),
              Flag("bias", default=True), convention_field())

    def variant_key(self):
        keras_biases = 2 if getattr(self, "reset_after", False) else 1
        biases = keras_biases if self.convention == "keras" else 2
        return biases, 2 if self.bidirectional else 1, self.num_layers != 1

    @property
    def framework(self) -> str:
        return "Keras" if self.convention == "keras" else "PyTorch"

    # ----------------------------------------------------------------- count

    def one_layer(self, L, inputs):
        """One layer of the stack, both directions: gates × (h × x + h × h + 2 × h)."""
        h = L["h"]
        terms = [Mul(h, inputs), Mul(h, h)]
        if self.bias:
            terms.append(h if self.biases == 1 else Mul(Integer(2), h))
        factors = [Integer(n) for n in (self.dirs, self.gates) if n != 1]
        return Mul(*factors, Add(*terms)) if factors else Add(*terms)

    def written_formula(self, L):
        first = self.one_layer(L, L["x"])
        if not self.stacked:
            return first
        below = Grouped(Mul(Integer(2), L["h"])) if self.dirs == 2 else L["h"]
        return Add(first, Mul(Grouped(Add(L["s"], Integer(-1))), self.one_layer(L, below)))

    def derived(self, in_shape):
        return {"x": in_shape[-1]}

    # ----------------------------------------------------------------- shape

    def check_input(self, in_shape):
        needs_sequence(self, in_shape, "[T, x] (time steps, values at each step)")

    def output_shape(self, in_shape):
        width = self.hidden_size * self.dirs
        return (in_shape[0], width) if self.return_sequences else (width,)

    def shape_working(self, in_shape):
        if self.dirs == 2:
            with evaluate(False):
                width = AxisWorking("features", Mul(Integer(2), Symbol("h")),
                                    Mul(Integer(2), put_in(self.hidden_size)),
                                    self.hidden_size * 2)
        else:
            width = given_working("features", "h", self.hidden_size)
        if not self.return_sequences:
            return (width,)
        return (given_working("length", "T", in_shape[0]), width)

    # ------------------------------------------------------------- the words

    def step_reason(self):
        gates = f"Each of the {self.gates} gates ({self.gate_names})" if self.gates > 1 \
            else "The cell"
        if not self.bias:
            biases = "and no bias (bias: false)"
        elif self.biases == 2:
            biases = ("and two bias vectors of h (b_ih and b_hh)" if self.framework == "PyTorch"
                      else "and two bias vectors of h (reset_after: true, Keras' default)")
        else:
            biases = "and one bias vector of h"
        text = (f"{gates} has an h × x weight matrix on the input, an h × h matrix on the "
                f"hidden state of the step before, {biases}.")
        if self.dirs == 2:
            text += " Bidirectional: a second set of weights reads the sequence backwards (× 2)."
        if self.stacked:
            text += (f" Each of the s - 1 later layers of the stack takes the "
                     f"{'2 × h' if self.dirs == 2 else 'h'} outputs of the layer below as its "
                     f"input instead of x.")
        return f"{text} {self._other_framework()}"

    def _other_framework(self) -> str:
        """What the other framework counts, printed from its own variant's formula."""
        if not self.bias:
            return "PyTorch and Keras agree without biases."
        keras_biases = 2 if getattr(self, "reset_after", False) else 1
        other = 2 if self.framework == "Keras" else keras_biases
        if other == self.biases:
            return ("Keras' GRU with reset_after: true counts two bias vectors as PyTorch does."
                    if self.framework == "PyTorch" else
                    "PyTorch counts the same: two bias vectors per gate.")
        base = type(self)._base
        variant = base._variants[(other, self.dirs, self.stacked)]
        formula = unicode_written(generic_formula(variant, True)[0])
        name = "Keras" if self.framework == "PyTorch" else "PyTorch"
        vectors = "one bias vector" if other == 1 else "two bias vectors (b_ih, b_hh)"
        return f"{name} counts {vectors} per gate: {formula} (convention: {name.lower()})."

    def describe(self):
        parts = [f"h = {unicode_plain(self.hidden_size)}"]
        if self.num_layers != 1:
            parts.append(f"{unicode_plain(self.num_layers)} layers")
        if self.dirs == 2:
            parts.append("bidirectional")
        if not self.return_sequences:
            parts.append("last step only")
        parts.append("Keras' count" if self.framework == "Keras" else "PyTorch's count")
        return ", ".join(parts)


def _letters(attrs):
    if not attrs["stacked"]:
        return _Recurrent.letters
    return {**_Recurrent.letters, "s": "stacked layers (num_layers)"}


class RNN(_Recurrent):
    """A plain (Elman) recurrent layer: one gate.

    >>> RNN(hidden_size=8).formula
    h**2 + h*x + 2*h
    """
    kind = "rnn"
    aliases = ("simple_rnn", "simplernn", "elman")
    title = "recurrent layer"
    name_prefix = "RNN"
    gates = 1
    gate_names = "the cell"
    reason = ("The cell has an h × x weight matrix on the input, an h × h matrix on the hidden "
              "state of the step before and two bias vectors of h (PyTorch; Keras has one).")


class LSTM(_Recurrent):
    """A long short-term memory layer: 4 gates (input, forget, cell, output).

    >>> LSTM(hidden_size=8).formula
    4*h**2 + 4*h*x + 8*h
    """
    kind = "lstm"
    title = "LSTM"
    name_prefix = "LSTM"
    gates = 4
    gate_names = "input, forget, cell, output"
    reason = ("Each of the 4 gates has an h × x weight matrix on the input, an h × h matrix on "
              "the hidden state of the step before and two bias vectors of h (PyTorch; Keras "
              "has one).")


class GRU(_Recurrent):
    """A gated recurrent unit: 3 gates (reset, update, new).

    >>> GRU(hidden_size=8).formula
    3*h**2 + 3*h*x + 6*h
    """
    kind = "gru"
    title = "GRU"
    name_prefix = "GRU"
    gates = 3
    gate_names = "reset, update, new"
    schema = (*_Recurrent.schema, Flag("reset_after", default=True))
    reason = ("Each of the 3 gates has an h × x weight matrix on the input, an h × h matrix on "
              "the hidden state of the step before and two bias vectors of h (PyTorch, and "
              "Keras with reset_after: true).")


for _family in (RNN, LSTM, GRU):
    make_variants(_family, {"biases": (2, 1), "dirs": (1, 2), "stacked": (False, True)},
                  letters=_letters)
    # How the two frameworks count it, for the network's convention sentence.
    _pytorch, _keras = (unicode_written(generic_formula(_family._variants[(b, 1, False)],
                                                        True)[0]) for b in (2, 1))
    _family.convention_note = (
        f"an {_family.kind.upper()} layer has {_pytorch} "
        f"parameters in PyTorch (two bias vectors per gate), {_keras} in Keras (one)"
        if _family is not GRU else
        f"a GRU layer has {_pytorch} parameters in PyTorch and in Keras with reset_after: "
        f"true, its default (two bias vectors per gate), {_keras} with reset_after: false")

RECURRENT = (RNN, LSTM, GRU)
__all__ = ["RNN", "LSTM", "GRU", "RECURRENT"]
