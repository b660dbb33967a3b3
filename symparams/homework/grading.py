"""Grading students' answers against a homework folder's ``manifest.json``.

``responses.csv`` has a header with the columns ``student``, ``variant``,
``question`` and ``answer`` (any order, any case; no others), then one row per
answer.  UTF-8 with or without a byte-order mark, LF or CRLF; blank lines (and
rows whose fields are all empty) are ignored.  Quote an answer that contains a
comma: ``ada,variant-01,params.total,"62,958"``.

Every problem with the files is one :class:`SymparamsError` line naming the
file, the row (its line number, the header being row 1) and the field::

    responses.csv: row 5: question: unknown question 'params.CONV9' for variant-02

Errors that stop grading (nothing is graded): a file that is not UTF-8 or not
well-formed CSV; a missing, unknown, duplicate or unnamed column.

Bad rows are left out, every other row is graded and ``scores.csv`` written;
then each bad row is reported on its own line (``symparams grade`` exits with
2): a row with too few or too many fields; an empty field; an unknown variant
or question; a student with rows for two variants (the later rows are left
out); a student answering the same question twice (neither answer counts:
which one was meant is a guess).

In ``scores.csv`` a student's name that starts with ``=``, ``+``, ``-``, ``@``,
a tab or a carriage return gets a leading ``'`` so that spreadsheets show it
as text instead of running it as a formula (OWASP's rule for CSV injection).

A *wrong* answer is never an error; it earns 0 points.  Answers are compared
exactly after normalising:

* integers: spaces of any kind (also thin and no-break spaces) and the
  thousands separators ``,`` ``_`` ``'`` ``’`` may group the digits, plus a
  leading ``+``: ``62958``, ``62,958``, ``62 958``, ``62\u202f958`` (narrow no-break space),
  ``62_958``, ``+62'958`` are all 62958.  Grouping must be regular (one kind of separator,
  groups of three after the first group of one to three digits), so
  ``62.958``, ``6,29,58``, ``629,58`` or ``62,958.0`` are wrong, not guessed at.
  Zero decimals are fine when the digits are not grouped with commas (``20.0``,
  ``62958.00``), and so is a value given to a letter: ``k_1 = 20``, ``k₁ = 20``;
* shapes: whole numbers joined by ``×``, ``x``, ``X``, ``*`` or ``,``, optionally
  in ``()`` or ``[]`` (a trailing comma as in ``(64,)`` is fine): the sequence of
  numbers is compared, so ``28x28x8`` and ``[28, 28, 8]`` are ``28 × 28 × 8``;
* names: trimmed, inner whitespace collapsed, case-insensitive;
* expressions: parsed by the whitelist parser
  :func:`symparams.spec.parse_expression` (never ``eval``/``sympify``), after
  turning subscript digits into ``_n`` (``k₁`` is ``k_1``) and superscript
  digits into ``^n``; a name such as ``k1`` is read as ``k_1`` when the key uses
  ``k_1``.  Products may be written with ``*``, ``×``, ``·`` or side by side:
  ``25k₁k₂``, ``25 k_1 k_2`` and ``(k_1 + 1)(k_2 + 1)`` are products (see
  :func:`explicit_products`; two numbers side by side are not).  Equal when
  ``expand(a − b) == 0``, else when
  ``simplify(a − b) == 0``.  An answer that does not parse is wrong.  So that
  one answer cannot stall grading, every exponent must be a plain number, the
  exponents applied to any one term (through nested parentheses) may multiply
  to at most 64, and the degree may be at most 16; other answers are wrong (a
  fast exact check at a few integer points rejects most wrong answers before
  SymPy expands anything).

The manifest's questions carry no answer kind; it is taken from ``kind`` when
present, else from the question: an integer answer is ``integer``, ``shapes``
questions are ``shape``, ``symbolic`` ones ``expression``, the rest ``name``.

``scores.csv`` has one row per student, sorted: ``student``, ``variant``, one
column per question id of the template (in manifest order; ids that only some
variants have are merged in after their predecessor), then ``total`` and
``max``.  A question of the student's variant earns its points or 0
(unanswered counts as 0); a column that is not a question of the student's
variant is empty.  ``max`` is the sum of the points of the student's variant.
"""
from __future__ import annotations

