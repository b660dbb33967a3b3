"""Embeddings: a learned vector for each token id, or for each position.

An embedding is a table of V rows (the vocabulary) of E values each; a token id
picks its row, so a sequence of T ids becomes T × E values.  A learned positional
embedding has a row for each of T positions it knows (``max_positions``) and adds
row t to the t-th vector of a T × E sequence.  ``select_token`` keeps one position
of a sequence (BERT's pooler reads the first token, [CLS]).
"""
from __future__ import annotations

from dataclasses import dataclass

from sympy import Mul

from ..errors import SymparamsError
from ..printing import unicode_plain, unicode_shape
from ..shapes import given_working, passed_on
from .base import Layer
from .fields import Size

SEQUENCE_FAMILY = "sequence"   # embeddings and attention number their letters together
_WIDTH = "embedding width: values in each token's vector"


@dataclass(frozen=True)
class OptionalSize(Size):
    """A size that may be left out (None): padding_idx, an attention's kdim."""
    default: object = None

    def sizes(self, value):
        return [] if value is None else [value]

    def replace(self, value, mapping):
        return None if value is None else value.xreplace(mapping)

    def write(self, value):
        return None if value is None else super().write(value)


def needs_sequence(layer: Layer, in_shape, what: str = "[T, E] (positions, features)") -> None:
    """Refuse an input that is not a sequence of vectors."""
    if len(in_shape) != 2:
        raise SymparamsError(f"{layer.kind} needs a sequence input {what}, found "
                             f"{unicode_shape(in_shape)}", field="type")


class Embedding(Layer):
    """A table of V learned vectors of E values; token ids pick rows.

    >>> Embedding(vocab_size=100, embed_dim=16).formula
    E*V
    """
    kind = "embedding"
    aliases = ("embed", "token_embedding")
    title = "embedding"
    family = SEQUENCE_FAMILY
    name_prefix = "EMBED"
    letters = {"V": "vocabulary: token ids the table has a row for", "E": _WIDTH}
    schema = (Size("vocab_size", letter="V"), Size("embed_dim", letter="E"),
              OptionalSize("padding_idx", minimum=0))
    reason = ("Each of the V token ids has a learned vector of E values; the padding row "
              "(padding_idx) is a row of the table like any other.")

    def check(self):
        pad, vocab = self.padding_idx, self.vocab_size
        if pad is not None and pad.is_number and vocab.is_number and pad >= vocab:
            raise SymparamsError(f"padding_idx {pad} is not a row of a vocabulary of "
                                 f"{vocab} (0 … {vocab - 1})", field="padding_idx")

    def written_formula(self, L):
        return Mul(L["V"], L["E"])

    def notes(self, in_shape):
        return []   # no bias field: nothing switched off

    def check_input(self, in_shape):
        if len(in_shape) > 3:
            raise SymparamsError(f"embedding appends an axis of E values; its input "
                                 f"{unicode_shape(in_shape)} has too many axes already",
                                 field="type")

    def output_shape(self, in_shape):
        return (*in_shape, self.E)

    def shape_working(self, in_shape):
        handed = passed_on(in_shape) if len(in_shape) > 1 else \
            (given_working("length", "T", in_shape[0]),)
        return (*handed, given_working("features", "E", self.E))

    def describe(self):
        text = f"{unicode_plain(self.V)} tokens × {unicode_plain(self.E)} values"
        if self.padding_idx is not None:
            text += f", padding row {unicode_plain(self.padding_idx)}"
        return text


class PositionalEmbedding(Layer):
    """A learned vector for each of T positions, added to a T × E sequence.

    >>> PositionalEmbedding(max_positions=512).formula
    E*T
    """
    kind = "positional_embedding"
    aliases = ("position_embedding", "learned_positional_embedding", "pos_embedding")
    title = "positional embedding"
    family = SEQUENCE_FAMILY
    name_prefix = "POS"
    letters = {"T": "positions it has a vector for (max_positions)",
               "E": "embedding width: the last axis of the input"}
    schema = (Size("max_positions", letter="T"),)
    reason = ("Each of the T positions has a learned vector of E values, added to the input's "
              "vector at that position; a shorter sequence uses the first rows.")

    def check_input(self, in_shape):
        needs_sequence(self, in_shape)
        length = in_shape[0]
        if length.is_number and self.T.is_number and length > self.T:
            raise SymparamsError(f"the sequence has {length} positions, more than the "
                                 f"{self.T} of max_positions", field="max_positions")

    def derived(self, in_shape):
        return {"E": in_shape[-1]}

    def written_formula(self, L):
        return Mul(L["T"], L["E"])

    def notes(self, in_shape):
        return []   # no bias field: nothing switched off

    def describe(self):
        return f"{unicode_plain(self.T)} positions"


class SelectToken(Layer):
    """One position of a T × E sequence, as a vector of E values (BERT's [CLS] token)."""
    kind = "select_token"
    aliases = ("cls_token", "first_token")
    title = "token selection"
    name_prefix = "TOKEN"
    schema = (Size("index", default=0, minimum=0),)
    reason = "Picking one position of the sequence uses no weights: nothing is learned."

    def check_input(self, in_shape):
        needs_sequence(self, in_shape)
        if in_shape[0].is_number and self.index.is_number and self.index >= in_shape[0]:
            raise SymparamsError(f"position {self.index} is not in a sequence of "
                                 f"{in_shape[0]}", field="index")

    def output_shape(self, in_shape):
        return (in_shape[-1],)

    def shape_working(self, in_shape):
        return (given_working("values", "E", in_shape[-1]),)

    def describe(self):
        return "first position" if self.index == 0 else f"position {unicode_plain(self.index)}"


EMBEDDINGS = (Embedding, PositionalEmbedding, SelectToken)
__all__ = ["Embedding", "PositionalEmbedding", "SelectToken", "EMBEDDINGS", "OptionalSize",
           "SEQUENCE_FAMILY", "needs_sequence"]
