"""net.growth(...) and net_a.diff(net_b) / symparams diff A B."""
import json

import pytest
from sympy import Integer, Rational, simplify

from conftest import run_cli
from symparams import Network, SymparamsError, load
from symparams.cli import main
from symparams.spec import size_symbol

H, W = size_symbol("H"), size_symbol("W")


# ---------------------------------------------------------------------- growth

def test_lenet_grows_linearly_in_the_height():
    g = load("lenet").growth("H")
    assert g.degree == 1 and g.leading_term == 2400 * H
    assert [layer.name for layer in g.layers] == ["FC3"]
    assert g.constant_layers == ("CONV1", "CONV2", "FC4", "SOFTMAX")
    assert "grows like 2400·H (degree 1 in H)" in str(g)
    assert repr(g) == "<Growth of lenet in H: degree 1, leading term 2400*H>"


def test_the_fc_layer_after_the_flatten_grows_with_h_times_w():
    g = load("lenet").growth("INPUT.height", "INPUT.width")
    assert g.degree == 2 and g.leading_term == 120 * H * W
    assert g.layers[0].name == "FC3" and g.layers[0].leading_term == 120 * H * W


def test_symbolic_input_keeps_the_other_size_in_the_coefficient(write_spec):
    path = write_spec("input: [H, W, 1]\nlayers:\n  - {type: conv2d, kernel: 3, filters: 4}\n"
                      "  - {type: maxpool2d, kernel: 2}\n  - {type: dense, units: 10}\n")
    g = load(str(path)).growth("H")
    assert g.degree == 1
    assert simplify(g.leading_term - 10 * H * (W - 2)) == 0


@pytest.mark.parametrize("preset, target, degree, coefficient", [
    ("lenet", "INPUT.size", 2, 120), ("vgg16", "INPUT.size", 2, 2048),
    ("alexnet", "INPUT.size", 2, None), ("lenet", "k_1", 1, 476), ("lenet", "c_1", 1, 485)])
def test_leading_term_matches_the_exact_counts(preset, target, degree, coefficient):
    """The leading coefficient is the limit of total(x) / x^degree: checked exactly."""
    net = load(preset)
    g = net.growth(target)
    assert g.degree == degree
    (symbol,) = g.symbols
    lead = g.leading_term / symbol ** degree
    assert lead.is_number and (coefficient is None or lead == coefficient)
    exact = g.exact
    for power in (20, 40):
        x = Integer(2) ** power
        ratio = exact.xreplace({symbol: x}) / x ** degree
        assert abs(ratio - lead) < Rational(10 ** 6, x)   # the rest grows one degree less


def test_growth_of_a_size_that_does_not_change_the_total():
    net = Network([load("lenet")[1].layer], input=(32, 32, 3))
    g = net.growth("H")
    assert g.degree == 0 and "does not grow with H" in str(g)


def test_growth_errors():
    with pytest.raises(SymparamsError, match="unknown size 'Q'"):
        load("lenet").growth("Q")
    with pytest.raises(SymparamsError, match="at least one size"):
        load("lenet").growth()
    with pytest.raises(SymparamsError, match="same size"):
        load("lenet").growth("H", "INPUT.height")


# ------------------------------------------------------------------------ diff

def test_diff_done_when():
    lenet = load("lenet")
    d = lenet.diff(lenet.subs({"CONV2.filters": 32}))
    rows = {r.name: r for r in d.rows}
    assert (rows["CONV2"].params_a, rows["CONV2"].params_b) == (3216, 6432)
    assert (rows["FC3"].params_a, rows["FC3"].params_b) == (48120, 96120)
    assert rows["CONV2"].change == 3216 and rows["FC3"].change == 48000
    assert rows["POOL2"].a.output_shape == (5, 5, 16)
    assert rows["POOL2"].b.output_shape == (5, 5, 32)
    assert [r.status for r in d.rows].count("same") == 5
    assert (d.total_a, d.total_b, d.total_change) == (62958, 114174, 51216)
    assert d.summary() == "Total: 62,958 → 114,174 (+51,216, +81.3 %)"
    text = str(d)
    assert "* CONV2" in text and "3,216" in text and "6,432" in text
    assert "48,120" in text and "96,120" in text and "114,174" in text


