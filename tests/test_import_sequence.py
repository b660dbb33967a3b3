"""Importing sequence models from PyTorch: torch.nn's embeddings, recurrent, attention
and transformer layers, and Hugging Face transformers' BERT, GPT-2, DistilBERT and ViT,
which torch.fx cannot trace, through the leaf-module walk (importers/torch_leaves.py).

Every import is cross-checked both ways against PyTorch itself: the imported total
equals the sum of the unique parameters' numel(), and each layer's count equals the
parameters of the module (or the tensor) it was read from.
"""
from __future__ import annotations

import json
import os

import pytest

import frameworks as fw
from conftest import ROOT, run_cli
from symparams import Network, SymparamsError
from symparams.spec import spec_from_data

pytestmark = pytest.mark.frameworks


@pytest.fixture(scope="module")
def torch():
    return fw.need("torch")


@pytest.fixture(scope="module")
def nn(torch):
    return torch.nn


@pytest.fixture(scope="module")
def transformers():
    return fw.import_transformers()


def leaves_spec(model, input_shape, allow_unknown=False):
    from symparams.importers.torch_leaves import spec_from_leaves
    return spec_from_leaves(model, input_shape, name="model", allow_unknown=allow_unknown,
                            source="torch:test", reason="test")


def imported(model, input_shape, allow_unknown=False):
    data = leaves_spec(model, input_shape, allow_unknown)
    return data, Network.from_spec(spec_from_data(data, source="torch:test"))


def assert_counts_match(model, net):
    """The total, and every layer against the module (or parameter) it was read from."""
    assert int(net.total) == fw.total_params(model)
    params = dict(model.named_parameters())      # shared tensors once, at the first name
    paths = {path for path, _ in model.named_modules() if path}
    ours: dict[str, int] = {}
    for info in net.layers:
        if not info.layer.has_params:
            continue
        if info.name in params:                   # a tensor layer: one parameter
            assert int(info.params) == params[info.name].numel(), info.name
            continue
        path = max((p for p in paths if info.name == p or info.name.startswith(p + ".")),
                   key=len, default="")          # "": the model is itself one leaf
        ours[path] = ours.get(path, 0) + int(info.params)
    for path, count in ours.items():
        assert count == fw.subtree_params(model, path), (path, count)


def kinds(data):
    return {entry["name"]: entry["type"] for entry in data["layers"]}


# ------------------------------------------------------------------ torch.nn layers

def test_recurrent_variants_count_as_pytorch(torch, nn):
    with torch.device("meta"):
        models = [
            nn.Sequential(nn.Embedding(50, 12), nn.LSTM(12, 20, batch_first=True)),
            nn.Sequential(nn.Embedding(50, 12),
                          nn.GRU(12, 8, num_layers=3, bidirectional=True, batch_first=True)),
            nn.Sequential(nn.Embedding(50, 12),
                          nn.RNN(12, 6, num_layers=2, bias=False, batch_first=True)),
            nn.Sequential(nn.Embedding(50, 12),
                          nn.LSTM(12, 5, num_layers=2, bidirectional=True, batch_first=True)),
        ]
    expected = ["lstm", "gru", "rnn", "lstm"]
    for model, kind in zip(models, expected):
        data, net = imported(model, (7,))
        assert kinds(data)["1"] == kind
        assert_counts_match(model, net)
        width = model[1].hidden_size * (2 if model[1].bidirectional else 1)
        assert net["1"].output_shape == (7, width)


def test_sequence_first_recurrent_layer_reads_the_time_axis(torch, nn):
    with torch.device("meta"):
        model = nn.GRU(10, 4)                          # batch_first=False: (T, N, x)
    data, net = imported(model, (9, 10))
    assert data["input"] == [9, 10]
    assert net.layers[-1].output_shape == (9, 4)
    assert_counts_match(model, net)


