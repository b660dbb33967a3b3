"""The SVG figures: architecture diagram and parameter chart."""
import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from fractions import Fraction

import pytest

from conftest import DOCUMENT_COUNTS, ROOT
from symparams import Activation, Conv2D, Dense, MaxPool2D, Network, load
from symparams.render import figures
from symparams.render.report import build_report

SVG = "{http://www.w3.org/2000/svg}"
DOCUMENT_SHAPES = ["32 × 32 × 3", "28 × 28 × 8", "14 × 14 × 8", "10 × 10 × 16", "5 × 5 × 16",
                   "120", "84", "10"]
HOSTILE = ["<script>alert(1)</script>", "\\input{/etc/passwd}", "\\write18{touch x}",
           "50% & $x_1$ #_{}~^\\"]


def parse(svg: str) -> ET.Element:
    root = ET.fromstring(svg)
    assert root.tag == f"{SVG}svg"
    width, height = float(root.get("width")), float(root.get("height"))
    assert width > 0 and height > 0
    assert root.get("viewBox") == f"0 0 {root.get('width')} {root.get('height')}"
    return root


def texts(element: ET.Element) -> list[str]:
    return [t.text for t in element.iter(f"{SVG}text")]


def layer_groups(root: ET.Element) -> list[ET.Element]:
    return [g for g in root.iter(f"{SVG}g") if (g.get("class") or "").startswith("layer")]


def bars(root: ET.Element) -> dict[str, ET.Element]:
    found = {}
    for g in root.iter(f"{SVG}g"):
        if g.get("class") == "bar":
            name = g.find(f"{SVG}text").text
            found[name] = g.find(f"{SVG}rect")
    return found


@pytest.fixture(scope="module")
def lenet():
    return build_report(load("lenet"))


def test_both_figures_are_standalone_svg_documents(lenet):
    for build in (figures.architecture_svg, figures.parameter_chart_svg):
        svg = build(lenet)
        root = parse(svg)
        assert root.find(f"{SVG}title").text  # an accessible name
        for bad in ("<script", "http://", "https://", "@import", "url(", "href", "<style"):
            assert bad not in svg.replace('xmlns="http://www.w3.org/2000/svg"', "")
    files = figures.figure_files(lenet, "lenet")
    assert {name for name, _ in files.values()} == {"lenet-diagram.svg", "lenet-chart.svg"}
    for _, document in files.values():
        assert document.startswith("<?xml") and parse(document.split("\n", 1)[1])


def test_diagram_has_one_labelled_block_per_layer(lenet):
    root = parse(figures.architecture_svg(lenet))
    groups = layer_groups(root)
    assert len(groups) == len(lenet.rows) == 8
    names = [texts(g)[0] for g in groups]
    assert names == ["INPUT", "CONV1", "POOL1", "CONV2", "POOL2", "FC3", "FC4", "SOFTMAX"]
    assert [texts(g)[1] for g in groups] == ["input", "conv2d", "maxpool2d", "conv2d",
                                             "maxpool2d", "dense", "dense", "dense"]
    assert [texts(g)[2] for g in groups] == DOCUMENT_SHAPES
    # every block has a filled rectangle and a tooltip naming it
    for g, name in zip(groups, names):
        assert g.find(f"{SVG}title").text.startswith(f"{name} (")
        assert g.find(f"{SVG}rect") is not None
    assert "608 parameters" in groups[1].find(f"{SVG}title").text
    # arrows join the blocks one after the other
    assert len(root.findall(f".//{SVG}polygon")) == 7
    assert len(root.findall(f".//{SVG}path")) == 7


def test_block_height_follows_size_on_a_log_scale(lenet):
    layout = figures.architecture_layout(lenet)
    heights = {b["name"]: b["h"] for b in layout["blocks"]}
    # bigger maps are taller; the 120-vector is the tallest, the 10-vector shortest
    assert heights["INPUT"] > heights["CONV1"] > heights["POOL1"] > heights["CONV2"] \
        > heights["POOL2"]
    assert heights["FC3"] == figures.MAX_H and heights["SOFTMAX"] < heights["FC4"]
    assert all(figures.MIN_H <= h <= figures.MAX_H for h in heights.values())
    assert layout["rows"] == 1  # a short network stays on one line


