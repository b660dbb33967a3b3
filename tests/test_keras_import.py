"""Keras models read from their config alone: totals, per-layer counts and the accounting.

The fixtures in tests/fixtures/keras were written by make_fixtures.py with Keras
itself (``weights=None``, PyTorch backend): each model's ``to_json()`` and Keras'
own ``count_params()``, trainable and non-trainable counts, per layer too.  The
importer never imports Keras; the live tests below build the models again with
Keras (the test extra) and compare with what Keras counts now.
"""
from __future__ import annotations

import gzip
import json
import os
import zipfile
from pathlib import Path

import pytest

import frameworks as fw
from conftest import IN_CI, ROOT, run_cli
from symparams import Network
from symparams.errors import SymparamsError
from symparams.importers.keras_config import spec_from_keras
from symparams.spec import spec_from_data

# Keras on the PyTorch backend warns about NumPy 2's copy keyword: not ours to fix.
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

FIXTURES = ROOT / "tests" / "fixtures" / "keras"
MODELS = sorted(p.name[:-len(".json.gz")] for p in FIXTURES.glob("*.json.gz"))

# Keras' published totals (keras.io/api/applications) and non-trainable counts
# (BatchNormalization's moving statistics), written out here so that the tests do
# not trust the fixtures' sidecars alone.
PUBLISHED = {"resnet50": (25_636_712, 53_120), "mobilenet_v2": (3_538_984, 34_112),
             "densenet121": (8_062_504, 83_648), "vgg16": (138_357_544, 0)}


def keras_module():
    """Keras on the PyTorch backend (the test extra): skip without it, fail under CI=true."""
    os.environ.setdefault("KERAS_BACKEND", "torch")
    try:
        import keras
    except ImportError as error:
        if IN_CI:
            pytest.fail(f"CI=true but keras is not installed ({error})")
        pytest.skip(f"keras is not installed ({error})")
    return keras


def fixture_json(name: str, folder: Path) -> Path:
    path = folder / f"{name}.json"
    path.write_bytes(gzip.decompress((FIXTURES / f"{name}.json.gz").read_bytes()))
    return path


def counts(name: str) -> dict:
    return json.loads((FIXTURES / f"{name}.counts.json").read_text(encoding="utf-8"))


def network(data: dict, source: str = "model") -> Network:
    return Network.from_spec(spec_from_data(data, source=source))


def per_keras_layer(net: Network, keras_names) -> dict[str, tuple[int, int, int]]:
    """(total, trainable, non-trainable) of each Keras layer: the spec entries named
    after it (``name``, or ``name.part`` for the parts of one layer)."""
    result = {}
    for keras_name in keras_names:
        parts = [info for info in net if info.name == keras_name
                 or info.name.startswith(keras_name + ".")]
        result[keras_name] = tuple(int(sum(getattr(i, attr) for i in parts))
                                   for attr in ("params", "trainable", "non_trainable"))
    return result


class Imported(dict):
    """Each fixture's spec data, imported once when a test first asks for it."""

    def __init__(self, folder: Path):
        super().__init__()
        self.folder = folder

    def __missing__(self, name: str) -> dict:
        self[name] = spec_from_keras(fixture_json(name, self.folder))
        return self[name]


@pytest.fixture(scope="module")
def imported(tmp_path_factory):
    return Imported(tmp_path_factory.mktemp("keras-json"))


def test_the_fixtures_hold_keras_published_totals():
    for name, (total, frozen) in PUBLISHED.items():
        recorded = counts(name)
        assert (recorded["count_params"], recorded["non_trainable"]) == (total, frozen)


@pytest.mark.parametrize("name", MODELS)
def test_imported_totals_are_keras_own(imported, name):
    recorded = counts(name)
    data = imported[name]
    assert data["convention"] == "keras"
    net = network(data, name)
    assert (int(net.total), int(net.trainable_total), int(net.non_trainable_total)) == \
        (recorded["count_params"], recorded["trainable"], recorded["non_trainable"])
    if name in PUBLISHED:
        assert (int(net.total), int(net.non_trainable_total)) == PUBLISHED[name]
    # Every layer too, split into trainable and non-trainable as Keras splits it.
    expected = {k: (v["count_params"], v["trainable"], v["non_trainable"])
                for k, v in recorded["layers"].items()}
    assert per_keras_layer(net, expected) == expected
    # Nothing checked these counts against stored weights: a note says so.
    assert any("config alone" in note for note in data["notes"])


