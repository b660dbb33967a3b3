"""Jupyter's view of a network (``Network._repr_html_``): the summary table.

One self-contained HTML fragment: every formula is MathML from the same
printers as the HTML report, so it typesets offline, with no script, no CDN
and no style sheet (the few styles are inline attributes).
"""
from __future__ import annotations

from html import escape

from ..network import Network
from ..printing import mathml_plain, mathml_written, unicode_plain, unicode_shape
from ..steps import shows_split, split_text
from .common import md_escape, percent, thousands

_CELL = "padding:2px 8px;vertical-align:middle;"
_LEFT = _CELL + "text-align:left;"
_RIGHT = _CELL + "text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap;"


def _td(content: str, style: str = _LEFT) -> str:
    return f'<td style="{style}">{content}</td>'


def _th(text: str, style: str = _LEFT) -> str:
    return f'<th style="{style}">{escape(text)}</th>'


def _count(value) -> str:
    """A count: 62,958 when it is a number, MathML when it is an expression."""
    if getattr(value, "is_Integer", False):
        return escape(thousands(value))
    return mathml_plain(value)


def network_html(net: Network) -> str:
    """The table of ``symparams count`` as HTML: layer, kind, output shape, formula in
    the layer's letters, the formula with the numbers put in, params and share; then
    the total and the symbolic total.

    >>> from symparams import load
    >>> html = load("lenet")._repr_html_()
    >>> "<math" in html and "62,958" in html and "<script" not in html
    True
    """
    title = f"{net.name}: input {unicode_shape(net.input_shape)}"
    head = "".join([_th("#", _RIGHT), _th("layer"), _th("kind"), _th("output shape"),
                    _th("formula"), _th("substituted"), _th("params", _RIGHT),
                    _th("share", _RIGHT)])
    rows = []
    for info in net.layers:
        step = info.step
        if step.has_formula:
            formula, substituted = step.mathml.formula, step.mathml.substituted
        else:
            formula = substituted = '<span style="opacity:0.6">—</span>'
        rows.append("<tr>" + "".join([
            _td(str(info.index), _RIGHT), _td(escape(info.name)), _td(escape(info.kind)),
            _td(escape(step.shape_text()), _LEFT + "white-space:nowrap;"),
            _td(formula), _td(substituted), _td(_count(info.params), _RIGHT),
            _td(escape(percent(net.share(info))), _RIGHT),
        ]) + "</tr>")
    total_share = "100.0 %" if net.is_exact and net.total else ""
    foot = "<tr>" + "".join([
        _td(""), _td("<strong>total</strong>"), _td(""), _td(""), _td(""), _td(""),
        _td(f"<strong>{_count(net.total)}</strong>", _RIGHT), _td(total_share, _RIGHT),
    ]) + "</tr>"
    if net.is_exact:
        summary = f"Total: <strong>{escape(thousands(net.total))}</strong> learnable parameters"
    else:
        summary = f"Total: {mathml_plain(net.total)}"
    if shows_split(net):   # trainable, non-trainable, buffers and the convention
        summary += f'</p><p style="margin:0.2em 0">{escape(split_text(net))}'
    free = ""
    if net.free_symbols:
        names = ", ".join(unicode_plain(s) for s in net.free_symbols.values())
        free = (f'<p style="margin:0.2em 0">Free sizes: {escape(names)} '
                f"(set them with <code>net.subs(NAME=VALUE)</code>)</p>")
    # An importer's notes and opaque layers' numbers, before the table (escaped).
    warnings = "".join(f'<p style="margin:0.2em 0"><strong>Warning:</strong> {escape(w)}</p>'
                       for w in net.warnings)
    return (
        '<div class="symparams-network">'
        f"{warnings}"
        '<table style="border-collapse:collapse;">'
        f'<caption style="text-align:left;font-weight:bold;padding:2px 8px;">'
        f"{escape(title)}</caption>"
        f'<thead><tr style="border-bottom:1px solid currentColor;">{head}</tr></thead>'
        f"<tbody>{''.join(rows)}</tbody>"
        f'<tfoot style="border-top:1px solid currentColor;">{foot}</tfoot>'
        "</table>"
        f'<p style="margin:0.4em 0 0.2em">{summary}</p>'
        f'<p style="margin:0.2em 0">Symbolic total: {mathml_written(net.total_written)}</p>'
        f"{free}</div>"
    )


def network_markdown(net: Network) -> str:
    """A short Markdown summary for front ends that show Markdown: the warnings (an
    importer's notes, opaque layers' numbers), then the layers and the total; text
    from the spec escaped.

    >>> from symparams import load
    >>> load("lenet")._repr_markdown_().splitlines()[0]
    '**lenet**: input 32 × 32 × 3, 7 layers after the input, 62,958 learnable parameters'
    """
    total = f"{thousands(net.total)} learnable parameters" if net.is_exact else \
        f"total {unicode_plain(net.total)}"
    lines = [f"**{md_escape(net.name)}**: input {unicode_shape(net.input_shape)}, "
             f"{len(net) - 1} layers after the input, {md_escape(total)}"]
    lines += [f"> **Warning:** {md_escape(w)}" for w in net.warnings]
    return "\n\n".join(lines)
