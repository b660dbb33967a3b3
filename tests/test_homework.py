"""symparams homework: the layout, independent recounts, reproducibility, bad input."""
import csv
import hashlib
import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import yaml
from pypdf import PdfReader

from conftest import run_cli
from symparams import load
from symparams.homework.build import load_template, make_variants
from symparams.homework.questions import real_counts
from symparams.spec import parse_expression
from test_properties import recount

N = 20


@pytest.fixture(scope="module")
def homework(tmp_path_factory):
    out = tmp_path_factory.mktemp("hw") / "homework"
    result = run_cli("homework", "lenet", "--variants", N, "--seed", 1, "-o", out, "--jobs", 2)
    assert result.returncode == 0, result.stderr
    # No progress bar when stderr is not a terminal; one line says what Moodle misses.
    assert result.stderr.splitlines() == [
        f"symparams: note: moodle.xml leaves out {N} symbolic (expression) questions "
        "(symbolic.total …): Moodle cannot compare expressions; grade them with "
        "symparams grade"]
    return out


def test_no_note_when_moodle_holds_every_question_or_quiet(tmp_path):
    vgg = run_cli("homework", "vgg-small", "--variants", 2, "-o", tmp_path / "a",
                  "--format", "md")
    assert vgg.returncode == 0 and vgg.stderr == ""          # no symbolic questions
    quiet = run_cli("homework", "lenet", "--variants", 2, "-o", tmp_path / "b",
                    "--format", "md", "--quiet")
    assert quiet.returncode == 0 and quiet.stderr == "" and quiet.stdout == ""


