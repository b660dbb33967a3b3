"""Issue 8, section 4: reports teach how each output shape is worked out.

Shape steps are SymPy expressions with the three faces of a parameter step
(formula, substituted, result), shown in every format, in ``count --json`` and
available to homework answer keys through ``LayerInfo.shape_steps``.
"""
import json
import re
import time

import sympy
from sympy import Add, Integer, Mul, Symbol, evaluate, floor

from conftest import run_cli
from symparams import Network, load
from symparams.layers import AvgPool2D, Conv2D, Dense, Dropout, Flatten, MaxPool2D
from symparams.printing import Grouped, ascii_plain, latex_plain, mathml_plain, unicode_plain
from symparams.render.common import percent
from symparams.render.report import build_report


def _image(*layers, input=(32, 32, 3)):
    return Network(list(layers), input=input)


# ------------------------------------------------------------ the shape steps

def test_conv_shape_step_has_three_faces_like_handcalcs():
    info = load("lenet")["CONV1"]
    (step,) = info.shape_steps          # a square input and window: one step for both axes
    assert step.text.result == "28"
    assert step.text.formula == "⌊(W + 2 × P - D × (m - 1) - 1) / S⌋ + 1"
    assert step.text.substituted == "⌊(32 + 2 × 0 - 1 × (5 - 1) - 1) / 1⌋ + 1"
    assert "height" in step.title and "width" in step.title
    # the substituted face is unevaluated SymPy that evaluates to the result
    assert step.substituted.doit() == 28 and step.result == 28


def test_shape_steps_show_both_axes_when_they_differ():
    net = _image(Conv2D(kernel=[3, 5], filters=4, stride=[1, 2], name="C"), input=(32, 40, 3))
    height, width = net["C"].shape_steps
    assert "height" in height.title and "width" in width.title
    assert height.text.formula.startswith("⌊(H + ") and "(n - 1)" in height.text.formula
    assert width.text.formula.startswith("⌊(W + ") and "(m - 1)" in width.text.formula
    assert height.result == 14 and width.result == 38
    assert net["C"].output_shape[:2] == (14, 38)
    assert height.substituted.doit() == 14 and width.substituted.doit() == 38


def test_padding_same_is_a_ceiling():
    net = _image(Conv2D(kernel=3, filters=4, stride=2, padding="same", name="C"), input=(7, 7, 1))
    (step,) = net["C"].shape_steps
    assert step.text.formula == "⌈W / S⌉"
    assert step.text.substituted == "⌈7 / 2⌉"
    assert step.result == 4


def test_pooling_and_flatten_shape_steps():
    net = load("lenet")
    (pool,) = net["POOL1"].shape_steps
    # pooling has no dilation: the rule is written without it, as in `symparams explain`
    assert pool.text.formula == "⌊(W + 2 × P - m) / S⌋ + 1"
    assert pool.text.substituted == "⌊(28 + 2 × 0 - 2) / 2⌋ + 1" and pool.result == 14
    flat = _image(Conv2D(kernel=5, filters=16, name="C"), Flatten(name="F"), Dense(10),
                  input=(9, 9, 1))
    (step,) = flat["F"].shape_steps
    assert step.text.formula == "H × W × C"
    assert step.text.substituted == "5 × 5 × 16"
    assert step.result == 400
    # a dense layer on an image input flattens it first: the same product, worked out
    (p,) = net["FC3"].shape_steps
    assert p.text.equation() == "H × W × C = 5 × 5 × 16 = 400"
    assert net["FC4"].shape_steps == () and net["INPUT"].shape_steps == ()
    drop = _image(Dropout(0.5, name="D"), Dense(3), input=(4,))
    assert drop["D"].shape_steps == ()


def test_symbolic_input_shape_step_keeps_the_letter():
    net = _image(Conv2D(kernel=5, filters=8, name="C"), MaxPool2D(2, name="P"),
                 input=("H", 32, 3))
    height, width = net["C"].shape_steps
    assert height.text.substituted == "⌊(H + 2 × 0 - 1 × (5 - 1) - 1) / 1⌋ + 1"
    assert unicode_plain(height.result) == "H - 4"
    pool_height = net["P"].shape_steps[0]
    # a compound value is put in with parentheses
    assert "((H - 4) + 2 × 0" in pool_height.text.substituted


def test_shape_steps_in_every_printer():
    step = load("lenet")["CONV1"].shape_steps[0]
    # written on one line, as the document writes the rule (no stacked fraction)
    assert step.latex.formula == (r"\left\lfloor{(W + 2 \times P - D \times (m - 1) - 1) / S}"
                                  r"\right\rfloor + 1")
    assert "<mo>/</mo><mi>S</mi>" in step.mathml.formula and "⌊" in step.mathml.formula
    assert "<mfrac>" not in step.mathml.formula
    assert step.ascii.formula == "floor((W + 2*P - D*(m - 1) - 1) / S) + 1"


