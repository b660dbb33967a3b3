"""symparams grade: normalised exact comparison, scores.csv, and one-line errors."""
import csv
import io
import json
import time

import pytest
from sympy import collect

from conftest import run_cli
from symparams.errors import SymparamsError
from symparams.homework.build import load_template, make_variants, manifest
from symparams.homework.grading import (equivalent, grade, load_manifest,
                                        parse_answer_expression, parse_integer, parse_shape,
                                        write_scores)
from symparams.spec import parse_expression

HEADER = "student,variant,question,answer"


@pytest.fixture(scope="module")
def homework(tmp_path_factory):
    folder = tmp_path_factory.mktemp("homework")
    template, plan = load_template("lenet")
    variants = make_variants(template, plan, 3, seed=1)
    data = manifest("lenet", 1, variants)
    with open(folder / "manifest.json", "w", encoding="utf-8") as handle:
        json.dump(data, handle, indent=2, ensure_ascii=False)
    return folder, data


def answers(data, vid):
    entry = next(v for v in data["variants"] if v["id"] == vid)
    return {q["id"]: q["answer"] for q in entry["questions"]}, \
        {q["id"]: q["points"] for q in entry["questions"]}


def write(tmp_path, lines, bom=False, newline="\n", name="responses.csv"):
    path = tmp_path / name
    text = newline.join(lines) + newline
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + text.encode("utf-8"))
    return path


def row(*fields):
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="").writerow(fields)
    return buffer.getvalue()


def equivalent_form(text):
    expr = parse_expression(text)
    last = sorted(expr.free_symbols, key=lambda s: s.name)[-1]
    other = str(collect(expr, last))          # e.g. k_2*(25*k_1 + 2305) + 76*k_1 + 3674
    assert other.replace(" ", "") != text.replace(" ", "")
    return other.replace("k_1", "k₁")        # as the sheets print the letters


def responses(data):
    right, _ = answers(data, "variant-01")
    total = right["params.total"]
    conv1 = right["params.CONV1"]
    fc3 = right["params.FC3"]
    lines = [HEADER,
             # ada: right, in the ways people write them
             row("ada", "variant-01", "params.total", f"{total:,}"),
             row("ada", "variant-01", "params.CONV1", f"{conv1:,}".replace(",", " ")),
             row("ada", "variant-01", "params.FC3", f"+{fc3:,}".replace(",", "\u202f")),
             row("ada", "variant-01", "shapes.CONV1",
                 "[" + right["shapes.CONV1"].replace(" × ", ", ") + "]"),
             row("ada", "variant-01", "shapes.FC3", f"({right['shapes.FC3']},)"),
             row("ada", "variant-01", "find-error.layer",
                 f"  {right['find-error.layer'].lower()} "),
             row("ada", "variant-01", "symbolic.total", equivalent_form(right["symbolic.total"])),
             "",
             # bob: wrong, or malformed (which is wrong, not an error)
             row("bob", "variant-01", "params.total", str(total + 1)),
             row("bob", "variant-01", "params.CONV1", f"{conv1:,}".replace(",", ".")),
             row("bob", "variant-01", "params.FC3", f"{fc3}".replace(str(fc3)[-2:], ",")
                 + str(fc3)[-2:]),
             row("bob", "variant-01", "shapes.CONV1", right["shapes.CONV1"] + " × 1"),
             row("bob", "variant-01", "find-error.layer", "POOL1"),
             row("bob", "variant-01", "symbolic.total", right["symbolic.total"] + " + 1"),
             row("bob", "variant-01", "shapes.FC3", "25 k_1"),
             ]
    return lines


def test_right_wrong_and_formatted_answers(homework, tmp_path):
    folder, data = homework
    _, points = answers(data, "variant-01")
    scores = grade(folder, write(tmp_path, responses(data)))
    by_student = {s.student: s for s in scores.students}
    ada, bob = by_student["ada"], by_student["bob"]
    answered = ["params.total", "params.CONV1", "params.FC3", "shapes.CONV1", "shapes.FC3",
                "find-error.layer", "symbolic.total"]
    for qid in answered:
        assert ada.points[qid] == points[qid], qid
    assert all(bob.points[qid] == 0 for qid in answered)
    assert ada.total == sum(points[q] for q in answered)
    assert bob.total == 0
    assert ada.max == bob.max == sum(points.values())
    # unanswered questions of the variant earn 0
    assert ada.points["params.CONV2"] == 0 and set(ada.points) == set(points)