def digests(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def pdf_numbers(path: Path) -> set[int]:
    text = "".join(page.extract_text() for page in PdfReader(path).pages)
    text = re.sub(r"(?<=\d)[,\u2009\u202f ](?=\d{3}\b)", "", text)
    return {int(n) for n in re.findall(r"\d+", text)}


def test_layout(homework):
    manifest = json.loads((homework / "manifest.json").read_text())
    assert manifest["template"] == "lenet" and manifest["seed"] == 1
    ids = [v["id"] for v in manifest["variants"]]
    assert ids == [f"variant-{i:02d}" for i in range(1, N + 1)]
    for vid in ids:
        for name in ("spec.yaml", "questions.pdf", "answers.pdf", "questions.html",
                     "answers.html"):
            assert (homework / vid / name).is_file(), (vid, name)
    assert {p.name for p in homework.iterdir()} == {"manifest.json", "answers.csv",
                                                    "moodle.xml", *ids}


def test_manifest_answers_match_an_independent_recount(homework):
    manifest = json.loads((homework / "manifest.json").read_text())
    for entry in manifest["variants"]:
        spec = yaml.safe_load((homework / entry["spec"]).read_text())
        rows = recount(spec)[1:]
        layers = entry["answers"]["layers"]
        assert [layer["params"] for layer in layers] == [params for params, _ in rows]
        assert [tuple(layer["output_shape"]) for layer in layers] == [shape for _, shape in rows]
        assert entry["answers"]["total"] == sum(params for params, _ in rows)


def test_variants_are_distinct(homework):
    specs = [yaml.safe_load((homework / f"variant-{i:02d}" / "spec.yaml").read_text())
             for i in range(1, N + 1)]
    bodies = {json.dumps({"input": s["input"], "layers": s["layers"]}) for s in specs}
    assert len(bodies) == N


def test_spec_yaml_is_a_normal_spec(homework):
    result = run_cli("count", homework / "variant-03" / "spec.yaml", "--json")
    manifest = json.loads((homework / "manifest.json").read_text())
    assert json.loads(result.stdout)["total"] == manifest["variants"][2]["answers"]["total"]


def test_answer_keys_show_the_counts_and_question_sheets_do_not(homework):
    manifest = json.loads((homework / "manifest.json").read_text())
    for entry in manifest["variants"]:
        counts = {layer["params"] for layer in entry["answers"]["layers"] if layer["params"]}
        counts.add(entry["answers"]["total"])
        answers = pdf_numbers(homework / entry["id"] / "answers.pdf")
        questions = pdf_numbers(homework / entry["id"] / "questions.pdf")
        assert counts <= answers, entry["id"]
        assert not counts & questions, entry["id"]
        assert 1 in questions and 1 in answers  # the seed is printed on every sheet


def test_answers_csv_matches_the_manifest(homework):
    manifest = json.loads((homework / "manifest.json").read_text())
    with open(homework / "answers.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    expected = [(v["id"], q["id"], str(q["answer"])) for v in manifest["variants"]
                for q in v["questions"]]
    assert [(r["variant"], r["question"], r["answer"]) for r in rows] == expected


def test_moodle_totals_are_full_marks(homework):
    manifest = json.loads((homework / "manifest.json").read_text())
    root = ET.parse(homework / "moodle.xml").getroot()
    category = root.find("question[@type='category']/category/text").text
    assert category.endswith("lenet")
    totals = {}
    for question in root.findall("question[@type='numerical']"):
        name = question.find("name/text").text
        if name.endswith("params.total"):
            answer = question.find("answer[@fraction='100']")
            assert answer.find("tolerance").text == "0"
            totals[name.split()[0]] = int(answer.find("text").text)
    assert totals == {v["id"]: v["answers"]["total"] for v in manifest["variants"]}


def test_same_seed_same_bytes_other_seed_other_specs(homework, tmp_path):
    again = tmp_path / "again"
    assert run_cli("homework", "lenet", "--variants", N, "--seed", 1, "-o", again,
                   "--jobs", 1).returncode == 0
    assert digests(again) == digests(homework)  # also: --jobs 1 equals --jobs 2
    other = tmp_path / "other"
    assert run_cli("homework", "lenet", "--variants", 3, "--seed", 2, "-o", other,
                   "--format", "md").returncode == 0
    first = (homework / "variant-01" / "spec.yaml").read_text()
    assert (other / "variant-01" / "spec.yaml").read_text() != first


def test_find_error_plants_exactly_one_mistake_in_the_stated_layer():
    template, plan = load_template("lenet")
    for variant in make_variants(template, plan, 10, seed=5):
        question = next(q for q in variant.questions if q.id == "find-error.layer")
        value = next(q for q in variant.questions if q.id == "find-error.value")
        names = [info.name for info in question.network.layers]
        truth = dict(zip(names, (params for params, _ in recount(question.network.to_spec()))))
        differing = [step.name for step in question.shown if step.result != truth[step.name]]
        assert differing == [question.answer]
        assert value.answer == truth[question.answer]
        assert value.answer not in real_counts(variant.net)


def test_backwards_answer_is_the_only_positive_solution():
    template, plan = load_template("lenet")
    for variant in make_variants(template, plan, 10, seed=3):
        for question in variant.questions:
            if question.type != "backwards":
                continue
            equation = question.worked[0].formula
            expr, target = equation.lhs.doit(), int(equation.rhs)
            unknown = next(iter(expr.free_symbols))
            hits = [x for x in range(1, 1000) if expr.xreplace({unknown: x}) == target]
            assert hits == [question.answer]


def test_symbolic_answer_is_the_total_in_letters():
    template, plan = load_template("lenet")
    variant = make_variants(template, plan, 1, seed=9)[0]
    question = next(q for q in variant.questions if q.type == "symbolic")
    expr = parse_expression(question.answer)
    values = {s: variant.net.symbols[s.name] for s in expr.free_symbols}
    filled = expr.xreplace({s: variant.net[f"CONV{s.name[-1]}"].values[variant.net.symbols[s.name]]
                            for s in expr.free_symbols})
    assert filled == variant.net.total and values


def test_grade_command(homework, tmp_path):
    manifest = json.loads((homework / "manifest.json").read_text())
    first = manifest["variants"][0]
    total = first["answers"]["total"]
    responses = tmp_path / "responses.csv"
    responses.write_text(
        "student,variant,question,answer\n"
        f"ada,variant-01,params.total,\"{total:,}\"\n"
        f"bob,variant-01,params.total,{total + 1}\n"
        f"cy,variant-01,params.total,{str(total)[:-3]} {str(total)[-3:]}\n")
    scores = tmp_path / "scores.csv"
    result = run_cli("grade", homework, responses, "-o", scores)
    assert result.returncode == 0, result.stderr
    with open(scores, newline="") as handle:
        rows = {r["student"]: r for r in csv.DictReader(handle)}
    points = next(q["points"] for q in first["questions"] if q["id"] == "params.total")
    assert float(rows["ada"]["params.total"]) == points
    assert float(rows["bob"]["params.total"]) == 0
    assert float(rows["cy"]["params.total"]) == points
    responses.write_text("student,variant,question,answer\nada,variant-99,params.total,1\n")
    bad = run_cli("grade", homework, responses)
    assert bad.returncode == 2 and "row 2" in bad.stderr and "variant" in bad.stderr
    assert len(bad.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize("args, fragment", [
    (("lenet", "--variants", "0"), "expected at least 1 variant"),
    (("lenet", "--format", "docx"), "--format: expected pdf, html, md, tex or all"),
    (("nope-template",), "no such file or homework preset"),
])
def test_bad_homework_arguments(args, fragment, tmp_path):
    out = tmp_path / "hw"
    result = run_cli("homework", *args, "-o", out)
    assert result.returncode == 2 and fragment in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and not out.exists()


@pytest.mark.parametrize("text, fragment", [
    ("input: [8, 8, 1]\nlayers:\n  - {type: conv2d, name: C, kernel: 3, filters: {choice: []}}",
     "layer 1 (C): filters: choice needs a non-empty list"),
    ("input: [8, 8, 1]\nlayers:\n  - {type: dense, name: D, units: {range: [9, 3]}}",
     "layer 1 (D): units: range low 9 is above high 3"),
    ("input: [4, 4, 1]\nlayers:\n  - {type: conv2d, name: C, kernel: {choice: [7]}, filters: 2}",
     "cannot give any valid network"),
    ("input: [8, 8, 1]\nlayers:\n  - {type: conv2d, name: C, kernel: {choice: [3, 5]}, filters: 2}",
     "gives only 2 distinct valid variants, not 3"),
    ("input: [8, 8, 1]\nlayers:\n  - {type: dense, units: 3}\nquestions: [{type: essay}]",
     "unknown question type 'essay'"),
])
def test_bad_templates_write_nothing(text, fragment, tmp_path):
    template = tmp_path / "t.yaml"
    template.write_text(text)
    out = tmp_path / "hw"
    result = run_cli("homework", template, "--variants", 3, "-o", out)
    assert result.returncode == 2, result.stderr
    assert fragment in result.stderr and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert not out.exists() and [p.name for p in tmp_path.iterdir()] == ["t.yaml"]


def test_failed_render_leaves_no_folder_and_keeps_the_old_one(tmp_path):
    out = tmp_path / "hw"
    assert run_cli("homework", "lenet", "--variants", 2, "--seed", 4, "-o", out,
                   "--format", "md").returncode == 0
    before = digests(out)
    broken = tmp_path / "tpl" / "homework" / "md"
    broken.mkdir(parents=True)
    for name in ("questions.md.j2", "answers.md.j2"):
        (broken / name).write_text("{% for x in %}")
    result = run_cli("homework", "lenet", "--variants", 2, "--seed", 5, "-o", out,
                     "--format", "md", "--templates", tmp_path / "tpl")
    assert result.returncode == 2 and len(result.stderr.strip().splitlines()) == 1
    assert digests(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["hw", "tpl"]
