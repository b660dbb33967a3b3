"""Solving backwards: the size that gives a total, or the largest that fits a budget.

Every answer is checked against brute force: networks rebuilt from spec data
with the size set to each value in turn (not through the solver's own copy).
"""
import copy
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import DOCUMENT_TOTAL, run_cli
from symparams import Network, SymparamsError, load
from symparams.cli import main
from symparams.explore.solve import (NoUniqueAnswer, first_true, max_value_for, resolve,
                                     solve_for)
from symparams.spec import spec_from_data

# ------------------------------------------------------------------ brute force

STRIDED = {"name": "strided", "input": [64, 48, 3], "layers": [
    {"type": "conv2d", "name": "CONV1", "kernel": 3, "filters": 4, "stride": 2,
     "padding": "same"},
    {"type": "conv2d", "name": "CONV2", "kernel": 3, "filters": 8, "stride": 2},
    {"type": "maxpool2d", "name": "POOL1", "kernel": 2},
    {"type": "dense", "name": "FC1", "units": 10}]}
DILATED = {"name": "dilated", "input": [40, 40, 1], "layers": [
    {"type": "conv2d", "name": "CONV1", "kernel": 3, "filters": 6, "dilation": 2,
     "padding": 1},
    {"type": "avgpool2d", "name": "POOL1", "kernel": 3, "stride": 2},
    {"type": "conv2d", "name": "CONV2", "kernel": 2, "filters": 4, "bias": False},
    {"type": "flatten", "name": "FLAT"},
    {"type": "dense", "name": "FC1", "units": 7, "bias": False}]}


def lenet_spec():
    return load("lenet").to_spec()


def built(spec: dict, where: tuple, value: int) -> Network:
    """The network of ``spec`` with one entry replaced: ("input", i) or (LAYER, field)."""
    data = copy.deepcopy(spec)
    if where[0] == "input":
        data["input"][where[1]] = value
    else:
        layer = next(entry for entry in data["layers"] if entry["name"] == where[0])
        layer[where[1]] = value
    return Network.from_spec(spec_from_data(data))


def brute(spec: dict, where: tuple, values) -> dict[int, int]:
    """value → total for every value whose network is valid."""
    totals = {}
    for v in values:
        try:
            totals[v] = int(built(spec, where, v).total)
        except SymparamsError:
            pass
    return totals


CASES = [  # spec, where, the address solve takes, values covering every answer
    (lenet_spec, ("input", 0), "INPUT.height", range(1, 161)),
    (lenet_spec, ("input", 1), "input[1]", range(1, 161)),
    (lenet_spec, ("input", 2), "INPUT.channels", range(1, 161)),
    (lenet_spec, ("CONV1", "kernel"), "CONV1.kernel", range(1, 41)),
    (lenet_spec, ("CONV2", "kernel"), "CONV2.kernel", range(1, 41)),
    (lenet_spec, ("CONV2", "filters"), "CONV2.filters", range(1, 161)),
    (lenet_spec, ("FC4", "units"), "c_2", range(1, 161)),
    (lambda: STRIDED, ("input", 0), "H", range(1, 161)),
    (lambda: STRIDED, ("input", 1), "INPUT.width", range(1, 161)),
    (lambda: STRIDED, ("CONV2", "kernel"), "CONV2.kernel", range(1, 60)),
    (lambda: DILATED, ("input", 0), "INPUT.height", range(1, 161)),
    (lambda: DILATED, ("CONV1", "kernel"), "CONV1.kernel", range(1, 60)),
    (lambda: DILATED, ("CONV2", "filters"), "k_2", range(1, 161)),
]


@pytest.mark.parametrize("make, where, target, values", CASES,
                         ids=[f"{c[0]()['name']}-{c[2]}" for c in CASES])
