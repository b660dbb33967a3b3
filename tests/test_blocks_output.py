"""Networks built from blocks stay readable: the count table groups layers by block
with subtotals and a table per stage; reports work each distinct block out once."""
from __future__ import annotations

import re

import pytest

import frameworks as fw
from conftest import run_cli
from symparams import load
from symparams.blockgroups import distinct_units, stages


def test_stages_and_units_follow_the_spec():
    net = load("resnet50")
    found = stages(net)
    assert [s.name for s in found] == ["conv1 … maxpool", "layer1", "layer2", "layer3",
                                       "layer4", "avgpool … fc"]
    assert [len(s.units) for s in found] == [0, 3, 4, 6, 3, 0]
    assert sum(s.total for s in found) == net.total
    layer1 = found[1]
    assert layer1.blocks_text == "3 × bottleneck"
    assert [u.path for u in layer1.units] == ["layer1.0", "layer1.1", "layer1.2"]


@pytest.mark.frameworks
def test_stage_and_unit_subtotals_match_torchvision():
    net, model = load("resnet50"), fw.reference_model("resnet50")
    for stage in stages(net)[1:5]:
        assert stage.total == fw.subtree_params(model, stage.name)
        for unit in stage.units:
            assert unit.total == fw.subtree_params(model, unit.path)
    mobile, model = load("mobilenet_v2"), fw.reference_model("mobilenet_v2")
    for stage in stages(mobile)[:-1]:
        assert stage.total == sum(fw.subtree_params(model, u.path) for u in stage.units)


def test_one_use_holding_repeats_is_split_into_the_papers_rows():
    # MobileNetV2's table 2: one stage per (t, c, n, s) row, then the last convolution
    found = stages(load("mobilenet_v2"))
    assert [s.name for s in found] == [
        "features.0", "features.1", "features.2…3", "features.4…6", "features.7…10",
        "features.11…13", "features.14…16", "features.17", "features.18",
        "avgpool … classifier.1"]
    assert [len(s.units) for s in found[:-1]] == [1, 1, 2, 3, 4, 3, 3, 1, 1]
    assert found[4].blocks_text == "4 × inverted_residual"


def test_equal_units_are_one_distinct_block():
    units = distinct_units(load("resnet50"))
    # the first bottleneck of a stage has the projection; the others are alike
    assert units["layer1.1"] is units["layer1.2"]
    assert units["layer1.0"] is not units["layer1.1"]
    assert [u.path for u in units["layer3.1"].repeats] == [f"layer3.{i}" for i in range(1, 6)]
    assert len({id(u) for u in units.values()}) == 8
    mobile = distinct_units(load("mobilenet_v2"))
    assert mobile["features.3"].first.path == "features.3"
    assert [u.path for u in mobile["features.5"].repeats] == ["features.5", "features.6"]


def test_count_table_has_block_and_stage_subtotals():
    result = run_cli("count", "resnet50", env={"COLUMNS": "220"})
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert re.search(r"layer1 \(3 × bottleneck\) subtotal .*215,808", out)
    assert re.search(r"layer1\.0 \(bottleneck\) subtotal .*75,008", out)
    assert re.search(r"layer4 \(3 × bottleneck\) subtotal .*14,964,736", out)
    table = out[out.index("resnet50 by stage"):]
    assert re.search(r"layer3 +│ 6 × bottleneck │ +62 │ +7,098,368", table)
    assert re.search(r"total .*│ +175 │ 25,557,032", table)
    narrow = run_cli("count", "resnet18", env={"COLUMNS": "80"}).stdout
    assert re.search(r"layer2\.0 \(basic\).*230,144", narrow) and "subtotal" in narrow


def test_networks_without_blocks_keep_their_table():
    out = run_cli("count", "lenet").stdout
    assert "subtotal" not in out and "by stage" not in out


def test_markdown_report_works_each_distinct_block_once():
    text = load("resnet50").to_markdown()
    assert "## Stage layer1: 3 × bottleneck" in text
    assert "### layer1.0 (bottleneck)" in text and "### layer1.1 (bottleneck)" in text
    assert "### layer1.2 (bottleneck)" not in text
    assert "#### 17. layer1.1.conv1" in text
    assert "layer1.2.conv1 (" not in text            # its count is in the repeats table
    assert "| layer1.2 | 70,400 |" in text
    assert "| together: 2 × 70,400 | **140,800** |" in text
    assert "| layer3 | 6 × bottleneck | 62 | 7,098,368 | 27.8 % |" in text
    assert "9{,}536 + 215{,}808 + 1{,}219{,}584" in text
    assert "every conv2d layer (53)" in text
    # every layer is worked out once or stands in a repeats table: nothing lost
    net = load("resnet50")
    worked = [line for line in text.splitlines() if line.startswith("#### ")]
    assert len(worked) == 95 and len(worked) < len(net) - 1


def test_html_and_latex_reports_have_the_stages(tmp_path):
    net = load("resnet18")
    html = net.to_html()
    assert '<h3 class="stage">Stage layer2: 2 × basic</h3>' in html
    assert "<td>layer1.1</td><td class=\"num\">73,984</td>" in html
    tex = net.to_latex()
    assert r"\subsection*{Stage layer2: 2 $\times$ basic}" in tex or \
        "Stage layer2: 2" in tex
    assert r"\subsubsection*{" in tex


def test_latex_report_of_resnet50_compiles(tmp_path):
    from conftest import require_tool
    import subprocess
    pdflatex = require_tool("pdflatex")
    (tmp_path / "r.tex").write_text(load("resnet50").to_latex(), encoding="utf-8")
    done = subprocess.run([pdflatex, "-interaction=nonstopmode", "-halt-on-error", "r.tex"],
                          cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-2000:]


def test_pdf_report_of_a_block_network_renders():
    pdf = load("resnet18").to_pdf()
    assert pdf.startswith(b"%PDF")


def test_parameter_chart_has_one_bar_per_block_instance():
    from symparams.render.figures import parameter_chart_svg
    from symparams.render.report import build_report
    svg = parameter_chart_svg(build_report(load("resnet50")))
    assert "<title>layer1.0: 75,008 parameters" in svg
    assert "layer1.0.conv1" not in svg
    assert svg.count('class="bar"') == 2 + 16 + 1      # conv1, bn1, 16 bottlenecks, fc
    assert "layers without parameters are not shown" in svg


def test_json_says_which_block_instance_a_layer_belongs_to():
    import json
    data = json.loads(run_cli("count", "resnet50", "--json").stdout)
    layers = {layer["name"]: layer for layer in data["layers"]}
    assert layers["layer2.0.downsample.1"]["blocks"] == [
        {"path": "layer2.0", "block": "bottleneck"},
        {"path": "layer2.0.downsample", "block": "projection"}]
    assert "blocks" not in layers["conv1"] and "blocks" not in layers["fc"]
