"""Homework sheets: the question sheet gives nothing away, the answer key shows it all,
every format is reproducible, and text from a template is escaped."""
import io
import re
import subprocess
import sys
from pathlib import Path

import pytest
from pypdf import PdfReader

from conftest import ROOT, require_tool
from symparams.errors import SymparamsError
from symparams.homework.build import load_template, make_variants
from symparams.homework.questions import real_counts
from symparams.render.homework import FORMATS, KINDS, build_sheet, render_sheet

HOSTILE = ["<script>alert(1)</script>", "\\input{/etc/passwd}", "50% & $x_1$ #_{}~^\\"]


@pytest.fixture(scope="module")
def variants():
    template, plan = load_template("lenet")
    return make_variants(template, plan, 3, 1)


@pytest.fixture(scope="module")
def pdfs(variants):
    return {(v.id, kind): render_sheet(v, kind, "pdf") for v in variants for kind in KINDS}


def pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def numbers(text: str) -> set[int]:
    """Every whole number in the text; 12,345 (or with a thin space) counts as 12345."""
    text = re.sub(r"(?<=\d)[,\u2009\u202f](?=\d{3}(?!\d))", "", text)
    return {int(n) for n in re.findall(r"\d+", text)}


def body(text: str, fmt: str) -> str:
    """What a sheet shows: the document body, without styles or preamble."""
    if fmt == "tex":
        return text.split("\\begin{document}", 1)[1]
    if fmt == "html":
        return re.sub(r"<style>.*?</style>", "", text, flags=re.S)
    return text


def test_numbers_reads_both_spellings():
    assert numbers("1,216 and 12832, 5 × 5; 3,1") == {1216, 12832, 5, 3, 1}


# ------------------------------------------------------------ what sheets show

def test_answer_key_pdf_shows_every_count_the_seed_and_the_variant(variants, pdfs):
    for variant in variants:
        text = pdf_text(pdfs[variant.id, "answers"])
        found = numbers(text)
        counts = [int(info.params) for info in variant.net.layers[1:]] + [int(variant.net.total)]
        missing = [c for c in counts if c not in found]
        assert not missing, (variant.id, missing)
        assert f"seed {variant.seed}" in text and variant.id in text
        assert "Answer key" in text and "Worked solution" in text


def test_question_sheet_pdf_shows_no_real_count(variants, pdfs):
    for variant in variants:
        text = pdf_text(pdfs[variant.id, "questions"])
        assert not numbers(text) & real_counts(variant.net), variant.id
        assert f"seed {variant.seed}" in text and variant.id in text
        assert "Question sheet" in text
        # The network's settings are there: every layer's name, and the input shape.
        assert all(info.name in text for info in variant.net.layers[1:])


@pytest.mark.parametrize("fmt", ["md", "html", "tex"])
def test_question_sheet_text_formats_show_no_real_count(variants, fmt):
    """Including the math (the classmate's steps), which the PDF draws as outlines."""
    for variant in variants:
        text = body(render_sheet(variant, "questions", fmt), fmt)
        assert not numbers(text) & real_counts(variant.net), (variant.id, fmt)
        assert f"seed {variant.seed}" in text and variant.id in text


@pytest.mark.parametrize("fmt", ["md", "html", "tex"])
def test_answer_key_text_formats_show_every_count_and_shape(variants, fmt):
    variant = variants[0]
    text = render_sheet(variant, "answers", fmt)
    assert real_counts(variant.net) <= numbers(body(text, fmt))
    assert f"seed {variant.seed}" in text and variant.id in text
    for question in variant.questions:
        if question.type == "shapes" and fmt != "tex":   # LaTeX spells × as $\times$
            assert question.answer in text


def test_question_sheet_shows_no_shapes_and_no_answers(variants):
    variant = variants[0]
    for fmt in ("md", "html"):
        text = body(render_sheet(variant, "questions", fmt), fmt)
        for info in variant.net.layers[1:]:
            if len(info.output_shape) == 3:   # a feature map: its shape is an answer
                shape = " × ".join(str(v) for v in info.output_shape)
                assert shape not in text, (fmt, shape)
        assert "Answer key" not in text and "Worked solution" not in text
    # Nor does the data a (user's) question template receives.
    sheet = build_sheet(variant, "questions")
    assert not sheet.solution and sheet.total_step is None and not sheet.total
    assert all(not row.shape and not row.params for row in sheet.rows)
    assert all(not item.answer and item.answer_math is None and not item.worked
               for group in sheet.groups for item in group.items)


