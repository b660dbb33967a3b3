"""Display math for the LaTeX report: widths estimated, long equations broken.

pdflatex does not break display math, so the lines are chosen here: an
equation ``face₁ = face₂ = …`` stays on one line when its estimated width
(:func:`math_width`) fits, else it becomes an ``align*`` broken before
top-level ``+``/``-`` and, inside a term still too long, before ``\\times``
(:func:`display`, :func:`wrap`).  Table cells get at most a few short lines
(:func:`inline_lines`).
"""
from __future__ import annotations

import re

from sympy import Add

from ..printing import latex_plain
from ..steps import Step
from .common import Raw


# Width of the text block in em of the 11pt body font (a4paper, 2.5 cm margins:
# 16 cm = 455 pt = 41 em).  Display lines are kept below LINE_EM.
LINE_EM = 37.0


# ------------------------------------------------------------- math widths

_LETTER_EM = {"m": 0.88, "w": 0.72, "M": 0.97, "W": 0.94, "c": 0.47, "i": 0.35, "j": 0.41,
              "l": 0.3, "f": 0.49, "t": 0.36, "r": 0.45, "s": 0.47}
_CS_EM = {"times": 1.22, "cdot": 0.72, "quad": 1.0, "qquad": 2.0, "lfloor": 0.45,
          "rfloor": 0.45, "lceil": 0.45, "rceil": 0.45, ",": 0.17, ";": 0.28, ":": 0.22,
          "!": -0.17, "displaystyle": 0.0, "textstyle": 0.0, "ldots": 1.2, "cdots": 1.2}
_TOKEN = re.compile(r"\\[A-Za-z]+|\\.|[{}]|.", re.S)


def _tokens(latex: str) -> list:
    """Tokens with brace groups nested as lists."""
    stack: list[list] = [[]]
    for tok in _TOKEN.findall(latex):
        if tok == "{":
            stack.append([])
        elif tok == "}" and len(stack) > 1:
            group = stack.pop()
            stack[-1].append(group)
        else:
            stack[-1].append(tok)
    while len(stack) > 1:
        group = stack.pop()
        stack[-1].append(group)
    return stack[0]


def _measure(tokens: list, scale: float) -> float:
    width = 0.0
    i = 0
    while i < len(tokens):
        tok = tokens[i]
        if isinstance(tok, list):
            width += _measure(tok, scale)
        elif tok in (r"\left", r"\right"):
            i += 1                      # the delimiter that follows
            width += 0.6 * scale
        elif tok == r"\frac":
            parts = tokens[i + 1:i + 3]
            inner = scale if scale >= 1 else scale * 0.75
            width += max((_measure(p if isinstance(p, list) else [p], inner) for p in parts),
                         default=0.0) + 0.25 * scale
            i += 2
        elif tok in ("_", "^"):
            if i + 1 < len(tokens):
                nxt = tokens[i + 1]
                width += _measure(nxt if isinstance(nxt, list) else [nxt], scale * 0.73)
            i += 1
        elif tok.startswith("\\"):
            name = tok[1:]
            width += _CS_EM.get(name, 0.6) * scale
        elif tok in "+-":
            width += 1.22 * scale
        elif tok in "=<>":
            width += 1.34 * scale
        elif tok in " &":
            pass
        elif tok in "()[]|":
            width += 0.39 * scale
        elif tok.isdigit():
            width += 0.5 * scale
        elif tok.isalpha():
            width += _LETTER_EM.get(tok, 0.58) * scale
        elif tok == ",":
            width += 0.45 * scale
        else:
            width += 0.5 * scale
        i += 1
    return width


def math_width(latex: str, scale: float = 1.0) -> float:
    """A generous estimate of the width of display math in em.

    >>> round(math_width(r"((5 \\times 5 \\times 3) + 1) \\times 8"))  # TeX sets it 8.9 em wide
    9
    """
    return _measure(_tokens(latex), scale)


# ---------------------------------------------------------- breaking lines

def split_top(latex: str, ops: tuple[str, ...]) -> list[str]:
    """Split math at the operators ``ops`` outside any group or parentheses.

    Every piece after the first starts with its operator; joining the pieces
    with a space gives the input back.

    >>> split_top(r"(a + b) \\times c + d - e", (" + ", " - "))
    ['(a + b) \\\\times c', '+ d', '- e']
    """
    pieces, depth, start, i, n = [], 0, 0, 0, len(latex)
    while i < n:
        char = latex[i]
        if char == "\\":
            match = re.match(r"\\([A-Za-z]+|.)", latex[i:])
            i += len(match.group(0)) if match else 1
            continue
        if char in "{(":
            depth += 1
        elif char in "})":
            depth -= 1
        elif depth == 0 and char == " ":
            for op in ops:
                if latex.startswith(op, i):
                    pieces.append(latex[start:i])
                    start = i + 1
                    i += len(op)
                    break
            else:
                i += 1
            continue
        i += 1
    pieces.append(latex[start:])
    if " ".join(pieces) != latex or any(not p for p in pieces):
        return [latex]
    return pieces


