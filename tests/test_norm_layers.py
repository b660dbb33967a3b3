"""Normalisation families: batchnorm, layernorm, groupnorm, instancenorm.

Counts are checked against an integer formula written here and against the
torch.nn modules (parameters, BatchNorm's buffers, forward output shapes).
PyTorch is channels-first (N, C, H, W); symparams shapes are H × W × C.
"""
from __future__ import annotations


import pytest
from sympy import Integer

from conftest import import_torch, run_cli
from symparams import Network, SymparamsError, explain
from symparams.layers import layer_class
from symparams.layers.norm import BatchNorm, GroupNorm, InstanceNorm, LayerNorm
from symparams.spec import size_symbol, spec_from_data

torch, nn = import_torch()

needs_torch = pytest.mark.skipif(torch is None, reason="torch extra not installed")


def learned(channels: int, affine=True, scale=True, center=True) -> int:
    """γ and β, C each, as switched on: written out independently of symparams."""
    return channels * ((affine and scale) + (affine and center))


def count_one(fields: dict, shape) -> Network:
    return Network.from_spec(spec_from_data({"input": list(shape), "layers": [fields]}))


SWITCHES = [{}, {"affine": False}, {"scale": False}, {"center": False},
            {"scale": False, "center": False}, {"affine": True}]


@pytest.mark.parametrize("kind", ["batchnorm", "layernorm", "groupnorm", "instancenorm"])
@pytest.mark.parametrize("switches", SWITCHES)
@pytest.mark.parametrize("channels", [4, 6, 64])
def test_counts_match_the_integer_formula(kind, switches, channels):
    fields = {"type": kind, **switches}
    if kind == "groupnorm":
        fields["groups"] = 2
    net = count_one(fields, (5, 7, channels))
    affine = switches.get("affine", kind != "instancenorm")  # PyTorch's defaults
    expected = learned(channels, affine, switches.get("scale", True),
                       switches.get("center", True))
    assert net.total == Integer(expected)
    assert isinstance(net.total, Integer)
    assert net.layers[1].output_shape == (5, 7, channels)   # the shape is handed on


def test_formulas_in_letters_and_the_switches():
    C = size_symbol("C")
    assert BatchNorm().formula == 2 * C
    assert BatchNorm(scale=False).formula == C and BatchNorm(center=False).formula == C
    assert BatchNorm(affine=False).formula == 0 and not BatchNorm(affine=False).has_params
    assert InstanceNorm().formula == 0 and InstanceNorm(affine=True).formula == 2 * C
    assert LayerNorm().formula == 2 * C and GroupNorm(groups=4).formula == 2 * C
    # A layer's switches survive the spec round trip.
    for layer in (BatchNorm(scale=False), InstanceNorm(affine=True), GroupNorm(groups=3)):
        assert type(layer).from_fields({k: v for k, v in layer.to_fields().items()
                                        if k != "type"}) == layer


def test_batchnorm_running_statistics_are_buffers_or_keras_non_trainable():
    # PyTorch (the default): buffers, not parameters; Keras: non-trainable parameters.
    shape = (Integer(8), Integer(8), Integer(16))
    assert BatchNorm().buffers(shape) == 32 and BatchNorm().non_trainable(shape) == 0
    keras = BatchNorm(convention="keras")
    assert keras.non_trainable(shape) == 32 and keras.buffers(shape) == 0
    H = size_symbol("C_1")
    assert BatchNorm(affine=False).buffers((H,)) == 2 * H   # kept even with nothing learned
    assert BatchNorm(affine=False, convention="keras").non_trainable((H,)) == 2 * H
    assert LayerNorm().non_trainable((Integer(10),)) == 0 == LayerNorm().buffers((Integer(10),))


def test_reasons_say_what_is_not_learned():
    net = count_one({"type": "batchnorm"}, (4, 4, 8))
    reason = net.layers[1].layer.step_reason()
    assert "running mean and variance" in reason and "not learned" in reason
    for layer in (LayerNorm(), GroupNorm(groups=2), InstanceNorm()):
        assert "not learned" in layer.step_reason()
    assert "no β" in BatchNorm(center=False).step_reason()


@pytest.mark.parametrize("name, cls", [("batchnorm", BatchNorm), ("BatchNorm2d", BatchNorm),
                                       ("batch_normalization", BatchNorm),
                                       ("LayerNorm", LayerNorm), ("groupnorm", GroupNorm),
                                       ("InstanceNorm2d", InstanceNorm)])
def test_supported_names_are_not_called_unsupported(name, cls):
    assert layer_class(name) is cls


def test_other_normalisations_are_still_not_supported():
    with pytest.raises(SymparamsError, match="not supported yet"):
        layer_class("localresponsenorm")


def test_groups_must_divide_channels_one_line_naming_the_field(write_spec):
    path = write_spec("input: [8, 8, 6]\nlayers:\n  - {type: groupnorm, groups: 4}\n")
    result = run_cli("count", path)
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert "groups" in result.stderr and "4 groups must divide the 6 channels" in result.stderr
    assert "layer 1" in result.stderr


def test_explain_batchnorm():
    text = explain("batchnorm")
    assert "2 × C" in text and "not learned" in text
    assert "BN1: 2 × C₁ = 2 × 8 = 16" in text


