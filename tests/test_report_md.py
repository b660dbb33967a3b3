"""The Markdown report: the worked solution in the document's order, inert spec text, overrides."""
import json
import re

import pytest
from markdown_it import MarkdownIt

from conftest import run_cli
from symparams import load
from symparams.render.markdown import render
from symparams.render.report import build_report

DOCUMENT_STEPS = [
    r"((m_{1} \times n_{1} \times d_{1}) + 1) \times k_{1} = ((5 \times 5 \times 3) + 1) \times 8 = 608",
    r"((m_{2} \times n_{2} \times d_{2}) + 1) \times k_{2} = ((5 \times 5 \times 8) + 1) \times 16 = 3{,}216",
    r"c_{1} \times p_{1} + 1 \times c_{1} = 120 \times 400 + 1 \times 120 = 48{,}120",
    r"c_{2} \times p_{2} + 1 \times c_{2} = 84 \times 120 + 1 \times 84 = 10{,}164",
    r"c_{3} \times p_{3} + 1 \times c_{3} = 10 \times 84 + 1 \times 10 = 850",
]
HOSTILE_TITLE = "<script>alert(1)</script> \\input{/etc/passwd} \\write18{touch x} 50% & $x_1$ #_{}~^\\"
HOSTILE_NAMES = ["<script>alert(1)</script>", "\\input{/etc/passwd}", "\\write18{touch x}",
                 "50% & $x_1$ #_{}~^\\", "a|b"]
UNESCAPED_PIPE = re.compile(r"(?<!\\)\|")


def markdown_to_html(text: str) -> str:
    return MarkdownIt("commonmark").enable("table").render(text)


@pytest.fixture(scope="module")
def lenet_md(tmp_path_factory) -> str:
    out = tmp_path_factory.mktemp("md")
    result = run_cli("report", "lenet", "--format", "md", "-o", out)
    assert result.returncode == 0, result.stderr
    return (out / "lenet.md").read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def hostile_md(tmp_path_factory) -> str:
    folder = tmp_path_factory.mktemp("hostile")
    spec = folder / "evil.json"
    spec.write_text(json.dumps({
        "name": "evil", "title": HOSTILE_TITLE, "description": "# not a heading | " + HOSTILE_TITLE,
        "input": [32, 32, 3],
        "layers": [{"type": "conv2d", "name": HOSTILE_NAMES[0], "kernel": 5, "filters": 8},
                   {"type": "maxpool2d", "name": HOSTILE_NAMES[1], "kernel": 2},
                   {"type": "conv2d", "name": HOSTILE_NAMES[2], "kernel": 5, "filters": 16},
                   {"type": "dense", "name": HOSTILE_NAMES[3], "units": 120},
                   {"type": "dense", "name": HOSTILE_NAMES[4], "units": 10}]}),
        encoding="utf-8")
    result = run_cli("report", spec, "--format", "md", "-o", folder / "out")
    assert result.returncode == 0, result.stderr
    return (folder / "out" / "evil.md").read_text(encoding="utf-8")


def test_worked_steps_in_the_documents_order(lenet_md):
    positions = [lenet_md.find(f"$${step}$$") for step in DOCUMENT_STEPS]
    assert -1 not in positions, [s for s, p in zip(DOCUMENT_STEPS, positions) if p < 0]
    assert positions == sorted(positions)
    headings = re.findall(r"^### (\d+)\. (\S+)", lenet_md, re.M)
    # numbered by the layers' index, as in the summary table (the input is 0)
    assert headings == [("0", "INPUT"), ("1", "CONV1"), ("2", "POOL1"), ("3", "CONV2"),
                        ("4", "POOL2"), ("5", "FC3"), ("6", "FC4"), ("7", "SOFTMAX")]
    # each step: heading, reason, math, then the output shape, before the next heading
    conv1 = lenet_md.split("### 1. CONV1", 1)[1].split("### 2.", 1)[0]
    assert conv1.index("Each filter") < conv1.index("$$") < conv1.index("Output shape: 28 × 28 × 8.")
    pool1 = lenet_md.split("### 2. POOL1", 1)[1].split("### 3.", 1)[0]
    # no parameter equation: the one display is the worked output height and width
    assert "Learnable parameters: 0." in pool1 and pool1.count("$$") == 2
    assert "Output height and width:" in pool1
    fc3 = lenet_md.split("### 5. FC3", 1)[1].split("### 6.", 1)[0]
    assert "flattened to 400 values" in fc3