# ------------------------------------------------------------ reports

def test_markdown_report_shows_the_shape_working(tmp_path):
    result = run_cli("report", "lenet", "--format", "md", "-o", tmp_path)
    assert result.returncode == 0, result.stderr
    text = (tmp_path / "lenet.md").read_text(encoding="utf-8")
    conv1 = text.split("CONV1 (convolution", 1)[1].split("POOL1 (", 1)[0]
    assert (r"\left\lfloor{(32 + 2 \times 0 - 1 \times (5 - 1) - 1) / 1}\right\rfloor + 1"
            r" = 28") in conv1
    fc3 = text.split("FC3 (fully", 1)[1].split("FC4 (", 1)[0]
    assert r"5 \times 5 \times 16 = 400" in fc3


def test_html_and_tex_reports_show_the_shape_working():
    from symparams.render.html import render as html
    from symparams.render.latex import render as tex
    report = build_report(load("lenet"))
    page = html(report)
    conv1 = page.split('id="layer-1"', 1)[1].split('id="layer-2"', 1)[0]
    assert conv1.count("<math") == 2 and "<mo>/</mo>" in conv1 and "⌊" in conv1
    document = tex(report)
    conv1 = document.split("CONV1 (convolution", 1)[1].split("POOL1 (", 1)[0]
    assert r"(32 + 2 \times 0 - 1 \times (5 - 1) - 1) / 1" in conv1


def test_count_json_has_shape_formula_and_substituted():
    result = run_cli("count", "lenet", "--json")
    assert result.returncode == 0, result.stderr
    layers = {layer["name"]: layer for layer in json.loads(result.stdout)["layers"]}
    conv1 = layers["CONV1"]
    assert conv1["shape_formula"] == ["floor((H + 2*P - D*(n - 1) - 1) / S) + 1",
                                      "floor((W + 2*P - D*(m - 1) - 1) / S) + 1", "k"]
    assert conv1["shape_substituted"] == ["floor((32 + 2*0 - 1*(5 - 1) - 1) / 1) + 1",
                                          "floor((32 + 2*0 - 1*(5 - 1) - 1) / 1) + 1", "8"]
    assert layers["FC3"]["shape_formula"] == ["c"] and layers["FC3"]["shape_substituted"] == ["120"]
    assert layers["INPUT"]["shape_substituted"] == ["32", "32", "3"]
    for layer in layers.values():
        assert len(layer["shape_formula"]) == len(layer["output_shape"])


# ------------------------------------------------------------ the smaller items

def test_no_bias_layers_do_not_promise_a_bias():
    net = _image(Conv2D(kernel=3, filters=4, bias=False, name="C"), Dense(5, bias=False, name="D"))
    with_bias = _image(Conv2D(kernel=3, filters=4, name="C"), Dense(5, name="D"))
    for name in ("C", "D"):
        reason = net[name].step.reason
        assert "plus one bias" not in reason and "plus its own bias" not in reason
        assert "no bias" in reason
        assert "plus" in with_bias[name].step.reason and "no bias" not in with_bias[name].step.reason


def test_notes_about_convolution_and_pooling_only_when_present():
    dense_only = build_report(Network([Dense(10), Dense(3)], input=(20,)))
    text = " ".join(dense_only.conventions + dense_only.notes)
    for word in ("convolution", "Convolution", "pooling", "Pooling", "flattened"):
        assert word not in text
    conv_only = build_report(_image(Conv2D(kernel=3, filters=4), Flatten(), Dense(3)))
    text = " ".join(conv_only.conventions + conv_only.notes)
    assert "Convolution" in text and "pooling" not in text.lower().replace("convolution and", "")
    lenet = build_report(load("lenet"))
    assert any("Pooling" in note for note in lenet.notes)


def test_step_numbers_and_table_index_agree(tmp_path):
    result = run_cli("report", "lenet", "--format", "md", "-o", tmp_path)
    text = (tmp_path / "lenet.md").read_text(encoding="utf-8")
    headings = dict((name, int(number))
                    for number, name in re.findall(r"^### (\d+)\. (\S+)", text, re.M))
    rows = dict((cells[2].strip(), int(cells[1])) for cells in
                (line.split("|") for line in text.splitlines()
                 if re.match(r"^\| \d+ \|", line)))
    assert headings and headings == rows
    from symparams.render.latex import render as tex
    document = tex(build_report(load("lenet")))
    assert r"\subsection*{1. CONV1" in document
    from symparams.render.html import render as html
    assert '<ol class="steps" start="0">' in html(build_report(load("lenet")))


