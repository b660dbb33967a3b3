"""symparams explain KIND and symparams.explain(kind): the same text, for every kind."""
import re

import pytest

import symparams
from conftest import run_cli
from symparams import Network, SymparamsError, conv_output_size
from symparams.cli import main
from symparams.explore import explain as explain_module
from symparams.layers import FAMILIES, REGISTRY, generic_formula
from symparams.printing import unicode_written

KINDS = ["input", *(cls.kind for cls in FAMILIES)]


@pytest.mark.parametrize("kind", KINDS + sorted(REGISTRY))
def test_cli_prints_the_same_text_as_python(kind, capsys):
    assert main(["explain", kind]) == 0
    assert capsys.readouterr().out == str(symparams.explain(kind)) + "\n"


def test_cli_in_a_subprocess():
    result = run_cli("explain", "conv2d")
    assert result.returncode == 0 and result.stderr == ""
    assert result.stdout == symparams.explain("conv2d") + "\n"


@pytest.mark.parametrize("alias, kind", [("conv", "conv2d"), ("Conv2D", "conv2d"),
                                         ("fc", "dense"), ("LINEAR", "dense"),
                                         ("pool", "maxpool2d"), ("relu", "activation")])
def test_aliases_explain_their_kind(alias, kind):
    assert symparams.explain(alias) == symparams.explain(kind)
    assert symparams.explain(alias).kind == kind


# opaque (the framework's number) and tensor (one variant per rank) have explanations
# of their own: tests/test_opaque_tensor.py.
FORMULA_FAMILIES = [c for c in FAMILIES if c.kind not in ("opaque", "tensor")]


@pytest.mark.parametrize("cls", FORMULA_FAMILIES, ids=[c.kind for c in FORMULA_FAMILIES])
def test_letters_and_formula_come_from_the_layer_class(cls):
    text = symparams.explain(cls.kind)
    sections = dict(part.split("\n", 1) for part in text.split("\n\n")[1:] if "\n" in part)
    for letter, meaning in cls.letters.items():
        row = next(line for line in sections["Letters"].splitlines()
                   if line.strip().startswith(f"{letter} "))
        assert meaning in row
        source = (f"given by the field {cls.given_letters[letter]}"
                  if letter in cls.given_letters else "follows from the layer before")
        assert row.endswith(source)
    if cls.letters:
        formula = unicode_written(generic_formula(cls, True)[0])
        assert sections["Parameters"].splitlines()[0].strip() == formula
        assert unicode_written(generic_formula(cls, False)[0]) in sections["Parameters"]
    else:
        assert sections["Parameters"].strip() == "0"
        assert "none: the count is 0" in sections["Letters"]


def test_the_document_formulas_and_reasons():
    conv = symparams.explain("conv2d")
    assert "((m × n × d) + 1) × k" in conv
    why = " ".join(conv.split("Why\n")[1].split("\n\n")[0].split())
    assert "weight of its own" in why and "m × n × d" in why
    assert "one bias" in why and "k filters" in why
    assert "⌊(H + 2 × P - D × (n - 1) - 1) / S⌋ + 1" in conv
    assert "⌊(W + 2 × P - D × (m - 1) - 1) / S⌋ + 1" in conv
    assert "padding same: ⌈H / S⌉ × ⌈W / S⌉" in conv
    dense = symparams.explain("dense")
    assert "c × p + 1 × c" in dense and "flattened" in dense
    for kind in ("maxpool2d", "avgpool2d"):
        pool = " ".join(symparams.explain(kind).split())
        assert "nothing to learn" in pool and "⌊(H + 2 × P - n) / S⌋ + 1" in pool
    for kind in ("flatten", "dropout", "activation", "input"):
        assert "Why\n" in symparams.explain(kind)


def test_worked_example_is_computed_by_the_library():
    conv = symparams.explain("conv2d")
    assert "CONV1: ((m₁ × n₁ × d₁) + 1) × k₁ = ((5 × 5 × 3) + 1) × 8 = 608" in conv
    assert "height: ⌊(32 + 2 × 0 - 1 × (5 - 1) - 1) / 1⌋ + 1 = 28" in conv
    assert "output shape: 28 × 28 × 8" in conv
    dense = symparams.explain("dense")
    assert "the 5 × 5 × 16 input is flattened to 400 values first" in dense
    assert "= 120 × 400 + 1 × 120 = 48,120" in dense


def test_a_different_example_gives_different_numbers(monkeypatch):
    # The numbers are worked out, not written down: change the example, they follow.
    monkeypatch.setitem(explain_module.EXAMPLES, "conv2d",
                        ((10, 12, 2), {"kernel": [3, 2], "filters": 4, "stride": 2}))
    text = symparams.explain("conv2d")
    net = Network([symparams.Conv2D(kernel=[3, 2], filters=4, stride=2)], input=(10, 12, 2))
    assert f"= ((3 × 2 × 2) + 1) × 4 = {net.total}" in text
    height = conv_output_size(net.input_shape[0], net.layers[1].layer.n, 2)
    width = conv_output_size(net.input_shape[1], net.layers[1].layer.m, 2)
    assert f"height: ⌊(10 + 2 × 0 - 1 × (2 - 1) - 1) / 2⌋ + 1 = {height}" in text
    assert f"width: ⌊(12 + 2 × 0 - 1 × (3 - 1) - 1) / 2⌋ + 1 = {width}" in text
    assert f"output shape: {height} × {width} × 4" in text


def test_every_example_shape_line_matches_the_network():
    for kind in KINDS:
        text = symparams.explain(kind)
        shape, fields = explain_module.EXAMPLES[kind]
        layers = [] if kind == "input" else [REGISTRY[kind].from_fields(dict(fields))]
        inputs = None
        if kind != "input" and REGISTRY[kind].merges:  # joined with a 1 × 1 conv branch
            layers.insert(0, REGISTRY["conv2d"](kernel=1, filters=shape[-1], name="BRANCH"))
            inputs = [None, ["BRANCH", "INPUT"]]
        net = Network(layers, input=shape, inputs=inputs)
        shown = re.search(r"output shape: (.+)", text).group(1)
        assert shown == " × ".join(str(v) for v in net.layers[-1].output_shape)


def test_without_a_kind_lists_them(capsys):
    assert main(["explain"]) == 0
    out = capsys.readouterr().out
    for kind in KINDS:
        assert re.search(rf"^  {kind} ", out, re.MULTILINE)
    assert "((m × n × d) + 1) × k" in out


@pytest.mark.parametrize("kind, hint", [("dens", "did you mean 'dense'?"),
                                        ("maxpol", "did you mean 'maxpool2d'?"),
                                        ("xyz", "")])
def test_unknown_kind_is_one_line_exit_2(kind, hint, capsys):
    assert main(["explain", kind]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert f"unknown layer kind {kind!r} (known: input, conv2d" in err
    assert hint in err
    with pytest.raises(SymparamsError, match="unknown layer kind"):
        symparams.explain(kind)


@pytest.mark.parametrize("kind", ["depthwise_conv3d", "locallyconnected1d", "cropping2d",
                                  "pixel_shuffle"])
def test_unsupported_kind_is_not_a_misspelling(kind, capsys):
    # depthwise_conv3d is a real kind symparams does not count yet, not a misspelt one.
    assert main(["explain", kind]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "is not supported yet" in err
    assert "did you mean" not in err


def test_repr_is_the_text():
    text = symparams.explain("flatten")
    assert repr(text) == str(text)
    assert isinstance(text, str)
