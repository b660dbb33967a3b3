"""Importing PyTorch models through torch.fx (issue 10, item 1): every torchvision
classifier and small hand-built modules, checked against PyTorch's own counts.

The importer checks its own accounting; these tests check it again from the
outside, module by module (tests/frameworks.py counts each module's own
parameters as PyTorch holds them), and compare output shapes with a forward
pass, so a wrong rule cannot hide behind a right total.
"""
from __future__ import annotations

import subprocess
import sys
from unittest import mock

import pytest

import frameworks as fw
from conftest import ROOT
from symparams import Network, SymparamsError
from symparams.spec import spec_from_data

pytestmark = pytest.mark.frameworks

# torchvision.models.list_models(module=torchvision.models) of torchvision 0.28;
# test_the_list_is_torchvisions keeps it honest.
CLASSIFIERS = (
    "alexnet", "convnext_base", "convnext_large", "convnext_small", "convnext_tiny",
    "densenet121", "densenet161", "densenet169", "densenet201", "efficientnet_b0",
    "efficientnet_b1", "efficientnet_b2", "efficientnet_b3", "efficientnet_b4",
    "efficientnet_b5", "efficientnet_b6", "efficientnet_b7", "efficientnet_v2_l",
    "efficientnet_v2_m", "efficientnet_v2_s", "googlenet", "inception_v3", "maxvit_t",
    "mnasnet0_5", "mnasnet0_75", "mnasnet1_0", "mnasnet1_3", "mobilenet_v2",
    "mobilenet_v3_large", "mobilenet_v3_small", "regnet_x_16gf", "regnet_x_1_6gf",
    "regnet_x_32gf", "regnet_x_3_2gf", "regnet_x_400mf", "regnet_x_800mf", "regnet_x_8gf",
    "regnet_y_128gf", "regnet_y_16gf", "regnet_y_1_6gf", "regnet_y_32gf", "regnet_y_3_2gf",
    "regnet_y_400mf", "regnet_y_800mf", "regnet_y_8gf", "resnet101", "resnet152", "resnet18",
    "resnet34", "resnet50", "resnext101_32x8d", "resnext101_64x4d", "resnext50_32x4d",
    "shufflenet_v2_x0_5", "shufflenet_v2_x1_0", "shufflenet_v2_x1_5", "shufflenet_v2_x2_0",
    "squeezenet1_0", "squeezenet1_1", "swin_b", "swin_s", "swin_t", "swin_v2_b", "swin_v2_s",
    "swin_v2_t", "vgg11", "vgg11_bn", "vgg13", "vgg13_bn", "vgg16", "vgg16_bn", "vgg19",
    "vgg19_bn", "vit_b_16", "vit_b_32", "vit_h_14", "vit_l_16", "vit_l_32",
    "wide_resnet101_2", "wide_resnet50_2",
)
# The classifiers that do not import, and the start of the reason (the README lists them).
NOT_IMPORTED: dict[str, str] = {}
# The input each model is read with: the image size its weights were trained on
# where the architecture fixes it (ViT's position table), else a small image
# (every size gives the same count; smaller is quicker).
INPUT = {name: (3, 224, 224) if name.startswith(("vit", "swin", "maxvit"))
         else (3, 299, 299) if name == "inception_v3" else (3, 96, 96) for name in CLASSIFIERS}


@pytest.fixture(scope="module")
def tv():
    return fw.import_torchvision()


def build(tv, name: str):
    """A torchvision classifier with random weights on the meta device (no memory, no
    download). RegNet's builder computes its widths with tensors, which the meta
    device cannot hold: that arithmetic runs on the CPU, the model on meta."""
    torch = fw.need("torch")
    from torchvision.models import regnet
    widths = regnet.BlockParams.from_init_params.__func__

    def on_cpu(cls, *args, **kwargs):
        with torch.device("cpu"):
            return widths(cls, *args, **kwargs)
    with mock.patch.object(regnet.BlockParams, "from_init_params", classmethod(on_cpu)), \
            torch.device("meta"):
        return tv.models.get_model(name, weights=None)


def imported(model, input_shape, **options):
    from symparams.importers.torch_fx import spec_from_torch
    data = spec_from_torch(model, input_shape, **options)
    return data, Network.from_spec(spec_from_data(data))


def owner(name: str, paths: set[str]) -> str:
    """The module a layer counts: its own path, else the nearest module above it
    (``encoder.pos_embedding`` is the encoder's tensor, ``fc.positions`` part of fc)."""
    while name not in paths and name:
        name = name.rpartition(".")[0]
    return name


def per_module(net, model) -> tuple[dict[str, int], dict[str, int]]:
    """(ours, PyTorch's) parameters per module that holds any."""
    theirs = {c.path: c.params for c in fw.module_counts(model) if c.params}
    paths = {path for path, _ in model.named_modules()}
    ours: dict[str, int] = {}
    for info in net.layers[1:]:
        if int(info.params):
            key = owner(info.name, paths)
            ours[key] = ours.get(key, 0) + int(info.params)
    return ours, theirs


def test_the_list_is_torchvisions(tv):
    assert sorted(tv.models.list_models(module=tv.models)) == sorted(CLASSIFIERS)


@pytest.mark.parametrize("name", [n for n in CLASSIFIERS if n not in NOT_IMPORTED])
def test_torchvision_classifier_imports_with_pytorchs_counts(tv, name):
    model = build(tv, name)
    data, net = imported(model, INPUT[name], name=name)
    assert net.total == fw.total_params(model)
    assert net.buffers_total == fw.total_buffers(model)[0]
    ours, theirs = per_module(net, model)
    assert ours == theirs


def test_classifiers_that_do_not_import_are_listed_with_the_reason(tv, capsys):
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    failures = {}
    for name, reason in NOT_IMPORTED.items():
        with pytest.raises(SymparamsError) as caught:
            imported(build(tv, name), INPUT[name], name=name)
        failures[name] = str(caught.value)
        assert reason in failures[name]
        assert f"`{name}`" in readme
    with capsys.disabled():
        print("\ntorchvision classifiers that do not import:",
              "none" if not failures else "", *(f"\n  {n}: {r}" for n, r in failures.items()))


@pytest.mark.parametrize("name", ["resnet18", "mobilenet_v3_small", "googlenet"])
def test_imported_shapes_are_pytorchs_forward_shapes(tv, name):
    torch = fw.need("torch")
    model = build(tv, name).eval()
    _, net = imported(model, (3, 96, 96))
    layers = {info.name: info for info in net.layers[1:]}
    paths = [p for p, _ in model.named_modules() if p in layers]
    forward = fw.output_shapes(model, torch.empty(1, 3, 96, 96, device="meta"), paths)
    for path, shape in forward.items():
        assert tuple(layers[path].output_shape) == fw.nchw_to_hwc(shape), path
