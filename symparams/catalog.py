"""What the package ships: network presets and homework templates, and which command takes which.

Network presets (``symparams/presets/``) are networks: ``count``, ``report``,
``sweep``, ``solve`` and ``diff`` read them.  Homework templates
(``symparams/homework/presets/``) are specs whose sizes vary: ``homework`` reads
them.  Some names exist in both (``lenet``).  Giving one kind to a command of the
other says so, and lists what that command takes.
"""
from __future__ import annotations

from importlib import resources
from pathlib import Path

from .errors import SymparamsError
from .network import load
from .numbers import thousands
from .printing import unicode_shape
from .spec import preset_names, read_document

NETWORK_COMMANDS = ("count", "report", "sweep", "solve", "diff")
TEMPLATE_PACKAGE = "symparams.homework"

__all__ = ["network_presets", "homework_templates", "template_text", "check_network_target",
           "check_template_target", "listing_text"]


def network_presets() -> list[str]:
    return preset_names()


def homework_templates() -> list[str]:
    return preset_names(TEMPLATE_PACKAGE)


def _is_file_target(target) -> bool:
    return str(target) == "-" or Path(target).exists()


def check_network_target(target) -> None:
    """Refuse a homework template's name where a network is expected, saying what exists."""
    if _is_file_target(target) or target in network_presets():
        return
    if target in homework_templates():
        raise SymparamsError(f"is a homework template, not a network preset: 'symparams "
                             f"homework {target}' draws variants from it (network presets: "
                             f"{', '.join(network_presets())})", file=str(target))


def check_template_target(target) -> None:
    """Refuse a network preset's name where a homework template is expected."""
    if _is_file_target(target) or target in homework_templates():
        return
    if target in network_presets():
        templates = homework_templates()
        raise SymparamsError(f"is a network preset, not a homework template: 'symparams count "
                             f"{target}' counts it (homework templates: {', '.join(templates)}; "
                             f"'symparams homework --show-template {templates[0]}' prints one "
                             f"to start from)", file=str(target))


def template_text(name: str) -> str:
    """The shipped template's file, comments and all: a template to start from."""
    templates = homework_templates()
    if name not in templates:
        raise SymparamsError(f"no such homework template (homework templates: "
                             f"{', '.join(templates)})", file=str(name), field="--show-template")
    folder = resources.files(TEMPLATE_PACKAGE) / "presets"
    return (folder / f"{name}.yaml").read_text(encoding="utf-8")


def _title(name: str, package: str) -> str:
    data, _ = read_document(name, package)
    return str(data.get("title") or "") if isinstance(data, dict) else ""


def listing_text() -> str:
    """The text of ``symparams presets``: both kinds, with the commands that read them."""
    lines = [f"Network presets ({', '.join(NETWORK_COMMANDS)}; e.g. symparams count lenet):"]
    rows = []
    for name in network_presets():
        net = load(name)
        rows.append((name, f"input {unicode_shape(net.input_shape)}, layers 1–{len(net) - 1}",
                     f"{thousands(net.total)} parameters" if net.is_exact else str(net.total),
                     net.title or ""))
    lines += _aligned(rows)
    lines += ["", "Homework templates (symparams homework NAME; symparams homework "
                  "--show-template NAME prints one to start from):"]
    lines += _aligned([(name, _title(name, TEMPLATE_PACKAGE)) for name in homework_templates()])
    return "\n".join(lines)


def _aligned(rows: list[tuple[str, ...]]) -> list[str]:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)] if rows else []
    return ["  " + "  ".join([*(cell.ljust(w) for cell, w in zip(row, widths)), row[-1]]).rstrip()
            for row in rows]
