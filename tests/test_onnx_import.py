"""ONNX import: torch.onnx exports of real models counted from the file alone.

Each model is exported once per session (TorchScript exporter, constant folding
off so that BatchNormalization stays a node) at a small input size: the counts
do not depend on it.  The import must give torch's own count — unique
parameters plus floating-point buffers (BatchNorm's running statistics) — in
total and module by module where the exporter's names lead back to modules.
"""
from __future__ import annotations

import json
import re
import warnings
from collections import defaultdict

import pytest

import frameworks as fw
from conftest import run_cli
from symparams import Network
from symparams.errors import SymparamsError
from symparams.spec import spec_from_data

pytestmark = pytest.mark.frameworks


def _export(torch, model, example, path, **options):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(model.eval(), example, str(path), dynamo=False,
                          **{"do_constant_folding": False, **options})
    return path


def _sequence_models(torch, nn):
    class Tagger(nn.Module):
        """Embedding, a 2-layer bidirectional LSTM, a GRU and a dense head."""
        def __init__(self):
            super().__init__()
            self.emb = nn.Embedding(50, 16)
            self.lstm = nn.LSTM(16, 24, num_layers=2, batch_first=True, bidirectional=True)
            self.gru = nn.GRU(48, 8, batch_first=True)
            self.head = nn.Linear(8, 5)

        def forward(self, tokens):
            y, _ = self.lstm(self.emb(tokens))
            y, _ = self.gru(y)
            return self.head(y)

    class Encoder(nn.Module):
        """Token and position embeddings, two transformer layers, a pooled head."""
        def __init__(self):
            super().__init__()
            self.emb = nn.Embedding(60, 32)
            self.pos = nn.Parameter(torch.randn(12, 32))   # a learned position table
            layer = nn.TransformerEncoderLayer(32, 4, 64, batch_first=True)
            self.encoder = nn.TransformerEncoder(layer, 2, enable_nested_tensor=False)
            self.norm = nn.LayerNorm(32)
            self.head = nn.Linear(32, 3)

        def forward(self, tokens):
            x = self.emb(tokens) + self.pos[: tokens.shape[1]]
            return self.head(self.norm(self.encoder(x))[:, 0])

    class ConvNextish(nn.Module):
        """ConvNeXt's block (linear layers on channels-last positions, a layer scale) and
        ShuffleNet's split: shapes the exporter computes at run time."""
        def __init__(self):
            super().__init__()
            self.stem = nn.Conv2d(3, 16, 4, stride=4)
            self.dw = nn.Conv2d(16, 16, 7, padding=3, groups=16)
            self.norm = nn.LayerNorm(16)
            self.up = nn.Linear(16, 64)
            self.down = nn.Linear(64, 16)
            self.scale = nn.Parameter(torch.ones(16, 1, 1))
            self.mix = nn.Conv2d(8, 8, 1)
            self.head = nn.Linear(16, 4)

        def forward(self, x):
            x = self.stem(x)
            y = self.down(nn.functional.gelu(self.up(self.norm(self.dw(x).permute(0, 2, 3, 1)))))
            x = x + self.scale * y.permute(0, 3, 1, 2)
            left, right = x.chunk(2, dim=1)
            x = torch.cat([left, self.mix(right)], dim=1)
            return self.head(x.mean((2, 3)))

    return Tagger, Encoder, ConvNextish


