"""One forward pass of a PyTorch model, recorded leaf module by leaf module, without compute.

The fallback walk (torch_leaves.py) needs, for every call of a leaf module, the
shapes that went in and came out. The pass runs under torch's ``FakeTensorMode``:
every tensor is a fake one that has a shape and a dtype but no data, so nothing is
computed, nothing is allocated, and the user's weights are neither copied nor moved
(a real parameter is only looked at for its shape; a model built on the ``meta``
device works the same). A forward hook on each leaf records its call.

A *leaf* is a module that has a rule (torch_map.py: a TransformerEncoderLayer is
counted whole, its children are not visited) or that has no children. The other
modules are containers; a container that holds parameters itself (ViT's
``ViTEmbeddings.cls_token``) is recorded when it is first entered, so its tensors
come in call order too.

**The input's dtype.** The input is ``zeros(1, *input_shape)``: 64-bit integer
token ids when the first leaf the forward pass reaches is an ``nn.Embedding`` or
``nn.EmbeddingBag``, floating point otherwise. The pass is first tried with floats
and stopped at that first leaf when it is an embedding (nothing has run yet), then
run again with integer ids. **Data-dependent control flow** (``if x.sum() > 0``) cannot run on fake tensors.
Then, and only when the weights are real (not on the meta device), the pass runs
once for real on that input of zeros, without gradients; the spec's note says so.

The batch axis (of 1) is the first, or the second for a
model that is itself sequence first (``batch_first=False``: nn.LSTM, nn.GRU,
nn.MultiheadAttention, nn.TransformerEncoderLayer …).
"""
from __future__ import annotations

import inspect
from dataclasses import dataclass, field
from typing import Any

from ..errors import SymparamsError
from .torch_map import rule_for

# Modules that read their input channels first (N, C, …): our layout moves C last.
CHANNELS_FIRST = frozenset(
    [f"{kind}{d}d" for d in (1, 2, 3) for kind in (
        "Conv", "ConvTranspose", "LazyConv", "LazyConvTranspose", "BatchNorm", "LazyBatchNorm",
        "InstanceNorm", "LazyInstanceNorm", "MaxPool", "AvgPool", "AdaptiveAvgPool",
        "AdaptiveMaxPool", "LPPool", "MaxUnpool", "FractionalMaxPool", "ZeroPad", "ConstantPad",
        "ReflectionPad", "ReplicationPad", "CircularPad", "Dropout")]
    + ["GroupNorm", "LocalResponseNorm", "Upsample", "UpsamplingNearest2d",
       "UpsamplingBilinear2d", "PixelShuffle", "PixelUnshuffle", "ChannelShuffle",
       "SyncBatchNorm", "CrossMapLRN2d", "Softmax2d",
       "LayerNorm2d"])   # torchvision's ConvNeXt: a LayerNorm over the channels of (N, C, H, W)
# Modules that act on the last axis: a 3-D tensor into them is [T, E] (or […, E]), kept.
LAST_AXIS = frozenset(["Linear", "LazyLinear", "Bilinear", "LayerNorm", "RMSNorm", "Embedding",
                       "EmbeddingBag", "RNN", "LSTM", "GRU", "RNNCell", "LSTMCell", "GRUCell",
                       "MultiheadAttention", "TransformerEncoderLayer",
                       "TransformerDecoderLayer", "Conv1D"])
EMBEDDINGS = ("Embedding", "EmbeddingBag")


def class_names(module: Any) -> set[str]:
    return {cls.__name__ for cls in type(module).__mro__}


def sequence_first(module: Any) -> bool:
    """True for a module that takes (T, N, E): batch_first=False, itself or its attention."""
    for holder in (module, getattr(module, "self_attn", None)):
        if holder is not None and getattr(holder, "batch_first", None) is False:
            return True
    return False


@dataclass
class LeafCall:
    """One call of a leaf module: PyTorch's shapes (channels first), batch axis removed."""
    path: str
    module: Any
    args: dict[str, Any]                          # tensor arguments by parameter name
    in_shapes: tuple[tuple[int, ...], ...]
    out_shape: tuple[int, ...] | None
    output: Any = None                            # kept alive: its id names a producer
    outputs: tuple = ()                           # every tensor it returned (LSTM's h and c)


