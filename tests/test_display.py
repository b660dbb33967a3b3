"""Display everywhere: repr, str, sympy.pprint, Jupyter's HTML and LaTeX, rich, and the
data views (to_dict, to_records, to_csv); letters as SymPy objects."""
from __future__ import annotations

import csv
import io
import json
import xml.etree.ElementTree as ET

import pytest
import sympy
from rich.console import Console
from sympy import Integer, floor, lambdify, latex

from conftest import DOCUMENT_COUNTS, DOCUMENT_TOTAL, run_cli
from symparams import Conv2D, Dense, MaxPool2D, Network, load, parse_expression
from symparams.printing import ascii_written

MATHML = "{http://www.w3.org/1998/Math/MathML}math"


@pytest.fixture(scope="module")
def lenet():
    return load("lenet")


@pytest.fixture(scope="module")
def symbolic():
    return load("examples/lenet-symbolic.yaml")


# ------------------------------------------------------------------ REPL

def test_reprs_say_what_each_object_is(lenet):
    assert repr(lenet) == "<Network 'lenet': 8 layers (0 INPUT … 7 SOFTMAX), total 62958>"
    assert repr(lenet["CONV2"]) == "<LayerInfo 3 CONV2 (conv2d): 3216>"
    assert repr(lenet["CONV2"].step).startswith("<Step CONV2 (convolution")
    assert repr(lenet["CONV2"].layer) == "Conv2D(kernel=5, filters=16)"


def test_str_shows_formula_substitution_and_result(lenet):
    assert str(lenet["CONV2"]).endswith(
        "((m₂ × n₂ × d₂) + 1) × k₂ = ((5 × 5 × 8) + 1) × 16 = 3216")
    lines = str(lenet).splitlines()
    assert lines[0] == "lenet: input 32 × 32 × 3" and lines[-1] == "  total = 62958"


def test_sympy_pprint_on_expressions_and_objects(lenet, capsys):
    sympy.pprint(lenet.total)
    sympy.pprint(lenet["CONV1"].params)
    sympy.pprint(lenet.total_symbolic, use_unicode=True)
    out = capsys.readouterr().out.splitlines()
    assert out[:2] == ["62958", "608"]
    assert "k₁⋅(d₁⋅m₁⋅n₁ + 1)" in out[2]
    sympy.pprint(lenet, wrap_line=False)
    lines = capsys.readouterr().out.splitlines()
    # left-aligned like str(), not centred line by line
    assert [line.rstrip() for line in lines] == str(lenet).splitlines()
    sympy.pprint(lenet["FC3"], wrap_line=False)
    assert capsys.readouterr().out.strip() == str(lenet["FC3"])


def test_rich_prints_the_count_table(lenet):
    console = Console(record=True, width=200)
    console.print(lenet)
    text = console.export_text()
    assert "CONV2" in text and "3,216" in text and "76.4 %" in text and "62,958" in text


# --------------------------------------------------------------- Jupyter

def test_repr_html_is_a_table_with_mathml_and_the_total(lenet):
    html = lenet._repr_html_()
    root = ET.fromstring(html)  # well-formed: MathML is XML and every tag is closed
    assert root.tag == "div"
    assert "<script" not in html and "http" not in html.replace(
        "http://www.w3.org/1998/Math/MathML", "")
    maths = root.findall(f".//{MATHML}")
    assert len(maths) >= 10  # formula and substituted per layer with parameters, totals
    rows = root.findall(".//tbody/tr")
    assert [r.findall("td")[1].text for r in rows] == [i.name for i in lenet.layers]
    params = {r.findall("td")[1].text: r.findall("td")[6].text for r in rows}
    assert {k: int(params[k].replace(",", "")) for k in DOCUMENT_COUNTS} == DOCUMENT_COUNTS
    assert "62,958" in html and "learnable parameters" in html


def test_repr_html_of_a_symbolic_network_typesets_the_total(symbolic):
    html = symbolic._repr_html_()
    root = ET.fromstring(html)
    assert "Free sizes: H, W" in html
    total_cell = root.findall(".//tfoot/tr/td")[6]
    assert total_cell.find(f".//{MATHML}") is not None
    assert "<mi>H</mi>" in html


def test_repr_html_escapes_names():
    net = Network([Dense(units=3, name="<b>&x")], input=(4,), name="a<b>")
    html = net._repr_html_()
    ET.fromstring(html)
    assert "<b>" not in html and "&lt;b&gt;&amp;x" in html