def test_bars_are_proportional_to_the_counts(lenet):
    root = parse(figures.parameter_chart_svg(lenet))
    found = bars(root)
    assert list(found) == list(DOCUMENT_COUNTS)  # layers with parameters, in order
    widths = {name: float(rect.get("width")) for name, rect in found.items()}
    assert widths["FC3"] == figures.BAR_MAX  # the largest count gets the full length
    ratio = widths["FC3"] / widths["CONV1"]
    assert ratio == pytest.approx(48120 / 608, rel=2e-3)
    for name, count in DOCUMENT_COUNTS.items():
        assert int(found[name].get("data-count")) == count
        # rounding to 0.01 is the only error
        assert abs(widths[name] - figures.BAR_MAX * count / 48120) <= 0.005 + 1e-9
    labels = texts(root)
    for label in ("608 · 1.0 %", "3,216 · 5.1 %", "48,120 · 76.4 %", "10,164 · 16.1 %",
                  "850 · 1.4 %"):
        assert label in labels
    assert any("2 layers without parameters" in t for t in labels)


def test_bar_lengths_are_exact_fractions():
    lengths = figures.bar_lengths([608, 48120, 0], longest=440)
    assert lengths == [Fraction(608 * 440, 48120), Fraction(440), Fraction(0)]
    assert figures.bar_lengths([]) == []
    assert figures._fmt(Fraction(608 * 440, 48120)) == "5.56"
    assert figures._fmt(Fraction(1, 200)) == "0.01"  # half up
    assert figures._fmt(Fraction(1, 201)) == "0"
    assert figures._fmt(7) == "7"


@pytest.mark.parametrize("make", [lambda: load("lenet").symbolic(),
                                  lambda: load(str(ROOT / "examples" / "lenet-symbolic.yaml"))])
def test_symbolic_counts_draw_no_bars(make):
    report = build_report(make())
    svg = figures.parameter_chart_svg(report)
    root = parse(svg)
    assert not bars(root) and root.find(f".//{SVG}rect") is None
    words = " ".join(texts(root))
    assert "symbolic" in words and "no bars" in words
    assert "k₁" in words  # says what the counts depend on
    for bad in ("nan", "None", "Symbol(", "Integer(", "zoo"):
        assert bad not in svg
    # the diagram still draws every block; unknown sizes are dashed
    diagram = parse(figures.architecture_svg(report))
    assert len(layer_groups(diagram)) == 8


def test_hostile_names_are_escaped(write_spec):
    names = HOSTILE + ["ctl\x07char"]
    spec = write_spec(json.dumps({
        "name": "evil", "title": HOSTILE[0], "input": [4],
        "layers": [{"type": "dense", "name": n, "units": i + 2} for i, n in enumerate(names)]}),
        "evil.json")
    report = build_report(load(str(spec)))
    assert [r.name for r in report.rows[1:4]] == names[:3]
    for build in (figures.architecture_svg, figures.parameter_chart_svg):
        svg = build(report)
        root = parse(svg)  # control characters were replaced, so it is still XML
        assert "<script" not in svg and "&lt;script&gt;alert(1)&lt;/script&gt;" in svg
        assert not [e for e in root.iter() if e.tag.endswith("script")]
        words = " ".join(texts(root) + [t.text for t in root.iter(f"{SVG}title")])
        for name in HOSTILE:
            assert name.split(" ")[0][:8] in words  # shown literally (perhaps shortened)
        assert "\x07" not in svg


def test_same_input_gives_the_same_bytes(lenet):
    again = build_report(load("lenet"))
    assert figures.architecture_svg(lenet) == figures.architecture_svg(again)
    assert figures.parameter_chart_svg(lenet) == figures.parameter_chart_svg(again)
    code = ("from symparams import load; from symparams.render import figures; "
            "from symparams.render.report import build_report; import sys; "
            "r = build_report(load('vgg16')); "
            "sys.stdout.write(figures.architecture_svg(r) + figures.parameter_chart_svg(r))")
    outputs = {subprocess.run([sys.executable, "-c", code], capture_output=True, check=True,
                              env={**os.environ, "PYTHONHASHSEED": seed}).stdout
               for seed in ("1", "2")}
    assert len(outputs) == 1


