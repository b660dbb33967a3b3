"""PyTorch models torch.fx cannot trace, read from one forward pass, leaf by leaf.

``torch.fx.symbolic_trace`` fails on models whose forward pass needs values
(data-dependent control flow) or passes its arguments in ways fx cannot follow:
Hugging Face transformers' BERT, GPT-2, DistilBERT and ViT (their ``forward``
takes ``**kwargs``, which fx hands a Proxy that the library's decorators write
into). torch_fx.py then calls :func:`spec_from_leaves`.

One forward pass on fake tensors (torch_leaf_calls.py) gives every leaf call in
order with its shapes, and every torch function called between them. Each call
becomes the entries of its module's rule (torch_map.py), named by module path;
its input is the layer its tensor came from (torch_leaf_graph.py: residual adds
and concatenations as add and concat layers, other functional code as
zero-parameter opaque layers). A container's own parameters (ViT's class token
and position table) become ``tensor`` layers where the container is entered; a
module called a second time is counted at its first call only; a Linear whose
weight is an embedding's table is written ``tie:`` that embedding.

Should those joins not make a network that builds (a layout guessed wrongly), the
layers are chained in call order instead: where a call's input does not have the
shape the layer before gave, a zero-parameter ``opaque`` layer (op ``(not
traced)``) hands on the shape that was recorded, so every layer's shape is still
checked by its family, and the note says the graph's joins are not shown.
"""
from __future__ import annotations

from math import prod
from typing import Any

from sympy import Integer

from ..errors import SymparamsError
from .common import SpecBuilder, check_accounting
from .torch_leaf_calls import (CHANNELS_FIRST, EMBEDDINGS, LAST_AXIS, HolderEntry, LeafCall,
                               class_names, record_calls)
from .torch_leaf_graph import Sources
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
    """PyTorch's order (no batch axis) → symparams' channels-last order (contract 1);
    more than 4 axes (MaxViT's windows) join their leading ones, as torch_graph.py does."""
    dims = [int(size) for size in shape]
    if channels_first and len(dims) >= 2:
        dims = dims[1:] + dims[:1]
    if len(dims) > 4:
        dims = [prod(dims[:-3]), *dims[-3:]]
    return dims


