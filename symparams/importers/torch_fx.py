"""A PyTorch module as spec data, through its torch.fx graph (issue 10, item 1).

``spec_from_torch`` traces the module symbolically (``torch.fx``: no weight is
read), runs the graph once under a ``FakeTensorMode`` to learn every node's
shape (fake tensors hold shapes only: nothing is computed, and the module's
weights are neither copied nor moved; the modules are put in eval mode for
that run and their own training flags restored after), and then writes one
spec entry per leaf module (through ``torch_map.rule_for``) and per functional
call (``torch_functions``), named by module path, or for a call by the module
it is called in and its op (``layer1.0.add``; ``GraphWalk.call_name``).

The graph is traced with every module in training mode (flags restored
after), so branches that only run while training (GoogLeNet's and
Inception's auxiliary classifiers) are read and their parameters counted.

The result is checked against PyTorch's own count before it is returned
(contract 5): trainable and frozen parameters (each tensor once, however many
modules share it), floating-point buffers, and every module's own parameters.
When fx cannot trace the module (data-dependent control flow), the leaf
modules are read in call order instead (``torch_leaves.spec_from_leaves``) and
a note says so.
"""
from __future__ import annotations

import re
from contextlib import nullcontext
from typing import Any

from ..errors import SymparamsError
from .common import SpecBuilder, check_accounting
from .torch_graph import GraphWalk, module_layout
from .torch_values import CF, FL, Const, Shaped, Tensor, ours


def first_line(error: BaseException) -> str:
    """The first line of an exception's text (its class name when it has none)."""
    text = str(error).strip().splitlines()
    return text[0][:200] if text else type(error).__name__


def import_torch():
    try:
        import torch
        import torch.fx  # noqa: F401
    except ImportError as exc:
        raise SymparamsError(f"PyTorch is not installed ({first_line(exc)}): pip install torch "
                             f"to import PyTorch models") from None
    return torch


# The size a named input axis (--input 3,H,W) is traced with: PyTorch needs numbers,
# and 224 suits the image models that fix their size (ViT) and any sequence.
STAND_IN = 224


def check_input_shape(input_shape: Any, source: str) -> tuple:
    """The input shape without batch axis, PyTorch's order (3, 224, 224); a name (``H``)
    is a dynamic size."""
    if isinstance(input_shape, (int, str)) and not isinstance(input_shape, bool):
        input_shape = (input_shape,)
    if not isinstance(input_shape, (tuple, list)) or not 1 <= len(input_shape) <= 4 or not all(
            (isinstance(v, int) and not isinstance(v, bool) and 1 <= v <= 1_000_000)
            or (isinstance(v, str) and re.fullmatch(r"[A-Za-z][A-Za-z0-9_]{0,30}", v))
            for v in input_shape):
        raise SymparamsError(f"expected the input shape as 1 to 4 positive whole numbers (or "
                             f"names for dynamic sizes) without the batch axis, in PyTorch's "
                             f"order (such as 3,224,224), found {input_shape!r}"[:250],
                             file=source, field="input")
    return tuple(input_shape)


def spec_from_torch(module: Any, input_shape: Any, *, name: str | None = None,
                    allow_unknown: bool = False, source: str | None = None) -> dict:
    """Spec data for ``module`` on inputs of ``input_shape`` (no batch axis, PyTorch's
    order: ``(3, 224, 224)``), already checked against PyTorch's own count."""
    torch = import_torch()
    source = source or f"<{type(module).__name__}>"
    if not isinstance(module, torch.nn.Module):
        raise SymparamsError(f"expected a torch.nn.Module, found {type(module).__name__}",
                             file=source)
    if is_leaf(torch, module):   # one layer alone (nn.Conv2d(3, 8, 3)): read as a call of it
        module = alone(torch, module)
    given = check_input_shape(input_shape, source)
    shape = tuple(STAND_IN if isinstance(v, str) else v for v in given)
    name = name or type(module).__name__
    try:
        graph = trace(torch, module)
    except Exception as exc:   # fx raises many kinds (TraceError, TypeError …) for what it cannot follow
        return _from_leaves(module, shape, name, allow_unknown, source, first_line(exc))
    data, layout = _from_graph(torch, module, graph, shape, name, allow_unknown, source)
    return with_letters(data, given, layout, source) if given != shape else data


def _from_graph(torch, module, graph, shape, name, allow_unknown, source) -> dict:
    results = propagate(torch, graph, module, shape, source)
    builder = SpecBuilder(name, source)
    walk = GraphWalk(builder, module, allow_unknown=allow_unknown, source=source,
                     params_by_id=first_holders(module))
    layout = walk_graph(torch, walk, graph, results, shape)
    unused_parameters(walk)
    if walk.unknown:
        builder.notes.append(f"counted as opaque layers (--allow-unknown), no formula: "
                             f"{', '.join(walk.unknown[:5])}"
                             f"{' …' if len(walk.unknown) > 5 else ''}")
    data = builder.data()
    check_counts(data, module, walk, source)
    return data, layout