def test_cli_diff_table_and_json():
    result = run_cli("diff", "lenet", "lenet", "--set-b", "CONV2.filters=32")
    assert result.returncode == 0, result.stderr
    rows = {line.split("│")[1].strip(): line for line in result.stdout.splitlines()
            if line.count("│") > 5}
    assert "3,216" in rows["CONV2"] and "6,432" in rows["CONV2"] and "+3,216" in rows["CONV2"]
    assert "48,120" in rows["FC3"] and "96,120" in rows["FC3"]
    assert "114,174" in rows["total"]
    assert "Total: 62,958 → 114,174 (+51,216, +81.3 %)" in result.stdout
    data = json.loads(run_cli("diff", "lenet", "lenet", "--set-b", "k_2=32", "--json").stdout)
    assert (data["total_a"], data["total_b"], data["total_change"]) == (62958, 114174, 51216)
    fc3 = next(layer for layer in data["layers"] if layer["name"] == "FC3")
    assert fc3["a"]["params"] == 48120 and fc3["b"]["params"] == 96120
    assert fc3["status"] == "changed" and fc3["change"] == 48000


def test_layers_matched_by_name_then_position():
    lenet = load("lenet")
    other = Network.from_spec(lenet_like([
        {"type": "conv2d", "name": "CONV1", "kernel": 5, "filters": 8},
        {"type": "maxpool2d", "name": "POOL1", "kernel": 2},
        {"type": "conv2d", "name": "CONVX", "kernel": 3, "filters": 16},
        {"type": "dropout", "name": "DROP"},
        {"type": "dense", "name": "OUT", "units": 10}]))
    d = lenet.diff(other)
    shown = [(r.name, r.status) for r in d.rows]
    assert shown == [("INPUT", "same"), ("CONV1", "same"), ("POOL1", "same"),
                     ("CONV2 → CONVX", "changed"), ("POOL2", "removed"), ("DROP", "added"),
                     ("FC3 → OUT", "changed"), ("FC4", "removed"), ("SOFTMAX", "removed")]
    assert sum((r.change for r in d.rows), Integer(0)) == d.total_change
    # Renamed and moved: matched by name wherever they are.
    moved = Network.from_spec(lenet_like([
        {"type": "conv2d", "name": "CONV2", "kernel": 5, "filters": 16},
        {"type": "conv2d", "name": "CONV1", "kernel": 5, "filters": 8}]))
    names = [(r.a.index if r.a else None, r.b.index if r.b else None, r.name)
             for r in load("lenet").diff(moved).rows]
    assert (3, 1, "CONV2") in names and (1, 2, "CONV1") in names


def lenet_like(layers):
    from symparams.spec import spec_from_data
    return spec_from_data({"name": "other", "input": [32, 32, 3], "layers": layers})


def test_symbolic_diff_stays_symbolic():
    a = load("lenet").free("CONV2.filters")
    d = a.diff(load("lenet").subs(k_2=32))
    k2 = size_symbol("k_2")
    assert simplify(d.total_change - (114174 - a.total)) == 0
    assert d.total_change.free_symbols == {k2}
    data = d.to_dict()
    assert isinstance(data["total_a"], str) and data["total_b"] == 114174
    assert "k₂" in str(d)


def test_diff_cli_errors(capsys):
    assert main(["diff", "lenet", "nope"]) == 2
    assert "nope: no such file or preset" in capsys.readouterr().err
    assert main(["diff", "lenet", "lenet", "--set-b", "Q=3"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "unknown size 'Q'" in err
    with pytest.raises(SymparamsError, match="expected a Network"):
        load("lenet").diff("lenet")
