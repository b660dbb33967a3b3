"""Counts a person reads carry thousands separators, the same way in every output;
JSON and CSV keep plain integers.

Each format spells the separator its own way: ``62,958`` in text, HTML and MathML,
``62{,}958`` inside LaTeX math (a bare comma there is punctuation, set with a space).
The big numbers come from VGG-16 (FC6 has 102,764,544 parameters), so every count
of three groups shows whether it was grouped.
"""
from __future__ import annotations

import csv
import io
import json
import re

import pytest
from rich.console import Console

from conftest import run_cli
from symparams import load
from symparams.homework.build import load_template, make_variants
from symparams.numbers import thousands
from symparams.render.homework import render_sheet
from symparams.render.report import build_report
from symparams.render.terminal import print_count, print_sweep

FC6 = 102764544
VGG_TOTAL = 138357544
# A run of five or more digits is a count left without separators.
UNGROUPED = re.compile(r"(?<![\d.,{}])\d{5,}(?![\d])")


@pytest.fixture(scope="module")
def vgg():
    return load("vgg16")


@pytest.fixture(scope="module")
def vgg_report(vgg):
    return build_report(vgg)


def test_the_helper():
    assert thousands(62958) == "62,958" and thousands(FC6) == "102,764,544"
    assert thousands(-3216) == "-3,216" and thousands(850) == "850"
    assert thousands(62958, "{,}") == "62{,}958"
    assert thousands(load("lenet").total) == "62,958"        # a SymPy Integer
    from symparams.render.common import thousands as renderers
    assert renderers is thousands                            # one helper


# -------------------------------------------------------------- terminal

def test_terminal_table_rows_total_row_and_total_line(vgg):
    console = Console(record=True, width=200, color_system=None)
    print_count(vgg, console)
    text = console.export_text()
    fc6 = next(line for line in text.splitlines() if "FC6" in line)
    assert " 102,764,544 " in fc6
    total_row = next(line for line in text.splitlines() if " total " in line)
    assert " 138,357,544 " in total_row
    assert "Total: 138,357,544 learnable parameters" in text
    params = [line.split("│")[-3] for line in text.splitlines() if line.count("│") > 5]
    assert len(params) == len(vgg.layers) + 1
    assert all(re.fullmatch(r" *\d{1,3}(,\d{3})* ", cell) for cell in params), params


def test_sweep_table_groups_counts_not_the_varied_sizes():
    rows = load("lenet").sweep({"FC3.units": [1000, 2000]})
    console = Console(record=True, width=200, color_system=None)
    print_sweep(rows, console)
    text = console.export_text()
    line = next(line for line in text.splitlines() if " 2000 " in line)
    assert "802,000" in line and "974,758" in line    # FC3: 2000 × 400 + 2000; total
    assert not UNGROUPED.findall(text.replace(" 1000 ", "").replace(" 2000 ", ""))
    # CSV stays plain integers
    data = list(csv.DictReader(io.StringIO(rows.csv_text())))
    assert data[1]["FC3"] == "802000" and "," not in data[1]["total"]


def test_sweep_command_table():
    result = run_cli("sweep", "vgg16", "--vary", "FC6.units=4096")
    assert result.returncode == 0, result.stderr
    assert "102,764,544" in result.stdout and "138,357,544" in result.stdout
    # 16 layers do not fit 200 columns: the smallest is left out and named, rather than
    # every count cut short to "2,359,8…".
    assert "…" not in result.stdout
    assert "left out to fit 200 columns: CONV1_1 (the smallest)" in result.stdout


def test_diff_output():
    result = run_cli("diff", "lenet", "lenet", "--set-b", "CONV2.filters=32")
    assert result.returncode == 0, result.stderr
    assert "3,216" in result.stdout and "6,432" in result.stdout and "+3,216" in result.stdout
    assert "62,958" in result.stdout
    data = json.loads(run_cli("diff", "lenet", "lenet", "--set-b", "CONV2.filters=32",
                              "--json").stdout)
    assert data["total_a"] == 62958 and isinstance(data["total_change"], int)


def test_solve_answers():
    # FC3 with 1,200 units: 485 × 1200 + 4758 = 586,758
    result = run_cli("solve", "lenet", "--for", "FC3.units", "--total", "586758")
    assert result.returncode == 0, result.stderr
    first, answer = result.stdout.splitlines()[:2]
    assert "485·c₁ + 4,758 = 586,758" in first
    assert answer.startswith("c₁ = 1,200")
    data = json.loads(run_cli("solve", "lenet", "--for", "FC3.units", "--total", "586758",
                              "--json").stdout)
    assert data["solutions"] == [1200]


def test_presets_list():
    result = run_cli("presets")
    assert "138,357,544 parameters" in result.stdout


def test_json_and_csv_stay_plain_integers(vgg):
    data = json.loads(run_cli("count", "vgg16", "--json").stdout)
    assert data["total"] == VGG_TOTAL
    assert {layer["name"]: layer["params"] for layer in data["layers"]}["FC6"] == FC6
    rows = list(csv.DictReader(io.StringIO(vgg.to_csv())))
    assert rows[-1]["params"] == str(VGG_TOTAL)
    assert {r["name"]: r["params"] for r in rows}["FC6"] == str(FC6)


