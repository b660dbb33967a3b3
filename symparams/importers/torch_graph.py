"""Walk a traced PyTorch graph and write spec entries: layout, parameters and leaf modules.

Every fx node's result becomes a value (torch_values.py): a tensor held by a
spec layer or input, a tuple of values, or a constant that feeds no layer.

Layout (contract 1): PyTorch keeps channels first (``N, C, H, W``), symparams
channels last (``[H, W, C]``). Each tensor remembers whether its PyTorch shape
is channels first (``CF``: what convolutions and pooling make) or features
last (``FL``: what Linear, LayerNorm and attention work on); :func:`ours`
turns it into our shape. A permute that only moves the channels to the end
(ConvNeXt's ``Permute([0, 2, 3, 1])``) changes the layout flag, not our shape,
so it writes no layer.

Parameters read with ``get_attr`` (a ViT's class token, a ConvNeXt layer
scale) become ``tensor`` layers when an operation uses them, in the layout of
the tensor they are combined with.
"""
from __future__ import annotations

import re
from dataclasses import replace
from math import prod
from typing import Any

from ..errors import SymparamsError
from .common import SpecBuilder
from .torch_values import CF, FL, Piece, Tensor, first_shape, flat_values, ours, with_first


# Module classes whose PyTorch input is channels first (N, C, ...) and whose
# output is too; the shape-keeping ones take either layout.
_CHANNELS_FIRST = ("Conv", "MaxPool", "AvgPool", "AdaptiveAvgPool", "AdaptiveMaxPool",
                   "BatchNorm", "InstanceNorm", "GroupNorm", "LocalResponseNorm", "Upsampl",
                   "ZeroPad", "ConstantPad", "ReflectionPad", "ReplicationPad", "CircularPad",
                   "PixelShuffle", "PixelUnshuffle", "ChannelShuffle", "Dropout1d", "Dropout2d",
                   "Dropout3d", "FeatureAlphaDropout")
_ANY_LAYOUT = ("ReLU", "ReLU6", "LeakyReLU", "ELU", "SELU", "CELU", "GELU", "Sigmoid",
               "Hardsigmoid", "LogSigmoid", "Tanh", "Hardtanh", "SiLU", "Hardswish", "Mish",
               "Softplus", "Softsign", "Tanhshrink", "Dropout", "AlphaDropout", "Identity",
               "StochasticDepth", "PReLU")


def module_layout(module, value: "Tensor | None" = None) -> str | None:
    """The layout a module wants its input in (None: it keeps either; so do modules
    of other libraries, whose rules read sequences)."""
    for cls in type(module).__mro__:
        name = cls.__name__
        if name in _ANY_LAYOUT:
            return None
        if name.startswith(_CHANNELS_FIRST):
            return CF
        if name == "LayerNorm" and cls is not type(module) and value is not None and \
                value.layout == CF and value.shape[:1] == tuple(module.normalized_shape):
            return CF     # torchvision's LayerNorm2d: normalises the channels of N, C, H, W
        if cls.__module__.startswith("torch.nn") and name != "Module":
            return FL
    return None


