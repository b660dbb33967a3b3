"""Every shell example in the README runs, as written, and shows what the README says.

The README's Python examples run as doctests; this runs the others: every line of a
```sh block and every ``$ `` line of a plain ``` block.  Each ``symparams …`` command
runs through ``python -m symparams`` in one temporary folder that holds a copy of the
repository's ``examples/``, so files the commands write land there.  A command that
needs files the README takes for granted gets them from SETUP (listed below, made
explicitly); where the README shows output (the lines after a ``$ `` command, or a
``# k₁ = 8`` comment), CHECKS compares it.  Lines that are not symparams commands
are listed in NOT_SYMPARAMS with the reason they are not run here; any other line
fails the test, so no example is skipped silently.
"""
from __future__ import annotations

import csv
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from conftest import ROOT

README = ROOT / "README.md"


@dataclass(frozen=True)
class Example:
    command: str                 # as written, without the "$ " and the comment
    comment: str | None          # the "# …" after it in a sh block
    output: tuple[str, ...] | None   # the lines shown after a "$ " command
    line: int

    def __str__(self) -> str:
        return self.command


def shell_examples(text: str) -> list[Example]:
    examples: list[Example] = []
    lines = text.splitlines()
    fence: str | None = None
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.startswith("```"):
            fence = None if fence is not None else line[3:].strip()
            i += 1
            continue
        if fence == "sh" and line.strip() and not line.lstrip().startswith("#"):
            command, _, comment = line.partition(" #")
            examples.append(Example(command.strip(), comment.strip() or None, None, i + 1))
        elif fence == "" and line.startswith("$ "):
            output = []
            j = i + 1
            while j < len(lines) and not lines[j].startswith(("$ ", "```")):
                output.append(lines[j].rstrip())
                j += 1
            examples.append(Example(line[2:].strip(), None, tuple(output), i + 1))
            i = j
            continue
        i += 1
    return examples


EXAMPLES = shell_examples(README.read_text(encoding="utf-8"))

NOT_SYMPARAMS = {
    "make demo": "sets up .venv and renders reports/; make test, which runs this suite, "
                 "goes through the same venv setup",
    "make test": "runs this very suite",
}

# Examples that fail because of bugs other items of issue 8 fix; strict, so they turn
# into failures when fixed and the marks are removed at the merge.
# (count lenet --symbolic --set k_1=8 H=32 was one until wt-api's fix was merged.)
XFAIL: dict[str, str] = {}


# ------------------------------------------------------------------ setup

def _my_templates(work: Path) -> None:
    """A template folder that replaces one partial of ours by name."""
    step = work / "my-templates" / "md" / "_step.md.j2"
    step.parent.mkdir(parents=True, exist_ok=True)
    step.write_text("### {{ number }}. {{ step.title }} (MY TEMPLATE)\n\n"
                    "{{ step | math }}\n", encoding="utf-8")


def _my_template(work: Path) -> None:
    """A small homework template: thirty variants in every format stay quick to render."""
    (work / "my-template.yaml").write_text(
        "name: tiny\n"
        "input: [8, 8, 1]\n"
        "layers:\n"
        "  - {type: conv2d, name: CONV1, kernel: {choice: [1, 3]}, "
        "filters: {range: [2, 40], step: 2}}\n"
        "  - {type: dense, name: OUT, units: 10}\n"
        "questions:\n"
        "  - {type: params, points: 1}\n", encoding="utf-8")


HOMEWORK = "symparams homework lenet --variants 20 --seed 1"


