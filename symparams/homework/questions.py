"""Question types for homework variants, each with its answer and worked steps.

* ``params``: the learnable parameters of each layer that has any, and the total;
* ``shapes``: the output shape of each layer;
* ``find-error``: a worked solution with exactly one planted, plausible mistake;
  the student names the layer and its correct count;
* ``backwards``: from a layer's count or the total, find the number of filters,
  units or the kernel size (only where that answer is a unique positive integer);
* ``symbolic``: the total as an expression in some of the layers' letters.

Every answer and every worked step is computed by SymPy from the variant's
network; prompts are plain text that templates escape.
"""
from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any, Callable

from sympy import Add, Eq, Expr, Integer, Symbol, evaluate, expand, solve

from ..errors import SymparamsError
from ..layers import Conv2D, Dense, generic_formula
from ..layers.pool import _Pool2D
from ..layerinfo import LayerInfo
from ..network import Network
from ..numbers import ShownCount, count_terms, thousands
from ..printing import Inserted, Ratio, ascii_plain, unicode_plain, unicode_shape
from ..spec import size_symbol
from ..steps import Step
from .sheetnumbers import SheetNumbers, numbers_in, step_numbers

QUESTION_TYPES = ("params", "shapes", "find-error", "backwards", "symbolic")


@dataclass
class Question:
    """One gradable question of a variant."""
    id: str
    type: str
    points: int
    prompt: str
    answer: Any            # int for counts, text for shapes and names, text expression
    kind: str              # "integer", "shape", "name" or "expression"
    worked: list[Step] = field(default_factory=list)
    shown: list[Step] = field(default_factory=list)   # steps the question sheet shows
    network: Network | None = None   # the network asked about, when not the variant's own

    def manifest(self) -> dict:
        return {"id": self.id, "type": self.type, "points": self.points,
                "answer": self.answer, "kind": self.kind}


def _counted(net: Network) -> list[LayerInfo]:
    return [info for info in net.layers[1:] if info.layer.has_params]


# ------------------------------------------------------------------ params, shapes

def params_questions(net: Network, points: int, rng: random.Random,
                      context: Context | None = None) -> list[Question]:
    if any(info.name.lower() == "total" for info in net.layers):
        raise SymparamsError("a layer may not be called 'total' in homework: the question "
                             "params.total asks for the whole network", field="name")
    questions = [Question(f"params.{info.name}", "params", points,
                          f"How many learnable parameters does {info.name} have?",
                          int(info.params), "integer", [info.step])
                 for info in _counted(net)]
    questions.append(Question("params.total", "params", points,
                              "How many learnable parameters does the whole network have?",
                              int(net.total), "integer", [net.total_step]))
    return questions


def shape_text(shape) -> str:
    return unicode_shape(shape)


def shapes_questions(net: Network, points: int, rng: random.Random,
                      context: Context | None = None) -> list[Question]:
    return [Question(f"shapes.{info.name}", "shapes", points,
                     f"What is the output shape of {info.name}?",
                     shape_text(info.output_shape), "shape", [info.step])
            for info in net.layers[1:]]


# --------------------------------------------------------------------- find-error

@dataclass(frozen=True)
class Mistake:
    """A planted mistake: which layer, what went wrong, and the wrong step."""
    info: LayerInfo
    description: str
    step: Step


def _wrong_step(info: LayerInfo, written: Expr, values: dict) -> Step:
    with evaluate(False):
        substituted = written.xreplace(
            {s: v if v.is_Atom else Inserted(v) for s, v in values.items()})
    return Step(title=info.step.title, name=info.name, kind=info.kind, index=info.index,
                description=info.step.description, reason=info.step.reason, notes=(),
                formula=written, substituted=substituted, result=substituted.doit(),
                input_shape=info.input_shape, output_shape=info.output_shape,
                letters=info.step.letters, is_count=True)


def _typo_factor(net, info, rng):
    """A digit slipped in front of a factor, like the source's own ×516 for 16."""
    if not isinstance(info.layer, (Conv2D, Dense)):
        return None
    # A factor written once in the formula: k of a convolution, p of a dense layer.
    letter = "k" if isinstance(info.layer, Conv2D) else "p"
    symbol = info.letters[letter]
    value = info.values[symbol]
    wrong = Integer(int(f"{rng.randint(1, 9)}{int(value)}"))
    values = {**info.values, symbol: wrong}
    return Mistake(info, f"the factor {value} was copied as {wrong}",
                   _wrong_step(info, info.written, values))


def _forgot_bias(net, info, rng):
    if not (info.layer.has_params and info.layer.bias):
        return None
    written = generic_formula(type(info.layer), False)[0]
    generic = {size_symbol(l): s for l, s in info.letters.items()}
    with evaluate(False):
        written = written.xreplace(generic)
    return Mistake(info, "the bias term was forgotten", _wrong_step(info, written, info.values))


