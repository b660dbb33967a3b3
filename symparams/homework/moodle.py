"""Every variant's questions as a Moodle XML question bank (``moodle.xml``).

The file starts with one ``<question type="category">`` named
``$course$/top/symparams/<template>``; every variant's questions follow, named
``variant-01 params.CONV1`` and so on, each worth its points
(``<defaultgrade>``).  Every question text shows the variant's network (a
table of its layers and sizes, never its output shapes or counts), the
classmate's working for find-error questions, and the prompt.

How each kind of answer is graded by Moodle:

* ``integer`` → ``numerical`` with tolerance 0 and no units.  Moodle reads a
  single comma as a *decimal* comma (``62,958`` would be 62.958, marked wrong),
  so the question text asks for digits only; spaces are fine in Moodle.
* ``shape`` → ``shortanswer`` (``usecase`` 0) accepting the canonical
  ``28 × 28 × 8`` and the usual spellings: ``28×28×8``, ``28 x 28 x 8``,
  ``28x28x8`` (``X`` too, case is ignored), ``28 * 28 * 8``, ``28, 28, 8``,
  ``(28, 28, 8)``, ``[28, 28, 8]`` with and without spaces; a flat layer
  also ``[64]``, ``(64)``, ``(64,)``.
* ``name`` → ``shortanswer`` (``usecase`` 0) with the layer's name.

In shortanswer answers Moodle reads ``*`` as a wildcard; every literal ``*``
is written ``\\*`` so that ``28 * 28 * 8`` (or a layer name with a star)
matches only itself.

**Expression answers are left out.**  A symbolic total can be written in many
equivalent ways (``k₁·(25·k₂ + 76) + …``, terms in any order); Moodle's
shortanswer compares strings and numerical compares numbers, so a correct
answer would often be marked wrong (Moodle's own formulas and STACK question
types that could compare expressions are plugins, not part of every Moodle).
Each omitted question is named in an XML comment at its place, and
``symparams homework`` says on standard error how many were left out; grade
those answers with ``symparams grade``, which checks equivalence with SymPy.

Each question text names the layers as the questions do (an unnamed flatten is
``FLATTEN1`` in the table too) and puts the prompt before the classmate's
working it refers to; a shape question's feedback shows how the shape is
worked out (the layer's own ``shape_steps``, as in the reports).

The XML is built with :mod:`xml.etree.ElementTree`, so every piece of text
from the template (names, titles, prompts) is escaped by the serialiser; the
HTML of a question text is itself built as an element tree, serialised, and
then stored as (escaped) text, never pasted together from strings.  Characters
that XML 1.0 cannot hold become U+FFFD.  The same variants always give the same
bytes: no dates, no ids, insertion-ordered attributes.
"""
from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from typing import Any, Iterable

from .build import Variant
from .grading import parse_shape
from .questions import Question

CATEGORY_ROOT = "$course$/top/symparams"
PENALTY = "0.3333333"           # Moodle's default penalty for a wrong try

# Everything XML 1.0 allows; the rest (control characters, lone surrogates,
# U+FFFE/U+FFFF) is replaced so that the file always parses.
_XML_ILLEGAL = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")

DEFAULTS_NOTE = ("Sizes not listed take their defaults: a convolution has stride 1, "
                 "padding 0 and dilation 1; a pooling layer's stride is its window; "
                 "convolutions and dense layers have biases unless bias false is listed.")

_HINTS = {
    "integer": "Answer with a whole number, digits only (no thousands separators).",
    "shape": "Write the shape as its sizes joined by × or x (height × width × channels), "
             "or one number for a flat layer.",
    "name": "Answer with the layer's name as it appears in the table.",
}


def _clean(text: Any) -> str:
    return _XML_ILLEGAL.sub("\ufffd", str(text))


def _comment(text: str) -> ET.Element:
    """An XML comment; '--' cannot appear in one, nor a '-' at its end.  Angle
    brackets become ‹ › so that no tag-like text hides in a comment either."""
    text = re.sub("-{2,}", "-", _clean(text)).replace("<", "‹").replace(">", "›")
    return ET.Comment(f" {text.rstrip('-')} ")


def _text_element(parent: ET.Element, tag: str, text: str, **attrib: str) -> ET.Element:
    """``<tag attrib><text>…</text></tag>``, Moodle's wrapper for every text."""
    outer = ET.SubElement(parent, tag, attrib)
    ET.SubElement(outer, "text").text = _clean(text)
    return outer