def ours_letters(given: tuple, layout: str) -> list:
    """Our input shape with the names kept (ours() takes numbers only)."""
    return [*given[1:], given[0]] if layout == CF and len(given) >= 2 else list(given)


def with_letters(data: dict, given: tuple, layout: str, source: str) -> dict:
    """The spec with the named input sizes as letters, when every layer still fits (a
    CNN with adaptive pooling); else the counted numbers and a note why."""
    from ..network import Network
    from ..spec import spec_from_data
    letters = ours_letters(given, layout)
    lettered = {**data, "input": letters}
    names = [v for v in given if isinstance(v, str)]
    try:
        net = Network.from_spec(spec_from_data(lettered, source))
        numbers = Network.from_spec(spec_from_data(data, source)).total
        if net.subs({n: STAND_IN for n in names}).total != numbers:
            raise SymparamsError("the count would change with it")
    except SymparamsError as exc:
        note = (f"the input size{'s' if len(names) > 1 else ''} {', '.join(names)} could not "
                f"stay a letter (the model's layers fix it: {exc.message[:120]}); counted "
                f"for {STAND_IN}")
        return with_notes(data, [*data.get("notes", []), note])
    return lettered


def _from_leaves(module, shape, name, allow_unknown, source, reason) -> dict:
    from .torch_leaves import spec_from_leaves
    data = spec_from_leaves(module, shape, name=name, allow_unknown=allow_unknown,
                            source=source, reason=reason)
    note = f"fx could not trace {type(module).__name__}: {reason}"
    notes = list(data.get("notes", []))
    if not any("fx could not trace" in n for n in notes):
        notes.insert(0, note)
    return with_notes(data, notes)


def with_notes(data: dict, notes: list[str]) -> dict:
    """``data`` with its notes replaced, written where a spec keeps them (before input)."""
    out = {k: v for k, v in data.items() if k not in ("notes", "input", "layers")}
    if notes:
        out["notes"] = notes
    return {**out, **{k: data[k] for k in ("input", "layers") if k in data}}


# ------------------------------------------------------------------- tracing

def trace(torch, module):
    """The fx graph module of ``module``, traced with every module in training mode.

    Leaves: modules with a rule, torch.nn's own, and modules of the user's that hold
    parameters themselves and have no children (a layer of their own: counted by a
    rule or refused as unknown, never silently split into functional calls).
    """
    from .torch_map import rule_for

    class Tracer(torch.fx.Tracer):
        def is_leaf_module(self, m, qualname):
            if rule_for(m) is not None or super().is_leaf_module(m, qualname):
                return True
            return next(m.parameters(recurse=False), None) is not None and \
                next(m.children(), None) is None

    flags = {m: m.training for m in module.modules()}
    try:
        module.train()
        graph = Tracer().trace(module)
    finally:
        for m, flag in flags.items():
            m.training = flag
    return torch.fx.GraphModule(module, graph)


def is_leaf(torch, module) -> bool:
    """A module that is one layer: fx would trace into its functional code if it were
    the root, so it is wrapped and called instead."""
    from .torch_map import rule_for
    if isinstance(module, (torch.nn.Sequential, torch.nn.ModuleList, torch.nn.ModuleDict)):
        return False
    return rule_for(module) is not None or type(module).__module__.startswith("torch.nn.")


