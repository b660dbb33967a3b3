"""Reading network specs: files, presets and the whitelist expression parser.

Nothing from a file or the command line is ever handed to ``eval``, ``exec``,
``sympify`` or ``parse_expr``.  Sizes are parsed by :func:`parse_expression`,
which knows numbers, names, ``+ - * / ^``, parentheses and the functions
``floor``, ``ceil``, ``min`` and ``max`` and nothing else.

This module knows the layout of a spec file but not the layer families: it
hands each layer's fields on as a plain dict, and ``layers/`` checks them.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

from sympy import Expr, Integer, Max, Min, Number, Symbol, ceiling, floor

from .documents import MAX_BYTES, MAX_NUMBER, digits_of, parse_document, too_large
from .errors import SymparamsError
from .printable import echo
from .shapes import RANK_TEXT

# ------------------------------------------------------------ expression parser

_FUNCTIONS = {"floor": floor, "ceil": ceiling, "ceiling": ceiling,
              "min": Min, "max": Max, "Min": Min, "Max": Max}
_TOKEN = re.compile(r"""
      (?P<space>\s+)
    | (?P<number>\d+(?:_\d+)*)
    | (?P<name>[A-Za-z][A-Za-z0-9_]*)
    | (?P<op>\*\*|[-+*/^(),×·−])
