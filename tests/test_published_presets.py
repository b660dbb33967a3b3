"""The presets of published models: totals through count, --json and the API, and
every layer's count and output shape against torchvision's modules, matched by name.

The presets written with blocks (resnet18, resnet50, mobilenet_v2) expand to
torchvision's own module paths (``layer1.0.downsample.0``, ``features.2.conv.1.0``),
so the match needs no renaming table: a wrong name, a missing projection shortcut
or an extra layer leaves a module or a layer unmatched.
"""
from __future__ import annotations

import json
import re

import pytest

import frameworks as fw
from conftest import run_cli
from symparams import load

PRESETS = ("resnet18", "resnet50", "vgg16_bn", "mobilenet_v2")


@pytest.mark.parametrize("name", PRESETS)
def test_preset_total_through_the_api(name):
    net = load(name)
    assert net.total == fw.PUBLISHED_TOTALS[name]
    assert net.total.is_Integer


@pytest.mark.parametrize("name", PRESETS)
def test_preset_total_through_count_and_json(name):
    shown = run_cli("count", name)
    assert shown.returncode == 0, shown.stderr
    # BatchNorm's buffers make the footer Keras-style ("Total params: …")
    assert re.search(rf"Total( params)?: {fw.PUBLISHED_TOTALS[name]:,}\b", shown.stdout)
    data = run_cli("count", name, "--json")
    assert data.returncode == 0, data.stderr
    assert json.loads(data.stdout)["total"] == fw.PUBLISHED_TOTALS[name]


def test_presets_lists_the_published_models():
    out = run_cli("presets").stdout.partition("Homework templates")[0]
    for name in PRESETS:
        assert name in out
        assert f"{fw.PUBLISHED_TOTALS[name]:,}" in out


@pytest.mark.frameworks
@pytest.mark.parametrize("name", PRESETS)
def test_preset_matches_torchvision_layer_by_layer(name):
    torch = fw.need("torch")
    net, model = load(name), fw.reference_model(name)
    pairs = fw.match_by_name(fw.symparams_counts(net), fw.parameter_modules(model))
    assert fw.problems(pairs) == []
    assert len(pairs) == len(fw.parameter_modules(model))
    assert net.total == fw.total_params(model) == fw.PUBLISHED_TOTALS[name]
    example = torch.zeros(1, 3, 224, 224, device="meta")
    shapes = fw.output_shapes(model, example, [p.theirs.path for p in pairs])
    for pair in pairs:
        ours = tuple(int(v) for v in net[pair.ours.name].output_shape)
        assert ours == fw.nchw_to_hwc(shapes[pair.theirs.path]), pair.ours.name


@pytest.mark.frameworks
@pytest.mark.parametrize("name, size", [("resnet18", 1), ("resnet50", 1),
                                        ("mobilenet_v2", 1), ("vgg16_bn", 7)])
def test_final_pooling_is_torchvisions_adaptive_average_pooling(name, size):
    # torchvision's AdaptiveAvgPool2d, matched by name, kind and output shape (it has
    # no parameters, so the layer-by-layer match above does not see it)
    torch = fw.need("torch")
    net, model = load(name), fw.reference_model(name)
    assert tuple(net["avgpool"].layer.output_size) == (size,)
    ours = tuple(int(v) for v in net["avgpool"].output_shape)
    assert ours[:-1] == (size, size)
    example = torch.zeros(1, 3, 224, 224, device="meta")
    if name == "mobilenet_v2":
        # torchvision calls nn.functional.adaptive_avg_pool2d(x, (1, 1)) in forward():
        # no module to pair; the classifier's input is the pooled, flattened map
        assert net["avgpool"].kind == "adaptive_avg_pool"
        shapes = fw.output_shapes(model, example, ["classifier.0"])
        assert (ours[-1],) == shapes["classifier.0"][1:]
        return
    theirs = model.get_submodule("avgpool")
    assert type(theirs).__name__ in fw.TORCH_KINDS[net["avgpool"].kind]
    assert tuple(theirs.output_size) == (size, size)
    shapes = fw.output_shapes(model, example, ["avgpool"])
    assert ours == fw.nchw_to_hwc(shapes["avgpool"])


@pytest.mark.frameworks
@pytest.mark.parametrize("name, blocks", [("resnet18", ["layer1.0", "layer2.0", "layer4.1"]),
                                          ("resnet50", ["layer1.0", "layer3.5", "layer4.0"]),
                                          ("mobilenet_v2", ["features.1", "features.3",
                                                            "features.17"])])
def test_block_instances_match_torchvision_subtrees(name, blocks):
    net, model = load(name), fw.reference_model(name)
    for path in blocks:
        ours = sum(int(info.params) for info in net.layers[1:]
                   if any(i.path == path for i in info.blocks))
        assert ours == fw.subtree_params(model, path), path