def test_names_inputs_and_open_sizes_come_from_the_config(imported):
    resnet = imported["resnet50"]
    names = [entry["name"] for entry in resnet["layers"]]
    assert names[:3] == ["conv1_pad", "conv1_conv", "conv1_bn"]
    assert resnet["input"] == {"input_layer": [224, 224, 3]}   # the Keras input's name
    add = next(e for e in resnet["layers"] if e["name"] == "conv2_block1_add")
    assert add["type"] == "add" and add["inputs"] == ["conv2_block1_0_bn", "conv2_block1_3_bn"]
    # The token input's length is left open by the model: it stays a letter.
    sequence = imported["small_sequence"]
    assert sequence["input"] == {"tokens": ["T"]}
    kinds = {e["name"]: e for e in sequence["layers"]}
    assert kinds["mha"]["type"] == "multihead_attention" and kinds["mha"]["key_dim"] == 24
    assert kinds["bilstm"]["bidirectional"] is True
    frozen = next(e for e in imported["small_sequential"]["layers"] if e["name"] == "out")
    assert frozen["trainable"] is False


def test_input_shape_fills_the_open_sizes_only(tmp_path):
    path = fixture_json("small_sequence", tmp_path)
    data = spec_from_keras(path, input_shape=(128,))
    assert data["input"] == {"tokens": [128]}
    assert int(network(data).total) == counts("small_sequence")["count_params"]
    with pytest.raises(SymparamsError, match="fixes it at 224"):
        spec_from_keras(fixture_json("vgg16", tmp_path), input_shape=(200, 224, 3))
    with pytest.raises(SymparamsError, match="--input has 2 sizes"):
        spec_from_keras(path, input_shape=(1, 2))


def test_keras_attention_variant_counts_as_keras():
    from symparams.layers import MultiheadAttention
    layer = MultiheadAttention(heads=4, key_dim=24, value_dim=20)
    # Keras: query and key 64 × 4 × 24 + 4 × 24, value 64 × 4 × 20 + 4 × 20,
    # output 4 × 20 × 64 + 64 (the fixture's "mha" layer, counted by Keras).
    width = {s.name: s for s in layer.params.free_symbols}["E"]
    assert layer.params.subs(width, 64) == counts("small_sequence")["layers"]["mha"]["count_params"]
    assert str(MultiheadAttention(heads=8).formula) == "4*E**2 + 4*E"   # PyTorch's unchanged
    with pytest.raises(SymparamsError, match="key_dim"):
        MultiheadAttention(heads=4, value_dim=8)


# ---------------------------------------------------------------- Keras 2 layout

KERAS2_SEQUENTIAL = {
    "class_name": "Sequential",
    "config": {"name": "k2_cnn", "layers": [
        {"class_name": "Conv2D", "config": {
            "name": "conv", "trainable": True, "batch_input_shape": [None, 28, 28, 1],
            "filters": 8, "kernel_size": [3, 5], "strides": [1, 1], "padding": "valid",
            "dilation_rate": [1, 1], "use_bias": True, "data_format": "channels_last"}},
        {"class_name": "MaxPooling2D", "config": {"name": "pool", "pool_size": [2, 2],
                                                  "strides": [2, 2], "padding": "valid"}},
        {"class_name": "Flatten", "config": {"name": "flat"}},
        {"class_name": "Dense", "config": {"name": "fc", "units": 10, "use_bias": True,
                                           "activation": "softmax"}}]},
    "keras_version": "2.15.0", "backend": "tensorflow"}

KERAS2_FUNCTIONAL = {
    "class_name": "Functional",
    "config": {
        "name": "k2_text",
        "layers": [
            {"class_name": "InputLayer", "name": "tokens", "inbound_nodes": [],
             "config": {"batch_input_shape": [None, 12], "dtype": "int32", "name": "tokens"}},
            {"class_name": "Embedding", "name": "embed", "inbound_nodes": [[["tokens", 0, 0, {}]]],
             "config": {"name": "embed", "input_dim": 500, "output_dim": 16}},
            {"class_name": "GRU", "name": "gru", "inbound_nodes": [[["embed", 0, 0, {}]]],
             "config": {"name": "gru", "units": 8, "return_sequences": True,
                        "reset_after": False, "use_bias": True}},
            {"class_name": "Dense", "name": "skip", "inbound_nodes": [[["embed", 0, 0, {}]]],
             "config": {"name": "skip", "units": 8, "use_bias": False}},
            {"class_name": "Add", "name": "sum", "inbound_nodes": [[["gru", 0, 0, {}],
                                                                     ["skip", 0, 0, {}]]],
             "config": {"name": "sum"}},
            {"class_name": "Concatenate", "name": "join",
             "inbound_nodes": [[["sum", 0, 0, {}], ["embed", 0, 0, {}]]],
             "config": {"name": "join", "axis": -1}},
            {"class_name": "BatchNormalization", "name": "bn",
             "inbound_nodes": [[["join", 0, 0, {}]]],
             "config": {"name": "bn", "axis": [2], "center": True, "scale": True,
                        "trainable": False}},
            {"class_name": "GlobalAveragePooling1D", "name": "gap",
             "inbound_nodes": [[["bn", 0, 0, {}]]], "config": {"name": "gap"}},
            {"class_name": "Dense", "name": "head", "inbound_nodes": [[["gap", 0, 0, {}]]],
             "config": {"name": "head", "units": 3}}],
        "input_layers": [["tokens", 0, 0]],
        "output_layers": [["head", 0, 0]]},
    "keras_version": "2.15.0", "backend": "tensorflow"}