def alone(torch, module):
    """``module`` as the one child of a container, named by its class (``Conv2d``)."""
    name = type(module).__name__

    class Alone(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.add_module(name, module)

        def forward(self, x):
            return getattr(self, name)(x)
    return Alone()


def propagate(torch, graph_module, module, shape, source) -> dict:
    """Every node's result as shapes (:class:`Shaped`, with batch axis 2) or plain values."""
    from torch._subclasses.fake_tensor import FakeTensorMode
    results: dict = {}

    class Recorder(torch.fx.Interpreter):
        def run_node(self, node):
            result = super().run_node(node)
            results[node] = describe(torch, result)
            return result

    flags = {m: m.training for m in module.modules()}
    first = next(module.parameters(), None)
    device = first.device if first is not None else torch.device("cpu")
    long_input = any(n.op == "call_module" and "Embedding" in
                     type(graph_module.get_submodule(n.target)).__name__
                     for p in graph_module.graph.nodes if p.op == "placeholder"
                     for n in p.users)
    # A model on the meta device runs as it is (meta tensors are shapes only, and
    # about five times quicker than fake ones); any other runs on fake tensors.
    on_meta = all(t.device.type == "meta" for t in (*module.parameters(), *module.buffers()))
    try:
        module.eval()
        with nullcontext() if on_meta else FakeTensorMode(allow_non_fake_inputs=True), \
                torch.no_grad():
            example = torch.zeros((2, *shape), device=device,
                                  dtype=torch.long if long_input else torch.float32)
            Recorder(graph_module).run(example)
    except Exception as exc:   # whatever the model raises on an input of the wrong size
        raise SymparamsError(f"PyTorch could not run the model on an input of shape "
                             f"{','.join(map(str, shape))}: {first_line(exc)}",
                             file=source, field="input") from None
    finally:
        for m, flag in flags.items():
            m.training = flag
    return results


def describe(torch, result):
    if isinstance(result, torch.Tensor):
        return Shaped(tuple(int(v) for v in result.shape), result.is_floating_point())
    if isinstance(result, torch.Size):
        return tuple(int(v) for v in result)
    if isinstance(result, (list, tuple)):
        return tuple(describe(torch, r) for r in result)
    if isinstance(result, dict):
        return {k: describe(torch, v) for k, v in result.items()}
    return result


def first_holders(module) -> dict[int, tuple[str, Any]]:
    """id(parameter) -> (path of its first holder, parameter), as parameters() yields them."""
    return {id(p): (path, p) for path, p in module.named_parameters()}


def walk_graph(torch, walk: GraphWalk, graph_module, results, shape) -> str:
    """Write every node's layers; returns the layout the input was read in."""
    from torch.fx.node import map_arg
    from .torch_functions import function_call
    env: dict = {}
    placeholders = 0
    for node in graph_module.graph.nodes:
        out = results.get(node)
        args = map_arg(node.args, env.__getitem__)
        kwargs = map_arg(node.kwargs, env.__getitem__)
        if node.op == "placeholder":
            placeholders += 1
            value = _input(walk, graph_module, node, shape) if placeholders == 1 else Const(out)
        elif node.op == "get_attr":
            value = _attribute(torch, graph_module, node)
        elif node.op == "call_module":
            value = walk.module_call(node.target, walk.model.get_submodule(node.target),
                                     args, kwargs, out)
        elif node.op in ("call_function", "call_method"):
            value = function_call(walk, node, args, kwargs, out)
        else:
            continue
        env[node] = value
    return walk.input_layout


def _input(walk: GraphWalk, graph_module, node, shape) -> Tensor:
    layout = CF if len(shape) >= 3 else FL
    if len(shape) == 2 and any(
            u.op == "call_module" and module_layout(graph_module.get_submodule(u.target)) == CF
            for u in node.users):
        layout = CF
    walk.input_layout = layout
    return Tensor(walk.builder.add_input("INPUT", ours(shape, layout)), shape, layout)


def _attribute(torch, graph_module, node) -> Any:
    try:
        value = graph_module.get_parameter(node.target)
    except AttributeError:
        try:
            buffer = graph_module.get_buffer(node.target)
        except AttributeError:
            return Const(None)     # a constant: no tensor of the spec
        if not buffer.is_floating_point():
            return Const(None)     # an index table: it only picks values
        return Tensor(None, tuple(buffer.shape), FL, False, param=node.target, buffer=True)
    return Tensor(None, tuple(value.shape), FL, False, param=node.target)


def unused_parameters(walk: GraphWalk) -> None:
    """Parameters forward() never reaches are still the model's: counted as tensors."""
    left = [(path, p) for path, p in walk.first_holder.values() if id(p) not in walk.counted]
    for path, p in left:
        walk.placed(Tensor(None, tuple(p.shape), FL, False, param=path))
    if left:
        paths = sorted({path.rpartition(".")[0] or path for path, _ in left})
        walk.builder.notes.append(
            f"{sum(p.numel() for _, p in left):,} parameters are not used by forward() "
            f"({', '.join(paths[:4])}{' …' if len(paths) > 4 else ''}): counted as tensor layers")


# ---------------------------------------------------------------- accounting

def check_counts(data: dict, module, walk: GraphWalk, source: str) -> None:
    """The imported network's counts must be PyTorch's (contract 5)."""
    from ..network import Network
    from ..spec import spec_from_data
    net = Network.from_spec(spec_from_data(data, source))
    params = list(module.parameters())
    frozen = sum(p.numel() for p in params if not p.requires_grad)
    total = sum(p.numel() for p in params)
    buffers = sum(b.numel() for b in module.buffers() if b.is_floating_point())
    check_accounting(net.total, total, "the sum of unique parameters' numel()", source)
    check_accounting(net.non_trainable_total, frozen,
                     "the sum of frozen parameters' numel() (requires_grad=False)", source)
    check_accounting(net.buffers_total, buffers, "the sum of floating-point buffers' numel()",
                     source)
    found: dict[str, int] = {}
    for info in net.layers[1:]:
        owner = walk.owners.get(info.name)
        if owner is not None:
            found[owner] = found.get(owner, 0) + int(info.params)
    for owner, (expected, _) in walk.expected.items():
        if found.get(owner, 0) != expected:
            raise SymparamsError(f"module {owner or '<root>'}: imported {found.get(owner, 0):,} "
                                 f"parameters but it holds {expected:,}; a layer was counted "
                                 f"wrongly: please report this model", file=source)


# ------------------------------------------------------------------ factories

def spec_from_factory(text: str, input_shape: Any, *, allow_unknown: bool = False) -> dict:
    """Spec data for the module ``torch:package.module:factory`` returns (called with no
    arguments); see torch_factory.py. This imports and runs that Python code."""
    from .torch_factory import spec_from_factory as read
    return read(text, input_shape, allow_unknown=allow_unknown)
