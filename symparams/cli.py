"""The ``symparams`` command line."""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Sequence

from . import __version__
from .errors import SymparamsError
from .layers.base import is_letter_name
from .network import Network, load
from .catalog import check_network_target, check_template_target, homework_templates, \
    listing_text
from .printable import echo, printable, shorten
from .spec import parse_expression, preset_names

EXIT_BAD_INPUT = 2
EXIT_NO_ANSWER = 1   # solve: the question has no (single) answer; said plainly, no traceback


def parse_assignments(items: Sequence[str] | None) -> dict[str, str]:
    """``["k_1=16", "H=32"]`` → ``{"k_1": "16", "H": "32"}``; values are parsed later."""
    values: dict[str, str] = {}
    for item in items or []:
        name, sep, value = item.partition("=")
        name, value = name.strip(), value.strip()
        if not sep or not name or not value:
            raise SymparamsError(f"expected NAME=VALUE such as k_1=16, found {echo(item)}",
                                 field="--set")
        if name in values:       # the last one would win in silence
            raise SymparamsError(f"{name} is given twice", field="--set")
        values[name] = value
    return values


def checked_values(net: Network, values: dict[str, str]) -> dict[str, str]:
    """Refuse a ``--set`` value that names something that is not a size (k_2=abc): the
    names in a value must be the network's own sizes or clearly symbols — one letter,
    optionally subscripted (k, H_2), the rule of keyword fields."""
    for name, text in values.items():
        try:
            value = parse_expression(text)
        except SymparamsError as exc:
            raise exc.located(file=net.source, field=name) from None
        for sym in sorted(value.free_symbols, key=lambda s: s.name):
            if not (is_letter_name(sym.name) or sym.name in net.symbols):
                raise SymparamsError(
                    f"{echo(sym.name)} is not a size of {net.name}: a value is a whole number "
                    f"or an expression in the network's sizes or single letters such as k or "
                    f"H_2", file=net.source, field=name)
    return values


def input_option(text: str | None, field: str = "--input") -> tuple | None:
    """``--input 3,224,224`` as a shape in the framework's order (None when not given)."""
    if text is None:
        return None
    from .importers import parse_input_shape
    return parse_input_shape(text, field)


def build_network(args) -> Network:
    check_network_target(args.spec)
    net = load(args.spec, convention=getattr(args, "convention", None),
               input_shape=input_option(getattr(args, "input", None)),
               allow_unknown=getattr(args, "allow_unknown", False))
    if getattr(args, "symbolic", False):
        net = net.symbolic()
    values = parse_assignments(args.set)
    if values:
        checked_values(net, values)
        try:
            net = net.subs(values)
        except SymparamsError as exc:
            raise exc.located(file=net.source) from None
    return net


def cmd_count(args) -> int:
    net = build_network(args)
    # -o x.json means JSON as much as --json does; any other file gets the table.
    as_json = args.json or (args.output or "").lower().endswith(".json")
    if as_json:
        text = json.dumps(net.to_dict(), indent=2, ensure_ascii=False) + "\n"
    elif args.output:
        text = _count_text(net)
    else:
        from .render.terminal import print_count
        print_count(net)
        return 0
    if args.output and args.output != "-":
        from .render.common import atomic_write
        atomic_write(args.output, text)
    else:
        sys.stdout.write(text)
    return 0


def _count_text(net: Network) -> str:
    """The table and totals as plain text (no colour, no terminal codes) for a file;
    as wide as when the output is piped."""
    import io
    from rich.console import Console
    from .render.terminal import print_count
    buffer = io.StringIO()
    print_count(net, Console(file=buffer, highlight=False, color_system=None,
                             force_terminal=False, width=200))
    return buffer.getvalue()


def parse_formats(text: str, allowed: tuple[str, ...] | None = None) -> list[str]:
    """``"md,pdf"`` → ``["md", "pdf"]``; ``all`` means every allowed format, in order."""
    from .render.dispatch import FORMATS, parse_formats as parse
    return parse(text, allowed or FORMATS)