def test_keras2_layouts(tmp_path):
    path = tmp_path / "cnn.json"
    path.write_text(json.dumps(KERAS2_SEQUENTIAL), encoding="utf-8")
    net = network(spec_from_keras(path))
    # kernel (3, 5) is height 3, width 5: 3 × 5 × 1 × 8 + 8; 28 - 2 = 26 by 28 - 4 = 24, pooled
    # to 13 × 12 × 8 = 1,248 values into 10 units.
    assert net["conv"].output_shape == (26, 24, 8)
    assert [int(i.params) for i in net][1:] == [3 * 5 * 1 * 8 + 8, 0, 0, 1248 * 10 + 10]
    # Keras 2.0 and 2.1 wrote a Sequential model's config as the list of its layers.
    old_style = {"class_name": "Sequential", "config": KERAS2_SEQUENTIAL["config"]["layers"]}
    path.write_text(json.dumps(old_style), encoding="utf-8")
    assert int(network(spec_from_keras(path)).total) == int(net.total)
    path = tmp_path / "text.json"
    path.write_text(json.dumps(KERAS2_FUNCTIONAL), encoding="utf-8")
    net = network(spec_from_keras(path))
    by_name = {i.name: i for i in net}
    assert int(by_name["embed"].params) == 500 * 16
    assert int(by_name["gru"].params) == 3 * (8 * 16 + 8 * 8 + 8)     # reset_after false: one bias
    assert int(by_name["skip"].params) == 16 * 8
    assert by_name["join"].output_shape == (12, 24)
    assert (int(by_name["bn"].params), int(by_name["bn"].non_trainable)) == (4 * 24, 4 * 24)
    assert int(by_name["head"].params) == 24 * 3 + 3
    assert int(net.total) == 500 * 16 + 3 * (8 * 16 + 8 * 8 + 8) + 16 * 8 + 4 * 24 + 24 * 3 + 3


# ---------------------------------------------------------------- .keras archives

def write_archive(path: Path, config: dict, *, weights: bytes | None = None,
                  extra: dict[str, bytes] | None = None) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("metadata.json", json.dumps({"keras_version": "3.15.1"}))
        archive.writestr("config.json", json.dumps(config))
        if weights is not None:
            archive.writestr("model.weights.h5", weights)
        for name, data in (extra or {}).items():
            archive.writestr(name, data)
    return path


def test_archive_without_weights_counts_from_its_config(tmp_path):
    config = json.loads(gzip.decompress((FIXTURES / "mobilenet_v2.json.gz").read_bytes()))
    path = write_archive(tmp_path / "mobilenet.keras", config)
    data = spec_from_keras(path)
    assert int(network(data).total) == PUBLISHED["mobilenet_v2"][0]
    assert any("no model.weights.h5" in note for note in data["notes"])
    import symparams
    net = symparams.from_keras(path)
    assert (int(net.total), int(net.non_trainable_total)) == PUBLISHED["mobilenet_v2"]
    assert net.convention == "keras" and any("no model.weights.h5" in w for w in net.warnings)