def _wrong_channels(net, info, rng):
    """d taken from the wrong layer: the channels that entered the convolution before."""
    if not isinstance(info.layer, Conv2D):
        return None
    earlier = [i for i in net.layers[1:info.index] if isinstance(i.layer, Conv2D)]
    if not earlier:
        return None
    d = info.letters["d"]
    wrong = earlier[-1].values[earlier[-1].letters["d"]]
    if wrong == info.values[d]:
        return None
    return Mistake(info, f"d was taken from the wrong layer ({wrong} instead of "
                         f"{info.values[d]} channels)",
                   _wrong_step(info, info.written, {**info.values, d: wrong}))


def _pool_with_params(net, info, rng):
    """Parameters given to a pooling layer as if it were a convolution."""
    if not isinstance(info.layer, _Pool2D):
        return None
    written = generic_formula(Conv2D, True)[0]
    channels = info.input_shape[2]
    m, n = info.layer.kernel
    values = {size_symbol("m"): m, size_symbol("n"): n, size_symbol("d"): channels,
              size_symbol("k"): channels}
    return Mistake(info, "the pooling layer was counted like a convolution",
                   _wrong_step(info, written, values))


def _no_flatten(net, info, rng):
    """A dense layer after a feature map that took only its channels for p."""
    if not isinstance(info.layer, Dense) or len(info.input_shape) != 3:
        return None
    p = info.letters["p"]
    wrong = info.input_shape[2]
    if wrong == info.values[p]:
        return None
    return Mistake(info, f"the input was not flattened (p = {wrong} instead of "
                         f"{info.values[p]})",
                   _wrong_step(info, info.written, {**info.values, p: wrong}))


MISTAKES: tuple[Callable, ...] = (_typo_factor, _forgot_bias, _wrong_channels,
                                  _pool_with_params, _no_flatten)


def plant_mistake(net: Network, rng: random.Random) -> Mistake:
    """One plausible mistake, chosen with ``rng`` among those that change a count."""
    candidates = []
    for info in net.layers[1:]:
        for make in MISTAKES:
            mistake = make(net, info, rng)
            if mistake is not None and mistake.step.result != info.params:
                candidates.append(mistake)
    if not candidates:
        raise SymparamsError("no plausible mistake can be planted in this network",
                             field="find-error")
    return rng.choice(candidates)


def real_counts(net: Network) -> set[int]:
    """Every count a question sheet must not give away: the layers' and the total."""
    return {int(info.params) for info in _counted(net)} | {int(net.total)}


@dataclass
class Context:
    """What the questions of one sheet share while they are drawn: the numbers
    printed and asked so far, and the template's values of each varying size
    ((layer index, field) → values; empty when the template is not known)."""
    numbers: SheetNumbers
    sizes: dict = field(default_factory=dict)

    @classmethod
    def of(cls, net: Network, sizes: dict | None = None) -> "Context":
        return cls(SheetNumbers.for_network(net, real_counts(net)), dict(sizes or {}))


def _size_field(info: LayerInfo) -> str:
    return "filters" if "filters" in info.layer.fields else "units"


def _size_letter(info: LayerInfo) -> str | None:
    """The letter of the layer's filters or units (k, c); None for a layer that has
    neither (a depthwise convolution), which these sheets leave alone."""
    return next((letter for letter, field in info.layer.given_letters.items()
                 if field in ("filters", "units")), None)


def _varied(net: Network, sizes: dict) -> list[LayerInfo]:
    """The layers whose filters or units the classmate changes: those that vary in
    the template, so that sizes the template fixes (a 10-unit output) stay fixed.
    Without such sizes (or without the template), every counted layer but the last."""
    counted = [info for info in _counted(net) if _size_letter(info)]
    varied = [info for info in counted if (info.index, _size_field(info)) in sizes]
    return varied or counted[:-1] or counted


def classmate_network(net: Network, rng: random.Random, attempts: int = 20,
                      sizes: dict | None = None) -> Network:
    """The same architecture with other filter and unit counts (only where the
    template varies them), none of whose counts equals one of ``net``'s, so a
    find-error sheet gives nothing away."""
    forbidden = real_counts(net)
    offsets = (-8, -6, -4, -2, 2, 4, 6, 8)
    for _ in range(attempts):
        values = {}
        for info in _varied(net, sizes or {}):
            letter = _size_letter(info)
            current = int(info.values[info.letters[letter]])
            values[info.letters[letter].name] = max(1, current + rng.choice(offsets))
        other = _buildable(net, values, rng)
        if other is not None and not real_counts(other) & forbidden:
            return other
    raise SymparamsError("could not find a classmate's network whose counts all differ",
                         field="find-error")


