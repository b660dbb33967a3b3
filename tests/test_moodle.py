"""moodle.xml: a question bank that parses, grades the manifest's answers and escapes
everything a template says."""
import re
import xml.etree.ElementTree as ET
from html.parser import HTMLParser

import pytest

from symparams.homework.build import load_template, make_variants, manifest
from symparams.homework.moodle import (category_path, moodle_xml, shape_spellings,
                                       shortanswer_escape)

HTML_TAGS = {"div", "p", "strong", "span", "small", "em", "table", "thead", "tbody", "tr",
             "th", "td", "ul", "li", "br"}


@pytest.fixture(scope="module")
def lenet():
    template, plan = load_template("lenet")
    variants = make_variants(template, plan, 4, seed=1)
    return variants, manifest("lenet", 1, variants), moodle_xml("lenet", variants)


def parse(xml: str) -> ET.Element:
    parser = ET.XMLParser(target=ET.TreeBuilder(insert_comments=True))
    return ET.fromstring(xml.encode("utf-8"), parser=parser)


def questions(root):
    return {q.find("name/text").text: q for q in root.findall("question")
            if q.get("type") != "category"}


class Tags(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags, self.text = set(), []

    def handle_starttag(self, tag, attrs):
        self.tags.add(tag)

    def handle_data(self, data):
        self.text.append(data)


def html_of(question, path="questiontext/text") -> Tags:
    tags = Tags()
    tags.feed(question.find(path).text or "")
    return tags


def test_declaration_and_category_first(lenet):
    _, _, xml = lenet
    assert xml.startswith('<?xml version="1.0" encoding="UTF-8"?>\n<quiz>')
    root = parse(xml)
    first = root.find("question")
    assert first.get("type") == "category"
    assert first.find("category/text").text == "$course$/top/symparams/lenet"
    assert root.findall("question")[0] is first


def test_each_variant_total_is_full_marks(lenet):
    variants, data, xml = lenet
    found = questions(parse(xml))
    for entry in data["variants"]:
        question = found[f"{entry['id']} params.total"]
        assert question.get("type") == "numerical"
        answers = question.findall("answer")
        assert [a.get("fraction") for a in answers] == ["100"]
        assert int(answers[0].find("text").text) == entry["answers"]["total"]


def test_every_question_is_there_with_its_answer_and_points(lenet):
    variants, data, xml = lenet
    found = questions(parse(xml))
    expected = set()
    for entry in data["variants"]:
        for q in entry["questions"]:
            name = f"{entry['id']} {q['id']}"
            if q["type"] == "symbolic":
                assert name not in found
                continue
            expected.add(name)
            element = found[name]
            assert element.find("defaultgrade").text == str(q["points"])
            first = element.find("answer")
            assert first.get("fraction") == "100"
            if isinstance(q["answer"], int):
                assert element.get("type") == "numerical"
                assert first.find("text").text == str(q["answer"])
            else:
                assert element.get("type") == "shortanswer"
                assert element.find("usecase").text == "0"
                assert first.find("text").text == q["answer"]   # canonical first
    assert set(found) == expected


def test_numerical_tolerance_is_zero_and_no_units(lenet):
    _, _, xml = lenet
    numerical = parse(xml).findall("question[@type='numerical']")
    assert numerical
    for question in numerical:
        for answer in question.findall("answer"):
            assert answer.find("tolerance").text == "0"
        assert question.find("showunits").text == "3"


def test_shapes_accept_the_usual_spellings_with_literal_stars(lenet):
    _, _, xml = lenet
    found = questions(parse(xml))
    question = found["variant-01 shapes.CONV1"]
    texts = [a.find("text").text for a in question.findall("answer")]
    canonical = texts[0]
    h, w, c = re.findall(r"\d+", canonical)
    assert canonical == f"{h} × {w} × {c}"
    for spelling in (f"{h}x{w}x{c}", f"{h} x {w} x {c}", f"{h}×{w}×{c}",
                     f"({h}, {w}, {c})", f"[{h},{w},{c}]", rf"{h}\*{w}\*{c}"):
        assert spelling in texts
    assert all(re.search(r"(?<!\\)\*", t) is None for t in texts)   # no wildcards
    assert shape_spellings("64")[:1] == ["64"] and "(64,)" in shape_spellings("64")


def test_expressions_are_left_out_with_a_comment(lenet):
    variants, _, xml = lenet
    comments = [c.text for c in parse(xml).iter(ET.Comment)]
    for variant in variants:
        assert any(f"{variant.id} symbolic.total" in c and "symparams grade" in c
                   for c in comments)


def test_question_text_shows_the_network_and_prompt_but_no_counts(lenet):
    variants, _, xml = lenet
    found = questions(parse(xml))
    for variant in variants:
        counts = {int(info.params) for info in variant.net.layers[1:] if info.params}
        counts.add(int(variant.net.total))
        for q in variant.questions:
            if q.kind == "expression":
                continue
            html = html_of(found[f"{variant.id} {q.id}"])
            assert html.tags <= HTML_TAGS and "table" in html.tags
            text = " ".join(html.text)
            assert q.prompt in text
            for layer in variant.spec["layers"]:
                assert layer["name"] in text
            numbers = {int(n) for n in re.findall(r"\d+", text.replace(",", ""))}
            assert not counts & numbers, (variant.id, q.id)


def test_same_variants_same_bytes(lenet):
    variants, _, xml = lenet
    assert moodle_xml("lenet", variants) == xml
    template, plan = load_template("lenet")
    again = make_variants(template, plan, 4, seed=1)
    assert moodle_xml("lenet", again).encode("utf-8") == xml.encode("utf-8")


HOSTILE = "]]><script>x</script>"


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    path = tmp_path_factory.mktemp("hostile") / "t.yaml"
    path.write_text(
        'name: "]]><script>x</script> -- a/b"\n'
        'title: "<script>alert(1)</script> ]]> & \\x01 --"\n'
        "input: [16, 16, 1]\n"
        "layers:\n"
        '  - {type: conv2d, name: "]]><script>x</script>", kernel: {choice: [3, 5]}, '
        "filters: {range: [2, 8], step: 2}}\n"
        '  - {type: maxpool2d, name: "<b>P*1</b>", kernel: 2}\n'
        '  - {type: dense, name: "a--b&c", units: {choice: [4, 6, 8]}}\n', encoding="utf-8")
    template, plan = load_template(str(path))
    variants = make_variants(template, plan, 3, seed=2)
    return template.data["name"], variants, moodle_xml(template.data["name"], variants)


def test_hostile_names_stay_escaped(hostile):
    name, variants, xml = hostile
    assert "<script" not in xml and "<b>" not in xml
    root = parse(xml)           # still well-formed
    assert root.find("question/category/text").text == \
        "$course$/top/symparams/]]><script>x<//script> -- a//b"
    found = questions(root)
    assert f"variant-01 params.{HOSTILE}" in found
    for question in found.values():
        for path in ("questiontext/text", "generalfeedback/text"):
            html = html_of(question, path)
            assert html.tags <= HTML_TAGS, html.tags
            assert "script" not in html.tags and "b" not in html.tags
        text = " ".join(html_of(question).text)
        assert HOSTILE in text and "<b>P*1</b>" in text     # shown literally
        assert "\ufffd" in text                               # \x01 replaced


def test_hostile_comments_and_answers(hostile):
    _, variants, xml = hostile
    comments = [c.text for c in parse(xml).iter(ET.Comment)]
    assert comments and all("--" not in c for c in comments)
    layer_answers = [a.find("text").text for q in parse(xml).findall("question")
                     if q.find("name/text") is not None
                     and q.find("name/text").text.endswith("find-error.layer")
                     for a in q.findall("answer")]
    assert layer_answers and all(re.search(r"(?<!\\)\*", t) is None for t in layer_answers)


def test_helpers():
    assert shortanswer_escape("P*1") == "P\\*1"
    assert category_path("a/b") == "$course$/top/symparams/a//b"
    assert category_path("/x/") == "$course$/top/symparams/ //x// "
    assert category_path("  ") == "$course$/top/symparams/homework"


UNNAMED = {"name": "unnamed", "input": [{"choice": [16, 20]}, "same", 1],
           "layers": [{"type": "conv2d", "kernel": 3, "filters": {"choice": [4, 6, 8]}},
                      {"type": "maxpool2d", "kernel": 2},
                      {"type": "flatten"},
                      {"type": "dense", "units": {"choice": [5, 7]}}]}


@pytest.fixture(scope="module")
def unnamed(tmp_path_factory):
    import yaml
    path = tmp_path_factory.mktemp("unnamed") / "unnamed.yaml"
    path.write_text(yaml.safe_dump(UNNAMED), encoding="utf-8")
    template, plan = load_template(str(path))
    variants = make_variants(template, plan, 2, seed=1)
    return variants, moodle_xml("unnamed", variants)


def table_rows(question) -> list[list[str]]:
    """The network table's rows of a question text, cell by cell."""
    html = question.find("questiontext/text").text
    rows = []
    for row in re.findall(r"<tr>(.*?)</tr>", html, re.S):
        rows.append(re.findall(r"<t[dh]>(.*?)</t[dh]>", row, re.S))
    return rows


def test_unnamed_layers_show_the_names_the_questions_use(unnamed):
    variants, xml = unnamed
    found = questions(parse(xml))
    variant = variants[0]
    names = [info.name for info in variant.net.layers[1:]]
    assert "FLATTEN1" in names or any(n.startswith("FLATTEN") for n in names)
    question = found[f"{variant.id} shapes.{names[2]}"]
    assert [row[1] for row in table_rows(question)[2:]] == names
    assert f"shape of {names[2]}" in " ".join(html_of(question).text)


def test_find_error_prompt_comes_before_the_working_it_says_is_below(lenet):
    variants, _, xml = lenet
    found = questions(parse(xml))
    for variant in variants:
        for qid in ("find-error.layer", "find-error.value"):
            html = found[f"{variant.id} {qid}"].find("questiontext/text").text
            prompt = next(q.prompt for q in variant.questions if q.id == qid)
            assert html.index(prompt.split(",")[0]) < html.index("<ul>"), qid
            if "below" in prompt:
                assert "above" not in prompt
            assert "that layer" not in prompt      # it would name nothing on its own


def test_shape_feedback_shows_the_shape_working_not_the_parameter_step(lenet, unnamed):
    for variants, xml in ((lenet[0], lenet[2]), unnamed):
        found = questions(parse(xml))
        for variant in variants:
            for question in variant.questions:
                if question.type != "shapes":
                    continue
                info = variant.net[question.id.split(".", 1)[1]]
                feedback = " ".join(html_of(found[f"{variant.id} {question.id}"],
                                            "generalfeedback/text").text)
                assert question.answer in feedback, (variant.id, question.id)
                if info.layer.has_params:
                    # the parameter count is no part of the shape's working
                    assert f"= {info.params}" not in feedback.replace(",", "")
                if info.kind in ("conv2d", "maxpool2d", "avgpool2d"):
                    assert "⌊" in feedback and "height" in feedback, feedback
                if info.kind == "flatten":
                    h, w, c = info.input_shape
                    assert f"{h} × {w} × {c}" in feedback, feedback


def test_left_out_questions_are_listed_for_the_command_line(lenet):
    from symparams.homework.moodle import left_out
    variants, _, _ = lenet
    assert left_out(variants) == [(v.id, "symbolic.total") for v in variants]
