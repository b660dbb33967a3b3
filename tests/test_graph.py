"""Non-sequential networks: inputs:, merge layers (add, multiply, concat), outputs:.

The counts and shapes of a ResNet basic block and an Inception-style concat are
checked against torch.nn modules wired by hand; random DAGs are recounted
independently from the spec data; the errors are one line naming the field.
"""
from __future__ import annotations

import json
import random
import warnings

import pytest
from sympy import Integer, Symbol

from symparams import Network
from symparams.cli import main
from symparams.errors import SymparamsError
from symparams.spec import spec_from_data

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    try:
        import torch
        from torch import nn
    except ImportError:  # pragma: no cover - the torch extra is installed by make test
        torch = None


def net_of(data: dict) -> Network:
    return Network.from_spec(spec_from_data(data, source="g.yaml"))


RESNET_BLOCK = {
    "name": "basic", "input": [16, 16, 32],
    "layers": [
        {"type": "conv2d", "name": "C1", "kernel": 3, "filters": 32, "padding": 1},
        {"type": "activation", "function": "relu"},
        {"type": "conv2d", "name": "C2", "kernel": 3, "filters": 32, "padding": 1},
        {"type": "add", "name": "SUM", "inputs": ["C2", "INPUT"]},
    ],
}

INCEPTION = {
    "name": "inception", "input": [12, 12, 24],
    "layers": [
        {"type": "conv2d", "name": "B1", "kernel": 1, "filters": 16},
        {"type": "conv2d", "name": "B3", "kernel": 3, "filters": 8, "padding": 1,
         "inputs": ["INPUT"]},
        {"type": "conv2d", "name": "B5", "kernel": 5, "filters": 4, "padding": 2,
         "inputs": "INPUT"},
        {"type": "concat", "name": "CAT", "inputs": ["B1", "B3", "B5"]},
        {"type": "conv2d", "name": "MIX", "kernel": 1, "filters": 10},
    ],
}


def test_resnet_basic_block_counts_and_shapes():
    net = net_of(RESNET_BLOCK)
    assert net.total == 2 * (3 * 3 * 32 + 1) * 32
    assert net["SUM"].output_shape == (16, 16, 32)
    assert net["SUM"].sources == ("C2", "INPUT")
    assert [o.name for o in net.outputs] == ["SUM"]


def test_inception_concat_sums_channels_and_next_layer_sees_them():
    net = net_of(INCEPTION)
    assert net["CAT"].output_shape == (12, 12, 28)
    # The layer after the concat takes 28 channels: its d is 28, not 4 (B5's).
    assert net["MIX"].values[Symbol("d_4", positive=True, integer=True)] == 28 \
        or 28 in net["MIX"].values.values()
    assert net["MIX"].params == (28 + 1) * 10
    # B3 takes the input (24 channels), not B1's 16.
    assert net["B3"].params == (3 * 3 * 24 + 1) * 8
    step = net["CAT"].shape_steps[0]
    assert step.title == "Output channels"
    assert step.text.equation() == "d₁ + d₂ + d₃ = 16 + 8 + 4 = 28"


@pytest.mark.skipif(torch is None, reason="torch extra not installed")
def test_resnet_block_and_inception_match_torch():
    torch.manual_seed(0)
    conv1, conv2 = nn.Conv2d(32, 32, 3, padding=1), nn.Conv2d(32, 32, 3, padding=1)
    x = torch.zeros(1, 32, 16, 16)
    out = conv2(torch.relu(conv1(x))) + x
    net = net_of(RESNET_BLOCK)
    assert net.total == sum(p.numel() for m in (conv1, conv2) for p in m.parameters())
    assert tuple(out.shape[2:]) + (out.shape[1],) == net["SUM"].output_shape

    b1, b3, b5 = nn.Conv2d(24, 16, 1), nn.Conv2d(24, 8, 3, padding=1), \
        nn.Conv2d(24, 4, 5, padding=2)
    x = torch.zeros(1, 24, 12, 12)
    cat = torch.cat([b1(x), b3(x), b5(x)], dim=1)
    mix = nn.Conv2d(cat.shape[1], 10, 1)
    out = mix(cat)
    net = net_of(INCEPTION)
    modules = {"B1": b1, "B3": b3, "B5": b5, "MIX": mix}
    for name, module in modules.items():
        assert net[name].params == sum(p.numel() for p in module.parameters()), name
    assert net.total == sum(p.numel() for m in modules.values() for p in m.parameters())
    assert net["CAT"].output_shape == (12, 12, cat.shape[1])
    assert net["MIX"].output_shape == (out.shape[2], out.shape[3], out.shape[1])


