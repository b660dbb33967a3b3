"""The ``symparams`` command line."""
from __future__ import annotations

import argparse
import json
import sys
from typing import Sequence

from . import __version__
from .errors import SymparamsError
from .network import Network, load
from .spec import preset_names

EXIT_BAD_INPUT = 2


def parse_assignments(items: Sequence[str] | None) -> dict[str, str]:
    """``["k_1=16", "H=32"]`` → ``{"k_1": "16", "H": "32"}``; values are parsed later."""
    values: dict[str, str] = {}
    for item in items or []:
        name, sep, value = item.partition("=")
        name, value = name.strip(), value.strip()
        if not sep or not name or not value:
            raise SymparamsError(f"expected NAME=VALUE such as k_1=16, found {item!r}",
                                 field="--set")
        values[name] = value
    return values


def build_network(args) -> Network:
    net = load(args.spec)
    if getattr(args, "symbolic", False):
        net = net.symbolic()
    values = parse_assignments(args.set)
    if values:
        try:
            net = net.subs(values)
        except SymparamsError as exc:
            raise exc.located(file=net.source) from None
    return net


def cmd_count(args) -> int:
    net = build_network(args)
    if args.json:
        text = json.dumps(net.to_dict(), indent=2, ensure_ascii=False) + "\n"
        if args.output:
            from .render.common import atomic_write
            atomic_write(args.output, text)
        else:
            sys.stdout.write(text)
    else:
        from .render.terminal import print_count
        print_count(net)
    return 0


def parse_formats(text: str) -> list[str]:
    from .render.report import FORMATS
    names = [f.strip().lower() for f in text.split(",") if f.strip()]
    if "all" in names:
        return list(FORMATS)
    unknown = [f for f in names if f not in FORMATS]
    if unknown or not names:
        raise SymparamsError(f"expected md, html, tex, pdf or all (comma-separated), "
                             f"found {text!r}", field="--format")
    return list(dict.fromkeys(names))


def cmd_report(args) -> int:
    from .render.report import write_reports
    formats = parse_formats(args.format)
    net = build_network(args)
    for path in write_reports(net, formats, args.output, templates=args.templates):
        print(f"wrote {path}")
    return 0


def cmd_presets(args) -> int:
    for name in preset_names():
        net = load(name)
        total = net.total
        print(f"{name}\t{len(net) - 1} layers\t{total} parameters\t{net.title or ''}")
    return 0


def _add_network_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("spec", metavar="SPEC_OR_PRESET",
                        help="a spec file (.yaml, .json, .toml) or a preset name "
                             f"({', '.join(preset_names())})")
    parser.add_argument("--set", metavar="NAME=VALUE", nargs="+", action="extend",
                        help="set a size: a layer letter (k_1=16), a free name (H=32) or "
                             "LAYER.FIELD (CONV1.filters=16); repeatable")
    parser.add_argument("--symbolic", action="store_true",
                        help="keep every layer size as its letter (m_1, k_1, c_1 …); "
                             "--set then fills in only the ones given")


def make_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="symparams",
        description="Exact, symbolic parameter counts of neural networks, derived step by "
                    "step in the textbook's letters.",
        epilog="Run 'symparams COMMAND --help' for the options of a command.")
    parser.add_argument("--version", action="version", version=f"symparams {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    count = commands.add_parser(
        "count", help="count the parameters of a network, layer by layer",
        description="Print a table of every layer (kind, output shape, formula in the "
                    "layer's letters, the formula with the numbers put in, its parameter "
                    "count and share of the total) and the numeric and symbolic totals.",
        epilog="examples:\n  symparams count lenet\n  symparams count examples/lenet.yaml "
               "--json\n  symparams count lenet --symbolic --set k_1=16",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    _add_network_options(count)
    count.add_argument("--json", action="store_true",
                       help="print JSON: name, input_shape, layers (index, name, kind, "
                            "output_shape, formula, substituted, params), total, total_symbolic")
    count.add_argument("-o", "--output", metavar="FILE",
                       help="with --json: write the JSON to FILE (atomically) instead of stdout")
    count.set_defaults(run=cmd_count)

    report = commands.add_parser(
        "report", help="render the worked solution as Markdown, HTML, LaTeX or PDF",
        description="Render the network's worked solution (for each layer: why it has or "
                    "has no parameters, the formula in its letters, the formula with the "
                    "numbers, the result; then a summary table and the total) into files "
                    "named after the network.",
        epilog="examples:\n  symparams report lenet --format all\n"
               "  symparams report examples/lenet.yaml --format pdf -o out/\n"
               "  symparams report lenet --format html --templates my-templates/",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    _add_network_options(report)
    report.add_argument("--format", default="all", metavar="FMT",
                        help="md, html, tex, pdf or all; several separated by commas "
                             "(default: all)")
    report.add_argument("-o", "--output", default="reports", metavar="DIR",
                        help="output folder (default: reports/)")
    report.add_argument("--templates", metavar="DIR",
                        help="a folder of templates that replace the shipped ones by file "
                             "name (see templates/ for the names)")
    report.set_defaults(run=cmd_report)

    presets = commands.add_parser("presets", help="list the networks shipped as presets",
                                  description="List the preset networks with their totals.")
    presets.set_defaults(run=cmd_presets)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = make_parser()
    args = parser.parse_args(argv)
    try:
        return args.run(args)
    except SymparamsError as exc:
        print(f"symparams: error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print("symparams: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0


def run() -> None:
    sys.exit(main())
