"""A network: letters, shape flow, totals and substitution.

Each layer family with parameters numbers its letters in order of appearance
(the first convolution has m_1, n_1, d_1, k_1, the second m_2 …, the first
dense layer c_1, p_1 …).  The network walks the input shape through the
layers, which settles the letters that follow from the layer before (d from
the channels coming in, p from the number of values coming in), and sums the
counts.  Totals stay symbolic where sizes are symbols.

The network holds the layers and the totals; the walk itself is
:mod:`symparams.walk`, setting and freeing sizes :mod:`symparams.substitution`,
and the questions (solve, growth, diff, sweep) and outputs (records, reports,
displays) are mixins from :mod:`symparams.network_questions` and
:mod:`symparams.network_outputs`, so that every one stays a method of Network.
"""
from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING, Any, Iterable, Mapping

from sympy import Add, Expr, Symbol, evaluate

from . import graph
from .addresses import resolve_size
from .errors import SymparamsError
from .layers import Input, Layer, layer_class
from .layers.base import check_flag, is_letter_name
from .numbers import as_count, plain
from .printing import ascii_plain, natural_key, unicode_plain, unicode_shape
from .shapes import Shape
from .spec import (DEFAULT_CONVENTION, Spec, check_convention, check_notes, load_spec,
                   spec_from_data)
from .layerinfo import LayerInfo, NoSuchLayer, layer_names
from .substitution import every_size_name, letter_owners, with_sizes_freed, with_sizes_set
from .walk import check_input_shape, walk
from .network_outputs import NetworkOutputs
from .network_questions import NetworkQuestions

if TYPE_CHECKING:
    from .steps import Step


