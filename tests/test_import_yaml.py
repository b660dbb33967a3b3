"""symparams import: spec data written as readable YAML, repeated layers collapsed into
blocks, read back as the same network (names, kinds, inputs, per-layer counts)."""
from __future__ import annotations

import json

import pytest
import yaml

from symparams import load
from symparams.cli import main
from symparams.documents import parse_document
from symparams.importers.collapse import collapse_blocks
from symparams.importers.spec_yaml import spec_to_yaml
from symparams.network import Network
from symparams.spec import spec_from_data


def network_of(text_or_data) -> Network:
    data = yaml.safe_load(text_or_data) if isinstance(text_or_data, str) else text_or_data
    return Network.from_spec(spec_from_data(data, source="<test>"))


def layer_rows(net: Network) -> list[tuple]:
    """What must survive the round trip, layer by layer."""
    return [(i.name, i.kind, tuple(i.sources), tuple(i.output_shape), i.params,
             i.non_trainable, i.buffers, i.frozen) for i in net.layers]


# ---------------------------------------------------------------- the YAML's shape

def test_yaml_orders_keys_writes_flow_lists_and_has_no_tags_or_aliases():
    shared = [4, 4]
    data = {"layers": [{"inputs": ["a", "b"], "type": "add", "name": "sum"}],
            "input": {"a": shared, "b": shared},     # one list twice: no &anchor/*alias
            "title": "Two inputs", "name": "pair"}
    text = spec_to_yaml(data, source="pair.yaml", collapse=False)
    assert text.startswith("# Written by symparams import from pair.yaml.")
    body = [line for line in text.splitlines() if not line.startswith("#")]
    assert [line.split(":")[0] for line in body if not line.startswith(" ")] == \
        ["name", "title", "input", "layers"]
    assert "input: {a: [4, 4], b: [4, 4]}" in body
    assert "  - {name: sum, type: add, inputs: [a, b]}" in body
    assert not any(mark in text for mark in ("!!", "&id", "*id"))
    assert network_of(text).total == 0


ODD_NAMES = ["a: b", "x #y", "1.10", "yes", "null", "~", "-", "[x]", "é-ü", " lead", "0x1F",
             "=", "<<", "&a", "*a", "!x", "12:30", "1_000", "'q'", "a,b", "tab\there"]


def test_text_is_quoted_only_where_yaml_would_read_it_otherwise():
    layers = [{"name": name, "type": "dense", "units": 3} for name in ODD_NAMES]
    data = {"name": "odd: names", "description": "two\nlines", "input": [5],
            "layers": layers}
    text = spec_to_yaml(data, collapse=False)
    assert yaml.safe_load(text) == data            # every name comes back as text
    assert parse_document(text, ".yaml", "<test>") == data     # as the spec reader reads it
    assert "{name: é-ü, type: dense, units: 3}" in text     # plain where it can be
    assert "'1.10'" in text and "'yes'" in text             # quoted where it must be
    assert [i.name for i in network_of(text).layers[1:]] == ODD_NAMES


def test_yaml_refuses_what_a_spec_cannot_hold():
    with pytest.raises(TypeError):
        spec_to_yaml({"name": "x", "input": [3], "layers": [{"type": "dense", "units": object()}]})


# ---------------------------------------------------------------- collapsing

REPEATING = ["resnet18", "resnet50", "mobilenet_v2", "bert-base", "gpt2"]


@pytest.mark.parametrize("preset", [*REPEATING, "vgg16_bn"])
def test_collapsed_yaml_expands_to_the_same_layers_and_counts(preset):
    net = load(preset)
    flat = net.to_spec()
    text = spec_to_yaml(flat, source=preset)
    back = network_of(text)
    assert layer_rows(back) == layer_rows(net)
    assert back.total == net.total
    flat_lines = len(spec_to_yaml(flat, collapse=False).splitlines())
    lines = len(text.splitlines())
    if preset in REPEATING:
        assert "blocks:" in text and "repeat:" in text
        assert lines <= 0.75 * flat_lines, (lines, flat_lines)
    else:      # VGG's Sequential numbers every layer (features.0 … features.43): nothing to repeat
        assert "blocks:" not in text and lines == flat_lines


def test_resnet50_is_one_block_used_per_stage_with_the_projection_when_needed():
    text = spec_to_yaml(load("resnet50").to_spec())
    data = yaml.safe_load(text)
    assert list(data["blocks"]) == ["layer"]
    uses = [e for e in data["layers"] if "block" in e]
    assert [(u["name"], u["repeat"]) for u in uses] == \
        [("layer1", 3), ("layer2", 4), ("layer3", 6), ("layer4", 3)]
    assert all(u["first"]["has_downsample"] is True for u in uses)
    body = data["blocks"]["layer"]["layers"]
    assert [e["name"] for e in body if e.get("when") == "has_downsample"] == \
        ["downsample.0", "downsample.1"]
    assert len(text.splitlines()) < 50        # 175 layers in 181 lines when flat