def test_projected_lstm_is_refused_in_one_line_or_opaque(torch, nn):
    with torch.device("meta"):
        model = nn.Sequential(nn.Embedding(30, 8), nn.LSTM(8, 16, proj_size=4, batch_first=True))
    with pytest.raises(SymparamsError) as error:
        leaves_spec(model, (5,))
    message = str(error.value)
    assert "\n" not in message and "LSTM" in message and "proj_size" in message
    assert f"{model[1].weight_hr_l0.numel() + 4 * 16 * 8 + 4 * 16 * 4 + 8 * 16:,}" in message
    assert "--allow-unknown" in message
    data, net = imported(model, (5,), allow_unknown=True)
    assert kinds(data)["1"] == "opaque"
    assert int(net.total) == fw.total_params(model)
    assert any("1" in warning for warning in net.warnings)


def test_multihead_attention_self_and_cross(torch, nn):
    class Attend(nn.Module):
        def __init__(self, cross, **kw):
            super().__init__()
            self.cross = cross
            self.embed = nn.Embedding(40, 16)
            self.memory = nn.Linear(16, 10)
            self.attn = nn.MultiheadAttention(16, 4, batch_first=True, **kw)

        def forward(self, ids):
            x = self.embed(ids)
            if not self.cross:
                return self.attn(x, x, x)[0]
            memory = self.memory(x)
            return self.attn(x, memory, memory)[0]

    with torch.device("meta"):
        plain = Attend(False)
        cross = Attend(True, kdim=10, vdim=10, add_bias_kv=True)
        no_bias = Attend(False, bias=False)
    for model in (plain, cross, no_bias):
        data, net = imported(model, (6,))
        assert kinds(data)["attn"] == "multihead_attention"
        assert net["attn"].output_shape == (6, 16)
        assert_counts_match(model, net)
    data, _ = imported(cross, (6,))
    entry = next(e for e in data["layers"] if e["name"] == "attn")
    assert entry["inputs"][1] == "memory"          # keys and values: the memory's output
    assert (entry["kdim"], entry["vdim"], entry["add_bias_kv"]) == (10, 10, True)


def test_transformer_layers_and_embedding_fields(torch, nn):
    class Seq2Seq(nn.Module):
        def __init__(self):
            super().__init__()
            self.embed = nn.Embedding(60, 32, padding_idx=0, max_norm=1.0)
            self.encoder = nn.TransformerEncoderLayer(32, 4, dim_feedforward=64,
                                                      batch_first=True)
            self.decoder = nn.TransformerDecoderLayer(32, 8, dim_feedforward=48,
                                                      norm_first=True, batch_first=True)

        def forward(self, ids):
            x = self.embed(ids)
            return self.decoder(x, self.encoder(x))

    with torch.device("meta"):
        model = Seq2Seq()
    data, net = imported(model, (11,))
    by_name = {entry["name"]: entry for entry in data["layers"]}
    assert by_name["embed"]["padding_idx"] == 0
    assert kinds(data)["encoder"] == "transformer_encoder"
    assert by_name["decoder"]["type"] == "transformer_decoder"
    assert by_name["decoder"]["inputs"] == ["embed", "encoder"]     # target and memory
    assert_counts_match(model, net)
    with torch.device("meta"):
        seq_first = nn.TransformerEncoderLayer(24, 3, dim_feedforward=40)   # (T, N, E)
        no_bias = nn.TransformerEncoderLayer(24, 3, dim_feedforward=40, bias=False,
                                             batch_first=True)
    for model in (seq_first, no_bias):
        _, net = imported(model, (5, 24))
        assert net.layers[-1].output_shape == (5, 24)
        assert_counts_match(model, net)


def test_a_whole_nn_transformer_takes_the_encoders_output_as_memory(torch, nn):
    class Wrapped(nn.Module):
        def __init__(self):
            super().__init__()
            self.transformer = nn.Transformer(16, 2, num_encoder_layers=2, num_decoder_layers=2,
                                              dim_feedforward=24, batch_first=True)

        def forward(self, x):
            return self.transformer(x, x)

    with torch.device("meta"):
        model = Wrapped()
    data, net = imported(model, (6, 16))
    by_name = {entry["name"]: entry for entry in data["layers"]}
    for index in (0, 1):
        decoder = by_name[f"transformer.decoder.layers.{index}"]
        assert decoder["type"] == "transformer_decoder"
        assert decoder["inputs"][-1] == "transformer.encoder.norm"   # the memory
    assert_counts_match(model, net)


