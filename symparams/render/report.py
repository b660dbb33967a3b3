"""Worked-solution reports: the data every format shares and the templates' location.

A report follows the source document: for each layer what it is and why it
has (or has no) learnable parameters, the formula in the letters, the same
formula with the numbers put in, the result; then a summary table and the
total.  This module gathers that into ready objects; the format modules
(markdown, html, latex, pdf) import it and pick the math markup and escaping;
the Jinja templates only place things; :mod:`symparams.render.dispatch`, on
top, chooses a format and writes files.  This module imports no format.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import jinja2
from sympy import Add, evaluate

from ..blockgroups import distinct_units, has_blocks, stages
from ..errors import SymparamsError
from ..network import Network
from ..numbers import ShownCount
from ..printing import unicode_plain, unicode_shape
from ..spec import size_symbol
from ..steps import Step, convention_text, shows_split, split_text
from .common import percent, thousands
from .templating import check_template_folder

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
class StageRow:
    """One line of the summary by stage of a network built from blocks."""
    name: str
    blocks: str
    layers: int
    params: str
    share: str


@dataclass(frozen=True)
class RepeatRow:
    """One instance of a block that is the same computation as the one worked out."""
    path: str
    params: str


@dataclass(frozen=True)
class BlockSection:
    """A part of the worked solution of a network built from blocks: a stage heading
    (level 2, no steps), or a block instance worked out in full, or layers outside
    blocks (level 3), with the instances it stands for and its subtotal."""
    level: int
    title: str
    intro: str
    steps: list
    repeats: list
    subtotal: str
    repeats_total: str = ""      # the instances together: count × subtotal


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
    # The total as trainable, non-trainable and buffers, and the framework convention
    # ("" for a network that is all trainable with nothing counted differently).
    split: str = ""
    layers_text: str = ""        # "7 layers after the input": the input is layer 0
    figures: dict = field(default_factory=dict)
    # The total in the layers' letters, layer after layer as the document writes it
    # (a statement: its formula alone, printed by the written printers).
    symbolic_step: Step | None = None
    # A network built from blocks: the worked solution by stage, each distinct block
    # worked out once (empty otherwise: the templates then go layer by layer).
    block_sections: list = field(default_factory=list)
    stage_rows: list = field(default_factory=list)
    layer_count: int = 0         # layers after the input
    chart_unit: str = "layer"    # what one bar of the parameter chart stands for
    # The spec's notes and one line per opaque layer with parameters, shown near the top
    # (text from the spec: each template escapes it for its format).
    warnings: list = field(default_factory=list)


def _families(net: Network) -> set[str]:
    """What the network has that the conventions and notes speak about."""
    found = set()
    for info in net.layers[1:]:
        family = info.layer.family
        if family in ("conv", "pool", "dense"):
            found.add(family)
        if len(info.input_shape) == 3 and len(info.output_shape) == 1 \
                and info.layer.kind in ("dense", "flatten"):
            found.add("flatten")
    return found


def _letters_convention(net: Network) -> str | None:
    """Which letters belong to which layer, for the families the network has."""
    parts = []
    for family, what in (("conv", "convolution"), ("dense", "dense layer")):
        first = next((info for info in net.layers if info.layer.family == family
                      and info.letters), None)
        if first is not None:
            letters = ", ".join(unicode_plain(s) for s in first.letters.values())
            parts.append(f"{letters} to the first {what}")
    if not parts:
        return None
    return ("Letters carry the index of their layer within its family: "
            f"{' and '.join(parts)}.").replace(" to the first", " belong to the first", 1)


_RANK_WORDS = {2: "a signal or sequence is length × channels",
               3: "an image height × width × channels",
               4: "a volume depth × height × width × channels"}


def _shapes_convention(net: Network, families: set[str]) -> str:
    """How shapes are written, for the ranks the network's layers see."""
    ranks = sorted({len(info.output_shape) for info in net.layers} - {1})
    if ranks == [3] or (not ranks and families & {"conv", "pool"}):
        return "Shapes are channels-last: height × width × channels."
    if not ranks:
        return "The input is a vector of features."
    words = "; ".join(_RANK_WORDS[r] for r in ranks)
    return f"Shapes are channels-last: {words}."