def test_mobilenet_children_numbered_like_sequential_in_one_use():
    data = yaml.safe_load(spec_to_yaml(load("mobilenet_v2").to_spec()))
    [features] = [e for e in data["layers"] if e.get("name") == "features"]
    stack = data["blocks"][features["block"]]["layers"]
    assert [e.get("repeat", 1) for e in stack] == [1, 1, 2, 3, 4, 3, 3, 1, 1]
    # The residual add is the optional layer of the inverted residual block.
    assert any(e.get("type") == "add" and "when" in e
               for b in data["blocks"].values() for e in b["layers"])


def _tiny(extra_input: str | None = None) -> dict:
    """Three instances of one unit; ``extra_input`` makes the last take a layer from elsewhere."""
    layers = [{"name": "stem", "type": "conv2d", "kernel": 3, "filters": 8, "padding": 1}]
    for k in range(3):
        layers += [{"name": f"stage.{k}.conv", "type": "conv2d", "kernel": 3, "filters": 8,
                    "padding": 1},
                   {"name": f"stage.{k}.bn", "type": "batchnorm"},
                   {"name": f"stage.{k}.add", "type": "add",
                    "inputs": [f"stage.{k}.bn", "stem" if k else "stem"]}]
    if extra_input:
        layers[-1]["inputs"] = ["stage.2.bn", extra_input]
    layers.append({"name": "head", "type": "flatten"})
    return {"name": "tiny", "input": [8, 8, 3], "layers": layers}


def test_a_family_that_does_not_fit_one_block_stays_flat_and_the_same():
    # The skip connections all come from the stem, outside each instance: a block
    # takes one input, so these instances cannot be written as repeats.
    data = _tiny()
    collapsed = collapse_blocks(data)
    assert collapsed is data
    assert layer_rows(network_of(spec_to_yaml(data))) == layer_rows(network_of(data))


def test_repeats_that_chain_collapse_and_a_foreign_input_keeps_its_family_flat():
    chained = _tiny()
    for k in range(3):
        chained["layers"][1 + 3 * k + 2]["inputs"] = [f"stage.{k}.bn", "stem" if k == 0
                                                      else f"stage.{k - 1}.add"]
    collapsed = collapse_blocks(chained)
    assert [e.get("block") for e in collapsed["layers"]] == [None, "stage", None]
    assert layer_rows(network_of(collapsed)) == layer_rows(network_of(chained))
    broken = json.loads(json.dumps(chained))
    broken["layers"][1 + 3 * 2 + 2]["inputs"] = ["stage.2.bn", "stage.0.bn"]
    assert collapse_blocks(broken)["layers"] == broken["layers"]


# ---------------------------------------------------------------- the command

def test_import_writes_collapsed_yaml_that_counts_the_same(tmp_path, capsys):
    out = tmp_path / "r50.yaml"
    assert main(["import", "resnet50", "-o", str(out)]) == 0
    text = out.read_text(encoding="utf-8")
    assert "blocks:" in text
    assert layer_rows(load(str(out))) == layer_rows(load("resnet50"))
    assert main(["import", "resnet50", "--flat"]) == 0
    flat = capsys.readouterr().out
    assert "blocks:" not in flat and flat.count("\n  - {name:") == len(load("resnet50")) - 1


