"""The spec features issue 10's importers write: opaque and tensor layers, add and
multiply broadcasting, concat along any axis, and top-level notes shown as warnings
in every output."""
import json

import pytest
from sympy import Integer, Symbol

from conftest import run_cli
from symparams import SymparamsError, load
from symparams.network import Network
from symparams.spec import spec_from_data


def net_of(data) -> Network:
    return Network.from_spec(spec_from_data(data, source="t.yaml"))


def error_of(data) -> str:
    with pytest.raises(SymparamsError) as info:
        net_of(data)
    message = str(info.value)
    assert "\n" not in message and len(message) <= 300, message
    return message


# A ViT-like head: class token and position table as tensors, a PReLU counted by the
# framework, a transpose the families have no name for, then a dense head.
VITISH = {
    "name": "vitish", "input": [16, 32],
    "notes": ["fx could not trace Foo (data-dependent branch); layers were read in call order"],
    "layers": [
        {"name": "cls", "type": "tensor", "shape": [1, 32], "inputs": []},
        {"name": "pos", "type": "tensor", "shape": [17, 32], "trainable": False},
        {"name": "join", "type": "concat", "axis": 0, "inputs": ["cls", "INPUT"]},
        {"name": "addpos", "type": "add", "inputs": ["join", "pos"]},
        {"name": "prelu", "type": "opaque", "op": "torch.nn.PReLU", "params": 32,
         "non_trainable": 2, "buffers": 5},
        {"name": "perm", "type": "opaque", "op": "torch.permute", "output": [32, 17]},
        {"name": "fc", "type": "dense", "units": 4},
    ]}


@pytest.fixture(scope="module")
def vitish_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("vitish") / "vitish.json"
    path.write_text(json.dumps(VITISH), encoding="utf-8")
    return path


# ----------------------------------------------------------------- opaque layers

def test_opaque_counts_the_framework_number_with_no_formula():
    net = net_of(VITISH)
    prelu, perm = net["prelu"], net["perm"]
    assert prelu.params == 32 and prelu.non_trainable == 2 and prelu.trainable == 30
    assert prelu.buffers == 5 and prelu.output_shape == (17, 32)
    assert perm.params == 0 and perm.output_shape == (32, 17)
    assert net["fc"].params == 4 * 17 + 4        # p comes from the opaque op's output
    assert net.total == 32 + 544 + 32 + 72 and net.buffers_total == 5
    step = prelu.step
    assert not step.has_formula and "from the framework" in step.reason
    assert "no formula" in step.reason and "torch.nn.PReLU" in step.reason
    assert "counts 0" in perm.step.reason


def test_symbolic_leaves_opaque_numbers_as_numbers():
    sym = net_of(VITISH).symbolic()
    assert sym["prelu"].params == 32 and sym["prelu"].formula == 32
    assert Integer(32) in sym.total_symbolic.args
    assert sym["cls"].formula == Symbol("u_1", positive=True, integer=True) * \
        Symbol("v_1", positive=True, integer=True)


def test_opaque_takes_several_inputs_and_the_first_shape():
    net = net_of({"name": "o", "input": [8, 8, 3], "layers": [
        {"name": "c", "type": "conv2d", "kernel": 1, "filters": 3},
        {"name": "einsum", "type": "opaque", "op": "ONNX Einsum", "inputs": ["c", "INPUT"]},
        {"name": "grid", "type": "opaque", "op": "ONNX GridSample", "inputs": ["c", "INPUT"],
         "output": [2, 4, 6, 8]}]})
    assert net["einsum"].output_shape == (8, 8, 3)
    assert net["grid"].output_shape == (2, 4, 6, 8)     # any rank our shapes allow


