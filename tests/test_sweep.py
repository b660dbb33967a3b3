"""Sweeps: exact counts over grids, the CSV, the plot and the sweep command.

The expected counts come from plain-integer recounts written out here (the
document's rules, not the package's code) or from the network rebuilt at each
point through SymPy, never from the compiled sweep code itself.
"""
from __future__ import annotations

import csv
import io

import pytest
from sympy import Integer

from conftest import run_cli
from symparams import Conv2D, Dense, Flatten, MaxPool2D, AvgPool2D, Network, SymparamsError, load
from symparams.explore.sweep import parse_values, parse_vary


# ------------------------------------------------------------ plain recounts

def lenet_recount(filters1=8, filters2=16, size=32, kernel1=5, units3=120):
    """The worked example by hand: conv 5×5 (stride 1), pool 2, conv 5×5, pool 2, 120, 84, 10."""
    conv1 = (kernel1 * kernel1 * 3 + 1) * filters1
    side = size - kernel1 + 1          # CONV1
    side = side // 2                   # POOL1
    conv2 = (5 * 5 * filters1 + 1) * filters2
    side = side - 4                    # CONV2
    side = side // 2                   # POOL2
    fc3 = units3 * side * side * filters2 + units3
    fc4 = 84 * units3 + 84
    softmax = 10 * 84 + 10
    counts = {"CONV1": conv1, "CONV2": conv2, "FC3": fc3, "FC4": fc4, "SOFTMAX": softmax}
    return counts, sum(counts.values())


def read_csv(text: str) -> list[dict[str, int]]:
    return [{k: int(v) for k, v in row.items()} for row in csv.DictReader(io.StringIO(text))]


# ---------------------------------------------------------------- done-when

def test_cli_sweep_filters_csv_matches_recount():
    result = run_cli("sweep", "lenet", "--vary", "CONV1.filters=4:16:4", "--csv")
    assert result.returncode == 0, result.stderr
    rows = read_csv(result.stdout)
    assert [r["total"] for r in rows] == [61054, 62958, 64862, 66766]
    assert list(rows[0]) == ["CONV1.filters", "CONV1", "CONV2", "FC3", "FC4", "SOFTMAX", "total"]
    for row in rows:
        counts, total = lenet_recount(filters1=row["CONV1.filters"])
        assert row["total"] == total
        assert {k: row[k] for k in counts} == counts


def test_cli_csv_file_and_plot(tmp_path):
    out, plot = tmp_path / "sub" / "sweep.csv", tmp_path / "sweep.svg"
    result = run_cli("sweep", "lenet", "--vary", "CONV1.filters=4:64:4", "--csv", out,
                     "--plot", plot)
    assert result.returncode == 0, result.stderr
    assert f"wrote {out}" in result.stdout and f"wrote {plot}" in result.stdout
    rows = read_csv(out.read_text(encoding="utf-8"))
    assert [r["CONV1.filters"] for r in rows] == list(range(4, 65, 4))
    assert all(r["total"] == lenet_recount(filters1=r["CONV1.filters"])[1] for r in rows)
    assert plot.read_text(encoding="utf-8").lstrip().startswith("<?xml")
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["sub", "sweep.csv", "sweep.svg"]


def test_cli_table_without_outputs():
    result = run_cli("sweep", "lenet", "--vary", "CONV1.filters=4:16:4")
    assert result.returncode == 0, result.stderr
    assert "61,054" in result.stdout and "66,766" in result.stdout


def test_cli_grid_with_set():
    result = run_cli("sweep", "examples/lenet-symbolic.yaml", "--set", "k_1=8", "k_2=16",
                     "--vary", "H=28:36:4", "--vary", "W=30:32:2", "--csv")
    assert result.returncode == 0, result.stderr
    rows = read_csv(result.stdout)
    assert [(r["H"], r["W"]) for r in rows] == [(28, 30), (28, 32), (32, 30), (32, 32),
                                                 (36, 30), (36, 32)]
    net = load("examples/lenet-symbolic.yaml")
    for row in rows:
        assert row["total"] == net.subs(k_1=8, k_2=16, H=row["H"], W=row["W"]).total
    assert rows[3]["total"] == 62958


# ------------------------------------------------------------- exactness

def test_input_size_inside_floors_matches_recount_everywhere():
    rows = load("lenet").sweep({"INPUT.size": range(16, 400)})
    for row in rows:
        counts, total = lenet_recount(size=row["INPUT.size"])
        assert row["total"] == total and row["FC3"] == counts["FC3"]