def test_multiply_and_concat_along_another_axis():
    net = net_of({"name": "m", "input": [8, 8, 4], "layers": [
        {"type": "conv2d", "name": "G", "kernel": 1, "filters": 4},
        {"type": "multiply", "inputs": ["G", "INPUT"]},
        {"type": "concat", "axis": 0, "inputs": ["G", "INPUT"]},
    ]})
    assert net["MUL1"].output_shape == (8, 8, 4)
    assert net["CONCAT1"].output_shape == (16, 8, 4)
    assert net["CONCAT1"].shape_steps[0].text.equation() == "H₁ + H₂ = 8 + 8 = 16"


def test_symbolic_shapes_compared_with_sympy():
    # H - 2 from a valid 3×3 conv twice equals H - 4 from a valid 5×5 conv.
    net = net_of({"name": "s", "input": ["H", "H", 3], "layers": [
        {"type": "conv2d", "name": "A1", "kernel": 3, "filters": 4},
        {"type": "conv2d", "name": "A2", "kernel": 3, "filters": 4},
        {"type": "conv2d", "name": "B", "kernel": 5, "filters": 4, "inputs": ["INPUT"]},
        {"type": "add", "inputs": ["A2", "B"]},
    ]})
    H = Symbol("H", positive=True, integer=True)
    assert net["ADD1"].output_shape[2] == 4
    assert (net["ADD1"].output_shape[0] - (H - 4)).expand() == 0


def _error(data) -> str:
    with pytest.raises(SymparamsError) as info:
        net_of(data)
    message = str(info.value)
    assert "\n" not in message and len(message) <= 300
    return message


def test_add_shape_mismatch_shows_both_shapes():
    message = _error({"name": "x", "input": [8, 8, 3], "layers": [
        {"type": "conv2d", "name": "C", "kernel": 3, "filters": 4},
        {"type": "add", "name": "SUM", "inputs": ["C", "INPUT"]}]})
    assert "g.yaml" in message and "SUM" in message and "2" in message and "inputs" in message
    assert "6 × 6 × 4" in message and "8 × 8 × 3" in message


def test_concat_mismatch_off_the_axis():
    message = _error({"name": "x", "input": [8, 8, 3], "layers": [
        {"type": "conv2d", "name": "C", "kernel": 3, "filters": 4},
        {"type": "concat", "inputs": ["C", "INPUT"]}]})
    assert "6 × 6 × 4" in message and "8 × 8 × 3" in message


def test_unknown_input_name_lists_what_exists():
    message = _error({"name": "x", "input": [8, 8, 3], "layers": [
        {"type": "conv2d", "name": "C", "kernel": 3, "filters": 4},
        {"type": "conv2d", "name": "D", "kernel": 1, "filters": 4, "inputs": ["CC"]}]})
    assert "'CC'" in message and "INPUT" in message and "C" in message
    assert "layer 2" in message or "2" in message
    assert "inputs" in message


@pytest.mark.parametrize("wanted, word", [("D", "cycle"), ("E", "forward")])
def test_cycle_and_forward_reference_are_refused(wanted, word):
    message = _error({"name": "x", "input": [8, 8, 3], "layers": [
        {"type": "conv2d", "name": "C", "kernel": 3, "filters": 4},
        {"type": "conv2d", "name": "D", "kernel": 1, "filters": 4, "inputs": [wanted]},
        {"type": "conv2d", "name": "E", "kernel": 1, "filters": 4}]})
    assert word in message and "inputs" in message


def test_merge_needs_two_inputs_and_others_take_one():
    assert "joins several" in _error({"name": "x", "input": [4], "layers": [
        {"type": "dense", "units": 4}, {"type": "add"}]})
    assert "takes one input" in _error({"name": "x", "input": [4], "layers": [
        {"type": "dense", "name": "A", "units": 4},
        {"type": "dense", "units": 4, "inputs": ["A", "INPUT"]}]})


def test_explicit_outputs_and_unknown_output():
    data = dict(INCEPTION, outputs=["CAT", "MIX"])
    assert [o.name for o in net_of(data).outputs] == ["CAT", "MIX"]
    assert "'NOPE'" in _error(dict(INCEPTION, outputs=["NOPE"]))


def test_subs_and_to_spec_keep_the_graph():
    net = net_of(INCEPTION)
    wider = net.subs(k_2=16)
    assert wider["CAT"].output_shape == (12, 12, 36)
    assert wider["MIX"].params == (36 + 1) * 10
    again = net_of(net.to_spec())
    assert again.total == net.total and again["B3"].sources == ("INPUT",)
    assert net.symbolic()["MIX"].params.free_symbols


