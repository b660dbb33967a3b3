"""The terminal views: the table of ``symparams count`` (one line per layer when it fits
the width, else each formula folded under its layer), its totals, and a sweep's table."""
from __future__ import annotations

import os

from rich.console import Console, ConsoleOptions
from rich.measure import Measurement
from rich.table import Table
from rich.text import Text

from ..blockgroups import has_blocks, stages
from ..network import Network
from ..printable import printable
from ..printing import unicode_plain, unicode_shape
from ..steps import convention_text, shows_split
from .common import percent, thousands

MAX_SYMBOLIC_TERMS = 24   # a longer symbolic total is left to --json and the reports


def _count_cell(value) -> Text:
    return Text(thousands(value) if value.is_Integer else unicode_plain(value))


def _title(net: Network) -> Text:
    # Names come from the spec: printable() keeps ESC sequences and newlines out.
    return Text(f"{printable(net.name)}: input {unicode_shape(net.input_shape)}")


def _part_columns(net: Network) -> list[tuple[str, str]]:
    """The columns of the count's other parts, only where some layer has them, so a
    network that is all trainable keeps its table: (header, LayerInfo attribute)."""
    return [(header, part) for header, part, total in (
        ("non-trainable", "non_trainable", net.non_trainable_total),
        ("buffers", "buffers", net.buffers_total)) if total != 0]


def wide_table(net: Network) -> Table:
    """One line per layer: #, layer, kind, output shape, formula, substituted, params, share."""
    table = Table(title=_title(net),
                  title_justify="left", show_lines=False)
    table.add_column("#", justify="right", no_wrap=True)
    table.add_column("layer", no_wrap=True)
    table.add_column("kind", no_wrap=True)
    table.add_column("output shape", no_wrap=True)
    # Wrapped, never cut short with "…", when the console is narrower than the table.
    table.add_column("formula", overflow="fold")
    table.add_column("substituted", overflow="fold")
    table.add_column("params", justify="right", overflow="fold")
    parts = _part_columns(net)
    for header, _ in parts:
        table.add_column(header, justify="right", overflow="fold")
    table.add_column("share", justify="right", no_wrap=True)
    for info, subtotals in _grouped(net):
        step = info.step
        faces = step.text
        table.add_row(str(info.index), Text(_layer_name(info)), info.kind, step.shape_text(),
                      *_formula_cells(info, step),
                      _count_cell(info.params),
                      *(_count_cell(getattr(info, part)) for _, part in parts),
                      percent(net.share(info)))
        for label, value, end in subtotals:
            table.add_row("", label, "", "", "", "", _count_cell(value), *("" for _ in parts),
                          percent(_share(net, value)), style="bold" if end else "dim")
            if end and info is not net.layers[-1]:
                table.add_section()
    table.add_section()
    table.add_row("", "total", "", "", "", "", _count_cell(net.total),
                  *(_count_cell(getattr(net, f"{part}_total")) for _, part in parts),
                  percent(net.share_of_total()))
    return table


def _formula_cells(info, step) -> tuple[Text, Text]:
    """The formula and substituted cells; an opaque layer with parameters has no
    formula, its count is the framework's number (said in the formula column)."""
    if info.layer.counted:
        return Text("from the framework"), Text(step.text.result)
    faces = step.text
    return (Text(faces.formula if step.has_formula else "0"),
            Text(faces.substituted if step.has_formula else "0"))


def _share(net: Network, value):
    if value.is_Integer and net.is_exact and net.total:
        return value / net.total
    return None


def _grouped(net: Network):
    """(layer, subtotal rows after it) in order; a network built from blocks gets a
    subtotal after each block instance (dim) and each stage (bold, then a rule)."""
    if not has_blocks(net):
        for info in net.layers:
            yield info, ()
        return
    yield net.layers[0], ()
    for stage in stages(net):
        last_of_unit = {unit.layers[-1].index: unit for unit in stage.units}
        for info in stage.layers:
            rows = []
            unit = last_of_unit.get(info.index)
            if unit is not None and len(stage.units) > 1:
                rows.append((f"  {printable(unit.path)} ({printable(unit.block)}) subtotal",
                             unit.total, False))
            if info is stage.layers[-1] and stage.block is not None:
                rows.append((f"{printable(stage.name)} ({printable(stage.blocks_text)}) "
                             f"subtotal", stage.total, True))
            yield info, rows