import csv
import io
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from ..errors import SymparamsError
from ..spec import parse_expression
# Reading answers lives in answerforms; its names are part of this module's API.
from .answerforms import (MAX_DEGREE, MAX_EXPONENT_PRODUCT, equivalent,  # noqa: F401
                          explicit_products, normalise_name, parse_answer_expression,
                          parse_integer, parse_shape)

COLUMNS = ("student", "variant", "question", "answer")
KINDS = ("integer", "shape", "name", "expression")
_FIXED_SCORE_COLUMNS = ("student", "variant", "total", "max")



# ------------------------------------------------------------------ manifest

@dataclass(frozen=True)
class Key:
    """One question's answer key."""
    id: str
    type: str
    points: int
    answer: Any
    kind: str
    check: Callable[[str], bool]


@dataclass(frozen=True)
class Manifest:
    template: str
    variants: dict[str, list[Key]]      # variant id → its questions, in order


def _kind(question: dict) -> str:
    if "kind" in question:
        return question["kind"]
    answer = question.get("answer")
    if isinstance(answer, int) and not isinstance(answer, bool):
        return "integer"
    return {"shapes": "shape", "symbolic": "expression"}.get(question.get("type"), "name")


def _checker(kind: str, answer: Any) -> Callable[[str], bool] | None:
    """A function telling whether a response is right, or None for a malformed key."""
    if kind == "integer":
        value = answer if isinstance(answer, int) and not isinstance(answer, bool) \
            else parse_integer(str(answer)) if isinstance(answer, str) else None
        return None if value is None else (lambda text: parse_integer(text) == value)
    if not isinstance(answer, str):
        return None
    if kind == "shape":
        sizes = parse_shape(answer)
        return None if sizes is None else (lambda text: parse_shape(text) == sizes)
    if kind == "name":
        name = normalise_name(answer)
        return lambda text: normalise_name(text) == name
    try:
        key = parse_expression(answer)
    except (SymparamsError, RecursionError):
        return None
    known = {s.name: s for s in key.free_symbols}

    def check(text: str) -> bool:
        expr = parse_answer_expression(text, known)
        return expr is not None and equivalent(expr, key)
    return check