def test_scores_csv(homework, tmp_path, capsys):
    folder, data = homework
    lines = responses(data) + [row("Cy", "variant-02", "params.total",
                                   str(answers(data, "variant-02")[0]["params.total"]))]
    scores = grade(folder, write(tmp_path, lines))
    out = tmp_path / "out" / "scores.csv"
    write_scores(scores, out)
    text = out.read_text(encoding="utf-8")
    write_scores(scores, None)
    assert capsys.readouterr().out == text
    table = list(csv.reader(io.StringIO(text)))
    header, body = table[0], table[1:]
    ids = list(dict.fromkeys(q["id"] for v in data["variants"] for q in v["questions"]))
    assert header[:2] == ["student", "variant"] and header[-2:] == ["total", "max"]
    assert sorted(header[2:-2]) == sorted(ids)
    first = [q["id"] for q in data["variants"][0]["questions"]]
    assert [h for h in header if h in first] == first          # manifest order
    assert [r[0] for r in body] == sorted(["ada", "bob", "Cy"])
    cy = dict(zip(header, next(r for r in body if r[0] == "Cy")))
    cy_points = answers(data, "variant-02")[1]
    assert cy["variant"] == "variant-02" and cy["params.total"] == str(cy_points["params.total"])
    assert cy["total"] == str(cy_points["params.total"])
    assert cy["max"] == str(sum(cy_points.values()))
    for qid in ids:                        # a question the variant does not have: empty
        assert (cy[qid] == "") == (qid not in cy_points)


def test_write_scores_replaces_the_file_atomically(homework, tmp_path):
    folder, data = homework
    scores = grade(folder, write(tmp_path, responses(data)))
    out = tmp_path / "scores.csv"
    out.write_text("old\n")
    write_scores(scores, out)
    assert out.read_text(encoding="utf-8") == scores.to_csv()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["responses.csv", "scores.csv"]


def test_bom_and_crlf_give_the_same_scores(homework, tmp_path):
    folder, data = homework
    plain = grade(folder, write(tmp_path, responses(data), name="a.csv"))
    windows = grade(folder, write(tmp_path, responses(data), bom=True, newline="\r\n",
                                  name="b.csv"))
    assert plain == windows and plain.to_csv() == windows.to_csv()


