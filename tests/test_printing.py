"""The written printers keep the document's order and grouping."""
from sympy import Add, Integer, Mul, evaluate, floor

from symparams import load
from symparams.printing import (Grouped, Inserted, ascii_written, latex_written,
                                unicode_written)
from symparams.spec import parse_expression, size_symbol

m, n, d, k, H = (size_symbol(x) for x in ("m", "n", "d", "k", "H"))


def conv_written():
    with evaluate(False):
        return Mul(Add(Grouped(Mul(m, n, d)), Integer(1)), k)


def test_latex_keeps_order_and_inner_parentheses():
    assert latex_written(conv_written()) == r"((m \times n \times d) + 1) \times k"


def test_substituted_form_is_built_by_sympy_not_evaluated():
    with evaluate(False):
        sub = conv_written().xreplace({m: Integer(5), n: Integer(5), d: Integer(3), k: Integer(8)})
    assert unicode_written(sub) == "((5 × 5 × 3) + 1) × 8"
    assert sub.doit() == 608


def test_inserted_expressions_are_bracketed():
    with evaluate(False):
        sub = Mul(Integer(120), Inserted(16 * floor(H / 4)))
    assert unicode_written(sub) == "120 × (16·⌊H/4⌋)"
    assert latex_written(sub).startswith(r"120 \times \left(16")


def test_ascii_faces_parse_back_to_the_same_value():
    net = load("lenet")
    for info in net:
        if info.written is not None:
            assert parse_expression(ascii_written(info.substituted)) == info.params
            letters = parse_expression(ascii_written(info.written))
            assert letters == info.formula
