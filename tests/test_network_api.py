"""A network in Python: counts behave like ints, and len, repr, iteration and
indexing agree (the input is layer 0, as in the table)."""
from __future__ import annotations

import json
import pickle

import pytest
from sympy import Integer, Symbol

from conftest import DOCUMENT_TOTAL
from symparams import Conv2D, Dense, Network, load


@pytest.fixture(scope="module")
def lenet():
    return load("lenet")


def test_counts_take_format_specs(lenet):
    assert f"{lenet.total:,}" == "62,958"
    assert f"{lenet['FC3'].params:,}" == "48,120"
    assert f"{lenet['POOL1'].params:,}" == "0"      # 0 too: not SymPy's S.Zero singleton
    assert f"{lenet.total:>8}" == "   62958" and f"{lenet.total}" == "62958"
    assert "{:_}".format(lenet["CONV2"].params) == "3_216"


def test_counts_work_where_python_expects_ints(lenet):
    assert int(lenet.total) == DOCUMENT_TOTAL
    assert len(range(lenet.total)) == DOCUMENT_TOTAL
    assert [0, 1, 2][lenet["INPUT"].params] == 0
    assert not lenet["POOL1"].params and lenet["CONV1"].params
    data = json.loads(json.dumps(lenet.to_dict()))
    assert data["total"] == DOCUMENT_TOTAL
    assert all(type(layer["params"]) is int for layer in lenet.to_dict()["layers"])


def test_counts_stay_sympy_integers(lenet):
    for value in (lenet.total, *(info.params for info in lenet)):
        assert isinstance(value, Integer) and value.is_Integer
    assert lenet.total + 1 == DOCUMENT_TOTAL + 1
    assert (lenet.total * Symbol("x")).coeff(Symbol("x")) == DOCUMENT_TOTAL
    assert pickle.loads(pickle.dumps(lenet.total)) == DOCUMENT_TOTAL
    assert f"{pickle.loads(pickle.dumps(lenet.total)):,}" == "62,958"


def test_symbolic_counts_stay_expressions(lenet):
    sym = lenet.symbolic()
    assert not sym.total.is_Integer
    assert json.loads(json.dumps(sym.to_dict()))["total"] == sym.to_dict()["total"]


def test_len_repr_iteration_and_indexing_agree(lenet):
    assert len(lenet) == 8 == len(list(lenet))
    assert lenet[0].name == "INPUT" and lenet[len(lenet) - 1].name == "SOFTMAX"
    assert lenet[-1] is lenet["SOFTMAX"]
    assert [info.index for info in lenet] == list(range(len(lenet)))
    text = repr(lenet)
    assert "8 layers" in text and "7 layers" not in text
    assert "INPUT" in text and "SOFTMAX" in text and "62958" in text


def test_missing_layers_say_what_exists(lenet):
    with pytest.raises(IndexError) as info:
        lenet[99]
    assert "99" in str(info.value) and "0" in str(info.value) and "7" in str(info.value)
    assert "SOFTMAX" in str(info.value)
    with pytest.raises(KeyError) as info:
        lenet["NOPE"]
    message = str(info.value)
    assert message.startswith("no layer named 'NOPE'") and "CONV1" in message
    assert "FC4" in message
    with pytest.raises(TypeError, match="layer index or name"):
        lenet[1.5]


def test_long_layer_lists_are_shortened():
    net = Network([Dense(units=4) for _ in range(60)], input=(8,))
    with pytest.raises(KeyError) as info:
        net["NOPE"]
    message = str(info.value)
    assert len(message) < 300 and "…" in message and "FC60" in message
    with pytest.raises(IndexError) as info:
        net[100]
    assert len(str(info.value)) < 300


def test_api_network_repr_counts_its_layers():
    net = Network([Conv2D(kernel=3, filters=4), Dense(units=2)], input=(8, 8, 1))
    assert len(net) == 3 and "3 layers" in repr(net)


def test_diff_changes_take_format_specs_too(lenet):
    change = lenet.diff(lenet.subs(k_2=32)).total_change
    assert f"{change:+,}" == "+51,216" and isinstance(change, Integer)


def test_a_network_of_only_its_input():
    net = Network([], input=(8,))
    assert len(net) == 1 and repr(net) == "<Network 'network': 1 layer (0 INPUT), total 0>"


def test_a_zero_count_leaves_no_trace_in_symbolic_sums():
    """A layer without parameters has a Count(0), which is not SymPy's S.Zero: sums and
    products with it must still simplify ('k*(9*d + 1)', never '… + 0')."""
    from sympy import Add, Symbol
    from symparams import Conv2D, Network
    net = Network([Conv2D(kernel=3, filters="k")], input=(10, 10, "d"))
    assert "+ 0" not in str(net.total) and net.total == net["CONV1"].params
    x, zero = Symbol("x"), load("lenet")["POOL1"].params
    assert f"{zero:,}" == "0"
    assert zero + x == x and x + zero == x and Add(zero, x) == x and (zero * x) == 0
    assert str(zero + x) == "x" and str(x - zero) == "x"
