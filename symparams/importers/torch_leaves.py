"""PyTorch models torch.fx cannot trace, read leaf module by leaf module in call order.

``torch.fx.symbolic_trace`` fails on models whose forward pass needs values
(data-dependent control flow) or passes its arguments in ways fx cannot follow:
Hugging Face transformers' BERT, GPT-2, DistilBERT and ViT (their ``forward``
takes ``**kwargs``, which fx hands a Proxy that the library's decorators write
into). torch_fx.py then calls :func:`spec_from_leaves`.

One forward pass on fake tensors (torch_leaf_calls.py) gives every leaf call's
shapes. Each call becomes the entries of its module's rule (torch_map.py), named
by module path, each taking the layer before it in call order. Where a call's
input does not have the shape the layer before gave (functional code ran between
them: a split into heads, a reshape, a slice), a zero-parameter ``opaque`` layer
(op ``(not traced)``) hands on the shape that was recorded, so every layer's
shape is still checked by its family. A container's own parameters (ViT's class
token and position table) become ``tensor`` layers where the container is
entered; a module called a second time is counted at its first call only; a
Linear whose weight is an embedding's table is written ``tie:`` that embedding.
The spec's notes say the joins of the graph (residual adds) are not shown.
"""
from __future__ import annotations

from typing import Any

from sympy import Integer

from ..errors import SymparamsError
from .common import SpecBuilder, check_accounting
from .torch_leaf_calls import (CHANNELS_FIRST, EMBEDDINGS, LAST_AXIS, HolderEntry, LeafCall,
                               class_names, record_calls)
from .torch_map import ModuleCall, rule_for

NOT_TRACED = "(not traced)"
# The families that take a second input (keys and values, an encoder's output), and
# the forward argument that gives it.
MEMORY_ARGUMENT = {"MultiheadAttention": "key", "TransformerDecoderLayer": "memory"}


def torch_class_name(module: Any) -> str:
    """``torch.nn.PReLU`` for torch.nn's classes, else the class's module and name."""
    import torch
    cls = type(module)
    if getattr(torch.nn, cls.__name__, None) is cls:
        return f"torch.nn.{cls.__name__}"
    return f"{cls.__module__}.{cls.__qualname__}"


def our_layout(shape: tuple[int, ...], channels_first: bool) -> list[int]:
    """PyTorch's order (no batch axis) → symparams' channels-last order (contract 1)."""
    dims = list(shape)
    return dims[1:] + dims[:1] if channels_first and len(dims) >= 2 else dims


def reads_channels_first(module: Any, rank: int, before: tuple[int, bool]) -> bool:
    """Whether a tensor of ``rank`` going into ``module`` is channels first.

    ``before`` is (rank, channels first) of the output before it: an activation or a
    dropout keeps the layout of a tensor of that rank; otherwise a 2-D tensor is a
    sequence [T, E] and one of 3 or 4 axes an image or volume (C first).
    """
    names = class_names(module)
    if rank <= 1 or names & LAST_AXIS:
        return False
    if names & CHANNELS_FIRST:
        return True
    return before[1] if rank == before[0] else rank >= 3