@pytest.mark.parametrize("fields, words", [
    ({"op": "torch.nn.PReLU", "params": -1}, ["params", "≥ 0"]),
    ({"op": "torch.nn.PReLU", "params": 1.5}, ["params", "1.5"]),
    ({"op": "torch.nn.PReLU", "params": True}, ["params"]),
    ({"params": 3}, ["op", "missing"]),
    ({"op": ""}, ["op"]),
    ({"op": "bad\x1b[31m"}, ["op", "control"]),
    ({"op": "x", "output": [1, 2, 3, 4, 5]}, ["output"]),
    ({"op": "x", "output": [0, 3]}, ["output[0]"]),
    ({"op": "x", "output": "big"}, ["output"]),
    ({"op": "x", "params": 3, "non_trainable": 4}, ["non_trainable"]),
])
def test_bad_opaque_fields_are_one_line_errors(fields, words):
    message = error_of({"name": "o", "input": [8], "layers": [
        {"name": "odd", "type": "opaque", **fields}]})
    assert "t.yaml" in message and "odd" in message
    for word in words:
        assert word in message, message


def test_opaque_without_inputs_needs_its_output():
    message = error_of({"name": "o", "input": [8], "layers": [
        {"name": "const", "type": "opaque", "op": "ONNX Shape", "inputs": []},
        {"name": "fc", "type": "dense", "units": 2, "inputs": ["INPUT"]}]})
    assert "output" in message and "const" in message


# ----------------------------------------------------------------- tensor layers

def test_tensor_counts_the_product_of_its_sizes_in_letters():
    net = net_of({"name": "t", "input": ["T", 768], "layers": [
        {"name": "scale", "type": "tensor", "shape": [1, 768]},
        {"name": "mul", "type": "multiply", "inputs": ["INPUT", "scale"]},
        {"name": "pos", "type": "tensor", "shape": ["T", 768], "inputs": []},
        {"name": "sum", "type": "add", "inputs": ["mul", "pos"]}]})
    T = Symbol("T", positive=True, integer=True)
    assert net["scale"].params == 768 and net["scale"].output_shape == (1, 768)
    assert net["pos"].params == 768 * T
    assert net["sum"].output_shape == (T, 768)
    assert str(net["scale"].step.text.equation()) == "u₁ × v₁ = 1 × 768 = 768"
    assert net.subs(T=10).total == 768 * 11
    assert net["scale"].input_shapes in ((), ((),))


def test_tensor_takes_no_input():
    message = error_of({"name": "t", "input": [4], "layers": [
        {"name": "w", "type": "tensor", "shape": [4], "inputs": ["INPUT"]}]})
    assert "no input" in message and "w" in message
    message = error_of({"name": "t", "input": [4], "layers": [
        {"name": "fc", "type": "dense", "units": 2, "inputs": []}]})
    assert "needs an input" in message and "fc" in message


@pytest.mark.parametrize("shape", [[], [1, 2, 3, 4, 5], [0], "T", [1.5]])
def test_bad_tensor_shape_is_one_line(shape):
    message = error_of({"name": "t", "input": [4], "layers": [
        {"name": "w", "type": "tensor", "shape": shape}]})
    assert "shape" in message and "w" in message


# ------------------------------------------------------- broadcasting and concat

def test_add_and_multiply_broadcast_like_numpy():
    net = net_of({"name": "b", "input": {"x": [7, 7, 64], "gate": [1, 1, 64],
                                         "seq": [10, 32], "row": [1, 32], "v": [32]},
                  "layers": [
                      {"name": "mul", "type": "multiply", "inputs": ["x", "gate"]},
                      {"name": "mul2", "type": "multiply", "inputs": ["gate", "x"]},
                      {"name": "add", "type": "add", "inputs": ["seq", "row"]},
                      {"name": "add2", "type": "add", "inputs": ["seq", "v"]}]})
    assert net["mul"].output_shape == (7, 7, 64) == net["mul2"].output_shape
    assert net["add"].output_shape == (10, 32) == net["add2"].output_shape
    import numpy as np
    assert np.broadcast_shapes((1, 1, 64), (7, 7, 64)) == (7, 7, 64)


def test_shapes_that_cannot_broadcast_show_both():
    message = error_of({"name": "b", "input": {"x": [7, 7, 64], "y": [7, 7, 32]}, "layers": [
        {"name": "sum", "type": "add", "inputs": ["x", "y"]}]})
    assert "7 × 7 × 64" in message and "7 × 7 × 32" in message and "sum" in message
    assert "broadcast" in message