# ------------------------------------------------------------- random DAGs

def _random_dag(rng: random.Random) -> dict:
    """Dense layers on a flat input, each taking a random earlier layer, with adds
    of equal-width layers and concats of any."""
    layers, widths = [], {"INPUT": rng.randint(1, 9)}
    for i in range(rng.randint(1, 10)):
        name = f"L{i}"
        names = list(widths)
        choice = rng.random()
        if choice < 0.2 and len(names) >= 2:
            picked = rng.sample(names, rng.randint(2, min(3, len(names))))
            layers.append({"type": "concat", "name": name, "inputs": picked})
            widths[name] = sum(widths[p] for p in picked)
        elif choice < 0.35:
            by_width: dict[int, list[str]] = {}
            for n in names:
                by_width.setdefault(widths[n], []).append(n)
            pairs = [v for v in by_width.values() if len(v) >= 2]
            if not pairs:
                continue
            picked = rng.sample(rng.choice(pairs), 2)
            layers.append({"type": rng.choice(["add", "multiply"]), "name": name,
                           "inputs": picked})
            widths[name] = widths[picked[0]]
        else:
            source = rng.choice(names)
            units = rng.choice([widths[source], rng.randint(1, 9)])
            layers.append({"type": "dense", "name": name, "units": units, "inputs": [source]})
            widths[name] = units
    if not layers:
        layers.append({"type": "dense", "name": "L0", "units": 3})
    return {"name": "dag", "input": [widths["INPUT"]], "layers": layers}


def _recount(data: dict) -> tuple[int, dict[str, int]]:
    """The total and widths, from the spec data alone (no symparams)."""
    widths = {"INPUT": data["input"][0]}
    total, before = 0, "INPUT"
    for entry in data["layers"]:
        sources = entry.get("inputs", [before])
        sources = [sources] if isinstance(sources, str) else sources
        if entry["type"] == "dense":
            total += (widths[sources[0]] + 1) * entry["units"]
            widths[entry["name"]] = entry["units"]
        elif entry["type"] == "concat":
            widths[entry["name"]] = sum(widths[s] for s in sources)
        else:
            widths[entry["name"]] = widths[sources[0]]
        before = entry["name"]
    return total, widths


@pytest.mark.parametrize("seed", range(40))
def test_random_dags_recounted_independently(seed):
    data = _random_dag(random.Random(seed))
    net = net_of(data)
    total, widths = _recount(data)
    assert net.total == total
    for entry in data["layers"]:
        assert net[entry["name"]].output_shape == (Integer(widths[entry["name"]]),)
    json_layers = net.to_dict()["layers"]
    for entry, record in zip(data["layers"], json_layers[1:]):
        wanted = entry.get("inputs")
        if wanted is not None:
            assert record["inputs"] == ([wanted] if isinstance(wanted, str) else wanted)


# ----------------------------------------------------- reports and --json