def _fit(latex: str, width: str = r"0.9\linewidth") -> str:
    """Math too wide for any line even on its own: scaled down to the width."""
    return r"\mbox{\spfit{%s}{$\displaystyle %s$}}" % (width, latex)


def wrap(latex: str, first: float, rest: float | None = None) -> list[str]:
    """Lines of at most ``first`` em (then ``rest`` em), broken before a top-level
    ``+``/``-`` or, inside a term still too long, before a ``\\times``."""
    rest = first if rest is None else rest
    if math_width(latex) <= first:
        return [latex]
    atoms: list[str] = []
    for term in split_top(latex, (" + ", " - ")):
        if math_width(term) <= rest:
            atoms.append(term)
        else:
            atoms.extend(split_top(term, (" \\times ",)))
    lines: list[str] = []
    current = ""
    for atom in atoms:
        candidate = f"{current} {atom}" if current else atom
        budget = rest if lines else first
        if not current or math_width(candidate) <= budget:
            current = candidate
        else:
            lines.append(current)
            current = atom
    lines.append(current)
    return [line if math_width(line) <= (rest if i else first) else _fit(line)
            for i, line in enumerate(lines)]


def _continued(line: str) -> str:
    """A continuation line: ``{}`` keeps a leading + or × a binary operator."""
    return r"\quad {}" + line


def _align(lines: list[str], breakable_from: int = 10) -> Raw:
    """Lines as ``align*``; only a long one may break across pages."""
    body = "\\begin{align*}\n%s\n\\end{align*}" % " \\\\\n".join(lines)
    if len(lines) >= breakable_from:
        body = "\\begingroup\\allowdisplaybreaks\n%s\\endgroup" % body
    return Raw(body)


def display(faces: list[str], width: float = LINE_EM) -> Raw:
    """``face₁ = face₂ = …`` as display math, one line when it fits.

    Longer chains become an ``align*`` with the first face on the left of the
    ``=`` when it is short, else flush left with one ``= face`` per line; faces
    still too long are broken before top-level ``+`` (or ``\\times``).
    """
    equation = " = ".join(faces)
    if math_width(equation) <= width:
        return Raw("\\[\n%s\n\\]" % equation)
    lines: list[str] = []
    lhs, rest = faces[0], faces[1:]
    lhs_width = math_width(lhs)
    if rest and lhs_width <= 0.4 * width:
        avail = width - lhs_width - 1.5
        for k, face in enumerate(rest):
            for j, line in enumerate(wrap(face, avail, avail - 1.5)):
                left = lhs if (k == 0 and j == 0) else ""
                lines.append(f"{left} &= {line}" if j == 0 else f" &{_continued(line)}")
    else:
        for k, face in enumerate(faces):
            for j, line in enumerate(wrap(face, width - (1.5 if k else 0), width - 1.5)):
                if j == 0:
                    lines.append(f"&= {line}" if k else f"&{line}")
                else:
                    lines.append(f"&{_continued(line)}")
    return _align(lines)


def inline_lines(latex: str, width: float, max_lines: int = 3) -> Raw | None:
    """Math for a narrow table cell: up to ``max_lines`` lines, or None if it needs more."""
    lines = wrap(latex, width, width - 0.5)
    if len(lines) > max_lines or any(r"\spfit" in line for line in lines):
        return None
    return Raw(r"\newline ".join(f"${line if i == 0 else '{}' + line}$"
                                 for i, line in enumerate(lines)))


def symbolic_lines(expr, width: float = LINE_EM, printer=latex_plain) -> Raw:
    """A long expression (the symbolic total) as display math broken into lines;
    ``printer`` is latex_written for a total written layer after layer."""
    lines = wrap(printer(expr), width, width - 1.5)
    if len(lines) == 1:
        return Raw("\\[\n%s\n\\]" % lines[0])
    return _align([f"&{lines[0]}"] + [f"&{_continued(line)}" for line in lines[1:]])


# ------------------------------------- a step's pieces for the tables and figures

def shape_latex(shape: tuple) -> str:
    """An output shape as math: ``28 \\times 28 \\times 8``."""
    parts = []
    for value in shape:
        text = latex_plain(value)
        parts.append(f"\\left({text}\\right)" if isinstance(value, Add) else text)
    return " \\times ".join(parts)


def step_number(step: Step) -> int:
    """The step's number in the worked solution: the layer's index, as in the summary
    table (the input is step 0)."""
    return step.index or 0
