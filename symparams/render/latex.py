"""LaTeX reports: a standalone .tex file for pdflatex, with figures in ``picture``.

Everything that is computed lives here: the equations (SymPy's LaTeX printed in
the document's order, split into lines where a total is too long for the
page), the table cells, and the geometry of the two figures (an architecture
diagram and a bar chart of parameters per layer), drawn with the built-in
``picture`` environment so the file needs only texlive-latex-base and
texlive-latex-recommended.  The templates in ``templates/tex`` only place
ready pieces.

Text from a spec reaches the page through the environment's ``finalize``,
which escapes every value with :func:`~symparams.render.common.tex_escape`
unless it is :class:`~symparams.render.common.Raw` markup made here.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from fractions import Fraction

import jinja2
from sympy import Add

from ..printing import latex_plain
from ..steps import Step
from .common import Raw, tex_escape, thousands
from .report import Report, template_loader

# Width of the text block in em of the 11pt body font (a4paper, 2.5 cm margins:
# 16 cm = 455 pt = 41 em).  Display lines are kept below LINE_EM.
LINE_EM = 37.0


# ------------------------------------------------------------------ escaping

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_LIGATURES = re.compile(r"(?<=-)(?=-)|(?<=')(?=')|(?<=`)(?=`)|(?<=[!?])(?=`)")

# Characters the OT1 Computer Modern fonts have (or the kernel composes).  Nothing
# here may need the TS1 fonts, which exist only as bitmaps without cm-super.
_UNICODE_TEXT = {
    "ß": r"\ss{}", "æ": r"\ae{}", "Æ": r"\AE{}", "œ": r"\oe{}", "Œ": r"\OE{}", "ø": r"\o{}",
    "Ø": r"\O{}", "å": r"\aa{}", "Å": r"\AA{}", "ł": r"\l{}", "Ł": r"\L{}", "ı": r"\i{}",
    "–": "--", "—": "---", "‘": "`", "’": "'", "“": "``", "”": "''", "…": r"\ldots{}",
    "\u00a0": "~", "°": r"$^\circ$", "µ": r"$\mu$", "±": r"$\pm$", "→": r"$\rightarrow$",
    "←": r"$\leftarrow$", "≤": r"$\le$", "≥": r"$\ge$", "≠": r"$\ne$", "≈": r"$\approx$",
    "•": r"$\bullet$", "∞": r"$\infty$", "÷": r"$\div$", "†": r"$\dagger$",
    "‡": r"$\ddagger$",
}
# Combining accents → the OT1 accent commands.
_ACCENTS = {
    "\u0300": "`", "\u0301": "'", "\u0302": "^", "\u0303": "~", "\u0308": '"', "\u030a": "r",
    "\u0327": "c", "\u030c": "v", "\u0306": "u", "\u0304": "=", "\u0307": ".", "\u030b": "H",
}
_GREEK = {
    "alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta", "iota", "kappa",
    "lamda", "mu", "nu", "xi", "pi", "rho", "sigma", "tau", "upsilon", "phi", "chi", "psi",
    "omega",
}


def _unicode_char(char: str) -> str:
    """One non-ASCII character as LaTeX the default fonts can print."""
    if char in _UNICODE_TEXT:
        return _UNICODE_TEXT[char]
    decomposed = unicodedata.normalize("NFD", char)
    base, marks = decomposed[0], decomposed[1:]
    if base.isascii() and base.isalpha() and marks and all(m in _ACCENTS for m in marks):
        text = r"\i" if base == "i" else base
        for mark in marks:
            accent = _ACCENTS[mark]
            text = f"\\{accent}{{{text}}}"
        return text
    name = unicodedata.name(char, "")
    words = name.split()
    if len(words) == 4 and words[0] == "GREEK" and words[2] == "LETTER" \
            and words[3].lower() in _GREEK:
        letter = words[3].lower().replace("lamda", "lambda")
        if words[1] == "CAPITAL":
            capital = letter.capitalize()
            if capital in {"Gamma", "Delta", "Theta", "Lambda", "Xi", "Pi", "Sigma", "Upsilon",
                           "Phi", "Psi", "Omega"}:
                return f"$\\{capital}$"
        elif words[1] == "SMALL":
            return f"$\\{letter}$"
    if unicodedata.category(char).startswith("Z"):
        return " "
    return r"\spunknown{%04X}" % ord(char)


def escape(value) -> str:
    """Text from a spec as LaTeX that prints literally and does nothing else.

    :func:`tex_escape` does the escaping; on top, ligatures such as ``--`` are
    broken up so they print as typed, and characters the default fonts lack
    are spelt with accents or shown as their code point.

    >>> escape(r"a--b \\input{x}")
    'a-{}-b \\\\textbackslash{}input\\\\{x\\\\}'
    >>> escape("Übung ☃")
    '\\\\"{U}bung \\\\spunknown{2603}'
    """
    if value is None:
        return ""
    if isinstance(value, Raw):
        return value
    text = unicodedata.normalize("NFC", tex_escape(value))
    text = _LIGATURES.sub("{}", text)
    if not text.isascii() or _CONTROL.search(text):
        text = "".join(c if c.isascii() and c.isprintable() else _unicode_char(c)
                       for c in text)
    return text


def breakable(value, chunk: int = 8) -> Raw:
    """Escaped text that may break inside long words (names in narrow columns).

    >>> breakable("input/layer_with_a_long_name")
    'input/\\\\hspace{0pt}layer\\\\_\\\\hspace{0pt}with\\\\_\\\\hspace{0pt}a\\\\_\\\\hspace{0pt}long\\\\_\\\\hspace{0pt}name'
    """
    if isinstance(value, Raw):
        return value
    words = []
    for word in str(value).split():
        # break after punctuation and inside long runs of letters or digits
        pieces = re.findall(r"[A-Za-z0-9]{1,%d}|[^A-Za-z0-9]+" % chunk, word)
        parts, current = [], ""
        for piece in pieces:
            current += piece
            if not piece[-1].isalnum() or len(piece) == chunk:
                parts.append(current)
                current = ""
        if current:
            parts.append(current)
        words.append(r"\hspace{0pt}".join(escape(p) for p in parts))
    return Raw(" ".join(words))


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


# ------------------------------------------------------------------ pieces

def shape_latex(shape: tuple) -> str:
    """An output shape as math: ``28 \\times 28 \\times 8``."""
    parts = []
    for value in shape:
        text = latex_plain(value)
        parts.append(f"\\left({text}\\right)" if isinstance(value, Add) else text)
    return " \\times ".join(parts)


def step_equation(step: Step) -> Raw:
    """The step's equation ``formula = substituted = result`` as display math."""
    return display(step.latex.chain())


