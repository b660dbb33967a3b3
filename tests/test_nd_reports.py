"""A 1-D and a 3-D network in every output: the terminal table, --json, --symbolic,
and the report in md, html, tex (compiled) and pdf, with diagrams that draw rank-2
and rank-4 shapes as feature maps."""
from __future__ import annotations

import json

import pytest

from conftest import run_cli
from symparams import load
from symparams.render.figures import architecture_layout
from symparams.render.report import build_report
from test_report_pdf import pdf_text
from test_report_tex import assert_clean_log, compile_tex

SIGNAL = """name: signal
input: [100, 4]
layers:
  - {type: conv1d, name: C1, kernel: 5, filters: 8, groups: 2, padding: same}
  - {type: maxpool1d, name: P1, kernel: 2}
  - {type: conv1d_transpose, name: T1, kernel: 4, filters: 6, stride: 2, padding: 1}
  - {type: zero_padding, name: Z1, padding: [[1, 2]]}
  - {type: global_avg_pool, name: G1}
  - {type: dense, name: FC, units: 10}
"""
VOLUME = """name: volume
input: [16, 32, 32, 1]
layers:
  - {type: conv3d, name: C1, kernel: [3, 5, 5], filters: 8}
  - {type: maxpool3d, name: P1, kernel: 2}
  - {type: conv3d_transpose, name: T1, kernel: 2, filters: 4, stride: 2}
  - {type: upsample, name: U1, scale: [1, 2, 2]}
  - {type: adaptive_avg_pool, name: A1, output_size: [1, 2, 2]}
  - {type: reshape, name: R1, target: [-1]}
  - {type: dense, name: FC, units: 3}
"""
# name: (spec, {layer: (count, shape text)}, total)
CASES = {
    "signal": (SIGNAL, {"C1": (88, "100 × 8"), "T1": (198, "100 × 6"), "G1": (0, "6"),
                        "FC": (70, "10")}, 356),
    "volume": (VOLUME, {"C1": (608, "14 × 28 × 28 × 8"), "T1": (260, "14 × 28 × 28 × 4"),
                        "U1": (0, "14 × 56 × 56 × 4"), "R1": (0, "16"), "FC": (51, "3")}, 919),
}


@pytest.fixture(params=sorted(CASES))
def case(request, tmp_path):
    spec, layers, total = CASES[request.param]
    path = tmp_path / f"{request.param}.yaml"
    path.write_text(spec, encoding="utf-8")
    return path, layers, total


def test_count_table_and_json(case):
    path, layers, total = case
    table = run_cli("count", path)
    assert table.returncode == 0, table.stderr
    for name, (count, shape) in layers.items():
        row = next(line for line in table.stdout.splitlines() if f" {name} " in line)
        assert shape in row and f" {count:,} " in row
    data = json.loads(run_cli("count", path, "--json").stdout)
    assert data["total"] == total
    by_name = {layer["name"]: layer for layer in data["layers"]}
    for name, (count, shape) in layers.items():
        assert by_name[name]["params"] == count
        assert by_name[name]["output_shape"] == [int(v) for v in shape.split(" × ")]


def test_symbolic_counts_and_shapes(case):
    path, layers, _ = case
    result = run_cli("count", path, "--symbolic", "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    first = data["layers"][1]
    assert "m_1" in first["formula"] and "k_1" in str(data["total"])
    assert any("W" in str(v) or "L" in str(v) for v in first["output_shape"])


def test_markdown_and_html(case, tmp_path):
    path, layers, total = case
    assert run_cli("report", path, "--format", "md", "-o", tmp_path / "md").returncode == 0
    md = next((tmp_path / "md").glob("*.md")).read_text(encoding="utf-8")
    assert f"{total:,}" in md and "Output shape" in md
    assert ("length × channels" in md) if "signal" in path.name else \
        ("depth × height × width × channels" in md and "written R" in md)
    assert run_cli("report", path, "--format", "html", "-o", tmp_path / "html").returncode == 0
    html = next((tmp_path / "html").glob("*.html")).read_text(encoding="utf-8")
    for name, (count, _) in layers.items():
        assert name in html and f"{count:,}" in html


def test_latex_compiles(case, tmp_path):
    path, layers, total = case
    result = run_cli("report", path, "--format", "tex", "-o", tmp_path)
    assert result.returncode == 0, result.stderr
    doc = compile_tex(next(tmp_path.glob("*.tex")))
    assert_clean_log(doc, limit_pt=1.0)
    text = doc.squeezed()
    assert f"{total:,}" in text
    for _, (_, shape) in layers.items():
        assert shape.replace(" ", "") in text


def test_pdf(case, tmp_path):
    path, layers, total = case
    result = run_cli("report", path, "--format", "pdf", "-o", tmp_path)
    assert result.returncode == 0, result.stderr
    text = "\n".join(pdf_text(next(tmp_path.glob("*.pdf"))))
    assert f"The network has {total:,}" in text
    for name in layers:
        assert name in text


def test_diagram_draws_signals_and_volumes_as_maps(case):
    path, _, _ = case
    layout = architecture_layout(build_report(load(str(path))))
    blocks = {b["name"]: b for b in layout["blocks"]}
    assert blocks["C1"]["is_map"] and blocks["T1"]["is_map"]
    assert not blocks["FC"]["is_map"]