def _buildable(net: Network, values: dict, rng: random.Random) -> Network | None:
    """``net`` with the new sizes, or with fewer of them when a change breaks a
    merge (an add whose branch must keep the input's channels); None if none builds."""
    try:
        return net.subs(values)
    except SymparamsError:
        pass
    # Only a branched network gets here: the draws of a chain stay as they were.
    values = dict(values)
    names = list(values)
    rng.shuffle(names)
    while len(values) > 1:
        del values[names.pop()]
        try:
            return net.subs(values)
        except SymparamsError:
            continue
    return None


def find_error_questions(net: Network, points: int, rng: random.Random,
                         context: Context | None = None) -> list[Question]:
    context = context or Context.of(net)
    for _ in range(40):
        other = classmate_network(net, rng, sizes=context.sizes)
        mistake = plant_mistake(other, rng)
        shown = [mistake.step if info.index == mistake.info.index else info.step
                 for info in other.layers[1:]]
        printed = set().union(*(step_numbers(step) for step in shown))
        answer = int(mistake.info.params)
        # The classmate's working may show neither an answer of the sheet nor its
        # own layer's true count; else draw another classmate and mistake.
        if not context.numbers.clashes(printed, {answer}):
            break
    else:
        raise SymparamsError("could not draw a classmate's working that gives no answer "
                             "away", field="find-error")
    context.numbers.add(printed, {answer})
    worked = [mistake.step, mistake.info.step]
    prompt = ("A classmate worked out the parameters of the same architecture with other "
              "filter and neuron counts, shown below. One step contains a mistake. Which "
              "layer is it?")
    # The second question describes the layer instead of naming it: its name is the
    # first question's answer (and Moodle shows each question on its own).
    return [Question("find-error.layer", "find-error", points, prompt,
                     mistake.info.name, "name", worked, shown, other),
            Question("find-error.value", "find-error", points,
                     "How many learnable parameters does the layer whose step contains the "
                     "classmate's mistake really have in the classmate's network?",
                     answer, "integer", worked, shown, other)]


# ---------------------------------------------------------------------- backwards

@dataclass(frozen=True)
class Unknown:
    """A size to find: the address, its letter(s) and a prompt fragment."""
    address: str
    letter: Symbol
    what: str

    @property
    def field(self) -> str:
        return self.address.rpartition(".")[2]


def _candidates(net: Network) -> list[tuple[LayerInfo, Unknown, bool]]:
    """(layer, unknown, from_total) triples that backwards questions can ask about."""
    found = []
    for info in _counted(net):
        if isinstance(info.layer, Conv2D):
            k = info.letters["k"]
            found.append((info, Unknown(f"{info.name}.filters", k, "number of filters"), False))
            found.append((info, Unknown(f"{info.name}.filters", k, "number of filters"), True))
            if info.layer.m == info.layer.n:
                found.append((info, Unknown(f"{info.name}.kernel", info.letters["m"],
                                            "kernel size (the filter is square)"), False))
        elif isinstance(info.layer, Dense):
            c = info.letters["c"]
            found.append((info, Unknown(f"{info.name}.units", c, "number of neurons"), False))
        elif _size_letter(info) == "k":  # another convolution (transposed, separable)
            k = info.letters["k"]
            found.append((info, Unknown(f"{info.name}.filters", k, "number of filters"), False))
    return found