class _Walk:
    """The spec being built from a recording, with the counting state the rules need."""

    def __init__(self, model, name: str, source: str, allow_unknown: bool):
        self.model, self.source, self.allow_unknown = model, source, allow_unknown
        self.builder = SpecBuilder(name=name, source=source)
        self.counted: dict[int, str] = {}       # id(parameter) → the layer that counts it
        self.embeddings: dict[int, str] = {}    # id(embedding weight) → its layer's name
        self.called: dict[int, str] = {}        # id(module) → the layer of its first call
        self.producers: dict[int, str] = {}     # id(output tensor) → the layer that gave it
        self.expected: list[tuple[list[str], str, int]] = []   # per-module accounting
        self.rows = 0                           # layer numbers, as Network numbers them
        self.current: str = ""
        self.shape: list[int] = []
        self.channels_first = False

    # --------------------------------------------------------------- layers

    def add(self, kind: str, name: str, inputs: list[str] | None, **fields) -> str:
        self.rows += 1
        return self.builder.add(kind, name, inputs=inputs, **fields)

    def new_parameters(self, module, recurse=True) -> list[tuple[str, Any]]:
        return [(n, p) for n, p in module.named_parameters(recurse=recurse)
                if id(p) not in self.counted]

    def tensor(self, path: str, parameter) -> None:
        shape = [int(s) for s in parameter.shape]
        if len(shape) > 1 and shape[0] == 1:
            shape = shape[1:]      # a leading 1 broadcasts over the batch: no axis of ours
        fields = {"shape": shape or [1]}
        if not parameter.requires_grad:
            fields["trainable"] = False
        name = self.add("tensor", path, [], **fields)
        self.counted[id(parameter)] = name
        self.expected.append(([name], path, parameter.numel()))

    def unknown(self, call: LeafCall, params, why: str = "") -> list[dict]:
        module, count = call.module, sum(p.numel() for _, p in params)
        cls = torch_class_name(module)
        if not self.allow_unknown:
            reason = f" ({why})" if why else ""
            raise SymparamsError(
                f"{cls} holds {count:,} parameters and symparams has no family for it{reason}; "
                f"--allow-unknown counts it as an opaque layer", file=self.source,
                layer=(self.rows + 1, call.path))
        frozen = sum(p.numel() for _, p in params if not p.requires_grad)
        buffers = sum(b.numel() for b in module.buffers() if b.is_floating_point())
        entry = {"type": "opaque", "op": cls, "params": count,
                 "output": our_layout(call.out_shape or (), self.channels_first)}
        if frozen:
            entry["non_trainable"] = frozen
        if buffers:
            entry["buffers"] = buffers
        return [entry]

    # ---------------------------------------------------------------- calls

    def holder(self, event: HolderEntry) -> None:
        for name, parameter in self.new_parameters(event.module, recurse=False):
            self.tensor(f"{event.path}.{name}" if event.path else name, parameter)

    def call(self, call: LeafCall) -> None:
        module = call.module
        first_shape = call.in_shapes[0] if call.in_shapes else ()
        channels_first = reads_channels_first(module, len(first_shape),
                                              (len(self.shape), self.channels_first))
        entries, params = self.entries(call)
        if not entries:
            return
        wanted = our_layout(first_shape, channels_first)
        if wanted != self.shape:
            self.current = self.add("opaque", "not_traced", [self.current], op=NOT_TRACED,
                                    output=wanted)
        inputs = [self.current, *self.memory(call, channels_first)]
        names = []
        for index, entry in enumerate(entries):
            kind = entry.pop("type")
            name = call.path if index == 0 else f"{call.path}.{index}"
            if params and not any(p.requires_grad for _, p in params) and kind != "opaque":
                entry["trainable"] = False
            names.append(self.add(kind, name or type(module).__name__, inputs, **entry))
            inputs = [names[-1]]
        if id(module) not in self.called:
            self.called[id(module)] = names[0]
            for _, parameter in params:
                self.counted[id(parameter)] = names[0]
            if class_names(module) & set(EMBEDDINGS):
                self.embeddings[id(module.weight)] = names[0]
            self.expected.append((names, call.path, sum(p.numel() for _, p in params)))
        self.current = names[-1]
        self.channels_first = channels_first and len(call.out_shape or ()) >= 2
        self.shape = our_layout(call.out_shape or (), self.channels_first)
        if call.output is not None:
            self.producers[id(call.output)] = self.current

    def entries(self, call: LeafCall) -> tuple[list[dict], list]:
        """The call's entries (a copy of the rule's) and the parameters they count."""
        module = call.module
        if id(module) in self.called:
            if next(module.parameters(), None) is None:
                return self.rule_entries(call, []), []
            return [{"type": "opaque", "op": f"{torch_class_name(module)}, called again "
                                             f"(counted at {self.called[id(module)]})",
                     "output": our_layout(call.out_shape or (), self.channels_first)}], []
        params = self.new_parameters(module)
        shared = [n for n, p in module.named_parameters() if id(p) in self.counted]
        tie = None
        if shared:
            weight = getattr(module, "weight", None)
            if shared == ["weight"] and id(weight) in self.embeddings \
                    and class_names(module) & {"Linear"}:
                tie = self.embeddings[id(weight)]
            else:
                return self.unknown(call, params, f"it shares {', '.join(shared)} with "
                                                  f"{self.counted[id(module.get_parameter(shared[0]))]}"), params
        try:
            entries = self.rule_entries(call, params)
        except NotImplementedError as reason:   # the rule's configuration has no family
            return self.unknown(call, params, str(reason)), params
        if entries is None:
            if params:
                return self.unknown(call, params), params
            return [{"type": "opaque", "op": torch_class_name(module),
                     "output": our_layout(call.out_shape or (), self.channels_first)}], params
        if tie is not None:
            entries[0]["tie"] = tie
        return entries, params

    def rule_entries(self, call: LeafCall, params) -> list[dict] | None:
        rule = rule_for(call.module)
        if rule is None:
            return None
        found = rule(ModuleCall(call.path, call.module, call.in_shapes, call.out_shape))
        return [dict(entry) for entry in found]

    def memory(self, call: LeafCall, channels_first: bool) -> list[str]:
        """The second input of a cross-attention: the layer that gave its keys and values."""
        argument = next((MEMORY_ARGUMENT[n] for n in class_names(call.module)
                         if n in MEMORY_ARGUMENT), None)
        tensors = list(call.args.values())
        memory = call.args.get(argument) if argument else None
        if memory is None or memory is tensors[0]:
            return []
        if argument == "key" and call.args.get("value") is not memory:
            return []          # keys and values from different tensors: one input counts the same
        if id(memory) in self.producers:
            return [self.producers[id(memory)]]
        shape = [int(s) for s in memory.shape]
        shape = shape[1:] if len(shape) > 2 else shape
        return [self.add("opaque", "not_traced", [self.current], op=NOT_TRACED,
                         output=our_layout(tuple(shape), channels_first))]


