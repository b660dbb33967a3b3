"""Sequence presets: bert-base, gpt2, lstm-lm and transformer-classifier.

Each total is checked through ``count``, ``count --json`` and the API, and each
layer's count against the framework's modules (transformers' BertModel and
GPT2LMHeadModel built offline from their configs; torch.nn modules for the teaching
presets), matched by sums of the modules a layer stands for: HF's BERT has separate
query/key/value Linear layers and GPT-2 a Conv1D c_attn, which count what one
multi-head attention counts.
"""
from __future__ import annotations

import json

import pytest

import frameworks as fw
from conftest import run_cli
from symparams import load
from symparams.render.report import build_report

TOTALS = {"bert-base": 109_482_240, "gpt2": 124_439_808,
          "lstm-lm": 4_653_200, "transformer-classifier": 1_388_290}


@pytest.mark.parametrize("name", sorted(TOTALS))
def test_sequence_presets_give_their_totals_everywhere(name):
    assert load(name).total == TOTALS[name]
    done = run_cli("count", name, "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["total"] == TOTALS[name]
    table = run_cli("count", name)
    assert table.returncode == 0, table.stderr
    assert f"{TOTALS[name]:,}" in table.stdout


def test_published_totals_are_the_frameworks():
    assert TOTALS["bert-base"] == fw.PUBLISHED_TOTALS["bert-base"]
    assert TOTALS["gpt2"] == fw.PUBLISHED_TOTALS["gpt2"]


@pytest.mark.parametrize("name, block, path", [("bert-base", "bert_layer", "encoder.layer"),
                                               ("gpt2", "gpt2_block", "h")])
def test_transformer_presets_are_one_block_repeated_with_hugging_faces_names(name, block, path):
    net = load(name)
    layers = [info for info in net.layers if info.kind == "transformer_encoder"]
    assert [info.name for info in layers] == [f"{path}.{i}.0" for i in range(12)]
    assert [[(b.path, b.block) for b in info.blocks] for info in layers] == \
        [[(f"{path}.{i}", block)] for i in range(12)]
    assert all(info.params == layers[0].params for info in layers)


def by_modules(net, model, pairs: dict[str, list[str]]) -> list[str]:
    """Disagreements between each named layer and the sum of its framework modules."""
    problems = []
    for ours, paths in pairs.items():
        theirs = sum(fw.subtree_params(model, path) for path in paths)
        if net[ours].params != theirs:
            problems.append(f"{ours}: symparams {net[ours].params}, framework {theirs} ({paths})")
    return problems


@pytest.mark.frameworks
def test_bert_base_matches_transformers_layer_by_layer():
    fw.need("transformers")
    net, model = load("bert-base"), fw.reference_model("bert-base")
    pairs = {"WORD": ["embeddings.word_embeddings"],
             "POSITION": ["embeddings.position_embeddings"],
             "TOKEN_TYPE": ["embeddings.token_type_embeddings"],
             "EMBED_NORM": ["embeddings.LayerNorm"], "POOLER": ["pooler"],
             **{f"encoder.layer.{i}.0": [f"encoder.layer.{i}"] for i in range(12)}}
    assert by_modules(net, model, pairs) == []
    counted = {n for n in pairs}
    assert all(info.params == 0 for info in net.layers if info.name not in counted)
    assert net.total == fw.total_params(model)


@pytest.mark.frameworks
def test_gpt2_matches_transformers_layer_by_layer_with_the_head_tied():
    fw.need("transformers")
    net, model = load("gpt2"), fw.reference_model("gpt2")
    pairs = {"WTE": ["transformer.wte"], "WPE": ["transformer.wpe"],
             "LN_F": ["transformer.ln_f"], "LM_HEAD": ["lm_head"],
             **{f"h.{i}.0": [f"transformer.h.{i}"] for i in range(12)}}
    assert by_modules(net, model, pairs) == []
    assert net["LM_HEAD"].params == 0
    assert "50257 × 768 = 38,597,376 weights are WTE's" in " ".join(net["LM_HEAD"].step.notes)
    assert net.total == fw.total_params(model)


@pytest.mark.frameworks
def test_transformer_presets_shapes_come_from_a_forward_pass():
    torch = fw.need("torch")
    fw.need("transformers")
    bert, gpt2 = load("bert-base"), load("gpt2")
    tokens = torch.zeros(1, 512, dtype=torch.long, device="meta")
    shapes = fw.output_shapes(fw.reference_model("bert-base"), tokens,
                              ["embeddings", "encoder.layer.11", "pooler"])
    assert tuple(bert["EMBED_DROPOUT"].output_shape) == shapes["embeddings"][1:]
    assert tuple(bert["encoder.layer.11.0"].output_shape) == shapes["encoder.layer.11"][1:]
    assert tuple(bert["POOLER"].output_shape) == shapes["pooler"][1:]
    tokens = torch.zeros(1, 1024, dtype=torch.long, device="meta")
    shapes = fw.output_shapes(fw.reference_model("gpt2"), tokens, ["transformer.h.11", "lm_head"])
    assert tuple(gpt2["h.11.0"].output_shape) == shapes["transformer.h.11"][1:]
    assert tuple(gpt2["LM_HEAD"].output_shape) == shapes["lm_head"][1:]


@pytest.mark.frameworks
def test_lstm_language_model_matches_torch():
    torch = fw.need("torch")
    nn = torch.nn
    net = load("lstm-lm")
    # PyTorch's examples/word_language_model RNNModel with its defaults, vocabulary 10,000
    embed, lstm = nn.Embedding(10000, 200), nn.LSTM(200, 200, num_layers=2, batch_first=True)
    decoder = nn.Linear(200, 10000)
    for name, module in (("EMBED", embed), ("LSTM", lstm), ("DECODER", decoder)):
        assert net[name].params == sum(p.numel() for p in module.parameters()), name
    out = decoder(lstm(embed(torch.zeros(1, 35, dtype=torch.long)))[0])
    assert tuple(net["DECODER"].output_shape) == tuple(out.shape[1:])


@pytest.mark.frameworks
def test_transformer_classifier_matches_torch():
    torch = fw.need("torch")
    nn = torch.nn
    net = load("transformer-classifier")
    modules = {"TOKENS": nn.Embedding(20000, 64), "POSITIONS": nn.Embedding(128, 64),
               "ENC1": nn.TransformerEncoderLayer(64, 4, 256, batch_first=True),
               "ENC2": nn.TransformerEncoderLayer(64, 4, 256, batch_first=True),
               "CLASSIFIER": nn.Linear(64, 2)}
    for name, module in modules.items():
        assert net[name].params == sum(p.numel() for p in module.parameters()), name
    ids = torch.zeros(1, 128, dtype=torch.long)
    x = modules["TOKENS"](ids) + modules["POSITIONS"](torch.arange(128))[None]
    x = modules["ENC2"](modules["ENC1"](x))
    assert tuple(net["ENC2"].output_shape) == tuple(x.shape[1:])
    assert tuple(net["CLASSIFIER"].output_shape) == tuple(modules["CLASSIFIER"](x[:, 0]).shape[1:])


@pytest.mark.parametrize("name", ["bert-base", "lstm-lm"])
def test_sequence_reports_render_in_every_format_and_the_latex_compiles(name, tmp_path):
    from test_report_tex import assert_clean_log, compile_tex
    done = run_cli("report", name, "--format", "all", "-o", tmp_path / "out")
    assert done.returncode == 0, done.stderr
    out = tmp_path / "out"
    md = (out / f"{name}.md").read_text(encoding="utf-8")
    html = (out / f"{name}.html").read_text(encoding="utf-8")
    assert (out / f"{name}.pdf").read_bytes().startswith(b"%PDF")
    doc = compile_tex(out / f"{name}.tex")
    assert_clean_log(doc)   # long kinds such as transformer_encoder break in the summary
    total = f"{TOTALS[name]:,}"
    assert total in md and total in html and total in doc.squeezed()
    if name == "bert-base":
        assert "parts: self-attention" in md and "parts: self-attention" in html
    else:
        assert "Keras counts one bias vector per gate" in md


def test_keras_counts_of_the_lstm_language_model_come_from_the_convention_switch():
    from symparams import Network
    from symparams.spec import spec_from_data
    data = load("lstm-lm").to_spec()
    lstm = next(entry for entry in data["layers"] if entry["name"] == "LSTM")
    lstm["convention"] = "keras"
    keras = Network.from_spec(spec_from_data(data))
    # one bias vector of h = 200 per gate instead of two: 4 gates × 200 × 2 layers fewer
    assert keras.total == TOTALS["lstm-lm"] - 4 * 200 * 2 == 4_651_600
    assert "Keras' count" in keras["LSTM"].step.title


@pytest.mark.parametrize("name, said", [
    ("lstm-lm", ["A sequence is T × E", "Counted in the PyTorch convention",
                 "an LSTM layer has 4 × (h × x + h × h + 2 × h) parameters in PyTorch (two "
                 "bias vectors per gate), 4 × (h × x + h × h + h) in Keras (one)",
                 "acts on the last axis at each position"]),
    ("gpt2", ["A sequence is T × E", "Tied weights are counted once", "LM_HEAD (weights of WTE)"]),
])
def test_the_report_states_the_sequence_conventions(name, said):
    conventions = build_report(load(name)).conventions
    text = " ".join(conventions)
    for fragment in said:
        assert fragment in text
    assert "vector of features" not in text


def test_the_network_convention_switches_every_recurrent_layer():
    done = run_cli("count", "lstm-lm", "--convention", "keras", "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["total"] == 4_651_600
    from symparams.network import load as load_in
    keras = load_in("lstm-lm", convention="keras")
    assert keras.total == 4_651_600 and "Keras' count" in keras["LSTM"].step.title
    assert "PyTorch counts two bias vectors" in keras["LSTM"].step.reason
    # a layer's own convention wins over the network's
    data = keras.to_spec()
    data["layers"][1]["convention"] = "pytorch"
    from symparams import Network
    from symparams.spec import spec_from_data
    assert Network.from_spec(spec_from_data(data)).total == TOTALS["lstm-lm"]
    # transformers have no convention field: bert-base is the same in both
    assert load_in("bert-base", convention="keras").total == TOTALS["bert-base"]


def test_bert_report_and_table_state_the_convention_and_the_three_parts(tmp_path):
    # no BERT layer is counted differently by PyTorch and Keras, but a reader comparing
    # with torchinfo or Keras' summary() still needs to be told which and what is trained
    done = run_cli("report", "bert-base", "--format", "md", "-o", tmp_path / "out")
    assert done.returncode == 0, done.stderr
    md = (tmp_path / "out" / "bert-base.md").read_text(encoding="utf-8")
    assert "Counted in the PyTorch convention (no layer here is counted differently" in md
    assert "109,482,240 are trainable and 0 non-trainable" in md
    table = run_cli("count", "bert-base")
    assert "PyTorch convention" in table.stdout
    assert "Non-trainable params: 0" in table.stdout