def test_repr_latex_of_layers_and_steps_is_sympy_latex(lenet):
    info = lenet["CONV2"]
    text = info._repr_latex_()
    assert text.startswith("$\\displaystyle ") and text.endswith("$")
    assert latex(info) == info.step._latex() == text[len("$\\displaystyle "):-1]
    # The formula face is the written formula printed by SymPy's LaTeX printer, and its
    # ASCII twin parses back to the same expression as the layer's formula.
    assert info.step.latex.formula in text
    assert parse_expression(ascii_written(info.written)).xreplace(
        {s: sympy.Symbol(s.name, positive=True, integer=True) for s in info.formula.free_symbols}
    ) == info.formula
    assert lenet._repr_latex_().startswith("$") and "62958" in lenet._repr_latex_()


# ------------------------------------------------------------------ data

def test_to_dict_is_count_json(lenet):
    result = run_cli("count", "lenet", "--json")
    assert json.loads(result.stdout) == lenet.to_dict()


def test_to_records_are_the_layers_of_to_dict(lenet):
    records = lenet.to_records()
    assert records == lenet.to_dict()["layers"]
    assert [r["params"] for r in records if r["params"]] == list(DOCUMENT_COUNTS.values())
    records[1]["params"] = -1  # a fresh list every call: callers may edit it
    assert lenet.to_records()[1]["params"] == 608


def test_to_csv_writes_the_records_atomically(lenet, tmp_path):
    path = lenet.to_csv(tmp_path / "out" / "lenet.csv")
    text = path.read_text(encoding="utf-8")
    assert text == lenet.to_csv()
    rows = list(csv.DictReader(io.StringIO(text)))
    assert rows[1] == {"index": "1", "name": "CONV1", "kind": "conv2d",
                       "output_shape": "28 x 28 x 8", "formula": "((m_1*n_1*d_1) + 1)*k_1",
                       "substituted": "((5*5*3) + 1)*8", "params": "608",
                       "trainable": "608", "non_trainable": "0", "buffers": "0"}
    assert rows[-1]["name"] == "total" and int(rows[-1]["params"]) == DOCUMENT_TOTAL
    assert sum(int(r["params"]) for r in rows[:-1]) == DOCUMENT_TOTAL
    assert sorted(p.name for p in path.parent.iterdir()) == ["lenet.csv"]


def test_to_csv_of_a_symbolic_network_writes_expressions(symbolic):
    rows = list(csv.DictReader(io.StringIO(symbolic.to_csv())))
    assert rows[1]["output_shape"] == "H - 4 x W - 4 x k_1"
    total = parse_expression(rows[-1]["params"])
    assert total.xreplace({s: Integer(v) for s, v in zip(
        sorted(total.free_symbols, key=lambda s: s.name), (32, 32, 8, 16))}) == DOCUMENT_TOTAL


# ----------------------------------------------------- letters as objects

def test_letters_are_sympy_symbols(lenet, symbolic):
    k_1, H = symbolic.symbols["k_1"], symbolic.symbols["H"]
    assert isinstance(k_1, sympy.Symbol) and k_1.is_integer and k_1.is_positive
    assert lenet["CONV1"].params == 608 and lenet.total == DOCUMENT_TOTAL
    assert lenet.free("CONV1.filters")["CONV1"].params == 76 * lenet.symbols["k_1"]
    assert symbolic["CONV1"].params == 76 * k_1
    assert sympy.diff(symbolic.total, k_1) == sympy.diff(symbolic.total_symbolic.xreplace(
        {s: v for info in symbolic.layers for s, v in info.values.items()}), k_1)
    assert sympy.diff(symbolic.subs(H=32, W=32).total, symbolic.symbols["k_2"]) == \
        25 * k_1 + 1 + 3000


def test_subs_and_free_take_symbols(symbolic):
    H, W, k_1 = (symbolic.symbols[n] for n in ("H", "W", "k_1"))
    by_symbol = symbolic.subs({H: 32, W: 32, k_1: 8}, k_2=16)
    assert by_symbol.total == DOCUMENT_TOTAL
    assert symbolic.total.free_symbols >= {H, W, k_1}  # networks are immutable
    assert by_symbol.free(by_symbol.symbols["k_1"])["CONV1"].params == 76 * k_1


def test_lambdify_composes_with_the_total(symbolic):
    net = symbolic.subs(k_1=8, k_2=16)
    H, W = net.symbols["H"], net.symbols["W"]
    f = lambdify((H, W), net.total, modules="math")
    assert f(32, 32) == DOCUMENT_TOTAL
    assert f(64, 48) == net.subs(H=64, W=48).total


def test_symbolic_floors_print_and_pprint():
    net = Network([Conv2D(kernel=3, filters=4), MaxPool2D(2), Dense(units=10)],
                  input=("H", "H", 1))
    H = net.symbols["H"]
    assert net.total == 40 * (floor(H / 2) - 1) ** 2 + 50
    pretty = sympy.pretty(net.total, use_unicode=True)
    assert "⎣" in pretty and "⎦" in pretty and "H" in pretty
    assert "<math" in net._repr_html_()
