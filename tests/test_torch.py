"""Cross-check counts and shapes against PyTorch (optional: needs the torch extra).

Every symparams layer is rebuilt as the equivalent torch.nn module; the module's
parameter count must equal the layer's count, and a forward pass on a zero
tensor must produce the layer's output shape.  PyTorch is NCHW and takes pairs
as (height, width); symparams is height × width × channels and takes pairs as
[along width, along height].
"""
from __future__ import annotations

import math
import tomllib
import warnings

import pytest
from hypothesis import HealthCheck, given, settings
from sympy import Integer

from conftest import DOCUMENT_COUNTS, DOCUMENT_TOTAL, IN_CI, ROOT
from symparams import Network, load
from symparams.spec import load_spec, preset_names, spec_from_data

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # torch warns when numpy is absent; it is not needed here
    try:
        import torch
    except ImportError:
        # With CI=true a missing extra is a failure: collecting this module errors out.
        if IN_CI:
            raise
        pytest.skip("torch extra not installed: pip install -e '.[torch]' (torch==2.13.0 CPU)",
                    allow_module_level=True)
from torch import nn  # noqa: E402

from test_properties import CANONICAL, as_pair, padding_pair, recount, valid_stacks  # noqa: E402

pytestmark = pytest.mark.torch


def hw(pair):
    """symparams (along width, along height) → torch (height, width)."""
    return pair[1], pair[0]


def torch_layers(data: dict) -> list[nn.Module]:
    """One torch module per symparams layer (a Flatten goes in front of a Linear on an image)."""
    shape = tuple(data["input"])
    modules = []
    for entry in data["layers"]:
        kind = CANONICAL.get(entry["type"].lower())
        if kind is None:
            pytest.fail(f"no PyTorch equivalent known for layer type {entry['type']!r}")
        if kind == "conv2d":
            padding = padding_pair(entry.get("padding"))
            stride = as_pair(entry.get("stride"), (1, 1))
            if padding == "same":
                assert stride == (1, 1), "PyTorch allows padding='same' only with stride 1"
            module = nn.Conv2d(shape[2], entry["filters"],
                               kernel_size=hw(as_pair(entry["kernel"], None)), stride=hw(stride),
                               padding="same" if padding == "same" else hw(padding),
                               dilation=hw(as_pair(entry.get("dilation"), (1, 1))),
                               bias=entry.get("bias", True))
        elif kind in ("maxpool2d", "avgpool2d"):
            kernel = as_pair(entry["kernel"], None)
            padding = padding_pair(entry.get("padding"))
            assert padding != "same", "PyTorch pooling has no padding='same'"
            cls = nn.MaxPool2d if kind == "maxpool2d" else nn.AvgPool2d
            module = cls(kernel_size=hw(kernel), stride=hw(as_pair(entry.get("stride"), kernel)),
                         padding=hw(padding))
        elif kind == "flatten":
            module = nn.Flatten()
        elif kind == "dropout":
            module = nn.Dropout(float(entry.get("rate", 0.5)))
        elif kind == "activation":
            module = nn.Identity()  # which function does not matter for counts or shapes
        else:
            linear = nn.Linear(math.prod(shape), entry["units"], bias=entry.get("bias", True))
            module = nn.Sequential(nn.Flatten(), linear) if len(shape) == 3 else linear
        modules.append(module)
        shape = recount({"input": list(shape), "layers": [entry]})[-1][1]
    return modules


def nchw_to_hwc(size: torch.Size) -> tuple[int, ...]:
    dims = tuple(size)[1:]  # drop the batch
    return (dims[1], dims[2], dims[0]) if len(dims) == 3 else dims


def check_against_torch(data: dict, net: Network, device: str = "cpu") -> None:
    """Per-layer and total counts, and the shape after every layer of a forward pass.

    ``device="meta"`` allocates nothing (for the big presets): shapes are still
    computed by PyTorch's own shape functions, the arithmetic is skipped.
    """
    with torch.device(device):
        modules = torch_layers(data)
    model = nn.Sequential(*modules)
    counts = [sum(p.numel() for p in module.parameters()) for module in modules]
    infos = net.layers[1:]
    assert len(infos) == len(modules)
    for info, module, count in zip(infos, modules, counts):
        assert isinstance(info.params, Integer)
        assert info.params == count, (info.name, module, info.params, count)
    assert net.total == sum(p.numel() for p in model.parameters())
    height, width, channels = data["input"]
    x = torch.zeros(1, channels, height, width, device=device)
    with torch.no_grad():
        for info, module in zip(infos, modules):
            x = module(x)
            assert tuple(int(v) for v in info.output_shape) == nchw_to_hwc(x.shape), \
                (info.name, module, info.output_shape, tuple(x.shape))