class GraphWalk:
    """Spec entries for one traced graph, in node order (see the module docstring)."""

    def __init__(self, builder: SpecBuilder, model, *, allow_unknown: bool, source: str,
                 params_by_id: dict[int, tuple[str, Any]]):
        self.builder = builder
        self.model = model
        self.allow_unknown = allow_unknown
        self.source = source
        self.first_holder = params_by_id       # id(parameter) -> (its first path, parameter)
        self.counted: set[int] = set()         # parameters some entry counts
        self.owners: dict[str, str] = {}       # layer name -> module path it counts
        self.expected: dict[str, tuple[int, int]] = {}   # module path -> (params, buffers)
        self.written_params: dict[int, Tensor] = {}      # id(parameter) -> its tensor layer
        self.unknown: list[str] = []
        self.pieces: dict[str, Tensor] = {}
        self.buffers: dict[str, Tensor] = {}
        self.input_layout = FL
        self.call_names: dict[Any, str] = {}   # fx node -> its functional call's name
        self._module_paths: set[str] | None = None

    # ------------------------------------------------------------------ writing

    def call_name(self, node) -> str:
        """A functional call's layer name: the module it is called in and its op.

        fx names calls by op and count over the whole graph (``add_3``); the tracer
        also records the module scope of every node (``node.meta["nn_module_stack"]``,
        innermost last), so a residual add in ``layer1.0``'s forward is
        ``layer1.0.add``, the second one there ``layer1.0.add_2``, and a call in the
        top-level forward keeps the bare op (``flatten``). These are the names the
        presets use, so ``diff`` pairs by name and the instances of a repeated module
        collapse into blocks. Asked only by calls that write a layer (a view that
        changes nothing takes no name); a module's path is left to that module.
        """
        if node not in self.call_names:
            stack = node.meta.get("nn_module_stack") or {}
            scope = next(reversed(stack.values()), ("",))
            scope = scope[0] if isinstance(scope, tuple) else str(scope)
            op = re.sub(r"_[0-9]+$", "", node.name) or node.name   # add_3 -> add
            base = f"{scope}.{op}" if scope else op
            if self._module_paths is None:
                self._module_paths = {path for path, _ in self.model.named_modules()}
            taken = self._module_paths | self.builder._names | set(self.call_names.values())
            name, n = base, 1
            while name in taken:
                n += 1
                name = f"{base}_{n}"
            self.call_names[node] = name
        return self.call_names[node]

    def emit(self, kind: str, name: str, inputs: list[Tensor], torch_shape: tuple[int, ...],
             layout: str, batched: bool = True, owner: str | None = None,
             **fields: Any) -> Tensor:
        """Add one layer taking ``inputs``; its output has PyTorch shape ``torch_shape``."""
        written = self.builder.add(kind, name, inputs=[t.name for t in inputs], **fields)
        if owner is not None:
            self.owners[written] = owner
        return Tensor(written, tuple(int(v) for v in torch_shape), layout, batched)

    def opaque(self, name: str, op: str, inputs: list[Tensor], shape: tuple[int, ...],
               layout: str, batched: bool = True, owner: str | None = None,
               **counts: Any) -> Tensor:
        """A zero-parameter layer the family set has no name for (or, with counts, an
        unknown module counted under allow_unknown); its output shape is PyTorch's."""
        return self.emit("opaque", name, inputs, shape, layout, batched, owner, op=op,
                         **{k: v for k, v in counts.items() if v}, output=ours(shape, layout))

    def placed(self, value: Tensor, like: Tensor | None = None) -> Tensor:
        """``value`` as a written tensor: a parameter becomes a ``tensor`` layer, shaped
        to broadcast against ``like`` (its batch axis dropped, our layout)."""
        if value.name is not None:
            return value
        if value.buffer:
            return self._buffer(value)
        parameter = self.parameter(value.param)
        if id(parameter) in self.written_params:
            return self.written_params[id(parameter)]
        shape = value.shape
        if not value.batched and like is not None and like.batched:
            rank = len(like.shape) + 1            # the batched rank of what it meets
            if len(shape) < rank:
                shape = (1,) * (rank - len(shape)) + tuple(shape)
            if len(shape) == rank and shape[0] == 1:
                shape = shape[1:]
        layout = like.layout if like is not None and len(shape) == len(like.shape) else FL
        path = self.first_holder[id(parameter)][0]
        fields: dict[str, Any] = {"shape": ours(shape, layout)}
        if not parameter.requires_grad:
            fields["trainable"] = False
        owner = path.rpartition(".")[0]
        tensor = self.emit("tensor", path, [], shape, layout, batched=value.batched or
                           (like is not None and like.batched), owner=owner, **fields)
        self._expect(owner, parameter.numel(), 0)
        self.counted.add(id(parameter))
        self.written_params[id(parameter)] = tensor
        return tensor

    def _buffer(self, value: Tensor) -> Tensor:
        """A buffer a module computes with (Swin V2's coordinate table): no parameter,
        but a layer must hold it: a zero-parameter opaque layer that makes its shape."""
        if value.param not in self.buffers:
            first = next(iter(self.builder._inputs))
            self.buffers[value.param] = self.opaque(
                value.param, "buffer (not a parameter)", [Tensor(first, ())], value.shape, FL,
                batched=False, buffers=prod(value.shape))
        return self.buffers[value.param]

    def parameter(self, target: str):
        return self.model.get_parameter(target)

    def _expect(self, owner: str, params: int, buffers: int) -> None:
        have = self.expected.get(owner, (0, 0))
        self.expected[owner] = (have[0] + params, have[1] + buffers)

    def relayout(self, value: Tensor, layout: str | None, name: str) -> Tensor:
        """``value`` in ``layout``: a new flag where our shape stays, else a permute layer."""
        value = self.placed(value)
        if layout is None or value.layout == layout or len(value.shape) < 2:
            return value if layout is None else replace(value, layout=layout)
        if ours(value.shape, value.layout) == ours(value.shape, layout):
            return replace(value, layout=layout)
        rank = len(value.shape)
        dims = [*range(2, rank + 1), 1] if layout == CF else [rank, *range(1, rank)]
        return self.emit("permute", f"{name}.{'channels_last' if layout == CF else 'features'}",
                         [value], value.shape, layout, value.batched, dims=dims)

    # ------------------------------------------------------------ leaf modules

    def module_call(self, path: str, module, args: tuple, kwargs: dict, out: Any) -> Any:
        """The entries of one leaf module call (its rule, a tie, or an unknown module)."""
        from .torch_map import ModuleCall, rule_for
        inputs = [v for v in flat_values((args, kwargs)) if isinstance(v, (Tensor, Piece))]
        inputs = [self.piece(v) if isinstance(v, Piece) else v for v in inputs]
        memory = self._memory(module, args, kwargs, inputs)
        batched = inputs[0].batched if inputs else True
        out_shape = first_shape(out, batched)
        prefix = f"{path}." if path else ""
        mine, tied = [], []
        for n, p in module.named_parameters():   # a module called again is tied to itself
            first_here = self.first_holder[id(p)][0] == prefix + n and id(p) not in self.counted
            (mine if first_here else tied).append((n, p))
        params = sum(p.numel() for _, p in mine)
        buffers = sum(b.numel() for b in module.buffers() if b.is_floating_point())
        rule, reason = rule_for(module), "no rule maps it"
        frozen = [p for _, p in mine if not p.requires_grad]
        if frozen and len(frozen) != len(mine):   # trainable: false freezes whole layers
            rule, reason = None, "only some of its parameters are frozen"
        layout = module_layout(module, inputs[0] if inputs else None) if rule else None
        first = self.relayout(inputs[0], layout, path) if inputs else None
        entries = None
        if rule is not None and first is not None and out_shape is not None:
            call = ModuleCall(path, module, tuple(t.shape for t in inputs), out_shape)
            try:
                entries = rule(call)
            except NotImplementedError as exc:
                reason = str(exc) or reason
        out_layout = layout or (first.layout if first is not None else FL)
        if out_shape is not None and len(out_shape) != len(first.shape if first else ()):
            out_layout = layout if layout == CF and len(out_shape) >= 2 else FL
        if entries is not None and params == 0 and not tied:
            entries = self._shape_checked(module, entries, first, out_shape, out_layout)
        if entries is None:
            return self._unknown(path, module, inputs, out, mine, buffers, reason, out_layout)
        if tied:
            entries = self._tied_entries(module, tied, entries)
        if not tied or entries[0]["type"] != "opaque":
            self._expect(path, params, buffers)
            self.counted.update(id(p) for _, p in mine)
        else:
            self._expect(path, 0, buffers)
        value = self._chain(path, entries, first, memory, out_shape, out_layout, batched)
        if mine and len(frozen) == len(mine):
            self.builder._layers[-1]["trainable"] = False
        return with_first(out, value, path)

    def _memory(self, module, args, kwargs, inputs) -> list[Tensor]:
        """The second input of a cross-attention (keys and values, a decoder's memory), as
        the sequence rules' families take it; other modules read their first input only."""
        names = [c.__name__ for c in type(module).__mro__]
        if "MultiheadAttention" in names:
            key, value = (kwargs.get(k, args[i] if len(args) > i else None)
                          for i, k in ((1, "key"), (2, "value")))
        elif "TransformerDecoderLayer" in names:
            key = value = kwargs.get("memory", args[1] if len(args) > 1 else None)
        else:
            return []
        if not isinstance(key, Tensor) or key is value is None or not inputs or \
                key == inputs[0] or value != key:
            return []
        return [self.placed(key, inputs[0])]

    def _shape_checked(self, module, entries, first, out_shape, out_layout):
        """A rule's entries, or a zero-parameter opaque layer where our family makes
        another shape than PyTorch (a max pooling with ceil_mode)."""
        from .torch_shapes import chain_shape
        if any(e["type"] == "opaque" for e in entries) or \
                chain_shape(entries, ours(first.shape, first.layout)) == ours(out_shape,
                                                                              out_layout):
            return entries
        return [{"type": "opaque", "op": op_of(module)}]

    def piece(self, value: "Piece") -> Tensor:
        """A further output of an op, written when something uses it."""
        if value.name not in self.pieces:
            shape = value.out.shape[1:]
            layout = value.source.layout if len(shape) == len(value.source.shape) else FL
            self.pieces[value.name] = self.opaque(value.name, value.op, [value.source], shape,
                                                  layout)
        return self.pieces[value.name]

    def _tied_entries(self, module, tied, entries):
        """A Linear whose weight is an embedding's table says ``tie:``; other shared
        tensors are counted at their first holder: the module becomes a zero-parameter
        ``opaque`` layer that takes its own remaining parameters as tensors."""
        holder = self.first_holder[id(tied[0][1])][0].rpartition(".")[0]
        holder_module = self.model.get_submodule(holder) if holder else self.model
        names = {n for n, _ in tied}
        if type(module).__name__ == "Linear" and names == {"weight"} \
                and "Embedding" in type(holder_module).__name__:
            layer = next((n for n, o in self.owners.items() if o == holder), None)
            if layer is not None:
                return [{**entries[0], "tie": layer}]
        shared = ", ".join(f"{n} is {self.first_holder[id(p)][0]}" for n, p in tied)
        return [{"type": "opaque", "op": f"torch.nn.{type(module).__name__} ({shared}, "
                                         f"counted there)", "_own": True}]

    def _chain(self, path, entries, first, extra, out_shape, out_layout, batched) -> Tensor:
        value = first
        for index, entry in enumerate(entries):
            fields = {k: v for k, v in entry.items() if k != "type"}
            kind = entry["type"]
            name = path if index == 0 else f"{path}.{index}"
            last = index == len(entries) - 1
            if kind == "opaque" and fields.pop("_own", False):
                own = [self.placed(Tensor(None, tuple(p.shape), FL, False, param=n2), value)
                       for n2, p in self._own_untied(path)]
                return self.opaque(path, fields["op"], [value, *extra, *own], out_shape,
                                   out_layout, batched, owner=path)
            if kind == "dense" and len(ours(value.shape, value.layout)) > 2:
                value = self._dense_on_grid(name, fields, value, out_shape, out_layout, path,
                                            batched)
                continue
            shape = out_shape if last else value.shape
            if kind == "opaque":
                fields.setdefault("output", ours(shape, out_layout))
            value = self.emit(kind, name, [value, *(extra if index == 0 else [])], shape,
                              out_layout if last else value.layout, batched, owner=path,
                              **fields)
        return value

    def _own_untied(self, path):
        module = self.model.get_submodule(path)
        return [(f"{path}.{n}", p) for n, p in module.named_parameters()
                if self.first_holder[id(p)][0] == f"{path}.{n}" and id(p) not in self.counted]

    def _dense_on_grid(self, name, fields, value, out_shape, out_layout, path,
                       batched) -> Tensor:
        """Linear on [H, W, C] acts on each position: ours reads [T, E] sequences, so
        the positions are laid out as one sequence first and put back after."""
        shape = ours(value.shape, value.layout)
        rows = prod(shape[:-1])
        tokens = self.emit("reshape", f"{name}.positions", [value], (rows, shape[-1]), FL,
                           batched, target=[rows, shape[-1]])
        dense = self.emit("dense", name, [tokens], (rows, int(fields["units"])), FL, batched,
                          owner=path, **fields)
        return self.emit("reshape", f"{name}.grid", [dense], out_shape, out_layout, batched,
                         target=ours(out_shape, out_layout))

    def _unknown(self, path, module, inputs, out, mine, buffers, reason, layout) -> Any:
        cls, op = type(module), op_of(module)
        batched = inputs[0].batched if inputs else True
        out_shape = first_shape(out, batched)
        params = sum(p.numel() for _, p in mine)
        if params:
            index = len(self.builder._layers) + 1
            if not self.allow_unknown:
                raise SymparamsError(
                    f"module {path} ({cls.__name__}) holds {params:,} parameters and "
                    f"symparams has no layer family for it ({reason}); --allow-unknown "
                    f"counts it as an opaque layer", file=self.source, layer=(index, path))
            self.unknown.append(path)
        placed = [self.placed(t, inputs[0] if inputs else None) for t in inputs]
        if out_shape is None:
            out_shape = placed[0].shape if placed else (1,)
        frozen = sum(p.numel() for _, p in mine if not p.requires_grad)
        self._expect(path, params, buffers)
        self.counted.update(id(p) for _, p in mine)
        value = self.opaque(path, op, placed, out_shape, layout, batched, owner=path,
                            params=params,
                            non_trainable=frozen if frozen != params else 0, buffers=buffers)
        if params and frozen == params:
            self.builder._layers[-1]["trainable"] = False
        return with_first(out, value, path)


def op_of(module) -> str:
    """A module's class as an opaque layer's ``op``: ``torch.nn.PReLU``, ``mypackage.Scale``."""
    cls = type(module)
    if cls.__module__.startswith("torch.nn.modules."):   # torch.nn.modules.activation.PReLU
        return f"torch.nn.{cls.__name__}"
    return f"{cls.__module__}.{cls.__qualname__}"