def test_embedding_bags_cells_and_frozen_tables(torch, nn):
    class Bags(nn.Module):
        def __init__(self):
            super().__init__()
            self.bag = nn.EmbeddingBag(50, 8, mode="mean")
            self.cell = nn.LSTMCell(8, 12)

        def forward(self, ids):
            return self.cell(self.bag(ids))[0]

    with torch.device("meta"):
        model = Bags()
    model.bag.weight.requires_grad_(False)
    data, net = imported(model, (7,))                # one bag of 7 ids
    assert [e["type"] for e in data["layers"]] == ["embedding", "global_avg_pool", "reshape",
                                                   "lstm"]
    assert data["layers"][0]["trainable"] is False
    assert net["bag.1"].output_shape == (8,) and net["cell.1"].output_shape == (12,)
    assert int(net.non_trainable_total) == 50 * 8
    assert int(net.trainable_total) == sum(p.numel() for p in model.cell.parameters())
    assert_counts_match(model, net)


def test_tied_output_projection_is_counted_once(torch, nn):
    class TinyLM(nn.Module):
        def __init__(self):
            super().__init__()
            self.embed = nn.Embedding(100, 16)
            self.head = nn.Linear(16, 100, bias=False)
            self.head.weight = self.embed.weight

        def forward(self, ids):
            return self.head(self.embed(ids))

    with torch.device("meta"):
        model = TinyLM()
    data, net = imported(model, (8,))
    head = next(e for e in data["layers"] if e["name"] == "head")
    assert head["tie"] == "embed"
    assert int(net.total) == 100 * 16 == fw.total_params(model)
    assert_counts_match(model, net)


def test_the_walk_does_not_move_or_copy_real_weights(torch, nn):
    model = nn.Sequential(nn.Embedding(20, 4), nn.GRU(4, 3, batch_first=True))
    model.train()
    before = {name: (p.data_ptr(), p.device) for name, p in model.named_parameters()}
    data, net = imported(model, (5,))
    assert {name: (p.data_ptr(), p.device) for name, p in model.named_parameters()} == before
    assert model.training and all(m.training for m in model.modules())
    assert_counts_match(model, net)


def test_a_module_with_parameters_and_no_family_is_named(torch, nn):
    class Gain(nn.Module):
        def __init__(self):
            super().__init__()
            self.g = nn.Parameter(torch.ones(6))

        def forward(self, x):
            return x * self.g

    with torch.device("meta"):
        model = nn.Sequential(nn.Embedding(9, 6), Gain())
    with pytest.raises(SymparamsError) as error:
        leaves_spec(model, (3,))
    message = str(error.value)
    assert "torch:test" in message and "1" in message and "Gain" in message
    assert " 6 " in message or "6 parameters" in message
    assert "--allow-unknown" in message and "\n" not in message
    data, net = imported(model, (3,), allow_unknown=True)
    assert int(net.total) == 9 * 6 + 6


def test_data_dependent_control_flow_runs_once_on_zeros(torch, nn):
    class Branchy(nn.Module):
        def __init__(self):
            super().__init__()
            self.a, self.b, self.skipped = nn.Linear(4, 8), nn.Linear(8, 2), nn.Linear(8, 3)

        def forward(self, x):
            y = self.a(x)
            return self.skipped(y) if y.sum() > 1e6 else self.b(y)

    model = Branchy()                                 # real weights: one real pass on zeros
    with pytest.raises(Exception):
        torch.fx.symbolic_trace(model)                # fx cannot follow the branch
    data, net = imported(model, (4,))
    assert [e["name"] for e in data["layers"]][:2] == ["a", "b"]
    assert any("data-dependent" in note for note in data["notes"])
    assert any("skipped" in note for note in data["notes"])   # unused: counted as tensors
    assert int(net.total) == fw.total_params(model)
    with torch.device("meta"):
        model = Branchy()
    with pytest.raises(SymparamsError, match="meta device"):
        leaves_spec(model, (4,))