def _folder_option(path: str) -> None:
    """report and homework write several files into a folder: ``-o -`` would make a
    folder named "-" rather than write to standard output, so it is refused."""
    if path == "-":
        raise SymparamsError("expected a folder: this command writes several files, so "
                             "'-' (standard output) cannot take them", field="-o")


def cmd_report(args) -> int:
    from .render.dispatch import write_reports
    formats = parse_formats(args.format)
    _folder_option(args.output)
    net = build_network(args)
    for path in write_reports(net, formats, args.output, templates=args.templates):
        print(f"wrote {printable(path)}")
    return 0


def cmd_homework(args) -> int:
    if args.show_template:
        from .catalog import template_text
        sys.stdout.write(template_text(args.show_template))
        return 0
    if not args.template:
        raise SymparamsError("expected a homework template (a file or one of "
                             f"{', '.join(homework_templates())}), or --show-template NAME",
                             field="TEMPLATE")
    check_template_target(args.template)
    from .homework.output import SHEET_FORMATS, write_homework
    formats = parse_formats(args.format, SHEET_FORMATS)
    _folder_option(args.output)
    if args.variants < 1:
        raise SymparamsError(f"expected at least 1 variant, found {args.variants}",
                             field="--variants")
    if args.jobs is not None and args.jobs < 1:
        raise SymparamsError(f"expected at least 1 job, found {args.jobs}", field="--jobs")
    out, variants = write_homework(args.template, args.variants, args.seed, args.output,
                                   formats, jobs=args.jobs, quiet=args.quiet,
                                   exact=args.exact, templates=args.templates)
    if not args.quiet:
        print(f"wrote {printable(out)}/ ({len(variants)} variants, seed {args.seed}, "
              f"{', '.join(formats)})")
        from .homework.moodle import left_out
        omitted = left_out(variants)
        if omitted:
            print(f"symparams: note: moodle.xml leaves out {len(omitted)} symbolic "
                  f"(expression) question{'s' if len(omitted) != 1 else ''} "
                  f"({omitted[0][1]} …): Moodle cannot compare expressions; grade them "
                  "with symparams grade", file=sys.stderr)
    return 0


def cmd_grade(args) -> int:
    from .homework.grading import grade, write_scores
    scores = grade(args.homework, args.responses)
    write_scores(scores, args.output)
    if args.output and args.output != "-":
        print(f"wrote {printable(args.output)}")
    # Bad rows were left out; the others' scores are written, then each bad row
    # is reported on its own line and the exit code says the grading is partial.
    for problem in scores.problems:
        print(f"symparams: error: {problem}", file=sys.stderr)
    return EXIT_BAD_INPUT if scores.problems else 0


def cmd_sweep(args) -> int:
    from .explore.sweep import parse_vary
    vary: dict[str, tuple[int, ...]] = {}
    for item in args.vary:
        key, values = parse_vary(item)
        if key in vary:
            raise SymparamsError(f"{key} is given twice", field="--vary")
        vary[key] = values
    if args.plot:
        from .render.plot import FORMATS
        if not args.plot.lower().endswith(tuple(f".{f}" for f in FORMATS)):
            raise SymparamsError(f"expected a .svg, .png or .pdf file, found {args.plot!r}",
                                 field="--plot")
    net = build_network(args)
    try:
        rows = net.sweep(vary)
    except SymparamsError as exc:
        raise exc.located(file=net.source) from None
    # The CSV and the plot are made in memory, then written as one run: both or neither.
    files = []
    if args.csv:
        files.append((args.csv, rows.csv_text()))
    if args.plot:
        from .render.plot import plot_bytes
        files.append((args.plot, plot_bytes(rows, Path(args.plot).suffix.lower().lstrip("."))))
    if files:
        from .render.common import write_files
        note = sys.stderr if "-" in (args.csv, args.plot) else sys.stdout
        for path in write_files(files):
            if str(path) != "-":
                print(f"wrote {printable(path)}", file=note)
    if not args.csv and not args.plot:
        from .render.terminal import print_sweep
        print_sweep(rows)
    return 0


