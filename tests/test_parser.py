"""The whitelist expression parser: what it accepts, and that it refuses the rest
without running anything."""
import pytest
from sympy import Integer, Max, Min, ceiling, floor

from symparams import SymparamsError, parse_expression
from symparams.spec import size_symbol

H, W, k = (size_symbol(n) for n in ("H", "W", "k"))


@pytest.mark.parametrize("text, expected", [
    ("16", Integer(16)),
    ("1_000", Integer(1000)),
    ("2*k", 2 * k),
    ("2 × k", 2 * k),
    ("2·k − 1", 2 * k - 1),
    ("H/2", H / 2),
    ("k^2", k ** 2),
    ("k**2", k ** 2),
    ("-(H - W) + 3", -(H - W) + 3),
    ("floor(H/2) + ceil(W/3)", floor(H / 2) + ceiling(W / 3)),
    ("max(H, W, 3) - min(H, 4)", Max(H, W, 3) - Min(H, 4)),
    ("((k))", k),
])
def test_accepts_the_whitelist(text, expected):
    assert parse_expression(text) == expected


def test_names_are_positive_integer_symbols():
    expr = parse_expression("H")
    assert expr.is_integer and expr.is_positive
    assert expr == size_symbol("H")


@pytest.mark.parametrize("text, fragment", [
    ("__import__('os').system('touch /tmp/x')", "unexpected character '_'"),
    ("open('x')", "unexpected character \"'\""),
    ("os.system", "only whole numbers and plain names"),
    ("a[0]", "unexpected character '['"),
    ("exec(1)", "call to 'exec' is not allowed"),
    ("lambda: 1", "unexpected character ':'"),
    ("2.5", "only whole numbers"),
    ("k +", "found the end"),
    ("(k", "expected ')'"),
    ("k k", "expected an operator or the end"),
    ("floor", "'(' after floor"),
    ("floor(1, 2)", "floor takes one argument"),
    ("k ^ H", "exponents must be whole numbers"),
    ("1/0", "division by zero"),
    ("", "found nothing"),
    ("\"k\"", "unexpected character '\"'"),
    ("(" * 400 + "1" + ")" * 400, "nested more than 50 deep"),
    ("-" * 400 + "1", "nested more than 50 deep"),
    ("((9^64)^64)^64", "number too large"),
    ("((H^64)^64)^64", "power too large"),
])
def test_refuses_everything_else(text, fragment):
    with pytest.raises(SymparamsError) as info:
        parse_expression(text)
    message = str(info.value)
    assert fragment in message
    assert "\n" not in message


def test_injection_is_never_run(tmp_path, write_spec):
    from conftest import run_cli
    marker = tmp_path / "pwned"
    spec = write_spec(f"""
input: [32, 32, 3]
layers:
  - {{type: conv2d, name: EVIL, kernel: 5, filters: "__import__('os').system('touch {marker}')"}}
""")
    result = run_cli("count", spec)
    assert result.returncode == 2
    assert not marker.exists()
    assert "layer 1 (EVIL): filters:" in result.stderr
    assert "Traceback" not in result.stderr