def test_floating_point_buffers_are_held_by_opaque_layers(torch, nn):
    class Rotary(nn.Module):                          # no parameters, no family, a float table
        def __init__(self):
            super().__init__()
            self.register_buffer("inv_freq", torch.ones(4))

        def forward(self, x):
            return x * self.inv_freq.sum()

    class Model(nn.Module):
        def __init__(self):
            super().__init__()
            self.embed, self.rotary = nn.Embedding(10, 8), Rotary()
            self.register_buffer("scale", torch.ones(8))   # a container's own buffer
            self.unused = nn.BatchNorm1d(8)               # never called: its statistics still count

        def forward(self, ids):
            return self.rotary(self.embed(ids)) * self.scale

    with torch.device("meta"):
        model = Model()
    data, net = imported(model, (5,))
    by_name = {entry["name"]: entry for entry in data["layers"]}
    assert by_name["rotary"] == {"name": "rotary", "type": "opaque",
                                 "op": f"{Rotary.__module__}.{Rotary.__qualname__}",
                                 "output": [5, 8], "buffers": 4}
    assert by_name["buffers"]["buffers"] == 8 and by_name["unused.buffers"]["buffers"] == 16
    assert int(net.buffers_total) == 4 + 8 + 16 == sum(
        b.numel() for b in model.buffers() if b.is_floating_point())
    assert int(net.total) == fw.total_params(model)


def test_a_module_called_twice_counts_once(torch, nn):
    class Twice(nn.Module):
        def __init__(self):
            super().__init__()
            self.embed, self.shared = nn.Embedding(10, 6), nn.Linear(6, 6)

        def forward(self, ids):
            return self.shared(torch.relu(self.shared(self.embed(ids))))

    with torch.device("meta"):
        model = Twice()
    data, net = imported(model, (3,))
    again = [e for e in data["layers"] if e["type"] == "opaque"]
    assert len(again) == 1 and "counted at shared" in again[0]["op"]
    relu = next(e for e in data["layers"] if e["type"] == "activation")
    assert relu["function"] == "relu" and relu.get("inputs", ["shared"]) == ["shared"]
    assert int(net.total) == 10 * 6 + 6 * 6 + 6 == fw.total_params(model)


# --------------------------------------------------------- transformers' models

def small_models(transformers, torch):
    t = transformers
    with torch.device("meta"):
        return {
            "bert": (t.BertModel(t.BertConfig(
                vocab_size=120, hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
                intermediate_size=64, max_position_embeddings=40)), (16,)),
            "gpt2": (t.GPT2LMHeadModel(t.GPT2Config(
                vocab_size=120, n_embd=32, n_layer=2, n_head=4, n_positions=40,
                bos_token_id=0, eos_token_id=0)), (16,)),
            "distilbert": (t.DistilBertModel(t.DistilBertConfig(
                vocab_size=120, dim=32, n_layers=2, n_heads=4, hidden_dim=64,
                max_position_embeddings=40)), (16,)),
            "vit": (t.ViTModel(t.ViTConfig(
                hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
                intermediate_size=64, image_size=32, patch_size=8)), (3, 32, 32)),
        }


@pytest.fixture(scope="module")
def small(transformers, torch):
    return small_models(transformers, torch)


@pytest.mark.parametrize("name", ["bert", "gpt2", "distilbert", "vit"])
def test_transformers_models_import_through_the_leaf_walk(small, name):
    model, shape = small[name]
    data, net = imported(model, shape)
    assert_counts_match(model, net)
    assert any("layers were read in call order" in note for note in data["notes"])
    assert net.notes == tuple(data["notes"]) or list(net.notes) == data["notes"]


def test_llama_rms_norms_rotary_table_and_gated_mlp(transformers, torch):
    config = transformers.LlamaConfig(vocab_size=100, hidden_size=32, num_hidden_layers=2,
                                      num_attention_heads=4, num_key_value_heads=2,
                                      intermediate_size=64)
    with torch.device("meta"):
        model = transformers.LlamaModel(config)
    data, net = imported(model, (16,))
    assert_counts_match(model, net)
    by_name = {entry["name"]: entry for entry in data["layers"]}
    norm = by_name["layers.0.input_layernorm"]
    assert (norm["type"], norm["center"]) == ("layernorm", False)      # γ of E, no β
    assert by_name["rotary_emb"]["buffers"] == sum(b.numel() for b in model.rotary_emb.buffers())
    gate = next(e for e in data["layers"] if e["type"] == "multiply")   # act(gate) * up
    assert "layers.0.mlp.up_proj" in gate["inputs"]