def test_json_report_and_table(tmp_path, capsys):
    spec = tmp_path / "inception.json"
    spec.write_text(json.dumps(INCEPTION))
    assert main(["count", str(spec), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    by_name = {layer["name"]: layer for layer in data["layers"]}
    assert by_name["CAT"]["inputs"] == ["B1", "B3", "B5"]
    assert by_name["B1"]["inputs"] == ["INPUT"] and by_name["MIX"]["inputs"] == ["CAT"]
    assert by_name["CAT"]["output_shape"] == [12, 12, 28]
    assert main(["count", str(spec)]) == 0
    table = capsys.readouterr().out
    assert "B3 ← INPUT" in table and "CAT ← B1, B3, B5" in table
    assert "MIX ←" not in table
    out = tmp_path / "report"
    assert main(["report", str(spec), "--format", "md", "-o", str(out)]) == 0
    capsys.readouterr()
    text = (out / "inception.md").read_text()
    assert "input from INPUT (not the layer above)" in text
    assert "inputs from B1 12 × 12 × 16, B3 12 × 12 × 8, B5 12 × 12 × 4" in text
    assert "d_{1} + d_{2} + d_{3} = 16 + 8 + 4 = 28" in text


def test_architecture_svg_draws_skip_arrows():
    from symparams.render.figures import architecture_svg
    from symparams.render.report import build_report
    svg = architecture_svg(build_report(net_of(RESNET_BLOCK)))
    assert svg.count('class="skip"') == 1
    skip_group = svg.split('class="skip"', 1)[1].split("</g>", 1)[0]
    assert skip_group.count("<path") == 1   # INPUT → SUM, around the block
    chain = architecture_svg(build_report(net_of({"name": "c", "input": [4], "layers": [
        {"type": "dense", "units": 3}]})))
    assert chain.split('class="skip"', 1)[1].split("</g>", 1)[0].count("<path") == 0


def test_latex_diagram_names_inputs_and_compiles_without_notes():
    from symparams.render.latex_figures import diagram
    from symparams.render.report import build_report
    net = net_of(INCEPTION)
    pictures = "\n".join(str(p) for p in diagram(build_report(net)))
    assert r"$\leftarrow$ B1, B3, B5" in pictures and r"$\leftarrow$ INPUT" in pictures
    # B1 → B3 is no connection: no chain arrow into B3 (block 2) from B1's right edge.
    assert pictures.count(r"\vector(1,0)") == 3    # INPUT → B1, B5 → CAT, CAT → MIX only
    assert pictures.count(r"\vector(0,-1)") == 4         # INPUT → B3, B5; B1, B3 → CAT
    tex = net.to_latex()
    assert r"\begin{itemize}" + "\n" + r"\end{itemize}" not in tex.replace("\n\n", "\n")


def test_symbolic_sizes_that_differ_are_refused():
    message = _error({"name": "s", "input": ["H", "H", 3], "layers": [
        {"type": "conv2d", "name": "A", "kernel": 3, "filters": 4},
        {"type": "conv2d", "name": "B", "kernel": 5, "filters": 4, "inputs": ["INPUT"]},
        {"type": "add", "inputs": ["A", "B"]}]})
    assert "(H - 2) × (H - 2) × 4" in message and "(H - 4) × (H - 4) × 4" in message


def test_merge_kinds_are_supported_types():
    from symparams.layers import is_unsupported, layer_class
    for kind in ("add", "multiply", "concat", "Concatenate"):
        assert not is_unsupported(kind)
        assert layer_class(kind).merges


def test_solve_and_sweep_follow_the_branches():
    net = net_of(INCEPTION)
    # MIX takes all of CAT's channels, so B5's filters count twice: in B5 and in MIX.
    assert net.solve("B5.filters", total=net.total) == [4]
    rows = net.sweep({"B5.filters": [4, 5]})
    assert rows[1]["total"] - rows[0]["total"] == (5 * 5 * 24 + 1) + 10


HOMEWORK = """name: reshw
input: [16, 16, {choice: [8, 16]}]
layers:
  - {type: conv2d, name: C1, kernel: 3, filters: {choice: [4, 8, 16]}, padding: 1}
  - {type: conv2d, name: C2, kernel: {choice: [1, 3]}, filters: {choice: [8, 16]}, padding: same}
  - {type: add, name: SUM, inputs: [C2, INPUT]}
  - {type: conv2d, name: B, kernel: 1, filters: {choice: [4, 6, 8, 12]}, inputs: [C1]}
  - {type: concat, name: CAT, inputs: [SUM, B]}
  - {type: flatten}
  - {type: dense, units: 10}
"""


def test_homework_with_a_residual_block_gives_valid_variants(tmp_path, capsys):
    from symparams.spec import load_spec
    template = tmp_path / "reshw.yaml"
    template.write_text(HOMEWORK)
    out = tmp_path / "hw"
    assert main(["homework", str(template), "--variants", "3", "--seed", "1", "-o", str(out),
                 "--format", "md"]) == 0
    capsys.readouterr()
    manifest = json.loads((out / "manifest.json").read_text())
    assert len(list(out.glob("variant-*"))) == 3
    for folder in sorted(out.glob("variant-*")):
        net = Network.from_spec(load_spec(folder / "spec.yaml"))
        # Only variants whose branch matches the input's channels are drawn.
        assert net["C2"].output_shape == net.input_shape
        assert "| from C2, INPUT |" in (folder / "questions.md").read_text()
        assert f"**{net.total:,}**" in (folder / "answers.md").read_text() \
            or str(int(net.total)) in (folder / "answers.md").read_text()
    assert manifest


@pytest.mark.parametrize("width", [80, 200])
def test_both_table_layouts_say_where_inputs_come_from(width):
    """The narrow (80-column) table names a layer's inputs as the wide one does."""
    from rich.console import Console
    from symparams.render.terminal import count_table
    net = Network.from_spec(spec_from_data(INCEPTION))
    console = Console(width=width, record=True, color_system=None)
    console.print(count_table(net))
    table = console.export_text()
    assert "B3 ← INPUT" in table and "CAT ← B1, B3, B5" in table and "MIX ←" not in table