def preset_data(preset: str) -> dict:
    spec = load_spec(preset)
    return {"input": [int(v) for v in spec.input],
            "layers": [{"type": entry.type, **entry.fields} for entry in spec.layers]}


# Presets with named inputs, merges and sequence layers are rebuilt from their frameworks'
# own models and compared module by module in test_sequence_presets.py.
CHECKED_ELSEWHERE = ("bert-base", "gpt2", "lstm-lm", "transformer-classifier")
# Presets of published models (blocks, residual adds, BatchNorm): a chain of
# torch.nn modules cannot stand for them, torchvision's models can.
TORCHVISION_CHECKED = {"resnet18", "resnet50", "vgg16_bn", "mobilenet_v2"}


@pytest.mark.parametrize("preset", [p for p in preset_names()
                                    if p not in CHECKED_ELSEWHERE and p not in TORCHVISION_CHECKED])
def test_every_preset_matches_torch(preset):
    net = load(preset)
    if not net.is_exact:
        pytest.skip(f"{preset} has symbolic sizes; torch needs numbers")
    check_against_torch(preset_data(preset), net, device="cpu" if net.total < 10**6 else "meta")


def test_lenet_preset_matches_torch():
    spec = load_spec("lenet")
    data = preset_data("lenet")
    net = load("lenet")
    check_against_torch(data, net)
    # and the document's numbers, as torch counts them
    modules = torch_layers(data)
    torch_counts = {entry.name: sum(p.numel() for p in module.parameters())
                    for entry, module in zip(spec.layers, modules)}
    assert {name: torch_counts[name] for name in DOCUMENT_COUNTS} == DOCUMENT_COUNTS
    assert sum(torch_counts.values()) == DOCUMENT_TOTAL


HAND_MADE = {
    # Non-square input, kernel, stride, padding and dilation: catches width/height mix-ups.
    "asymmetric conv": {"input": [20, 33, 3], "layers": [
        {"type": "conv2d", "kernel": [5, 3], "filters": 7, "stride": [2, 1], "padding": [0, 2],
         "dilation": [1, 2]},
        {"type": "maxpool2d", "kernel": [3, 2], "stride": [1, 2], "padding": [1, 0]},
        {"type": "dense", "units": 11}]},
    "same padding, even kernel, no bias": {"input": [15, 9, 2], "layers": [
        {"type": "conv2d", "kernel": [4, 2], "filters": 5, "padding": "same", "bias": False},
        {"type": "conv2d", "kernel": 3, "filters": 6, "padding": "same", "dilation": 2},
        {"type": "avgpool2d", "kernel": 2, "padding": 1},
        {"type": "flatten"},
        {"type": "dense", "units": 12, "bias": False},
        {"type": "dense", "units": 3}]},
    "valid padding and strides that do not divide": {"input": [31, 17, 1], "layers": [
        {"type": "conv2d", "kernel": 3, "filters": 4, "stride": 3, "padding": "valid"},
        {"type": "avgpool2d", "kernel": [2, 3], "stride": 2},
        {"type": "conv2d", "kernel": 1, "filters": 9, "stride": [2, 1]},
        {"type": "dense", "units": 5}]},
}


@pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel:UserWarning")
@pytest.mark.parametrize("case", sorted(HAND_MADE))
def test_hand_made_stacks_match_torch(case):
    data = {"name": case.replace(" ", "_").replace(",", ""), **HAND_MADE[case]}
    check_against_torch(data, Network.from_spec(spec_from_data(data)))


@pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel:UserWarning")
@settings(max_examples=100, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(valid_stacks(torch_compatible=True))
def test_random_stacks_match_torch(data):
    check_against_torch(data, Network.from_spec(spec_from_data(data)))


def test_torch_is_the_pinned_cpu_build():
    # The extra pins torch==2.13.0; a different build may count or shape differently.
    assert torch.__version__.split("+")[0] == "2.13.0"
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    assert extras["torch"] == ["torch==2.13.0"]