def cmd_solve(args) -> int:
    from .explore.solve import NoUniqueAnswer, max_value_for, solve_for
    if not args.target:
        raise SymparamsError("expected the size to solve for, such as --for CONV1.filters",
                             field="--for")
    if (args.total is None) == (args.budget is None):
        raise SymparamsError("expected either --total N (the count to reach) or --budget N "
                             "(the most it may be)", field="--total")
    from .explore.solve import whole_number
    args.total = None if args.total is None else whole_number(args.total, "--total")
    args.budget = None if args.budget is None else whole_number(args.budget, "--budget")
    net = build_network(args)
    try:
        if args.total is not None:
            if args.layer:
                result = solve_for(net, args.target, params_of=args.layer, value=args.total)
            else:
                result = solve_for(net, args.target, args.total)
        else:
            result = max_value_for(net, args.target, args.budget, params_of=args.layer)
    except NoUniqueAnswer as exc:
        print(printable(f"{net.name}: {exc.message}"))
        return EXIT_NO_ANSWER
    except SymparamsError as exc:
        raise exc.located(file=net.source) from None
    answered = bool(result.values)
    if args.json:
        sys.stdout.write(json.dumps(result.to_dict(), indent=2, ensure_ascii=False) + "\n")
    else:
        unknown = result.unknown.describe()
        if result.goal == "total":
            print(printable(f"{net.name}: solving {result.equation()} for {unknown}"))
        else:
            print(printable(f"{net.name}: the largest {unknown} with {result.equation()}"))
        print(result.message())
    return 0 if answered else EXIT_NO_ANSWER


def cmd_explain(args) -> int:
    from .explore.explain import explain, overview
    print(explain(args.kind) if args.kind else overview())
    return 0


def cmd_diff(args) -> int:
    nets = []
    for target, items, shape, flag in ((args.a, args.set_a, args.input_a, "--input-a"),
                                       (args.b, args.set_b, args.input_b, "--input-b")):
        check_network_target(target)
        # --input-a / --input-b for one side; --input for each side that is imported.
        if shape is None and args.input is not None:
            from .importers import is_import_target
            shape, flag = (args.input, "--input") if is_import_target(target) else (None, flag)
        net = load(target, convention=args.convention, input_shape=input_option(shape, flag),
                   allow_unknown=args.allow_unknown)
        values = parse_assignments(items)
        if values:
            checked_values(net, values)
            try:
                net = net.subs(values)
            except SymparamsError as exc:
                raise exc.located(file=net.source) from None
        nets.append(net)
    result = nets[0].diff(nets[1])
    if args.json:
        sys.stdout.write(json.dumps(result.to_dict(), indent=2, ensure_ascii=False) + "\n")
    else:
        from rich.text import Text
        from .render.terminal import make_console
        console = make_console()
        console.print(result)
        console.print(Text(result.summary()))
    return 0


def cmd_presets(args) -> int:
    print(listing_text())
    return 0


def _add_network_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("spec", metavar="SPEC_OR_PRESET",
                        help="a spec file (.yaml, .json, .toml) or a preset name "
                             f"({', '.join(preset_names())}); or a model to import: "
                             "torch:package.module:factory (runs that code; needs --input), "
                             "model.onnx, model.keras or a Keras model .json")
    _add_import_options(parser)
    parser.add_argument("--set", metavar="NAME=VALUE", nargs="+", action="extend",
                        help="set a size: a layer letter (k_1=16), a free name (H=32), "
                             "LAYER.FIELD (CONV1.filters=16, CONV2.kernel=3) or an input "
                             "size (INPUT.size=64, INPUT.height=40; H=64 on a numeric input)")
    parser.add_argument("--symbolic", action="store_true",
                        help="keep every size as its letter (m_1, k_1, c_1 …; the input "
                             "H, W, C); --set then fills in only the ones given")
    _add_convention_option(parser)


