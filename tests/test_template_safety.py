"""User templates (--templates): read from the layout we document, errors that name the
file and line, and a sandbox: a template can place values, not run commands or write files."""
import pytest

from conftest import run_cli
from symparams import load
from symparams.errors import SymparamsError


def one_clean_line(result) -> str:
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert len(lines[0]) <= 300, lines[0]
    return lines[0]


def folder_with(tmp_path, files: dict[str, str]):
    folder = tmp_path / "tpl"
    for name, text in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text, encoding="utf-8")
    return folder


def report(tmp_path, templates, fmt="md"):
    return run_cli("report", "lenet", "--format", fmt, "-o", tmp_path / "out",
                   "--templates", templates)


def homework(tmp_path, templates, fmt="md"):
    return run_cli("homework", "lenet", "--variants", "2", "--format", fmt, "--jobs", "1",
                   "--quiet", "-o", tmp_path / "out", "--templates", templates)


# ------------------------------------------------------------------ layout

@pytest.mark.parametrize("flat, expected", [("report.md.j2", "md/report.md.j2"),
                                            ("_step.html.j2", "html/_step.html.j2"),
                                            ("md/answers.md.j2", "homework/md/answers.md.j2")])
def test_a_file_outside_the_layout_is_named_with_where_it_belongs(tmp_path, flat, expected):
    templates = folder_with(tmp_path, {flat: "hello\n"})
    line = one_clean_line(report(tmp_path, templates))
    assert flat in line and expected in line
    assert not (tmp_path / "out").exists()


def test_homework_checks_the_layout_before_drawing(tmp_path):
    templates = folder_with(tmp_path, {"answers.html.j2": "hello\n"})
    line = one_clean_line(homework(tmp_path, templates, "html"))
    assert "homework/html/answers.html.j2" in line
    assert not (tmp_path / "out").exists()


def test_a_folder_without_templates_says_what_it_expected(tmp_path):
    templates = tmp_path / "empty"
    templates.mkdir()
    line = one_clean_line(report(tmp_path, templates))
    assert "md/report.md.j2" in line and "homework/" in line


def test_other_files_in_the_folder_are_allowed(tmp_path):
    templates = folder_with(tmp_path, {"README.md": "notes", "md/report.md.j2": "T {{ report.total }}\n"})
    result = report(tmp_path, templates)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "out" / "lenet.md").read_text(encoding="utf-8") == "T 62,958\n"


# ------------------------------------------------------------------ errors name file and line

@pytest.mark.parametrize("body, line_no", [
    ("ok\n{% if %}\n", 2),                          # syntax
    ("ok\nok\n{{ report.nothing_here.x }}\n", 3),   # undefined at run time
    ("ok\n{{ 1 + 'a' }}\n", 2),                     # a Python error inside the template
])
def test_template_errors_name_the_file_and_line(tmp_path, body, line_no):
    templates = folder_with(tmp_path, {"md/report.md.j2": body})
    line = one_clean_line(report(tmp_path, templates))
    assert "md/report.md.j2" in line and f"line {line_no}" in line
    assert not (tmp_path / "out").exists()


def test_a_template_that_is_not_utf8_is_named_with_its_line(tmp_path):
    templates = tmp_path / "tpl"
    (templates / "md").mkdir(parents=True)
    (templates / "md" / "report.md.j2").write_bytes(b"ok\n\xff\xfe bad\n")
    line = one_clean_line(report(tmp_path, templates))
    assert "md/report.md.j2" in line and "line 2" in line and "UTF-8" in line


def test_a_missing_include_is_named(tmp_path):
    templates = folder_with(tmp_path, {"md/report.md.j2": 'ok\n{% include "md/_nope.md.j2" %}\n'})
    line = one_clean_line(report(tmp_path, templates))
    assert "md/report.md.j2" in line and "line 2" in line and "md/_nope.md.j2" in line


def test_an_error_in_a_partial_names_the_partial(tmp_path):
    templates = folder_with(tmp_path, {"md/_step.md.j2": "x\n{{ step.no_such_thing.y }}\n"})
    line = one_clean_line(report(tmp_path, templates))
    assert "md/_step.md.j2" in line and "line 2" in line


def test_homework_template_errors_name_the_file_and_line(tmp_path):
    templates = folder_with(tmp_path, {"homework/md/answers.md.j2": "a\n{{ sheet.nope.x }}\n"})
    line = one_clean_line(homework(tmp_path, templates))
    assert "homework/md/answers.md.j2" in line and "line 2" in line
    assert not (tmp_path / "out").exists()


# ------------------------------------------------------------------ sandbox

ATTACKS = {
    "shell": "{{ cycler.__init__.__globals__.os.popen('touch PWNED').read() }}",
    "subclasses": "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "write a file": "{{ report.net.to_csv('PWNED') }}",
}


@pytest.mark.parametrize("attack", ATTACKS)
def test_a_template_cannot_run_commands_or_write_files(tmp_path, attack):
    templates = folder_with(tmp_path, {"md/report.md.j2": "a\n" + ATTACKS[attack] + "\n"})
    result = run_cli("report", "lenet", "--format", "md", "-o", tmp_path / "out",
                     "--templates", templates, cwd=tmp_path)
    line = one_clean_line(result)
    assert "md/report.md.j2" in line and "line 2" in line
    assert not (tmp_path / "PWNED").exists() and not (tmp_path / "out").exists()


def test_a_homework_template_cannot_run_commands(tmp_path):
    templates = folder_with(tmp_path, {"homework/md/questions.md.j2": ATTACKS["shell"]})
    result = run_cli("homework", "lenet", "--variants", "2", "--format", "md", "--jobs", "1",
                     "--quiet", "-o", tmp_path / "out", "--templates", templates, cwd=tmp_path)
    one_clean_line(result)
    assert not (tmp_path / "PWNED").exists() and not (tmp_path / "out").exists()


def test_our_templates_render_in_the_sandbox():
    from jinja2.sandbox import SandboxedEnvironment
    from symparams.render import homework, html, latex, markdown
    for env in (markdown.environment(), html.environment(), latex.environment(),
                homework.environment("pdf")):
        assert isinstance(env, SandboxedEnvironment)


def test_api_template_errors_are_symparams_errors(tmp_path):
    from symparams.render.dispatch import write_reports
    templates = folder_with(tmp_path, {"md/report.md.j2": ATTACKS["shell"]})
    with pytest.raises(SymparamsError):
        write_reports(load("lenet"), ["md"], tmp_path / "out", templates=templates)