""", re.VERBOSE)
_OP_ALIASES = {"×": "*", "·": "*", "−": "-", "**": "^"}


@lru_cache(maxsize=65536)
def size_symbol(name: str) -> Symbol:
    """The Symbol for a size named in a spec: a positive integer.

    All letters and free sizes share these assumptions, so the same name is
    always the same SymPy object.
    """
    return Symbol(name, positive=True, integer=True)


def _tokenize(text: str) -> list[tuple[str, str, int]]:
    tokens, pos = [], 0
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if not match:
            found = text[pos]
            if found == ".":
                raise SymparamsError(f"only whole numbers and plain names are allowed, found '.' "
                                     f"at position {pos + 1} of {echo(text)}")
            raise SymparamsError(f"unexpected character {echo(found)} at position {pos + 1} "
                                 f"of {echo(text)} "
                                 f"(allowed: whole numbers, names, + - * / ^, parentheses, "
                                 f"floor/ceil/min/max)")
        kind = match.lastgroup
        if kind != "space":
            value = match.group()
            if kind == "op":
                value = _OP_ALIASES.get(value, value)
            tokens.append((kind, value, pos))
        pos = match.end()
    tokens.append(("end", "", len(text)))
    return tokens


class _Parser:
    """Recursive descent over: sum := product (('+'|'-') product)*;
    product := unary (('*'|'/') unary)*; unary := ('-'|'+') unary | power;
    power := atom ('^' unary)?; atom := number | name | name '(' args ')' | '(' sum ')'."""

    MAX_DEPTH = 50          # nested parentheses and calls

    def __init__(self, text: str):
        self.text = text
        self.tokens = _tokenize(text)
        self.i = 0
        self.depth = 0

    def nested(self):
        self.depth += 1
        if self.depth > self.MAX_DEPTH:
            raise SymparamsError(f"expression nested more than {self.MAX_DEPTH} deep "
                                 f"in {echo(self.text)}")

    def peek(self):
        return self.tokens[self.i]

    def take(self):
        token = self.tokens[self.i]
        self.i += 1
        return token

    def fail(self, expected: str):
        kind, value, pos = self.peek()
        found = "the end" if kind == "end" else repr(value)
        raise SymparamsError(f"expected {expected} at position {pos + 1} of {echo(self.text)}, "
                             f"found {found}")

    def expect(self, op: str):
        if self.peek()[:2] != ("op", op):
            self.fail(repr(op))
        self.take()

    def parse(self) -> Expr:
        if self.peek()[0] == "end":
            raise SymparamsError("expected an expression, found nothing")
        expr = self.sum()
        if self.peek()[0] != "end":
            self.fail("an operator or the end")
        return expr

    def sum(self):
        expr = self.product()
        while self.peek()[:2] in (("op", "+"), ("op", "-")):
            op = self.take()[1]
            rhs = self.product()
            expr = expr + rhs if op == "+" else expr - rhs
        return expr

    def product(self):
        expr = self.unary()
        while self.peek()[:2] in (("op", "*"), ("op", "/")):
            op = self.take()[1]
            rhs = self.unary()
            if op == "/" and rhs == 0:
                raise SymparamsError(f"division by zero in {echo(self.text)}")
            expr = expr * rhs if op == "*" else expr / rhs
        return expr

    def unary(self):
        if self.peek()[:2] in (("op", "-"), ("op", "+")):
            sign = self.take()[1]
            self.nested()
            operand = self.unary()
            self.depth -= 1
            return -operand if sign == "-" else operand
        return self.power()

    def power(self):
        base = self.atom()
        if self.peek()[:2] == ("op", "^"):
            self.take()
            exponent = self.unary()
            if not (exponent.is_Integer and 0 <= exponent <= 64):
                raise SymparamsError(f"exponents must be whole numbers from 0 to 64, "
                                     f"found {exponent} in {echo(self.text)}")
            if base.is_Number and abs(base) > 1 and \
                    int(exponent) * digits_of(int(base)) > 101:
                raise SymparamsError(f"{echo(self.text)} gives a number too large to be a "
                                     f"size; a size is at most 10^100")
            if base.is_Pow and base.exp.is_Integer and int(base.exp) * int(exponent) > 4096:
                raise SymparamsError(f"power too large in {echo(self.text)}")
            return base ** exponent
        return base

    def atom(self):
        kind, value, pos = self.peek()
        if kind == "number":
            self.take()
            if len(value) > 120:
                raise too_large(len(value.replace("_", "")))
            return Integer(int(value.replace("_", "")))
        if kind == "name":
            self.take()
            if self.peek()[:2] == ("op", "("):
                if value not in _FUNCTIONS:
                    raise SymparamsError(f"call to {echo(value)} is not allowed at position "
                                         f"{pos + 1} of {echo(self.text)}; only floor, ceil, "
                                         f"min and max")
                self.take()
                self.nested()
                args = [self.sum()]
                while self.peek()[:2] == ("op", ","):
                    self.take()
                    args.append(self.sum())
                self.expect(")")
                self.depth -= 1
                func = _FUNCTIONS[value]
                if func in (floor, ceiling) and len(args) != 1:
                    raise SymparamsError(f"{value} takes one argument, found {len(args)} "
                                         f"in {echo(self.text)}")
                return func(*args)
            if value in _FUNCTIONS:
                self.fail(f"'(' after {value}")
            return size_symbol(value)
        if (kind, value) == ("op", "("):
            self.take()
            self.nested()
            expr = self.sum()
            self.expect(")")
            self.depth -= 1
            return expr
        self.fail("a number, a name or '('")


def parse_expression(text: str) -> Expr:
    """Parse a size expression from a spec or the command line.

    >>> parse_expression("2*k + 1")
    2*k + 1
    >>> parse_expression("floor(H / 2) ^ 2")
    floor(H/2)**2
    >>> parse_expression("open('x')")
    Traceback (most recent call last):
    ...
    symparams.errors.SymparamsError: unexpected character "'" at position 6 of "open('x')" (allowed: whole numbers, names, + - * / ^, parentheses, floor/ceil/min/max)
    """
    if len(text) > 1000:
        raise SymparamsError(f"expression too long ({len(text)} characters, at most 1000)")
    return check_magnitude(_Parser(text).parse(), text)


def check_magnitude(value: Expr, text: str | None = None) -> Expr:
    """Refuse a size with a number above MAX_NUMBER in it (a result such as
    ``9^64*9^64*…`` or a coefficient): the one maximum for every size."""
    if value.is_Integer:
        numbers = [value]
    elif value.is_Atom:
        return value
    else:
        numbers = value.atoms(Number)
    for number in numbers:
        worst = max(abs(int(number.p)), int(number.q))
        if worst > MAX_NUMBER:
            what = f"{echo(text)} gives a" if text else "a"
            raise SymparamsError(f"{what} number too large to be a size "
                                 f"({digits_of(worst):,} digits); a size is at most 10^100")
    return value


def size_value(raw: Any) -> Expr:
    """Turn one size from a spec (int or expression text) into a SymPy expression.

    Floats and booleans are refused: counts are exact.
    """
    if isinstance(raw, bool):
        raise SymparamsError(f"expected a whole number or an expression, found {str(raw).lower()}")
    if isinstance(raw, int):
        return check_magnitude(Integer(raw))
    if isinstance(raw, Expr):
        return check_magnitude(raw)
    if isinstance(raw, float):
        shown = int(raw) if raw.is_integer() else raw
        raise SymparamsError(f"expected a whole number, found {echo(raw)} (write {shown} "
                             f"without a decimal point)" if raw.is_integer()
                             else f"expected a whole number, found {echo(raw)}")
    if isinstance(raw, str):
        return parse_expression(raw)
    raise SymparamsError(f"expected a whole number or an expression, found {_describe(raw)}")


def _describe(raw: Any) -> str:
    if raw is None:
        return "nothing"
    if isinstance(raw, list):
        return f"a list {echo(raw)}"
    if isinstance(raw, dict):
        return f"a mapping {echo(raw)}"
    return echo(raw)


# ---------------------------------------------------------------- spec files

@dataclass(frozen=True)
class LayerSpec:
    """One entry of ``layers:``: its 1-based position, type, name and raw fields."""
    index: int
    type: str
    name: str | None
    fields: dict[str, Any]
    # The block instances it was expanded from, outermost first (symparams.blocks).
    blocks: tuple = ()


@dataclass(frozen=True)
class Spec:
    """A parsed spec file: sizes still raw except the input shape."""
    name: str
    input: tuple[Expr, ...]
    layers: tuple[LayerSpec, ...]
    source: str | None = None
    title: str | None = None
    description: str | None = None
    symbols: tuple[str, ...] = ()   # names declared as sizes (see layers.base.keyword_or_size)
    outputs: tuple[str, ...] | None = None   # layers given out (default: those none takes)
    input_name: str | None = None            # the first input's name (None: INPUT)
    extra_inputs: tuple = ()                 # further named inputs: ((name, shape), ...)
    convention: str | None = None   # pytorch | keras: how the frameworks' counts differ


_TOP_FIELDS = {"name", "title", "description", "input", "layers", "symbols", "outputs",
               "convention", "blocks"}
# Where PyTorch and Keras count a layer differently (batch normalisation's running
# statistics, recurrent biases), the network follows one of them; PyTorch by default.
CONVENTIONS = ("pytorch", "keras")
DEFAULT_CONVENTION = "pytorch"
_PRESET_DIR = "presets"


def preset_names(package: str = "symparams") -> list[str]:
    folder = resources.files(package) / _PRESET_DIR
    return sorted(p.name[:-5] for p in folder.iterdir() if p.name.endswith(".yaml"))


def _read_text(path: Path) -> str:
    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_BYTES + 1)
        if len(data) > MAX_BYTES:
            raise SymparamsError(f"larger than {MAX_BYTES // 2 ** 20} MB; a network spec is far "
                                 f"smaller", file=str(path))
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SymparamsError(f"not UTF-8 text ({exc.reason} at byte {exc.start})", file=str(path))
    except OSError as exc:
        raise SymparamsError(f"cannot read: {exc.strerror}", file=str(path))


def read_document(target: str | Path, package: str = "symparams",
                  what: str = "preset") -> tuple[Any, str]:
    """(data, source) from a file (YAML, JSON or TOML by suffix), ``-`` (YAML on
    standard input) or a preset shipped in ``package``'s presets folder."""
    path = Path(target)
    if str(target) == "-":
        import sys
        raw = sys.stdin.buffer.read(MAX_BYTES + 1) if hasattr(sys.stdin, "buffer") \
            else sys.stdin.read(MAX_BYTES + 1)
        if len(raw) > MAX_BYTES:
            raise SymparamsError(f"larger than {MAX_BYTES // 2 ** 20} MB; a network spec is far "
                                 f"smaller", file="<stdin>")
        if isinstance(raw, bytes):
            try:
                raw = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise SymparamsError(f"not UTF-8 text ({exc.reason} at byte {exc.start})",
                                     file="<stdin>") from None
        return parse_document(raw, ".yaml", "<stdin>"), "<stdin>"
    if path.is_dir():
        raise SymparamsError(f"is a folder; expected a spec file (.yaml, .json or .toml) or "
                             f"a {what} name", file=str(target))
    if path.is_file():
        return parse_document(_read_text(path), path.suffix.lower(), str(target)), str(target)
    if isinstance(target, str) and re.fullmatch(r"[A-Za-z0-9_-]+", target) \
            and target in preset_names(package):
        text = (resources.files(package) / _PRESET_DIR / f"{target}.yaml").read_text("utf-8")
        return parse_document(text, ".yaml", target), target
    raise SymparamsError(f"no such file or {what} (presets: "
                         f"{', '.join(preset_names(package))})", file=str(target))