def _add_import_options(parser: argparse.ArgumentParser, sides: bool = False) -> None:
    parser.add_argument("--input", metavar="SHAPE",
                        help="the input of a model to import, in the framework's order "
                             "without the batch axis, e.g. 3,224,224 or T,768 (a letter "
                             "leaves a size dynamic); required for torch:, optional for "
                             "ONNX and Keras" + ("; used for each side imported" if sides
                                                 else ""))
    if sides:
        for side in "ab":
            parser.add_argument(f"--input-{side}", metavar="SHAPE",
                                help=f"--input for {side.upper()} only")
    parser.add_argument("--allow-unknown", action="store_true",
                        help="count a module or node of an imported model that has no layer "
                             "family as an opaque layer (the framework's number, no formula, "
                             "a warning in every output) instead of refusing the model")


def _add_convention_option(parser: argparse.ArgumentParser) -> None:
    # Checked by the network (one error line, exit 2), so a bad value reads like the spec's.
    parser.add_argument("--convention", metavar="pytorch|keras",
                        help="count the layers PyTorch and Keras count differently "
                             "(batchnorm) the way this framework does; overrides the spec's "
                             "convention (default pytorch)")


class _OneLineParser(argparse.ArgumentParser):
    """Usage errors as one line, exit 2: the problem and where to read the usage
    (argparse would print the whole usage block, several lines, first)."""

    def error(self, message):
        line = f"{self.prog}: error: {shorten(message, 200)} (see '{self.prog} --help')"
        self.exit(2, printable(line) + "\n")