def test_every_question_is_numbered_once_with_its_points(variants):
    variant = variants[0]
    sheet = build_sheet(variant, "questions")
    items = [item for group in sheet.groups for item in group.items]
    assert [item.number for item in items] == list(range(1, len(variant.questions) + 1))
    assert sorted(item.id for item in items) == sorted(q.id for q in variant.questions)
    assert sheet.points == sum(q.points for q in variant.questions)
    html = render_sheet(variant, "questions", "html")
    for item in items:
        assert f'id="q{item.number}"' in html
    # Grouped by type, in the order of the template's plan.
    assert [g.type for g in sheet.groups] == ["params", "shapes", "find-error", "backwards",
                                              "symbolic"]


def test_find_error_shows_the_classmates_steps_on_the_question_sheet(variants):
    variant = variants[0]
    shown = next(q.shown for q in variant.questions if q.type == "find-error")
    text = render_sheet(variant, "questions", "md")
    for step in shown:
        assert step.latex.equation() in text      # formula = substituted = result
    assert text.count(shown[0].latex.equation()) == 1   # shown once for both questions


def test_answer_key_shows_the_network_solution_once(variants):
    variant = variants[0]
    text = render_sheet(variant, "answers", "md")
    for info in variant.net.layers[1:]:
        if info.step.has_formula:
            assert text.count(info.step.latex.equation()) == 1, info.name
    assert text.count(variant.net.total_step.latex.equation()) == 1
    assert "Worked out in the worked solution of the network" in text


def test_html_has_no_script(variants):
    for kind in KINDS:
        html = render_sheet(variants[0], kind, "html")
        assert "<script" not in html.lower()
        assert "<math" in html                      # MathML on screen


def test_unknown_kind_or_format(variants):
    with pytest.raises(SymparamsError):
        render_sheet(variants[0], "solutions", "md")
    with pytest.raises(SymparamsError):
        render_sheet(variants[0], "answers", "docx")


# ------------------------------------------------------------- reproducibility

def test_rendering_twice_gives_identical_bytes(variants, pdfs):
    variant = variants[1]
    for kind in KINDS:
        for fmt in FORMATS:
            first = pdfs[variant.id, kind] if fmt == "pdf" else render_sheet(variant, kind, fmt)
            assert render_sheet(variant, kind, fmt) == first, (kind, fmt)
        assert b"CreationDate" not in pdfs[variant.id, kind]
        assert b"ModDate" not in pdfs[variant.id, kind]


def test_a_fresh_process_gives_the_same_pdf(variants, pdfs, tmp_path):
    """Caches (fonts, formulas, templates) warm in this process change no byte."""
    out = tmp_path / "answers.pdf"
    code = ("import sys; from symparams.homework.build import load_template, make_variants; "
            "from symparams.render.homework import render_sheet; "
            "t, p = load_template('lenet'); v = make_variants(t, p, 3, 1)[2]; "
            f"open({str(out)!r}, 'wb').write(render_sheet(v, 'answers', 'pdf'))")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT, timeout=300)
    assert out.read_bytes() == pdfs[variants[2].id, "answers"]


# ------------------------------------------------------------------- pdflatex

def compile_tex(tex: str, folder: Path) -> str:
    pdflatex = require_tool("pdflatex")
    path = folder / "sheet.tex"
    path.write_text(tex, encoding="utf-8")
    for _ in range(3):
        run = subprocess.run([pdflatex, "-interaction=nonstopmode", "-halt-on-error",
                              "-no-shell-escape", path.name], cwd=folder,
                             capture_output=True, text=True, timeout=600)
        log = path.with_suffix(".log").read_text(encoding="latin-1")
        assert run.returncode == 0, log[-3000:]
        if "Rerun" not in log:
            break
    assert not [line for line in log.splitlines() if line.startswith("!")]
    assert "Missing character" not in log
    return log