class Network(NetworkQuestions, NetworkOutputs):
    """A sequence of layers on an input shape, with symbolic and exact counts.

    >>> from symparams import Network, Conv2D, MaxPool2D, Dense
    >>> net = Network([Conv2D(kernel=5, filters=8, name="CONV1"), MaxPool2D(2),
    ...                Dense(units=10)], input=(32, 32, 3))
    >>> net.total
    16298
    >>> net.total_symbolic
    c_1*p_1 + c_1 + k_1*(d_1*m_1*n_1 + 1)
    >>> net.subs(k_1=16).total
    32586
    """

    def __init__(self, layers: Iterable[Layer], input: Iterable[Any], name: str = "network",
                 title: str | None = None, source: str | None = None,
                 description: str | None = None,
                 inputs: Mapping[str, Any] | Iterable[Any] | None = None,
                 outputs: Iterable[str] | None = None, convention: str | None = None,
                 frozen: Iterable[str] = (), blocks: Mapping[str, tuple] | None = None,
                 notes: Iterable[str] = ()):
        """``inputs`` names each layer's inputs (a list parallel to the layers, or
        layer name → names; None: the layer before), ``outputs`` the layers given
        out (default: those no layer takes); see :mod:`symparams.graph`.
        ``convention`` (pytorch, the default, or keras) is how layers the frameworks
        count differently are counted, unless a layer says otherwise; ``frozen``
        names the layers that are not trained (``trainable: false``).
        ``blocks`` maps a layer name to the block instances it was expanded from
        (:class:`symparams.blocks.BlockInstance`, outermost first).  ``notes`` are
        remarks every output shows among the :attr:`warnings` (an importer's)."""
        self.name = str(name)
        self.notes: tuple[str, ...] = check_notes(list(notes), source)
        self.convention = check_convention(convention, source) or DEFAULT_CONVENTION
        self.title = title
        self.description = description
        self.source = source
        named = list(input.items()) if isinstance(input, Mapping) else [(None, input)]
        if not named:
            raise SymparamsError("expected at least one input", file=source, field="input")
        shapes = [self._check_shape(raw, None if key is None else f"input.{key}")
                  for key, raw in named]
        self.input_shape: Shape = shapes[0]
        # The first input is layer 0 (named INPUT unless the spec names its inputs); any
        # further input is an Input layer right after it, which takes nothing.
        self.input_name: str = graph.INPUT_NAME if named[0][0] is None else str(named[0][0])
        extra = [Input(shape, name=str(key)) for (key, _), shape in zip(named[1:], shapes[1:])]
        self._extra_inputs = len(extra)
        layers = [*extra, *layers]
        if extra and inputs is not None and not isinstance(inputs, Mapping):
            inputs = [*([None] * len(extra)), *inputs]
        self._layers: tuple[Layer, ...] = tuple(layers)
        self._names = self._assign_names()
        self.frozen: frozenset[str] = frozenset(frozen)
        unknown = sorted(self.frozen - set(self._names))
        if unknown:
            raise SymparamsError(f"no layer named {unknown[0]} to freeze", file=source,
                                 field="frozen")
        self._inputs = graph.inputs_per_layer(
            inputs if isinstance(inputs, Mapping) or inputs is None else list(inputs),
            self._names, source)
        self._sources = graph.resolve_sources(
            self._names, self._inputs, [layer.merges for layer in self._layers],
            [layer.kind for layer in self._layers], source, first=self.input_name,
            pairs=[getattr(layer, "takes_memory", False) for layer in self._layers],
            many=[layer.takes_many for layer in self._layers],
            none=[layer.takes_no_input for layer in self._layers])
        self._outputs = None if outputs is None else tuple(outputs)
        self._blocks = dict(blocks or {})
        self.layers: tuple[LayerInfo, ...] = self._walk()
        self.output_indices: tuple[int, ...] = graph.output_positions(
            self._sources, self._names, self._outputs, source)

    def _check_shape(self, raw: Iterable[Any], field: str | None) -> Shape:
        return check_input_shape(raw, field, self.source)

    @property
    def inputs(self) -> tuple[LayerInfo, ...]:
        """The network's inputs: layer 0, then any further named input."""
        return self.layers[:1 + self._extra_inputs]

    @property
    def outputs(self) -> tuple[LayerInfo, ...]:
        """The layers the network gives out (``outputs:``, else those no layer takes)."""
        return tuple(self.layers[i] for i in self.output_indices)

    # ----------------------------------------------------------------- building

    @classmethod
    def from_spec(cls, spec: Spec, convention: str | None = None) -> "Network":
        """The network a spec describes; ``convention`` overrides the spec's."""
        classes = []
        for entry in spec.layers:
            try:
                classes.append(layer_class(entry.type))
            except SymparamsError as exc:
                raise exc.located(file=spec.source,
                                  layer=(entry.index, entry.name or "")) from None
        names = layer_names([(c.name_prefix, e.name) for c, e in zip(classes, spec.layers)],
                            source=spec.source)
        layers, inputs, frozen = [], [], []
        for entry, layer_cls, name in zip(spec.layers, classes, names):
            where = (entry.index, name)
            fields = dict(entry.fields)
            inputs.append(fields.pop("inputs", None))   # the graph's, not the family's
            try:
                # trainable: false freezes the layer: the network's, like inputs.
                if not check_flag(fields.pop("trainable", True), "trainable"):
                    frozen.append(name)
                layers.append(layer_cls.from_fields(fields, name=entry.name,
                                                    symbols=spec.symbols))
            except SymparamsError as exc:
                raise exc.located(file=spec.source, layer=where) from None
            except TypeError as exc:  # a field given as the wrong kind of YAML value
                raise SymparamsError(str(exc), file=spec.source, layer=where) from None
        given_input = spec.input if spec.input_name is None else \
            {spec.input_name: spec.input, **dict(spec.extra_inputs)}
        return cls(layers, given_input, name=spec.name, title=spec.title, source=spec.source,
                   description=spec.description, inputs=inputs, outputs=spec.outputs,
                   convention=convention or spec.convention, frozen=frozen,
                   blocks={name: e.blocks for name, e in zip(names, spec.layers) if e.blocks},
                   notes=spec.notes)

    def _assign_names(self) -> list[str]:
        return layer_names([(layer.name_prefix, layer.name) for layer in self._layers],
                           source=self.source)

    def _walk(self) -> tuple[LayerInfo, ...]:
        return walk(self._layers, self._names, self._sources, self.input_shape,
                    self.input_name, convention=self.convention, frozen=self.frozen,
                    blocks=self._blocks, source=self.source)

    # ------------------------------------------------------------------ access

    def __getitem__(self, key: int | str) -> LayerInfo:
        """A layer by index (0 is the input, as in the table; negative from the end)
        or by name; a slice gives a tuple."""
        if isinstance(key, slice):
            return self.layers[key]
        if isinstance(key, int) or (hasattr(key, "__index__") and not isinstance(key, str)):
            try:
                return self.layers[key.__index__()]
            except IndexError:
                raise NoSuchLayer.index(self, key) from None
        if isinstance(key, str):
            for info in self.layers:
                if info.name == key:
                    return info
            raise NoSuchLayer.name(self, key)
        raise TypeError(f"expected a layer index or name, found {key!r}")

    def __len__(self) -> int:
        """The number of layers, the input (layer 0) included: the rows of the table."""
        return len(self.layers)

    def __iter__(self):
        return iter(self.layers)

    @cached_property
    def total(self) -> Expr:
        """The number of learnable parameters with the network's sizes put in
        (a :class:`~symparams.numbers.Count` when every size is known: ``f"{net.total:,}"``)."""
        return as_count(Add(*(plain(info.params) for info in self.layers)))

    @cached_property
    def trainable_total(self) -> Expr:
        """The parameters that are trained: :attr:`total` less :attr:`non_trainable_total`."""
        return as_count(Add(*(plain(info.trainable) for info in self.layers)))

    @cached_property
    def non_trainable_total(self) -> Expr:
        """Parameters that are not trained: frozen layers' and Keras' moving statistics."""
        return as_count(Add(*(plain(info.non_trainable) for info in self.layers)))

    @cached_property
    def buffers_total(self) -> Expr:
        """Values kept that are not parameters (PyTorch's running statistics); not in
        :attr:`total`."""
        return as_count(Add(*(plain(info.buffers) for info in self.layers)))

    @cached_property
    def total_symbolic(self) -> Expr:
        """The total in the layers' letters."""
        return Add(*(info.formula for info in self.layers))

    @cached_property
    def total_written(self) -> Expr:
        """The symbolic total as the document writes it: each layer's formula in its
        letters, layer after layer (unevaluated; ``doit()`` gives :attr:`total_symbolic`).

        Built from the layers' written formulas in order rather than by sorting the
        evaluated sum, which SymPy does in time quadratic in the number of terms.
        """
        with evaluate(False):
            return Add(*(info.written for info in self.layers if info.written is not None))

    @cached_property
    def warnings(self) -> tuple[str, ...]:
        """What every output shows before the numbers: the spec's notes, then one line
        per opaque layer that holds parameters (its count is the framework's number,
        with no formula behind it)."""
        lines = list(self.notes)
        for info in self.layers:
            if info.layer.counted:
                count = f"{int(info.params):,}" if info.params.is_Integer else str(info.params)
                word = "parameter" if info.params == 1 else "parameters"
                lines.append(f"layer {info.index} {info.name} (opaque {info.layer.op}): "
                             f"{count} {word} counted from the framework, no formula")
        return tuple(lines)

    @property
    def is_exact(self) -> bool:
        return bool(self.total.is_Integer)

    @cached_property
    def letters(self) -> dict[str, Symbol]:
        return {s.name: s for info in self.layers for s in info.letters.values()}

    @cached_property
    def free_symbols(self) -> dict[str, Symbol]:
        """Sizes left as names (like H), apart from the layers' own letters."""
        found: dict[str, Symbol] = {}
        for v in self.input_shape:
            found.update((s.name, s) for s in v.free_symbols)
        for layer in self._layers:
            for size in layer.sizes():
                found.update((s.name, s) for s in size.free_symbols)
        return {k: found[k] for k in sorted(found, key=natural_key) if k not in self.letters}

    @property
    def symbols(self) -> dict[str, Symbol]:
        """Every name the network knows: layer letters and free sizes."""
        return {**self.letters, **self.free_symbols}

    def letter_for(self, address: str) -> str:
        """``CONV1.filters`` → ``k_1``: the letter behind a layer field (the first of
        ``m_2, n_2`` for ``CONV2.kernel``)."""
        size = resolve_size(self, address)
        if not size.letters:
            raise SymparamsError(f"{address} is not a layer size with a letter", field=address)
        return size.letters[0]

    # ------------------------------------------------------------- substitution

    def subs(self, values: Mapping[str, Any] | None = None, **more: Any) -> "Network":
        """A new network with some sizes set.  Keys are any size address (see
        :mod:`symparams.addresses`): letters (``k_1``), free names (``H``), layer fields
        (``CONV1.filters``, ``CONV2.kernel``), input axes (``INPUT.height``,
        ``INPUT.size``; ``H``, ``W``, ``C`` for a numeric input).  Values may be
        numbers or expressions.

        >>> load("lenet").subs({"CONV2.kernel": 3, "INPUT.size": 64}).total
        389230
        """
        # Keys may be the SymPy symbols themselves: net.subs({net.symbols["H"]: 32}).
        values = {getattr(k, "name", k): v for k, v in {**(values or {}), **more}.items()}
        return self._rebuild(*with_sizes_set(self, values))

    @cached_property
    def _letter_owner(self) -> dict[str, tuple[int, str]]:
        """Letter name → (layer index, plain letter); a dict so subs stays linear."""
        return letter_owners(self.layers)

    def _locate_letter(self, name: str) -> tuple[int, str]:
        return self._letter_owner[name]

    def _rebuild(self, layers, shape) -> "Network":
        named = [layer._replace(name=name) for layer, name in zip(layers, self._names)]
        extra, named = named[:self._extra_inputs], named[self._extra_inputs:]
        given_input = tuple(shape) if self.input_name == graph.INPUT_NAME and not extra else \
            {self.input_name: tuple(shape), **{layer.name: layer.shape for layer in extra}}
        inputs = self._inputs[self._extra_inputs:]
        return Network(named, given_input, name=self.name, title=self.title,
                       source=self.source, description=self.description, inputs=inputs,
                       outputs=self._outputs, convention=self.convention, frozen=self.frozen,
                       blocks=self._blocks, notes=self.notes)

    def symbolic(self) -> "Network":
        """A copy whose every size is a letter: each given size its own letter
        (k_1 = k_1 …) and each numeric input size H, W, C (N for a flat input).

        >>> sym = load("lenet").symbolic()
        >>> sym.input_shape, sym.subs(k_1=8, H=32)["CONV1"].params
        ((H, W, C), 8*C*m_1*n_1 + 8)
        """
        return self.free(*every_size_name(self))

    def free(self, *names: str) -> "Network":
        """A copy in which the named sizes are letters again.

        Names are any size address: letters (``k_1``), layer fields (``CONV1.filters``;
        ``CONV1.kernel`` frees both m_1 and n_1) or input axes (``INPUT.height`` becomes
        ``H``, ``INPUT.size`` one ``H`` for both); letters that follow from the layer
        before are skipped, and names that are free already stay as they are.

        >>> load("lenet").free("CONV1.filters")["CONV1"].params
        76*k_1
        """
        return self._rebuild(*with_sizes_freed(self, names))

    # ----------------------------------------------------------------- outputs

    @cached_property
    def steps(self) -> list["Step"]:
        """The worked solution: one step per layer, then the total."""
        return [info.step for info in self.layers] + [self.total_step]

    @cached_property
    def total_step(self) -> "Step":
        """The total worked out: the layers' formulas added, then their counts."""
        from .steps import total_step
        return total_step(self)

    def share_of_total(self) -> Expr | None:
        """The total row's share: 1 when the total is a non-zero number."""
        return self.total / self.total if self.is_exact and self.total else None

    def share(self, info: LayerInfo) -> Expr | None:
        """The layer's share of the total as an exact fraction, when both are numbers."""
        if info.params.is_Integer and self.total.is_Integer and self.total:
            return info.params / self.total
        return None

    def to_spec(self) -> dict[str, Any]:
        """The network as spec data (what a spec file holds)."""
        data: dict[str, Any] = {"name": self.name}
        if self.title:
            data["title"] = self.title
        # Names that are no single letter are declared, so that padding: pad reads back.
        declared = [n for n in self.free_symbols if not is_letter_name(n)]
        if declared:
            data["symbols"] = declared
        if self.convention != DEFAULT_CONVENTION:
            data["convention"] = self.convention
        if self.notes:
            data["notes"] = list(self.notes)
        def written(shape):
            return [int(v) if v.is_Integer else ascii_plain(v) for v in shape]
        if self.input_name == graph.INPUT_NAME and not self._extra_inputs:
            data["input"] = written(self.input_shape)
        else:
            data["input"] = {info.name: written(info.output_shape) for info in self.inputs}
        first = 1 + self._extra_inputs
        data["layers"] = [{"name": name, **layer.to_fields()} for layer, name in
                          zip(self._layers[self._extra_inputs:], self._names[self._extra_inputs:])]
        for entry, info in zip(data["layers"], self.layers[first:]):
            if not info.takes_previous:
                entry["inputs"] = list(info.sources)
            if info.frozen:
                entry["trainable"] = False
        if self._outputs is not None:
            data["outputs"] = list(self._outputs)
        return data

    def __str__(self) -> str:
        lines = [f"{self.name}: input {unicode_shape(self.input_shape)}"]
        lines += [f"  {step}" for step in self.steps[1:-1]]
        lines.append(f"  total = {unicode_plain(self.total)}")
        return "\n".join(lines)

    def __repr__(self) -> str:
        # The input counts as layer 0, as in len(net), net[0] and the table.
        last = len(self) - 1
        span = f"0 {self.layers[0].name}" + (f" … {last} {self.layers[-1].name}" if last else "")
        return (f"<Network {self.name!r}: {len(self)} layer{'s' if last else ''} ({span}), "
                f"total {ascii_plain(self.total)}>")