@pytest.mark.parametrize("lines, where, message", [
    ([HEADER, "ada,variant-09,params.total,1"],
     "row 2: variant", "unknown variant 'variant-09' (the manifest has variant-01 … variant-03)"),
    ([HEADER, "ada,variant-01,params.total,1", "", "bob,variant-02,params.CONV9,3"],
     "row 4: question", "unknown question 'params.CONV9' for variant-02"),
    (["student,variant,question", "ada,variant-01,params.total"],
     "row 1: answer", "missing column (the header needs student, variant, question, answer)"),
    ([HEADER + ",score", "ada,variant-01,params.total,1,1"],
     "row 1: score", "unknown column"),
    ([HEADER, "ada,variant-01,params.total,"], "row 2: answer", "empty"),
    ([HEADER, "ada,variant-01,params.total"], "row 2: answer",
     "missing (the row has 3 of 4 fields)"),
    ([HEADER, "ada,,params.total,1"], "row 2: variant", "empty"),
    ([HEADER, "ada,variant-01,params.total,62,958"], "row 2",
     "expected 4 fields, found 5 (quote an answer that contains a comma"),
    ([HEADER, "ada,variant-01,params.total,1", "ada,variant-01,params.total,2"],
     "row 3: question", "student 'ada' answered params.total twice (rows 2 and 3)"),
    ([HEADER, "ada,variant-01,params.total,1", "ada,variant-02,params.FC3,2"],
     "row 3: variant", "student 'ada' has variant-02 here but variant-01 in row 2"),
    ([HEADER, 'ada,variant-01,find-error.layer,"two\nlines"', "", "bob,variant-01,nope,1"],
     "row 5: question", "unknown question 'nope' for variant-01"),
    ([HEADER, 'ada,variant-01,params.total,"unclosed'], "row 2", "malformed CSV"),
    (["Answer, Student ,VARIANT,question,answer"], "row 1: answer", "column appears twice"),
    (["student,variant,question,answer,"], "row 1", "column 5 has no name"),
])
@pytest.mark.parametrize("bom, newline", [(False, "\n"), (True, "\r\n")])
def test_bad_rows_are_one_line_errors(homework, tmp_path, lines, where, message, bom, newline):
    """A bad header or unreadable CSV stops grading; a bad row is reported and
    every other row is graded."""
    folder, _ = homework
    path = write(tmp_path, lines, bom=bom, newline=newline)
    whole_file = where.startswith("row 1") or message == "malformed CSV"
    if whole_file:
        with pytest.raises(SymparamsError) as info:
            grade(folder, path)
        text = str(info.value)
    else:
        scores = grade(folder, path)
        assert len(scores.problems) == 1, scores.problems
        text = scores.problems[0]
    assert text.startswith(f"{path}: {where}: ") and message in text, text
    assert "\n" not in text


def test_bad_rows_do_not_stop_the_others_from_being_graded(homework, tmp_path):
    folder, data = homework
    right, points = answers(data, "variant-01")
    other, other_points = answers(data, "variant-02")
    lines = [HEADER,
             row("ada", "variant-01", "params.total", str(right["params.total"])),
             row("bob", "variant-99", "params.total", "1"),                    # row 3
             row("ada", "variant-01", "params.CONV9", "1"),                    # row 4
             row("cy", "variant-02", "params.total", str(other["params.total"])),
             row("ada", "variant-01", "params.FC3", str(right["params.FC3"])),
             row("cy", "variant-02", "params.FC3", "1"),
             row("cy", "variant-02", "params.FC3", "2")]                       # row 8
    path = write(tmp_path, lines)
    scores = grade(folder, path)
    by_student = {s.student: s for s in scores.students}
    assert set(by_student) == {"ada", "cy"}
    assert by_student["ada"].total == points["params.total"] + points["params.FC3"]
    assert by_student["cy"].total == other_points["params.total"]
    assert [p.split(": ")[1] for p in scores.problems] == ["row 3", "row 4", "row 8"]
    out = tmp_path / "scores.csv"
    result = run_cli("grade", folder, path, "-o", out)
    assert result.returncode == 2
    assert [line for line in result.stderr.splitlines()] == \
        [f"symparams: error: {p}" for p in scores.problems]
    assert out.read_text(encoding="utf-8") == scores.to_csv()


@pytest.mark.parametrize("name", ["=HYPERLINK(\"http://x\",\"y\")", "+1+1", "-2+3", "@SUM(A1)",
                                  "\tTAB", "\rCR", "=1+1", "-", "+"])
def test_scores_csv_names_cannot_run_as_spreadsheet_formulas(homework, tmp_path, name):
    folder, data = homework
    right, _ = answers(data, "variant-01")
    path = write(tmp_path, [HEADER, row(name, "variant-01", "params.total",
                                        str(right["params.total"]))])
    scores = grade(folder, path)
    table = list(csv.reader(io.StringIO(scores.to_csv())))
    cell = table[1][0]
    assert cell[0] not in "=+-@\t\r"
    stored = scores.students[0].student          # the data keeps the name (trimmed)
    assert stored == name.strip()
    assert cell == ("'" + stored if stored[0] in "=+-@\t\r" else stored)


