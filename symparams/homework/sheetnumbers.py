"""The numbers a question sheet prints and the numbers it asks for, kept apart.

No number printed on a question sheet may be the answer to one of its
questions: a backwards question's count must not be the classmate's count that
the find-error question asks for, and its hidden size must not be printed as
one of the classmate's sizes.  Questions are drawn one type after another;
each generator asks :meth:`SheetNumbers.clashes` before it keeps what it drew
and :meth:`SheetNumbers.add` after, so the rule holds by construction, in both
directions, whatever the order of the template's plan.

What counts as printed: the network table's sizes (input, windows, strides,
paddings, dilations, filters, units), every number in a shown step (its title
and its equation) and in a prompt.  The sheet's own structure (question and
row numbers, points, the seed, the variant number) is not data and is not
counted.  Digits inside names (``CONV1``, ``FC3``) are not numbers.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Iterable

_NUMBER = re.compile(r"(?<![A-Za-z_\d.])\d+")
_GROUPED = re.compile(r"(?<=\d)[,\u2009\u202f\u00a0 ](?=\d{3}\b)")


def numbers_in(text: str) -> set[int]:
    """Whole numbers in ``text``, read both with and without thousands separators
    (a superset: better to avoid a number too many than to leak one).

    >>> sorted(numbers_in("CONV1 had 1,064 parameters; 3 × 3 filter, FC3"))
    [1, 3, 64, 1064]
    """
    text = str(text)
    found = {int(n) for n in _NUMBER.findall(text)}
    return found | {int(n) for n in _NUMBER.findall(_GROUPED.sub("", text))}


def step_numbers(step) -> set[int]:
    """What a shown step prints: its title and its equation."""
    return numbers_in(step.title) | numbers_in(step.text.equation())


def _ints(value) -> set[int]:
    if isinstance(value, (tuple, list)):
        return set().union(*(_ints(v) for v in value)) if value else set()
    if getattr(value, "is_Integer", False) or (isinstance(value, int)
                                               and not isinstance(value, bool)):
        return {int(value)}
    return set()


_TABLE_SIZES = ("m", "n", "k", "c", "kernel", "stride", "padding", "dilation")


def table_numbers(net) -> set[int]:
    """The sizes the network table of a question sheet shows (defaults included:
    the table prints stride 1 and padding 0 too)."""
    found = _ints(net.input_shape)
    for info in net.layers[1:]:
        for name in _TABLE_SIZES:
            found |= _ints(getattr(info.layer, name, None))
    return found


@dataclass
class SheetNumbers:
    """Numbers printed on a sheet so far, and integer answers asked so far."""
    printed: set[int] = field(default_factory=set)
    answers: set[int] = field(default_factory=set)

    @classmethod
    def for_network(cls, net, counts: Iterable[int]) -> "SheetNumbers":
        """The table's sizes are printed; the network's counts are answers
        (whether or not the plan asks for them: they must never be shown)."""
        return cls(printed=table_numbers(net), answers=set(counts))

    def clashes(self, printed: Iterable[int] = (), answers: Iterable[int] = ()) -> bool:
        """True when keeping a question that prints ``printed`` and asks for
        ``answers`` would show an answer anywhere on the sheet."""
        printed, answers = set(printed), set(answers)
        return bool(printed & (self.answers | answers) or answers & self.printed)

    def add(self, printed: Iterable[int] = (), answers: Iterable[int] = ()) -> None:
        self.printed |= set(printed)
        self.answers |= set(answers)
