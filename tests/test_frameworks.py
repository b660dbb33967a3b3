"""Cross-checks against real frameworks: torchvision and transformers, built offline.

The reference models are built with random weights from the frameworks' own
code (tests/frameworks.py); their totals must be the published ones, which
proves the offline builds are the right architectures. The presets symparams
can describe today are compared with them module by module: the count of every
layer, its kind and its output shape in a forward pass.
"""
from __future__ import annotations

import json
import re
import subprocess
import sys
import tomllib
from dataclasses import replace

import pytest

import frameworks as fw
from conftest import ROOT
from symparams import Network, load

pytestmark = pytest.mark.frameworks


@pytest.fixture(scope="module")
def torch():
    return fw.need("torch")


@pytest.mark.parametrize("name", sorted(fw.PUBLISHED_TOTALS))
def test_reference_models_have_the_published_totals(name):
    model = fw.reference_model(name)
    assert fw.total_params(model) == fw.PUBLISHED_TOTALS[name]
    # the per-module counts add up to the unique total: nothing lost, nothing twice
    assert sum(c.params for c in fw.module_counts(model)) == fw.PUBLISHED_TOTALS[name]


OFFLINE_BUILD = """
import json, socket, sys
def refuse(*args, **kwargs):
    raise OSError("network access attempted during an offline build")
socket.socket.connect = socket.socket.connect_ex = refuse
socket.create_connection = socket.getaddrinfo = refuse
sys.path.insert(0, sys.argv[1])
import frameworks as fw
totals = {}
for name in fw.PUBLISHED_TOTALS:
    # real random weights, except for the two largest plain CNNs (their code is vgg16_bn's)
    device = "meta" if name in ("alexnet", "vgg16") else "cpu"
    model = fw.reference_model(name, device=device)
    if device == "cpu":
        assert next(model.parameters()).std() > 0, name
    totals[name] = fw.total_params(model)
print(json.dumps(totals))
"""