def load_spec(target: str | Path) -> Spec:
    """Read a spec from a file (YAML, JSON or TOML), ``-`` (YAML on standard input)
    or a preset name such as ``lenet``."""
    data, source = read_document(target)
    return spec_from_data(data, source=source)


def spec_from_data(data: Any, source: str | None = None) -> Spec:
    """Check the top-level layout of a spec given as plain data."""
    if not isinstance(data, dict):
        raise SymparamsError(f"expected a mapping with name, input and layers, "
                             f"found {_describe(data)}", file=source)
    unknown = sorted(set(map(str, data)) - _TOP_FIELDS)
    if unknown:
        raise SymparamsError(f"unknown top-level field (expected one of "
                             f"{', '.join(sorted(_TOP_FIELDS))})", file=source, field=unknown[0])
    net_name = data.get("name", Path(source).stem if source else "network")
    for key in ("name", "title", "description"):
        if key in data and not isinstance(data[key], str):
            raise SymparamsError(f"expected text, found {_describe(data[key])}",
                                 file=source, field=key)
    if "input" not in data:
        raise SymparamsError("missing; give the input shape as [height, width, channels]",
                             file=source, field="input")
    inputs = _input_shapes(data["input"], source)
    (first_name, shape), extra_inputs = inputs[0], inputs[1:]
    symbols = _declared_symbols(data.get("symbols"), source)
    raw_layers = data.get("layers")
    if not isinstance(raw_layers, list) or not raw_layers:
        raise SymparamsError(f"expected a non-empty list of layers, found {_describe(raw_layers)}",
                             file=source, field="layers")
    instances: list[tuple] = [()] * len(raw_layers)
    from .blocks import expand_blocks, uses_blocks   # blocks.py reads sizes with this module
    if uses_blocks(data):
        expanded = expand_blocks(data, source)
        raw_layers = [entry for entry, _ in expanded]
        instances = [chain for _, chain in expanded]
    layers = []
    for index, entry in enumerate(raw_layers, start=1):
        if not isinstance(entry, dict):
            raise SymparamsError(f"expected a mapping with a type, found {_describe(entry)}",
                                 file=source, layer=(index, ""))
        fields = {str(k): v for k, v in entry.items()}
        name = fields.pop("name", None)
        if name is not None and (not isinstance(name, (str, int)) or isinstance(name, bool)):
            raise SymparamsError(f"expected text, found {_describe(name)}",
                                 file=source, layer=(index, ""), field="name")
        name = None if name is None else str(name)
        if "type" not in fields:
            raise SymparamsError("missing", file=source, layer=(index, name or ""), field="type")
        layer_type = fields.pop("type")
        if not isinstance(layer_type, str):
            raise SymparamsError(f"expected text, found {_describe(layer_type)}",
                                 file=source, layer=(index, name or ""), field="type")
        layers.append(LayerSpec(index, layer_type, name, fields, instances[index - 1]))
    return Spec(name=net_name, input=shape, layers=tuple(layers), source=source,
                input_name=first_name, extra_inputs=extra_inputs,
                title=data.get("title"), description=data.get("description"),
                symbols=symbols, outputs=_output_names(data.get("outputs"), source),
                convention=check_convention(data.get("convention"), source))


