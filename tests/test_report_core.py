"""What every report format shares: the report command, atomic writes, templates."""
import os

import pytest

from conftest import run_cli
from symparams import load
from symparams.errors import SymparamsError
from symparams.render.common import atomic_write, percent
from symparams.render.report import build_report, output_stem


def test_report_writes_files_named_after_the_network(tmp_path):
    result = run_cli("report", "lenet", "--format", "md,html", "-o", tmp_path)
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "lenet-chart.svg", "lenet-diagram.svg", "lenet.html", "lenet.md"]
    assert f"wrote {tmp_path / 'lenet.md'}" in result.stdout


def test_unknown_format_is_one_line_exit_2(tmp_path):
    result = run_cli("report", "lenet", "--format", "docx", "-o", tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip() == ("symparams: error: --format: expected md, html, tex, pdf or "
                                     "all (comma-separated), found 'docx'")
    assert not any(tmp_path.iterdir())


def test_output_folder_that_cannot_be_created(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    result = run_cli("report", "lenet", "--format", "md", "-o", blocker / "sub")
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1
    assert "cannot write to this folder" in result.stderr and "Traceback" not in result.stderr
    assert blocker.read_text() == "not a folder"


def test_failed_render_writes_nothing_and_keeps_the_old_report(tmp_path):
    out = tmp_path / "out"
    assert run_cli("report", "lenet", "--format", "md", "-o", out).returncode == 0
    before = (out / "lenet.md").read_bytes()
    broken = tmp_path / "templates" / "html"
    broken.mkdir(parents=True)
    (broken / "report.html.j2").write_text("{% for x in %}")
    result = run_cli("report", "lenet", "--format", "md,html", "-o", out,
                     "--set", "k_1=16", "--templates", tmp_path / "templates")
    assert result.returncode == 2
    assert "template error" in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert (out / "lenet.md").read_bytes() == before  # md rendered fine but was not written
    assert sorted(p.name for p in out.iterdir()) == ["lenet-chart.svg", "lenet-diagram.svg",
                                                     "lenet.md"]


def test_template_override_replaces_a_partial_by_name(tmp_path):
    custom = tmp_path / "mine" / "md"
    custom.mkdir(parents=True)
    (custom / "_totals.md.j2").write_text("CUSTOM TOTAL {{ report.total }}\n")
    assert run_cli("report", "lenet", "--format", "md", "-o", tmp_path,
                   "--templates", tmp_path / "mine").returncode == 0
    text = (tmp_path / "lenet.md").read_text()
    assert "CUSTOM TOTAL 62,958" in text
    assert "((5 \\times 5 \\times 3) + 1) \\times 8 = 608" in text  # the rest is still ours


def test_missing_template_folder(tmp_path):
    result = run_cli("report", "lenet", "--format", "md", "-o", tmp_path,
                     "--templates", tmp_path / "nope")
    assert result.returncode == 2 and "--templates: no such template folder" in result.stderr


def test_atomic_write_leaves_no_partial_file(tmp_path, monkeypatch):
    target = tmp_path / "report.md"
    target.write_text("good")

    def broken_replace(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(SymparamsError, match="No space left on device"):   # one line, no traceback
        atomic_write(target, "new content")
    assert target.read_text() == "good"
    assert [p.name for p in tmp_path.iterdir()] == ["report.md"]


def test_percent_rounds_exactly():
    from sympy import Rational
    assert percent(Rational(48120, 62958)) == "76.4 %"
    assert percent(Rational(1, 8)) == "12.5 %"
    assert percent(Rational(1, 3), decimals=2) == "33.33 %"
    assert percent(None) == ""


def test_report_data_is_ready_for_templates():
    report = build_report(load("lenet"))
    assert [row.params for row in report.rows if row.params != "0"] == \
        ["608", "3,216", "48,120", "10,164", "850"]
    assert report.total == "62,958" and report.is_exact
    assert [str(letter.symbol) for letter in report.letters] == ["m", "n", "d", "k", "c", "p"]
    assert any("backprop" in note for note in report.notes)


def test_output_stem_is_file_system_safe():
    net = load("lenet")
    net.name = "../../etc/evil name"
    assert output_stem(net) == "etc-evil-name"


@pytest.mark.parametrize("fmt", ["md", "html", "tex"])
def test_reports_count_layers_as_the_table_does(fmt):
    """The table numbers the input 0 and lenet's layers 1 … 7: every format says
    '7 layers after the input', never a bare '7 layers' beside an 8-row table."""
    from symparams import Conv2D, Network
    text = {"md": load("lenet").to_markdown, "html": load("lenet").to_html,
            "tex": load("lenet").to_latex}[fmt]()
    assert "7 layers after the input" in text
    one = Network([Conv2D(kernel=3, filters=4)], input=(8, 8, 1), name="one")
    assert "1 layer after the input" in getattr(one, {"md": "to_markdown", "html": "to_html",
                                                      "tex": "to_latex"}[fmt])()


def test_report_templates_do_no_arithmetic():
    """Templates receive ready data (pdoc's rule): no counting or sums in Jinja."""
    import re
    from conftest import ROOT
    for path in (ROOT / "templates").rglob("*.j2"):
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"\|\s*length\s*[-+*/]|[-+*/]\s*1\s*}}", text), path
