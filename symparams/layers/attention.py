"""Attention: multi-head attention and the transformer's encoder and decoder layers,
counted as PyTorch's nn.MultiheadAttention, nn.TransformerEncoderLayer and
nn.TransformerDecoderLayer count them.

Multi-head attention projects its queries, keys and values to E values each (one
E × E matrix each, or E × K and E × U when the keys and values come in with K and U
values: ``kdim``, ``vdim``), splits them into heads (the heads share those matrices,
so their number does not change the count) and projects the joined heads back with
an E × E matrix; every projection has a bias of E.  E is the width of the queries:
the last axis of the input.

A transformer layer is a composed block: self-attention (and, in a decoder,
attention over the encoder's output), a feed-forward network of two dense layers
E → F → E, and a layer normalisation (γ and β of E) after each part.  Its step lists
each part's formula and count, then the sum.
"""
from __future__ import annotations

from typing import ClassVar

from sympy import Add, Expr, Integer, Mul, Symbol, evaluate

from ..errors import SymparamsError
from ..numbers import thousands
from ..printing import Grouped, unicode_plain, unicode_shape, unicode_written
from ..shapes import Shape
from .base import Layer
from .embedding import SEQUENCE_FAMILY, OptionalSize, needs_sequence
from .fields import Flag, Size
from .variants import Variants, make_variants

_E = "embedding width: the last axis of the input (queries and output)"


def _check_heads(layer: Layer, width: Expr) -> None:
    heads = layer.heads
    share = width / heads
    if share.is_number and not share.is_integer:
        raise SymparamsError(f"{unicode_plain(heads)} heads must divide the width E = "
                             f"{unicode_plain(width)} of the input (each head gets E / heads "
                             f"values)", field="heads")


def attention_formula(E, K, U, bias: bool, bias_kv: bool = False) -> Expr:
    """Queries, keys and values projected to E, then the output projection (unevaluated)."""
    if K is E and U is E:
        inputs = Mul(Integer(3), Grouped(Add(Mul(E, E), E))) if bias else \
            Mul(Integer(3), E, E)
    else:
        terms = [Mul(E, E), Mul(E, K), Mul(E, U)]
        inputs = Add(*terms, Mul(Integer(3), E)) if bias else Add(*terms)
    output = Add(Mul(E, E), E) if bias else Mul(E, E)
    parts = [inputs, Grouped(output) if bias else output]
    if bias_kv:
        parts.append(Mul(Integer(2), E))
    return Add(*parts)


def keras_attention_formula(E, K, U, L, has_b: bool, has_o: bool, bias: bool) -> Expr:
    """Keras' MultiHeadAttention (unevaluated): queries E → N × a, keys K → N × a, values
    U → N × b, output N × b → O (N heads), each with a bias of its output width."""
    h, a = L["N"], L["a"]
    b = L["b"] if has_b else a
    O = L["O"] if has_o else E

    def projection(inputs, *outputs):
        weights = Mul(inputs, *outputs)
        return Grouped(Add(weights, Mul(*outputs))) if bias else weights
    output = Add(Mul(h, b, O), O) if bias else Mul(h, b, O)
    return Add(projection(E, h, a), projection(K, h, a), projection(U, h, b),
               Grouped(output) if bias else output)


class _Cross:
    """A layer that may take a second input (keys and values, an encoder's output):
    ``inputs: [QUERIES, MEMORY]``.  Its count does not depend on it; its width must be
    the one the layer expects."""
    takes_memory = True

    def memory_width(self, width: Expr) -> Expr:
        return width

    def check_memory(self, in_shape: Shape, memory: Shape, name: str) -> None:
        needs_sequence(self, memory)
        expected = self.memory_width(in_shape[-1])
        if (memory[-1] - expected).is_number and memory[-1] != expected:
            raise SymparamsError(f"{name} gives {unicode_shape(memory)}: its last axis must be "
                                 f"{self.memory_field()} = {unicode_plain(expected)}",
                                 field="inputs")

    def memory_field(self) -> str:
        return "E"