def _responses(work: Path) -> None:
    """homework/ from the README's own homework command (run once, here if it has not run
    yet), and responses.csv: one student per variant, answering every question right."""
    if not (work / "homework" / "answers.csv").exists():
        result = run(HOMEWORK, work)
        assert result.returncode == 0, result.stderr
    with open(work / "homework" / "answers.csv", encoding="utf-8", newline="") as handle:
        answers = list(csv.DictReader(handle))
    with open(work / "responses.csv", "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["student", "variant", "question", "answer"])
        for row in answers:
            writer.writerow([f"student-{row['variant']}", row["variant"], row["question"],
                             row["answer"]])


def _bad_spec(work: Path) -> None:
    """net.yaml of the README's bad-input example: a 7 × 7 pooling window over a 6 × 6 input."""
    (work / "net.yaml").write_text(
        "name: net\n"
        "input: [6, 6, 3]\n"
        "layers:\n"
        "  - {type: conv2d, name: CONV1, kernel: 1, filters: 4}\n"
        "  - {type: maxpool2d, name: POOL2, kernel: 7}\n", encoding="utf-8")


def _keras_model(work: Path) -> None:
    """model.json and model.keras of the README's Keras examples: the small text model of
    tests/fixtures/keras (its token input's length left open), as to_json() text and in a
    .keras archive holding its config.json and metadata.json."""
    import gzip
    import zipfile
    text = gzip.decompress((ROOT / "tests" / "fixtures" / "keras" /
                            "small_sequence.json.gz").read_bytes())
    (work / "model.json").write_bytes(text)
    with zipfile.ZipFile(work / "model.keras", "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("metadata.json", json.dumps({"keras_version": "3.15.1"}))
        archive.writestr("config.json", text)


SETUP = {
    "symparams count model.keras": _keras_model,
    "symparams count model.json": _keras_model,
    "symparams report model.keras --format pdf": _keras_model,
    "symparams count model.json --input 128": _keras_model,
    "symparams report lenet --templates my-templates/": _my_templates,
    "symparams homework my-template.yaml --variants 30 --seed 7 --format all --exact "
    "--jobs 2": _my_template,
    "symparams grade homework/ responses.csv -o scores.csv": _responses,
    "symparams count net.yaml": _bad_spec,
}
EXIT_CODES = {"symparams count net.yaml": 2}


# ------------------------------------------------------------------ checks

def _total(text: str) -> str:
    return next(line for line in text.splitlines() if line.startswith("Total:"))


def _csv_rows(text: str) -> list[dict]:
    return list(csv.DictReader(text.splitlines()))


def _scores(work: Path) -> None:
    with open(work / "scores.csv", encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert rows and all(row["total"] == row["max"] for row in rows)


CHECKS = {
    "symparams count lenet": lambda r, w: "Total: 62,958 learnable parameters" in r.stdout,
    "symparams count examples/lenet.yaml":
        lambda r, w: _total(r.stdout) == "Total: 62,958 learnable parameters",
    "symparams count lenet --json": lambda r, w: json.loads(r.stdout)["total"] == 62958,
    "symparams count lenet --set k_2=32":
        lambda r, w: _total(r.stdout) == "Total: 114,174 learnable parameters",
    "symparams count lenet --set CONV2.filters=32":
        lambda r, w: _total(r.stdout) == "Total: 114,174 learnable parameters",
    "symparams count lenet --symbolic":
        lambda r, w: "k₁" in _total(r.stdout) and "c₁" in _total(r.stdout),
    "symparams count lenet --symbolic --set k_1=8 H=32":   # partly substituted
        lambda r, w: "W" in _total(r.stdout) and "k₂" in _total(r.stdout)
        and "k₁" not in _total(r.stdout) and "H" not in _total(r.stdout),
    "symparams report lenet --format all":                 # reports/lenet.{md,html,tex,pdf}
        lambda r, w: all((w / "reports" / f"lenet.{x}").stat().st_size
                         for x in ("md", "html", "tex", "pdf")),
    "symparams report lenet --format pdf -o out/":
        lambda r, w: (w / "out" / "lenet.pdf").read_bytes().startswith(b"%PDF"),
    "symparams report lenet --templates my-templates/":    # your files replace ours by name
        lambda r, w: "(MY TEMPLATE)" in (w / "reports" / "lenet.md").read_text("utf-8")
        and "## Summary" in (w / "reports" / "lenet.md").read_text("utf-8"),
    "symparams sweep lenet --vary CONV1.filters=4:16:4 --csv":   # CSV on stdout
        lambda r, w: [row["total"] for row in _csv_rows(r.stdout)]
        == ["61054", "62958", "64862", "66766"],
    "symparams sweep lenet --vary CONV1.filters=4:64:4 --csv out.csv --plot out.svg":
        lambda r, w: len(_csv_rows((w / "out.csv").read_text("utf-8"))) == 16
        and "<svg" in (w / "out.svg").read_text("utf-8"),
    "symparams sweep lenet --vary INPUT.size=28:64:4 --vary CONV2.filters=8:32:8 "
    "--plot grid.png": lambda r, w: (w / "grid.png").read_bytes().startswith(b"\x89PNG"),
    HOMEWORK: lambda r, w: len(json.loads(
        (w / "homework" / "manifest.json").read_text("utf-8"))["variants"]) == 20,
    "symparams homework my-template.yaml --variants 30 --seed 7 --format all --exact "
    "--jobs 2": lambda r, w: len(list((w / "homework").glob("variant-*/answers.pdf"))) == 30,
    "symparams grade homework/ responses.csv -o scores.csv": lambda r, w: _scores(w) is None,
    "symparams solve lenet --for CONV1.filters --total 62958":   # k₁ = 8
        lambda r, w: r.stdout.splitlines()[1] == "k₁ = 8",
    "symparams solve lenet --for INPUT.height --total 62958":    # H = 32, 33, 34, 35 (floors)
        lambda r, w: r.stdout.splitlines()[1].startswith("H = 32, 33, 34, 35 ")
        and "floors" in r.stdout,
    "symparams solve lenet --for CONV2.filters --budget 62957":  # k₂ = 15
        lambda r, w: r.stdout.splitlines()[1].startswith("k₂ = 15 "),
    "symparams explain conv2d":           # letters, formula, why, shapes, example
        lambda r, w: all(word in r.stdout for word in (
            "Letters", "((m × n × d) + 1) × k", "((5 × 5 × 3) + 1) × 8 = 608")),
    "symparams count examples/bn-cnn.yaml":                  # PyTorch: 2 × C, buffers apart
        lambda r, w: "Total params: 5,470" in r.stdout
        and "Buffers (not parameters): 40" in r.stdout and "PyTorch convention" in r.stdout,
    "symparams count examples/bn-cnn.yaml --convention keras":
        lambda r, w: "Total params: 5,510" in r.stdout
        and "Non-trainable params: 264" in r.stdout and "Keras convention" in r.stdout,
    "symparams diff lenet lenet --set-b CONV2.filters=32":       # CONV2 3,216 → 6,432 …
        lambda r, w: re.search(r"CONV2\b.*\b3,216\b.*\b6,432\b", r.stdout) is not None,
}


# ------------------------------------------------------------------ running

def run(command: str, work: Path) -> subprocess.CompletedProcess:
    args = shlex.split(command)
    assert args[0] == "symparams", command
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p)}
    env.pop("COLUMNS", None)   # the README shows the output into a pipe: 200 columns
    return subprocess.run([sys.executable, "-m", "symparams", *args[1:]], cwd=work,
                          capture_output=True, text=True, env=env, timeout=900)


@pytest.fixture(scope="module")
def work(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("readme")
    shutil.copytree(ROOT / "examples", folder / "examples")
    return folder


def test_the_readme_has_shell_examples():
    commands = [e.command for e in EXAMPLES]
    assert "symparams count lenet" in commands and len(commands) > 20
    unknown = [e for e in EXAMPLES if not e.command.startswith("symparams ")
               and e.command not in NOT_SYMPARAMS]
    assert not unknown, f"README lines that are neither symparams commands nor listed: {unknown}"
    # Every setup, check and xfail names an example that is still in the README.
    stale = (set(SETUP) | set(CHECKS) | set(XFAIL) | set(EXIT_CODES)) - set(commands)
    assert not stale, stale


def _params():
    for example in EXAMPLES:
        if example.command in NOT_SYMPARAMS:
            continue
        marks = []
        if example.command in XFAIL:
            marks.append(pytest.mark.xfail(strict=True, reason=XFAIL[example.command]))
        if example.command.startswith(("symparams homework", "symparams grade")):
            marks.append(pytest.mark.slow)
        yield pytest.param(example, id=f"L{example.line}:{example.command[10:]}",
                           marks=marks)


@pytest.mark.parametrize("example", list(_params()))
def test_readme_shell_example(example: Example, work: Path):
    if example.command in SETUP:
        SETUP[example.command](work)
    result = run(example.command, work)
    expected_exit = EXIT_CODES.get(example.command, 0)
    assert result.returncode == expected_exit, (result.stdout[-2000:], result.stderr[-2000:])
    if expected_exit == 0:
        assert "Traceback" not in result.stderr
    if example.output is not None:
        shown = (result.stdout + result.stderr).rstrip("\n").splitlines()
        assert [line.rstrip() for line in shown] == list(example.output)
    check = CHECKS.get(example.command)
    if check is not None:
        assert check(result, work), (result.stdout[-2000:], result.stderr[-2000:])
