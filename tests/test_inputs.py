"""Network inputs: shapes of rank 1 to 4 and several named inputs."""
from __future__ import annotations

import json

import pytest
from sympy import Symbol

from symparams import Network, load
from symparams.cli import main
from symparams.errors import SymparamsError
from symparams.spec import spec_from_data

TWO_INPUTS = {
    "name": "two-inputs",
    "input": {"image": [32, 32, 3], "meta": [10]},
    "layers": [
        {"type": "conv2d", "kernel": 3, "filters": 4, "name": "C1"},
        {"type": "flatten", "name": "FLAT"},
        {"type": "dense", "units": 10, "inputs": ["meta"], "name": "M"},
        {"type": "concat", "inputs": ["FLAT", "M"], "name": "JOIN"},
        {"type": "dense", "units": 2, "name": "OUT"},
    ],
}


def _net(data) -> Network:
    return Network.from_spec(spec_from_data(data))


@pytest.mark.parametrize("shape, axes", [
    ([16], ["features"]),
    ([16, 3], ["length", "channels"]),
    ([8, 8, 3], ["height", "width", "size", "channels"]),
    ([4, 8, 8, 3], ["depth", "height", "width", "size", "channels"]),
])
def test_every_rank_is_an_input_and_its_axes_are_addresses(shape, axes):
    net = _net({"name": "r", "input": shape, "layers": [{"type": "dense", "units": 3}]})
    flat = 1
    for v in shape:
        flat *= v
    assert net.total == 3 * flat + 3
    assert net.input_shape == tuple(shape)
    for axis in axes:
        bigger = net.subs({f"INPUT.{axis}": 20})
        assert bigger.total > net.total
    assert len(net.symbolic().input_shape) == len(shape)


def test_rank_five_is_refused_naming_the_ranks():
    with pytest.raises(SymparamsError, match=r"input: expected \[features\].*\[depth, height, "
                                             r"width, channels\]"):
        _net({"name": "r", "input": [1, 2, 3, 4, 5], "layers": [{"type": "flatten"}]})


def test_named_inputs_feed_the_layers_that_name_them():
    net = _net(TWO_INPUTS)
    assert [info.name for info in net.inputs] == ["image", "meta"]
    assert net["C1"].sources == ("image",)     # the first layer takes the first input
    assert net["M"].input_shape == (10,)
    assert net["JOIN"].output_shape == (30 * 30 * 4 + 10,)
    expected = (3 * 3 * 3 + 1) * 4 + (10 * 10 + 10) + (2 * 3610 + 2)
    assert net.total == expected
    assert net["meta"].params == 0 and net["meta"].sources == ()
    assert [info.name for info in net.outputs] == ["OUT"]   # an input is never an output


def test_input_still_answers_for_the_first_named_input():
    data = json.loads(json.dumps(TWO_INPUTS))
    data["layers"][0]["inputs"] = ["INPUT"]
    assert _net(data).total == _net(TWO_INPUTS).total


def test_named_inputs_survive_subs_free_and_to_spec():
    net = _net(TWO_INPUTS)
    again = _net(net.to_spec())
    assert again.to_spec() == net.to_spec()
    assert net.to_spec()["input"] == {"image": [32, 32, 3], "meta": [10]}
    assert [l["name"] for l in net.to_spec()["layers"]] == ["C1", "FLAT", "M", "JOIN", "OUT"]
    wider = net.subs({"C1.filters": 8})
    assert wider.total == net.total + 4 * 28 + 2 * 30 * 30 * 4
    assert [i.name for i in wider.inputs] == ["image", "meta"]
    loose = net.free("M.units")
    assert loose["M"].params.free_symbols == {Symbol("c_1", integer=True, positive=True)}


def test_an_unused_further_input_is_no_output_and_an_unknown_name_lists_inputs():
    data = json.loads(json.dumps(TWO_INPUTS))
    data["layers"][2]["inputs"] = ["metadata"]
    with pytest.raises(SymparamsError, match=r"layer 4 \(M\).*inputs.*no layer or input named "
                                             r"'metadata' \(earlier: image, meta, C1, FLAT\)"):
        _net(data)


def test_bad_named_input_is_one_clear_line(tmp_path, capsys):
    spec = tmp_path / "bad.yaml"
    spec.write_text("name: b\ninput: {image: [32, 32, 3], meta: [-3]}\n"
                    "layers:\n  - {type: flatten}\n")
    assert main(["count", str(spec)]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "input.meta[0]" in err and str(spec) in err


def test_table_and_json_show_every_input(capsys):
    spec = spec_from_data(TWO_INPUTS)
    net = Network.from_spec(spec)
    records = net.to_dict()["layers"]
    assert [r["name"] for r in records[:2]] == ["image", "meta"]
    assert records[1]["inputs"] == [] and records[1]["output_shape"] == [10]
    assert records[2]["inputs"] == ["image"]


def test_presets_keep_their_single_input():
    assert load("lenet").to_spec()["input"] == [32, 32, 3]
    assert load("lenet").inputs[0].name == "INPUT"