class MultiheadAttention(Variants, _Cross, Layer):
    """PyTorch's nn.MultiheadAttention: q, k, v projections and an output projection.

    >>> MultiheadAttention(heads=8).formula
    4*E**2 + 4*E
    """
    kind = "multihead_attention"
    aliases = ("multiheadattention", "mha", "attention", "self_attention")
    title = "multi-head attention"
    family = SEQUENCE_FAMILY
    name_prefix = "ATTN"
    has_k: ClassVar[bool] = False
    has_v: ClassVar[bool] = False
    bias_kv: ClassVar[bool] = False
    letters = {"E": _E}
    # Keras' MultiHeadAttention projects to heads × key_dim (and value_dim) values and
    # back to output_dim (E by default): key_dim makes the layer the Keras variant.
    keras: ClassVar[bool] = False
    has_b: ClassVar[bool] = False
    has_o: ClassVar[bool] = False
    # heads' letter is N: h is the recurrent layers' hidden size, and letters are numbered
    # per family, so an LSTM's h₂ and an attention's h₂ would be one symbol.
    schema = (Size("heads", letter="N"), OptionalSize("kdim", letter="K"),
              OptionalSize("vdim", letter="U"), Flag("bias", default=True),
              Flag("add_bias_kv", default=False), OptionalSize("key_dim", letter="a"),
              OptionalSize("value_dim", letter="b"), OptionalSize("output_dim", letter="O"))
    reason = ("The queries, keys and values are each projected by an E × E matrix with a bias "
              "of E, and the joined heads by an E × E output projection with a bias of E; the "
              "heads share these matrices, so their number does not change the count.")

    def variant_key(self):
        keras = self.key_dim is not None
        if not keras and (self.value_dim is not None or self.output_dim is not None):
            raise SymparamsError("value_dim and output_dim are Keras' sizes: give key_dim (the "
                                 "width of each head's queries and keys) too", field="key_dim")
        if keras and self.add_bias_kv:
            raise SymparamsError("add_bias_kv is PyTorch's; Keras' attention (key_dim) has "
                                 "no such vectors", field="add_bias_kv")
        return (self.kdim is not None, self.vdim is not None, bool(self.add_bias_kv), keras,
                self.value_dim is not None, self.output_dim is not None)

    def derived(self, in_shape):
        return {"E": in_shape[-1]}

    def written_formula(self, L):
        E = L["E"]
        K, U = L["K"] if self.has_k else E, L["U"] if self.has_v else E
        if self.keras:
            return keras_attention_formula(E, K, U, L, self.has_b, self.has_o, self.bias)
        return attention_formula(E, K, U, self.bias, self.bias_kv)

    def check_input(self, in_shape):
        needs_sequence(self, in_shape)
        if not self.keras:   # Keras' heads have their own width (key_dim)
            _check_heads(self, in_shape[-1])

    def output_shape(self, in_shape):
        return (in_shape[0], self.output_dim) if self.has_o else in_shape

    def check_memory(self, in_shape, memory, name):
        # One input gives both keys and values: kdim and vdim (E when left out) its width.
        needs_sequence(self, memory)
        for field in ("kdim", "vdim"):
            expected = getattr(self, field)
            expected = in_shape[-1] if expected is None else expected
            if (memory[-1] - expected).is_number and memory[-1] != expected:
                raise SymparamsError(
                    f"{name} gives {unicode_shape(memory)}, the keys and values: its last "
                    f"axis must be {field} = {unicode_plain(expected)}", field=field)

    def step_reason(self):
        if self.keras:
            return self._keras_reason()
        keys = "an E × K matrix" if self.has_k else "an E × E matrix"
        values = "an E × U matrix" if self.has_v else "an E × E matrix"
        bias = "each with a bias of E" if self.bias else "no biases (bias: false)"
        text = (f"The queries are projected by an E × E matrix, the keys by {keys}, the values "
                f"by {values}, and the joined heads by an E × E output projection, {bias}; "
                f"the {unicode_plain(self.heads)} heads share these matrices, so their number "
                f"does not change the count.")
        if self.bias_kv:
            text += " add_bias_kv learns one more key and one more value vector of E (2 × E)."
        return text

    def _keras_reason(self) -> str:
        values = "N × b" if self.has_b else "N × a"
        keys = "K" if self.has_k else "E"
        text = (f"Keras' projections: the queries (E values) and the keys ({keys}) are each "
                f"projected to N × a values (N = {unicode_plain(self.heads)} heads of key_dim "
                f"a = {unicode_plain(self.key_dim)}), the values ({'U' if self.has_v else 'E'}) "
                f"to {values}, and the joined heads back to {'O' if self.has_o else 'E'} "
                f"values; ")
        text += ("each projection has a bias of its output width." if self.bias
                 else "no biases (bias: false).")
        return text + " Here the heads have their own width, so their number changes the count."

    def describe(self):
        parts = [f"{unicode_plain(self.heads)} heads"]
        if self.keras:
            parts.append(f"key_dim {unicode_plain(self.key_dim)}")
            if self.has_b:
                parts.append(f"value_dim {unicode_plain(self.value_dim)}")
            if self.has_o:
                parts.append(f"output {unicode_plain(self.output_dim)}")
        if self.kdim is not None:
            parts.append(f"kdim {unicode_plain(self.kdim)}")
        if self.vdim is not None:
            parts.append(f"vdim {unicode_plain(self.vdim)}")
        return ", ".join(parts)


def _attention_letters(a):
    letters = {"E": _E, **({"K": "key input width (kdim)"} if a["has_k"] else {}),
               **({"U": "value input width (vdim)"} if a["has_v"] else {})}
    if a["keras"]:
        letters.update({"N": "heads (num_heads)", "a": "width of each head's queries and keys "
                                                        "(key_dim)"})
        if a["has_b"]:
            letters["b"] = "width of each head's values (value_dim)"
        if a["has_o"]:
            letters["O"] = "output width (output_shape)"
    return letters