def test_diff_between_an_imported_spec_and_the_preset_is_zero_everywhere(tmp_path, capsys):
    out = tmp_path / "r18.yaml"
    assert main(["import", "resnet18", "-o", str(out)]) == 0
    capsys.readouterr()
    assert main(["diff", "resnet18", str(out), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert {row["status"] for row in result["layers"]} == {"same"}
    assert result["total_change"] == 0


@pytest.mark.parametrize("args, message", [
    (["nosuch-model"], "no such file or preset"),
    (["resnet18", "--input", "3,224"], "--input: only for a framework model"),
    (["resnet18", "--input", "3,-1"], "expected whole numbers ≥ 1 or names"),
    (["missing.onnx"], "no such file"),
    (["torch:torchvision.models:resnet18"], "needs --input"),
    (["torch:no_such_package_here.models:net", "--input", "3,8,8"], "no_such_package_here"),
])
def test_import_errors_are_one_line_and_write_nothing(tmp_path, capsys, args, message):
    out = tmp_path / "kept.yaml"
    out.write_text("old\n", encoding="utf-8")
    assert main(["import", *args, "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err
    assert out.read_text(encoding="utf-8") == "old\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["kept.yaml"]


def test_import_refuses_a_folder_as_output(tmp_path, capsys):
    assert main(["import", "lenet", "-o", str(tmp_path)]) == 2
    assert "is a folder" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def _staged() -> dict:
    """EfficientNet's layout in small: stages.s.j.… (stage s, unit j), the first unit of
    each stage changing the width (no residual add), the others adding their input."""
    layers = [{"name": "stem", "type": "conv2d", "kernel": 3, "filters": 8, "padding": 1}]
    previous = "stem"
    for s, (width, units) in enumerate([(8, 1), (16, 4), (24, 5)]):
        for j in range(units):
            unit = f"stages.{s}.{j}"
            layers += [{"name": f"{unit}.block.0", "type": "conv2d", "kernel": 3,
                        "filters": width, "padding": 1, "bias": False},
                       {"name": f"{unit}.block.1", "type": "batchnorm"}]
            if j:
                layers.append({"name": f"{unit}.add", "type": "add",
                               "inputs": [f"{unit}.block.1", previous]})
            previous = layers[-1]["name"]
    layers += [{"name": "pool", "type": "global_avg_pool"},
               {"name": "fc", "type": "dense", "units": 10}]
    return {"name": "staged", "input": [16, 16, 3], "layers": layers}


def test_stages_of_repeated_units_nest_one_block_per_stage():
    data = _staged()
    text = spec_to_yaml(data)
    back = yaml.safe_load(text)
    assert layer_rows(network_of(back)) == layer_rows(network_of(data))
    [stages] = [e for e in back["layers"] if e.get("name") == "stages"]
    stack = back["blocks"][stages["block"]]["layers"]
    assert len(stack) == 3 and all(list(e) == ["block"] for e in stack)
    inner = [back["blocks"][e["block"]]["layers"] for e in stack[1:]]
    assert [[(u["block"], u.get("repeat")) for u in stage] for stage in inner] == \
        [[("stages_unit", 4)], [("stages_unit", 5)]]
    assert len(text.splitlines()) < len(spec_to_yaml(data, collapse=False).splitlines())


def test_a_learned_tensor_inside_repeated_units_sits_in_the_block():
    """ConvNeXt's layer scale: a tensor (inputs: []) in every unit; blocks take it too."""
    layers = [{"name": "stem", "type": "conv2d", "kernel": 1, "filters": 8}]
    for k in range(4):
        unit = f"stage.{k}"
        layers += [{"name": f"{unit}.conv", "type": "conv2d", "kernel": 3, "filters": 8,
                    "padding": 1},
                   {"name": f"{unit}.layer_scale", "type": "tensor", "shape": [8],
                    "inputs": []},
                   {"name": f"{unit}.mul", "type": "multiply",
                    "inputs": [f"{unit}.conv", f"{unit}.layer_scale"]}]
    data = {"name": "scaled", "input": [8, 8, 3], "layers": layers}
    collapsed = collapse_blocks(data)
    [body] = collapsed["blocks"].values()
    assert {"name": "layer_scale", "type": "tensor", "shape": [8], "inputs": []} \
        in body["layers"]
    net = network_of(collapsed)
    assert layer_rows(net) == layer_rows(network_of(data))
    assert net["stage.3.layer_scale"].params == 8


def test_opaque_layers_and_their_op_text_collapse_as_they_are():
    """An opaque layer's op (``torch view, transpose``) is text a block keeps as it is,
    in a unit and beside the repeated units."""
    layers = [{"name": "stem", "type": "conv2d", "kernel": 1, "filters": 4}]
    for k in range(5):
        if k == 2:
            layers.append({"name": "body.2", "type": "opaque", "op": "torch view, transpose"})
            continue
        layers += [{"name": f"body.{k}.conv", "type": "conv2d", "kernel": 3, "filters": 4,
                    "padding": 1},
                   {"name": f"body.{k}.shuffle", "type": "opaque",
                    "op": "torch channel_shuffle (groups 2)"}]
    data = {"name": "shuffled", "input": [8, 8, 3], "layers": layers}
    collapsed = collapse_blocks(data)
    assert "blocks" in collapsed
    assert layer_rows(network_of(collapsed)) == layer_rows(network_of(data))
    assert network_of(collapsed)["body.2"].kind == "opaque"


@pytest.mark.parametrize("preset", ["mobilenet_v2", "bert-base"])
def test_a_spec_with_blocks_is_written_as_it_is(preset):
    from symparams.spec import read_document
    data, _ = read_document(preset)
    text = spec_to_yaml(data, source=preset)
    assert yaml.safe_load(text) == data
    assert "null" not in text                  # a parameter to be given is ~, as in the presets
    assert layer_rows(network_of(text)) == layer_rows(load(preset))