def step_number(step: Step) -> int:
    """The step's number in the worked solution (the input is step 1)."""
    return (step.index or 0) + 1


def _see_step(step: Step) -> Raw:
    return Raw(r"\emph{see step %d}" % step_number(step))


def shape_cell(step: Step, width: float = 5.5) -> Raw:
    """The output shape for the summary table's narrow column."""
    text = shape_latex(step.output_shape)
    return inline_lines(text, width) or _see_step(step)


def count_cell(step: Step, width: float = 4.0) -> Raw:
    """The parameter count for the summary table: digits, or a short expression."""
    if step.is_exact:
        return Raw(thousands(step.result, sep=""))
    return inline_lines(latex_plain(step.result), width) or _see_step(step)


def face(step: Step, name: str) -> Raw:
    """One face of a step (``formula``, ``substituted`` or ``result``) as inline math."""
    if not step.has_formula:
        return Raw("0")
    return Raw(f"${getattr(step.latex, name)}$")


def symbolic_lines(expr, width: float = LINE_EM) -> Raw:
    """A long expression (the symbolic total) as display math broken into lines."""
    lines = wrap(latex_plain(expr), width, width - 1.5)
    if len(lines) == 1:
        return Raw("\\[\n%s\n\\]" % lines[0])
    return _align([f"&{lines[0]}"] + [f"&{_continued(line)}" for line in lines[1:]])


def _num(value: float) -> str:
    """A picture coordinate: at most two decimals, no trailing zeros."""
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


# ---------------------------------------------------------------- diagram

# Picture coordinates are in hundredths of the line width (\unitlength = 0.01\linewidth).
_FILL = {"conv": "spconv", "pool": "sppool", "dense": "spdense"}


def _fill(kind: str, has_params: bool) -> str | None:
    for key, colour in _FILL.items():
        if key in kind:
            return colour
    return "spother" if has_params else None