def check_convention(raw: Any, source: str | None = None,
                     field: str = "convention") -> str | None:
    """``convention: pytorch | keras`` (any case); None when not given."""
    if raw is None:
        return None
    if isinstance(raw, str) and raw.strip().lower() in CONVENTIONS:
        return raw.strip().lower()
    raise SymparamsError(f"expected {' or '.join(CONVENTIONS)}, found {_describe(raw)}",
                         file=source, field=field)


_INPUT_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_.-]{0,63}")


def _input_shapes(raw: Any, source: str | None) -> list[tuple[str | None, tuple[Expr, ...]]]:
    """``input: [32, 32, 3]`` (one input, called INPUT) or ``input: {input_ids: [T],
    token_type_ids: [T]}`` (several, named): (name, shape) pairs, the first None for INPUT."""
    if isinstance(raw, dict):
        if not raw:
            raise SymparamsError("expected at least one named input such as {image: [32, 32, 3]}",
                                 file=source, field="input")
        named = []
        for key, value in raw.items():
            name = str(key)
            if not _INPUT_NAME.fullmatch(name):
                raise SymparamsError(f"expected an input name (a letter, then letters, digits, "
                                     f"_ . or -), found {_describe(key)}", file=source,
                                     field="input")
            named.append((name, _one_shape(value, source, f"input.{name}")))
        return named
    return [(None, _one_shape(raw, source, "input"))]