def _bert(torch):
    """A small transformers BertModel (both outputs, so that the pooler is exported)."""
    transformers = fw.import_transformers()
    config = transformers.BertConfig(vocab_size=100, hidden_size=32, num_hidden_layers=2,
                                     num_attention_heads=4, intermediate_size=64,
                                     max_position_embeddings=16)

    class Bert(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.bert = transformers.BertModel(config)

        def forward(self, ids):
            out = self.bert(input_ids=ids)
            return out.last_hidden_state, out.pooler_output

    return Bert()


@pytest.fixture(scope="session")
def exported(tmp_path_factory):
    """name -> (onnx path, torch model) for every model the tests read."""
    torch = fw.need("torch")
    nn = torch.nn
    models = fw.import_torchvision().models
    folder = tmp_path_factory.mktemp("onnx")
    torch.manual_seed(0)
    image = torch.randn(1, 3, 64, 64)
    out = {}
    for name in ("resnet18", "mobilenet_v2", "densenet121", "efficientnet_b0",
                 "shufflenet_v2_x0_5"):
        model = getattr(models, name)(weights=None)
        out[name] = (_export(torch, model, (image,), folder / f"{name}.onnx"), model)
    vit = models.VisionTransformer(image_size=32, patch_size=16, num_layers=2, num_heads=4,
                                   hidden_dim=32, mlp_dim=64)
    out["vit"] = (_export(torch, vit, (torch.randn(1, 3, 32, 32),), folder / "vit.onnx"), vit)
    folded = models.resnet18(weights=None)
    out["resnet18-folded"] = (_export(torch, folded, (image,), folder / "folded.onnx",
                                      do_constant_folding=True), folded)
    tagger, encoder, convnextish = _sequence_models(torch, nn)
    block = convnextish()
    out["convnextish"] = (_export(torch, block, (image,), folder / "convnextish.onnx"), block)
    tokens = torch.randint(0, 50, (1, 7))
    for name, model in (("tagger", tagger()), ("encoder", encoder()), ("bert", _bert(torch))):
        out[name] = (_export(torch, model, (tokens,), folder / f"{name}.onnx"), model)
    return out


def _network(data, source="model.onnx"):
    return Network.from_spec(spec_from_data(data, source))


def _torch_count(model) -> int:
    floating, _ = fw.total_buffers(model)
    return fw.total_params(model) + floating


def _ours_by_module(net) -> dict[str, int]:
    """Our parameters + buffers per module path: an LSTM's layers (`lstm`, `lstm_2` …)
    together, a learned tensor (`encoder.pos_embedding`) at the module holding it."""
    counts: dict[str, int] = defaultdict(int)
    names = {info.name for info in net.layers}
    for info in net.layers:
        value = int(info.params) + int(info.buffers)
        if value:
            name = info.name
            stem = re.sub(r"_\d+$", "", name)   # the n-th layer of the same module
            name = stem if stem in names else name
            if info.kind == "tensor":
                name = name.rsplit(".", 1)[0] if "." in name else ""
            counts[name] += value
    return dict(counts)


@pytest.mark.parametrize("name", ["resnet18", "mobilenet_v2", "densenet121", "efficientnet_b0",
                                  "shufflenet_v2_x0_5", "convnextish", "vit", "tagger",
                                  "encoder", "bert"])
def test_onnx_export_counts_as_torch_does(exported, name):
    from symparams.importers.onnx_graph import spec_from_onnx
    path, model = exported[name]
    data = spec_from_onnx(path)
    net = _network(data, str(path))
    assert int(net.total) + int(net.buffers_total) == _torch_count(model)
    assert not data.get("notes"), data.get("notes")
    # module by module: every module holding parameters or float buffers is one of ours
    theirs = {c.path: c.params + c.buffers for c in fw.module_counts(model)
              if c.params + c.buffers}
    assert _ours_by_module(net) == theirs


def test_onnx_layers_keep_the_families(exported):
    from symparams.importers.onnx_graph import spec_from_onnx
    path, _ = exported["resnet18"]
    data = spec_from_onnx(path)
    assert data["input"] == [64, 64, 3]
    assert data.get("convention", "pytorch") == "pytorch"
    kinds = {entry["name"]: entry["type"] for entry in data["layers"]}
    assert kinds["conv1"] == "conv2d" and kinds["bn1"] == "batchnorm"
    assert kinds["layer1.0.conv1"] == "conv2d" and kinds["fc"] == "dense"
    conv1 = next(e for e in data["layers"] if e["name"] == "conv1")
    assert (conv1["kernel"], conv1["filters"], conv1["stride"], conv1["padding"]) == (7, 64, 2, 3)
    assert conv1["bias"] is False
    net = _network(data)
    assert tuple(int(v) for v in net["fc"].input_shape) == (512,)

    path, _ = exported["mobilenet_v2"]
    layers = spec_from_onnx(path)["layers"]
    depthwise = next(e for e in layers if e["name"] == "features.1.conv.0.0")
    assert depthwise["type"] == "depthwise_conv2d"
    assert any(e.get("function") == "relu6" for e in layers)

    path, _ = exported["tagger"]
    layers = spec_from_onnx(path)["layers"]
    lstm = [e for e in layers if e["type"] == "lstm"]
    assert [e["bidirectional"] for e in lstm] == [True, True]
    assert next(e for e in layers if e["name"] == "emb")["type"] == "embedding"


def test_constant_folding_is_counted_as_held_and_noted(exported):
    from symparams.importers.onnx_graph import spec_from_onnx
    path, model = exported["resnet18-folded"]
    onnx = fw.need("onnx")
    graph = onnx.load(str(path)).graph
    sizes = {init.name: _size(init) for init in graph.initializer
             if init.data_type == onnx.TensorProto.FLOAT}
    # the exporter keeps one of several equal tensors and Identity copies of it
    copies = [sizes[n.input[0]] for n in graph.node
              if n.op_type == "Identity" and n.input[0] in sizes]
    held = sum(sizes.values()) + sum(copies)
    data = spec_from_onnx(path)
    net = _network(data)
    assert int(net.total) + int(net.buffers_total) == held
    assert held != _torch_count(model)   # BatchNorm is gone, the convolutions have biases
    assert not any(e["type"] == "batchnorm" for e in data["layers"])
    assert any("constant folding" in note and "do_constant_folding=False" in note
               for note in data["notes"])


def _size(initializer) -> int:
    size = 1
    for dim in initializer.dims:
        size *= dim
    return size


# ------------------------------------------------------------------ hostile files

def _hostile_model(onnx, *, dims=(4, 3), external: str | None = None, op: str = "MatMul",
                   domain: str = ""):
    """A one-node graph y = op(x, W) whose initializer W is built here by hand."""
    from onnx import TensorProto, helper
    weight = TensorProto(name="W", data_type=TensorProto.FLOAT, dims=list(dims))
    if external is None:
        weight.raw_data = b"\0" * (4 * dims[0] * dims[1]) if dims[0] * dims[1] < 10**6 else b""
    else:
        weight.data_location = TensorProto.EXTERNAL
        for key, value in (("location", external), ("offset", "0"), ("length", "48")):
            entry = weight.external_data.add()
            entry.key, entry.value = key, value
    node = helper.make_node(op, ["x", "W"], ["y"], name="/proj/" + op, domain=domain)
    graph = helper.make_graph(
        [node], "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, dims[0]])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, dims[1]])], [weight])
    opsets = [helper.make_opsetid("", 17)] + ([helper.make_opsetid(domain, 1)] if domain else [])
    return helper.make_model(graph, opset_imports=opsets)


def _one_line(error: SymparamsError) -> str:
    text = str(error)
    assert "\n" not in text and len(text) <= 320, text
    return text


@pytest.mark.parametrize("content, expected", [
    (b"\x08\x07\x12\xff\xff\xff\xff\x0f garbage", "not an ONNX model"),
    (b"", "empty"),
    ("name: lenet\nlayers: []\n".encode(), "not an ONNX model"),
])
def test_files_that_are_not_onnx_are_refused_in_one_line(tmp_path, content, expected):
    from symparams.importers.onnx_graph import spec_from_onnx
    path = tmp_path / "model.onnx"
    path.write_bytes(content)
    with pytest.raises(SymparamsError) as caught:
        spec_from_onnx(path)
    assert expected in _one_line(caught.value) and "model.onnx" in str(caught.value)


def test_a_truncated_export_is_refused(exported, tmp_path):
    from symparams.importers.onnx_graph import spec_from_onnx
    path, _ = exported["resnet18"]
    cut = tmp_path / "cut.onnx"
    cut.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    with pytest.raises(SymparamsError) as caught:
        spec_from_onnx(cut)
    assert "cut.onnx" in _one_line(caught.value)


def test_absurd_dims_are_refused_without_allocating(tmp_path):
    from symparams.importers.onnx_graph import spec_from_onnx
    onnx = fw.need("onnx")
    path = tmp_path / "huge.onnx"
    onnx.save(_hostile_model(onnx, dims=(2**62, 3)), str(path))
    with pytest.raises(SymparamsError) as caught:
        spec_from_onnx(path)
    text = _one_line(caught.value)
    assert "W" in text and "huge.onnx" in text


def test_external_data_is_never_read(tmp_path):
    from symparams.importers.onnx_graph import spec_from_onnx
    onnx = fw.need("onnx")
    path = tmp_path / "outside.onnx"
    onnx.save(_hostile_model(onnx, external="../../../../etc/passwd"), str(path))
    data = spec_from_onnx(path)          # counted from dims alone: 4 × 3
    assert int(_network(data).total) == 12
    assert any("external" in note for note in data["notes"])


def test_an_unknown_op_holding_weights_is_an_error_or_opaque(tmp_path):
    from symparams.importers.onnx_graph import spec_from_onnx
    onnx = fw.need("onnx")
    path = tmp_path / "custom.onnx"
    onnx.save(_hostile_model(onnx, op="FancyProjection", domain="com.example"), str(path))
    with pytest.raises(SymparamsError) as caught:
        spec_from_onnx(path)
    text = _one_line(caught.value)
    for part in ("custom.onnx", "FancyProjection", "12", "--allow-unknown"):
        assert part in text
    data = spec_from_onnx(path, allow_unknown=True)
    opaque = [e for e in data["layers"] if e["type"] == "opaque"]
    assert [(e["op"], e["params"]) for e in opaque] == [("ONNX FancyProjection", 12)]
    net = _network(data)
    assert int(net.total) == 12 and any("FancyProjection" in w for w in net.warnings)


# ------------------------------------------------------------------ dynamic sizes

@pytest.fixture(scope="session")
def dynamic_exports(tmp_path_factory):
    """resnet18 with a dynamic image size, an LSTM with a dynamic sequence length."""
    torch = fw.need("torch")
    nn = torch.nn
    folder = tmp_path_factory.mktemp("dynamic")
    image = _export(torch, fw.import_torchvision().models.resnet18(weights=None),
                    (torch.randn(1, 3, 64, 64),), folder / "image.onnx", input_names=["image"],
                    dynamic_axes={"image": {0: "batch", 2: "height", 3: "width"}})

    class Sequence(nn.Module):
        def __init__(self):
            super().__init__()
            self.lstm = nn.LSTM(8, 16, batch_first=True)
            self.fc = nn.Linear(16, 2)

        def forward(self, x):
            return self.fc(self.lstm(x)[0])

    sequence = _export(torch, Sequence(), (torch.randn(1, 5, 8),), folder / "sequence.onnx",
                       input_names=["x"], dynamic_axes={"x": {0: "batch", 1: "sequence"}})
    return image, sequence


def test_dynamic_sizes_become_letters_and_input_fills_them(dynamic_exports):
    from symparams.importers.onnx_graph import spec_from_onnx
    image, sequence = dynamic_exports
    data = spec_from_onnx(image)
    assert data["input"] == ["H", "W", 3]
    net = _network(data)
    assert int(net.total) == fw.PUBLISHED_TOTALS["resnet18"]
    filled = spec_from_onnx(image, input_shape=(3, 96, 80))
    assert filled["input"] == [96, 80, 3]
    assert _network(filled)["layer4.1.conv2"].output_shape[:2] == (3, 3)
    data = spec_from_onnx(sequence)
    assert data["input"] == ["T", 8]
    lstm = next(e for e in data["layers"] if e["type"] == "lstm")
    assert lstm["hidden_size"] == 16
    assert int(_network(data).total) == 4 * 16 * (8 + 16 + 2) + 16 * 2 + 2
    with pytest.raises(SymparamsError) as caught:
        spec_from_onnx(image, input_shape=(3, 96))
    assert "--input" in _one_line(caught.value)
    with pytest.raises(SymparamsError) as caught:    # a fixed size cannot be changed
        spec_from_onnx(sequence, input_shape=(7, 9))
    assert "fixed" in _one_line(caught.value)


def test_resnet50_from_onnx_and_from_torch_give_the_same_layers(tmp_path):
    # The done-when: the ONNX export and torch:torchvision.models:resnet50 agree,
    # layer by layer (kind, parameters, buffers) and in total.
    from symparams.importers.onnx_graph import spec_from_onnx
    from symparams.importers.torch_fx import spec_from_torch
    torch = fw.need("torch")
    model = fw.import_torchvision().models.resnet50(weights=None)
    path = _export(torch, model, (torch.randn(1, 3, 64, 64),), tmp_path / "resnet50.onnx")
    from_onnx = _network(spec_from_onnx(path), str(path))
    from_torch = _network(spec_from_torch(model, (3, 64, 64)), "torch")

    def counted(net):
        return {info.name: (info.kind, int(info.params), int(info.buffers))
                for info in net.layers if info.params or info.buffers}
    assert counted(from_onnx) == counted(from_torch)
    assert len(counted(from_onnx)) == 53 + 53 + 1      # convolutions, BatchNorms, fc
    assert from_onnx.total == from_torch.total == fw.PUBLISHED_TOTALS["resnet50"]
    assert from_onnx.buffers_total == from_torch.buffers_total


# ------------------------------------------------------------------ the command line

def test_count_reads_an_onnx_file(exported):
    path, model = exported["resnet18"]
    done = run_cli("count", path, "--json")
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["total"] == fw.total_params(model)
    assert result["warnings"] == []
    folded = run_cli("count", exported["resnet18-folded"][0], "--json")
    assert any("do_constant_folding=False" in w for w in json.loads(folded.stdout)["warnings"])


def _hostile_files(folder, exported):
    onnx = fw.need("onnx")
    files = {"corrupt.onnx": b"\x08\x07\x12\xff\xff\xff\xff\x0f garbage", "empty.onnx": b"",
             "text.onnx": b"name: lenet\nlayers: []\n",
             "cut.onnx": exported["resnet18"][0].read_bytes()[:100_000]}
    for name, content in files.items():
        (folder / name).write_bytes(content)
    onnx.save(_hostile_model(onnx, dims=(2**62, 3)), str(folder / "huge.onnx"))
    onnx.save(_hostile_model(onnx, op="FancyProjection", domain="com.example"),
              str(folder / "custom.onnx"))
    return sorted(folder.glob("*.onnx"))


def test_hostile_onnx_files_are_one_line_exit_2_nothing_written(exported, tmp_path):
    inputs = tmp_path / "in"
    inputs.mkdir()
    for path in _hostile_files(inputs, exported):
        out = tmp_path / f"out-{path.stem}"
        done = run_cli("report", path, "--format", "md", "-o", out)
        assert done.returncode == 2, (path.name, done.stderr)
        lines = done.stderr.strip().splitlines()
        assert len(lines) == 1 and path.name in lines[0], (path.name, done.stderr)
        assert "Traceback" not in done.stderr
        assert not out.exists() or not any(out.iterdir())
    # the unknown op: opaque with --allow-unknown, and its warning in the output
    done = run_cli("count", inputs / "custom.onnx", "--allow-unknown", "--json")
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["total"] == 12
    assert any("FancyProjection" in warning for warning in result["warnings"])


def test_weights_inside_a_control_flow_branch_are_never_a_silent_zero(tmp_path):
    from symparams.importers.onnx_graph import spec_from_onnx
    onnx = fw.need("onnx")
    from onnx import TensorProto, helper
    weight = helper.make_tensor("W", TensorProto.FLOAT, [4, 3], [0.0] * 12)
    out = [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 3])]
    branch = helper.make_graph([helper.make_node("MatMul", ["x", "W"], ["y"])], "then", [],
                               out, [weight])
    other = helper.make_graph([helper.make_node("Slice", ["x", "s", "e", "a"], ["y"])],
                              "else", [], out)
    nodes = [helper.make_node("ReduceMax", ["x"], ["m"], keepdims=0),
             helper.make_node("Cast", ["m"], ["c"], to=TensorProto.BOOL),
             helper.make_node("If", ["c"], ["y"], name="/gate/If", then_branch=branch,
                              else_branch=other)]
    constants = [helper.make_tensor(n, TensorProto.INT64, [1], [v])
                 for n, v in (("s", 0), ("e", 3), ("a", 1))]
    graph = helper.make_graph(nodes, "g", [helper.make_tensor_value_info(
        "x", TensorProto.FLOAT, [1, 4])], out, constants)
    path = tmp_path / "branch.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), str(path))
    with pytest.raises(SymparamsError) as caught:
        spec_from_onnx(path)
    text = _one_line(caught.value)
    assert "If" in text and "12" in text and "--allow-unknown" in text
    assert int(_network(spec_from_onnx(path, allow_unknown=True)).total) == 12


