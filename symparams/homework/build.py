"""Building a homework set: variants, their questions and answers, and the manifest.

Everything here is deterministic in (template, seed): variant k's network comes
from the k-th distinct index drawn with the seed, and its questions from a
random generator seeded with ``"{seed}:{k}"``.  Rendering can therefore run in
any number of processes and give the same files.
"""
from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from ..errors import SymparamsError
from ..network import Network
from ..spec import preset_names, read_document, spec_from_data
from .questions import QUESTION_TYPES, Question, make_questions
from .variation import Template

DEFAULT_PLAN = [("params", 1), ("shapes", 1), ("find-error", 2), ("backwards", 2),
                ("symbolic", 2)]


@dataclass
class Variant:
    """One student's exercise: a concrete network and its questions."""
    id: str                    # "variant-01"
    number: int                # 1-based
    seed: int
    template: str              # the template's name
    spec: dict                 # the concrete spec (what variant-NN/spec.yaml holds)
    net: Network
    questions: list[Question]

    def answers(self) -> dict[str, Any]:
        """The manifest's answers: every layer's count and shape, and the total."""
        return {"layers": [{"name": info.name, "params": int(info.params),
                            "output_shape": [int(v) for v in info.output_shape]}
                           for info in self.net.layers[1:]],
                "total": int(self.net.total)}

    def manifest(self) -> dict[str, Any]:
        return {"id": self.id, "spec": f"{self.id}/spec.yaml", "answers": self.answers(),
                "questions": [q.manifest() for q in self.questions]}

    def spec_yaml(self) -> str:
        """The spec as YAML (through the serializer) under a two-line comment whose
        text is made one printable line: a template name cannot add YAML keys."""
        header = (f"# {yaml_comment(self.template)}, {self.id} (seed {self.seed}). "
                  f"A normal spec:\n#   symparams count {self.id}/spec.yaml\n")
        return header + yaml.safe_dump(self.spec, sort_keys=False, allow_unicode=True,
                                       default_flow_style=None, width=100)


def yaml_comment(text: Any, limit: int = 120) -> str:
    """``text`` fit for one YAML comment line: every character that is not
    printable (line breaks of any kind, including NEL and U+2028, control
    characters, lone surrogates) written as its escape, and long text cut."""
    text = str(text)
    if len(text) > limit:
        text = text[:limit - 1] + "…"
    return "".join(ch if ch.isprintable() else ch.encode("unicode_escape").decode("ascii")
                   for ch in text)


# ------------------------------------------------------------------ templates

def template_presets() -> list[str]:
    return preset_names("symparams.homework")


def load_template(target: str, exact: bool = False) -> tuple[Template, list[tuple[str, int]]]:
    """A homework template from a file or a preset name, with its question plan."""
    data, source = read_document(target, "symparams.homework", what="homework preset")
    if not isinstance(data, dict):
        raise SymparamsError("expected a mapping with name, input, layers and questions",
                             file=source)
    plan = question_plan(data.get("questions"), source)
    data.setdefault("name", Path(source).stem)
    template = Template(data, source=source, exact=exact)
    return template, QuestionPlan(plan, template.size_values())


class QuestionPlan(list):
    """A template's plan of (type, points), which also carries the values of the
    sizes the template varies ((layer index, field) → values): backwards questions
    draw their hidden size from them and the classmate's network changes only
    them.  A list, so it pickles to rendering workers with everything in it."""

    def __init__(self, plan=(), sizes: dict | None = None):
        super().__init__(plan)
        self.sizes = dict(sizes or {})


def question_plan(raw: Any, source: str | None) -> list[tuple[str, int]]:
    """``questions: [{type: params, points: 1}, …]`` → [(type, points)]."""
    if raw is None:
        return list(DEFAULT_PLAN)
    if not isinstance(raw, list) or not raw:
        raise SymparamsError("expected a non-empty list of {type, points}", file=source,
                             field="questions")
    plan = []
    for i, entry in enumerate(raw, start=1):
        where = f"questions[{i}]"
        if isinstance(entry, str):
            entry = {"type": entry}
        if not isinstance(entry, dict) or set(entry) - {"type", "points"}:
            raise SymparamsError(f"expected {{type, points}}, found {entry!r}", file=source,
                                 field=where)
        qtype, points = entry.get("type"), entry.get("points", 1)
        if qtype not in QUESTION_TYPES:
            raise SymparamsError(f"unknown question type {qtype!r} (known: "
                                 f"{', '.join(QUESTION_TYPES)})", file=source, field=where)
        if isinstance(points, bool) or not isinstance(points, int) or points < 0:
            raise SymparamsError(f"points must be a whole number ≥ 0, found {points!r}",
                                 file=source, field=where)
        plan.append((qtype, points))
    return plan


# ------------------------------------------------------------------- variants

def variant_id(number: int, total: int) -> str:
    return f"variant-{number:0{max(2, len(str(total)))}d}"


def make_variant(spec: dict, number: int, total: int, seed: int, template: str,
                 plan: list[tuple[str, int]]) -> Variant:
    """Build one variant from its concrete spec; the same inputs give the same variant."""
    vid = variant_id(number, total)
    spec = {**spec, "name": f"{spec.get('name', template)}-{vid}"}
    net = Network.from_spec(spec_from_data(spec, source=f"{vid}/spec.yaml"))
    if not net.is_exact:
        raise SymparamsError("homework sizes must all be numbers or variations; this variant "
                             f"has a symbolic total {net.total}", file=template)
    questions = make_questions(net, plan, random.Random(f"{seed}:{number}"))
    return Variant(vid, number, seed, template, spec, net, questions)


def make_variants(template: Template, plan, n: int, seed: int) -> list[Variant]:
    name = template.data.get("name", "homework")
    return [make_variant(spec, k, n, seed, name, plan)
            for k, spec in enumerate(template.draw(n, seed), start=1)]


def manifest(template_name: str, seed: int, variants: list[Variant]) -> dict[str, Any]:
    return {"template": template_name, "seed": seed,
            "variants": [v.manifest() for v in variants]}


def answers_csv_rows(variants: list[Variant]) -> list[tuple[str, str, str]]:
    return [(v.id, q.id, str(q.answer)) for v in variants for q in v.questions]
