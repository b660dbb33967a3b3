"""Homework questions give nothing away: no printed number answers a question,
backwards answers are not guessable from what is shown, and the classmate's
network keeps the template's fixed sizes."""
import re
from collections import Counter

import pytest

from symparams.homework.build import load_template, make_variants
from symparams.render.homework import render_sheet

PRESETS = ("lenet", "vgg-small", "strided")


def content_numbers(markdown: str) -> set[int]:
    """The numbers a Markdown question sheet prints as content: its header line,
    question and list numbering, table row numbers, points and letters'
    subscripts are the sheet's structure, not data, and are left out."""
    lines = markdown.splitlines()
    kept = []
    for line in lines:
        if line.startswith("**Question sheet**") or line.startswith("Name:"):
            continue
        line = re.sub(r"^\|\s*\d+\.?\s*\|", "|", line)          # table no. / # column
        line = re.sub(r"^\*\*\d+\.\*\*", "", line)              # **17.** question number
        line = re.sub(r"^\d+\. ", "", line)                     # list numbering
        line = re.sub(r"\(\d+ points?( each, \d+ points?)?\)", "", line)
        line = re.sub(r"\(\d+( \+ \d+)+ points, \d+ points\)", "", line)
        line = re.sub(r"_\{\d+\}", "", line)                     # k_{1}: a letter's name
        line = re.sub(r"then \d+ layers", "", line)
        kept.append(line)
    text = "\n".join(kept)
    text = re.sub(r"(?<=\d)[,\u2009\u202f ](?=\d{3}\b)", "", text)
    # Digits inside names (CONV1, FC3, CONV1\_1) are not numbers.
    return {int(n) for n in re.findall(r"(?<![A-Za-z_\d.])\d+(?![\d.]*[A-Za-z])", text)}


def test_content_numbers_skips_structure():
    sheet = ("**Question sheet** · lenet · variant-35 · seed 2 · 19 questions · 22 points\n"
             "| 3 | CONV1\\_1 | convolution | 5 × 5 | 1 | 0 | 48 | — |\n"
             "| 17. | How many learnable parameters does FC3 have? | |\n"
             "**18.** Suppose CONV1 had 1,064 learnable parameters (2 points)\n"
             "1. CONV1 (convolution): $k_{1} \\times 3 = 42$\n")
    assert content_numbers(sheet) == {5, 1, 0, 48, 1064, 3, 42}


def integer_answers(variant) -> dict[int, str]:
    return {q.answer: q.id for q in variant.questions if q.kind == "integer"}


def leaks(variant) -> list[tuple[str, int]]:
    printed = content_numbers(render_sheet(variant, "questions", "md"))
    return [(qid, answer) for answer, qid in integer_answers(variant).items()
            if answer in printed]


def test_reported_leak_lenet_seed_2_variant_35():
    template, plan = load_template("lenet")
    variant = make_variants(template, plan, 40, seed=2)[34]
    assert variant.id == "variant-35"
    assert leaks(variant) == []


@pytest.mark.parametrize("preset", PRESETS)
def test_no_number_on_a_question_sheet_answers_one_of_its_questions(preset):
    template, plan = load_template(preset)
    found = []
    for seed in range(8):
        for variant in make_variants(template, plan, 8, seed):
            found += [(seed, variant.id, *leak) for leak in leaks(variant)]
    assert found == []


def _sweep(preset, seeds=range(12), n=10):
    template, plan = load_template(preset)
    for seed in seeds:
        yield from make_variants(template, plan, n, seed)


