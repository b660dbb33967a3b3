"""Property tests: random valid stacks against an independent plain-int recount,
symbolic round trips, and random invalid stacks through the command line.

The recount below does not use symparams at all: its formulas are written out
from the textbook (conv ((m·n·d)+1)·k, dense c·p + c, output length
floor((W + 2P − D(m−1) − 1)/S) + 1, padding "same" → ceil(W/S), pooling stride
defaults to the window).  Shapes are channels-last, the input is
[height, width, channels] and every pair (kernel, stride, padding, dilation)
is written [along width, along height].

The strategies are also imported by test_torch.py.
"""
from __future__ import annotations

import math

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sympy import Integer

from conftest import run_cli
from symparams import AvgPool2D, Conv2D, Dense, Flatten, MaxPool2D, Network, SymparamsError
from symparams.layers import REGISTRY
from symparams.spec import spec_from_data

IN_PROCESS = settings(max_examples=150, deadline=None,
                      suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
SUBPROCESS = settings(max_examples=15, deadline=None,
                      suppress_health_check=[HealthCheck.too_slow,
                                             HealthCheck.function_scoped_fixture])

# Spellings a spec may use for each family (the type is case-insensitive).
SPELLINGS = {
    "conv2d": ["conv2d", "Conv2D", "conv", "CONVOLUTION", "conv2"],
    "maxpool2d": ["maxpool2d", "MaxPool2D", "maxpool", "max_pool2d", "pool"],
    "avgpool2d": ["avgpool2d", "AvgPool2D", "avgpool", "avg_pool2d", "AveragePooling2D"],
    "flatten": ["flatten", "Flatten"],
    "dense": ["dense", "Dense", "fc", "linear", "fully_connected"],
    # Not drawn by the strategies; known to the recount for the presets (test_torch.py).
    "dropout": ["dropout"],
    "activation": ["activation", "relu"],
}
CANONICAL = {spelling.lower(): kind for kind, spellings in SPELLINGS.items()
             for spelling in spellings}
DEFAULT_PREFIX = {"conv2d": "CONV", "maxpool2d": "POOL", "avgpool2d": "POOL",
                  "flatten": "FLATTEN", "dense": "FC"}
CLASSES = {"conv2d": Conv2D, "maxpool2d": MaxPool2D, "avgpool2d": AvgPool2D,
           "flatten": Flatten, "dense": Dense}


# ----------------------------------------------------------- independent recount

def as_pair(value, default):
    """(along width, along height) from a spec value, int or [w, h] or absent."""
    if value is None:
        return default
    if isinstance(value, (list, tuple)):
        return int(value[0]), int(value[1])
    return int(value), int(value)


def padding_pair(value):
    if value is None or value == "valid":
        return (0, 0)
    if value == "same":
        return "same"
    return as_pair(value, (0, 0))


def out_length(size: int, kernel: int, stride: int, padding, dilation: int) -> int:
    if padding == "same":
        return -(-size // stride)                       # ceil(size / stride)
    return (size + 2 * padding - dilation * (kernel - 1) - 1) // stride + 1


def window_out(height: int, width: int, kernel, stride, padding, dilation):
    """(out height, out width); every pair is (along width, along height)."""
    pad_w, pad_h = ("same", "same") if padding == "same" else padding
    return (out_length(height, kernel[1], stride[1], pad_h, dilation[1]),
            out_length(width, kernel[0], stride[0], pad_w, dilation[0]))


def recount(data: dict) -> list[tuple[int, tuple[int, ...]]]:
    """[(params, output shape)] for every layer, the input first, in plain ints."""
    shape = tuple(int(v) for v in data["input"])
    rows = [(0, shape)]
    for entry in data["layers"]:
        kind = CANONICAL[entry["type"].lower()]
        bias = entry.get("bias", True)
        if kind == "conv2d":
            height, width, d = shape
            m, n = as_pair(entry["kernel"], None)
            k = entry["filters"]
            out_h, out_w = window_out(height, width, (m, n), as_pair(entry.get("stride"), (1, 1)),
                                      padding_pair(entry.get("padding")),
                                      as_pair(entry.get("dilation"), (1, 1)))
            params = ((m * n * d) + 1) * k if bias else m * n * d * k
            shape = (out_h, out_w, k)
        elif kind in ("maxpool2d", "avgpool2d"):
            height, width, channels = shape
            kernel = as_pair(entry["kernel"], None)
            out_h, out_w = window_out(height, width, kernel, as_pair(entry.get("stride"), kernel),
                                      padding_pair(entry.get("padding")), (1, 1))
            params = 0
            shape = (out_h, out_w, channels)
        elif kind == "flatten":
            params = 0
            shape = (math.prod(shape),)
        elif kind in ("dropout", "activation"):
            params = 0
        else:  # dense
            p, c = math.prod(shape), entry["units"]
            params = c * p + c if bias else c * p
            shape = (c,)
        rows.append((params, shape))
    return rows


# ------------------------------------------------------------------ strategies

def pair_or_scalar(draw, width_value, height_value):
    """Write two per-axis values as a scalar when equal (sometimes) or a [w, h] pair."""
    if width_value == height_value and draw(st.booleans()):
        return width_value
    return [width_value, height_value]


@st.composite
def conv_entry(draw, height: int, width: int, torch_compatible: bool = False):
    entry: dict = {"type": draw(st.sampled_from(SPELLINGS["conv2d"]))}
    sw, sh = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    if draw(st.booleans()):
        sw = sh
    dw, dh = draw(st.integers(1, 2)), draw(st.integers(1, 2))
    same_allowed = not torch_compatible or (sw, sh) == (1, 1)
    padding_kind = draw(st.sampled_from(["absent", "int", "pair", "valid"]
                                        + (["same"] if same_allowed else [])))
    if padding_kind == "int":
        pw = ph = draw(st.integers(0, 2))
        padding = pw
    elif padding_kind == "pair":
        pw, ph = draw(st.integers(0, 2)), draw(st.integers(0, 2))
        padding = [pw, ph]
    else:
        pw = ph = 0
        padding = padding_kind
    # The largest window (m along width, n along height) that still fits.
    if padding_kind == "same":
        max_m = max_n = 5
    else:
        max_m = min(5, (width + 2 * pw - 1) // dw + 1)
        max_n = min(5, (height + 2 * ph - 1) // dh + 1)
    if draw(st.booleans()):
        m = n = draw(st.integers(1, min(max_m, max_n)))
    else:
        m, n = draw(st.integers(1, max_m)), draw(st.integers(1, max_n))
    entry["kernel"] = pair_or_scalar(draw, m, n)
    entry["filters"] = draw(st.integers(1, 32))
    if (sw, sh) != (1, 1) or draw(st.booleans()):
        entry["stride"] = pair_or_scalar(draw, sw, sh)
    if padding != "absent":
        entry["padding"] = padding
    if (dw, dh) != (1, 1) or draw(st.booleans()):
        entry["dilation"] = pair_or_scalar(draw, dw, dh)
    bias = draw(st.sampled_from([None, True, False]))
    if bias is not None:
        entry["bias"] = bias
    return entry


@st.composite
def pool_entry(draw, height: int, width: int, torch_compatible: bool = False):
    kind = draw(st.sampled_from(["maxpool2d", "avgpool2d"]))
    entry: dict = {"type": draw(st.sampled_from(SPELLINGS[kind]))}
    kw, kh = draw(st.integers(1, min(3, width))), draw(st.integers(1, min(3, height)))
    if draw(st.booleans()):
        kw = kh = min(kw, kh)
    entry["kernel"] = pair_or_scalar(draw, kw, kh)
    if draw(st.booleans()):
        entry["stride"] = pair_or_scalar(draw, draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    if draw(st.integers(0, 3)) == 0:  # sometimes padded; PyTorch allows at most half the window
        pw, ph = draw(st.integers(0, kw // 2)), draw(st.integers(0, kh // 2))
        entry["padding"] = pair_or_scalar(draw, pw, ph)
    elif not torch_compatible and draw(st.integers(0, 5)) == 0:
        entry["padding"] = draw(st.sampled_from(["same", "valid"]))
    return entry


@st.composite
def image_prefix(draw, max_layers: int = 4, torch_compatible: bool = False):
    """An input [H, W, C] and 0..max_layers convolutions/poolings that all fit."""
    height, width, channels = draw(st.integers(8, 64)), draw(st.integers(8, 64)), \
        draw(st.integers(1, 8))
    data = {"name": "random", "input": [height, width, channels], "layers": []}
    for _ in range(draw(st.integers(0, max_layers))):
        if draw(st.integers(0, 2)):
            entry = draw(conv_entry(height, width, torch_compatible))
        else:
            entry = draw(pool_entry(height, width, torch_compatible))
        data["layers"].append(entry)
        _, (height, width, channels) = recount(data)[-1]
        assert height >= 1 and width >= 1, (data, "strategy built an invalid stack")
    return data


@st.composite
def valid_stacks(draw, torch_compatible: bool = False):
    data = draw(image_prefix(torch_compatible=torch_compatible))
    if draw(st.booleans()):
        data["layers"].append({"type": draw(st.sampled_from(SPELLINGS["flatten"]))})
    for _ in range(draw(st.integers(0 if data["layers"] else 1, 3))):
        entry = {"type": draw(st.sampled_from(SPELLINGS["dense"])),
                 "units": draw(st.integers(1, 64))}
        bias = draw(st.sampled_from([None, True, False]))
        if bias is not None:
            entry["bias"] = bias
        data["layers"].append(entry)
    # Some layers get names of their own (never clashing with CONV1, POOL2 …).
    for i, entry in enumerate(data["layers"], start=1):
        if draw(st.integers(0, 3)) == 0:
            entry["name"] = f"L{i}"
    return data


def build_with_classes(data: dict) -> Network:
    """The same network through the Python API instead of spec_from_data."""
    layers = []
    for entry in data["layers"]:
        fields = {k: v for k, v in entry.items() if k not in ("type", "name")}
        layers.append(CLASSES[CANONICAL[entry["type"].lower()]](name=entry.get("name"), **fields))
    return Network(layers, input=tuple(data["input"]), name=data["name"])


def given_values(net: Network) -> dict[str, Integer]:
    """{letter name: value} for every letter that a layer's own fields give (m, n, k, c)."""
    values = {}
    for info in net.layers[1:]:
        for letter in info.layer.given_letters:
            symbol = info.letters[letter]
            values[symbol.name] = info.values[symbol]
    return values


# ------------------------------------------------------------ valid: (a)–(c)

@IN_PROCESS
@given(valid_stacks())
def test_counts_match_an_independent_recount(data):
    expected = recount(data)
    net = Network.from_spec(spec_from_data(data))
    assert len(net) == len(expected)
    for info, (params, _) in zip(net, expected):
        assert isinstance(info.params, Integer), (info.name, info.params)
        assert info.params == params, (info.name, info.params, params)
    assert isinstance(net.total, Integer)
    assert net.total == sum(params for params, _ in expected)
    assert net.is_exact
    # The Python API gives the same numbers as the spec route.
    api = build_with_classes(data)
    assert [info.params for info in api] == [info.params for info in net]
    assert api.total == net.total


@IN_PROCESS
@given(valid_stacks())
def test_output_shapes_match_an_independent_recount(data):
    net = Network.from_spec(spec_from_data(data))
    for info, (_, shape) in zip(net, recount(data)):
        assert all(isinstance(v, Integer) and v >= 1 for v in info.output_shape), \
            (info.name, info.output_shape)
        assert tuple(int(v) for v in info.output_shape) == shape, (info.name, info.output_shape)
    # Each layer's input is the previous layer's output.
    for before, after in zip(net.layers, net.layers[1:]):
        assert after.input_shape == before.output_shape
    # What --json reports agrees as well.
    reported = net.to_dict()
    assert [layer["output_shape"] for layer in reported["layers"]] == \
        [list(shape) for _, shape in recount(data)]
    assert reported["total"] == sum(params for params, _ in recount(data))


@IN_PROCESS
@given(valid_stacks())
def test_symbolic_round_trip(data):
    net = Network.from_spec(spec_from_data(data))
    values = given_values(net)
    symbolic = net.symbolic()
    if values:
        # Every given size is a letter now and each of them shows up in the total.
        assert not symbolic.total.is_number
        assert {symbolic.letters[name] for name in values} <= symbolic.total.free_symbols
    else:
        assert symbolic.total == 0 == net.total
    # The input is symbolic too (H, W, C or N): put its numbers back as well.
    values.update({s.name: v for s, v in zip(symbolic.input_shape, net.input_shape) if s != v})
    back = symbolic.subs(values)
    assert back.total == net.total and isinstance(back.total, Integer)
    assert [info.params for info in back] == [info.params for info in net]
    assert [info.output_shape for info in back] == [info.output_shape for info in net]
    # The total in letters, with every letter's value put in, is the numeric total.
    every = {symbol: value for info in net for symbol, value in info.values.items()}
    assert set(every) == set(net.letters.values())
    assert net.total_symbolic.xreplace(every) == net.total
    assert symbolic.total_symbolic == net.total_symbolic


# ---------------------------------------------------------------- invalid: (d)

@st.composite
def float_value(draw):
    if draw(st.booleans()):
        return float(draw(st.integers(1, 9)))                  # 3.0 is refused too
    return draw(st.floats(0.1, 50, allow_nan=False, allow_infinity=False)
                .filter(lambda f: not f.is_integer()))


@st.composite
def invalid_layer(draw, height: int, width: int):
    """(entry, field) for one layer that the library must refuse, named by field."""
    problem = draw(st.sampled_from(["window", "filters", "stride", "type", "float"]))
    if problem == "window":
        conv = draw(st.booleans())
        pw, ph = draw(st.integers(0, 2)), draw(st.integers(0, 2))
        dw, dh = (draw(st.integers(1, 2)), draw(st.integers(1, 2))) if conv else (1, 1)
        # Smallest window along each axis that no longer fits the padded input.
        too_big_w = (width + 2 * pw - 1) // dw + 2
        too_big_h = (height + 2 * ph - 1) // dh + 2
        axis = draw(st.sampled_from(["width", "height", "both"]))
        m = draw(st.integers(too_big_w, too_big_w + 3)) if axis != "height" else \
            draw(st.integers(1, max(1, min(5, (width + 2 * pw - 1) // dw + 1))))
        n = draw(st.integers(too_big_h, too_big_h + 3)) if axis != "width" else \
            draw(st.integers(1, max(1, min(5, (height + 2 * ph - 1) // dh + 1))))
        entry = {"type": "conv2d" if conv else draw(st.sampled_from(["maxpool2d", "avgpool2d"])),
                 "kernel": pair_or_scalar(draw, m, n)}
        if conv:
            entry["filters"] = draw(st.integers(1, 8))
            entry["dilation"] = pair_or_scalar(draw, dw, dh)
        else:  # pooling pads at most half the window (else that is the error reported)
            pw, ph = min(pw, m // 2), min(ph, n // 2)
        entry["padding"] = pair_or_scalar(draw, pw, ph)
        entry["stride"] = draw(st.integers(1, 3))
        return entry, "kernel"
    if problem == "filters":
        return {"type": "conv2d", "kernel": 1, "filters": draw(st.integers(-100, 0))}, "filters"
    if problem == "stride":
        bad = draw(st.integers(-3, 0))
        stride = draw(st.sampled_from([bad, [bad, 1], [1, bad], [bad, bad]]))
        if draw(st.booleans()):
            return {"type": "conv2d", "kernel": 1, "filters": 2, "stride": stride}, "stride"
        return {"type": draw(st.sampled_from(["maxpool2d", "avgpool2d"])), "kernel": 1,
                "stride": stride}, "stride"
    if problem == "type":
        name = draw(st.one_of(
            st.sampled_from(["cropping2d", "lstm", "BatchNorm", "input", "Input", "embedding",
                             "depthwise_conv1d", "dense2"]),
            st.text(alphabet="abcdefghijklmnopqrstuvwxyz_", min_size=1, max_size=12)))
        if name.strip().lower() in REGISTRY:
            name = name + "_x"
        return {"type": name, "kernel": 1, "filters": 2, "units": 3}, "type"
    # A float where a whole number belongs.
    value = draw(float_value())
    kind, field = draw(st.sampled_from([("conv2d", "kernel"), ("conv2d", "filters"),
                                        ("conv2d", "stride"), ("conv2d", "dilation"),
                                        ("conv2d", "padding"), ("maxpool2d", "kernel"),
                                        ("avgpool2d", "stride"), ("dense", "units")]))
    entry = {"dense": {"type": "dense", "units": 4},
             "conv2d": {"type": "conv2d", "kernel": 1, "filters": 2}}.get(kind, {"type": kind,
                                                                                 "kernel": 1})
    entry[field] = draw(st.sampled_from([value, [value, 1], [1, value]])) \
        if field in ("kernel", "stride", "dilation", "padding") else value
    return entry, field


@st.composite
def invalid_stacks(draw):
    """(spec data, 1-based index, name, field) of a stack with exactly one bad layer."""
    data = draw(image_prefix(max_layers=3))
    _, (height, width, _) = recount(data)[-1]
    entry, field = draw(invalid_layer(height, width))
    data["layers"].append(entry)
    index = len(data["layers"])
    if draw(st.booleans()):
        data["layers"].append({"type": "dense", "units": draw(st.integers(1, 9))})
    tag = draw(st.sampled_from(["L", "layer_", "Blk", "x"]))
    if field == "type" or draw(st.booleans()):
        # Named layers; an unknown type has no default name, so it always gets one.
        for i, layer in enumerate(data["layers"], start=1):
            layer["name"] = f"{tag}{i}"
        return data, index, f"{tag}{index}", field
    # Unnamed layers are called by their default names: CONV1, POOL2, FC1 …
    prefixes = [DEFAULT_PREFIX[CANONICAL[layer["type"].lower()]]
                for layer in data["layers"][:index]]
    return data, index, f"{prefixes[-1]}{prefixes.count(prefixes[-1])}", field


def expected_prefix(source: str, index: int, name: str, field: str) -> str:
    return f"{source}: layer {index} ({name}): {field}: "


@IN_PROCESS
@given(invalid_stacks())
def test_invalid_stacks_are_refused_in_process(case):
    data, index, name, field = case
    with pytest.raises(SymparamsError) as info:
        Network.from_spec(spec_from_data(data, source="net.yaml"))
    message = str(info.value)
    assert message.startswith(expected_prefix("net.yaml", index, name, field)), message
    assert "\n" not in message


@SUBPROCESS
@given(invalid_stacks())
def test_invalid_stacks_get_one_clean_cli_line(tmp_path_factory, case):
    data, index, name, field = case
    path = tmp_path_factory.mktemp("bad") / "net.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    result = run_cli("count", path)
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("symparams: error: " + expected_prefix(str(path), index, name,
                                                                        field)), lines[0]


# Layers without a name of their own are called CONV2, POOL1, FC1 … in the table
# and in errors found while walking shapes; errors found while reading a layer's
# fields must name the layer the same way.
UNNAMED = {
    "zero filters": ("- {type: conv2d, kernel: 3, filters: 2}\n"
                     "- {type: maxpool2d, kernel: 2}\n"
                     "- {type: conv2d, kernel: 1, filters: 0}\n", 3, "CONV2", "filters"),
    "zero stride": ("- {type: conv2d, kernel: 3, filters: 2}\n"
                    "- {type: avgpool2d, kernel: 2, stride: 0}\n", 2, "POOL1", "stride"),
    "float units": ("- {type: flatten}\n- {type: dense, units: 2.5}\n", 2, "FC1", "units"),
    "window too big": ("- {type: conv2d, kernel: 3, filters: 2}\n"
                       "- {type: maxpool2d, kernel: 7}\n", 2, "POOL1", "kernel"),
}


@pytest.mark.parametrize("case", sorted(UNNAMED))
def test_unnamed_bad_layer_is_named_by_its_default_name(case, write_spec):
    layers, index, name, field = UNNAMED[case]
    spec = write_spec("input: [8, 8, 1]\nlayers:\n" + layers)
    result = run_cli("count", spec)
    assert result.returncode == 2 and result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"symparams: error: {spec}: layer {index} ({name}): {field}: "), \
        lines[0]