def reads_channels_first(module: Any, rank: int, before: tuple[int, bool]) -> bool:
    """Whether a tensor of ``rank`` going into ``module`` is channels first.

    ``before`` is (rank, channels first) of the output before it: an activation or a
    dropout keeps the layout of a tensor of that rank; otherwise a 2-D tensor is a
    sequence [T, E] and one of 3 or 4 axes an image or volume (C first).
    """
    names = class_names(module)
    if rank <= 1:
        return False
    if names & CHANNELS_FIRST:      # first: LayerNorm2d is a LayerNorm by its class
        return True
    if names & LAST_AXIS:
        return False
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
        self.sources: Sources | None = None     # the joins, when the functions were read
        self.current: str = ""
        self.input: str = "INPUT"
        self.buffers_held: set[int] = set()     # id(module) whose buffers a layer holds
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
        if self.sources is not None:
            self.sources.register(parameter, name, fields["shape"])
        self.expected.append(([name], path, parameter.numel()))

    @staticmethod
    def float_buffers(module, recurse=True) -> int:
        return sum(b.numel() for b in module.buffers(recurse=recurse) if b.is_floating_point())

    @staticmethod
    def plain(module, output: list[int], buffers: int) -> dict:
        """A module without parameters and without a family: a zero-parameter opaque layer
        (holding the floating-point buffers it computes with, if any)."""
        entry = {"type": "opaque", "op": torch_class_name(module), "output": output}
        if buffers:
            entry["buffers"] = buffers
        return entry

    def held_buffers(self, path: str, module) -> None:
        """Floating-point buffers no layer holds (a container's own, an uncalled module's):
        a zero-parameter opaque layer that takes nothing and holds them."""
        count = self.float_buffers(module, recurse=False)
        self.buffers_held.add(id(module))
        if count:
            first = next(b for b in module.buffers(recurse=False) if b.is_floating_point())
            shape = [int(s) for s in first.shape][-4:] or [1]
            self.add("opaque", f"{path}.buffers" if path else "buffers", [],
                     op=f"{torch_class_name(module)} buffers", buffers=count, output=shape)

    def unknown(self, call: LeafCall, params, output: list[int], why: str = "") -> list[dict]:
        module, count = call.module, sum(p.numel() for _, p in params)
        cls = torch_class_name(module)
        if not self.allow_unknown:
            reason = f" ({why})" if why else ""
            raise SymparamsError(
                f"{cls} holds {count:,} parameters and symparams has no family for it{reason}; "
                f"--allow-unknown counts it as an opaque layer", file=self.source,
                layer=(self.rows + 1, call.path))
        frozen = sum(p.numel() for _, p in params if not p.requires_grad)
        buffers = self.float_buffers(module)
        entry = {"type": "opaque", "op": cls, "params": count, "output": output}
        if frozen:
            entry["non_trainable"] = frozen
        if buffers:
            entry["buffers"] = buffers
        return [entry]

    # ---------------------------------------------------------------- calls

    def holder(self, event: HolderEntry) -> None:
        for name, parameter in self.new_parameters(event.module, recurse=False):
            self.tensor(f"{event.path}.{name}" if event.path else name, parameter)
        if id(event.module) not in self.buffers_held:
            self.held_buffers(event.path, event.module)

    def call(self, call: LeafCall) -> None:
        module = call.module
        first_shape = call.in_shapes[0] if call.in_shapes else ()
        channels_first = reads_channels_first(module, len(first_shape),
                                              (len(self.shape), self.channels_first))
        entries, params = self.entries(call, channels_first)
        if not entries:
            return
        wanted = our_layout(first_shape, channels_first)
        source = None
        if self.sources is not None and call.args:
            source = self.sources.find(next(iter(call.args.values())), wanted, channels_first)
        if source is None and self.sources is not None:
            # made inside the model from no layer (position ids from arange, a buffer):
            # shown as coming from the input, whose length it usually follows
            source = self.add("opaque", "not_traced", [self.input], op=NOT_TRACED,
                              output=wanted)
        if source is None:                      # call order: the layer called before
            if wanted != self.shape:
                self.current = self.add("opaque", "not_traced", [self.current], op=NOT_TRACED,
                                        output=wanted)
            source = self.current
        inputs = [source, *self.memory(call, channels_first)]
        names, shape = [], wanted
        for index, entry in enumerate(entries):
            kind = entry.pop("type")
            name = call.path if index == 0 else f"{call.path}.{index}"
            name = name or type(module).__name__
            if params and not any(p.requires_grad for _, p in params) and kind != "opaque":
                entry["trainable"] = False
            if kind == "dense" and len(shape) > 2:
                # Linear on [H, W, C] acts at each position; our dense reads a [T, E]
                # sequence: the positions are laid out as one and put back after
                rows = prod(shape[:-1])
                inputs = [self.add("reshape", f"{name}.positions", inputs,
                                   target=[rows, shape[-1]])]
                names.append(self.add(kind, name, inputs, **entry))
                shape = [*shape[:-1], int(entry["units"])]
                names.append(self.add("reshape", f"{name}.grid", [names[-1]], target=shape))
            else:
                names.append(self.add(kind, name, inputs, **entry))
            inputs = [names[-1]]
        if id(module) not in self.called:
            self.called[id(module)] = names[0]
            self.buffers_held.update(id(m) for m in module.modules())
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
        if self.sources is not None:
            for tensor in call.outputs:
                self.sources.register(tensor, self.current, self.shape if tensor is call.output
                                      else self.tensor_shape(tensor, self.channels_first))

    @staticmethod
    def tensor_shape(tensor, channels_first: bool) -> list[int]:
        """A recorded tensor's shape in our layout (its first axis taken as the batch)."""
        return our_layout(tuple(int(s) for s in tensor.shape)[1:], channels_first)

    def entries(self, call: LeafCall, channels_first: bool) -> tuple[list[dict], list]:
        """The call's entries (a copy of the rule's) and the parameters they count."""
        module = call.module
        output = our_layout(call.out_shape or (), channels_first)
        if id(module) in self.called:
            if next(module.parameters(), None) is None:
                try:
                    return self.rule_entries(call, []) or [self.plain(module, output, 0)], []
                except NotImplementedError:
                    return [self.plain(module, output, 0)], []
            return [{"type": "opaque", "op": f"{torch_class_name(module)}, called again "
                                             f"(counted at {self.called[id(module)]})",
                     "output": output}], []
        params = self.new_parameters(module)
        shared = [n for n, p in module.named_parameters() if id(p) in self.counted]
        tie = None
        if shared:
            weight = getattr(module, "weight", None)
            if shared == ["weight"] and id(weight) in self.embeddings \
                    and class_names(module) & {"Linear"}:
                tie = self.embeddings[id(weight)]
            else:
                holder = self.counted[id(module.get_parameter(shared[0]))]
                return self.unknown(call, params, output, f"it shares {', '.join(shared)} "
                                                          f"with {holder}"), params
        try:
            entries = self.rule_entries(call, params)
        except NotImplementedError as reason:   # the rule's configuration has no family
            if not params:
                return [self.plain(module, output, self.float_buffers(module))], params
            return self.unknown(call, params, output, str(reason)), params
        if entries is None:
            if params:
                return self.unknown(call, params, output), params
            return [self.plain(module, output, self.float_buffers(module))], params
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
        if self.sources is not None:
            found = self.sources.find(memory, our_layout(tuple(shape), channels_first),
                                      channels_first)
            if found is not None:
                return [found]
        return [self.add("opaque", "not_traced", [self.current], op=NOT_TRACED,
                         output=our_layout(tuple(shape), channels_first))]


