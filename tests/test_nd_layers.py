"""1-D and 3-D convolutions (plain, grouped, transposed) and poolings.

Counts and output shapes are checked against an integer recount written here and,
with hypothesis over random sizes, against the torch.nn modules (Conv1d, Conv3d,
ConvTranspose1d/3d, MaxPool1d/3d, AvgPool1d/3d) on a forward pass.
"""
from __future__ import annotations

import math
import random
import warnings

import pytest
import yaml
from hypothesis import given, settings, strategies as st

from conftest import IN_CI
from symparams import Network, SymparamsError
from symparams.homework.questions import params_questions, shapes_questions
from symparams.layers import is_unsupported, layer_class
from symparams.printing import unicode_written
from symparams.spec import spec_from_data


def network(layers, input_shape):
    return Network.from_spec(spec_from_data({"name": "nd", "input": list(input_shape),
                                             "layers": layers}))


def sizes(value, dims):
    return [value] * dims if isinstance(value, int) else list(value)


def side(size, kernel, stride=1, padding=0, dilation=1):
    return (size + 2 * padding - dilation * (kernel - 1) - 1) // stride + 1


def recount(entry, shape):
    """(count, output shape) with integer arithmetic only (spatial axes in input order)."""
    dims = len(shape) - 1
    kind = entry["type"]
    kernel = sizes(entry["kernel"], dims)
    stride = sizes(entry.get("stride", kernel if "pool" in kind else 1), dims)
    padding = sizes(entry.get("padding", 0), dims)
    dilation = sizes(entry.get("dilation", 1), dims)
    channels = shape[-1]
    if "pool" in kind:
        out = [side(shape[i], kernel[i], stride[i], padding[i]) for i in range(dims)]
        return 0, (*out, channels)
    bias = 1 if entry.get("bias", True) else 0
    k = entry["filters"]
    if kind.endswith("transpose"):
        extra = sizes(entry.get("output_padding", 0), dims)
        out = [(shape[i] - 1) * stride[i] - 2 * padding[i] + dilation[i] * (kernel[i] - 1)
               + extra[i] + 1 for i in range(dims)]
        return k * (math.prod(kernel) * channels + bias), (*out, k)
    g = entry.get("groups", 1)
    out = [side(shape[i], kernel[i], stride[i], padding[i], dilation[i]) for i in range(dims)]
    return k * (math.prod(kernel) * (channels // g) + bias), (*out, k)


def test_formulas_in_letters():
    net = network([{"type": "conv1d", "kernel": 5, "filters": 8},
                   {"type": "conv1d", "kernel": 3, "filters": 8, "groups": 4},
                   {"type": "conv1d_transpose", "kernel": 4, "filters": 2, "stride": 2}],
                  (100, 4))
    assert [unicode_written(i.written) for i in net.layers[1:]] == [
        "((m₁ × d₁) + 1) × k₁", "((m₂ × d₂ / g₂) + 1) × k₂", "((m₃ × d₃) + 1) × k₃"]
    assert [i.params for i in net.layers[1:]] == [8 * (5 * 4 + 1), 8 * (3 * 2 + 1),
                                                  2 * (4 * 8 + 1)]
    assert [i.output_shape for i in net.layers[1:]] == [(96, 8), (94, 8), (190, 2)]
    vol = network([{"type": "conv3d", "kernel": [3, 5, 5], "filters": 8},
                   {"type": "conv3d", "kernel": 1, "filters": 4, "groups": 2}], (16, 32, 32, 2))
    assert unicode_written(vol.layers[1].written) == "((m₁ × n₁ × o₁ × d₁) + 1) × k₁"
    assert unicode_written(vol.layers[2].written) == "((m₂ × n₂ × o₂ × d₂ / g₂) + 1) × k₂"
    # kernel [depth, height, width]: m (width) 5, n (height) 5, o (depth) 3
    assert unicode_written(vol.layers[1].substituted) == "((5 × 5 × 3 × 2) + 1) × 8"
    assert vol.layers[1].output_shape == (14, 28, 28, 8)
    assert vol.layers[2].params == 4 * (1 * 4 + 1)


def test_shape_working_of_a_volume_writes_the_dilation_r():
    net = network([{"type": "conv3d", "kernel": 3, "filters": 2, "dilation": [2, 1, 1]}],
                  (9, 9, 9, 1))
    depth = net.layers[1].shape_working[0]
    assert depth.label == "depth"
    assert unicode_written(depth.formula) == "⌊(D + 2 × P - R × (o - 1) - 1) / S⌋ + 1"
    assert depth.result == 5
    titles = [s.title for s in net.layers[1].shape_steps]
    assert titles == ["Output depth", "Output height and width"]


@pytest.mark.parametrize("kind, rank, other", [
    ("conv2d", 2, "conv1d"), ("conv2d", 4, "conv3d"), ("conv1d", 3, "conv2d"),
    ("conv3d", 3, "conv2d"), ("maxpool2d", 2, "maxpool1d"), ("maxpool1d", 4, "maxpool3d"),
    ("conv2d_transpose", 4, "conv3d_transpose")])
def test_an_input_of_the_wrong_rank_names_the_kind_for_it(kind, rank, other):
    entry = {"type": kind, "kernel": 2, **({} if "pool" in kind else {"filters": 2})}
    with pytest.raises(SymparamsError) as info:
        network([entry], (8,) * (rank - 1) + (3,))
    message = str(info.value)
    assert info.value.field == "type" and "layer 1" in message
    assert f"use {other}" in message and len(message) < 300


def test_a_flat_input_is_still_called_a_flat_vector():
    with pytest.raises(SymparamsError, match="found a flat vector of 10 values"):
        network([{"type": "conv1d", "kernel": 3, "filters": 2}], (10,))


@pytest.mark.parametrize("entry, shape, field, words", [
    ({"type": "conv1d", "kernel": 3, "filters": 6, "groups": 4}, (10, 4), "groups",
     "do not divide the 6 filters"),
    ({"type": "conv3d", "kernel": 3, "filters": 6, "groups": 3}, (8, 8, 8, 4), "groups",
     "do not divide the 4 input channels"),
    ({"type": "conv3d", "kernel": [3, 3], "filters": 6}, (8, 8, 8, 4), "kernel",
     "depth, height, width"),
    ({"type": "conv1d", "kernel": 12, "filters": 6}, (10, 4), "kernel", "does not fit"),
    ({"type": "conv1d_transpose", "kernel": 3, "filters": 2, "output_padding": 1}, (10, 4),
     "output_padding", "smaller than the stride"),
    ({"type": "maxpool3d", "kernel": 2, "padding": 2}, (8, 8, 8, 4), "padding", "half"),
    ({"type": "maxpool1d", "kernel": 2, "padding": ["same"]}, (8, 4), "padding", "same"),
])
def test_bad_fields_are_one_line_naming_the_field(entry, shape, field, words):
    with pytest.raises(SymparamsError) as info:
        network([entry], shape)
    assert info.value.field == field and words in str(info.value)
    assert "layer 1" in str(info.value) and "\n" not in str(info.value)


def test_kinds_are_registered_and_no_longer_unsupported():
    for name, kind in [("Conv1D", "conv1d"), ("Conv3d", "conv3d"),
                       ("ConvTranspose1d", "conv1d_transpose"),
                       ("Conv3DTranspose", "conv3d_transpose"), ("MaxPool1d", "maxpool1d"),
                       ("AveragePooling3D", "avgpool3d")]:
        assert layer_class(name).kind == kind and not is_unsupported(name)


def test_to_spec_round_trips():
    layers = [{"type": "conv3d", "kernel": [3, 5, 5], "filters": 8, "padding": [1, 2, 2],
               "groups": 2}, {"type": "maxpool3d", "kernel": [1, 2, 2]},
              {"type": "conv3d_transpose", "kernel": 2, "filters": 4, "stride": 2}]
    net = network(layers, (8, 16, 16, 2))
    again = Network.from_spec(spec_from_data(net.to_spec()))
    assert [i.params for i in again.layers] == [i.params for i in net.layers]
    assert net.layers[1].layer.to_fields()["kernel"] == [3, 5, 5]


def test_solve_sweep_and_symbolic_over_the_new_sizes():
    net = network([{"type": "conv1d", "kernel": 5, "filters": 8, "groups": 2},
                   {"type": "conv1d_transpose", "kernel": 3,
                    "filters": 5}], (64, 4))
    total = int(net.total)
    assert net.solve("CONV1.filters", total=total) == [8]
    assert net.solve("CONV1.groups", total=total) == [2]
    assert net.solve("CONV2.kernel", total=total) == [3]
    rows = net.sweep({"CONV1.filters": [4, 8]})
    assert [r["total"] for r in rows] == [
        int(network([{"type": "conv1d", "kernel": 5, "filters": k, "groups": 2},
                     {"type": "conv1d_transpose", "kernel": 3, "filters": 5}], (64, 4)).total)
        for k in (4, 8)]
    sym = network([{"type": "conv3d", "kernel": 3, "filters": 8}], (16, 32, 32, 1)).symbolic()
    assert [str(v) for v in sym.input_shape] == ["D", "H", "W", "C"]
    assert str(sym.total) == "k_1*(C*m_1*n_1*o_1 + 1)"
    assert str(sym.layers[1].output_shape[0]) == "D - o_1 + 1"


def test_homework_questions_on_a_1d_network():
    net = network([{"type": "conv1d", "kernel": 3, "filters": 6},
                   {"type": "maxpool1d", "kernel": 2},
                   {"type": "conv1d", "kernel": 3, "filters": 4}],
                  (20, 2))
    params = {q.id: q.answer for q in params_questions(net, 1, random.Random(1))}
    shapes = {q.id: q.answer for q in shapes_questions(net, 1, random.Random(1))}
    assert params["params.CONV1"] == 6 * (3 * 2 + 1) and params["params.CONV2"] == 4 * 19
    assert shapes["shapes.CONV1"] == "18 × 6" and shapes["shapes.POOL1"] == "9 × 6"


variant = st.fixed_dictionaries({
    "type": st.sampled_from(["conv1d", "conv3d", "conv1d_transpose", "conv3d_transpose",
                             "maxpool1d", "avgpool1d", "maxpool3d", "avgpool3d"]),
    "kernel": st.integers(1, 3), "stride": st.integers(1, 2), "padding": st.integers(0, 1),
    "dilation": st.integers(1, 2), "bias": st.booleans(), "groups": st.sampled_from([1, 2, 4]),
    "filters": st.sampled_from([4, 8]), "output_padding": st.integers(0, 1),
    "depth_kernel": st.integers(1, 3)})


def as_entry(raw):
    entry = {k: v for k, v in raw.items() if k in layer_class(raw["type"]).fields or k == "type"}
    if raw["type"].startswith(("conv3d", "maxpool3d", "avgpool3d")):
        entry["kernel"] = [raw["depth_kernel"], raw["kernel"], raw["kernel"]]
    if "pool" in raw["type"]:
        entry["padding"] = min(entry["padding"], min(sizes(entry["kernel"], 3)) // 2)
    if entry.get("output_padding", 0) >= max(entry.get("stride", 1), entry.get("dilation", 1)):
        del entry["output_padding"]
    return entry


def input_for(kind, channels, size):
    return (size, channels) if "1d" in kind else (size - 4, size, size + 1, channels)


@settings(max_examples=60, deadline=None)
@given(variant, st.sampled_from([4, 8]), st.integers(9, 14))
def test_counts_and_shapes_match_an_integer_recount(raw, channels, size):
    entry = as_entry(raw)
    shape = input_for(entry["type"], channels, size)
    net = network([entry], shape)
    assert (net.layers[1].params, net.layers[1].output_shape) == recount(entry, shape)


# ------------------------------------------------------------------ PyTorch

def _torch():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if IN_CI:
            import torch
            return torch
        return pytest.importorskip("torch")


def torch_module(entry, channels):
    from torch import nn
    kind = entry["type"]
    dims = 1 if "1d" in kind else 3
    kernel = tuple(sizes(entry["kernel"], dims))
    if "pool" in kind:
        pool = {"maxpool1d": nn.MaxPool1d, "avgpool1d": nn.AvgPool1d, "maxpool3d": nn.MaxPool3d,
                "avgpool3d": nn.AvgPool3d}[kind]
        extra = {} if kind.startswith("max") else {"count_include_pad": True}
        return pool(kernel, stride=entry.get("stride", kernel), padding=entry.get("padding", 0),
                    **extra)
    common = dict(kernel_size=kernel, stride=entry.get("stride", 1),
                  padding=entry.get("padding", 0), dilation=entry.get("dilation", 1),
                  bias=entry.get("bias", True))
    if kind.endswith("transpose"):
        cls = nn.ConvTranspose1d if dims == 1 else nn.ConvTranspose3d
        return cls(channels, entry["filters"], output_padding=entry.get("output_padding", 0),
                   **common)
    cls = nn.Conv1d if dims == 1 else nn.Conv3d
    return cls(channels, entry["filters"], groups=entry.get("groups", 1), **common)


def channels_last(shape):
    return (*shape[2:], shape[1])


@pytest.mark.torch
@settings(max_examples=50, deadline=None)
@given(variant, st.sampled_from([4, 8]), st.integers(9, 14))
def test_counts_and_shapes_match_torch(raw, channels, size):
    torch = _torch()
    entry = as_entry(raw)
    shape = input_for(entry["type"], channels, size)
    net = network([entry], shape)
    module = torch_module(entry, channels)
    assert net.layers[1].params == sum(p.numel() for p in module.parameters())
    with torch.no_grad():
        out = module(torch.zeros(1, channels, *shape[:-1]))
    assert net.layers[1].output_shape == channels_last(out.shape)


@pytest.mark.parametrize("spec, check", [
    # A 1-D template: the sheet asks for the conv1d's count and shape.
    ("name: sig\ninput: [{choice: [32, 64]}, 4]\nlayers:\n"
     "  - {type: conv1d, name: C1, kernel: {choice: [3, 5]}, filters: {choice: [4, 8]}}\n"
     "  - {type: global_max_pool, name: G1}\n  - {type: dense, name: FC, units: 10}\n",
     lambda a: _conv1d_answer(a) and a["shapes.G1"] == a["shapes.C1"].split(" × ")[1]
     and int(a["params.FC"]) == 10 * int(a["shapes.G1"]) + 10),
    # An image template through upsampling: the dense layer's p follows the upsampled map.
    ("name: up\ninput: [{choice: [8, 12]}, same, 2]\nlayers:\n"
     "  - {type: conv2d, name: C1, kernel: 3, filters: 4}\n"
     "  - {type: upsample, name: U1, scale: {choice: [2, 3]}}\n"
     "  - {type: conv2d, name: C2, kernel: 3, filters: 2}\n  - {type: dense, name: FC, units: 5}\n",
     lambda a: int(a["params.FC"]) == 5 * _values(a["shapes.C2"]) + 5),
    # A volume template.
    ("name: vol\ninput: [{choice: [6, 8]}, 10, 10, 1]\nlayers:\n"
     "  - {type: conv3d, name: C1, kernel: 3, filters: {choice: [2, 4]}}\n"
     "  - {type: maxpool3d, name: P1, kernel: 2}\n  - {type: flatten, name: F}\n",
     lambda a: int(a["params.C1"]) == 28 * int(a["shapes.C1"].split(" × ")[-1])
     and a["shapes.P1"].split(" × ")[1:3] == ["4", "4"]),
])
def test_homework_templates_with_the_new_families(write_spec, tmp_path, spec, check):
    from conftest import run_cli
    out = tmp_path / "hw"
    result = run_cli("homework", write_spec(spec), "--variants", 2, "--seed", 3, "-o", out,
                     "--format", "md", "--jobs", 1)
    assert result.returncode == 0, result.stderr
    rows = [line.split(",") for line in (out / "answers.csv").read_text().splitlines()[1:]]
    variants = {r[0] for r in rows}
    assert len(variants) == 2
    sheet = (out / "variant-01" / "questions.md").read_text(encoding="utf-8")
    rank = len(yaml.safe_load(spec)["input"])
    axes = {2: "(length × channels)", 3: "(height × width × channels)",
            4: "(depth × height × width × channels)"}[rank]
    assert axes in sheet and f"Shapes are channels-last: {axes[1:-1]}" in sheet
    for variant in variants:
        answers = {r[1]: r[2] for r in rows if r[0] == variant}
        assert check(answers), answers


def _values(shape_text):
    return math.prod(int(v) for v in shape_text.split(" × "))


def _conv1d_answer(a) -> bool:
    """k × (m × 4 + 1) with m 3 or 5, and the length L − m + 1 with L 32 or 64."""
    length, k = (int(v) for v in a["shapes.C1"].split(" × "))
    m = int(a["params.C1"]) // k // 4
    return m in (3, 5) and int(a["params.C1"]) == k * (m * 4 + 1) and length + m - 1 in (32, 64)