def test_ordinary_names_are_written_as_they_are(homework, tmp_path):
    folder, data = homework
    path = write(tmp_path, [HEADER, row("Ada Lovelace", "variant-01", "params.total", "1"),
                            row("o'Brien-Smith", "variant-01", "params.total", "1")])
    table = list(csv.reader(io.StringIO(grade(folder, path).to_csv())))
    assert [r[0] for r in table[1:]] == ["Ada Lovelace", "o'Brien-Smith"]


def test_unreadable_files(homework, tmp_path):
    folder, _ = homework
    bad = tmp_path / "latin1.csv"
    bad.write_bytes(HEADER.encode() + b"\nada,variant-01,find-error.layer,caf\xe9\n")
    with pytest.raises(SymparamsError, match=r"latin1\.csv: not UTF-8 text"):
        grade(folder, bad)
    empty = write(tmp_path, [""], name="empty.csv")
    with pytest.raises(SymparamsError, match=r"empty\.csv: empty; expected the header"):
        grade(folder, empty)
    with pytest.raises(SymparamsError, match=r"missing\.csv: cannot read"):
        grade(folder, tmp_path / "missing.csv")


@pytest.mark.parametrize("content, fragment", [
    (None, "manifest.json: cannot read: No such file or directory"),
    ("{", "manifest.json: malformed JSON at line 1, column 2"),
    ("[]", "manifest.json: manifest: expected a mapping"),
    ('{"template": "t", "variants": [{"id": "v", "questions": '
     '[{"id": "q", "type": "params", "points": "x", "answer": 1}]}]}',
     "manifest.json: variants[1].questions[1].points: expected a whole number ≥ 0, found 'x'"),
    ('{"template": "t", "variants": [{"id": "v", "questions": '
     '[{"id": "q", "type": "symbolic", "points": 1, "answer": "k +"}]}]}',
     "manifest.json: variants[1].questions[1].answer: not a valid expression answer"),
])
def test_bad_manifest(tmp_path, content, fragment):
    if content is not None:
        (tmp_path / "manifest.json").write_text(content, encoding="utf-8")
    responses = write(tmp_path, [HEADER])
    with pytest.raises(SymparamsError) as info:
        grade(tmp_path, responses)
    assert fragment in str(info.value) and "\n" not in str(info.value)


def test_manifest_kind_is_used_when_given(tmp_path):
    (tmp_path / "manifest.json").write_text(json.dumps({"template": "t", "variants": [
        {"id": "v", "questions": [{"id": "a", "type": "x", "points": 2, "answer": "12",
                                   "kind": "integer"},
                                  {"id": "b", "type": "x", "points": 1, "answer": "2*k",
                                   "kind": "expression"}]}]}))
    kinds = [k.kind for k in load_manifest(tmp_path).variants["v"]]
    assert kinds == ["integer", "expression"]
    scores = grade(tmp_path, write(tmp_path, [HEADER, "s,v,a,+12", "s,v,b,k+k"]))
    assert scores.students[0].points == {"a": 2, "b": 1}


@pytest.mark.parametrize("text", ["62958", "62,958", "62 958", "62\u202f958", "62\u00a0958",
                                  "62\u2009958", "62_958", "62'958", "62\u2019958", "+62,958",
                                  " 62958 ", "\ufeff62958"])
def test_integers_that_are_62958(text):
    assert parse_integer(text) == 62958


@pytest.mark.parametrize("text", ["62958.0", "62958.00", "k_1 = 62958", "k₁ = 62958",
                                  "k_1=62,958", "c = 62958.0", " total = 62 958 "])
def test_integers_written_as_values_or_with_a_zero_decimal(text):
    assert parse_integer(text) == 62958


@pytest.mark.parametrize("text", ["62.958", "6,29,58", "629,58", "62,958.0", "62,,958",
                                  "62, 958", "6295,8", ",62958", "62958,", "", "+", "-62958",
                                  "1e5", "٦٢٩٥٨", "62958 params", "0x1", "62958.5",
                                  "= 62958", "k_1 = ", "k_1 = 62958 = 1", "62958.",
                                  "k_1 == 62958", "1 = 62958"])
def test_malformed_integers_are_wrong(text):
    assert parse_integer(text) != 62958