make_variants(MultiheadAttention, {"has_k": (False, True), "has_v": (False, True),
                                   "bias_kv": (False, True), "keras": (False, True),
                                   "has_b": (False, True), "has_o": (False, True)},
              letters=_attention_letters)


class _Transformer(_Cross, Layer):
    """A transformer layer as PyTorch builds it; see the module docstring."""
    family = SEQUENCE_FAMILY
    attentions: ClassVar[int] = 1
    letters = {"E": "model width d_model: the last axis of the input",
               "F": "feed-forward width (dim_feedforward)"}
    schema = (Size("heads"), Size("dim_feedforward", letter="F"), Flag("bias", default=True),
              Flag("norm_first", default=False))

    def derived(self, in_shape):
        return {"E": in_shape[-1]}

    def parts(self, L) -> list[tuple[str, Expr]]:
        """(name, formula) of each part, unevaluated, in the order PyTorch builds them."""
        E, F = L["E"], L["F"]
        attention = Mul(Integer(4), Grouped(Add(Mul(E, E), E))) if self.bias else \
            Mul(Integer(4), E, E)
        if self.bias:
            feed = Add(Grouped(Add(Mul(E, F), F)), Grouped(Add(Mul(F, E), E)))
        else:
            feed = Add(Mul(E, F), Mul(F, E))
        norms = self.attentions + 1
        norm = Mul(Integer(2), E) if self.bias else E   # bias: false drops β too
        names = ["self-attention", "cross-attention"][:self.attentions]
        return [*((n, attention) for n in names), ("feed-forward", feed),
                ("normalisation", Mul(Integer(norms), Grouped(norm)) if self.bias
                 else Mul(Integer(norms), norm))]

    def written_formula(self, L):
        # The feed-forward's two dense layers are terms of the sum, not a sum in parentheses.
        terms = []
        for name, formula in self.parts(L):
            terms += list(formula.args) if name == "feed-forward" else [formula]
        return Add(*terms)

    def check_input(self, in_shape):
        needs_sequence(self, in_shape)
        _check_heads(self, in_shape[-1])

    def notes(self, in_shape):
        """Each part's formula, with the sizes put in, and its count; then the sum."""
        values = {Symbol("E"): in_shape[-1], Symbol("F"): self.dim_feedforward}
        with evaluate(False):
            parts = self.parts({"E": Symbol("E"), "F": Symbol("F")})
        shown, total = [], Integer(0)
        for name, formula in parts:
            count = formula.doit().xreplace(values)
            if count.is_number:
                count = Integer(count)
            total += count
            with evaluate(False):
                put = formula.xreplace(values)
            shown.append(f"{name}: {unicode_written(formula)} = {unicode_written(put)} = "
                         f"{thousands(count)}")
        notes = [f"parts: {'; '.join(shown)}; sum {thousands(total)}"]
        if not self.bias:
            notes.append("bias switched off (layer normalisation without β too)")
        return notes

    def describe(self):
        return (f"{unicode_plain(self.heads)} heads, feed-forward "
                f"{unicode_plain(self.dim_feedforward)}")


class TransformerEncoder(_Transformer):
    """nn.TransformerEncoderLayer: self-attention, feed-forward, two normalisations.

    >>> TransformerEncoder(heads=12, dim_feedforward=3072).formula
    4*E**2 + 2*E*F + 9*E + F
    """
    kind = "transformer_encoder"
    aliases = ("transformer_encoder_layer", "transformerencoderlayer", "encoder_layer")
    title = "transformer encoder layer"
    name_prefix = "ENC"
    attentions = 1
    reason = ("It is self-attention (4 × (E × E + E): queries, keys, values and output "
              "projected), a feed-forward network of two dense layers E → F → E, and a layer "
              "normalisation (γ and β of E) after each of the two; heads and norm_first do not "
              "change the count.")


class TransformerDecoder(_Transformer):
    """nn.TransformerDecoderLayer: self-attention, attention over the encoder's output
    (a second input, ``inputs: [TARGET, MEMORY]``), feed-forward, three normalisations.

    >>> TransformerDecoder(heads=8, dim_feedforward=2048).formula
    8*E**2 + 2*E*F + 15*E + F
    """
    kind = "transformer_decoder"
    aliases = ("transformer_decoder_layer", "transformerdecoderlayer", "decoder_layer")
    title = "transformer decoder layer"
    name_prefix = "DEC"
    attentions = 2
    reason = ("It is self-attention and attention over the encoder's output (4 × (E × E + E) "
              "each), a feed-forward network of two dense layers E → F → E, and a layer "
              "normalisation (γ and β of E) after each of the three; heads and norm_first do "
              "not change the count.")


ATTENTION = (MultiheadAttention, TransformerEncoder, TransformerDecoder)
__all__ = ["MultiheadAttention", "TransformerEncoder", "TransformerDecoder", "ATTENTION",
           "attention_formula", "keras_attention_formula"]
