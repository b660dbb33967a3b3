"""One resolver for size addresses: --set, net.subs, sweep, solve and diff read them alike.

An address is LAYER.FIELD (``CONV2.kernel`` sets m and n together), a letter
(``k_1``), a free name (``H``), an input axis (``INPUT.height``, ``INPUT.width``,
``INPUT.size``, ``INPUT.channels``, ``input[0]``) or, for a numeric input, ``H``,
``W`` and ``C``.  ``--symbolic`` keeps every size a letter, the input's too.
"""
from __future__ import annotations

import json

import pytest
from sympy import Symbol

from conftest import DOCUMENT_TOTAL, run_cli
from symparams import SymparamsError, load
from symparams.addresses import resolve_size

# Every size the document gives, by letter: with all of them set the total is 62,958.
DOCUMENT_VALUES = dict(m_1=5, n_1=5, k_1=8, m_2=5, n_2=5, k_2=16, c_1=120, c_2=84, c_3=10,
                       H=32, W=32, C=3)


@pytest.fixture(scope="module")
def lenet():
    return load("lenet")


# ------------------------------------------------------------- item 1: --symbolic

def test_symbolic_keeps_the_input_a_letter_too(lenet):
    sym = lenet.symbolic()
    assert [str(v) for v in sym.input_shape] == ["H", "W", "C"]
    assert {"H", "W", "C"} <= set(sym.free_symbols)
    assert {s.name for s in sym.total.free_symbols} == set(DOCUMENT_VALUES)
    assert sym.subs(DOCUMENT_VALUES).total == DOCUMENT_TOTAL


def test_symbolic_flat_input_is_n():
    from symparams import Dense, Network
    net = Network([Dense(units=10)], input=(784,)).symbolic()
    assert [str(v) for v in net.input_shape] == ["N"]
    assert net.subs(N=784, c_1=10).total == 7850


def test_symbolic_keeps_names_and_expressions_in_the_input(write_spec):
    spec = write_spec("input: [2*F, H, 3]\nlayers:\n  - {type: conv2d, kernel: 1, filters: 2}\n")
    sym = load(str(spec)).symbolic()
    assert [str(v) for v in sym.input_shape] == ["2*F", "H", "C"]


