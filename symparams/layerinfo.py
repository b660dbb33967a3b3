"""One layer inside a network: its letters, shapes and counts (torchinfo's one
small info object per layer), the names layers are given, and the error for a
layer that is not there.

The worked steps a LayerInfo shows are built in :mod:`symparams.steps`, which
sits above this module; the convenience properties import it when asked.
"""
from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING

from sympy import Expr, Symbol, evaluate

from .addresses import listing
from .errors import SymparamsError
from .layers import Layer, generic_formula
from .numbers import as_count
from .printing import Inserted, ascii_plain, unicode_shape
from .shapes import AxisWorking, Shape
from .spec import size_symbol

if TYPE_CHECKING:
    from .network import Network
    from .steps import Step


class LayerInfo:
    """Everything known about one layer inside a network (torchinfo-style).

    ``formula`` is the count in this layer's letters, ``params`` the count with
    the network's sizes put in (an Integer when every size is known).
    """

    def __init__(self, index: int, name: str, layer: Layer, input_shape: Shape,
                 output_shape: Shape, letters: dict[str, Symbol], values: dict[Symbol, Expr],
                 params: Expr, sources: tuple[str, ...] = (),
                 input_shapes: tuple[Shape, ...] = (), frozen: bool = False):
        self.index = index
        self.frozen = frozen   # trainable: false: its parameters are not trained
        # The layers it takes (names; the layer before unless inputs: says otherwise)
        # and their shapes: a merge layer has several, any other layer one.
        self.sources = tuple(sources)
        self.input_shapes = tuple(input_shapes) or ((input_shape,) if index else ())
        self.takes_previous = True   # set by the network when inputs: names another layer
        # The block instances it comes from, outermost first (symparams.blocks.BlockInstance).
        self.blocks: tuple = ()
        self.name = name
        self.layer = layer
        self.kind = layer.kind
        self.input_shape = input_shape
        self.output_shape = output_shape
        self.letters = letters
        self.values = values
        self.params = as_count(params)   # an Integer count also takes format specs

    # The three parts of a count: params (the framework's parameter count) is
    # trainable + non_trainable; buffers are kept values that are not parameters.

    @cached_property
    def non_trainable(self) -> Expr:
        """Parameters not trained: all of them when frozen, else those the family says
        (Keras' moving mean and variance)."""
        return self.params if self.frozen else as_count(_part(self.layer, "non_trainable",
                                                              self.input_shape))

    @cached_property
    def trainable(self) -> Expr:
        return as_count(self.params - self.non_trainable)

    @cached_property
    def buffers(self) -> Expr:
        """Values the layer keeps that are not parameters (PyTorch's running statistics)."""
        return as_count(_part(self.layer, "buffers", self.input_shape))

    @cached_property
    def formula(self) -> Expr:
        """The count in this layer's letters, e.g. ``k_1*(d_1*m_1*n_1 + 1)`` (an opaque
        layer's is the framework's number: it has no formula)."""
        if self.layer.counted is not None:
            return self.layer.counted
        formula = generic_formula(type(self.layer), self.layer.bias)[1]
        return formula.xreplace({size_symbol(l): s for l, s in self.letters.items()})

    @cached_property
    def written(self) -> Expr | None:
        """The formula in this layer's letters, unevaluated, in the document's order (an
        opaque layer's number when it holds parameters, so that the total adds it)."""
        if self.layer.counted is not None:
            return self.layer.counted if self.layer.counted else None
        if not self.layer.has_params:
            return None
        written = generic_formula(type(self.layer), self.layer.bias)[0]
        generic = {size_symbol(l): s for l, s in self.letters.items()}
        with evaluate(False):
            return written.xreplace(generic)

    @cached_property
    def substituted(self) -> Expr | None:
        """The written formula with every known size put in, still unevaluated."""
        if self.written is None or self.layer.counted is not None:
            return self.written
        mapping = {s: v if v.is_Atom else Inserted(v) for s, v in self.values.items()}
        with evaluate(False):
            return self.written.xreplace(mapping)

    @cached_property
    def step(self) -> "Step":
        """The worked step: formula, numbers put in, count (built in :mod:`symparams.steps`)."""
        from .steps import layer_step
        return layer_step(self)

    @property
    def graph_notes(self) -> tuple[str, ...]:
        """Where the input comes from, when it is not simply the layer above."""
        if self.takes_previous or not self.sources:   # a network input takes nothing
            return ()
        if len(self.sources) == 1:
            return (f"input from {self.sources[0]} (not the layer above)",)
        shapes = ", ".join(f"{n} {unicode_shape(s)}"
                           for n, s in zip(self.sources, self.input_shapes))
        return (f"inputs from {shapes}",)

    @cached_property
    def shape_working(self) -> tuple[AxisWorking, ...]:
        """How each output size follows from the input, one entry per output size
        (``count --json``'s ``shape_formula`` and ``shape_substituted``)."""
        if self.layer.merges:
            return tuple(self.layer.merge_working(list(self.input_shapes)))
        return tuple(self.layer.shape_working(self.input_shape))

    @cached_property
    def shape_steps(self) -> tuple["Step", ...]:
        """The worked output shape: one step per size that is worked out, not handed on.

        A convolution or pooling gives its output height and width (one step when
        both axes are worked out alike), a flatten the product of its input's sizes,
        a dense layer on a height × width × channels input the values it flattens
        them to.  Homework answer keys for shape questions show these steps.
        """
        from .steps import layer_shape_steps
        return layer_shape_steps(self)

    def __repr__(self) -> str:
        return f"<LayerInfo {self.index} {self.name} ({self.kind}): {ascii_plain(self.params)}>"

    def __str__(self) -> str:
        return str(self.step)

    def _latex(self, printer=None) -> str:
        return self.step._latex()

    def _repr_latex_(self) -> str:
        return self.step._repr_latex_()

    def _pretty(self, printer=None):
        return self.step._pretty(printer)