def load_manifest(homework_dir: str | Path) -> Manifest:
    """The answer keys of a homework folder; a missing or malformed manifest is one
    SymparamsError line naming the file (and the field)."""
    path = Path(homework_dir) / "manifest.json"
    where = str(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise SymparamsError(f"not UTF-8 text ({exc.reason} at byte {exc.start})",
                             file=where) from None
    except OSError as exc:
        raise SymparamsError(f"cannot read: {exc.strerror or exc}; is "
                             f"{str(homework_dir)!r} a folder written by symparams homework?",
                             file=where) from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise SymparamsError(f"malformed JSON at line {exc.lineno}, column {exc.colno}: "
                             f"{exc.msg}", file=where) from None
    except RecursionError:
        raise SymparamsError("malformed JSON: nested too deeply", file=where) from None

    def fail(message: str, field: str):
        raise SymparamsError(message, file=where, field=field)

    if not isinstance(data, dict):
        fail("expected a mapping with template and variants", "manifest")
    template = data.get("template", "")
    if not isinstance(template, str):
        fail("expected text", "template")
    raw_variants = data.get("variants")
    if not isinstance(raw_variants, list) or not raw_variants:
        fail("expected a non-empty list of variants", "variants")
    variants: dict[str, list[Key]] = {}
    for i, entry in enumerate(raw_variants, start=1):
        at = f"variants[{i}]"
        if not isinstance(entry, dict):
            fail("expected a mapping with id and questions", at)
        vid = entry.get("id")
        if not isinstance(vid, str) or not vid.strip():
            fail("expected the variant's id as text", f"{at}.id")
        if vid in variants:
            fail(f"variant {vid!r} appears twice", f"{at}.id")
        questions = entry.get("questions")
        if not isinstance(questions, list):
            fail("expected a list of questions", f"{at}.questions")
        keys: list[Key] = []
        for j, question in enumerate(questions, start=1):
            qat = f"{at}.questions[{j}]"
            if not isinstance(question, dict):
                fail("expected a mapping with id, type, points and answer", qat)
            qid, points = question.get("id"), question.get("points")
            if not isinstance(qid, str) or not qid.strip():
                fail("expected the question's id as text", f"{qat}.id")
            if qid in _FIXED_SCORE_COLUMNS:
                fail(f"question id {qid!r} would clash with a column of scores.csv",
                     f"{qat}.id")
            if any(k.id == qid for k in keys):
                fail(f"question {qid!r} appears twice in {vid}", f"{qat}.id")
            if isinstance(points, bool) or not isinstance(points, int) or points < 0:
                fail(f"expected a whole number ≥ 0, found {points!r}", f"{qat}.points")
            if "answer" not in question:
                fail("missing", f"{qat}.answer")
            kind = _kind(question)
            if kind not in KINDS:
                fail(f"expected one of {', '.join(KINDS)}, found {kind!r}", f"{qat}.kind")
            check = _checker(kind, question["answer"])
            if check is None:
                fail(f"not a valid {kind} answer: {_shown(question['answer'])}",
                     f"{qat}.answer")
            keys.append(Key(qid, str(question.get("type", "")), points, question["answer"],
                            kind, check))
        variants[vid] = keys
    return Manifest(template, variants)


# ----------------------------------------------------------------- responses

@dataclass(frozen=True)
class Response:
    row: int            # line number where the CSV record starts (the header is 1)
    student: str
    variant: str
    question: str
    answer: str


def _shown(value: Any, limit: int = 60) -> str:
    text = str(value)
    if len(text) > limit:
        text = text[:limit - 1] + "…"
    return repr(text)


def _read_csv_text(path: Path) -> str:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise SymparamsError(f"cannot read: {exc.strerror or exc}", file=str(path)) from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise SymparamsError(f"not UTF-8 text ({exc.reason} at byte {exc.start}); save the "
                             "file as UTF-8 CSV", file=str(path)) from None


def read_responses(responses_csv: str | Path, manifest: Manifest,
                   problems: list[str] | None = None) -> list[Response]:
    """The rows of a responses file, every one checked against the manifest.

    A file that cannot be read as a whole (encoding, malformed CSV, header) raises
    one SymparamsError.  A bad row raises too, unless ``problems`` is a list: then
    its one-line message is added there and every other row is read."""
    path = Path(responses_csv)
    where = str(path)
    reader = csv.reader(io.StringIO(_read_csv_text(path), newline=""), strict=True)
    columns: dict[str, int] | None = None
    responses: list[Response] = []
    variant_of: dict[str, tuple[str, int]] = {}          # student → (variant, first row)
    answered: dict[tuple[str, str], list[int]] = {}     # (student, question) → rows
    line = 1
    while True:
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            raise SymparamsError(f"malformed CSV: {exc}", file=where,
                                 layer=f"row {line}") from None
        start, line = line, reader.line_num + 1
        if not any(field.strip() for field in row):
            continue                                          # a blank line

        def fail(message: str, field: str | None = None):
            raise SymparamsError(message, file=where, layer=f"row {start}", field=field)

        if columns is None:
            columns = _header(row, fail)
            continue
        try:
            response = _response(row, start, columns, manifest, variant_of, answered, fail)
        except SymparamsError as exc:
            if problems is None:
                raise
            problems.append(str(exc))
            continue
        responses.append(response)
    if columns is None:
        raise SymparamsError(f"empty; expected the header {','.join(COLUMNS)}", file=where)
    # A question answered twice counts neither answer: which one was meant is a guess.
    twice = {key for key, rows in answered.items() if len(rows) > 1}
    return [r for r in responses if (r.student, r.question) not in twice]


def _response(row: list[str], start: int, columns: dict[str, int], manifest: Manifest,
              variant_of: dict, answered: dict, fail) -> Response:
    """One data row, checked: a bad one calls ``fail`` (which raises)."""
    if len(row) > len(columns):
        fail(f"expected {len(columns)} fields, found {len(row)} (quote an answer that "
             f"contains a comma, e.g. \"62,958\")")
    values = {}
    for name in COLUMNS:
        index = columns[name]
        if index >= len(row):
            fail(f"missing (the row has {len(row)} of {len(columns)} fields)", name)
        value = row[index].strip()
        if not value:
            fail("empty" + ("; leave out the row of an unanswered question"
                            if name == "answer" else ""), name)
        values[name] = value
    student, vid, qid = values["student"], values["variant"], values["question"]
    if vid not in manifest.variants:
        fail(f"unknown variant {_shown(vid)} (the manifest has "
             f"{_id_range(list(manifest.variants))})", "variant")
    if not any(key.id == qid for key in manifest.variants[vid]):
        fail(f"unknown question {_shown(qid)} for {vid}", "question")
    if student in variant_of and variant_of[student][0] != vid:
        first_vid, first_row = variant_of[student]
        fail(f"student {_shown(student)} has {vid} here but {first_vid} in row "
             f"{first_row}", "variant")
    variant_of.setdefault(student, (vid, start))
    rows = answered.setdefault((student, qid), [])
    rows.append(start)
    if len(rows) > 1:
        fail(f"student {_shown(student)} answered {qid} twice (rows "
             f"{rows[0]} and {start}); neither counts, keep one", "question")
    return Response(start, student, vid, qid, values["answer"])


def _header(row: list[str], fail) -> dict[str, int]:
    columns: dict[str, int] = {}
    for index, raw in enumerate(row):
        name = raw.strip().lower()
        if not name:
            fail(f"column {index + 1} has no name (expected the header "
                 f"{','.join(COLUMNS)})")
        if name not in COLUMNS:
            fail(f"unknown column (expected only {', '.join(COLUMNS)})", raw.strip())
        if name in columns:
            fail("column appears twice", name)
        columns[name] = index
    for name in COLUMNS:
        if name not in columns:
            fail(f"missing column (the header needs {', '.join(COLUMNS)})", name)
    return columns


def _id_range(ids: list[str]) -> str:
    return ids[0] if len(ids) == 1 else f"{ids[0]} … {ids[-1]}" if len(ids) > 2 \
        else f"{ids[0]} and {ids[1]}"


# -------------------------------------------------------------------- scores

@dataclass(frozen=True)
class StudentScore:
    student: str
    variant: str
    points: dict[str, int]      # every question of the variant → points earned
    total: int
    max: int


# A cell starting with one of these is run as a formula by spreadsheets (OWASP's
# CSV injection rule); a leading ' makes it text.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_text(text: str) -> str:
    """``text`` as a CSV cell that spreadsheets show as text, never run.

    >>> spreadsheet_text("=HYPERLINK(0)"), spreadsheet_text("Ada")
    ("'=HYPERLINK(0)", 'Ada')
    """
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


@dataclass(frozen=True)
class Scores:
    template: str
    questions: tuple[str, ...]          # the question columns of scores.csv
    students: tuple[StudentScore, ...]  # sorted by student
    problems: tuple[str, ...] = ()      # one line per row that was not graded

    def header(self) -> list[str]:
        return ["student", "variant", *self.questions, "total", "max"]

    def rows(self) -> list[list[str]]:
        return [[spreadsheet_text(s.student), s.variant,
                 *(str(s.points[q]) if q in s.points else "" for q in self.questions),
                 str(s.total), str(s.max)] for s in self.students]

    def to_csv(self) -> str:
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(self.header())
        writer.writerows(self.rows())
        return buffer.getvalue()


def question_columns(manifest: Manifest) -> tuple[str, ...]:
    """Every question id in manifest order; an id only later variants have is put
    right after the id that precedes it in that variant."""
    columns: list[str] = []
    for keys in manifest.variants.values():
        after = -1
        for key in keys:
            if key.id in columns:
                after = columns.index(key.id)
            else:
                after += 1
                columns.insert(after, key.id)
    return tuple(columns)


def grade(homework_dir: str | Path, responses_csv: str | Path) -> Scores:
    """Grade every student's answers.  A bad file raises one SymparamsError line;
    a bad row is left out and its line is in ``Scores.problems``."""
    manifest = load_manifest(homework_dir)
    problems: list[str] = []
    responses = read_responses(responses_csv, manifest, problems)
    by_student: dict[str, list[Response]] = {}
    for response in responses:
        by_student.setdefault(response.student, []).append(response)
    students = []
    for student in sorted(by_student):
        answers = by_student[student]
        vid = answers[0].variant
        given = {r.question: r.answer for r in answers}
        points = {key.id: key.points if key.id in given and key.check(given[key.id]) else 0
                  for key in manifest.variants[vid]}
        students.append(StudentScore(student, vid, points, sum(points.values()),
                                     sum(key.points for key in manifest.variants[vid])))
    return Scores(manifest.template, question_columns(manifest), tuple(students),
                  tuple(problems))


def write_scores(scores: Scores, path: str | Path | None) -> None:
    """scores.csv to ``path`` (atomically: a failure keeps any old file) or, for
    None or ``-``, to standard output."""
    text = scores.to_csv()
    if path is None or str(path) == "-":
        sys.stdout.write(text)
        sys.stdout.flush()
        return
    from ..render.common import atomic_write
    atomic_write(path, text)
