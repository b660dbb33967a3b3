"""Docs you can run: examples/explore.ipynb executed with nbclient and its outputs
checked, and ``make docs`` building the API reference with pdoc.

The notebook runs in a kernel of this very interpreter (a kernelspec written to a
temporary folder), so it sees the symparams under test. Cells are found by their
tags, not their position.
"""
from __future__ import annotations

import json
import re
import subprocess
import sys
import xml.etree.ElementTree as ET

import pytest

from conftest import IN_CI, ROOT, require_tool
from symparams import load

NOTEBOOK = ROOT / "examples" / "explore.ipynb"
MATHML = "{http://www.w3.org/1998/Math/MathML}math"


def need(module: str):
    """Import a test dependency; skip without it, except in CI where it must be there."""
    try:
        return __import__(module)
    except ImportError:
        message = f"{module} is not installed (pip install -e '.[test]')"
        if IN_CI:
            pytest.fail(f"CI=true but {message}")
        pytest.skip(message)


@pytest.fixture(scope="module")
def executed(tmp_path_factory):
    """The notebook after a full run, as {tag: cell}."""
    nbformat = need("nbformat")
    need("nbclient")
    need("ipykernel")
    from jupyter_client.kernelspec import KernelSpecManager
    from jupyter_client.manager import KernelManager
    from nbclient import NotebookClient

    kernels = tmp_path_factory.mktemp("kernels")
    spec = kernels / "symparams-test"
    spec.mkdir()
    (spec / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "symparams tests", "language": "python"}), encoding="utf-8")
    manager = KernelManager(kernel_name="symparams-test",
                            kernel_spec_manager=KernelSpecManager(kernel_dirs=[str(kernels)]))
    nb = nbformat.read(NOTEBOOK, as_version=4)
    client = NotebookClient(nb, km=manager, timeout=600, allow_errors=False,
                            resources={"metadata": {"path": str(NOTEBOOK.parent)}})
    client.execute()  # raises CellExecutionError on the first failing cell
    cells = {}
    for cell in nb.cells:
        for tag in cell.get("metadata", {}).get("tags", []):
            cells[tag] = cell
    return cells


def data(cell, mime: str) -> str:
    found = [o["data"][mime] for o in cell["outputs"] if mime in o.get("data", {})]
    assert found, f"no {mime} output in cell {cell['metadata'].get('tags')}: {cell['outputs']}"
    return found[-1]


def stream(cell) -> str:
    return "".join(o["text"] for o in cell["outputs"] if o["output_type"] == "stream")


def test_committed_notebook_has_no_outputs():
    nb = json.loads(NOTEBOOK.read_text(encoding="utf-8"))
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    assert code and all(not c["outputs"] and c["execution_count"] is None for c in code)


def test_no_cell_fails_and_none_warns(executed):
    for tag, cell in executed.items():
        assert not [o for o in cell["outputs"] if o["output_type"] == "error"], tag
        assert not [o for o in cell["outputs"]
                    if o["output_type"] == "stream" and o["name"] == "stderr"], tag


def test_network_html_is_mathml_with_the_total(executed):
    html = data(executed["network-html"], "text/html")
    root = ET.fromstring(html)
    assert root.findall(f".//{MATHML}") and "<script" not in html
    assert "62,958" in html and "3,216" in html
    assert data(executed["network-html"], "text/plain") == "<Network 'lenet': 8 layers (0 INPUT … 7 SOFTMAX), total 62958>"
    symbolic = data(executed["symbolic-html"], "text/html")
    assert "<mi>H</mi>" in symbolic and "Free sizes: H" in symbolic


def test_repr_and_str(executed):
    assert "<Network 'lenet': 8 layers (0 INPUT … 7 SOFTMAX), total 62958>" in data(executed["repr"], "text/plain")
    text = stream(executed["str"])
    assert text.splitlines()[0] == "lenet: input 32 × 32 × 3"
    assert "= ((5 × 5 × 8) + 1) × 16 = 3216" in text and "total = 62958" in text