def test_huge_sizes_stay_exact():
    # Past 2**53 a float would round: the counts must be the integers themselves.
    sizes = [10**9 + 1, 10**12 + 7, 3 * 10**15 + 5]
    rows = load("lenet").sweep({"INPUT.size": sizes, "CONV2.filters": [7, 10**6 + 3]})
    for row in rows:
        counts, total = lenet_recount(size=row["INPUT.size"], filters2=row["CONV2.filters"])
        assert type(row["total"]) is int and row["total"] == total
        assert total > 2**53


def test_kernel_varies_both_letters():
    rows = load("lenet").sweep({"CONV1.kernel": "3:9:2"})
    assert [r["CONV1.kernel"] for r in rows] == [3, 5, 7, 9]
    for row in rows:
        assert row["total"] == lenet_recount(kernel1=row["CONV1.kernel"])[1]
    assert rows.letters["CONV1.kernel"] == ("m_1", "n_1")


def test_letter_and_address_agree():
    net = load("lenet")
    by_address = net.sweep({"CONV1.filters": range(1, 30)})
    by_letter = net.sweep(k_1=range(1, 30))
    assert [r["total"] for r in by_address] == [r["total"] for r in by_letter]
    assert by_letter.varied == ["k_1"]


NETWORKS = [
    # 'same' padding: ceilings; strides: floors of shifted sums; avg pooling; a flatten.
    lambda: Network([Conv2D(kernel=3, filters=4, stride=2, padding="same"),
                     MaxPool2D(3, stride=2), Dense(units=10)], input=("H", "W", 1)),
    lambda: Network([Conv2D(kernel=[3, 5], filters=6, stride=[2, 3], padding=1),
                     AvgPool2D(2), Conv2D(kernel=2, filters=5, dilation=2), Flatten(),
                     Dense(units=7, bias=False)], input=("H", "W", 2)),
]


@pytest.mark.parametrize("make", NETWORKS)
def test_symbolic_input_grid_matches_sympy(make):
    net = make()
    rows = net.sweep({"H": range(30, 80), "W": range(30, 50, 3)})
    H, W = net.symbols["H"], net.symbols["W"]
    for row in rows:
        point = {H: Integer(row["H"]), W: Integer(row["W"])}
        assert row["total"] == net.total.xreplace(point)
        for info in net.layers:
            if info.name in rows.layers:
                assert row[info.name] == info.params.xreplace(point)


def test_rows_are_plain_ints_in_column_order():
    rows = load("lenet").sweep({"INPUT.size": [32, 64]})
    assert all(list(row) == rows.columns for row in rows)
    assert all(type(v) is int for row in rows for v in row.values())
    assert rows.column("total") == [62958, lenet_recount(size=64)[1]]
    assert "2 points" in repr(rows) and "INPUT.size 32…64" in repr(rows)


def test_ten_thousand_points_are_exact():
    # How fast this is, is bench/bench_sweep.py's business: tests assert no timings.
    net = load("lenet")
    rows = net.sweep({"INPUT.size": range(16, 116), "CONV1.filters": range(1, 101)})
    assert len(rows) == 10_000
    row = rows[-1]
    assert row["total"] == lenet_recount(size=row["INPUT.size"],
                                         filters1=row["CONV1.filters"])[1]


# ------------------------------------------------------------------ errors

@pytest.mark.parametrize("item, message", [
    ("CONV1.filters", "expected SIZE=START:STOP[:STEP]"),
    ("CONV1.filters=", "expected SIZE=START:STOP[:STEP]"),
    ("=4:8", "expected SIZE=START:STOP[:STEP]"),
    ("CONV1.filters=a:b", "expected START:STOP[:STEP]"),
    ("CONV1.filters=4-16", "expected START:STOP[:STEP]"),
    ("CONV1.filters=16:4", "START ≤ STOP"),
    ("CONV1.filters=4:16:0", "a step of at least 1"),
    ("CONV1.filters=0:4", "at least 1, found 0"),
    ("CONV1.filters=4,x", "separated by commas"),
    ("CONV1.filters=1:99999999", "more than 1,000,000 values"),
])
def test_bad_vary_syntax_is_one_line_exit_2(item, message, tmp_path):
    out = tmp_path / "out.csv"
    result = run_cli("sweep", "lenet", "--vary", item, "--csv", out)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert result.stderr.startswith("symparams: error: ") and message in result.stderr
    assert not out.exists()