def test_summary_total_and_notes(lenet_md):
    summary_md = lenet_md.split("## Summary", 1)[1].split("## Total", 1)[0]
    table = [line for line in summary_md.splitlines() if line.startswith("| ")]
    rows = {cells[2]: cells for cells in (
        [c.strip() for c in UNESCAPED_PIPE.split(line)] for line in table)}
    for name, count in {"CONV1": 608, "CONV2": 3216, "FC3": 48120, "FC4": 10164,
                        "SOFTMAX": 850, "POOL1": 0, "POOL2": 0}.items():
        assert rows[name][6] == f"{count:,}"
    assert rows["FC3"][7] == "76.4 %"
    assert "| | **total** | | | | **62,958** | 100.0 % |" in lenet_md
    assert "The network has **62,958** learnable parameters." in lenet_md
    assert "608 + 3{,}216 + 48{,}120 + 10{,}164 + 850 = 62{,}958$$" in lenet_md
    notes = lenet_md.split("## Notes", 1)[1]
    assert "pooling after it is often counted as one layer" in notes
    assert "Pooling has no parameters, yet it still takes part in training" in notes
    assert "backpropagation" in notes


def test_markdown_is_well_formed(lenet_md):
    html = markdown_to_html(lenet_md)
    assert html.count("<table>") == 2  # letters and summary
    summary = html.split("<table>")[2]
    assert summary.count("<tr>") == 1 + 8 + 1  # header, layers, total
    for row in summary.split("<tr>")[1:]:
        assert row.count("<td") + row.count("<th") == 7
    assert "<h1>Parameters of LeNet-style CNN from the worked example</h1>" in html
    assert lenet_md.count("$$") % 2 == 0
    assert lenet_md.endswith("\n") and "\n\n\n" not in lenet_md


def test_hostile_text_is_inert(hostile_md):
    assert "<script" not in hostile_md.lower()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in hostile_md
    assert r"\$x\_1\$" in hostile_md and "$x_1$" not in hostile_md
    html = markdown_to_html(hostile_md)
    assert "<script" not in html.lower()
    # rendered, the names read literally
    for name in HOSTILE_NAMES:
        shown = name.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        assert shown in html, name
    # the description cannot start a heading or a table
    assert "<h1># not a heading" not in html and "<h1>not a heading" not in html
    # table pipes are escaped: every row still has exactly 7 cells
    summary_md = hostile_md.split("## Summary", 1)[1].split("## Total", 1)[0]
    table = [line for line in summary_md.splitlines() if line.startswith("| ")]
    assert len(table) == 1 + 6 + 1  # header, layers, total
    for line in table:
        assert len(UNESCAPED_PIPE.findall(line)) == 8, line
    assert r"| a\|b |" in hostile_md
    summary = html.split("<table>")[-1]
    for row in summary.split("<tr>")[1:]:
        assert row.count("<td") + row.count("<th") == 7
    # no math other than ours: every unescaped $ belongs to a SymPy formula
    for line in hostile_md.splitlines():
        for match in re.finditer(r"(?<!\\)\$+([^$]*)\$+", line):
            assert "\\times" in match.group(1) or re.fullmatch(r"[a-z]", match.group(1)) \
                or "_{" in match.group(1), match.group(0)


def test_templates_override_a_partial_by_file_name(tmp_path):
    custom = tmp_path / "mine" / "md"
    custom.mkdir(parents=True)
    (custom / "_step.md.j2").write_text(
        "- STEP {{ number }} {{ step.name }}: {{ step.latex.result | inline }}\n")
    result = run_cli("report", "lenet", "--format", "md", "-o", tmp_path / "out",
                     "--templates", tmp_path / "mine")
    assert result.returncode == 0, result.stderr
    text = (tmp_path / "out" / "lenet.md").read_text(encoding="utf-8")
    assert "- STEP 1 CONV1: $608$" in text and "- STEP 5 FC3: $48{,}120$" in text
    assert "Each filter learns" not in text  # our step partial was replaced
    assert "## Summary" in text and "**62,958**" in text  # the rest is still ours


def test_symbolic_markdown(tmp_path):
    result = run_cli("report", "lenet", "--symbolic", "--format", "md", "-o", tmp_path)
    assert result.returncode == 0, result.stderr
    text = (tmp_path / "lenet.md").read_text(encoding="utf-8")
    for bad in ("None", "Symbol(", "Integer(", "nan"):
        assert bad not in text
    assert "expression in C, H, W" in text  # --symbolic makes the input letters too
    assert r"((m_{1} \times n_{1} \times C) + 1) \times k_{1}" in text  # d₁ = C comes from the input


def test_figure_files_are_linked_only_when_written():
    report = build_report(load("lenet"))
    plain = render(report)
    assert "![" not in plain and ".svg" not in plain
    report.figures["files"] = {"diagram": "lenet-diagram.svg", "chart": "lenet-chart.svg"}
    linked = render(report)
    assert "## Architecture" in linked
    assert "](lenet-diagram.svg)" in linked and "](lenet-chart.svg)" in linked
    assert linked.index("lenet-diagram.svg") < linked.index("## Worked solution") \
        < linked.index("## Summary") < linked.index("lenet-chart.svg")