def load(target: str, values: Mapping[str, Any] | None = None,
         convention: str | None = None, input_shape: Any = None,
         allow_unknown: bool = False) -> Network:
    """Load a spec file or preset as a Network, optionally with sizes set and in a
    framework's convention (``keras``; default: the spec's, else ``pytorch``).

    ``target`` may also name a model to import (see :mod:`symparams.importers`):
    ``torch:package.module:factory`` (this imports and runs that code; it needs
    ``input_shape``, e.g. ``(3, 224, 224)``), an ``.onnx`` file, a ``.keras`` file or a
    Keras model ``.json``.  ``input_shape`` is in the framework's order without the
    batch axis (letters such as ``"T"`` leave a size dynamic); ``allow_unknown``
    counts a module that has no family as an opaque layer with a warning.  A plain
    file is only ever read as data, never run.

    >>> load("lenet").total
    62958
    """
    from .importers import is_import_target, load_source   # lazily: importers sit above
    if is_import_target(target):
        data, source = load_source(target, input_shape=input_shape,
                                   allow_unknown=allow_unknown)
        spec = spec_from_data(data, source=source)
    else:
        if input_shape is not None:
            raise SymparamsError("--input (input_shape) is for a model to import (torch:, "
                                 ".onnx, .keras or a Keras .json); a spec gives its input "
                                 "itself", file=str(target), field="--input")
        spec = load_spec(target)
    net = Network.from_spec(spec, convention=convention)
    return net.subs(values) if values else net
