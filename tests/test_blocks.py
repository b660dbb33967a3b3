"""Reusable blocks: a spec's blocks: section expanded into plain layers with
hierarchical names, parameters, expressions, repeats, nesting and hostile specs."""
from __future__ import annotations

import pytest
import yaml

from conftest import run_cli
from symparams import Network, load
from symparams.blocks import MAX_LAYERS
from symparams.errors import SymparamsError
from symparams.spec import load_spec, spec_from_data

RESIDUAL = """
name: tiny
input: [8, 8, 4]
blocks:
  proj:
    params: {filters: ~, stride: 1}
    layers:
      - {type: conv2d, kernel: 1, filters: filters, stride: stride, bias: false}
      - {type: batchnorm}
  unit:
    params: {width: ~, stride: 1, downsample: false}
    layers:
      - {type: conv2d, name: conv1, kernel: 3, filters: 2 * width, stride: stride, padding: 1}
      - {type: batchnorm, name: bn1}
      - {block: proj, name: downsample, inputs: in, when: downsample,
         with: {filters: 2 * width, stride: stride}}
      - {type: add, name: add, inputs: [bn1, downsample]}
  stage:
    params: {width: ~, count: 2}
    layers:
      - {block: unit, repeat: count, with: {width: width}, first: {stride: 2, downsample: true}}
layers:
  - {type: conv2d, name: stem, kernel: 3, filters: 8, padding: 1}
  - {block: unit, name: layer1, repeat: 2, with: {width: 4}}
  - {block: stage, name: layer2, with: {width: 8, count: 3}}
  - {type: flatten, name: flat}
"""


def spec_of(text: str):
    return spec_from_data(yaml.safe_load(text), source="net.yaml")


def test_block_uses_expand_to_hierarchical_names():
    names = [entry.name for entry in spec_of(RESIDUAL).layers]
    assert names[:5] == ["stem", "layer1.0.conv1", "layer1.0.bn1", "layer1.0.add",
                         "layer1.1.conv1"]
    # a nested stage: its unnamed repeat numbers the units 0, 1, 2 under layer2
    assert "layer2.0.downsample.0" in names and "layer2.0.downsample.1" in names
    assert "layer2.1.downsample.0" not in names          # first: only the first repeat
    assert [n for n in names if n.startswith("layer2.2")] == [
        "layer2.2.conv1", "layer2.2.bn1", "layer2.2.add"]
    assert names[-1] == "flat"


def test_residual_inputs_follow_the_block_and_a_left_out_entry_passes_its_input():
    layers = {entry.name: entry for entry in spec_of(RESIDUAL).layers}
    # no projection in layer1: the add takes the block's input (the stem)
    assert layers["layer1.0.add"].fields["inputs"] == ["layer1.0.bn1", "stem"]
    assert layers["layer1.1.conv1"].fields.get("inputs") is None       # the layer before
    assert layers["layer1.1.add"].fields["inputs"] == ["layer1.1.bn1", "layer1.0.add"]
    # with it: the projection takes the block's input, the add the projection
    assert layers["layer2.0.downsample.0"].fields["inputs"] == ["layer1.1.add"]
    assert layers["layer2.0.add"].fields["inputs"] == ["layer2.0.bn1",
                                                       "layer2.0.downsample.1"]


def test_expressions_use_the_block_parameters():
    layers = {entry.name: entry for entry in spec_of(RESIDUAL).layers}
    assert layers["layer1.0.conv1"].fields["filters"] == 8          # 2 * width, width 4
    assert layers["layer2.1.conv1"].fields["filters"] == 16
    assert layers["layer2.0.conv1"].fields["stride"] == 2 and \
        layers["layer2.1.conv1"].fields["stride"] == 1