@pytest.mark.parametrize("text, sizes", [
    ("28 × 28 × 8", (28, 28, 8)), ("28x28x8", (28, 28, 8)), ("28 X 28 X 8", (28, 28, 8)),
    ("28*28*8", (28, 28, 8)), ("[28, 28, 8]", (28, 28, 8)), ("(28,28,8)", (28, 28, 8)),
    ("64", (64,)), ("(64,)", (64,)), ("[64]", (64,)),
    ("28 × × 8", None), ("28 × 28 ×", None), ("(28, 28, 8", None), ("28.0 × 28", None), ("", None),
])
def test_shapes(text, sizes):
    assert parse_shape(text) == sizes


KEY = "25*k_1*k_2 + 76*k_1 + 2305*k_2 + 3674"


@pytest.mark.parametrize("text, right", [
    (KEY, True),
    ("3674 + 2305*k_2 + 76*k_1 + 25*k_1*k_2", True),
    ("k_1*(25*k_2 + 76) + 2305*k_2 + 3674", True),
    ("k₁·(25·k₂ + 76) + 2305 × k₂ + 3674", True),
    ("k1*(25*k2 + 76) + 2305*k2 + 3674", True),
    ("(25*k_1 + 2305)*(k_2 + 76/25) + 3674 - 2305*76/25", True),
    ("(k_1 + k_2)^2 - k_1^2 - k_2**2 + 23*k_1*k_2 + 76*k_1 + 2305*k_2 + 3674", True),
    (KEY + " + 1", False),
    ("25*k_1*k_2 + 76*k_1 + 2305*k_2 + 3674*k_3", False),
    ("25k_1k_2 + 76k_1 + 2305k_2 + 3674", True),        # implicit products
    ("25k₁k₂ + 76k₁ + 2305k₂ + 3674", True),
    ("25 k_1 k_2 + 76 k_1 + 2305 k_2 + 3674", True),
    ("k₁(25k₂ + 76) + 2305k₂ + 3674", True),
    ("25k1k2 + 76k1 + 2305k2 + 3674", True),
    ("(k_1 + 1)(k_2 + 1) + 24k_1k_2 + 75k_1 + 2304k_2 + 3673", True),
    ("25k_1k_2 + 76k_1 + 2305k_2 + 3675", False),
    ("25 k_1 k_2 + 76 k_1 + 2305 k_2 + 36 74", False),     # two numbers side by side
    ("25k_1k_2 + 76k_1 + 2305k_2 + 3674k_3", False),
    ("floor(k_1)(25k_2 + 76) + 2305k_2 + 3674", True),
    ("25k_1k_2 + 76k_1 + 2305k_2 + 3674 + open('x')", False),
    ("__import__('os')", False),
    ("open('x')", False),
    ("k_1^k_2", False),
    ("((9^64)^64)^64", False),
    ("(9^8)^9", False),
    ("2^2^3^2", False),
    ("k_1^2^(3)", False),
    ("(" * 300 + "k_1" + ")" * 300, False),                 # too deep for the parser
    ("(k_1^2)^2^2*k_2^8 - k_1^8*k_2^8 + " + KEY, True),
    ("(k_1 + k_2 + 1)^64 - (k_1 + k_2 + 1)^64 + " + KEY, True),   # cancels as it is read
    ("(k_1 + 1)^17*(k_1 + 2) - (k_1 + 1)^18 - (k_1 + 1)^17 + " + KEY, False),  # degree > 16
])
def test_expressions(text, right):
    key = parse_expression(KEY)
    started = time.monotonic()
    expr = parse_answer_expression(text, {s.name: s for s in key.free_symbols})
    got = expr is not None and equivalent(expr, key)
    assert got is right
    assert time.monotonic() - started < 10


def test_grade_help_states_the_accepted_forms():
    result = run_cli("grade", "--help")
    assert result.returncode == 0
    for form in ("62,958", "62958.0", "k_1 = 62958", "25k₁k₂", "25 k_1 k_2", "(k_1 + 1)(k_2 + 1)",
                 "28x28x8"):
        assert form in result.stdout, form