@pytest.mark.parametrize("args, message", [
    (["--vary", "CONV9.filters=4:8"], "no layer named 'CONV9'"),
    (["--vary", "CONV1.stride=1:2"], "CONV1 has no size called 'stride'"),
    (["--vary", "d_2=4:8"], "follows from the layer before"),
    (["--vary", "Q=4:8"], "unknown size 'Q'"),
    (["--vary", "INPUT.depth=1:3"], "the input has no size called 'depth'"),
    (["--vary", "k_1=4:8", "--vary", "CONV1.filters=1:2"], "vary the same size"),
    (["--vary", "k_1=4:8", "--vary", "k_1=1:2"], "k_1 is given twice"),
    (["--vary", "INPUT.size=8:40"], "layer 3 (CONV2): kernel: the 5 × 5 window does not fit"),
    (["--vary", "k_1=4:8", "--plot", "out.gif"], "expected a .svg, .png or .pdf file"),
    (["--symbolic", "--vary", "k_1=4:8"], "the counts still depend on"),
])
def test_bad_sweeps_are_one_line_exit_2(args, message):
    result = run_cli("sweep", "lenet", *args)
    assert result.returncode == 2, result.stdout
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert message in result.stderr, result.stderr


def test_invalid_point_names_the_point():
    with pytest.raises(SymparamsError, match=r"\(at INPUT.size=15\)$"):
        load("lenet").sweep({"INPUT.size": [32, 15]})


def test_parse_values_forms():
    assert parse_values("8") == (8,)
    assert parse_values("4:7") == (4, 5, 6, 7)
    assert parse_values("4:15:4") == (4, 8, 12)
    assert parse_values(" 1_000 : 3_000 : 1_000 ") == (1000, 2000, 3000)
    assert parse_vary("CONV1.filters=4,8") == ("CONV1.filters", (4, 8))


def test_python_values_are_checked():
    net = load("lenet")
    with pytest.raises(SymparamsError, match="whole numbers"):
        net.sweep({"k_1": [4, 8.5]})
    with pytest.raises(SymparamsError, match="nothing to vary"):
        net.sweep()
    with pytest.raises(SymparamsError, match="at least one value"):
        net.sweep(k_1=[])


# ---------------------------------------------------------------- the plot

def test_plot_bytes_are_reproducible_and_dated_nowhere(tmp_path):
    pytest.importorskip("matplotlib")
    rows = load("lenet").sweep({"CONV1.filters": "4:64:4"})
    first = rows.plot(tmp_path / "a.svg").read_bytes()
    again = load("lenet").sweep({"CONV1.filters": "4:64:4"}).plot(tmp_path / "b.svg")
    assert first == again.read_bytes()
    text = first.decode("utf-8")
    assert "<dc:date>" not in text and "Matplotlib v" not in text
    png = rows.plot(tmp_path / "a.png").read_bytes()
    assert png.startswith(b"\x89PNG") and png == rows.plot(tmp_path / "b.png").read_bytes()
    pdf = rows.plot(tmp_path / "a.pdf").read_bytes()
    assert pdf.startswith(b"%PDF") and pdf == rows.plot(tmp_path / "b.pdf").read_bytes()


def test_plot_scales_follow_the_range():
    pytest.importorskip("matplotlib")
    net = load("lenet")
    wide = net.sweep({"CONV1.filters": "4:64:4"}).figure()  # CONV1 304 … FC3 48,120
    assert wide.axes[0].get_yscale() == "log" and wide.axes[0].get_xscale() == "linear"
    narrow = net.sweep({"FC4.units": "80:90"})
    fig = narrow.figure(log=False)
    assert fig.axes[0].get_yscale() == "linear"
    labels = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert labels == ["total", "CONV1", "CONV2", "FC3", "FC4", "SOFTMAX"]
    assert fig.axes[0].get_xlabel() == "FC4.units (c₂)"
    broad = net.sweep({"k_1": [1, 10, 100, 1000]}).figure()
    assert broad.axes[0].get_xscale() == "log"


def test_plot_of_a_grid_draws_one_total_per_combination():
    pytest.importorskip("matplotlib")
    rows = load("lenet").sweep({"CONV1.filters": "4:16:4", "FC3.units": "10:100:10"})
    fig = rows.figure()
    lines = fig.axes[0].get_lines()
    assert len(lines) == 8  # 10 combinations, 8 evenly chosen
    assert list(lines[0].get_xdata()) == [4, 8, 12, 16]
    assert "8 of 10 combinations" in fig.axes[0].get_title(loc="left")