def _simple(parent: ET.Element, tag: str, text: str) -> ET.Element:
    element = ET.SubElement(parent, tag)
    element.text = _clean(text)
    return element


def category_path(template_name: str) -> str:
    """``$course$/top/symparams/<name>``; a '/' in the name is doubled, as Moodle
    escapes it, so the name stays one category.

    >>> category_path("a/b")
    '$course$/top/symparams/a//b'
    """
    name = (" ".join(str(template_name).split()) or "homework").replace("/", "//")
    if name.startswith("/"):
        name = " " + name          # as Moodle's assemble_category_path does
    if name.endswith("/"):
        name = name + " "
    return f"{CATEGORY_ROOT}/{name}"


# ------------------------------------------------------------------------ HTML

def _html(element: ET.Element) -> str:
    return ET.tostring(element, encoding="unicode", method="html")


def _cell(row: ET.Element, tag: str, text: Any) -> None:
    ET.SubElement(row, tag).text = _clean(text)


def _size_text(value: Any) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, (list, tuple)):
        return " × ".join(_size_text(v) for v in value)
    return str(value)


def _fields_text(layer: dict) -> str:
    return ", ".join(f"{key} {_size_text(value)}" for key, value in layer.items()
                     if key not in ("type", "name"))


def network_table(spec: dict, names: list[str] | None = None) -> ET.Element:
    """The variant's network as given in its spec: layer, type and sizes, nothing
    derived (no output shapes, no counts: those are what the questions ask).
    ``names`` are the layers' names as the questions use them (an unnamed
    flatten is FLATTEN1 there); without them, the spec's names."""
    table = ET.Element("table", {"border": "1", "cellpadding": "4",
                                 "style": "border-collapse: collapse"})
    head = ET.SubElement(ET.SubElement(table, "thead"), "tr")
    for title in ("#", "layer", "type", "sizes"):
        _cell(head, "th", title)
    body = ET.SubElement(table, "tbody")
    row = ET.SubElement(body, "tr")
    for text in ("0", "INPUT", "input", _size_text(spec.get("input", []))):
        _cell(row, "td", text)
    for index, layer in enumerate(spec.get("layers", []), start=1):
        row = ET.SubElement(body, "tr")
        name = names[index - 1] if names else layer.get("name", "")
        for text in (index, name, layer.get("type", ""), _fields_text(layer)):
            _cell(row, "td", text)
    return table


def _steps_list(parent: ET.Element, steps: Iterable) -> None:
    items = ET.SubElement(parent, "ul")
    for step in steps:
        item = ET.SubElement(items, "li")
        ET.SubElement(item, "strong").text = _clean(step.title)
        ET.SubElement(item, "br")
        ET.SubElement(item, "span").text = _clean(step.text.equation())


def question_html(variant: Variant, question: Question, table: ET.Element) -> str:
    root = ET.Element("div")
    heading = ET.SubElement(root, "p")
    title = variant.spec.get("title") or variant.template
    ET.SubElement(heading, "strong").text = _clean(title)
    ET.SubElement(heading, "span").text = _clean(f" ({variant.id})")
    root.append(table)
    ET.SubElement(ET.SubElement(root, "p"), "small").text = DEFAULTS_NOTE
    # The prompt first: a find-error prompt says the working is shown below it.
    ET.SubElement(root, "p").text = _clean(question.prompt)
    if question.shown:
        ET.SubElement(root, "p").text = "The classmate's working:"
        _steps_list(root, question.shown)
    hint = _HINTS.get(question.kind)
    if hint:
        ET.SubElement(ET.SubElement(root, "p"), "em").text = hint
    return _html(root)


def feedback_html(question: Question, variant: Variant | None = None) -> str:
    """The worked solution, shown after the attempt as Moodle's review options allow.
    A shape question shows how the shape is worked out (not the layer's count)."""
    steps = question.worked
    if question.type == "shapes" and variant is not None and question.worked:
        steps = variant.net[question.worked[0].name].shape_steps
    if not steps and question.type != "shapes":
        return ""
    root = ET.Element("div")
    ET.SubElement(root, "p").text = "Worked solution:"
    if steps:
        _steps_list(root, steps)
    if question.type == "shapes":
        ET.SubElement(root, "p").text = _clean(f"Output shape: {question.answer}")
    return _html(root)


# ------------------------------------------------------------------- answers

def shortanswer_escape(text: str) -> str:
    """Moodle reads ``*`` in a shortanswer answer as 'anything'; ``\\*`` is a star."""
    return text.replace("*", "\\*")