def _label_units(latex: str) -> float:
    """Estimated width of a block's shape label (\\scriptsize, text style) in picture units."""
    # 1 em of the 11pt body font is 2.42 units of 0.01\linewidth; \scriptsize is 8pt and
    # text style sets fractions smaller than display style.
    return math_width(latex) * 0.85 * 8 / 11 * 2.42


def _shape_lines(step: Step, avail: float) -> list[str]:
    """The shape as one line when it fits the block, else one line per axis."""
    whole = shape_latex(step.output_shape)
    if _label_units(whole) <= avail or len(step.output_shape) < 2:
        return [whole]
    parts = whole.split(" \\times ")
    if len(parts) != len(step.output_shape):
        return [whole]
    return [parts[0]] + [f"{{}}\\times {p}" for p in parts[1:]]


def _block_width(per_row: int, gap: float, edge: float) -> float:
    return (100.0 - 2 * edge - (per_row - 1) * gap) / per_row


def diagram(report: Report, per_row: int | None = None) -> list[Raw]:
    """The architecture: one block per layer with its name and output shape,
    left to right in rows; one ``picture`` per row so long networks break
    across pages.  Shaded blocks have learnable parameters.

    Rows hold 8 blocks (10 for long networks), fewer when shapes are long
    expressions; a shape that would still have to shrink below 60 % is
    replaced by a pointer to its step.
    """
    steps = report.steps
    count = len(steps)
    gap, edge = 2.4, 2.0
    if per_row is None:
        per_row = min(count, 10 if count > 16 else 8)
        while per_row > 4:
            avail = _block_width(per_row, gap, edge) - 0.8
            if all(_label_units(line) <= avail / 0.8
                   for step in steps for line in _shape_lines(step, avail)):
                break
            per_row -= 1
    block = _block_width(per_row, gap, edge)
    avail = block - 0.8
    rows = [steps[i:i + per_row] for i in range(0, count, per_row)]
    pictures = []
    for r, row in enumerate(rows):
        labels = []
        for step in row:
            lines = _shape_lines(step, avail)
            if any(_label_units(line) > avail / 0.6 for line in lines):
                labels.append([r"\text{see step %d}" % step_number(step)])
            else:
                labels.append(lines)
        # a line with fractions stands taller than one with plain numbers
        height = 6.0 + max(sum(4.0 if "\\frac" in line else 2.6 for line in label)
                           for label in labels)
        parts = [r"\begin{picture}(100,%s)" % _num(height + 1)]
        if r:
            parts.append(r"\put(0,%s){\vector(1,0){%s}}" % (_num(height / 2 + 0.5), _num(edge)))
        for c, (step, label) in enumerate(zip(row, labels)):
            x = edge + c * (block + gap)
            y = 0.5
            colour = _fill(step.kind, step.has_formula)
            if colour:
                parts.append(r"\put(%s,%s){\textcolor{%s}{\rule{%s\unitlength}{%s\unitlength}}}"
                             % (_num(x), _num(y), colour, _num(block), _num(height)))
            parts.append(r"\put(%s,%s){\framebox(%s,%s){}}"
                         % (_num(x), _num(y), _num(block), _num(height)))
            shape = r"\\".join(r"\spfit{%s\unitlength}{\scriptsize$%s$}" % (_num(avail), line)
                                for line in label)
            text = (r"\shortstack{\spfit{%s\unitlength}{\footnotesize\bfseries %s}\\[2pt]%s}"
                    % (_num(avail), escape(step.name), shape))
            parts.append(r"\put(%s,%s){\makebox(%s,%s){%s}}"
                         % (_num(x), _num(y), _num(block), _num(height), text))
            last = c == len(row) - 1
            if not last or r < len(rows) - 1:
                parts.append(r"\put(%s,%s){\vector(1,0){%s}}"
                             % (_num(x + block), _num(y + height / 2),
                                _num(edge if last else gap)))
        parts.append(r"\end{picture}")
        pictures.append(Raw("\n".join(parts)))
    return pictures


# -------------------------------------------------------------- bar chart

@dataclass
class Chart:
    """The bar chart's pictures and what it leaves out."""
    pictures: list[Raw] = field(default_factory=list)
    omitted: list[str] = field(default_factory=list)   # layers whose count is an expression