def make_parser() -> argparse.ArgumentParser:
    parser = _OneLineParser(
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
                            "inputs, output_shape, formula, substituted, params, trainable, "
                            "non_trainable, buffers), total, total_symbolic, convention, "
                            "total_trainable, total_non_trainable, total_buffers")
    count.add_argument("-o", "--output", metavar="FILE",
                       help="write to FILE instead of stdout: JSON with --json or a .json "
                            "name, else the table as plain text; a regular file is replaced "
                            "atomically, a FIFO or device written to, - is stdout")
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

    homework = commands.add_parser(
        "homework", help="draw seeded exercise variants with question sheets and answer keys",
        description="Draw distinct, valid variants of a homework template (a spec whose "
                    "sizes may be {choice: [...]} or {range: [low, high], step: s}), and "
                    "write for each its spec, question sheet and worked answer key, plus "
                    "manifest.json, answers.csv and moodle.xml. The same template, seed and "
                    "symparams version give byte-identical files.",
        epilog="layout:\n  DIR/manifest.json, DIR/answers.csv, DIR/moodle.xml\n"
               "  DIR/variant-01/{spec.yaml,questions.pdf,answers.pdf} …\n"
               "examples:\n  symparams homework lenet --variants 20 --seed 1\n"
               "  symparams homework my-template.yaml --variants 30 --seed 7 --format all "
               "--exact",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    homework.add_argument("template", metavar="TEMPLATE_OR_PRESET", nargs="?",
                          help="a homework template file or a shipped template ("
                               f"{', '.join(homework_templates())}; see symparams presets)")
    homework.add_argument("--show-template", metavar="NAME",
                          help="print a shipped template (YAML with comments) to start "
                               "your own from, and exit")
    homework.add_argument("--variants", type=int, default=20, metavar="N",
                          help="number of distinct variants (default 20)")
    homework.add_argument("--seed", type=int, default=0, metavar="S",
                          help="random seed; printed on every sheet (default 0)")
    homework.add_argument("-o", "--output", default="homework", metavar="DIR",
                          help="output folder (default homework/); replaced as a whole "
                               "when the new set is complete")
    homework.add_argument("--format", default="pdf,html", metavar="FMT",
                          help="pdf, html, md, tex or all, comma-separated (default pdf,html)")
    homework.add_argument("--jobs", type=int, default=None, metavar="J",
                          help="parallel rendering processes (default: all cores); "
                               "the output does not depend on it")
    homework.add_argument("--quiet", action="store_true",
                          help="no progress bar and no summary line")
    homework.add_argument("--exact", action="store_true",
                          help="only variants whose convolution and pooling sizes divide "
                               "exactly (no rounding down)")
    homework.add_argument("--templates", metavar="DIR",
                          help="a folder of templates that replace the shipped ones by name")
    homework.set_defaults(run=cmd_homework)

    grade = commands.add_parser(
        "grade", help="grade students' answers against a homework folder",
        description="Compare responses (CSV with columns student, variant, question, "
                    "answer) with the answers in DIR/manifest.json. Bad rows are reported "
                    "one per line and left out; the others are graded and the scores "
                    "written, and the exit code is then 2.",
        epilog="accepted answers:\n"
               "  numbers      62958, 62,958, 62 958, 62_958, 62958.0, k_1 = 62958\n"
               "               (62.958 and 62,958.0 are wrong: a decimal comma is not "
               "guessed at)\n"
               "  shapes       28 × 28 × 8, 28x28x8, [28, 28, 8], (64,)\n"
               "  names        any case, spaces trimmed\n"
               "  expressions  25*k_1*k_2 + 76*k_1, 25k₁k₂ + 76k₁, 25 k_1 k_2 + 76 k_1,\n"
               "               k1*(25*k2 + 76), (k_1 + 1)(k_2 + 1), k₁²: any equivalent "
               "form,\n"
               "               checked by SymPy (read by our own parser, never eval)\n"
               "example:\n  symparams grade homework/ responses.csv -o scores.csv",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    grade.add_argument("homework", metavar="DIR", help="a folder written by symparams homework")
    grade.add_argument("responses", metavar="RESPONSES_CSV",
                       help="CSV with columns student, variant, question, answer")
    grade.add_argument("-o", "--output", metavar="SCORES_CSV",
                       help="write scores here (atomically) instead of to stdout")
    grade.set_defaults(run=cmd_grade)

    sweep = commands.add_parser(
        "sweep", help="exact counts over a grid of sizes, as a table, CSV or plot",
        description="Vary one or more sizes and evaluate every layer's count and the total "
                    "at each point of the grid, exactly (the formulas are compiled once into "
                    "integer code). A size is LAYER.FIELD (CONV1.filters, FC3.units, "
                    "CONV1.kernel), a letter (k_1), a free name (H) or an input axis "
                    "(INPUT.height, INPUT.width, INPUT.size for both, INPUT.channels; H, W, C "
                    "for a numeric input). Values "
                    "are START:STOP[:STEP] with the stop included, one number, or a list "
                    "4,8,16. The CSV has a column per varied size, one per layer with "
                    "parameters, and total; the last --vary changes fastest.",
        epilog="examples:\n  symparams sweep lenet --vary CONV1.filters=4:16:4 --csv\n"
               "  symparams sweep lenet --vary CONV1.filters=4:64:4 --csv out.csv "
               "--plot out.svg\n"
               "  symparams sweep examples/lenet-symbolic.yaml --set k_1=8 k_2=16 "
               "--vary H=28:64:4 --vary W=28:64:4 --plot grid.png",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    _add_network_options(sweep)
    sweep.add_argument("--vary", metavar="SIZE=START:STOP[:STEP]", action="append",
                       required=True,
                       help="a size and its values, e.g. CONV1.filters=4:64:4; repeat for "
                            "a grid")
    sweep.add_argument("--csv", metavar="FILE", nargs="?", const="-",
                       help="write the rows as CSV to FILE (atomically), or to stdout "
                            "without FILE")
    sweep.add_argument("--plot", metavar="FILE",
                       help="draw the counts against the first varied size into FILE "
                            "(.svg, .png or .pdf; needs matplotlib)")
    sweep.set_defaults(run=cmd_sweep)

    solve = commands.add_parser(
        "solve", help="solve backwards: the size that gives a total, or fits a budget",
        description="Find every positive whole value of one size that gives the network "
                    "--total parameters, or the largest value that keeps it within --budget. "
                    "The size is LAYER.FIELD (CONV1.filters, FC3.units, CONV1.kernel for a "
                    "square kernel), a letter (k_1), an input size (INPUT.height, "
                    "INPUT.width, INPUT.size, INPUT.channels, input[0]; H, W, C for a "
                    "numeric input) or a free name of the spec (H). Sizes inside floors, "
                    "such as the input height before pooling, are searched exactly over "
                    "the integers; every value that gives the total is listed. Exit status "
                    "1 when there is no whole-number answer, 2 for bad input.",
        epilog="examples:\n  symparams solve lenet --for CONV1.filters --total 62958\n"
               "  symparams solve lenet --for INPUT.height --total 62958\n"
               "  symparams solve lenet --for CONV2.filters --budget 100000 --json\n"
               "  symparams solve lenet --for CONV2.filters --layer CONV2 --total 3216",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    _add_network_options(solve)
    solve.add_argument("--for", dest="target", metavar="SIZE",
                       help="the size to solve for: CONV1.filters, k_1, INPUT.height, H …")
    solve.add_argument("--total", metavar="N",
                       help="the number of parameters to reach (62958, 62_958 or 62,958)")
    solve.add_argument("--budget", metavar="N",
                       help="the most parameters allowed: find the largest value within it")
    solve.add_argument("--layer", metavar="NAME",
                       help="with --total/--budget: the count of this layer instead of the "
                            "network's total")
    solve.add_argument("--json", action="store_true",
                       help="print JSON: target, symbol, was, count (the expression), "
                            "solutions or max_value, message")
    solve.set_defaults(run=cmd_solve)

    explain = commands.add_parser(
        "explain", help="explain a layer kind: letters, formula, why, output shape, example",
        description="Explain one layer kind (conv2d, maxpool2d, avgpool2d, dense, flatten, "
                    "dropout, activation, input; aliases such as conv or fc are accepted): "
                    "its letters and what they mean, its parameter formula, why the formula "
                    "has that form, the rule for its output shape, and an example worked out "
                    "by symparams. Without a kind, list the kinds.",
        epilog="examples:\n  symparams explain conv2d\n  symparams explain dense",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    explain.add_argument("kind", metavar="KIND", nargs="?",
                         help="a layer kind such as conv2d, maxpool2d or dense")
    explain.set_defaults(run=cmd_explain)

    diff = commands.add_parser(
        "diff", help="compare two networks layer by layer",
        description="Compare network A with network B: layers matched by name, then by "
                    "position; for each the output shapes and parameter counts side by "
                    "side and the change, then the change of the total. Counts stay "
                    "symbolic where a network is symbolic.",
        epilog="examples:\n  symparams diff lenet examples/lenet.yaml\n"
               "  symparams diff lenet lenet --set-b CONV2.filters=32\n"
               "  symparams diff a.yaml b.yaml --json",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    diff.add_argument("a", metavar="A", help="a spec file or preset, or a model to import "
                                             "(torch:…, .onnx, .keras, Keras .json)")
    diff.add_argument("b", metavar="B", help="a spec file or preset, or a model to import")
    _add_import_options(diff, sides=True)
    diff.add_argument("--set-a", metavar="NAME=VALUE", nargs="+", action="extend",
                      help="set sizes of A (as count --set)")
    diff.add_argument("--set-b", metavar="NAME=VALUE", nargs="+", action="extend",
                      help="set sizes of B (as count --set)")
    _add_convention_option(diff)
    diff.add_argument("--json", action="store_true",
                      help="print JSON: a, b, layers (name, status, a, b, change), total_a, "
                           "total_b, total_change")
    diff.set_defaults(run=cmd_diff)

    presets = commands.add_parser(
        "presets", help="list the shipped network presets and homework templates",
        description="List the network presets (read by count, report, sweep, solve and "
                    "diff) with their input, layers and totals, and the homework templates "
                    "(read by homework; --show-template NAME prints one).")
    presets.set_defaults(run=cmd_presets)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = make_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # usage errors (2, one line), --help and --version (0)
        return exc.code if isinstance(exc.code, int) else 0
    try:
        return args.run(args)
    except SymparamsError as exc:
        # str(exc) is one printable line of bounded length, whatever the spec held.
        print(f"symparams: error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print("symparams: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0


def run() -> None:
    sys.exit(main())
