"""Worked-solution reports: the data every format shares, templates, and writing files.

A report follows the source document: for each layer what it is and why it
has (or has no) learnable parameters, the formula in the letters, the same
formula with the numbers put in, the result; then a summary table and the
total.  This module gathers that into ready objects; the format modules pick
the math markup and escaping; the Jinja templates only place things.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Callable

import jinja2

from ..errors import SymparamsError
from ..network import Network
from ..printing import unicode_plain, unicode_shape
from ..spec import size_symbol
from ..steps import Step
from .common import atomic_write, percent, thousands

FORMATS = ("md", "html", "tex", "pdf")


@dataclass(frozen=True)
class Row:
    """One line of the summary table."""
    index: int
    name: str
    kind: str
    title: str
    shape: str
    step: Step
    params: str
    share: str


@dataclass(frozen=True)
class Letter:
    """A letter of the formulas and what it stands for."""
    symbol: object
    meaning: str


@dataclass
class Report:
    """Everything a report template needs, computed once."""
    net: Network
    name: str
    title: str
    description: str | None
    input_shape: str
    steps: list[Step]
    total_step: Step
    rows: list[Row]
    total: str
    is_exact: bool
    total_symbolic: object
    letters: list[Letter]
    conventions: list[str]
    notes: list[str]
    free_symbols: list[str]
    total_share: str = ""        # the total row's share ("100.0 %" when exact)
    figures: dict = field(default_factory=dict)


def _conventions(net: Network) -> list[str]:
    layers = [info.layer for info in net.layers[1:]]
    with_params = [layer for layer in layers if layer.has_params]
    if with_params and all(layer.bias for layer in with_params):
        bias = "Every layer with weights also has one bias per filter or neuron (the +1 terms)."
    elif with_params and not any(layer.bias for layer in with_params):
        bias = "Bias is switched off in every layer: the formulas drop their +1 terms."
    else:
        off = ", ".join(info.name for info in net.layers[1:]
                        if info.layer.has_params and not info.layer.bias)
        bias = f"Bias is on except in {off}, whose formulas drop the +1 term."
    return [
        "Shapes are channels-last: height × width × channels.",
        bias,
        "Convolution and pooling output size along each axis: ⌊(W + 2P − D(m − 1) − 1) / S⌋ + 1 "
        "with input size W, padding P, dilation D, window m and stride S; with padding 'same' "
        "it is ⌈W / S⌉. Pooling's stride defaults to its window.",
        "A dense layer that follows a height × width × channels output sees it flattened: "
        "p = height × width × channels.",
        "Letters carry the index of their layer within its family: m₁, n₁, d₁, k₁ belong to the "
        "first convolution, c₁, p₁ to the first dense layer.",
    ]


NOTES = [
    "A convolution together with the pooling after it is often counted as one layer.",
    "Pooling has no parameters, yet it still takes part in training: in the forward pass it "
    "hands its values on to the next layer, and in backpropagation it routes the gradients "
    "back to the inputs it took them from.",
]


def build_report(net: Network) -> Report:
    """Collect the ready data for a network's worked solution."""
    rows = []
    for info in net.layers:
        step = info.step
        rows.append(Row(info.index, info.name, info.kind, info.layer.title, step.shape_text(),
                        step, thousands(info.params) if info.params.is_Integer
                        else unicode_plain(info.params), percent(net.share(info))))
    seen: dict[str, Letter] = {}
    for info in net.layers:
        for letter, sym in info.letters.items():
            seen.setdefault(letter, Letter(sym, info.layer.letters[letter]))
    letters = [Letter(size_symbol(letter), entry.meaning) for letter, entry in seen.items()]
    return Report(
        net=net, name=net.name, title=net.title or net.name, description=net.description,
        input_shape=unicode_shape(net.input_shape),
        steps=[info.step for info in net.layers], total_step=net.total_step, rows=rows,
        total=thousands(net.total) if net.is_exact else unicode_plain(net.total),
        is_exact=net.is_exact, total_symbolic=net.total_symbolic, letters=letters,
        conventions=_conventions(net), notes=NOTES, free_symbols=list(net.free_symbols),
        total_share=percent(net.share_of_total()))


# ------------------------------------------------------------------ templates

def packaged_templates() -> Path:
    """Our templates: inside the installed package, or the repository's templates/."""
    packaged = resources.files("symparams") / "templates"
    if packaged.is_dir():
        return Path(str(packaged))
    return Path(__file__).resolve().parents[2] / "templates"


def template_loader(override: str | Path | None = None) -> jinja2.BaseLoader:
    """A user's folder first (files replace ours by name), then ours."""
    loaders = []
    if override is not None:
        folder = Path(override)
        if not folder.is_dir():
            raise SymparamsError("no such template folder", file=str(folder), field="--templates")
        loaders.append(jinja2.FileSystemLoader(str(folder)))
    loaders.append(jinja2.FileSystemLoader(str(packaged_templates())))
    return jinja2.ChoiceLoader(loaders)


def output_stem(net: Network) -> str:
    """A file-system-safe name from the network's name."""
    stem = re.sub(r"[^A-Za-z0-9._-]+", "-", net.name).strip(".-")
    return stem or "network"


# -------------------------------------------------------------------- writing

def renderer(fmt: str) -> Callable[[Report, str | Path | None], bytes | str]:
    if fmt == "md":
        from .markdown import render
    elif fmt == "html":
        from .html import render
    elif fmt == "tex":
        from .latex import render
    elif fmt == "pdf":
        from .pdf import render
    else:
        raise SymparamsError(f"unknown format {fmt!r} (expected md, html, tex, pdf or all)",
                             field="--format")
    return render


def write_reports(net: Network, formats: list[str], out_dir: str | Path = "reports",
                  templates: str | Path | None = None) -> list[Path]:
    """Render every format in memory first, then write each file atomically.

    Nothing is written unless every format rendered.
    """
    report = build_report(net)
    rendered = []
    if "md" in formats:
        # Markdown links its figures as SVG files written next to it.
        from .figures import figure_files
        files = figure_files(report, output_stem(net))
        report.figures["files"] = {key: name for key, (name, _) in files.items()}
        rendered += [(Path(out_dir) / name, svg) for name, svg in files.values()]
    for fmt in formats:
        try:
            content = renderer(fmt)(report, templates)
        except jinja2.TemplateError as exc:
            where = getattr(exc, "filename", None) or getattr(exc, "name", None) or "template"
            line = getattr(exc, "lineno", None)
            raise SymparamsError(f"template error{f' at line {line}' if line else ''}: "
                                 f"{exc.message if hasattr(exc, 'message') else exc}",
                                 file=where) from None
        rendered.append((Path(out_dir) / f"{output_stem(net)}.{fmt}", content))
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise SymparamsError("is not a folder", file=str(out))
    return [atomic_write(path, content) for path, content in rendered]
