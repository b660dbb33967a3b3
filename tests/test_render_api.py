"""Reports from Python: symparams.report(...) and net.to_html(), to_markdown(), to_latex(), to_pdf()."""
from __future__ import annotations

import subprocess
import sys

import pytest

import symparams
from conftest import ROOT
from symparams import SymparamsError, load


@pytest.fixture(scope="module")
def lenet():
    return load("lenet")


def test_report_writes_the_chosen_formats(lenet, tmp_path):
    written = symparams.report(lenet, tmp_path / "out", formats=["pdf", "html"])
    assert sorted(p.name for p in written) == ["lenet.html", "lenet.pdf"]
    assert (tmp_path / "out" / "lenet.pdf").read_bytes().startswith(b"%PDF")
    assert "62,958" in (tmp_path / "out" / "lenet.html").read_text(encoding="utf-8")


def test_report_takes_a_preset_name_and_format_text(tmp_path):
    written = symparams.report("lenet", tmp_path, formats="md,tex")
    assert {p.suffix for p in written} >= {".md", ".tex"}
    assert all(p.is_file() for p in written)


def test_report_refuses_unknown_formats(lenet, tmp_path):
    with pytest.raises(SymparamsError, match="docx"):
        symparams.report(lenet, tmp_path, formats=["docx"])
    assert not any(tmp_path.iterdir())


def test_to_html_returns_the_report_page(lenet):
    page = lenet.to_html()
    assert isinstance(page, str) and page.lstrip().lower().startswith("<!doctype html")
    assert "62,958" in page and "<math" in page


def test_to_markdown_and_to_latex_return_text(lenet):
    md = lenet.to_markdown()
    assert md.startswith("# ") and "62,958" in md and "$$" in md
    tex = lenet.to_latex()
    assert r"\documentclass" in tex and r"\end{document}" in tex


def test_to_pdf_returns_bytes_or_writes_a_file(lenet, tmp_path):
    data = lenet.to_pdf()
    assert data.startswith(b"%PDF")
    path = lenet.to_pdf(tmp_path / "sub" / "x.pdf")
    assert path == tmp_path / "sub" / "x.pdf" and path.read_bytes() == data


def test_to_html_to_a_path_writes_it(lenet, tmp_path):
    path = lenet.to_html(tmp_path / "page.html")
    assert path.read_text(encoding="utf-8") == lenet.to_html()


def test_symbolic_networks_render_too(lenet):
    assert "H" in lenet.symbolic().to_markdown()


def test_convenience_methods_import_render_lazily():
    """Loading a network and counting never imports the renderers (nor WeasyPrint)."""
    code = ("import sys, symparams; net = symparams.load('lenet'); net.total; "
            "print(sorted(m for m in sys.modules if m.startswith(('symparams.render', "
            "'weasyprint'))))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=ROOT, check=True).stdout
    assert out.strip() == "[]"
