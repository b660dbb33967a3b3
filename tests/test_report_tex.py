"""The LaTeX report: compiles with pdflatex, reads like the worked solution, escapes spec text."""
import re
import subprocess
import time
from pathlib import Path

import pytest

from conftest import DOCUMENT_COUNTS, ROOT, run_cli, require_tool

TEMPLATES = ROOT / "templates" / "tex"

EVIL_NAMES = ["<script>alert(1)</script>", "\\input{/etc/passwd}", "\\write18{touch x}",
              "50% & $x_1$ #_{}~^\\"]

EVIL_SPEC = r"""
name: "evil\\net"
title: "50% & $x_1$ #_{}~^\\ <b>"
description: "\\input{/etc/passwd} -- \\write18{touch x} Übung ☃ bell\a"
input: [32, 32, 3]
layers:
  - {type: conv2d, name: "<script>alert(1)</script>", kernel: 5, filters: 8}
  - {type: maxpool2d, name: "\\input{/etc/passwd}", kernel: 2}
  - {type: conv2d, name: "\\write18{touch x}", kernel: 5, filters: 16}
  - {type: maxpool2d, name: "50% & $x_1$ #_{}~^\\", kernel: 2}
  - {type: dense, name: "FC--3", units: 120, activation: Leaky_--ReLU}
  - {type: activation, name: ACT, function: relu}
  - {type: dense, units: 10}
"""


def deep_spec(layers: int = 200) -> str:
    """A long network: stacks of 'same' convolutions with pooling between, then dense layers."""
    lines = ["name: deep", "title: A deep stack of convolutions", "input: [64, 64, 3]",
             "layers:"]
    dense = [512, 256, 128, 64, 10]
    filters, count = 16, 0
    while count < layers - len(dense):
        for _ in range(min(38, layers - len(dense) - count - 1)):
            lines.append(f"  - {{type: conv2d, kernel: 3, filters: {filters}, padding: same}}")
            count += 1
        lines.append("  - {type: maxpool2d, kernel: 2}")
        count += 1
        filters = min(filters * 2, 256)
    lines += [f"  - {{type: dense, units: {units}}}" for units in dense]
    assert count + len(dense) == layers
    return "\n".join(lines) + "\n"


# ------------------------------------------------------------------ helpers

def render_tex(tmp_path: Path, spec, *args) -> Path:
    out = tmp_path / "out"
    result = run_cli("report", spec, "--format", "tex", "-o", out, *args)
    assert result.returncode == 0, result.stderr
    [tex] = out.glob("*.tex")
    return tex


class Compiled:
    def __init__(self, tex: Path, seconds: float):
        pypdf = pytest.importorskip("pypdf")
        self.tex = tex
        self.source = tex.read_text(encoding="utf-8")
        self.log = tex.with_suffix(".log").read_text(encoding="latin-1")
        self.pdf = tex.with_suffix(".pdf")
        self.seconds = seconds
        reader = pypdf.PdfReader(self.pdf)
        self.pages = len(reader.pages)
        self.text = "\n".join(page.extract_text() for page in reader.pages)
        self.fonts = set()
        for page in reader.pages:
            fonts = page.get("/Resources", {}).get("/Font", {})
            for font in fonts.values():
                self.fonts.add(str(font.get_object().get("/Subtype")))

    def squeezed(self) -> str:
        """The PDF text without any whitespace, and without hyphens at line ends."""
        return re.sub(r"\s+", "", re.sub(r"-\n", "", self.text))


def compile_tex(tex: Path) -> Compiled:
    """pdflatex (no shell escape) until longtable's column widths settle; at most 3 runs."""
    pdflatex = require_tool("pdflatex")
    start = time.perf_counter()
    for _ in range(3):
        run = subprocess.run([pdflatex, "-interaction=nonstopmode", "-halt-on-error",
                              "-no-shell-escape", tex.name], cwd=tex.parent,
                             capture_output=True, text=True, timeout=600)
        log = tex.with_suffix(".log").read_text(encoding="latin-1")
        assert run.returncode == 0, log[-4000:]
        if "Rerun" not in log:
            break
    return Compiled(tex, time.perf_counter() - start)


def assert_clean_log(doc: Compiled, limit_pt: float = 20.0) -> None:
    errors = [line for line in doc.log.splitlines() if line.startswith("!")]
    assert not errors, errors
    assert "Missing character" not in doc.log
    overfull = [float(v) for v in re.findall(r"Overfull \\hbox \((\d+(?:\.\d+)?)pt too wide",
                                              doc.log)]
    assert all(v <= limit_pt for v in overfull), overfull
    # Only the Type 1 Computer Modern fonts: no bitmap (Type 3) fallbacks from TS1 or T1.
    assert doc.fonts == {"/Type1"}, doc.fonts