def test_backwards_answers_go_both_ways_at_several_distances():
    """The hidden size is drawn from the template's values, not at a fixed offset
    from a shown one: both directions and several distances occur, relative to
    the variant's own size and to the classmate's."""
    to_own, to_classmate = Counter(), Counter()
    for preset in PRESETS:
        for variant in _sweep(preset):
            question = next(q for q in variant.questions if q.type == "backwards")
            layer, field = question.id.split(".")[1:]
            info = variant.net[layer]
            letter = {"filters": "k", "units": "c", "kernel": "m"}[field]
            own = int(info.values[info.letters[letter]])
            to_own[question.answer - own] += 1
            classmate = next(q.network for q in variant.questions if q.network is not None)
            other = classmate[layer]
            shown = int(other.values[other.letters[letter]])
            to_classmate[question.answer - shown] += 1
    for differences in (to_own, to_classmate):
        assert 0 not in differences
        assert any(d < 0 for d in differences) and any(d > 0 for d in differences)
        assert len({abs(d) for d in differences}) >= 5, differences
    # No single offset dominates (the old rule gave only ±2, ±4, ±6, ±8).
    assert {abs(d) for d in to_own} - {2, 4, 6, 8}


@pytest.mark.parametrize("preset", PRESETS)
def test_classmate_keeps_the_templates_fixed_sizes(preset):
    template, plan = load_template(preset)
    fixed_fields = [(i, key) for i, layer in enumerate(template.data["layers"])
                    for key, value in layer.items()
                    if key not in ("type", "name") and not isinstance(value, dict)]
    assert fixed_fields
    for variant in make_variants(template, plan, 10, seed=3):
        classmate = next(q.network for q in variant.questions if q.network is not None)
        # Both through to_spec, which writes sizes the same way (defaults left out).
        theirs, ours = classmate.to_spec()["layers"], variant.net.to_spec()["layers"]
        for i, key in fixed_fields:
            assert theirs[i].get(key) == ours[i].get(key), (variant.id, i, key)
        # Something does change, else the classmate's counts would be the real ones.
        assert theirs != ours


def _answer_box_pages(page: str):
    """Each answer box's pieces [(page, top, height)], in document order, and
    where the first page's content ends."""
    import weasyprint
    from weasyprint.formatting_structure.boxes import BlockBox
    document = weasyprint.HTML(string=page).render()
    pieces: dict[str, list] = {}
    for number, page_ in enumerate(document.pages):
        for box in page_._page_box.descendants():
            element = getattr(box, "element", None)
            if isinstance(box, BlockBox) and element is not None and \
                    "answer-box" in (element.get("class") or ""):
                pieces.setdefault(id(element), []).append((number, box.position_y,
                                                           box.margin_height()))
    bottom = document.pages[0]._page_box
    return list(pieces.values()), bottom.margin_top + bottom.height


def test_the_backwards_answer_box_does_not_split_across_pages():
    """Push the backwards question's answer box so that it starts just above the
    end of a page (a spacer before it, as a longer sheet would): it must move
    to the next page whole, not split."""
    from symparams.render.homework import build_sheet, render_page
    template, plan = load_template("lenet")
    variant = make_variants(template, plan, 1, seed=1)[0]
    sheet = build_sheet(variant, "questions")
    number = next(item.number for group in sheet.groups for item in group.items
                  if item.type == "backwards")
    page = render_page(sheet, medium="print")
    start = page.index('<div class="answer-box', page.index(f'id="q{number}"'))
    which = page[:start].count('class="answer-box')
    pieces, bottom = _answer_box_pages(page)
    (_, top, height), = pieces[which]
    spacer = bottom - top - height / 3          # the box would start 2/3 of itself too low
    pushed = page[:start] + f'<div style="height: {spacer:.1f}px"></div>' + page[start:]
    moved, _ = _answer_box_pages(pushed)
    assert len(moved[which]) == 1, moved[which]
    (page_number, new_top, new_height), = moved[which]
    assert page_number >= 1 and new_height == pytest.approx(height, abs=5)  # top margin
    # Browsers printing the HTML sheet must keep it whole too: the rule is on
    # every answer box of both pages (WeasyPrint 70 happens not to split such a
    # box even without it; browsers do).
    import weasyprint
    from weasyprint.formatting_structure.boxes import BlockBox
    for html in (page, render_page(sheet)):
        document = weasyprint.HTML(string=html).render()
        styles = [box.style["break_inside"] for p in document.pages
                  for box in p._page_box.descendants()
                  if isinstance(box, BlockBox) and getattr(box, "element", None) is not None
                  and "answer-box" in (box.element.get("class") or "")]
        assert styles and set(styles) == {"avoid"}, styles
