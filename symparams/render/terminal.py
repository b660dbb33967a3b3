"""The terminal view of ``symparams count``: a rich table and the totals."""
from __future__ import annotations

import shutil

from rich.console import Console
from rich.table import Table
from rich.text import Text

from ..network import Network
from ..printable import printable
from ..printing import unicode_plain, unicode_shape
from .common import percent, thousands


def count_table(net: Network) -> Table:
    """Layer, kind, output shape, formula, substituted form, params and share."""
    # Names come from the spec: printable() keeps ESC sequences and newlines out.
    table = Table(title=Text(f"{printable(net.name)}: input {unicode_shape(net.input_shape)}"),
                  title_justify="left", show_lines=False)
    table.add_column("#", justify="right", no_wrap=True)
    table.add_column("layer", no_wrap=True)
    table.add_column("kind", no_wrap=True)
    table.add_column("output shape", no_wrap=True)
    table.add_column("formula")
    table.add_column("substituted")
    table.add_column("params", justify="right")
    table.add_column("share", justify="right", no_wrap=True)
    for info in net.layers:
        step = info.step
        faces = step.text
        # Where the input comes from, when it is not the layer above (inputs:).
        name = printable(info.name) if info.takes_previous else \
            f"{printable(info.name)} ← {', '.join(map(printable, info.sources))}"
        table.add_row(str(info.index), Text(name), info.kind, step.shape_text(),
                      Text(faces.formula if step.has_formula else "0"),
                      Text(faces.substituted if step.has_formula else "0"),
                      Text(faces.result), percent(net.share(info)))
    table.add_section()
    table.add_row("", "total", "", "", "", "", Text(unicode_plain(net.total)),
                  percent(net.share_of_total()))
    return table


def print_count(net: Network, console: Console | None = None) -> None:
    console = console or make_console()
    console.print(count_table(net))
    if net.is_exact:
        console.print(Text(f"Total: {thousands(net.total)} learnable parameters"))
    else:
        console.print(Text(f"Total: {unicode_plain(net.total)}"))
    console.print(Text(f"Symbolic total: {net.total_symbolic_text()}"))
    if net.free_symbols:
        console.print(Text(f"Free sizes: {', '.join(net.free_symbols)} "
                           f"(set them with --set NAME=VALUE)"))


def make_console() -> Console:
    """A console that does not squeeze formulas when output goes to a file or pipe."""
    console = Console(highlight=False)
    if not console.is_terminal:
        console = Console(highlight=False, width=max(shutil.get_terminal_size((200, 24)).columns,
                                                     200))
    return console


def print_sweep(rows, console: Console | None = None, limit: int = 60) -> None:
    """A sweep's rows as a table (the first and last rows when there are many)."""
    from ..printing import unicode_name
    console = console or make_console()
    table = Table(title=Text(f"{printable(rows.network)}: learnable parameters over "
                             f"{len(rows):,} point{'s' if len(rows) != 1 else ''}"),
                  title_justify="left")
    for column in rows.columns:
        table.add_column(unicode_name(column), justify="right", no_wrap=True)
    shown = list(rows) if len(rows) <= limit else [*rows[:limit // 2], None,
                                                   *rows[-(limit // 2):]]
    for row in shown:
        if row is None:
            table.add_row(*["…"] * len(rows.columns))
        else:
            table.add_row(*(thousands(row[c]) if c not in rows.varied else str(row[c])
                            for c in rows.columns))
    console.print(table)
    if len(rows) > limit:
        console.print(Text(f"{len(rows) - 2 * (limit // 2):,} rows left out; "
                           f"--csv FILE writes them all"))