def _bias_off(net: Network, off: list) -> str:
    """The layers without bias: named when few, else counted by kind (a ResNet's 53
    convolutions are "every conv2d layer (53)", not 53 names)."""
    if len(off) <= 6:
        return ", ".join(info.name for info in off)
    kinds: dict[str, int] = {}
    for info in off:
        kinds[info.kind] = kinds.get(info.kind, 0) + 1
    parts = []
    for kind, n in kinds.items():
        every = n == sum(1 for info in net.layers[1:] if info.kind == kind)
        parts.append(f"every {kind} layer ({n})" if every else f"{n} {kind} layers")
    return " and ".join(parts)


def _conventions(net: Network) -> list[str]:
    layers = [info.layer for info in net.layers[1:]]
    families = _families(net)
    # Only families with a bias field (normalisation layers learn γ and β instead).
    with_params = [layer for layer in layers if layer.has_params and "bias" in layer.fields]
    if with_params and all(layer.bias for layer in with_params):
        bias = "Every layer with weights also has one bias per filter or neuron (the +1 terms)."
    elif not with_params and any(layer.has_params for layer in layers):
        bias = "No layer here has a bias: the normalisation layers learn a scale and a shift."
    elif with_params and not any(layer.bias for layer in with_params):
        bias = "Bias is switched off in every layer: the formulas drop their +1 terms."
    else:
        off = [info for info in net.layers[1:]
               if info.layer.has_params and "bias" in info.layer.fields and not info.layer.bias]
        bias = f"Bias is on except in {_bias_off(net, off)}, whose formulas drop the +1 term."
    lines = [_shapes_convention(net, families), bias]
    if families & {"conv", "pool"}:
        which = " and ".join(w for f, w in (("conv", "Convolution"), ("pool", "pooling"))
                             if f in families).capitalize()
        rule = (f"{which} output size along each axis: ⌊(W + 2P − D(m − 1) − 1) / S⌋ + 1 "
                "with input size W, padding P, dilation D, window m and stride S (the height "
                "likewise with H and the window height n); with padding 'same' it is ⌈W / S⌉.")
        if any(len(info.input_shape) == 2 for info in net.layers[1:]
               if info.layer.family in ("conv", "pool")):
            rule += " A signal's length likewise with L and the window m."
        if any(len(info.input_shape) == 4 for info in net.layers[1:]
               if info.layer.family in ("conv", "pool")):
            rule += (" A volume's depth likewise with D and the window depth o; there the "
                     "dilation is written R, as D is the depth.")
        if "pool" in families:
            rule += " Pooling has no dilation (D = 1: ⌊(W + 2P − m) / S⌋ + 1), and its stride " \
                    "defaults to its window."
        lines.append(rule)
    if "flatten" in families:
        lines.append("A height × width × channels output is flattened before a dense layer or "
                     "by a flatten layer: H × W × C values, p = H × W × C for the dense layer.")
    lines += _sequence_conventions(net)
    letters = _letters_convention(net)
    if letters:
        lines.append(letters)
    if shows_split(net):
        lines.append(convention_text(net))
    return lines


def _sequence_conventions(net: Network) -> list[str]:
    """What a network with sequence layers counts the way it does: whose recurrent
    biases, dense layers per position, tied weights (said once, for the whole report)."""
    infos = net.layers[1:]
    lines = []
    if any(info.layer.family in ("sequence", "recurrent") for info in infos):
        lines.append("A sequence is T × E: T positions (time steps, tokens) of E values "
                     "each; token ids come in as T.")
    # Whose recurrent biases are counted is the convention sentence's (convention_note).
    frameworks = {info.layer.framework for info in infos if info.layer.family == "recurrent"}
    if len(frameworks) > 1:
        lines.append("Some recurrent layers set their own convention: each step's title says "
                     "whose count it shows.")
    if any(info.kind == "dense" and len(info.input_shape) == 2 for info in infos):
        lines.append("A dense layer on a T × E sequence acts on the last axis at each "
                     "position with the same weights (p = E), as PyTorch's Linear and Keras' "
                     "Dense do.")
    tied = [f"{info.name} (weights of {info.layer.tie})" for info in infos
            if getattr(info.layer, "tied", False)]
    if tied:
        lines.append(f"Tied weights are counted once, at the layer that holds them: "
                     f"{', '.join(tied)}.")
    return lines


CONV_POOL_NOTE = "A convolution together with the pooling after it is often counted as one layer."
POOL_NOTE = ("Pooling has no parameters, yet it still takes part in training: in the forward "
             "pass it hands its values on to the next layer, and in backpropagation it routes "
             "the gradients back to the inputs it took them from.")
# Every closing note, for templates and tools that list them all.
NOTES = [CONV_POOL_NOTE, POOL_NOTE]