# --------------------------------------------------------- compiled reports

def test_lenet_compiles_to_the_worked_solution(tmp_path):
    tex = render_tex(tmp_path, "lenet")
    doc = compile_tex(tex)
    assert_clean_log(doc)
    text = doc.squeezed()
    for count in DOCUMENT_COUNTS.values():
        assert f"{count:,}" in text
    assert "62,958" in text and "62958" not in text
    # The equations in the document's order and in the document's written form.
    source = doc.source
    assert r"((5 \times 5 \times 3) + 1) \times 8" in source
    assert r"((m_{1} \times n_{1} \times d_{1}) + 1) \times k_{1}" in source
    assert "m_{1}" in source
    assert r"\date{}" in source and r"\today" not in source
    positions = [text.index(f"={count:,}") for count in DOCUMENT_COUNTS.values()]
    assert positions == sorted(positions)
    for step in ["((5×5×3)+1)×8=608", "((5×5×8)+1)×16=3,216", "120×400+1×120=48,120",
                 "84×120+1×84=10,164", "10×84+1×10=850"]:
        assert step in text
    # Summary table, figures and totals are all there.
    assert r"\endhead" in source and r"\begin{longtable}" in source
    assert source.count(r"\begin{picture}") >= 2
    assert "48,120(76.4%)" in text          # the bar chart's label for FC3
    assert "28×28×8" in text                 # a block of the architecture diagram


def test_symbolic_lenet_compiles_without_placeholders(tmp_path):
    tex = render_tex(tmp_path, "lenet", "--symbolic")
    doc = compile_tex(tex)
    assert_clean_log(doc)
    for bad in ("nan", "None", "Symbol("):
        assert bad not in doc.source and bad not in doc.text
    assert r"k_{1} \times \left(C \times m_{1} \times n_{1} + 1\right)" in doc.source  # input C too
    assert "Nobars" in doc.squeezed()             # every count is an expression
    assert "expressionin:" not in doc.squeezed()   # no sentence with an empty list


def test_two_hundred_layers_break_across_pages(tmp_path, write_spec):
    tex = render_tex(tmp_path, write_spec(deep_spec(200)))
    doc = compile_tex(tex)
    assert_clean_log(doc)
    assert doc.pages > 20
    assert "CONV190" in doc.text and "FC5" in doc.text
    assert doc.text.count("Summary, continued") >= 2      # the header repeats on every page
    assert doc.seconds < 120


def test_spec_text_prints_literally_and_runs_nothing(tmp_path, write_spec):
    tex = render_tex(tmp_path, write_spec(EVIL_SPEC))
    doc = compile_tex(tex)
    assert_clean_log(doc, limit_pt=float("inf"))   # any names must compile; layout aside
    text = doc.squeezed()
    for name in EVIL_NAMES:
        assert re.sub(r"\s+", "", name) in text, name
    assert r"50%&$x_1$#_{}~^\<b>" in text          # the title
    assert "FC--3" in text                          # no en dash ligature
    # Nothing ran and nothing was read.
    assert not (tex.parent / "x").exists() and not (tmp_path / "x").exists()
    assert not (ROOT / "x").exists()
    passwd = Path("/etc/passwd")
    if passwd.exists():
        for line in passwd.read_text(errors="replace").splitlines()[:3]:
            assert line not in doc.text
    for raw in (r"\input{/etc/passwd}", r"\write18{", "<script>"):
        assert raw not in doc.source


# ------------------------------------------------------------ no compiler

def test_templates_override_replaces_a_partial(tmp_path):
    mine = tmp_path / "mine" / "tex"
    mine.mkdir(parents=True)
    (mine / "_notes.tex.j2").write_text(
        "\\section*{Notes}\nCUSTOM NOTES \\VAR{report.total} \\VAR{report.name ~ ' 50% & $'}\n")
    tex = render_tex(tmp_path, "lenet", "--templates", tmp_path / "mine")
    source = tex.read_text()
    assert r"CUSTOM NOTES 62,958 lenet 50\% \& \$" in source        # escaped by finalize
    assert r"((5 \times 5 \times 3) + 1) \times 8 = 608" in source   # the rest is ours
    assert "often counted as one layer" not in source