def test_reference_models_build_offline_with_random_weights():
    # A fresh interpreter with every connection refused before anything is imported.
    fw.need("torchvision"), fw.need("transformers")   # skip (or fail in CI) without the extra
    done = subprocess.run([sys.executable, "-c", OFFLINE_BUILD, str(ROOT / "tests")],
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    assert json.loads(done.stdout.splitlines()[-1]) == fw.PUBLISHED_TOTALS


def test_tied_weights_are_counted_once():
    gpt2 = fw.reference_model("gpt2")
    lm_head = next(c for c in fw.parameter_modules(gpt2) if c.path == "lm_head")
    assert lm_head.params == 0
    assert lm_head.tied == ("weight -> transformer.wte.weight",)
    vocabulary, width = gpt2.transformer.wte.weight.shape
    counted_twice = sum(p.numel() for _, p in gpt2.named_parameters(remove_duplicate=False))
    assert counted_twice - fw.total_params(gpt2) == vocabulary * width == 50257 * 768


def test_batchnorm_statistics_are_buffers_not_parameters():
    model = fw.reference_model("vgg16_bn")
    norms = [c for c in fw.module_counts(model) if c.kind == "BatchNorm2d"]
    channels = [getattr(model, "features")[int(c.path.split(".")[1])].num_features for c in norms]
    assert len(norms) == 13
    assert [c.params for c in norms] == [2 * d for d in channels]     # γ and β
    assert [c.buffers for c in norms] == [2 * d for d in channels]    # running mean and variance
    assert [c.int_buffers for c in norms] == [1] * 13                # num_batches_tracked
    assert fw.total_buffers(model) == (2 * sum(channels), 13)
    assert fw.total_params(model) - fw.PUBLISHED_TOTALS["vgg16"] == 2 * sum(channels)


def test_subtree_counts_follow_module_paths():
    resnet = fw.reference_model("resnet50")
    blocks = [fw.subtree_params(resnet, f"layer1.{i}") for i in range(3)]
    # the first bottleneck alone has the projection shortcut: 1 × 1 × 64 × 256, BatchNorm 2 × 256
    assert fw.subtree_params(resnet, "layer1.0.downsample") == 64 * 256 + 2 * 256
    # and takes 64 channels in instead of 256 (its first 1 × 1 convolution is smaller)
    assert blocks[0] - fw.subtree_params(resnet, "layer1.0.downsample") \
        == blocks[1] - (256 - 64) * 64
    assert blocks[1] == blocks[2]
    assert fw.subtree_params(resnet, "layer1") == sum(blocks)
    assert fw.subtree_params(resnet, "") == fw.PUBLISHED_TOTALS["resnet50"]


def check_shapes(net: Network, model, pairs, torch) -> None:
    """Each matched layer's output shape equals its module's in a forward pass."""
    height, width, channels = (int(v) for v in net.input_shape)
    example = torch.zeros(1, channels, height, width, device="meta")
    shapes = fw.output_shapes(model, example, [p.theirs.path for p in pairs])
    for pair in pairs:
        ours = tuple(int(v) for v in net[pair.ours.name].output_shape)
        assert ours == fw.nchw_to_hwc(shapes[pair.theirs.path]), (pair.ours.name, pair.theirs)


def test_vgg16_preset_matches_torchvision_by_position(torch):
    net, model = load("vgg16"), fw.reference_model("vgg16")
    pairs = fw.match_by_position(fw.symparams_counts(net), fw.parameter_modules(model))
    assert len(pairs) == 16
    assert fw.problems(pairs) == []
    assert net.total == fw.total_params(model) == fw.PUBLISHED_TOTALS["vgg16"]
    check_shapes(net, model, pairs, torch)


# torchvision's AlexNet: features.{0,3,6,8,10} convolutions, classifier.{1,4,6} linears.
ALEXNET_PATHS = {"CONV1": "features.0", "CONV2": "features.3", "CONV3": "features.6",
                 "CONV4": "features.8", "CONV5": "features.10",
                 "FC6": "classifier.1", "FC7": "classifier.4", "FC8": "classifier.6"}


def test_alexnet_preset_matches_torchvision_by_name(torch):
    net, model = load("alexnet"), fw.reference_model("alexnet")
    pairs = fw.match_by_name(fw.symparams_counts(net), fw.parameter_modules(model), ALEXNET_PATHS)
    assert [p.theirs.path for p in pairs] == list(ALEXNET_PATHS.values())
    assert fw.problems(pairs) == []
    assert net.total == fw.total_params(model) == fw.PUBLISHED_TOTALS["alexnet"]
    check_shapes(net, model, pairs, torch)


def test_matchers_report_every_disagreement():
    ours = fw.symparams_counts(load("vgg16"))
    theirs = fw.parameter_modules(fw.reference_model("vgg16"))
    # a wrong count names the layer and both numbers
    wrong = [*ours[:-1], replace(ours[-1], params=ours[-1].params + 1)]
    [problem] = fw.problems(fw.match_by_position(wrong, theirs))
    assert problem.startswith("FC8 (dense): symparams 4,097,001, framework classifier.6 (Linear)")
    # a convolution paired with a linear layer is caught even when the counts agree
    swapped = [replace(o, kind="dense") if o.name == "CONV1_1" else o for o in ours]
    assert fw.problems(fw.match_by_position(swapped, theirs)) == [
        "CONV1_1 is a dense, paired with a Conv2d"]
    with pytest.raises(AssertionError, match="15 symparams layers with parameters, 16 framework"):
        fw.match_by_position(ours[:-1], theirs)
    with pytest.raises(AssertionError, match=r"unmatched symparams layers: CONV1_1 -> CONV1_1"):
        fw.match_by_name(ours, theirs)


def test_symbolic_sizes_must_be_substituted_before_matching():
    net = load("vgg16").free("FC8.units")
    with pytest.raises(ValueError, match="FC8 has a symbolic count"):
        fw.symparams_counts(net)
    assert fw.symparams_counts(net.subs({"FC8.units": 1000})) == fw.symparams_counts(load("vgg16"))


def test_the_installed_frameworks_are_the_pinned_cpu_builds(torch):
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    pins = dict(pin.split("==") for pin in extras["frameworks"])
    assert set(pins) == {"torchvision", "transformers", "onnx", "keras"}
    assert torch.version.cuda is None, "a CUDA torch replaced the CPU build"
    # Imported as the tests build models (torchvision's compiled ops stood in for), so
    # that this test passes on its own too, not only after another one prepared them.
    for module, load in (("torchvision", fw.import_torchvision),
                         ("transformers", fw.import_transformers)):
        assert load().__version__.split("+")[0] == pins[module]
    # The importers' packages (issue 10), read from the metadata: importing keras
    # needs KERAS_BACKEND set first.
    from importlib.metadata import version
    for package in ("onnx", "keras"):
        assert version(package) == pins[package]
        assert f"{package}=={pins[package]}" in (ROOT / "Makefile").read_text()
    # make test-deps installs exactly these pins, torchvision without its dependencies
    makefile = (ROOT / "Makefile").read_text()
    assert re.search(rf"--no-deps '?torchvision=={re.escape(pins['torchvision'])}'?", makefile)
    assert f"transformers=={pins['transformers']}" in makefile


def test_torchvision_compiled_ops_fail_loudly_not_silently():
    # Beside the CPU torch the compiled ops cannot load; the models need none,
    # and calling one of them is an error, never a wrong answer.
    torchvision = fw.import_torchvision()
    torch = fw.need("torch")
    if torchvision.extension._has_ops():
        pytest.skip("this torchvision's compiled ops load: nothing is declared in their place")
    boxes = torch.tensor([[0.0, 0.0, 1.0, 1.0]])
    with pytest.raises(RuntimeError):
        torchvision.ops.nms(boxes, torch.tensor([1.0]), 0.5)


def test_transformer_shapes_come_from_a_forward_pass(torch):
    # T = 8 token ids on the meta device: blocks return tuples, their first tensor is the shape
    tokens = torch.zeros(1, 8, dtype=torch.long, device="meta")
    bert = fw.output_shapes(fw.reference_model("bert-base"), tokens, [
        "embeddings", "encoder.layer.0", "encoder.layer.0.intermediate.dense", "pooler"])
    assert bert == {"embeddings": (1, 8, 768), "encoder.layer.0": (1, 8, 768),
                    "encoder.layer.0.intermediate.dense": (1, 8, 3072), "pooler": (1, 768)}
    gpt2 = fw.output_shapes(fw.reference_model("gpt2"), tokens, [
        "transformer.h.11", "transformer.h.0.attn.c_attn", "lm_head"])
    assert gpt2 == {"transformer.h.11": (1, 8, 768), "transformer.h.0.attn.c_attn": (1, 8, 3 * 768),
                    "lm_head": (1, 8, 50257)}