def _one_shape(raw: Any, source: str | None, field: str) -> tuple[Expr, ...]:
    if not isinstance(raw, list) or not 1 <= len(raw) <= 4:
        raise SymparamsError(f"expected {RANK_TEXT}, found {_describe(raw)}", file=source,
                             field=field)
    shape = []
    for i, value in enumerate(raw):
        try:
            shape.append(size_value(value))
        except SymparamsError as exc:
            raise exc.located(file=source, field=f"{field}[{i}]") from None
    return tuple(shape)


def _output_names(raw: Any, source: str | None) -> tuple[str, ...] | None:
    """``outputs: [HEAD, AUX]``: layer names (checked against the layers by the network)."""
    if raw is None:
        return None
    items = [raw] if isinstance(raw, str) else raw
    if not isinstance(items, list) or not items or not all(
            isinstance(i, (str, int)) and not isinstance(i, bool) for i in items):
        raise SymparamsError(f"expected a list of layer names such as [FC3], found "
                             f"{_describe(raw)}", file=source, field="outputs")
    return tuple(str(i) for i in items)


def _declared_symbols(raw: Any, source: str | None) -> tuple[str, ...]:
    """``symbols: [pad, hidden]``: names that may stand for a size even in a field
    that otherwise takes keywords (padding: pad)."""
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise SymparamsError(f"expected a list of names such as [pad, hidden], found "
                             f"{_describe(raw)}", file=source, field="symbols")
    for name in raw:
        if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z][A-Za-z0-9_]{0,40}", name) \
                or name in _FUNCTIONS:
            raise SymparamsError(f"expected a name (a letter, then letters, digits or _), found "
                                 f"{_describe(name)}", file=source, field="symbols")
    return tuple(dict.fromkeys(raw))