def _hidden_values(info: LayerInfo, unknown: Unknown, current: int,
                   sizes: dict) -> tuple[int, ...]:
    """The values the hidden size may take: the template's values of that size;
    for a size the template fixes, values on both sides of it.  Either way the
    answer may lie below or above anything shown, at any distance."""
    values = sizes.get((info.index, unknown.field))
    if not values:
        spread = 4 if unknown.field == "kernel" else max(2, current // 2)
        values = range(max(1, current - spread), current + spread + 1)
    return tuple(v for v in values if v >= 1 and v != current)


def positive_integer_solutions(expr: Expr, symbol: Symbol, value: int) -> list[int]:
    """Positive whole numbers x with expr(x) = value, solved by SymPy."""
    roots = solve(Eq(expr, value), symbol)
    return sorted({int(r) for r in roots if r.is_integer and r.is_positive})


def solving_steps(expr: Expr, unknown: Symbol, target: int, answer: int) -> list[Step]:
    """The equation, then its solution: isolated when it is linear, else the root."""
    with evaluate(False):
        # The constant part and the target are counts: 59,150 and 62,958 on the sheet.
        equation = Eq(count_terms(expr), ShownCount(Integer(target)))
    steps = [Step(title="Equation", kind="backwards", formula=equation, result=None,
                  reason=f"The count with {unicode_plain(unknown)} unknown must equal "
                         f"{thousands(target)}.")]
    slope, intercept = expand(expr).as_independent(unknown, as_Add=True)[::-1]
    slope = slope / unknown if expr.is_polynomial(unknown) and \
        expand(expr).as_poly(unknown).degree() == 1 else None
    if slope is not None and slope.is_Integer and intercept.is_Integer:
        with evaluate(False):
            target_count = ShownCount(Integer(target))
            remainder = (Add(target_count, ShownCount(-intercept)) if intercept
                         else target_count)
            isolated = Ratio(remainder, slope)
        steps.append(Step(title="Solution", kind="backwards", formula=unknown,
                          substituted=isolated, result=Integer(answer),
                          reason="Take the constant part away and divide by the factor of "
                                 f"{unicode_plain(unknown)}."))
    else:
        steps.append(Step(title="Solution", kind="backwards", formula=unknown,
                          substituted=unknown, result=Integer(answer),
                          reason="The only positive whole-number root of the equation."))
    return steps


def backwards_questions(net: Network, points: int, rng: random.Random,
                        context: Context | None = None) -> list[Question]:
    """Find a size from a count.  The hidden value is drawn among the template's
    values of that size (so it may lie below or above what the sheet shows, at any
    distance), never one printed on the sheet, and its count is not an answer; the
    question is kept only when that value is the unique positive whole-number
    solution.  Sizes the template varies are asked about before fixed ones."""
    context = context or Context.of(net)
    options = _candidates(net)
    rng.shuffle(options)
    options.sort(key=lambda o: (o[0].index, o[1].field) not in context.sizes)
    for info, unknown, from_total in options:
        freed = net.free(unknown.address)
        expr = freed.total if from_total else freed[info.name].params
        if unknown.field == "kernel":
            expr = expr.xreplace({info.letters["n"]: unknown.letter})
        if expr.free_symbols != {unknown.letter} or not expr.is_polynomial(unknown.letter):
            continue
        current = int(info.values[unknown.letter])
        truths = list(_hidden_values(info, unknown, current, context.sizes))
        rng.shuffle(truths)
        given = "the whole network had" if from_total else f"{info.name} had"
        for truth in truths:
            target = int(expr.xreplace({unknown.letter: truth}))
            prompt = (f"Suppose {given} {thousands(target)} learnable parameters, every other "
                      f"size as shown. What would the {unknown.what} of {info.name} be?")
            printed = numbers_in(prompt)
            if context.numbers.clashes(printed, {truth}) or \
                    positive_integer_solutions(expr, unknown.letter, target) != [truth]:
                continue
            context.numbers.add(printed, {truth})
            return [Question(f"backwards.{unknown.address}", "backwards", points, prompt,
                             truth, "integer",
                             solving_steps(expr, unknown.letter, target, truth))]
    return []


# ----------------------------------------------------------------------- symbolic

def symbolic_questions(net: Network, points: int, rng: random.Random,
                       context: Context | None = None) -> list[Question]:
    convs = [i for i in _counted(net) if isinstance(i.layer, Conv2D)]
    chosen = convs or [i for i in _counted(net) if isinstance(i.layer, Dense)][:2]
    addresses = [f"{i.name}.filters" if isinstance(i.layer, Conv2D) else f"{i.name}.units"
                 for i in chosen]
    letters = [i.letters["k"] if isinstance(i.layer, Conv2D) else i.letters["c"]
               for i in chosen]
    freed = net.free(*addresses)
    total = expand(freed.total)
    names = ", ".join(unicode_plain(s) for s in letters)
    prompt = (f"Write the total number of learnable parameters as an expression in {names} "
              f"(the sizes of {', '.join(i.name for i in chosen)}), every other size as shown.")
    step = Step(title="Total in letters", kind="symbolic", formula=freed.total_step.formula,
                substituted=freed.total_step.substituted, result=total,
                reason="Keep the chosen sizes as letters and add up every layer's count.")
    return [Question("symbolic.total", "symbolic", points, prompt, ascii_plain(total),
                     "expression", [step])]


GENERATORS = {"params": params_questions, "shapes": shapes_questions,
              "find-error": find_error_questions, "backwards": backwards_questions,
              "symbolic": symbolic_questions}


def make_questions(net: Network, plan: list[tuple[str, int]], rng: random.Random
                   ) -> list[Question]:
    """The questions of one variant, following the template's plan of (type, points).
    A plan read from a template also carries the template's varying sizes
    (``plan.sizes``), which find-error and backwards questions draw from."""
    context = Context.of(net, getattr(plan, "sizes", None))
    questions: list[Question] = []
    for qtype, points in plan:
        questions += GENERATORS[qtype](net, points, rng, context)
    return questions