def test_a_tiny_share_is_not_zero_percent():
    assert percent(sympy.Rational(1, 10000)) == "< 0.1 %"
    assert percent(sympy.Rational(4, 10000)) == "< 0.1 %"
    assert percent(sympy.Rational(5, 10000)) == "0.1 %"
    assert percent(sympy.Integer(0)) == "0.0 %"
    net = _image(Conv2D(kernel=1, filters=1, name="TINY"), Flatten(), Dense(200, name="BIG"),
                 input=(32, 32, 3))
    report = build_report(net)
    row = next(r for r in report.rows if r.name == "TINY")
    assert row.share == "< 0.1 %"
    assert next(r for r in report.rows if r.name == "INPUT").share == "0.0 %"


def test_floors_print_over_a_common_denominator():
    n = Symbol("n_1", positive=True, integer=True)
    expr = floor((31 - n) / 2)
    assert unicode_plain(expr) == "⌊(31 - n₁)/2⌋"
    assert ascii_plain(expr) == "floor((31 - n_1)/2)"
    assert latex_plain(expr) == r"\left\lfloor{\frac{31 - n_{1}}{2}}\right\rfloor"
    assert "<mfrac><mrow><mn>31</mn>" in mathml_plain(expr)
    # the symbolic total of lenet: no ⌊31/2 − …⌋ anywhere
    total = load("lenet").symbolic().total
    for text in (unicode_plain(total), ascii_plain(total), latex_plain(total)):
        assert "31/2" not in text and "{31}{2}" not in text
    from symparams.spec import parse_expression
    assert parse_expression(ascii_plain(total)) == total


def test_symbolic_total_keeps_the_documents_order():
    net = load("lenet")
    from symparams.printing import unicode_written
    text = unicode_written(net.total_written)
    assert text.startswith("((m₁ × n₁ × d₁) + 1) × k₁ + ((m₂ × n₂ × d₂) + 1) × k₂ + (c₁ × p₁")
    assert net.total_written.doit() == net.total_symbolic
    report = build_report(net)
    from symparams.render.markdown import render as md
    assert r"((m_{1} \times n_{1} \times d_{1}) + 1) \times k_{1} + ((m_{2}" in \
        md(report).split("In the layers' letters", 1)[1]
    data = net.to_dict()
    assert data["total_symbolic"].startswith("((m_1*n_1*d_1) + 1)*k_1 + ((m_2*n_2*d_2) + 1)*k_2")


def test_letters_sort_numerically():
    from symparams.printing import natural_key
    names = ["k_10", "k_2", "H", "k_1", "c_3"]
    assert sorted(names, key=natural_key) == ["H", "c_3", "k_1", "k_2", "k_10"]
    net = Network([Dense("u_10"), Dense("u_2"), Dense(3)], input=(4,))
    assert list(net.free_symbols) == ["u_2", "u_10"]


def test_a_long_symbolic_total_prints_fast():
    layers = [Dense(4) for _ in range(1000)]
    net = Network(layers, input=(4,))
    start = time.perf_counter()
    from symparams.printing import ascii_written, latex_written, unicode_written
    for printer, last, before in ((unicode_written, "c₁₀₀₀", "c₉₉₉"),
                                  (ascii_written, "c_1000", "c_999"),
                                  (latex_written, "c_{1000}", "c_{999}")):
        text = printer(net.total_written)
        assert text.index(last) > text.index(before) > 0
    assert time.perf_counter() - start < 60  # generous: a quadratic printer takes minutes


def test_pprint_keeps_numbers_whole(capsys):
    net = load("lenet")
    sympy.pprint(net["FC3"], num_columns=80)
    sympy.pprint(net["FC3"])
    out = capsys.readouterr().out
    assert "↪" not in out
    assert "48120" in out and "400" in out
    assert all(len(line) <= 80 for line in out.splitlines())
    sympy.pprint(net["FC3"].step, num_columns=40)
    out = capsys.readouterr().out
    assert "↪" not in out and "48120" in out


def test_letters_listed_in_messages_sort_numerically():
    from symparams.errors import SymparamsError
    net = Network([Dense("u_10"), Dense("u_2"), Dense(3)], input=(4,))
    try:
        net.sweep({"FC3.units": [1, 2]})
    except SymparamsError as exc:
        assert "u_2, u_10" in str(exc)
    else:  # pragma: no cover
        raise AssertionError("a sweep over a symbolic network must say what is left")


def test_pprint_of_a_network_keeps_numbers_whole(capsys):
    sympy.pprint(load("vgg16"), num_columns=80)
    out = capsys.readouterr().out
    assert "↪" not in out and "102764544" in out
    assert all(len(line) <= 80 for line in out.splitlines())


def test_a_floor_over_a_ceiling_needs_no_extra_parentheses():
    net = _image(Conv2D(kernel=3, filters=4, stride=2, padding="same", name="C"),
                 MaxPool2D(3, name="P"), input=("H", 30, 3))
    assert unicode_plain(net["P"].output_shape[0]) == "⌊⌈H/2⌉/3⌋"
    assert ascii_plain(net["P"].output_shape[0]) == "floor(ceil(H/2)/3)"