def spec_from_leaves(module, input_shape, *, name: str, allow_unknown: bool, source: str,
                     reason: str) -> dict:
    """Spec data for ``module`` from its leaf calls in order (see the module docstring).

    ``input_shape`` is the model's input in PyTorch's order without the batch axis;
    ``reason`` says why fx could not trace (it goes into the spec's notes). The data
    has passed the accounting check: total, trainable, non-trainable and buffers, and
    every module's own count.
    """
    recording = record_calls(module, tuple(int(s) for s in input_shape), source)
    walk = _Walk(module, name, source, allow_unknown)
    first = next((e for e in recording.events if isinstance(e, LeafCall)), None)
    channels_first = first is not None and reads_channels_first(
        first.module, len(input_shape), (len(input_shape), len(input_shape) >= 3))
    walk.channels_first = channels_first
    walk.shape = our_layout(tuple(input_shape), channels_first)
    walk.current = walk.builder.add_input("INPUT", walk.shape)
    walk.rows = 0
    for event in recording.events:
        if isinstance(event, HolderEntry):
            walk.holder(event)
        else:
            walk.call(event)
    unused = [(path, m) for path, m in module.named_modules() if walk.new_parameters(m, False)]
    for path, holder in unused:
        for pname, parameter in walk.new_parameters(holder, recurse=False):
            walk.tensor(f"{path}.{pname}" if path else pname, parameter)
    walk.builder.notes.append(
        f"fx could not trace {name} ({' '.join(str(reason).split())[:200]}); layers were read "
        f"in call order, the graph's joins are not shown (input: {recording.input_dtype}"
        f"{' token ids' if recording.input_dtype == 'int64' else ''})")
    if recording.with_values:
        walk.builder.notes.append(
            "the forward pass needs tensor values (data-dependent control flow): it was run "
            "once on an input of zeros, and the layers are those that input reached")
    if unused:
        walk.builder.notes.append(
            "parameters of " + ", ".join(p or "the model" for p, _ in unused[:5])
            + (" …" if len(unused) > 5 else "") + " were not used by the forward pass: "
            "counted as tensor layers")
    data = walk.builder.data()
    check_leaf_accounting(module, data, walk.expected, source)
    return data


def check_leaf_accounting(model, data: dict, expected, source: str) -> None:
    """The imported counts against PyTorch's: totals (contract 5) and module by module."""
    from ..network import Network
    from ..spec import spec_from_data
    net = Network.from_spec(spec_from_data(data, source=source))
    parameters = list(model.parameters())
    trainable = sum(p.numel() for p in parameters if p.requires_grad)
    frozen = sum(p.numel() for p in parameters if not p.requires_grad)
    buffers = sum(b.numel() for b in model.buffers() if b.is_floating_point())
    what = "PyTorch's sum of unique {} parameters' numel()"
    check_accounting(Integer(net.trainable_total), trainable, what.format("trainable"), source)
    check_accounting(Integer(net.non_trainable_total), frozen, what.format("frozen"), source)
    check_accounting(Integer(net.buffers_total), buffers,
                     "PyTorch's sum of floating-point buffers' numel()", source)
    for names, path, count in expected:
        found = sum(Integer(net[n].params) for n in names)
        check_accounting(found, count, f"{path}'s own parameters' numel()", source)