def test_layer_latex_parses_back_to_the_same_expression(executed):
    """Each face of the LaTeX output, parsed by SymPy's LaTeX parser, is the layer's
    formula, its value and its result."""
    latex = data(executed["layer-latex"], "text/latex")
    assert latex.startswith("$\\displaystyle ") and latex.endswith("$")
    formula, substituted, result = latex[len("$\\displaystyle "):-1].split(" = ")
    need("lark")
    from sympy import Symbol
    from sympy.parsing.latex import parse_latex
    info = load("lenet")["CONV2"]
    parsed = parse_latex(formula, backend="lark")
    renamed = parsed.xreplace({s: Symbol(re.sub(r"_\{(\d+)\}", r"_\1", s.name),
                                         positive=True, integer=True)
                               for s in parsed.free_symbols})
    assert renamed == info.formula
    assert parse_latex(substituted, backend="lark") == info.params == 3216
    assert int(result) == 3216
    total = data(executed["total-latex"], "text/latex")
    assert total.endswith("= 62958$")


def test_pprint_records_and_csv(executed):
    assert "k₁⋅(d₁⋅m₁⋅n₁ + 1)" in stream(executed["pprint"])
    records = data(executed["records"], "text/plain")
    assert records.startswith("(62958,") and "'params': 608" in records
    csv_text = stream(executed["csv"])
    assert csv_text.splitlines()[0] == ("index,name,kind,output_shape,formula,substituted,params,"
                                        "trainable,non_trainable,buffers")
    assert ",total,,,,,62958" in csv_text


def test_letters_as_objects(executed):
    assert "'k_1': k_1" in data(executed["symbols"], "text/plain")
    assert data(executed["subs"], "text/plain") == "(608, 121182, 62958)"
    assert data(executed["free"], "text/plain") == "(476*k_1 + 59150, 476, [8])"
    assert data(executed["lambdify"], "text/plain") == \
        "(40*(floor(H/2) - 1)**2 + 50, [410, 2010, 9050], 9050)"


def test_solve_explain_growth_diff(executed):
    assert data(executed["solve"], "text/plain") == "([8], [8], [120])"
    assert data(executed["max-value"], "text/plain") == "(16, 15)"
    heights = json.loads(data(executed["solve-floors"], "text/plain"))
    assert 32 in heights and len(heights) > 1
    assert "((m × n × d) + 1) × k" in stream(executed["explain"])
    assert "2400·H" in stream(executed["growth"])
    diff = stream(executed["diff"])
    for number in ("3,216", "6,432", "48,120", "96,120", "114,174"):
        assert number in diff


def test_sweep_and_plots(executed):
    assert data(executed["sweep"], "text/plain").startswith("([61054, 62958, 64862, 66766],")
    for tag in ("sweep-plot", "grid-plot"):
        svg = data(executed[tag], "image/svg+xml")
        assert "<svg" in svg and "<script" not in svg
    assert "(16 points)" in data(executed["sweep-plot"], "text/plain")
    files = executed["sweep-files"]
    assert "4,304,1616,48120,10164,850,61054" in stream(files)
    assert data(files, "text/plain") == "(119999999997120000000032238, 'int')"


# ------------------------------------------------------------------ make docs

@pytest.mark.slow
def test_make_docs_builds_the_api_reference(tmp_path):
    need("pdoc")
    make = require_tool("make")
    out = tmp_path / "api"
    # -o: the venv step is make's business, not the test's; PY: this interpreter.
    result = subprocess.run([make, "-s", "-o", ".venv/.docs-deps", "docs", f"API_DIR={out}",
                             f"PY={sys.executable}"], cwd=ROOT, capture_output=True, text=True,
                            timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    pages = {p.relative_to(out).as_posix() for p in out.rglob("*.html")}
    for page in ("index.html", "symparams.html", "symparams/network.html",
                 "symparams/explore/sweep.html", "symparams/render/plot.html"):
        assert page in pages
    network = (out / "symparams" / "network.html").read_text(encoding="utf-8")
    assert 'id="Network.to_records"' in network and 'id="Network.sweep"' in network
    for page in out.rglob("*.html"):
        text = page.read_text(encoding="utf-8")
        assert not re.search(r'<(script|link|img)[^>]+(src|href)="https?://', text), page