def test_long_network_wraps_into_rows():
    layers = [Conv2D(kernel=3, filters=4, padding=1)]
    for i in range(298):
        layers.append(Activation() if i % 2 else Conv2D(kernel=3, filters=4, padding=1))
    layers.append(Dense(units=10))
    net = Network(layers, input=(16, 16, 3))
    report = build_report(net)
    assert len(report.rows) == 301
    layout = figures.architecture_layout(report)
    assert layout["rows"] >= 30 and layout["per_row"] <= figures.BLOCKS_PER_ROW
    svg = figures.architecture_svg(report)
    root = parse(svg)
    width, height = float(root.get("width")), float(root.get("height"))
    assert width <= 1000  # as wide as a short network, readable on a page
    assert height == pytest.approx(layout["rows"] * layout["row_height"], rel=0.05)
    groups = layer_groups(root)
    assert len(groups) == 301
    tops = {round(float(g.find(f"{SVG}text").get("y"))) for g in groups}
    assert len(tops) == layout["rows"]
    assert len(root.findall(f".//{SVG}path")) == 300  # one arrow into every block but the first
    # every text stays inside the picture
    for t in root.iter(f"{SVG}text"):
        assert 0 <= float(t.get("x")) <= width and 0 <= float(t.get("y")) <= height
    chart = parse(figures.parameter_chart_svg(report))
    assert len(bars(chart)) == 151


def test_no_parameters_at_all_says_so():
    net = Network([MaxPool2D(2)], input=(8, 8, 1))
    root = parse(figures.parameter_chart_svg(build_report(net)))
    assert "No layer has learnable parameters." in texts(root)
    assert root.find(f".//{SVG}rect") is None


def test_long_labels_are_shortened_to_fit():
    assert figures.fit_text("SHORT", 11, 100) == "SHORT"
    long = figures.fit_text("A" * 80, 11, 100)
    assert long.endswith("…") and figures.text_width(long, 11) <= 100
    lines = figures.shape_lines("(⌊H/2⌋ - 2) × (⌊W/2⌋ - 2) × k₁")
    assert len(lines) > 1 and lines[0].endswith("×")
    assert all(figures.text_width(line, figures.SMALL) <= figures.LABEL_WIDTH for line in lines)


def test_html_render_attaches_the_figures(lenet):
    from symparams.render.html import render
    report = build_report(load("lenet"))
    page = render(report)
    assert set(report.figures) >= {"diagram", "chart"}
    assert page.count("<svg ") == 2
    assert str(report.figures["diagram"]) in page


def test_long_diagram_comes_in_page_sized_parts_for_print():
    layers = [Conv2D(kernel=3, filters=4, padding=1) for _ in range(99)] + [Dense(units=10)]
    report = build_report(Network(layers, input=(16, 16, 3)))
    layout = figures.architecture_layout(report)
    parts = figures.architecture_parts(report, rows_per_part=6)
    assert len(parts) == -(-layout["rows"] // 6) > 1
    roots = [parse(p) for p in parts]
    # every block is in exactly one part, in order
    names = [texts(g)[0] for root in roots for g in layer_groups(root)]
    assert names == [row.name for row in report.rows]
    for root in roots:
        height = float(root.get("height"))
        assert height <= 6 * layout["row_height"] + 2 * figures.MARGIN
        for t in root.iter(f"{SVG}text"):
            assert 0 <= float(t.get("y")) <= height
    # one arrow into every block but the first, split where a part ends
    heads = sum(len(root.findall(f".//{SVG}polygon")) for root in roots)
    assert heads == len(report.rows) - 1
    from symparams.render.html import render_page
    page = render_page(report, medium="print")
    assert page.count('<figure class="diagram part">') == len(parts)
    assert render_page(report).count("<svg ") == 2  # on screen: the whole diagram and the chart
    assert len(build_report(load("lenet")).figures) == 0
    short = build_report(load("lenet"))
    figures.attach(short)
    assert short.figures["diagram_parts"] == [short.figures["diagram"]]


@pytest.mark.parametrize("name", ["bert-base", "resnet50"])
def test_long_hierarchical_names_wrap_at_their_dots_instead_of_being_cut(name):
    # encoder.layer.0.0 … encoder.layer.11.0 all used to read "encoder.layer…",
    # layer3.0.downsample.0 "layer3.0.dow…": the diagram showed no way to tell them apart
    report = build_report(load(name))
    root = parse(figures.architecture_svg(report))
    groups = layer_groups(root)
    assert len(groups) == len(report.rows)
    for g, row in zip(groups, report.rows):
        lines = texts(g)
        for count in (1, 2):
            if "".join(lines[:count]) == row.name:
                break
        else:
            raise AssertionError(f"{row.name} shown as {lines}")
        assert not any("…" in line for line in lines[:count]), lines