def _notes(net: Network) -> list[str]:
    """The closing notes that concern layers the network has."""
    families = _families(net)
    notes = []
    if {"conv", "pool"} <= families:
        notes.append(CONV_POOL_NOTE)
    if "pool" in families:
        notes.append(POOL_NOTE)
    return notes


def _count_text(value) -> str:
    return thousands(value) if value.is_Integer else unicode_plain(value)


def _share_text(net: Network, value) -> str:
    return percent(value / net.total) if value.is_Integer and net.is_exact and net.total \
        else percent(None)


def block_sections(net: Network) -> tuple[list[BlockSection], list[StageRow]]:
    """The worked solution by stage: each distinct block instance in full once, with
    a table of the instances that are the same computation and their counts."""
    sections, rows = [], []
    distinct = distinct_units(net)
    for stage in stages(net):
        subtotal = _count_text(stage.total)
        rows.append(StageRow(stage.name, stage.blocks_text, len(stage.layers), subtotal,
                             _share_text(net, stage.total)))
        if stage.block is None:
            sections.append(BlockSection(3, stage.name, "Layers outside blocks.",
                                         [info.step for info in stage.layers], [], subtotal))
            continue
        sections.append(BlockSection(
            2, f"{stage.name}: {stage.blocks_text}",
            f"{len(stage.layers)} layers in {len(stage.units)} block instance"
            f"{'s' if len(stage.units) != 1 else ''}; "
            f"subtotal {subtotal}.", [], [], subtotal))
        for unit in stage.units:
            group = distinct[unit.path]
            if group.first.path != unit.path:
                continue
            others = [u.path for u in group.repeats if u.path != unit.path]
            intro = f"Block {unit.block}" + (f" with {unit.parameters_text}"
                                              if unit.params else "") + "."
            if others:
                intro += (f" The same layers with the same sizes make up "
                          f"{', '.join(others)}: worked out once here, counted "
                          f"{group.count} times.")
            repeats = [RepeatRow(u.path, _count_text(u.total)) for u in group.repeats] \
                if others else []
            sections.append(BlockSection(3, f"{unit.path} ({unit.block})", intro,
                                         [info.step for info in unit.layers], repeats,
                                         _count_text(unit.total),
                                         _count_text(group.count * unit.total)))
    return sections, rows


def _stage_total_step(net: Network) -> Step:
    """The total as the sum of the stages' subtotals (a network built from blocks)."""
    parts = [s.total for s in stages(net)]
    with evaluate(False):
        added = Add(*(ShownCount(p) if p.is_Integer else p for p in parts))
    return Step(title="Total", name="TOTAL", kind="total", formula=added,
                substituted=added, result=net.total, is_count=True,
                reason="The network's count is the sum of its stages' subtotals (the "
                       "summary by stage above)." + (f" {split_text(net)}"
                                                     if shows_split(net) else ""))


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
    sections, stage_rows = block_sections(net) if has_blocks(net) else ([], [])
    return Report(
        net=net, name=net.name, title=net.title or net.name, description=net.description,
        input_shape=unicode_shape(net.input_shape),
        steps=[info.step for info in net.layers], rows=rows,
        total_step=_stage_total_step(net) if sections else net.total_step,
        total=thousands(net.total) if net.is_exact else unicode_plain(net.total),
        is_exact=net.is_exact, total_symbolic=net.total_symbolic, letters=letters,
        conventions=_conventions(net), notes=_notes(net), free_symbols=list(net.free_symbols),
        total_share=percent(net.share_of_total()),
        split=split_text(net) if shows_split(net) else "",
        layers_text=f"{len(net) - 1} layer{'' if len(net) == 2 else 's'} after the input",
        symbolic_step=None if sections else Step(
            title="Total in letters", name="TOTAL", kind="total", formula=net.total_written,
            result=None),
        block_sections=sections, stage_rows=stage_rows, layer_count=len(net) - 1,
        chart_unit="block instance (or layer outside blocks)" if sections else "layer",
        warnings=list(net.warnings))


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
        check_template_folder(folder, packaged_templates())
        loaders.append(jinja2.FileSystemLoader(str(folder)))
    loaders.append(jinja2.FileSystemLoader(str(packaged_templates())))
    return jinja2.ChoiceLoader(loaders)


def output_stem(net: Network) -> str:
    """A file-system-safe name from the network's name."""
    stem = re.sub(r"[^A-Za-z0-9._-]+", "-", net.name).strip(".-")
    return stem or "network"