def test_concat_axis_on_every_rank():
    net = net_of({"name": "c", "input": {"a": [10, 32], "b": [1, 32], "v": [2, 3, 4, 5]},
                  "layers": [
                      {"name": "tokens", "type": "concat", "axis": 0, "inputs": ["b", "a"]},
                      {"name": "last", "type": "concat", "inputs": ["a", "a"]},
                      {"name": "neg", "type": "concat", "axis": -2, "inputs": ["a", "b"]},
                      {"name": "vol", "type": "concat", "axis": 1, "inputs": ["v", "v"]}]})
    assert net["tokens"].output_shape == (11, 32) == net["neg"].output_shape
    assert net["last"].output_shape == (10, 64)
    assert net["vol"].output_shape == (2, 6, 4, 5)
    assert net["tokens"].shape_steps[0].text.equation() == "L₁ + L₂ = 1 + 10 = 11"
    assert net["tokens"].shape_steps[0].title == "Output length"
    message = error_of({"name": "c", "input": {"a": [10, 32], "b": [1, 16]}, "layers": [
        {"name": "tokens", "type": "concat", "axis": 0, "inputs": ["a", "b"]}]})
    assert "10 × 32" in message and "1 × 16" in message and "length" in message
    message = error_of({"name": "c", "input": {"a": [10, 32], "b": [1, 32]}, "layers": [
        {"name": "tokens", "type": "concat", "axis": 2, "inputs": ["a", "b"]}]})
    assert "axis" in message


# --------------------------------------------------------------- notes, warnings

def test_warnings_are_the_notes_and_each_opaque_layer_with_parameters():
    net = net_of(VITISH)
    assert net.notes == tuple(VITISH["notes"])
    assert net.warnings[0] == VITISH["notes"][0]
    assert len(net.warnings) == 2      # perm holds nothing: no warning
    assert net.warnings[1].startswith("layer 5 prelu (opaque torch.nn.PReLU): 32 parameters")
    assert "counted from the framework, no formula" in net.warnings[1]
    assert load("lenet").warnings == ()


@pytest.mark.parametrize("notes, words", [
    ("just text", None),
    ([1, 2], ["notes", "list of texts"]),
    (["a\nb"], ["notes[0]", "control"]),
    (["x" * 501], ["notes[0]", "500"]),
    (["n"] * 21, ["notes", "20"]),
])
def test_notes_are_checked(notes, words):
    data = {"name": "n", "input": [4], "notes": notes, "layers": [{"type": "dense", "units": 2}]}
    if words is None:
        assert net_of(data).notes == ("just text",)
        return
    message = error_of(data)
    for word in words:
        assert word in message


def test_to_spec_round_trip_keeps_notes_opaque_and_tensor():
    net = net_of(VITISH)
    data = net.to_spec()
    assert data["notes"] == VITISH["notes"]
    by_name = {entry["name"]: entry for entry in data["layers"]}
    assert by_name["cls"] == {"name": "cls", "type": "tensor", "shape": [1, 32], "inputs": []}
    assert by_name["pos"]["trainable"] is False
    assert by_name["prelu"] == {"name": "prelu", "type": "opaque", "op": "torch.nn.PReLU",
                                "params": 32, "non_trainable": 2, "buffers": 5}
    assert by_name["perm"]["output"] == [32, 17]
    again = net_of(data)
    assert [(i.name, i.params, i.non_trainable, i.buffers, i.output_shape) for i in again] == \
        [(i.name, i.params, i.non_trainable, i.buffers, i.output_shape) for i in net]
    assert again.warnings == net.warnings


def test_count_shows_warnings_in_the_table_and_json(vitish_file):
    table = run_cli("count", vitish_file)
    assert table.returncode == 0, table.stderr
    assert "Warning: fx could not trace Foo" in table.stdout
    assert "Warning: layer 5 prelu (opaque torch.nn.PReLU)" in table.stdout
    assert "from the framework" in table.stdout
    data = json.loads(run_cli("count", vitish_file, "--json", "--symbolic").stdout)
    assert data["warnings"] == list(net_of(VITISH).warnings)
    by_name = {layer["name"]: layer for layer in data["layers"]}
    assert by_name["prelu"]["params"] == 32 and by_name["prelu"]["buffers"] == 5
    assert by_name["cls"]["inputs"] == [] and by_name["cls"]["formula"] == "u_1*v_1"
    assert json.loads(run_cli("count", "lenet", "--json").stdout)["warnings"] == []