def test_count_cli_reads_keras_files(tmp_path):
    path = fixture_json("resnet50", tmp_path)
    result = run_cli("count", path, "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert (report["total"], report["total_non_trainable"]) == PUBLISHED["resnet50"]
    assert report["convention"] == "keras"
    config = json.loads(path.read_text(encoding="utf-8"))
    archive = write_archive(tmp_path / "resnet50.keras", config)
    result = run_cli("count", archive, "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["total"] == PUBLISHED["resnet50"][0]


# ---------------------------------------------------------------- live Keras

def small_models(keras):
    """Models saved with their weights: every layer family the importer maps, a layer
    class of the user's own (registered, with one weight), frozen and shared layers."""
    from keras import layers

    @keras.saving.register_keras_serializable(package="symparams_test")
    class Scale(layers.Layer):
        def build(self, input_shape):
            self.gain = self.add_weight(shape=(input_shape[-1],), initializer="ones")

        def call(self, inputs):
            return inputs * self.gain

    image = keras.Input((16, 16, 3), name="image")
    x = layers.Conv2D(8, 3, padding="same", name="c1")(image)
    x = layers.BatchNormalization(name="bn", trainable=False)(x)
    x = layers.PReLU(shared_axes=[1, 2], name="prelu")(x)
    x = layers.DepthwiseConv2D(3, depth_multiplier=2, name="dw")(x)
    x = layers.SeparableConv2D(12, 3, padding="same", name="sep")(x)
    x = layers.Conv2DTranspose(6, 3, strides=2, padding="same", name="up")(x)
    x = layers.GroupNormalization(groups=3, name="gn")(x)
    x = Scale(name="scale")(x)
    shared = layers.Dense(5, name="shared")
    a = shared(layers.GlobalMaxPooling2D(name="gmp")(x))
    b = shared(layers.GlobalAveragePooling2D(name="gap")(x))
    inner = keras.Sequential([layers.Dense(4, name="d1"), layers.Dense(2, name="d2")],
                             name="inner")
    out = inner(layers.Concatenate(name="cat")([a, b]))
    model = keras.Model(image, out, name="small_image")
    return model


def same_shapes(net: Network, model) -> dict[str, tuple]:
    """The Keras layers whose output shape (no batch axis) differs from ours: open sizes
    (None) match any letter."""
    different = {}
    for layer in model.layers:
        if layer.name not in (info.name for info in net):
            continue
        theirs = tuple(layer.output.shape[1:])
        ours = tuple(net[layer.name].output_shape)
        if len(ours) != len(theirs) or any(t is not None and o != t
                                           for o, t in zip(ours, theirs)):
            different[layer.name] = (ours, theirs)
    return different


def zoo_model(keras):
    """A model of the layers the applications leave out: 1-D and 3-D convolutions and
    pooling, transposed ones, causal padding, grouped and depthwise 1-D convolutions,
    Dense on an image, Cropping, UpSampling, Permute, TimeDistributed, Normalization,
    Bidirectional with merge_mode sum, Average, three named inputs."""
    from keras import layers
    image = keras.Input((16, 16, 3), name="image")
    x = layers.Conv2D(6, 3, groups=3, name="grouped")(image)
    x = layers.ReLU(max_value=6, name="relu6")(x)
    x = layers.UpSampling2D(2, name="up")(x)
    x = layers.Cropping2D(((1, 1), (2, 2)), name="crop")(x)
    x = layers.Dense(5, name="pointwise")(x)
    x = layers.LeakyReLU(name="leaky")(x)
    x = layers.AveragePooling2D(2, name="avg")(x)
    x = layers.Conv2DTranspose(4, (3, 2), strides=(2, 1), name="deconv")(x)
    x = layers.ZeroPadding2D(((0, 1), (2, 0)), name="pad")(x)
    a = layers.GlobalAveragePooling2D(name="gap")(x)
    volume = keras.Input((4, 8, 8, 2), name="volume")
    v = layers.Conv3D(3, 3, padding="same", name="conv3d")(volume)
    v = layers.AveragePooling3D(2, name="pool3d")(v)
    v = layers.Conv3DTranspose(2, 2, strides=2, padding="same", name="deconv3d")(v)
    b = layers.GlobalMaxPooling3D(name="gmp3d")(v)
    seq = keras.Input((10, 6), name="seq")
    s = layers.Conv1D(8, 3, padding="causal", name="causal")(seq)
    s = layers.DepthwiseConv1D(3, depth_multiplier=2, padding="same", name="dw1d")(s)
    s = layers.SeparableConv1D(4, 3, name="sep1d")(s)
    s = layers.MaxPooling1D(2, name="pool1d")(s)
    s = layers.Conv1DTranspose(3, 2, strides=2, name="deconv1d")(s)
    s = layers.Permute((2, 1), name="swap")(s)
    s = layers.TimeDistributed(layers.Dense(2), name="per_step")(s)
    c = layers.Dense(4, name="seq_fc")(layers.Flatten(name="flat")(s))
    r = layers.Bidirectional(layers.GRU(3), merge_mode="sum", name="bisum")(seq)
    n = layers.GlobalAveragePooling1D(name="gap1d")(layers.Normalization(name="norm")(seq))
    d = layers.Dense(3, name="fc")(layers.Concatenate(name="join")([a, b, c, n]))
    out = layers.Softmax(name="probs")(layers.Average(name="mean")([d, r]))
    return keras.Model([image, volume, seq], out, name="zoo")


def saved_archive(model, path: Path):
    """``model`` saved by Keras itself as a .keras archive with its weights (read back
    through h5py, which the test extra brings with Keras)."""
    fw.need("h5py")
    model.save(path)
    return model, path


@pytest.mark.frameworks
def test_every_mapped_layer_class_counts_and_shapes_as_keras(tmp_path):
    model, path = saved_archive(zoo_model(keras_module()), tmp_path / "zoo.keras")
    data = spec_from_keras(path)       # checked against model.weights.h5, layer by layer
    assert list(data["input"]) == ["image", "volume", "seq"]
    net = network(data)
    assert (int(net.total), int(net.non_trainable_total)) == (model.count_params(), 13)
    expected = {layer.name: layer.count_params() for layer in model.layers}
    assert {k: v[0] for k, v in per_keras_layer(net, expected).items()} == expected
    assert same_shapes(net, model) == {}


@pytest.mark.frameworks
def test_saved_keras_archive_is_checked_against_its_weights(tmp_path):
    model, path = saved_archive(small_models(keras_module()), tmp_path / "small.keras")
    with pytest.raises(SymparamsError) as error:
        spec_from_keras(path)
    message = str(error.value)
    assert "scale" in message and "Scale" in message and "--allow-unknown" in message
    assert "holds 6 parameters" in message    # 6 gains, read from model.weights.h5
    data = spec_from_keras(path, allow_unknown=True)
    assert not any("config alone" in note for note in data.get("notes", []))
    net = network(data)
    assert int(net.total) == model.count_params()
    assert int(net.non_trainable_total) == sum(
        int(w.numpy().size) for w in model.non_trainable_weights)
    # Every layer, the nested model "inner" as a whole (its layers are inner.d1, inner.d2).
    expected = {layer.name: layer.count_params() for layer in model.layers}
    got = per_keras_layer(net, expected)
    assert {k: v[0] for k, v in got.items()} == expected
    assert net["inner.d2"].output_shape == (2,)
    assert same_shapes(net, model) == {}
    # The shared Dense is counted once (its second call is shape-only).
    assert int(sum(i.params for i in net if i.name.startswith("shared"))) == 6 * 5 + 5


@pytest.mark.frameworks
def test_a_config_that_disagrees_with_its_weights_is_refused(tmp_path, live_models):
    fw.need("h5py")
    keras, make = live_models
    model = make.small_sequential_model()
    path = tmp_path / "seq.keras"
    model.save(path)
    assert int(network(spec_from_keras(path)).total) == model.count_params()
    with zipfile.ZipFile(path) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    config = json.loads(members["config.json"])
    out = next(layer for layer in config["config"]["layers"] if layer["config"]["name"] == "out")
    out["config"]["units"] = 5      # the stored kernel is 12 × 4 and the bias 4
    members["config.json"] = json.dumps(config).encode()
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    with pytest.raises(SymparamsError, match=r"layer out counts 65 but model.weights.h5 "
                                             r"stores 52 values for it \(dense\)"):
        spec_from_keras(path)


@pytest.fixture(scope="module")
def live_models():
    keras = keras_module()
    import importlib.util
    spec = importlib.util.spec_from_file_location("make_fixtures",
                                                  FIXTURES / "make_fixtures.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return keras, module


# Rebuilt live: the issue's three applications and the small models (VGG16's 138 million
# weights and EfficientNet take seconds to allocate; their fixtures are checked above).
LIVE = ["densenet121", "mobilenet_v2", "resnet50", "small_sequence", "small_sequential"]


@pytest.mark.frameworks
@pytest.mark.parametrize("name", LIVE)
def test_live_keras_counts_match_per_layer(live_models, tmp_path, name):
    keras, make = live_models
    model = make.builders()[name]()
    path = tmp_path / f"{name}.json"
    path.write_text(model.to_json(), encoding="utf-8")
    net = network(spec_from_keras(path))
    assert int(net.total) == model.count_params()
    expected = {layer.name: layer.count_params() for layer in model.layers}
    assert {k: v[0] for k, v in per_keras_layer(net, expected).items()} == expected
    assert same_shapes(net, model) == {}
    # The committed fixture is what this Keras writes.
    assert counts(name)["count_params"] == model.count_params()