def _tied_models(torch, nn):
    class TiedHead(nn.Module):
        """Embedding, a layer norm and a Linear head whose weight is the embedding's."""
        def __init__(self):
            super().__init__()
            self.wte = nn.Embedding(40, 16)
            self.norm = nn.LayerNorm(16)
            self.head = nn.Linear(16, 40, bias=False)
            self.head.weight = self.wte.weight

        def forward(self, tokens):
            return self.head(self.norm(self.wte(tokens)))

    class SharedLinear(nn.Module):
        """One Linear applied twice, and a second Linear sharing its weight (no embedding)."""
        def __init__(self):
            super().__init__()
            self.first = nn.Linear(12, 12)
            self.second = nn.Linear(12, 12)
            self.second.weight = self.first.weight

        def forward(self, x):
            return self.second(torch.relu(self.first(self.first(x))))

    return TiedHead(), SharedLinear()


@pytest.fixture(scope="session")
def tied_exports(tmp_path_factory):
    """name -> (onnx path, torch model): heads tied to an embedding, weights shared by dense
    layers; exported without constant folding, as the README says."""
    torch = fw.need("torch")
    transformers = fw.import_transformers()
    folder = tmp_path_factory.mktemp("onnx-tied")
    torch.manual_seed(0)
    config = transformers.GPT2Config(vocab_size=64, n_positions=16, n_embd=16, n_layer=1,
                                     n_head=2, use_cache=False, bos_token_id=0,
                                     eos_token_id=0)

    class GPT2(torch.nn.Module):
        """The logits; an all-ones attention mask keeps transformers' packed-sequence
        check (torch.diff, which the TorchScript exporter has no symbolic for) out."""
        def __init__(self):
            super().__init__()
            self.gpt2 = transformers.GPT2LMHeadModel(config)

        def forward(self, ids):
            return self.gpt2(input_ids=ids, attention_mask=torch.ones_like(ids)).logits

    gpt2 = GPT2()
    tied, shared = _tied_models(torch, torch.nn)
    tokens = torch.randint(0, 40, (1, 6))
    return {"gpt2": (_export(torch, gpt2, (tokens,), folder / "gpt2.onnx"), gpt2),
            "tied": (_export(torch, tied, (tokens,), folder / "tied.onnx"), tied),
            "shared": (_export(torch, shared, (torch.randn(1, 12),), folder / "shared.onnx"),
                       shared)}


