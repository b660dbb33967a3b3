"""Networks: the document's numbers, letters, symbolic totals and substitution."""
import pytest
from sympy import Add, Integer, floor

from conftest import DOCUMENT_COUNTS, DOCUMENT_TOTAL, ROOT
from symparams import Conv2D, Dense, MaxPool2D, Network, SymparamsError, load
from symparams.spec import size_symbol


@pytest.fixture(scope="module")
def lenet():
    return load("lenet")


def test_document_counts_through_the_api(lenet):
    counts = {info.name: info.params for info in lenet if info.params != 0}
    assert counts == DOCUMENT_COUNTS
    assert lenet.total == DOCUMENT_TOTAL
    assert all(isinstance(info.params, Integer) for info in lenet)
    assert isinstance(lenet.total, Integer)


def test_example_file_matches_the_preset(lenet):
    from_file = load(str(ROOT / "examples" / "lenet.yaml"))
    assert from_file.to_dict() == lenet.to_dict()


def test_shapes_follow_the_document(lenet):
    shapes = {info.name: tuple(int(v) for v in info.output_shape) for info in lenet}
    assert shapes == {"INPUT": (32, 32, 3), "CONV1": (28, 28, 8), "POOL1": (14, 14, 8),
                      "CONV2": (10, 10, 16), "POOL2": (5, 5, 16), "FC3": (120,), "FC4": (84,),
                      "SOFTMAX": (10,)}


def test_letters_are_indexed_per_family(lenet):
    assert [s.name for s in lenet["CONV2"].letters.values()] == ["m_2", "n_2", "d_2", "k_2"]
    assert [s.name for s in lenet["FC4"].letters.values()] == ["c_2", "p_2"]
    # d of a convolution and p of a dense layer come from the layer before
    assert lenet["CONV2"].values[lenet.symbols["d_2"]] == 8
    assert lenet["FC3"].values[lenet.symbols["p_1"]] == 400


def test_total_symbolic_is_the_sum_of_layer_formulas(lenet):
    s = lenet.symbols
    expected = Add(*[((s[f"m_{i}"] * s[f"n_{i}"] * s[f"d_{i}"]) + 1) * s[f"k_{i}"] for i in (1, 2)],
                   *[s[f"c_{j}"] * s[f"p_{j}"] + s[f"c_{j}"] for j in (1, 2, 3)])
    assert lenet.total_symbolic == expected
    values = {sym: v for info in lenet for sym, v in info.values.items()}
    assert lenet.total_symbolic.xreplace(values) == DOCUMENT_TOTAL


def test_symbolic_input_and_filters_give_the_document_total(write_spec):
    spec = write_spec("""
name: symbolic
input: [H, W, 3]
layers:
  - {type: conv2d, name: CONV1, kernel: 5, filters: k_1}
  - {type: maxpool2d, name: POOL1, kernel: 2, stride: 2}
  - {type: conv2d, name: CONV2, kernel: 5, filters: k_2}
  - {type: maxpool2d, name: POOL2, kernel: 2}
  - {type: dense, name: FC3, units: 120}
  - {type: dense, name: FC4, units: 84}
  - {type: dense, name: SOFTMAX, units: 10}
""")
    net = load(str(spec))
    H, W = net.symbols["H"], net.symbols["W"]
    k1, k2 = net.symbols["k_1"], net.symbols["k_2"]
    assert net.total.free_symbols == {H, W, k1, k2}
    assert net["FC3"].params.has(floor)  # pooling floors survive symbolically
    assert net.total.xreplace({H: 32, W: 32, k1: 8, k2: 16}) == DOCUMENT_TOTAL
    assert net.subs(H=32, W=32, k_1=8, k_2=16).total == DOCUMENT_TOTAL


def test_partial_substitution_keeps_the_rest_symbolic(lenet):
    sym = lenet.symbolic()
    assert sym.total == sym.total_symbolic.xreplace(
        {s: v for info in sym for s, v in info.values.items()})
    partial = sym.subs(k_1=8)
    assert sym.symbols["k_1"] not in partial.total.free_symbols
    assert sym.symbols["k_2"] in partial.total.free_symbols
    full = sym.subs({name: 5 for name in ("m_1", "n_1", "m_2", "n_2")},
                    k_1=8, k_2=16, c_1=120, c_2=84, c_3=10, H=32, W=32, C=3)
    assert full.total == DOCUMENT_TOTAL and full.total.is_Integer