@dataclass
class FunctionCall:
    """A torch function or tensor method called outside the leaves (``x + y``, ``torch.cat``,
    ``view``, ``scaled_dot_product_attention``): the functional code between them."""
    name: str                                     # "add", "cat", "view" …
    inputs: tuple                                 # its tensor arguments, in order
    output: Any
    kwargs: dict = field(default_factory=dict)    # the plain (non-tensor) arguments: dim …


@dataclass
class HolderEntry:
    """A container entered for the first time that holds parameters itself."""
    path: str
    module: Any


@dataclass
class Recording:
    events: list[LeafCall | HolderEntry] = field(default_factory=list)
    input_dtype: str = "float32"
    batch_axis: int = 0
    with_values: bool = False                     # run for real (data-dependent control flow)
    leaves: dict[str, Any] = field(default_factory=dict)   # path → module
    example: Any = None                           # the input tensor (its id is the input's)
    made_by: dict[int, FunctionCall] = field(default_factory=dict)   # id(tensor) → its function


class _Stop(Exception):
    """The first leaf is an embedding and the pass was run with floats: start again."""


def leaf_modules(model: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """(leaves, containers holding parameters themselves), by path, in definition order."""
    leaves, holders, inside = {}, {}, []
    for path, module in model.named_modules():
        if any(path.startswith(prefix) for prefix in inside):
            continue                              # inside a module counted whole
        children = list(module.children())
        if rule_for(module) is not None or not children:
            leaves.setdefault(path, module)
            if children:
                inside.append(path + "." if path else "")
        elif next(module.parameters(recurse=False), None) is not None:
            holders.setdefault(path, module)
    return leaves, holders


def first_tensor(value: Any) -> Any:
    """A call's main output: a tensor, a tuple's first, a ModelOutput's first field."""
    for _ in range(8):
        if hasattr(value, "shape") and hasattr(value, "dtype"):
            return value
        if isinstance(value, (tuple, list)) and value:
            value = value[0]
        elif hasattr(value, "to_tuple"):
            value = value.to_tuple()[0] if value.to_tuple() else None
        elif isinstance(value, dict) and value:
            value = next(iter(value.values()))
        else:
            return None
    return None


def _tensor_args(module: Any, args: tuple, kwargs: dict) -> dict[str, Any]:
    try:
        bound = inspect.signature(module.forward).bind(*args, **kwargs).arguments
    except (TypeError, ValueError):
        bound = {**{f"arg{i}": a for i, a in enumerate(args)}, **kwargs}
    return {name: value for name, value in bound.items()
            if hasattr(value, "shape") and hasattr(value, "dtype")}


def _without_batch(shape: Any, axis: int) -> tuple[int, ...]:
    dims = tuple(int(size) for size in shape)
    if len(dims) <= axis:
        return dims
    return dims[:axis] + dims[axis + 1:]


def record_calls(model: Any, input_shape: tuple[int, ...], source: str) -> Recording:
    """The model's leaf calls in order (see the module docstring)."""
    import torch

    leaves, holders = leaf_modules(model)
    recording = Recording(leaves=leaves, batch_axis=1 if sequence_first(model) else 0)
    shape = list(input_shape)
    shape.insert(min(recording.batch_axis, len(shape)), 1)
    failure = None
    for dtype in (torch.float32, torch.int64):
        try:
            _one_pass(model, recording, holders, shape, dtype, fake=True)
            return recording
        except _Stop:
            continue
        except SymparamsError:
            raise
        except Exception as error:   # the user's forward pass: any error is theirs
            failure = failure or error
            if "DataDependent" in type(error).__name__:
                break
            if any(isinstance(e, LeafCall) for e in recording.events):
                break                # it got past the first leaf: the dtype was not the problem
    if "DataDependent" in type(failure).__name__:
        return _with_values(model, recording, holders, shape, input_shape, failure, source)
    raise _failed(failure, input_shape, source)


def _with_values(model, recording, holders, shape, input_shape, failure, source) -> Recording:
    """Data-dependent control flow (``if x.sum() > 0``) needs values: with real weights, one
    pass for real on an input of zeros (no gradients); on the meta device, an error."""
    import torch
    if any(p.is_meta for p in model.parameters()):
        raise SymparamsError("the forward pass needs tensor values (data-dependent control "
                             "flow) and the weights are on the meta device: build the model "
                             "on the CPU", file=source)
    for dtype in (torch.float32, torch.int64):
        try:
            _one_pass(model, recording, holders, shape, dtype, fake=False)
            recording.with_values = True
            return recording
        except _Stop:
            continue
        except Exception as error:
            raise _failed(error, input_shape, source) from None
    raise _failed(failure, input_shape, source)   # pragma: no cover


def _failed(error, input_shape, source) -> SymparamsError:
    text = " ".join(str(error).split())[:160] or type(error).__name__
    return SymparamsError(f"the forward pass on an input of shape {tuple(input_shape)} "
                          f"failed: {type(error).__name__}: {text}; is --input the model's "
                          f"input without the batch axis?", file=source)


def _one_pass(model, recording: Recording, holders, shape, dtype, fake: bool) -> None:
    """Run the model once with the hooks on; restore its training flags and remove them."""
    import contextlib

    import torch
    from torch._subclasses.fake_tensor import FakeTensorMode

    recording.events, recording.made_by = [], {}
    entered: set[int] = set()
    parameter = next(model.parameters(), None)
    device = parameter.device if parameter is not None else torch.device("cpu")
    state = {"depth": 0, "leaves": 0}     # depth > 0: inside a leaf, its code is its rule's

    def on_call(module, args, kwargs, output, path):
        state["depth"] -= 1
        tensors = _tensor_args(module, args, kwargs)
        axis = 1 if sequence_first(module) else 0
        out = first_tensor(output)
        recording.events.append(LeafCall(
            path, module, tensors,
            tuple(_without_batch(t.shape, axis) for t in tensors.values()),
            _without_batch(out.shape, axis) if out is not None else None, out,
            tuple(_tensors_in(output))))

    def before_call(module, path, leaf):
        if leaf:
            if not state["leaves"] and class_names(module) & set(EMBEDDINGS) \
                    and dtype.is_floating_point:
                raise _Stop   # nothing has run yet: start again with integer ids
            state["leaves"] += 1
            state["depth"] += 1
        elif id(module) not in entered:
            entered.add(id(module))
            recording.events.append(HolderEntry(path, module))

    def on_function(name, args, kwargs, output):
        if state["depth"]:
            return
        inputs = tuple(_tensors_in((args, kwargs)))
        outputs = [t for t in _tensors_in(output) if all(t is not i for i in inputs)]
        plain = {k: v for k, v in kwargs.items() if isinstance(v, (int, float, str, bool))}
        plain.update({f"arg{i}": v for i, v in enumerate(args) if isinstance(v, int)})
        for tensor in outputs:                    # in place (add_) changes no producer
            recording.made_by[id(tensor)] = FunctionCall(name, inputs, tensor, plain)

    handles = []
    for leaf, group in ((True, recording.leaves), (False, holders)):
        for path, module in group.items():
            handles.append(module.register_forward_pre_hook(
                lambda m, a, path=path, leaf=leaf: before_call(m, path, leaf)))
    for path, module in recording.leaves.items():
        handles.append(module.register_forward_hook(
            lambda m, a, k, o, path=path: on_call(m, a, k, o, path), with_kwargs=True))
    modes = {m: m.training for m in model.modules()}
    mode = FakeTensorMode(allow_non_fake_inputs=True) if fake else contextlib.nullcontext()
    try:
        model.eval()          # dropout and batch statistics as at inference; restored below
        with mode, torch.no_grad(), _FunctionRecorder(on_function):
            recording.example = torch.zeros(shape, dtype=dtype, device=device)
            model(recording.example)
        recording.input_dtype = str(dtype).removeprefix("torch.")
    finally:
        for handle in handles:
            handle.remove()
        for module, training in modes.items():
            module.training = training


def _tensors_in(value: Any, depth: int = 0):
    """The tensors in an argument or a result (tuples, lists, dicts, ModelOutputs), in order."""
    if hasattr(value, "shape") and hasattr(value, "dtype"):
        yield value
    elif depth < 4 and isinstance(value, (tuple, list)):
        for item in value:
            yield from _tensors_in(item, depth + 1)
    elif depth < 4 and isinstance(value, dict):
        for item in value.values():
            yield from _tensors_in(item, depth + 1)


def _FunctionRecorder(on_function):
    """A TorchFunctionMode that reports each torch function call (name, args, result)."""
    from torch.overrides import TorchFunctionMode

    class Recorder(TorchFunctionMode):
        def __torch_function__(self, func, types, args=(), kwargs=None):
            kwargs = kwargs or {}
            result = func(*args, **kwargs)
            name = getattr(func, "__name__", str(func)).strip("_")
            if name not in ("get", "set") and any(True for _ in _tensors_in(result)):
                on_function(name, args, kwargs, result)
            return result
    return Recorder()