def stage_table(net: Network) -> Table:
    """One row per stage: the blocks it holds, its layers and its subtotal."""
    table = Table(title=Text(f"{printable(net.name)} by stage"), title_justify="left")
    for heading, justify in (("stage", "left"), ("blocks", "left"), ("layers", "right"),
                             ("params", "right"), ("share", "right")):
        table.add_column(heading, justify=justify, no_wrap=heading != "stage")
    for stage in stages(net):
        table.add_row(printable(stage.name), printable(stage.blocks_text),
                      str(len(stage.layers)), _count_cell(stage.total),
                      percent(_share(net, stage.total)))
    table.add_section()
    table.add_row("total", "", str(len(net.layers) - 1), _count_cell(net.total),
                  percent(net.share_of_total()))
    return table


def _layer_name(info) -> str:
    """The layer's name, escaped, with where its input comes from when that is not
    the layer above (``SUM ← C2, INPUT``): the same in the wide and narrow tables."""
    if info.takes_previous or not info.sources:  # a network input takes nothing
        return printable(info.name)
    return f"{printable(info.name)} ← {', '.join(map(printable, info.sources))}"


def narrow_table(net: Network) -> Table:
    """For a narrow console: each layer's formula and substituted form fold under its
    name and kind, so the row keeps its shape, count and share on its first line."""
    table = Table(title=_title(net), title_justify="left", show_lines=False)
    table.add_column("#", justify="right", no_wrap=True)
    table.add_column("layer (kind)\nformula\n= substituted", overflow="fold")
    table.add_column("output shape", overflow="fold")
    table.add_column("params", justify="right", overflow="fold")
    parts = _part_columns(net)
    for header, _ in parts:   # on two lines: the formula column keeps the width
        table.add_column(header.replace("-", "-\n"), justify="right", overflow="fold")
    table.add_column("share", justify="right", no_wrap=True)
    for info, subtotals in _grouped(net):
        step = info.step
        cell = Text.assemble((_layer_name(info), "bold"), f" ({info.kind})")
        if step.has_formula:
            faces = step.text
            cell.append(f"\n{faces.formula}\n= {faces.substituted}")
        elif info.layer.counted:
            cell.append("\nfrom the framework, no formula")
        exact = info.params.is_Integer
        if not exact:   # an expression: under the working, where it has the line's width
            cell.append(f"\n= {unicode_plain(info.params)}")
        table.add_row(str(info.index), cell, Text(step.shape_text()),
                      _count_cell(info.params) if exact else Text("↓"),
                      *(_count_cell(getattr(info, part)) for _, part in parts),
                      percent(net.share(info)))
        for label, value, end in subtotals:
            table.add_row("", Text(label), "", _count_cell(value), *("" for _ in parts),
                          percent(_share(net, value)), style="bold" if end else "dim")
            if end and info is not net.layers[-1]:
                table.add_section()
    table.add_section()
    table.add_row("", "total", "", _count_cell(net.total) if net.is_exact else Text("below"),
                  *(_count_cell(getattr(net, f"{part}_total")) for _, part in parts),
                  percent(net.share_of_total()))
    return table


class CountTable:
    """The table of ``symparams count``, laid out for the console it is printed on: one
    line per layer when that fits, else :func:`narrow_table` (80 columns and less)."""

    def __init__(self, net: Network):
        self.net = net

    def __rich_console__(self, console: Console, options: ConsoleOptions):
        wide = wide_table(self.net)
        # Measured as if the console were unbounded: the natural width of one line a row.
        natural = Measurement.get(console, options.update_width(100_000), wide).maximum
        fits = natural <= options.max_width
        yield wide if fits else narrow_table(self.net)


def count_table(net: Network) -> CountTable:
    """Layer, kind, output shape, formula, substituted form, params and share."""
    return CountTable(net)


