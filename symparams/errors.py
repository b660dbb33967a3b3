"""The one error class symparams raises for bad input.

Every message is one line that says where the problem is (file, layer index
and name, field) and what was expected versus what was found, so that the CLI
can print it as is and exit with status 2.
"""
from __future__ import annotations

from .printable import MESSAGE_LIMIT, printable, shorten


class SymparamsError(Exception):
    """Bad input: a spec, a size, a substitution or an output location.

    >>> str(SymparamsError("expected a positive integer, found 0",
    ...                    file="net.yaml", layer=(3, "CONV2"), field="filters"))
    'net.yaml: layer 3 (CONV2): filters: expected a positive integer, found 0'
    """

    def __init__(self, message: str, *, file: str | None = None,
                 layer: tuple[int, str] | str | None = None,
                 field: str | None = None):
        # Collapse whitespace so a message can never span lines.
        self.message = " ".join(str(message).split())
        self.file = file
        self.layer = layer
        self.field = field
        super().__init__(str(self))

    def located(self, *, file: str | None = None,
                layer: tuple[int, str] | str | None = None,
                field: str | None = None) -> "SymparamsError":
        """Return a copy with the location parts that are still missing filled in."""
        return SymparamsError(self.message,
                              file=self.file or file,
                              layer=self.layer if self.layer is not None else layer,
                              field=self.field or field)

    def __str__(self) -> str:
        # Every part may come from a hostile spec or command line: escape what cannot be
        # shown (a newline would forge a line, ESC drive the terminal, a lone surrogate
        # fail to encode) and keep the whole within one line of about MESSAGE_LIMIT.
        parts = []
        if self.file:
            parts.append(shorten(self.file, 80))
        if isinstance(self.layer, tuple):
            index, name = self.layer
            name = shorten(name, 40)
            parts.append(f"layer {index} ({name})" if name else f"layer {index}")
        elif self.layer:
            parts.append(shorten(self.layer, 40))
        if self.field:
            parts.append(shorten(self.field, 40))
        parts.append(printable(self.message))
        return shorten(": ".join(parts), MESSAGE_LIMIT)