def test_readme_symbolic_example_runs_as_written():
    result = run_cli("count", "lenet", "--symbolic", "--set", "k_1=8", "H=32", "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert isinstance(data["total"], str)
    left = {"W", "C", "m_1", "n_1", "m_2", "n_2", "k_2", "c_1", "c_2", "c_3"}
    for name in left:
        assert name in data["total"]
    assert "k_1" not in data["total"] and "H" not in data["total"]
    every = [f"{k}={v}" for k, v in DOCUMENT_VALUES.items()]
    result = run_cli("count", "lenet", "--symbolic", "--set", *every, "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["total"] == DOCUMENT_TOTAL


# ------------------------------------------------------------ item 2: every address

@pytest.mark.parametrize("values, changed", [
    ({"CONV2.kernel": 3}, lambda n: (n["CONV2"].values[n.symbols["m_2"]],
                                    n["CONV2"].values[n.symbols["n_2"]]) == (3, 3)),
    ({"INPUT.size": 64}, lambda n: n.input_shape[:2] == (64, 64)),
    ({"INPUT.height": 40}, lambda n: n.input_shape[:2] == (40, 32)),
    ({"INPUT.width": 40}, lambda n: n.input_shape[:2] == (32, 40)),
    ({"INPUT.channels": 1}, lambda n: n.input_shape[2] == 1),
    ({"input[0]": 40}, lambda n: n.input_shape[:2] == (40, 32)),
    ({"H": 64}, lambda n: n.input_shape[:2] == (64, 32)),
    ({"W": 64, "C": 1}, lambda n: n.input_shape == (32, 64, 1)),
    ({"CONV1.filters": 16}, lambda n: n["CONV1"].params == 1216),
])
def test_subs_changes_every_size_sweep_and_solve_can(lenet, values, changed):
    net = lenet.subs(values)
    assert changed(net)
    assert net.is_exact
    # The sweep reads the same address and agrees at that point.
    (key, value), = list(values.items())[:1]
    if len(values) == 1:
        assert lenet.sweep({key: [value]})[0]["total"] == net.total


def test_set_kernel_on_the_command_line():
    result = run_cli("count", "lenet", "--set", "CONV2.kernel=3", "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["layers"][3]["params"] == (3 * 3 * 8 + 1) * 16


@pytest.mark.parametrize("setting", ["INPUT.size=64", "INPUT.height=40", "H=64"])
def test_set_input_sizes_on_the_command_line(setting):
    result = run_cli("count", "lenet", "--set", setting, "--json")
    assert result.returncode == 0, result.stderr
    name, value = setting.split("=")
    assert json.loads(result.stdout)["input_shape"][0] == int(value)


def test_set_and_solve_and_sweep_agree_on_input_height(lenet):
    assert lenet.solve("INPUT.height", total=lenet.subs({"INPUT.height": 40}).total) == \
        lenet.solve("H", total=lenet.subs(H=40).total)
    assert 40 in lenet.solve("H", total=lenet.subs(H=40).total)


def test_diff_reads_the_same_addresses():
    result = run_cli("diff", "lenet", "lenet", "--set-b", "CONV2.kernel=3", "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["total_a"] == DOCUMENT_TOTAL and data["total_b"] != DOCUMENT_TOTAL


def test_free_name_in_a_symbolic_input_is_set_by_its_axis(write_spec):
    spec = write_spec("input: [H, H, 3]\nlayers:\n  - {type: conv2d, kernel: 3, filters: 4}\n"
                      "  - {type: dense, units: 10}\n")
    net = load(str(spec))
    # INPUT.height is the name H (height and width both), as solve reads it.
    assert net.subs({"INPUT.height": 8}).input_shape == (8, 8, 3)
    assert net.subs(H=8).total == net.subs({"INPUT.size": 8}).total


# ----------------------------------------------------------- the resolver itself

def test_resolver_reads_every_kind_of_address(lenet):
    assert resolve_size(lenet, "CONV2.kernel").letters == ("m_2", "n_2")
    assert resolve_size(lenet, "k_1").letters == ("k_1",)
    assert resolve_size(lenet, "INPUT.size").axes == (0, 1)
    assert resolve_size(lenet, "H").axes == (0,)
    assert resolve_size(lenet, "input[2]").axes == (2,)
    assert resolve_size(lenet.symbolic(), "H").free == ("H",)
    assert resolve_size(lenet.symbolic(), "INPUT.height").free == ("H",)


@pytest.mark.parametrize("key, fragments", [
    ("CONV9.filters", ["no layer named 'CONV9'", "CONV1", "SOFTMAX"]),
    ("CONV1.stride", ["CONV1", "stride", "kernel", "filters"]),
    ("POOL1.kernel", ["POOL1 has no size called 'kernel'", "CONV1.filters"]),
    ("INPUT.depth", ["INPUT.height", "INPUT.width", "INPUT.size", "INPUT.channels"]),
    ("x", ["unknown size 'x'", "k_1", "INPUT.height", "H"]),
    ("d_2", ["follows from the layer before", "CONV1.filters"]),
    ("input[5]", ["3 entries"]),
])
def test_errors_list_what_exists(lenet, key, fragments):
    with pytest.raises(SymparamsError) as info:
        lenet.subs({key: 3})
    message = str(info.value)
    for fragment in fragments:
        assert fragment in message, message
    assert "\n" not in message and len(message) < 300
    # The same words from the sweep.
    with pytest.raises(SymparamsError) as again:
        lenet.sweep({key: [3]})
    assert fragments[0] in str(again.value)


def test_kernel_message_no_longer_contradicts_itself():
    result = run_cli("count", "lenet", "--set", "CONV2.kernel=3")
    assert result.returncode == 0, result.stderr
    assert "no single size" not in result.stderr


def test_the_same_size_twice_is_refused(lenet):
    with pytest.raises(SymparamsError, match="same size"):
        lenet.subs({"k_1": 4, "CONV1.filters": 8})
    with pytest.raises(SymparamsError, match="same size"):
        lenet.subs({"H": 40, "INPUT.size": 40})


def test_subs_accepts_symbols_as_keys(lenet):
    sym = lenet.symbolic()
    assert sym.subs({sym.symbols["H"]: 32})["INPUT"].output_shape[0] == 32
    assert isinstance(sym.symbols["H"], Symbol)
