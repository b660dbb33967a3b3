"""Reference models from real frameworks, built offline, and their counts per module.

The cross-check tests compare symparams with what PyTorch itself reports for
published architectures: torchvision's image classifiers and the transformers
library's BERT and GPT-2, all built from code with random weights (nothing is
downloaded; the builders run with the network switched off in the tests).

Counting follows PyTorch: a parameter tensor shared by two modules (GPT-2's
``lm_head.weight`` is ``transformer.wte.weight``) is counted once, at the
first module that holds it, exactly as ``model.parameters()`` yields it once.
Buffers are not parameters and are counted apart: ``buffers`` are the
floating-point ones (BatchNorm's running mean and variance), ``int_buffers``
the integer or boolean bookkeeping (BatchNorm's ``num_batches_tracked``
counter, BERT's position-id table).

Why torchvision needs a loader: the registry's torchvision is a CUDA build
beside the CPU torch; ``symparams.importers.torchvision_compat`` explains it and
declares the two op schemas its import needs when its own ops cannot load.
"""
from __future__ import annotations

import importlib
import os
import warnings
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from types import ModuleType

import pytest

from conftest import IN_CI

# Issue 9's published totals (unique parameters, PyTorch convention). The
# frameworks' models must come out at exactly these; the presets written for
# them later are compared with the frameworks' models, module by module.
PUBLISHED_TOTALS = {
    "alexnet": 61_100_840,
    "vgg16": 138_357_544,
    "vgg16_bn": 138_365_992,
    "resnet18": 11_689_512,
    "resnet50": 25_557_032,
    "mobilenet_v2": 3_504_872,
    "bert-base": 109_482_240,   # BertModel(BertConfig()): uncased vocabulary 30,522, with pooler
    "gpt2": 124_439_808,        # GPT2LMHeadModel(GPT2Config()): lm_head tied to wte
}
TORCHVISION_MODELS = ("alexnet", "vgg16", "vgg16_bn", "resnet18", "resnet50", "mobilenet_v2")
TRANSFORMERS_MODELS = ("bert-base", "gpt2")