def shape_spellings(canonical: str) -> list[str]:
    """The canonical shape text first, then the other accepted spellings."""
    sizes = parse_shape(canonical)
    if sizes is None:
        return [canonical]
    numbers = [str(n) for n in sizes]
    found = [canonical]
    for sep in (" × ", "×", " x ", "x", " * ", "*"):
        found.append(sep.join(numbers))
    for sep in (", ", ","):
        joined = sep.join(numbers)
        found += [joined, f"({joined})", f"[{joined}]"]
    if len(numbers) == 1:
        found.append(f"({numbers[0]},)")
    return list(dict.fromkeys(found))


def _header(question_el: ET.Element, variant: Variant, question: Question,
            table: ET.Element) -> None:
    _text_element(question_el, "name", f"{variant.id} {question.id}")
    _text_element(question_el, "questiontext", question_html(variant, question, table),
                  format="html")
    _text_element(question_el, "generalfeedback", feedback_html(question, variant),
                  format="html")
    _simple(question_el, "defaultgrade", str(question.points))
    _simple(question_el, "penalty", PENALTY)
    _simple(question_el, "hidden", "0")


def _answer(parent: ET.Element, text: str) -> ET.Element:
    answer = ET.SubElement(parent, "answer", {"fraction": "100",
                                              "format": "moodle_auto_format"})
    _simple(answer, "text", text)
    _text_element(answer, "feedback", "", format="html")
    return answer


def numerical_question(variant: Variant, question: Question, table: ET.Element) -> ET.Element:
    element = ET.Element("question", {"type": "numerical"})
    _header(element, variant, question, table)
    answer = _answer(element, str(int(question.answer)))
    _simple(answer, "tolerance", "0")
    _simple(element, "unitgradingtype", "0")
    _simple(element, "unitpenalty", "0.1000000")
    _simple(element, "showunits", "3")      # qtype_numerical::UNITNONE
    _simple(element, "unitsleft", "0")
    return element


def shortanswer_question(variant: Variant, question: Question, table: ET.Element,
                         accepted: list[str]) -> ET.Element:
    element = ET.Element("question", {"type": "shortanswer"})
    _header(element, variant, question, table)
    _simple(element, "usecase", "0")
    for text in accepted:
        _answer(element, shortanswer_escape(text))
    return element


def moodle_question(variant: Variant, question: Question,
                    table: ET.Element) -> ET.Element | None:
    """One question's element, or None for an expression (see the module's notes)."""
    if question.kind == "integer":
        return numerical_question(variant, question, table)
    if question.kind == "shape":
        return shortanswer_question(variant, question, table,
                                    shape_spellings(str(question.answer)))
    if question.kind == "name":
        return shortanswer_question(variant, question, table,
                                    [" ".join(str(question.answer).split())])
    return None


def left_out(variants: list[Variant]) -> list[tuple[str, str]]:
    """(variant id, question id) of every question moodle.xml cannot hold."""
    return [(variant.id, question.id) for variant in variants
            for question in variant.questions if question.kind not in _GRADED_KINDS]


_GRADED_KINDS = ("integer", "shape", "name")


def moodle_xml(template_name: str, variants: list[Variant]) -> str:
    """The question bank for all ``variants`` of a template, as UTF-8 XML text."""
    quiz = ET.Element("quiz")
    quiz.append(_comment(f"symparams homework {template_name}: {len(variants)} variants. "
                         "Symbolic (expression) questions are not included: grade them "
                         "with symparams grade."))
    category = ET.SubElement(quiz, "question", {"type": "category"})
    _text_element(category, "category", category_path(template_name))
    info = ET.Element("p")
    info.text = _clean(f"symparams homework {template_name}: every question's name starts "
                       "with its variant.")
    _text_element(category, "info", _html(info), format="html")
    for variant in variants:
        table = network_table(variant.spec, [info.name for info in variant.net.layers[1:]])
        for question in variant.questions:
            element = moodle_question(variant, question, table)
            if element is None:
                quiz.append(_comment(
                    f"{variant.id} {question.id} ({question.points} points) is left out: "
                    "Moodle's numerical and shortanswer questions cannot recognise "
                    "equivalent expressions. Grade it with symparams grade."))
            else:
                quiz.append(element)
    ET.indent(quiz, space="  ")
    body = ET.tostring(quiz, encoding="unicode", short_empty_elements=False)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + body + "\n"