@pytest.mark.parametrize("kind", KINDS)
def test_tex_compiles_with_pdflatex(variants, kind, tmp_path):
    compile_tex(render_sheet(variants[0], kind, "tex"), tmp_path)
    assert (tmp_path / "sheet.pdf").stat().st_size > 0


# --------------------------------------------------------------------- escaping

HOSTILE_TEMPLATE = """\
name: hostile
title: {title}
input: [32, 32, 3]
layers:
  - {{type: conv2d, name: {n0}, kernel: 5, filters: {{range: [4, 8], step: 4}}}}
  - {{type: maxpool2d, name: {n1}, kernel: 2}}
  - {{type: dense, name: {n2}, units: {{choice: [10, 20]}}}}
questions:
  - {{type: params, points: 1}}
  - {{type: shapes, points: 1}}
  - {{type: find-error, points: 2}}
"""


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    quote = lambda s: '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'  # noqa: E731
    path = tmp_path_factory.mktemp("hostile") / "hostile.yaml"
    path.write_text(HOSTILE_TEMPLATE.format(title=quote(" ".join(HOSTILE)),
                                            n0=quote(HOSTILE[0]), n1=quote(HOSTILE[1]),
                                            n2=quote(HOSTILE[2])), encoding="utf-8")
    template, plan = load_template(str(path))
    variant = make_variants(template, plan, 1, 7)[0]
    assert variant.spec["title"].startswith("<script>")
    return variant


@pytest.mark.parametrize("kind", KINDS)
def test_hostile_text_is_escaped_in_html(hostile, kind):
    html = render_sheet(hostile, kind, "html")
    assert "<script" not in html.lower()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "50% &amp; $x_1$ #_{}~^\\" in html


@pytest.mark.parametrize("kind", KINDS)
def test_hostile_text_is_escaped_in_markdown(hostile, kind):
    md = render_sheet(hostile, kind, "md")
    assert "<script" not in md.lower() and "&lt;script&gt;" in md
    assert "$x_1$" not in md and "\\$x\\_1\\$" in md
    assert "\\input\\{/etc/passwd\\}" in md or "\\\\input\\{/etc/passwd\\}" in md


@pytest.mark.parametrize("kind", KINDS)
def test_hostile_text_is_escaped_in_tex_and_compiles(hostile, kind, tmp_path):
    tex = render_sheet(hostile, kind, "tex")
    assert "\\input{/etc/passwd}" not in tex
    assert "$x_1$" not in tex and "50\\% \\&" in tex
    assert "\\textbackslash{}input\\{/etc/passwd\\}" in tex
    log = compile_tex(tex, tmp_path)
    assert "/etc/passwd" not in log.replace("\\{/etc/passwd\\}", "")


def test_hostile_text_pdf_renders(hostile):
    pdf = render_sheet(hostile, "answers", "pdf")
    text = pdf_text(pdf)
    assert "<script>alert(1)</script>" in text


# ------------------------------------------------------------------ templates

def test_a_users_template_replaces_ours_by_name(variants, tmp_path):
    folder = tmp_path / "homework" / "md"
    folder.mkdir(parents=True)
    (folder / "_header.md.j2").write_text("# {{ sheet.title }} ({{ sheet.variant }})\n",
                                          encoding="utf-8")
    text = render_sheet(variants[0], "questions", "md", templates=tmp_path)
    assert text.startswith(f"# Parameters of a LeNet-style CNN ({variants[0].id})\n")
    assert "## The network" in text       # the rest is still ours


# --------------------------------------------------------------------- speed

def test_a_template_may_not_make_the_pdf_load_files(variants, tmp_path):
    folder = tmp_path / "homework" / "html"
    folder.mkdir(parents=True)
    page = (ROOT / "templates" / "homework" / "html" / "_page.html.j2").read_text("utf-8")
    (folder / "_page.html.j2").write_text(
        page.replace("</head>", '<link rel="stylesheet" href="file:///etc/passwd"></head>'),
        encoding="utf-8")
    with pytest.raises(SymparamsError, match="only use files shipped with symparams"):
        render_sheet(variants[0], "questions", "pdf", templates=tmp_path)