def need(module: str) -> ModuleType:
    """Import an optional test dependency: skip without it, but fail under CI=true."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # e.g. torch's warning when numpy is absent
            return importlib.import_module(module)
    except ImportError as error:
        message = (f"{module} is not installed ({error}); `make test-deps` installs the "
                   "framework cross-check extras (torch, torchvision, transformers)")
        if IN_CI:
            pytest.fail(f"CI=true but {message}")
        pytest.skip(message)


def prepare_torchvision() -> None:
    """Make ``import torchvision`` work beside the CPU torch (symparams' own helper)."""
    need("torch")
    from symparams.importers.torchvision_compat import prepare_torchvision as prepare
    prepare()


def import_torchvision() -> ModuleType:
    need("torch")
    prepare_torchvision()
    return need("torchvision")


def import_transformers() -> ModuleType:
    # Building from a config never downloads; these make sure nothing tries.
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    need("torch")
    prepare_torchvision()   # transformers imports torchvision when it is installed
    return need("transformers")


def reference_model(name: str, device: str = "meta"):
    """A framework's model of a published architecture, random weights, nothing downloaded.

    ``device="meta"`` allocates no memory and skips the weight initialisation
    arithmetic: counts and forward-pass shapes are the same as on the CPU.
    """
    torch = need("torch")
    if name in TORCHVISION_MODELS:
        models = import_torchvision().models
        with torch.device(device):
            return getattr(models, name)(weights=None)
    if name in TRANSFORMERS_MODELS:
        transformers = import_transformers()
        model_class, config_class = {
            "bert-base": (transformers.BertModel, transformers.BertConfig),
            "gpt2": (transformers.GPT2LMHeadModel, transformers.GPT2Config),
        }[name]
        with torch.device(device):
            return model_class(config_class())
    raise KeyError(f"no reference model {name!r}; known: "
                   f"{', '.join(TORCHVISION_MODELS + TRANSFORMERS_MODELS)}")


@dataclass(frozen=True)
class ModuleCount:
    """The parameters and buffers one module holds itself (not through its children)."""
    path: str                 # module path in the model, e.g. "features.0", "layer1.0.conv1"
    kind: str                 # the module's class name, e.g. "Conv2d"
    params: int               # elements of its own parameters, shared ones counted at the first holder
    buffers: int = 0          # elements of its floating-point buffers (running statistics)
    int_buffers: int = 0      # elements of its integer/boolean buffers (counters, index tables)
    tied: tuple[str, ...] = ()   # "weight -> transformer.wte.weight": counted at that earlier holder

    def __str__(self) -> str:
        extra = f", buffers {self.buffers}" if self.buffers else ""
        extra += f", tied {', '.join(self.tied)}" if self.tied else ""
        return f"{self.path or '<root>'} ({self.kind}) {self.params}{extra}"


def module_counts(model) -> list[ModuleCount]:
    """Every module that holds parameters or buffers itself, in definition order."""
    first_holder: dict[int, str] = {}
    counts = []
    for path, module in model.named_modules():
        params, tied = 0, []
        for name, parameter in module.named_parameters(recurse=False):
            full = f"{path}.{name}" if path else name
            if id(parameter) in first_holder:
                tied.append(f"{name} -> {first_holder[id(parameter)]}")
            else:
                first_holder[id(parameter)] = full
                params += parameter.numel()
        buffers = list(module.buffers(recurse=False))
        floating = sum(b.numel() for b in buffers if b.is_floating_point())
        integer = sum(b.numel() for b in buffers if not b.is_floating_point())
        if params or tied or buffers:
            counts.append(ModuleCount(path, type(module).__name__, params, floating, integer,
                                      tuple(tied)))
    return counts


def parameter_modules(model) -> list[ModuleCount]:
    """The modules that hold parameters themselves (tied-only ones included, with 0)."""
    return [count for count in module_counts(model) if count.params or count.tied]


def total_params(model) -> int:
    """What everyone quotes: ``sum(p.numel() for p in model.parameters())``, shared once."""
    return sum(p.numel() for p in model.parameters())


def total_buffers(model) -> tuple[int, int]:
    """(floating-point, integer) buffer elements of the whole model."""
    counts = module_counts(model)
    return sum(c.buffers for c in counts), sum(c.int_buffers for c in counts)


def subtree_params(model, path: str) -> int:
    """Unique parameters under one module path (a block such as "layer1.0"), children included."""
    prefix = path + "."
    return sum(c.params for c in module_counts(model)
               if not path or c.path == path or c.path.startswith(prefix))


# symparams layer kinds and the torch.nn classes that count the same thing;
# position matching checks the pairing with it. Later families add entries.
TORCH_KINDS: dict[str, tuple[str, ...]] = {
    "conv2d": ("Conv2d",),
    "dense": ("Linear",),
    "batchnorm": ("BatchNorm2d", "BatchNorm1d"),
    "adaptive_avg_pool": ("AdaptiveAvgPool1d", "AdaptiveAvgPool2d", "AdaptiveAvgPool3d"),
}


@dataclass(frozen=True)
class Ours:
    """One symparams layer with parameters, as the matchers see it."""
    name: str
    kind: str
    params: int


def symparams_counts(net) -> list[Ours]:
    """The layers of a symparams network that have parameters, in order, with exact counts."""
    layers = []
    for info in net.layers:
        if not info.layer.has_params:
            continue
        if not info.params.is_Integer:
            raise ValueError(f"{info.name} has a symbolic count {info.params}; substitute sizes first")
        layers.append(Ours(info.name, info.kind, int(info.params)))
    return layers


@dataclass(frozen=True)
class Pair:
    ours: Ours
    theirs: ModuleCount

    @property
    def problem(self) -> str | None:
        kinds = TORCH_KINDS.get(self.ours.kind)
        if kinds is not None and self.theirs.kind not in kinds:
            return f"{self.ours.name} is a {self.ours.kind}, paired with a {self.theirs.kind}"
        if self.ours.params != self.theirs.params:
            return (f"{self.ours.name} ({self.ours.kind}): symparams {self.ours.params:,}, "
                    f"framework {self.theirs}")
        return None


def match_by_position(ours: Sequence[Ours], theirs: Sequence[ModuleCount]) -> list[Pair]:
    """Pair the i-th symparams layer with the i-th parameter-holding module."""
    if len(ours) != len(theirs):
        raise AssertionError(
            f"{len(ours)} symparams layers with parameters, {len(theirs)} framework modules:\n"
            f"  ours:   {', '.join(o.name for o in ours)}\n"
            f"  theirs: {', '.join(t.path for t in theirs)}")
    return [Pair(o, t) for o, t in zip(ours, theirs)]


def match_by_name(ours: Sequence[Ours], theirs: Sequence[ModuleCount],
                  rename: Mapping[str, str] | Callable[[str], str] | None = None) -> list[Pair]:
    """Pair each symparams layer with the module at the same path.

    ``rename`` turns a symparams layer name into the framework's module path
    (a mapping or a function); without it the names must already agree, as
    the hierarchical names of blocks (``layer1.0.conv1``) do with torchvision.
    Every module holding parameters must be matched, and every layer.
    """
    to_path = (rename.__getitem__ if isinstance(rename, Mapping)
               else rename or (lambda name: name))
    by_path = {t.path: t for t in theirs}
    pairs, missing = [], []
    for layer in ours:
        path = to_path(layer.name)
        if path in by_path:
            pairs.append(Pair(layer, by_path.pop(path)))
        else:
            missing.append(f"{layer.name} -> {path}")
    if missing or by_path:
        raise AssertionError(
            f"unmatched symparams layers: {', '.join(missing) or 'none'}; "
            f"unmatched framework modules: {', '.join(map(str, by_path.values())) or 'none'}")
    return pairs


def problems(pairs: Iterable[Pair]) -> list[str]:
    """One line per pair whose kinds or counts disagree (empty when all agree)."""
    return [p.problem for p in pairs if p.problem]


def output_shapes(model, example, paths: Iterable[str]) -> dict[str, tuple[int, ...]]:
    """The output shape of each named module in one forward pass on ``example``.

    Run on the meta device, the pass computes shapes only, whatever the model's size.
    """
    torch = need("torch")
    wanted = set(paths)
    shapes: dict[str, tuple[int, ...]] = {}
    handles = []
    for path, module in model.named_modules():
        if path in wanted:
            def record(_module, _inputs, output, path=path):
                shapes[path] = tuple(_first_tensor(output).shape)
            handles.append(module.register_forward_hook(record))
    try:
        with torch.no_grad():
            model.eval()(example)
    finally:
        for handle in handles:
            handle.remove()
    return shapes


def _first_tensor(output):
    """A block's main output: transformers' layers return tuples or ModelOutputs."""
    while not hasattr(output, "shape"):
        output = output[0] if isinstance(output, (tuple, list)) else output.to_tuple()[0]
    return output


def nchw_to_hwc(shape: Sequence[int]) -> tuple[int, ...]:
    """PyTorch's (batch, channels, height, width) → symparams' (height, width, channels)."""
    dims = tuple(shape)[1:]
    return (dims[1], dims[2], dims[0]) if len(dims) == 3 else dims
