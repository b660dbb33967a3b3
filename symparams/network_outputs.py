"""A network's outputs: records, CSV, the reports, and notebook/terminal displays.

A mixin of :class:`symparams.network.Network`, so that ``net.to_html()`` and the
others stay methods of the network.  render/ sits above the network, so the
report methods import it when asked (imports go one way).
"""
from __future__ import annotations

from typing import Any

from . import records
from .printing import unicode_written


class NetworkOutputs:
    """The network written out: data, reports and displays (mixed into Network)."""

    def to_dict(self) -> dict[str, Any]:
        """The data of ``symparams count --json`` (see :mod:`symparams.records`)."""
        return records.network_dict(self)

    def total_symbolic_text(self, printer=unicode_written) -> str:
        """The symbolic total printed in the document's order (``"0"`` with no layer
        that has parameters)."""
        return records.total_symbolic_text(self, printer)

    def to_records(self) -> list[dict[str, Any]]:
        """One dict per layer, the layers of :meth:`to_dict` (``pandas.DataFrame(net.to_records())``).

        >>> from symparams import load
        >>> load("lenet").to_records()[1]  # doctest: +NORMALIZE_WHITESPACE
        {'index': 1, 'name': 'CONV1', 'kind': 'conv2d', 'inputs': ['INPUT'],
         'output_shape': [28, 28, 8],
         'formula': '((m_1*n_1*d_1) + 1)*k_1', 'substituted': '((5*5*3) + 1)*8', 'params': 608,
         'trainable': 608, 'non_trainable': 0, 'buffers': 0,
         'shape_formula': ['floor((H + 2*P - D*(n - 1) - 1) / S) + 1',
                           'floor((W + 2*P - D*(m - 1) - 1) / S) + 1', 'k'],
         'shape_substituted': ['floor((32 + 2*0 - 1*(5 - 1) - 1) / 1) + 1',
                               'floor((32 + 2*0 - 1*(5 - 1) - 1) / 1) + 1', '8']}
        """
        return self.to_dict()["layers"]

    def to_csv(self, path=None):
        """The records as CSV with a last row for the total; shapes read ``28 x 28 x 8``;
        the last columns split params into trainable and non_trainable, then buffers.

        Written atomically to ``path`` (returns the Path), or returned as text without one.

        >>> from symparams import load
        >>> print(load("lenet").to_csv().splitlines()[-1])
        ,total,,,,,62958,62958,0,0
        """
        return records.network_csv(self, path)

    # The report in one format: the text (bytes for PDF), or written atomically to path.
    # render/ sits above this module, so it is imported when asked for.

    def to_markdown(self, path=None, *, templates=None):
        """The worked-solution report as Markdown (no figure files), or written to ``path``.

        >>> from symparams import load
        >>> load("lenet").to_markdown().splitlines()[0]
        '# Parameters of LeNet-style CNN from the worked example'
        """
        from .render.dispatch import render_network
        return render_network(self, "md", path, templates)

    def to_html(self, path=None, *, templates=None):
        """The report as one HTML page (MathML, no scripts), or written to ``path``.

        Not ``_repr_html_``: Jupyter shows the summary table, this is the whole report.
        """
        from .render.dispatch import render_network
        return render_network(self, "html", path, templates)

    def to_latex(self, path=None, *, templates=None):
        """The report as a LaTeX document (pdflatex), or written to ``path``."""
        from .render.dispatch import render_network
        return render_network(self, "tex", path, templates)

    def to_pdf(self, path=None, *, templates=None):
        """The report as PDF bytes (WeasyPrint), or written to ``path``."""
        from .render.dispatch import render_network
        return render_network(self, "pdf", path, templates)

    def _latex(self, printer=None) -> str:
        return self.total_step._latex()

    def _repr_latex_(self) -> str:
        return self.total_step._repr_latex_()

    def _repr_html_(self) -> str:
        """Jupyter: the summary table with MathML formulas and the total (no script)."""
        from .render.notebook import network_html
        return network_html(self)

    def _repr_markdown_(self) -> str:
        """Front ends that show Markdown: the total and the warnings (no table)."""
        from .render.notebook import network_markdown
        return network_markdown(self)

    def __rich__(self):
        """``rich.print(net)``: the table of ``symparams count``."""
        from .render.terminal import count_table
        return count_table(self)

    def _pretty(self, printer=None):
        # sympy.pprint(net): the str form, left-aligned, each line broken between terms
        # to fit the width (SymPy would cut a number in two).
        from .printing import pretty_lines
        return pretty_lines(str(self), printer)
