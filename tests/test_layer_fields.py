"""The declared fields of a layer family (layers/fields.py): the base class derives
the plumbing (constructor, from_fields, to_fields, given, with_given, sizes,
xreplace) from one schema."""
import pytest
from sympy import Add, Integer, Mul, Symbol

from symparams import Conv2D, Dense, MaxPool2D
from symparams.errors import SymparamsError
from symparams.layers.base import Layer
from symparams.layers.fields import Flag, Pair, Size, Word


class Toy(Layer):
    """A family written the new way: fields declared once, the formula its own."""
    kind = "toy"
    letters = {"a": "first", "b": "second", "x": "given once"}
    schema = (Pair("window", letters=("a", "b")), Size("width", letter="x", minimum=2),
              Pair("stride", default=1), Flag("bias", default=True),
              Word("activation", default=None))

    def written_formula(self, L):
        return Add(Mul(L["a"], L["b"], L["x"]), Integer(1) if self.bias else Integer(0))


def test_tables_follow_from_the_schema():
    assert Toy.fields == ("window", "width", "stride", "bias", "activation")
    assert Toy.required == ("window", "width")
    assert Toy.given_letters == {"a": "window", "b": "window", "x": "width"}
    assert Conv2D.given_letters == {"m": "kernel", "n": "kernel", "k": "filters"}
    assert Conv2D.keyword_sizes == {"padding": ("same", "valid")}


def test_plumbing_follows_from_the_schema():
    toy = Toy.from_fields({"window": [2, 3], "width": "X", "activation": "relu"}, name="T")
    assert toy.given() == {"a": 2, "b": 3, "x": Symbol("X", positive=True, integer=True)}
    assert (toy.a, toy.b) == (2, 3) and toy.window == (2, 3)
    assert toy.to_fields() == {"type": "toy", "window": [2, 3], "width": "X",
                               "activation": "relu"}
    assert Toy.from_fields({k: v for k, v in toy.to_fields().items() if k != "type"},
                           name="T") == toy
    X = toy.x
    assert toy.xreplace({X: Integer(7)}).given()["x"] == 7
    assert toy.sizes() == [2, 3, X, 1, 1]
    wider = toy.with_given("b", Integer(5))
    assert wider.window == (2, 5) and toy.window == (2, 3)  # a copy; the original stays
    with pytest.raises(SymparamsError) as info:
        toy.with_given("x", Integer(1))  # the field's own minimum still holds
    assert info.value.field == "width"
    with pytest.raises(SymparamsError, match="missing"):
        Toy(window=2)


def test_existing_families_keep_their_attributes():
    conv = Conv2D(kernel=[3, 5], filters=4)
    assert (conv.m, conv.n, conv.k) == (3, 5, 4)
    assert conv.with_given("n", Integer(7)).to_fields()["kernel"] == [3, 7]
    assert Dense(units=10).c == 10
    assert MaxPool2D(3).stride == (3, 3)
    assert MaxPool2D.from_fields({"kernel": 3, "stride": None}).stride == (3, 3)
    assert MaxPool2D(kernel=3, stride=3).to_fields() == {"type": "maxpool2d", "kernel": 3}



@pytest.mark.parametrize("fields, family", [
    ({"type": "batchnorm", "affine": False}, "BatchNorm"),
    ({"type": "batchnorm", "convention": "keras"}, "BatchNorm"),
    ({"type": "layernorm", "scale": False}, "LayerNorm"),
    ({"type": "conv2d", "kernel": 3, "filters": 8, "groups": 2}, "Conv2D"),
    ({"type": "lstm", "hidden_size": 8, "num_layers": 2}, "LSTM"),
])
def test_repr_names_the_family_not_its_formula_variant(fields, family):
    # A variant class (one per formula) is an implementation detail: the repr is what
    # a user would type, e.g. BatchNorm(affine=False), not BatchNormFixed(affine=False).
    from symparams.layers import layer_class
    fields = dict(fields)
    layer = layer_class(fields.pop("type")).from_fields(fields)
    assert repr(layer).startswith(f"{family}(")


def test_repr_of_every_layer_in_the_presets_names_its_family():
    from symparams import load
    from symparams.layers import REGISTRY
    families = {cls.__name__ for cls in REGISTRY.values()} | {"Input"}
    for preset in ("lstm-lm", "transformer-classifier", "bert-base", "resnet18"):
        for info in load(preset).layers:
            assert repr(info.layer).split("(")[0] in families, (preset, repr(info.layer))