def test_python_str_and_latex_keep_sympys_digits(vgg):
    from sympy import latex
    step = vgg["FC6"].step
    assert str(step).endswith("= 102764544") and latex(step).endswith("= 102764544")
    assert step.text.result == "102,764,544" and step.latex.result == "102{,}764{,}544"
    assert step.ascii.result == "102764544"   # ASCII parses back


# --------------------------------------------------------------- reports

def test_report_data(vgg_report):
    rows = {row.name: row.params for row in vgg_report.rows}
    assert rows["FC6"] == "102,764,544" and vgg_report.total == "138,357,544"


def test_markdown_report(vgg_report):
    from symparams.render.markdown import render
    text = render(vgg_report)
    assert "= 102{,}764{,}544$$" in text                       # FC6's step
    assert "| 102,764,544 |" in text                           # summary row
    assert "**138,357,544**" in text                           # total row and sentence
    assert "+ 102{,}764{,}544 + 16{,}781{,}312 + 4{,}097{,}000 = 138{,}357{,}544$$" in text
    # Sizes put into formulas stay as the spec wrote them.
    assert r"4096 \times 25088 + 1 \times 4096" in text
    prose = re.sub(r"\$\$.*?\$\$|\$[^$]*\$", "", text, flags=re.S)
    assert not UNGROUPED.findall(prose.replace("25088 values", ""))


def test_html_report(vgg_report):
    from symparams.render.html import render
    text = render(vgg_report)
    assert "<mn>102,764,544</mn>" in text and "<mn>138,357,544</mn>" in text
    assert ">102,764,544</td>" in text and "<strong>138,357,544</strong>" in text
    assert "<mn>102764544</mn>" not in text


def test_latex_report(vgg_report):
    from symparams.render.latex import render
    text = render(vgg_report)
    assert "102{,}764{,}544" in text and "138{,}357{,}544" in text     # in math
    assert "102,764,544 &" in text                                  # summary cell
    assert r"\textbf{138,357,544}" in text
    body = text.split(r"\begin{document}", 1)[1]
    assert "102764544" not in body and "138357544" not in body


def test_pdf_summary_text(vgg_report, tmp_path):
    pytest.importorskip("weasyprint")
    from pypdf import PdfReader
    from symparams.render.pdf import render
    pdf = render(vgg_report)
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages)
    assert "102,764,544" in text and "The network has 138,357,544" in text
    assert "102764544" not in text


# -------------------------------------------------------------- homework

@pytest.fixture(scope="module")
def variant():
    template, plan = load_template("vgg-small")
    return make_variants(template, plan, 1, 3)[0]


@pytest.mark.parametrize("fmt", ["md", "html", "tex"])
def test_homework_answer_key_counts(variant, fmt):
    text = render_sheet(variant, "answers", fmt)
    text = text.decode() if isinstance(text, bytes) else text
    total = variant.net.total
    sep = {"md": "{,}", "html": ",", "tex": "{,}"}[fmt]
    assert thousands(total) in text                          # the total sentence and row
    assert thousands(total, sep) in text                     # the total's equation
    assert f"{int(total)}" not in text
    for info in variant.net.layers:
        if info.params >= 10000:
            assert thousands(info.params) in text and str(int(info.params)) not in text


def test_pdf_math_sets_a_grouped_count_as_one_number():
    """``4{,}097{,}000`` in the PDF's math reads 4,097,000, not "4, 097, 000": each comma
    adds its own glyph's width (about a quarter em) and no operator space."""
    pytest.importorskip("ziamath")
    from symparams.render.mathsvg import typeset
    grouped, plain = typeset(r"= 4{,}097{,}000").width, typeset(r"= 4097000").width
    assert 0 < grouped - plain < 2 * 0.3


def test_solve_equation_with_a_negative_constant():
    result = run_cli("solve", "lenet", "--for", "INPUT.height", "--total", "62958")
    assert result.returncode == 0, result.stderr
    first = result.stdout.splitlines()[0]
    assert "9600·⌊⌊H/2⌋/2⌋ - 13,842 = 62,958" in first and "(13,842)" not in first


@pytest.mark.parametrize("b", ["lenet", "vgg16"])
def test_diff_counts_are_whole_at_80_columns(b):
    """Grouped counts are wider: the diff table still fits 80 columns (names and shapes
    wrap), and no count is cut short or cropped at the edge."""
    result = run_cli("diff", "lenet", b, "--set-b", "CONV2.filters=32" if b == "lenet"
                     else "FC6.units=2048", env={"COLUMNS": "80"})
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert "…" not in result.stdout and max(len(line) for line in lines) <= 80
    table = [line for line in lines if line[:1] in "┏┃┡│├└"]
    assert table and all(line.rstrip()[-1] in "┓┃┩│┤┘" for line in table)  # not cropped
    if b == "lenet":
        assert "+48,000" in result.stdout and "114,174" in result.stdout
    else:
        assert "78,586,664" in result.stdout and "+78,523,706" in result.stdout
        assert "+4,097,000" in result.stdout