@pytest.mark.parametrize("name", ["convnext_tiny"])
def test_torchvision_models_through_the_leaf_walk(torch, name):
    # fx traces these (torch_fx.py); read leaf by leaf they must count the same: Linear on
    # [H, W, C] grids, ConvNeXt's LayerNorm2d over channels and layer scales as tensors
    models = fw.import_torchvision().models
    with torch.device("meta"):
        model = getattr(models, name)(weights=None)
    data, net = imported(model, (3, 64, 64))
    assert_counts_match(model, net)
    assert "functional code" in data["notes"][0]                 # the joins were read


def test_gpt2_lm_head_is_tied_and_gaps_are_shape_checked(small):
    model, shape = small["gpt2"]
    data, net = imported(model, shape)
    by_name = {entry["name"]: entry for entry in data["layers"]}
    names = [entry["name"] for entry in data["layers"]]
    assert by_name["lm_head"]["tie"] == "transformer.wte"
    assert by_name["transformer.h.0.attn.c_attn"] == {
        "name": "transformer.h.0.attn.c_attn", "type": "dense", "units": 96}
    # c_attn gives 3 × 32 values, c_proj takes 32: the functional attention between them
    # (split into q, k, v and heads, scaled dot-product attention) is one opaque layer
    core = by_name[names[names.index("transformer.h.0.attn.c_proj") - 1]]
    assert core["type"] == "opaque" and core["output"] == [16, 32]
    assert core["op"].startswith("torch ") and "scaled_dot_product_attention" in core["op"]
    assert "inputs" not in core                      # it takes c_attn, the layer before it
    # the residual connections: x + attn(ln_1(x)), then + mlp(ln_2(·))
    first, second = (by_name[n] for n in names if by_name[n]["type"] == "add"
                     and "transformer.h.0" in str(by_name[n]["inputs"]))
    assert first["inputs"] == ["transformer.h.0.attn.resid_dropout", "transformer.drop"]
    assert first["name"] in second["inputs"] and "transformer.h.0.mlp.dropout" in second["inputs"]
    assert net["lm_head"].output_shape == (16, 120)


def test_bert_joins_are_the_real_graph(small):
    data, net = imported(*small["bert"])
    by_name = {entry["name"]: entry for entry in data["layers"]}
    prefix = "encoder.layer.0.attention."
    # query, key and value all read the embeddings' output, not each other
    for part in ("key", "value"):
        assert by_name[f"{prefix}self.{part}"]["inputs"] == ["embeddings.dropout"]
    core = next(e for e in data["layers"] if e["type"] == "opaque"
                and f"{prefix}self.query" in e.get("inputs", []))
    assert core["inputs"] == [f"{prefix}self.query", f"{prefix}self.key", f"{prefix}self.value"]
    residual = next(e for e in data["layers"] if e["type"] == "add"
                    and f"{prefix}output.dropout" in e["inputs"])
    assert residual["inputs"] == [f"{prefix}output.dropout", "embeddings.dropout"]
    # the word, token-type and position embeddings are added
    assert [e["type"] for e in data["layers"][5:7]] == ["add", "add"]
    # the pooler reads the first token: a slice, shape [E]
    assert net["pooler.dense"].input_shape == (32,)
    assert [info.name for info in net.outputs] == ["pooler.activation"]


def test_the_call_order_is_the_fallback_when_the_joins_do_not_build(small, monkeypatch):
    from symparams.importers import torch_leaves
    real, calls = torch_leaves._network, []

    def first_fails(data, source):
        calls.append(data)
        if len(calls) == 1:
            raise SymparamsError("a layout guessed wrongly", file=source)
        return real(data, source)

    monkeypatch.setattr(torch_leaves, "_network", first_fails)
    model, shape = small["distilbert"]
    data, net = imported(model, shape)
    assert len(calls) == 2
    assert "the graph's joins are not shown" in data["notes"][0]
    assert not any(e["type"] == "add" for e in data["layers"])   # one chain, in call order
    assert_counts_match(model, net)