def test_the_expanded_network_counts_and_records_its_blocks():
    net = Network.from_spec(spec_of(RESIDUAL))
    info = net["layer2.0.downsample.0"]
    assert [(i.path, i.block) for i in info.blocks] == [
        ("layer2", "stage"), ("layer2.0", "unit"), ("layer2.0.downsample", "proj")]
    assert info.blocks[1].group == "layer2.0…2" and info.blocks[1].repeat == 0
    assert dict(info.blocks[1].params)["downsample"] == "true"
    assert net["layer1.1.add"].blocks[-1].group == "layer1"
    # every count is the flat layers': conv 3×3×8×8+8, bn 2×8, twice in layer1 …
    assert net["layer1.0.conv1"].params == 3 * 3 * 8 * 8 + 8
    assert net["layer2.0.downsample.0"].params == 8 * 16
    flat = Network.from_spec(spec_from_data(net.to_spec()))
    assert flat.total == net.total                       # to_spec writes the flat layers
    assert net.letter_for("layer1.1.conv1.filters") == "k_3"   # addresses of dotted names


def test_a_symbolic_parameter_stays_a_letter_of_the_network():
    text = RESIDUAL.replace("with: {width: 4}", "with: {width: w}")
    net = Network.from_spec(spec_of(text))
    assert str(net["layer1.0.conv1"].params) == "146*w"


def test_trainable_false_on_a_use_reaches_every_layer():
    text = RESIDUAL.replace("with: {width: 8, count: 3}}", "with: {width: 8, count: 3}, "
                            "trainable: false}")
    layers = spec_of(text).layers
    frozen = [e.name for e in layers if e.fields.get("trainable") is False]
    assert frozen == [e.name for e in layers if e.name.startswith("layer2.")]
    assert frozen and all("trainable" not in e.fields for e in layers
                          if not e.name.startswith("layer2."))


def test_a_block_layer_left_out_at_the_end_is_not_taken_by_the_next_layer():
    text = """
name: t
input: [4, 4, 2]
blocks:
  b:
    params: {extra: false}
    layers:
      - {type: conv2d, name: c, kernel: 1, filters: 3}
      - {type: batchnorm, name: tail, when: extra}
layers:
  - {block: b, name: one}
  - {type: flatten, name: flat}
"""
    layers = {e.name: e for e in spec_of(text).layers}
    assert list(layers) == ["one.c", "flat"]
    assert layers["flat"].fields.get("inputs") is None


@pytest.mark.parametrize("change, fragments", [
    # recursion between blocks
    (("  stage:\n    params: {width: ~, count: 2}\n    layers:\n",
      "  stage:\n    params: {width: ~, count: 2}\n    layers:\n"
      "      - {block: stage, with: {width: 1}}\n"), ["block stage uses itself", "stage → stage"]),
    # an unknown parameter, with a suggestion
    (("with: {width: 4}}", "with: {widht: 4}}"), ["no parameter", "widht", "did you mean 'width'"]),
    # a missing one
    (("with: {width: 4}}", "with: {stride: 1}}"), ["needs parameter width"]),
    # an unknown name in an expression inside a block
    (("filters: 2 * width,", "filters: 2 * wdth + 1,"), ["unknown parameter", "wdth"]),
    # anything but the whitelist grammar
    (("filters: 2 * width,", "filters: 2 * width + open('x'),"),
     ["unexpected character"]),
    (("{block: unit, name: layer1,", "{block: nope, name: layer1,"), ["no block named", "nope"]),
    (("repeat: 2, with: {width: 4}", "repeat: 0, with: {width: 4}"), ["repeats ≥ 1"]),
    (("repeat: 2, with: {width: 4}", "repeat: 2, hello: 1, with: {width: 4}"),
     ["unknown key", "hello"]),
    (("when: downsample,", "when: width,"), ["not true or false"]),
    (("inputs: [bn1, downsample]", "inputs: [bn1, later]"), ["no layer named", "later"]),
])
def test_bad_blocks_are_one_line_errors(write_spec, change, fragments):
    old, new = change
    assert old in RESIDUAL
    path = write_spec(RESIDUAL.replace(old, new, 1))
    result = run_cli("count", path)
    assert result.returncode == 2, result.stdout
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert str(path) in result.stderr and "layer " in result.stderr
    for fragment in fragments:
        assert fragment in result.stderr