def spec_from_leaves(module, input_shape, *, name: str, allow_unknown: bool, source: str,
                     reason: str) -> dict:
    """Spec data for ``module`` from its leaf calls in order (see the module docstring).

    ``input_shape`` is the model's input in PyTorch's order without the batch axis;
    ``reason`` says why fx could not trace (it goes into the spec's notes). The data
    has passed the accounting check: total, trainable, non-trainable and buffers, and
    every module's own count.

    The joins (torch_leaf_graph.py) are read first; should the network they make not
    build (a layout guessed wrongly), the layers are chained in call order instead.
    """
    recording = record_calls(module, tuple(int(s) for s in input_shape), source)
    reason = " ".join(str(reason).split())[:200]
    try:
        data = _build(module, recording, input_shape, name, source, allow_unknown, joins=True)
        net = _network(data, source)
    except SymparamsError as error:
        if "--allow-unknown" in str(error):
            raise
        data = _build(module, recording, input_shape, name, source, allow_unknown, joins=False)
        data["notes"][0] = (f"fx could not trace {name} ({reason}); layers were read in call "
                            f"order, the graph's joins are not shown ({data['notes'][0]})")
        net = _network(data, source)
    else:
        data["notes"][0] = (f"fx could not trace {name} ({reason}); layers were read in call "
                            f"order from one forward pass, the functional code between them as "
                            f"zero-parameter opaque layers ({data['notes'][0]})")
    check_leaf_accounting(module, net, data["_expected"], source)
    del data["_expected"]
    return data


def _network(data: dict, source: str):
    from ..network import Network
    from ..spec import spec_from_data
    clean = {key: value for key, value in data.items() if not key.startswith("_")}
    return Network.from_spec(spec_from_data(clean, source=source))


def _build(module, recording, input_shape, name, source, allow_unknown, joins: bool) -> dict:
    walk = _Walk(module, name, source, allow_unknown)
    first = next((e for e in recording.events if isinstance(e, LeafCall)), None)
    channels_first = first is not None and reads_channels_first(
        first.module, len(input_shape), (len(input_shape), len(input_shape) >= 3))
    walk.channels_first = channels_first
    walk.shape = our_layout(tuple(input_shape), channels_first)
    walk.current = walk.input = walk.builder.add_input("INPUT", walk.shape)
    if joins:
        walk.sources = Sources(recording.made_by, walk.add, walk.tensor_shape)
        walk.sources.register(recording.example, walk.current, walk.shape)
    for event in recording.events:
        if isinstance(event, HolderEntry):
            walk.holder(event)
        else:
            walk.call(event)
    unused = [(path, m) for path, m in module.named_modules() if walk.new_parameters(m, False)]
    for path, holder in unused:
        for pname, parameter in walk.new_parameters(holder, recurse=False):
            walk.tensor(f"{path}.{pname}" if path else pname, parameter)
    for path, held in module.named_modules():
        if id(held) not in walk.buffers_held:
            walk.held_buffers(path, held)
    walk.builder.notes.append(f"input: {recording.input_dtype}"
                              f"{' token ids' if recording.input_dtype == 'int64' else ''}")
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
    data["_expected"] = walk.expected
    return data


def check_leaf_accounting(model, net, expected, source: str) -> None:
    """The imported counts against PyTorch's: totals (contract 5) and module by module."""
    parameters = list(model.parameters())
    trainable = sum(p.numel() for p in parameters if p.requires_grad)
    frozen = sum(p.numel() for p in parameters if not p.requires_grad)
    buffers = sum(b.numel() for b in model.buffers() if b.is_floating_point())
    for names, path, count in expected:     # module by module first: it names the culprit
        found = sum(Integer(net[n].params) for n in names)
        check_accounting(found, count, f"{path}'s own parameters' numel()", source)
    what = "PyTorch's sum of unique {} parameters' numel()"
    check_accounting(Integer(net.trainable_total), trainable, what.format("trainable"), source)
    check_accounting(Integer(net.non_trainable_total), frozen, what.format("frozen"), source)
    check_accounting(Integer(net.buffers_total), buffers,
                     "PyTorch's sum of floating-point buffers' numel()", source)