def test_token_ids_are_integers_and_images_float(small):
    # BERT's first leaf is an embedding: its input is int64 token ids, [T] in our layout
    data, _ = imported(*small["bert"])
    assert data["input"] == [16] and data["layers"][0]["type"] == "embedding"
    assert "int64 token ids" in data["notes"][0]
    # ViT's first leaf is a convolution: a float image, channels last for us
    data, net = imported(*small["vit"])
    assert net.input_shape == (32, 32, 3) and "float32" in data["notes"][0]
    by_name = {entry["name"]: entry for entry in data["layers"]}
    # ViTEmbeddings holds these itself: tensor layers, entered before the patch convolution
    assert by_name["embeddings.cls_token"] == {"name": "embeddings.cls_token", "type": "tensor",
                                               "shape": [1, 32], "inputs": []}
    assert by_name["embeddings.position_embeddings"]["shape"] == [17, 32]   # 4 × 4 patches + 1
    assert by_name["embeddings.patch_embeddings.projection"]["inputs"] == ["INPUT"]
    assert net["embeddings.patch_embeddings.projection"].output_shape == (4, 4, 32)
    # the class token joins the 16 patch tokens (axis 0 of [T, E]), then the positions are added
    join = next(e for e in data["layers"] if e["type"] == "concat")
    assert join["axis"] == 0 and net[join["name"]].output_shape == (17, 32)
    assert net[join["inputs"][0]].layer.kind == "opaque"            # the expanded class token
    added = next(e for e in data["layers"] if e["type"] == "add")
    assert added["inputs"] == [join["name"], "embeddings.position_embeddings"]


TINY_BERT = """
import os
os.environ.setdefault("HF_HUB_OFFLINE", "1")
import torch
from transformers import BertConfig, BertModel

def tiny_bert():
    config = BertConfig(vocab_size=100, hidden_size=16, num_hidden_layers=1,
                        num_attention_heads=2, intermediate_size=32, max_position_embeddings=20)
    with torch.device("meta"):
        return BertModel(config)
"""


def test_symbolic_count_of_an_imported_bert_from_the_command_line(transformers, tmp_path):
    (tmp_path / "seq_factories.py").write_text(TINY_BERT, "utf-8")
    path = os.pathsep.join([str(tmp_path), str(ROOT / "tests"), str(ROOT)])
    proc = run_cli("count", "torch:seq_factories:tiny_bert", "--input", "12", "--symbolic",
                   "--json", env={"PYTHONPATH": path})
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert any("fx could not trace" in warning for warning in out["warnings"])
    layers = {layer["name"]: layer for layer in out["layers"]}
    # item 7: the word embedding is V × E in letters; the hidden size is a letter too
    word = layers["embeddings.word_embeddings"]
    assert "V" in str(word["formula"]) and "E" in str(word["formula"])
    assert any(ch.isalpha() for ch in str(out["total_symbolic"]))


def test_full_size_bert_and_symbolic_formulas(transformers):
    model = fw.reference_model("bert-base")
    data, net = imported(model, (128,))
    assert int(net.total) == fw.PUBLISHED_TOTALS["bert-base"]
    assert_counts_match(model, net)
    # item 7: the imported model's formulas in letters ("what if the hidden size were h?")
    sym = net.symbolic()
    word = sym["embeddings.word_embeddings"].params
    assert len(word.free_symbols) == 2                      # V × E
    query = sym["encoder.layer.0.attention.self.query"].params
    assert query.free_symbols and not query.is_number       # its units and its input's width
    assert len(sym.total.free_symbols) > 20
    model = fw.reference_model("gpt2")                  # full size, lm_head tied to wte
    _, net = imported(model, (64,))
    assert int(net.total) == fw.PUBLISHED_TOTALS["gpt2"] == fw.total_params(model)