def test_reports_show_warnings_escaped_near_the_top(tmp_path):
    from symparams.render.dispatch import write_reports
    data = dict(VITISH, notes=["<b>bold</b> & $x_1$ \\textbf{y} *z* 100%"])
    paths = write_reports(net_of(data), ["md", "html", "tex"], tmp_path)
    text = {p.suffix: p.read_text(encoding="utf-8") for p in paths if p.suffix in
            (".md", ".html", ".tex")}
    for suffix, page in text.items():
        first = page.index("Warning")
        assert first < page.index("Conventions"), suffix
        assert page.count("Warning") >= 2 and "torch.nn.PReLU" in page[first:], suffix
    assert "&lt;b&gt;bold&lt;/b&gt; &amp;" in text[".html"] and "<b>bold" not in text[".html"]
    assert "\\textbackslash{}textbf" in text[".tex"] or "\\textbackslash textbf" in text[".tex"]
    assert "\\%" in text[".tex"] and "\\$x\\_1\\$" in text[".tex"]
    assert "\\*z\\*" in text[".md"] and "\\$x" in text[".md"]
    html = net_of(data)._repr_html_()
    assert "Warning:" in html and "&lt;b&gt;bold" in html
    markdown = net_of(data)._repr_markdown_()
    assert "> **Warning:** &lt;b&gt;bold&lt;/b&gt; &amp; \\$x\\_1\\$" in markdown
    assert "torch.nn.PReLU" in markdown


def test_pdf_report_shows_the_warnings(tmp_path):
    pytest.importorskip("weasyprint")
    from symparams.render.dispatch import write_reports
    from pypdf import PdfReader
    [pdf] = write_reports(net_of(VITISH), ["pdf"], tmp_path)
    first = PdfReader(str(pdf)).pages[0].extract_text()
    assert "Warning" in first and "fx could not trace Foo" in first


def test_explain_opaque_and_tensor():
    from symparams import explain
    text = explain("opaque")
    assert "framework" in text and "no formula" in text
    text = explain("tensor")
    assert "product" in text and "u₁ × v₁" in text and "bias" not in text
    from symparams.explore.explain import overview
    rows = {line.split()[0]: line for line in overview().splitlines()[1:]}
    assert "product of its sizes" in rows["tensor"] and "framework" in rows["opaque"]


def test_blocks_hold_tensors_and_opaque_ops():
    net = net_of({"name": "blk", "input": [7, 7, 8], "blocks": {"scaled": {
        "params": {"c": None},
        "layers": [{"type": "conv2d", "name": "conv", "kernel": 1, "filters": "c"},
                   {"type": "tensor", "name": "gamma", "shape": [1, 1, "c"], "inputs": []},
                   {"type": "multiply", "name": "mul", "inputs": ["conv", "gamma"]},
                   {"type": "opaque", "name": "shuffle", "op": "torch.nn.ChannelShuffle"}]}},
        "layers": [{"block": "scaled", "name": "b1", "with": {"c": 8}},
                   {"block": "scaled", "name": "b2", "with": {"c": 4}}]})
    assert net["b1.gamma"].params == 8 and net["b2.gamma"].params == 4
    assert net["b2.mul"].output_shape == (7, 7, 4)
    assert net["b1.shuffle"].layer.op == "torch.nn.ChannelShuffle"
    assert net.total == 72 + 8 + 36 + 4


def test_solve_and_sweep_reach_a_tensor_size():
    net = net_of({"name": "t", "input": [4], "layers": [
        {"name": "table", "type": "tensor", "shape": [10, 32]},
        {"name": "fc", "type": "dense", "units": 2, "inputs": ["INPUT"]}]})
    assert net.subs(u_1=20)["table"].params == 640
    from symparams.explore.solve import solve_for
    assert solve_for(net, "u_1", 650).values == [20]     # 20 × 32 + 10
    rows = net.sweep({"u_1": (1, 2)})
    assert "u_1" in rows.csv_text() and "42" in rows.csv_text()