def _part(layer: Layer, part: str, in_shape: Shape) -> Expr:
    """A family's non_trainable or buffers for its input; an opaque layer holds the
    framework's numbers in fields of those names instead of the methods."""
    value = getattr(layer, part)
    return value(in_shape) if callable(value) else value


class NoSuchLayer(KeyError):
    """``net["NOPE"]``: a KeyError whose message lists the layers (shortened if long)."""

    def __str__(self) -> str:   # KeyError would print the repr of the message
        return str(self.args[0])

    @classmethod
    def name(cls, net: "Network", key: str) -> "NoSuchLayer":
        return cls(f"no layer named {key!r} (layers: {listing(i.name for i in net.layers)})")

    @staticmethod
    def index(net: "Network", key) -> IndexError:
        last = len(net.layers) - 1
        return IndexError(f"no layer {key}: {net.name} has layers 0 ({net.layers[0].name}) "
                          f"… {last} ({net.layers[-1].name})")


def layer_names(entries: list[tuple[str, str | None]], source: str | None = None) -> list[str]:
    """Names for (prefix, given name) pairs: given names kept (unique), others
    numbered per prefix (CONV1, POOL1 …) skipping names already taken."""
    used = {name for _, name in entries if name}
    seen: set[str] = set()
    counters: dict[str, int] = {}
    names = []
    for index, (prefix, given) in enumerate(entries, start=1):
        if given:
            if given in seen:
                raise SymparamsError("the same name is used by an earlier layer; names must "
                                     "be unique", file=source, layer=(index, given),
                                     field="name")
            name = given
        else:
            while True:
                counters[prefix] = counters.get(prefix, 0) + 1
                name = f"{prefix}{counters[prefix]}"
                if name not in used and name not in seen:
                    break
        seen.add(name)
        names.append(name)
    return names