def test_subs_returns_a_new_network(lenet):
    bigger = lenet.subs({"k_2": 32})
    assert lenet.total == DOCUMENT_TOTAL
    assert bigger["CONV2"].params == 6432 and bigger["FC3"].params == 96120
    assert lenet.subs({"CONV1.filters": 16}).total == load("lenet").subs(k_1=16).total


@pytest.mark.parametrize("values, fragment", [
    ({"x": 3}, "unknown size 'x'"),
    ({"d_2": 3}, "follows from the layer before"),
    ({"k_1": 0}, "expected a positive whole number"),
    ({"k_1": "2.5"}, "only whole numbers"),
    ({"CONV9.filters": 3}, "no layer named 'CONV9'"),
])
def test_bad_substitutions(lenet, values, fragment):
    with pytest.raises(SymparamsError, match=fragment):
        lenet.subs(values)


def test_dense_after_image_flattens_and_says_so(lenet):
    assert any("flattened to 400 values" in note for note in lenet["FC3"].step.notes)
    assert not lenet["FC4"].step.notes


def test_api_builds_the_same_network(lenet):
    net = Network([Conv2D(kernel=5, filters=8, stride=1, name="CONV1"),
                   MaxPool2D(kernel=2, stride=2, name="POOL1"),
                   Conv2D(kernel=5, filters=16, name="CONV2"), MaxPool2D(kernel=2, name="POOL2"),
                   Dense(units=120, name="FC3"), Dense(units=84, name="FC4"),
                   Dense(units=10, activation="softmax", name="SOFTMAX")],
                  input=(32, 32, 3), name="lenet")
    assert [info.params for info in net] == [info.params for info in lenet]


def test_default_names_and_duplicate_names():
    net = Network([Conv2D(3, 4), MaxPool2D(2), Dense(5)], input=(8, 8, 1))
    assert [i.name for i in net] == ["INPUT", "CONV1", "POOL1", "FC1"]
    with pytest.raises(SymparamsError, match="names must be unique"):
        Network([Dense(5, name="A"), Dense(5, name="A")], input=(4,))


def test_conv_after_a_vector_is_refused():
    with pytest.raises(SymparamsError, match="needs a height × width × channels input"):
        Network([Dense(5), Conv2D(3, 4)], input=(8, 8, 1))


def test_size_may_not_use_another_layers_letter():
    with pytest.raises(SymparamsError, match="letter of another layer"):
        Network([Conv2D(3, "k_2"), Conv2D(3, 4)], input=(8, 8, 1))


def test_vector_input_mlp():
    net = Network([Dense(300), Dense(10)], input=(784,))
    assert net.total == 784 * 300 + 300 + 300 * 10 + 10


def test_printing_hooks(lenet):
    from sympy import latex
    text = str(lenet)
    assert "((m₁ × n₁ × d₁) + 1) × k₁ = ((5 × 5 × 3) + 1) × 8 = 608" in text
    assert latex(lenet["CONV2"]) == (r"((m_{2} \times n_{2} \times d_{2}) + 1) \times k_{2} = "
                                     r"((5 \times 5 \times 8) + 1) \times 16 = 3216")
    assert lenet["FC3"]._repr_latex_().startswith("$")
    assert "62958" in repr(lenet)


@pytest.mark.parametrize("preset, published_total", [
    ("vgg16", 138_357_544),   # the count every framework reports for VGG-16
    ("alexnet", 61_100_840),  # torchvision's AlexNet
])
def test_presets_match_published_totals(preset, published_total):
    assert load(preset).total == published_total


def test_symbolic_example_substitutes_to_the_document_total():
    net = load(str(ROOT / "examples" / "lenet-symbolic.yaml"))
    assert set(net.free_symbols) == {"H", "W"}
    assert net.subs(H=32, W=32, k_1=8, k_2=16).total == DOCUMENT_TOTAL