@pytest.mark.parametrize("name, head, embedding", [("gpt2", "gpt2.lm_head",
                                                    "gpt2.transformer.wte"),
                                                   ("tied", "head", "wte")])
def test_a_head_tied_to_the_embedding_says_tie_and_counts_once(tied_exports, name, head,
                                                                embedding):
    from symparams.importers.onnx_graph import spec_from_onnx
    path, model = tied_exports[name]
    data = spec_from_onnx(path)
    net = _network(data, str(path))
    assert int(net.total) + int(net.buffers_total) == _torch_count(model)
    entry = next(e for e in data["layers"] if e["name"] == head)
    assert entry["type"] == "dense" and entry["tie"] == embedding
    info = next(i for i in net.layers if i.name == head)
    assert int(info.params) == 0                        # counted at the embedding, once
    assert any(embedding in note for note in info.step.notes)   # the step says where


def test_a_weight_shared_by_dense_layers_is_counted_once(tied_exports):
    from symparams.importers.onnx_graph import spec_from_onnx
    path, model = tied_exports["shared"]
    data = spec_from_onnx(path)
    net = _network(data, str(path))
    assert int(net.total) + int(net.buffers_total) == _torch_count(model) == 12 * 12 + 2 * 12
    counts = {info.name: int(info.params) for info in net.layers}
    assert counts["first"] == 12 * 12 + 12 and counts["second.bias"] == 12
    entries = {e["name"]: e for e in data["layers"]}
    for sharer in ("first_1", "second"):       # first called again; second reusing its weight
        assert entries[sharer]["type"] == "opaque" and "first's" in entries[sharer]["op"]
        assert counts[sharer] == 0
    assert not net.warnings                    # no opaque layer holds parameters