def chart(report: Report, chunk: int = 12) -> Chart:
    """A horizontal bar per layer, proportional to its parameters, with the
    count and its share of the total; counts that are expressions get no bar."""
    rows = [row for row in report.rows if row.index > 0]
    exact = [row for row in rows if row.step.is_exact]
    omitted = [row.name for row in rows if not row.step.is_exact]
    result = Chart(omitted=omitted)
    largest = max((int(row.step.result) for row in exact), default=0)
    if largest == 0:
        return result
    label_w, bar_x, bar_max = 17.0, 19.0, 58.0
    row_h, bar_h = 3.4, 2.0
    for start in range(0, len(exact), chunk):
        part = exact[start:start + chunk]
        height = row_h * len(part)
        lines = [r"\begin{picture}(100,%s)" % _num(height)]
        lines.append(r"\put(%s,0){\line(0,1){%s}}" % (_num(bar_x), _num(height)))
        for k, row in enumerate(part):
            y = height - (k + 1) * row_h
            value = int(row.step.result)
            length = float(Fraction(value, largest)) * bar_max
            lines.append(r"\put(0,%s){\makebox(%s,%s)[r]{\spfit{%s\unitlength}{\small %s}}}"
                         % (_num(y), _num(label_w), _num(row_h), _num(label_w), escape(row.name)))
            if length > 0:
                lines.append(r"\put(%s,%s){\textcolor{spbar}{\rule{%s\unitlength}{%s\unitlength}}}"
                             % (_num(bar_x), _num(y + (row_h - bar_h) / 2), _num(length),
                                _num(bar_h)))
            label = thousands(row.step.result) + (f" ({row.share})" if row.share else "")
            lines.append(r"\put(%s,%s){\makebox(0,%s)[l]{\small %s}}"
                         % (_num(bar_x + length + 1), _num(y), _num(row_h), escape(label)))
        lines.append(r"\end{picture}")
        result.pictures.append(Raw("\n".join(lines)))
    return result


# ------------------------------------------------------------------ render

@dataclass
class TexReport:
    """The computed pieces only the LaTeX templates use."""
    layer_count: int
    layers_text: str            # "7 layers", "1 layer"
    total_equation: Raw
    symbolic_total: Raw
    diagram: list[Raw]
    chart: Chart


def tex_pieces(report: Report) -> TexReport:
    count = len(report.steps) - 1
    return TexReport(layer_count=count, layers_text=f"{count} layer{'' if count == 1 else 's'}",
                     total_equation=step_equation(report.total_step),
                     symbolic_total=symbolic_lines(report.total_symbolic),
                     diagram=diagram(report), chart=chart(report))


def _names(names: list[str], limit: int = 8) -> str:
    """``A, B and C``; long lists are cut after ``limit`` names: ``A, B, C and 12 more``."""
    names = list(names)
    if len(names) > limit:
        return f"{', '.join(names[:limit])} and {len(names) - limit} more"
    if len(names) > 1:
        return f"{', '.join(names[:-1])} and {names[-1]}"
    return "".join(names)


def environment(templates=None) -> jinja2.Environment:
    """Jinja with LaTeX-safe delimiters: ``\\VAR{…}``, ``\\BLOCK{…}``, ``\\#{…}``.

    Filters return ready markup: ``step | equation`` (display math),
    ``step | shape`` (inline math), ``step | shape_cell`` and ``step | count_cell``
    (summary table cells), ``expr | latex`` (SymPy's LaTeX, no dollars),
    ``latex | inline`` (``$…$``), ``text | breakable`` (escaped, may break in
    long words), ``names | names`` (``A, B and C``, escaped).
    """
    env = jinja2.Environment(
        loader=template_loader(templates), autoescape=False,
        block_start_string=r"\BLOCK{", block_end_string="}",
        variable_start_string=r"\VAR{", variable_end_string="}",
        comment_start_string=r"\#{", comment_end_string="}",
        line_statement_prefix=None, line_comment_prefix=None,
        trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined, finalize=escape)
    env.filters.update(
        equation=step_equation,
        shape=lambda step: Raw(f"${shape_latex(step.output_shape)}$"),
        shape_cell=shape_cell,
        count_cell=count_cell,
        face=face,
        latex=lambda expr: Raw(latex_plain(expr)),
        inline=lambda latex: Raw(f"${latex}$"),
        breakable=breakable,
        names=lambda names: _names(names),
    )
    return env


def render(report: Report, templates=None) -> str:
    """The report as a standalone LaTeX document (pdflatex, no shell escape needed)."""
    env = environment(templates)
    return env.get_template("tex/report.tex.j2").render(report=report, tex=tex_pieces(report))
