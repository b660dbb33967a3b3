"""The count command: table, JSON, substitution and one-line errors."""
import json

import pytest

from conftest import DOCUMENT_COUNTS, DOCUMENT_TOTAL, ROOT, run_cli


@pytest.mark.parametrize("target", ["lenet", "examples/lenet.yaml"])
def test_count_table_shows_the_document_numbers(target):
    result = run_cli("count", target)
    assert result.returncode == 0, result.stderr
    rows = {line.split("│")[2].strip(): line for line in result.stdout.splitlines()
            if line.count("│") > 5}
    for name, count in DOCUMENT_COUNTS.items():
        assert f" {count:,} " in rows[name]
    assert "((5 × 5 × 8) + 1) × 16" in rows["CONV2"]
    assert "Total: 62,958 learnable parameters" in result.stdout
    assert " 62,958 " in rows["total"]


def test_count_json():
    result = run_cli("count", "lenet", "--json")
    data = json.loads(result.stdout)
    assert set(data) == {"name", "input_shape", "layers", "total", "total_symbolic",
                         "convention", "total_trainable", "total_non_trainable", "total_buffers",
                         "warnings"}
    assert data["warnings"] == []
    assert data["total"] == DOCUMENT_TOTAL
    by_name = {layer["name"]: layer for layer in data["layers"]}
    assert {n: by_name[n]["params"] for n in DOCUMENT_COUNTS} == DOCUMENT_COUNTS
    assert by_name["CONV2"]["substituted"] == "((5*5*8) + 1)*16"
    assert by_name["POOL2"]["output_shape"] == [5, 5, 16]
    assert set(by_name["FC3"]) == {"index", "name", "kind", "inputs", "output_shape",
                                   "formula",
                                   "substituted", "params", "trainable", "non_trainable",
                                   "buffers", "shape_formula", "shape_substituted"}


def test_json_symbolic_values_are_strings():
    data = json.loads(run_cli("count", "lenet", "--json", "--symbolic",
                              "--set", "k_1=8", "C=3").stdout)
    assert isinstance(data["total"], str) and "k_2" in data["total"]
    by_name = {layer["name"]: layer for layer in data["layers"]}
    from symparams.spec import parse_expression
    m1, n1 = parse_expression("m_1"), parse_expression("n_1")
    assert parse_expression(by_name["CONV1"]["params"]) == 8 * (3 * m1 * n1 + 1)


def test_set_changes_sizes():
    data = json.loads(run_cli("count", "lenet", "--json", "--set", "k_2=32").stdout)
    by_name = {layer["name"]: layer for layer in data["layers"]}
    assert by_name["CONV2"]["params"] == 6432 and by_name["FC3"]["params"] == 96120


def test_json_output_file(tmp_path):
    out = tmp_path / "lenet.json"
    assert run_cli("count", "lenet", "--json", "-o", out).returncode == 0
    assert json.loads(out.read_text())["total"] == DOCUMENT_TOTAL


BAD_SPECS = {
    "malformed": ("input: [32, 32\nlayers: [", "malformed YAML"),
    "unknown type": ("input: [8, 8, 1]\nlayers:\n  - {type: locallyconnected2d, name: C, kernel: 3, filters: 2}",
                     "layer 1 (C): type: layer type 'locallyconnected2d' is not supported yet"),
    "zero filters": ("input: [8, 8, 1]\nlayers:\n  - {type: conv2d, name: C, kernel: 3, filters: 0}",
                     "layer 1 (C): filters: expected a positive whole number, found 0"),
    "missing size": ("input: [8, 8, 1]\nlayers:\n  - {type: dense, name: D}",
                     "layer 1 (D): units: missing"),
    "float size": ("input: [8, 8, 1]\nlayers:\n  - {type: dense, name: D, units: 2.5}",
                   "layer 1 (D): units: expected a whole number"),
    "kernel too big": ("input: [8, 8, 1]\nlayers:\n  - {type: conv2d, name: C, kernel: 3, filters: 2}\n"
                       "  - {type: maxpool2d, name: P, kernel: 7}",
                       "layer 2 (P): kernel: the 7 × 7 window does not fit"),
    "zero stride": ("input: [8, 8, 1]\nlayers:\n  - {type: conv2d, name: C, kernel: 3, filters: 2, stride: 0}",
                    "layer 1 (C): stride: expected a positive whole number, found 0"),
    "call": ("input: [8, 8, 1]\nlayers:\n  - {type: dense, name: D, units: 'open(1)'}",
             "layer 1 (D): units: call to 'open' is not allowed"),
    "attribute": ("input: [8, 8, 1]\nlayers:\n  - {type: dense, name: D, units: 'a.b'}",
                  "layer 1 (D): units: only whole numbers"),
    "subscript": ("input: [8, 8, 1]\nlayers:\n  - {type: dense, name: D, units: 'a[1]'}",
                  "layer 1 (D): units: unexpected character '['"),
    "string literal": ("input: [8, 8, 1]\nlayers:\n  - {type: dense, name: D, units: '\"x\"'}",
                       "layer 1 (D): units: unexpected character"),
    "negative input": ("input: [-8, 8, 1]\nlayers:\n  - {type: dense, units: 2}",
                       "input[0]: expected a positive whole number"),
    "no layers": ("input: [8, 8, 1]\nlayers: []", "layers: expected a non-empty list"),
    "unknown top field": ("input: [8, 8, 1]\nlayer: []", "layer: unknown top-level field"),
}


@pytest.mark.parametrize("case", sorted(BAD_SPECS))
def test_bad_specs_get_one_clean_line(case, write_spec):
    text, expected = BAD_SPECS[case]
    spec = write_spec(text)
    result = run_cli("count", spec)
    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"symparams: error: {spec}: ")
    assert expected in lines[0]


@pytest.mark.parametrize("args, expected", [
    (("--set", "x=3"), "unknown size 'x'"),
    (("--set", "k_1"), "expected NAME=VALUE"),
    (("--set", "k_1=__import__('os')"), "k_1: unexpected character"),
    (("--set", "k_1=0"), "expected a positive whole number"),
])
def test_bad_set_values(args, expected):
    result = run_cli("count", "lenet", *args)
    assert result.returncode == 2
    assert expected in result.stderr and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_missing_file_and_json_and_toml(tmp_path):
    result = run_cli("count", tmp_path / "nope.yaml")
    assert result.returncode == 2 and "no such file or preset" in result.stderr
    data = json.loads(run_cli("count", "lenet", "--json").stdout)
    spec = {"name": "j", "input": [32, 32, 3],
            "layers": [{"type": "conv2d", "kernel": 5, "filters": 8}, {"type": "dense", "units": 10}]}
    (tmp_path / "net.json").write_text(json.dumps(spec))
    (tmp_path / "net.toml").write_text('name = "t"\ninput = [32, 32, 3]\n[[layers]]\ntype = "conv2d"\n'
                                       'kernel = 5\nfilters = 8\n[[layers]]\ntype = "dense"\nunits = 10\n')
    totals = [json.loads(run_cli("count", tmp_path / f, "--json").stdout)["total"]
              for f in ("net.json", "net.toml")]
    assert totals == [608 + 28 * 28 * 8 * 10 + 10] * 2
    assert data["total"] == DOCUMENT_TOTAL


def test_help_for_every_command():
    for args in ([], ["count"], ["presets"]):
        result = run_cli(*args, "--help")
        assert result.returncode == 0 and "usage: symparams" in result.stdout


def test_presets_lists_lenet():
    result = run_cli("presets")
    assert "lenet" in result.stdout and "62,958" in result.stdout