def test_solve_agrees_with_brute_force(make, where, target, values):
    spec = make()
    net = Network.from_spec(spec_from_data(spec))
    totals = brute(spec, where, values)
    # Totals met inside the first part of the range (so every value giving them is in
    # the range), and totals next to them that may be met by no value at all.
    inner = [v for v in totals if v <= values[-1] * 3 // 4]
    picks = {totals[v] for v in inner[:: max(1, len(inner) // 7)]} | {totals[inner[-1]]}
    picks |= {t + 1 for t in list(picks)} | {t - 1 for t in list(picks) if t > 0}
    ceiling = max(totals[v] for v in totals if v > values[-1] * 3 // 4) \
        if any(v > values[-1] * 3 // 4 for v in totals) else None
    for total in sorted(picks):
        if ceiling is not None and total >= ceiling and target not in ("CONV1.kernel",
                                                                       "CONV2.kernel"):
            continue
        expected = sorted(v for v, t in totals.items() if t == total)
        assert net.solve(target, total=total) == expected, (target, total)


@pytest.mark.parametrize("make, where, target, values", CASES,
                         ids=[f"{c[0]()['name']}-{c[2]}" for c in CASES])
def test_max_value_agrees_with_brute_force(make, where, target, values):
    spec = make()
    net = Network.from_spec(spec_from_data(spec))
    totals = brute(spec, where, values)
    kernel = target.endswith("kernel")
    inner = [v for v in totals if kernel or v <= values[-1] // 2]
    for v in inner[:: max(1, len(inner) // 6)]:
        for budget in (totals[v] - 1, totals[v], totals[v] + 1):
            fitting = [u for u, t in totals.items() if t <= budget]
            expected = max(fitting) if fitting else None
            assert net.max_value(target, budget=budget) == expected, (target, budget)


# ------------------------------------------------------------- the checks

@pytest.mark.parametrize("args, first_line, answer", [
    (["--for", "CONV1.filters", "--total", "62958"], "476·k₁ + 59,150 = 62,958", "k₁ = 8"),
    (["--for", "FC3.units", "--total", "62958"], "485·c₁ + 4,758 = 62,958", "c₁ = 120"),
    (["--for", "CONV2.filters", "--budget", "62958"], "≤ 62,958",
     "k₂ = 16 gives the total 62,958"),
    (["--for", "CONV2.filters", "--budget", "62957"], "≤ 62,957",
     "k₂ = 15 gives the total 59,757"),
])
def test_cli_done_when(args, first_line, answer):
    result = run_cli("solve", "lenet", *args)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert first_line in lines[0]
    assert lines[1].startswith(answer)


def test_input_height_lists_every_height_that_gives_the_total():
    totals = brute(lenet_spec(), ("input", 0), range(1, 200))
    expected = sorted(h for h, t in totals.items() if t == DOCUMENT_TOTAL)
    assert len(expected) > 1 and 32 in expected
    lenet = load("lenet")
    for target in ("INPUT.height", "input[0]", "H"):
        assert lenet.solve(target, total=DOCUMENT_TOTAL) == expected
    data = json.loads(run_cli("solve", "lenet", "--for", "INPUT.height", "--total", "62958",
                              "--json").stdout)
    assert data["solutions"] == expected and data["symbol"] == "H" and data["was"] == 32
    text = run_cli("solve", "lenet", "--for", "INPUT.height", "--total", "62958").stdout
    assert f"H = {', '.join(map(str, expected))}" in text


def test_symbolic_input_is_solved_by_its_name(write_spec):
    path = write_spec("name: sym\ninput: [H, H, 3]\nlayers:\n"
                      "  - {type: conv2d, kernel: 3, filters: 4}\n"
                      "  - {type: maxpool2d, kernel: 2}\n  - {type: dense, units: 10}\n")
    net = load(str(path))
    total = int(net.subs(H=30).total)

    def total_at(h):
        try:
            return net.subs(H=h).total
        except SymparamsError:
            return None

    expected = [h for h in range(1, 100) if total_at(h) == total]
    assert net.solve("H", total=total) == expected == [30, 31]
    # The input entry is H: INPUT.height is the same size.
    assert net.solve("INPUT.height", total=total) == expected


def test_letters_and_addresses_are_the_same_size():
    lenet = load("lenet")
    assert lenet.solve("k_1", total=DOCUMENT_TOTAL) == lenet.solve("CONV1.filters",
                                                                    total=DOCUMENT_TOTAL) == [8]
    assert lenet.solve("c_1", total=DOCUMENT_TOTAL) == [120]
    assert lenet.solve("CONV2.filters", params_of="CONV2", value=3216) == [16]
    assert lenet.solve("INPUT.height", params_of="FC3", value=48120) == [32, 33, 34, 35]
    assert lenet.max_value("CONV2.filters", budget=100_000) == 27
    assert lenet.max_value("CONV2.filters", budget=6432, params_of="CONV2") == 32


def test_answers_are_exact_for_huge_sizes():
    lenet = load("lenet")
    units = 10 ** 30 + 7
    assert lenet.solve("FC3.units", total=lenet.subs(c_1=units).total) == [units]
    height = 4 * 10 ** 15
    big = Network.from_spec(spec_from_data({**lenet_spec(), "input": [height, 32, 3]}))
    found = lenet.solve("INPUT.height", total=big.total)
    assert found == list(range(height, height + 4))
    assert lenet.max_value("INPUT.height", budget=big.total) == height + 3


def test_a_value_that_breaks_the_network_is_no_answer():
    # total = 2·m·n + 2·(9 − m)(9 − n) + 3 is met by m = 10, but a 10 × 10 kernel does
    # not fit the 8 × 8 input.
    net = Network.from_spec(spec_from_data({"input": [8, 8, 1], "layers": [
        {"type": "conv2d", "name": "C", "kernel": 5, "filters": 2},
        {"type": "dense", "name": "F", "units": 1}]}))
    result = solve_for(net, "C.kernel", 205)
    assert result.values == []
    assert "m₁ = 10 would, but then the network is invalid" in result.message()
    assert net.solve("C.kernel", total=85) == [4, 5]
    assert net.solve("C.kernel", total=133) == [1, 8]


def test_no_whole_number_is_said_plainly():
    result = run_cli("solve", "lenet", "--for", "CONV1.filters", "--total", "62959")
    assert result.returncode == 1
    assert result.stderr == ""
    message = result.stdout.splitlines()[1]
    assert message.startswith("no whole number k₁ gives the total 62,959")
    assert "k₁ = 8 gives 62,958 and k₁ = 9 gives 63,434" in message
    result = run_cli("solve", "lenet", "--for", "INPUT.height", "--total", "62959")
    assert result.returncode == 1 and "H = 35 gives 62,958 and H = 36 gives 72,558" \
        in result.stdout
    result = run_cli("solve", "lenet", "--for", "CONV2.filters", "--budget", "100")
    assert result.returncode == 1
    assert "no k₂ keeps the total within 100" in result.stdout
    data = json.loads(run_cli("solve", "lenet", "--for", "k_1", "--total", "5",
                              "--json").stdout)
    assert data["solutions"] == [] and data["message"].startswith("no whole number")


def test_every_large_value_is_not_a_list():
    # A network without a dense layer: the total does not depend on the input size.
    net = Network.from_spec(spec_from_data({"input": [32, 32, 3], "layers": [
        {"type": "conv2d", "kernel": 3, "filters": 4}]}))
    with pytest.raises(NoUniqueAnswer, match="every H from 3 up gives the total 112"):
        net.solve("H", total=112)
    assert net.solve("H", total=113) == []
    with pytest.raises(NoUniqueAnswer, match="no largest value"):
        net.max_value("H", budget=1000)
    assert net.max_value("H", budget=111) is None


def test_cli_no_single_answer_exits_1(write_spec):
    path = write_spec("input: [32, 32, 3]\nlayers:\n  - {type: conv2d, kernel: 3, filters: 4}\n")
    result = run_cli("solve", path, "--for", "H", "--total", "112")
    assert result.returncode == 1 and result.stderr == ""
    assert "every H from 3 up" in result.stdout


@pytest.mark.parametrize("args, message", [
    (["--for", "X", "--total", "1"], "X: unknown size 'X'"),
    (["--for", "d_2", "--total", "1"], "d_2 follows from the layer before"),
    (["--for", "POOL1.kernel", "--total", "1"], "POOL1 has no size called 'kernel'"),
    (["--for", "NOPE.filters", "--total", "1"], "no layer named 'NOPE'"),
    (["--for", "INPUT.depth", "--total", "1"], "the input has no size called 'depth'"),
    (["--for", "input[3]", "--total", "1"], "the input has 3 entries, found input[3]"),
    (["--for", "k_1", "--total", "abc"], "--total: expected a whole number, found 'abc'"),
    (["--for", "k_1", "--total", "-5"], "--total: expected a whole number"),
    (["--for", "k_1"], "expected either --total N"),
    (["--for", "k_1", "--total", "1", "--budget", "2"], "expected either --total N"),
    (["--total", "1"], "--for: expected the size to solve for"),
    (["--for", "k_1", "--total", "1", "--symbolic"], "also depends on"),
    (["--for", "k_1", "--total", "1", "--layer", "FC9"], "no layer named 'FC9'"),
])
def test_bad_input_is_one_line_exit_2(args, message, capsys):
    assert main(["solve", "lenet", *args]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("symparams: error: ")
    assert message in err


def test_other_free_sizes_must_be_set(write_spec):
    path = write_spec("input: [H, W, 3]\nlayers:\n  - {type: conv2d, kernel: 3, filters: 4}\n"
                      "  - {type: dense, units: 10}\n")
    net = load(str(path))
    with pytest.raises(SymparamsError, match=r"also depends on W; give it a value first"):
        net.solve("H", total=1000)
    total = net.subs(H=20, W=30).total
    assert net.subs(W=30).solve("H", total=total) == [20]


def test_resolve_names_the_size():
    lenet = load("lenet")
    assert resolve(lenet, "CONV1.filters").describe() == "k₁ (CONV1.filters, now 8)"
    assert resolve(lenet, "CONV1.kernel").describe() == "m₁ (CONV1.kernel, m₁ = n₁, now 5)"
    assert resolve(lenet, "W").describe() == "W (INPUT.width, now 32)"
    square = resolve(lenet, "INPUT.size")
    assert square.network.input_shape[:2] == (square.symbol, square.symbol)
    with pytest.raises(SymparamsError, match="INPUT.size is 32 × 28, not one size"):
        resolve(Network.from_spec(spec_from_data({**lenet_spec(), "input": [32, 28, 3]})),
                "INPUT.size")


def test_monotone_search_is_logarithmic():
    calls = []

    def pred(n):
        calls.append(n)
        return n >= 123_456_789

    assert first_true(pred, 1, None, 2 ** 80) == 123_456_789
    assert len(calls) < 70


def test_budget_result_says_the_next_value():
    result = max_value_for(load("lenet"), "CONV2.filters", 62958)
    assert result.message() == "k₂ = 16 gives the total 62,958; k₂ = 17 would give 66,159"
    kernel = max_value_for(load("lenet"), "CONV1.kernel", 62958)
    assert kernel.values == [21] and "a larger m₁ makes the network invalid" in kernel.message()


conv_nets = st.fixed_dictionaries({
    "height": st.integers(6, 40), "width": st.integers(6, 40), "channels": st.integers(1, 4),
    "kernel": st.integers(1, 5), "filters": st.integers(1, 8), "stride": st.integers(1, 3),
    "padding": st.sampled_from([0, 1, "same"]), "pool": st.booleans(),
    "units": st.integers(1, 12)})


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(conv_nets, st.sampled_from([("input", 0), ("input", 1), ("CONV", "kernel")]))
def test_random_networks_agree_with_brute_force(p, where):
    layers = [{"type": "conv2d", "name": "CONV", "kernel": p["kernel"],
               "filters": p["filters"], "stride": p["stride"], "padding": p["padding"]}]
    if p["pool"]:
        layers.append({"type": "maxpool2d", "name": "POOL", "kernel": 2})
    layers.append({"type": "dense", "name": "FC", "units": p["units"]})
    spec = {"name": "random", "input": [p["height"], p["width"], p["channels"]],
            "layers": layers}
    try:
        net = Network.from_spec(spec_from_data(spec))
    except SymparamsError:
        return
    target = {("input", 0): "INPUT.height", ("input", 1): "INPUT.width",
              ("CONV", "kernel"): "CONV.kernel"}[where]
    limit = 4 * max(p["height"], p["width"]) + 12
    totals = brute(spec, where, range(1, limit))
    total = int(net.total)
    assert net.solve(target, total=total) == sorted(v for v, t in totals.items() if t == total)
    assert net.solve(target, total=total + 1) == sorted(v for v, t in totals.items()
                                                        if t == total + 1)