def test_jupyter_shows_a_sweep_as_svg():
    pytest.importorskip("matplotlib")
    svg = load("lenet").sweep({"CONV1.filters": "4:16:4"})._repr_svg_()
    assert "<svg" in svg


# A network whose names make every label of the plot long.
LONG_NAMES = Network(
    [Conv2D(kernel=3, filters=8, name="A_VERY_LONG_FIRST_CONVOLUTION_LAYER_NAME"),
     MaxPool2D(2, name="POOLING_AFTER_THE_FIRST_CONVOLUTION"),
     Conv2D(kernel=3, filters=16, name="A_SECOND_CONVOLUTION_WITH_A_LONG_NAME_TOO"),
     Flatten(name="FLATTEN_EVERYTHING_BEFORE_THE_CLASSIFIER"),
     Dense(units=10, name="THE_FINAL_CLASSIFIER_LAYER_WITH_A_VERY_LONG_NAME")],
    input=(32, 32, 3), name="a-network-whose-name-is-long-enough-to-fill-a-title-line")


def drawn_texts_outside(fig) -> list[str]:
    """Every text the figure draws (title, axis labels, tick labels in view, legend) whose
    window extent reaches outside the figure, measured by matplotlib's own renderer."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    renderer = canvas.get_renderer()
    width, height = fig.bbox.width, fig.bbox.height
    ax = fig.axes[0]
    texts = [ax.title, ax._left_title, ax._right_title, ax.xaxis.label, ax.yaxis.label,
             *ax.get_legend().get_texts()]
    for axis, (low, high) in ((ax.xaxis, ax.get_xlim()), (ax.yaxis, ax.get_ylim())):
        for tick in axis.get_major_ticks() + axis.get_minor_ticks():
            if min(low, high) <= tick.get_loc() <= max(low, high):
                texts += [tick.label1, tick.label2]
    boxes = [(repr(t.get_text()), t.get_window_extent(renderer))
             for t in texts if t.get_visible() and t.get_text()]
    boxes.append(("legend", ax.get_legend().get_window_extent(renderer)))
    whole = fig.get_tightbbox(renderer)  # in inches: every artist drawn
    boxes.append(("everything drawn", whole.transformed(fig.dpi_scale_trans)))
    return [f"{label}: {box}" for label, box in boxes
            if box.x0 < -0.5 or box.y0 < -0.5 or box.x1 > width + 0.5 or box.y1 > height + 0.5]


@pytest.mark.parametrize("net, vary", [
    (load("lenet"), {"CONV1.filters": "4:16:4", "CONV2.filters": "16:32:8"}),  # the issue's
    (load("lenet"), {"CONV1.filters": "4:64:4"}),
    (LONG_NAMES, {"A_VERY_LONG_FIRST_CONVOLUTION_LAYER_NAME.filters": "4:16:4"}),
    (LONG_NAMES, {"A_VERY_LONG_FIRST_CONVOLUTION_LAYER_NAME.filters": "4:16:4",
                  "A_SECOND_CONVOLUTION_WITH_A_LONG_NAME_TOO.filters": "8:64:8",
                  "INPUT.channels": "1:3"}),
], ids=["lenet-two-axes", "lenet-one-axis", "long-one-axis", "long-three-axes"])
def test_nothing_in_a_plot_is_cut_off(net, vary):
    pytest.importorskip("matplotlib")
    fig = net.sweep(vary).figure()
    assert drawn_texts_outside(fig) == []
    labels = [t.get_text().replace("\n", " ") for t in fig.axes[0].get_legend().get_texts()]
    if len(vary) == 1:   # every series is still named in full, only wrapped
        assert labels[0] == "total" and all(
            any(label.replace(" ", "") == info.name for label in labels)
            for info in net.layers if info.params)


def test_a_plot_that_fits_is_still_reproducible(tmp_path):
    pytest.importorskip("matplotlib")
    vary = {"A_VERY_LONG_FIRST_CONVOLUTION_LAYER_NAME.filters": "4:16:4",
            "A_SECOND_CONVOLUTION_WITH_A_LONG_NAME_TOO.filters": "8:64:8"}
    for fmt in ("svg", "png", "pdf"):
        first = LONG_NAMES.sweep(vary).plot(tmp_path / f"a.{fmt}").read_bytes()
        assert first == LONG_NAMES.sweep(vary).plot(tmp_path / f"b.{fmt}").read_bytes()