def test_report_md_has_the_batchnorm_step(write_spec, tmp_path):
    path = write_spec("name: bnnet\ninput: [8, 8, 3]\nlayers:\n"
                      "  - {type: conv2d, kernel: 3, filters: 4}\n  - {type: batchnorm}\n")
    out = tmp_path / "out"
    result = run_cli("report", path, "--format", "md", "-o", out)
    assert result.returncode == 0, result.stderr
    md = (out / "bnnet.md").read_text(encoding="utf-8")
    assert "BN1" in md and r"2 \times C_{1} = 2 \times 4 = 8" in md
    assert "running mean and variance" in md
    assert "BN1, whose formulas drop the +1" not in md   # no bias field: no bias note


# ------------------------------------------------------------------ PyTorch

def torch_params(module) -> int:
    return sum(p.numel() for p in module.parameters())


@needs_torch
@pytest.mark.parametrize("channels", [3, 8, 32])
@pytest.mark.parametrize("affine", [True, False])
def test_against_torch_modules(channels, affine):
    hwc = (6, 5, channels)
    x = torch.zeros(2, channels, 6, 5)
    cases = [
        ({"type": "batchnorm", "affine": affine}, nn.BatchNorm2d(channels, affine=affine)),
        ({"type": "groupnorm", "groups": 1, "affine": affine},
         nn.GroupNorm(1, channels, affine=affine)),
        ({"type": "instancenorm", "affine": affine},
         nn.InstanceNorm2d(channels, affine=affine)),
    ]
    for fields, module in cases:
        net = count_one(fields, hwc)
        assert net.total == torch_params(module), fields
        out = module(x)
        assert (out.shape[2], out.shape[3], out.shape[1]) == net.layers[1].output_shape
    # LayerNorm over the last axis: a vector of C features.
    net = count_one({"type": "layernorm", "affine": affine}, (channels,))
    module = nn.LayerNorm(channels, elementwise_affine=affine)
    assert net.total == torch_params(module)
    assert tuple(module(torch.zeros(2, channels)).shape[1:]) == net.layers[1].output_shape


@needs_torch
@pytest.mark.parametrize("channels, groups", [(8, 2), (12, 3), (16, 16)])
def test_groupnorm_against_torch(channels, groups):
    net = count_one({"type": "groupnorm", "groups": groups}, (4, 4, channels))
    assert net.total == torch_params(nn.GroupNorm(groups, channels))


@needs_torch
@pytest.mark.parametrize("channels", [4, 16])
def test_batchnorm_buffers_are_the_running_statistics(channels):
    module = nn.BatchNorm2d(channels)
    stats = module.running_mean.numel() + module.running_var.numel()
    shape = (Integer(3), Integer(3), Integer(channels))
    assert BatchNorm().buffers(shape) == stats
    assert BatchNorm(convention="keras").non_trainable(shape) == stats


@needs_torch
def test_small_cnn_end_to_end_against_torch():
    spec = {"name": "bncnn", "input": [16, 16, 3], "layers": [
        {"type": "conv2d", "kernel": 3, "filters": 8, "padding": 1},
        {"type": "batchnorm"},
        {"type": "activation", "function": "relu"},
        {"type": "maxpool2d", "kernel": 2},
        {"type": "conv2d", "kernel": 3, "filters": 12},
        {"type": "batchnorm", "center": False},
        {"type": "flatten"},
        {"type": "dense", "units": 10}]}
    net = Network.from_spec(spec_from_data(spec))
    bn2 = nn.BatchNorm2d(12)
    bn2.bias = None  # Keras' center: false: γ only
    model = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(),
                          nn.MaxPool2d(2), nn.Conv2d(8, 12, 3), bn2,
                          nn.Flatten(), nn.Linear(12 * 6 * 6, 10))
    assert net.total == torch_params(model)
    per_layer = [torch_params(m) for m in model]
    assert [info.params for info in net.layers[1:]] == per_layer
    model.eval()
    x = torch.zeros(1, 3, 16, 16)
    for info, module in zip(net.layers[1:], model):
        x = module(x)
        shape = tuple(x.shape[1:])
        if len(shape) == 3:
            shape = (shape[1], shape[2], shape[0])
        assert shape == info.output_shape, info.name


def test_homework_with_batchnorm_asks_its_params_and_shape(write_spec, tmp_path):
    path = write_spec("name: bnhw\ninput: [{choice: [16, 32]}, 16, 3]\nlayers:\n"
                      "  - {type: conv2d, kernel: 3, filters: {range: [4, 8], step: 4}}\n"
                      "  - {type: batchnorm}\n  - {type: maxpool2d, kernel: 2}\n"
                      "  - {type: dense, units: 10}\n")
    out = tmp_path / "hw"
    result = run_cli("homework", path, "--variants", 2, "--seed", 1, "-o", out,
                     "--format", "md", "--jobs", 1)
    assert result.returncode == 0, result.stderr
    rows = [line.split(",") for line in (out / "answers.csv").read_text().splitlines()[1:]]
    for variant in {r[0] for r in rows}:
        answers = {r[1]: r[2] for r in rows if r[0] == variant}
        filters = int(answers["shapes.CONV1"].split(" × ")[-1])
        assert int(answers["params.BN1"]) == 2 * filters           # γ and β per channel
        assert answers["shapes.BN1"] == answers["shapes.CONV1"]    # handed on unchanged