def test_templates_override_of_the_whole_report(tmp_path):
    mine = tmp_path / "mine" / "tex"
    mine.mkdir(parents=True)
    (mine / "report.tex.j2").write_text(
        "\\BLOCK{for step in report.steps}\\VAR{step.name}: \\VAR{step | equation}\n"
        "\\BLOCK{endfor}")
    source = render_tex(tmp_path, "lenet", "--templates", tmp_path / "mine").read_text()
    assert source.startswith("INPUT: \\[")
    assert "CONV1: \\[\n((m_{1} \\times n_{1} \\times d_{1}) + 1) \\times k_{1}" in source


def test_template_errors_are_reported(tmp_path):
    mine = tmp_path / "mine" / "tex"
    mine.mkdir(parents=True)
    (mine / "_notes.tex.j2").write_text("\\VAR{report.no_such_field}")
    result = run_cli("report", "lenet", "--format", "tex", "-o", tmp_path / "out",
                     "--templates", tmp_path / "mine")
    assert result.returncode == 2 and "template error" in result.stderr
    assert not (tmp_path / "out").exists()


def test_output_is_reproducible(tmp_path):
    first = render_tex(tmp_path / "a", "lenet").read_bytes()
    second = render_tex(tmp_path / "b", "lenet").read_bytes()
    assert first == second


def test_compiled_pdf_is_reproducible(tmp_path):
    """No date and no random id in the PDF: two compilations give the same bytes."""
    pdfs = [compile_tex(render_tex(tmp_path / name, "lenet")).pdf.read_bytes()
            for name in ("a", "b")]
    assert pdfs[0] == pdfs[1]


def test_templates_hold_no_arithmetic():
    """Anything computed comes from symparams/render/latex.py; templates only place it."""
    expression = re.compile(r"\\(?:VAR|BLOCK)\{(.*?)\}", re.S)
    arithmetic = re.compile(r"(?<![\w.])\d+\s*[-+*/%]|[-+*/%]\s*\d|\s[-+*/]\s|//|\*\*")
    for path in TEMPLATES.glob("*.j2"):
        for code in expression.findall(path.read_text()):
            code = re.sub(r"""(["']).*?\1""", "''", code)   # string literals
            assert not arithmetic.search(code), (path.name, code)


# ------------------------------------------------------------- the module

def test_escape_leaves_raw_markup_and_escapes_the_rest():
    from symparams.render.common import Raw
    from symparams.render.latex import environment, escape

    assert escape(Raw(r"$x_1$")) == r"$x_1$"
    assert escape(None) == ""
    assert escape("50% & $x_1$") == r"50\% \& \$x\_1\$"
    assert escape("a--b") == "a-{}-b"
    assert escape("é") == r"\'{e}"
    env = environment()
    assert env.variable_start_string == r"\VAR{" and env.block_start_string == r"\BLOCK{"
    assert env.from_string(r"\VAR{x}").render(x="#_") == r"\#\_"
    with pytest.raises(Exception):
        env.from_string(r"\VAR{missing}").render()


def test_long_equations_are_split_in_python():
    from symparams import load
    from symparams.render.latex import LINE_EM, display, math_width, split_top, wrap

    pieces = split_top(r"(a + b) \times c + d - e", (" + ", " - "))
    assert pieces == [r"(a + b) \times c", "+ d", "- e"]
    net = load("lenet")
    short = display(net["CONV1"].step.latex.chain())
    assert short.startswith("\\[") and "608" in short
    total = net.total_step.latex.chain()
    lines = wrap(total[0], 20)
    assert len(lines) > 1 and " ".join(lines) == total[0]
    assert all(math_width(line) <= 20 for line in lines)
    long = display(total, width=LINE_EM)
    assert long.startswith("\\begin{align*}") and "&= 62{,}958" in long


def test_figure_geometry_stays_inside_the_line():
    from symparams import load
    from symparams.render.latex import chart, diagram
    from symparams.render.report import build_report

    report = build_report(load("lenet"))
    for picture in diagram(report) + chart(report).pictures:
        assert picture.startswith(r"\begin{picture}(100,")
        for x, _ in re.findall(r"\\put\(([\d.]+),([\d.]+)\)", picture):
            assert 0 <= float(x) <= 100
    bars = {}
    for picture in chart(report).pictures:
        for length in re.findall(r"\\rule\{([\d.]+)\\unitlength\}", picture):
            bars.setdefault("lengths", []).append(float(length))
    # FC3 has the most parameters and the longest bar; CONV1's is 608/48120 of it.
    longest = max(bars["lengths"])
    assert min(bars["lengths"]) == pytest.approx(longest * 608 / 48120, abs=0.01)
    symbolic = chart(build_report(load("lenet").symbolic()))
    assert not symbolic.pictures and "CONV1" in symbolic.omitted
