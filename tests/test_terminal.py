"""The terminal table of ``symparams count`` at the widths people use: 80 and 200 columns.

Every line must fit the width, no formula may be cut short to ``formu…``, and every
layer's formula, substituted form and count, and the total, must be there to read.
The checks read the printed text column by column (cells are split at the table's
vertical rules), so a cell that wraps over several lines is read back whole.
"""
from __future__ import annotations

import re

import pytest
from rich.cells import cell_len
from rich.console import Console

from conftest import run_cli
from symparams import Conv2D, Dense, Flatten, MaxPool2D, Network, load
from symparams.printing import unicode_plain
from symparams.numbers import thousands
from symparams.render.terminal import print_count

WIDTHS = (80, 200)
RULES = re.compile("[│┃]")


def _nets():
    long = Network(
        [Conv2D(kernel=3, filters=8, name="A_VERY_LONG_FIRST_CONVOLUTION_LAYER_NAME"),
         MaxPool2D(2, name="POOLING_AFTER_THE_FIRST_CONVOLUTION"),
         Flatten(name="FLATTEN_EVERYTHING"),
         Dense(units=10, name="THE_FINAL_CLASSIFIER_LAYER_WITH_A_VERY_LONG_NAME")],
        input=(32, 32, 3), name="long-names")
    return {
        "lenet": load("lenet"),
        "vgg16": load("vgg16"),
        "lenet-symbolic": load("examples/lenet-symbolic.yaml"),
        "lenet --symbolic": load("lenet").symbolic(),
        "long-names": long,
    }


NETS = _nets()


def squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


def columns(output: str) -> list[str]:
    """The table's cells column by column, each column's lines joined without spaces."""
    cols: dict[int, list[str]] = {}
    for line in output.splitlines():
        if len(RULES.findall(line)) >= 3:
            for i, cell in enumerate(RULES.split(line)):
                cols.setdefault(i, []).append(cell)
    return [squash("".join(cells)) for _, cells in sorted(cols.items())]


def printed(net: Network, width: int) -> str:
    console = Console(record=True, width=width, color_system=None, highlight=False)
    print_count(net, console)
    return console.export_text()


def check_readable(net: Network, output: str, width: int) -> None:
    lines = output.splitlines()
    too_long = [line for line in lines if cell_len(line) > width]
    assert not too_long, f"{len(too_long)} lines wider than {width}: {too_long[0]!r}"
    assert "…" not in output
    cols = columns(output)
    every = "".join(cols)
    for info in net.layers:
        step = info.step
        assert squash(info.name) in every
        if step.has_formula:
            formula, substituted = squash(step.text.formula), squash(step.text.substituted)
            assert any(formula in col for col in cols), (info.name, formula)
            assert any(substituted in col for col in cols), (info.name, substituted)
        count = (thousands(info.params) if info.params.is_Integer
                 else squash(unicode_plain(info.params)))
        assert count in every, (info.name, count)
    total = thousands(net.total) if net.total.is_Integer else unicode_plain(net.total)
    assert squash(f"Total: {total}") in squash(output)


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("name", list(NETS))
def test_count_table_is_readable_at_80_and_200_columns(name, width):
    net = NETS[name]
    check_readable(net, printed(net, width), width)


def test_at_200_columns_each_layer_is_one_line():
    output = printed(NETS["lenet"], 200)
    rows = [line for line in output.splitlines() if "CONV2" in line]
    assert len(rows) == 1
    assert "((m₂ × n₂ × d₂) + 1) × k₂" in rows[0] and "((5 × 5 × 8) + 1) × 16" in rows[0]
    assert "3,216" in rows[0] and "5.1 %" in rows[0]


def test_at_80_columns_formulas_fold_under_their_layer():
    output = printed(NETS["lenet"], 80)
    lines = output.splitlines()
    at = next(i for i, line in enumerate(lines) if "CONV2" in line)
    assert "3,216" in lines[at] and "5.1 %" in lines[at] and "10 × 10 × 16" in lines[at]
    below = "".join(lines[at + 1:at + 3])
    assert "((m₂ × n₂ × d₂) + 1) × k₂" in below and "((5 × 5 × 8) + 1) × 16" in below
    # 8 layers and the total: a layer is at most three lines, not five.
    assert max(cell_len(line) for line in lines) <= 80


@pytest.mark.parametrize("width", WIDTHS)
def test_count_command_follows_columns(width):
    result = run_cli("count", "vgg16", env={"COLUMNS": str(width)})
    assert result.returncode == 0, result.stderr
    check_readable(NETS["vgg16"], result.stdout, width)


def test_rich_print_of_a_network_fits_the_console():
    console = Console(record=True, width=80, color_system=None)
    console.print(NETS["lenet"])
    text = console.export_text()
    assert max(cell_len(line) for line in text.splitlines()) <= 80 and "…" not in text


def test_a_long_symbolic_total_is_left_to_json_not_printed_under_the_table():
    # ResNet-50's sum of 107 formulas used to run to 30 lines at 80 columns
    import json
    net = load("resnet50")
    terms = len(net.total_written.args)
    done = run_cli("count", "resnet50", env={"COLUMNS": "80"})
    assert done.returncode == 0, done.stderr
    assert f"Symbolic total: the sum of the {terms} formulas in the table" in done.stdout
    assert "k₅₃" not in done.stdout.split("Symbolic total")[1]
    data = json.loads(run_cli("count", "resnet50", "--json").stdout)
    assert "k_53" in data["total_symbolic"]
    lenet = run_cli("count", "lenet").stdout   # a short one is still printed in full
    assert "Symbolic total: ((m₁ × n₁ × d₁) + 1) × k₁" in lenet