def print_count(net: Network, console: Console | None = None) -> None:
    console = console or make_console()
    console.print(count_table(net))
    # An importer's notes and opaque layers' numbers: the footer starts with them.
    for warning in net.warnings:
        console.print(Text.assemble(("Warning: ", "bold yellow"), (printable(warning), "yellow")))
    if has_blocks(net):
        console.print(stage_table(net))
    if shows_split(net):
        # Keras' summary() footer, with PyTorch's buffers when there are any.
        parts = [("Total params", net.total), ("Trainable params", net.trainable_total),
                 ("Non-trainable params", net.non_trainable_total)]
        if net.buffers_total != 0:
            parts.append(("Buffers (not parameters)", net.buffers_total))
        for label, value in parts:
            console.print(Text(f"{label}: {_count_cell(value)}"))
        console.print(Text(convention_text(net, flag=True)))
    elif net.is_exact:
        console.print(Text(f"Total: {thousands(net.total)} learnable parameters"))
    else:
        console.print(Text(f"Total: {unicode_plain(net.total)}"))
    terms = len(net.total_written.args)
    if terms > MAX_SYMBOLIC_TERMS and net.is_exact:
        # ResNet-50's 107 formulas ran to 30 lines at 80 columns, after the table that
        # shows each of them; --json keeps the whole sum
        console.print(Text(f"Symbolic total: the sum of the {terms} formulas in the table "
                           f"(written out in --json as total_symbolic)"))
    else:
        console.print(Text(f"Symbolic total: {net.total_symbolic_text()}"))
    if net.free_symbols:
        console.print(Text(f"Free sizes: {', '.join(net.free_symbols)} "
                           f"(set them with --set NAME=VALUE)"))


def make_console() -> Console:
    """The terminal's width; 200 columns when output goes to a file or pipe, unless
    ``COLUMNS`` says otherwise (``COLUMNS=80 symparams count vgg16 | less``)."""
    console = Console(highlight=False)
    if not console.is_terminal:
        width = int(os.environ["COLUMNS"]) if os.environ.get("COLUMNS", "").isdigit() else 200
        console = Console(highlight=False, width=max(width, 20))
    return console


def _natural_width(console: Console, table: Table) -> int:
    """The width a table takes when nothing has to wrap or be cut short."""
    return Measurement.get(console, console.options.update_width(100_000), table).maximum


def _sweep_table(rows, columns: list[str], shown: list) -> Table:
    from ..printing import unicode_name
    table = Table(title=Text(f"{printable(rows.network)}: learnable parameters over "
                             f"{thousands(len(rows))} point{'s' if len(rows) != 1 else ''}"),
                  title_justify="left")
    for column in columns:
        table.add_column(printable(unicode_name(column)), justify="right", no_wrap=True)
    for row in shown:
        if row is None:
            table.add_row(*["…"] * len(columns))
        else:
            table.add_row(*(thousands(row[c]) if c not in rows.varied else str(row[c])
                            for c in columns))
    return table


def print_sweep(rows, console: Console | None = None, limit: int = 60) -> None:
    """A sweep's rows as a table (the first and last rows when there are many).

    When the layers' columns do not fit the console, the smallest layers are left out
    (and said so) rather than every count cut short to ``2,359,8…``.
    """
    console = console or make_console()
    shown = list(rows) if len(rows) <= limit else [*rows[:limit // 2], None,
                                                   *rows[-(limit // 2):]]
    # Layers by their largest count, the smallest first: those are left out first.
    droppable = sorted(rows.layers, key=lambda name: max(rows.column(name)))
    kept = list(rows.layers)
    table = _sweep_table(rows, rows.columns, shown)
    while droppable and _natural_width(console, table) > console.width:
        kept.remove(droppable.pop(0))
        table = _sweep_table(rows, [*rows.varied, *kept, "total"], shown)
    console.print(table)
    if len(rows) > limit:
        console.print(Text(f"{thousands(len(rows) - 2 * (limit // 2))} rows left out; "
                           f"--csv FILE writes them all"))
    left_out = [name for name in rows.layers if name not in kept]
    if left_out:
        names = ", ".join(printable(n) for n in left_out[:5]) + (" …" if len(left_out) > 5 else "")
        console.print(Text(f"left out to fit {console.width} columns: {names} (the "
                           f"smallest); --csv FILE writes every layer"))