def test_exponential_repeats_are_capped_with_the_block_named():
    blocks = {"b0": {"layers": [{"type": "activation", "function": "relu"}]}}
    for level in range(1, 8):   # 10^7 layers if expanded
        blocks[f"b{level}"] = {"layers": [{"block": f"b{level - 1}", "repeat": 10}]}
    data = {"name": "bomb", "input": [4], "blocks": blocks,
            "layers": [{"block": "b7", "name": "top"}]}
    with pytest.raises(SymparamsError) as caught:
        spec_from_data(data, source="bomb.yaml")
    message = str(caught.value)
    assert f"more than {MAX_LAYERS:,} layers" in message and "block b" in message
    assert message.startswith("bomb.yaml: layer 1 (top")


def test_a_huge_repeat_of_an_empty_instance_stops_too():
    data = {"name": "t", "input": [4],
            "blocks": {"b": {"params": {"x": False},
                             "layers": [{"type": "dropout", "when": "x"}]}},
            "layers": [{"block": "b", "name": "top", "repeat": "10^6"}]}
    with pytest.raises(SymparamsError, match="repeated"):
        spec_from_data(data)


def test_an_unnamed_layer_taken_by_a_block_residual_must_be_named():
    text = RESIDUAL.replace("{type: conv2d, name: stem, kernel: 3, filters: 8, padding: 1}",
                            "{type: conv2d, kernel: 3, filters: 8, padding: 1}")
    with pytest.raises(SymparamsError, match="layer 1 has no name"):
        spec_of(text)


def test_block_use_needs_a_name_at_the_top_level():
    text = RESIDUAL.replace("{block: unit, name: layer1,", "{block: unit,")
    with pytest.raises(SymparamsError, match="needs a name"):
        spec_of(text)


def test_specs_without_blocks_are_read_as_before():
    spec = load_spec("lenet")
    assert [e.name for e in spec.layers][:2] == ["CONV1", "POOL1"]
    assert all(e.blocks == () for e in spec.layers)
    assert load("resnet18")["layer2.0.downsample.0"].blocks[-1].block == "projection"


def test_a_block_residual_on_a_named_network_input():
    text = """
name: t
input: {image: [8, 8, 4]}
blocks:
  res:
    layers:
      - {type: conv2d, name: conv, kernel: 3, padding: 1, filters: 4}
      - {type: add, name: add, inputs: [conv, in]}
layers:
  - {block: res, name: first}
"""
    net = Network.from_spec(spec_of(text))
    assert net["first.add"].sources == ("first.conv", "image")
    assert net.total == 3 * 3 * 4 * 4 + 4


def test_blocks_using_each_other_name_the_cycle():
    data = {"name": "t", "input": [4],
            "blocks": {"a": {"layers": [{"block": "b"}]}, "b": {"layers": [{"block": "a"}]}},
            "layers": [{"block": "a", "name": "top"}]}
    with pytest.raises(SymparamsError, match="block a uses itself \\(a → b → a\\)"):
        spec_from_data(data, source="loop.yaml")


def test_dotted_layer_names_work_on_the_command_line():
    done = run_cli("count", "resnet18", "--set", "fc.units=10", "--json")
    assert done.returncode == 0, done.stderr
    import json
    assert json.loads(done.stdout)["total"] == 11_689_512 - 990 * 513
    solved = run_cli("solve", "resnet18", "--for", "layer4.1.conv1.filters",
                     "--layer", "layer4.1.conv1", "--total", str(3 * 3 * 512 * 256))
    assert solved.returncode == 0, solved.stderr
    assert "256" in solved.stdout


def test_a_frozen_block_moves_its_counts_into_non_trainable():
    text = RESIDUAL.replace("with: {width: 8, count: 3}}", "with: {width: 8, count: 3}, "
                            "trainable: false}")
    frozen, free = Network.from_spec(spec_of(text)), Network.from_spec(spec_of(RESIDUAL))
    layer2 = sum(int(i.params) for i in free.layers[1:] if i.name.startswith("layer2."))
    assert frozen.total == free.total
    assert frozen.non_trainable_total == layer2 > 0
    assert frozen.trainable_total == free.total - layer2
    keras = run_cli("count", "resnet50", "--convention", "keras")
    assert keras.returncode == 0 and "Non-trainable params: 53,120" in keras.stdout
