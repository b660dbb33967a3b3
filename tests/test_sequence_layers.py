"""Sequence families: embedding, positional_embedding, rnn/lstm/gru, multihead_attention,
transformer_encoder/decoder, dense on a [T, E] sequence, and tied weights.

Counts are checked against the torch.nn modules (``numel`` of their parameters) and
output shapes against a forward pass (batch first; symparams shapes have no batch
axis).  Keras is not installed here: its counts (convention: keras) are checked
against the formulas Keras documents, written out in this file as integers.
"""
from __future__ import annotations


import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from conftest import import_torch, run_cli
from symparams import Network, SymparamsError, explain
from symparams.spec import spec_from_data

torch, nn = import_torch()

needs_torch = pytest.mark.skipif(torch is None, reason="torch extra not installed")
FEW = settings(max_examples=12, deadline=None,
               suppress_health_check=[HealthCheck.too_slow])


def net_of(layers, input) -> Network:
    return Network.from_spec(spec_from_data({"input": input, "layers": layers}))


def numel(module) -> int:
    return sum(p.numel() for p in module.parameters())


# ------------------------------------------------------------------- embedding

@needs_torch
@FEW
@given(vocab=st.integers(2, 400), width=st.integers(1, 64), length=st.integers(1, 12),
       padding=st.booleans())
def test_embedding_matches_torch(vocab, width, length, padding):
    fields = {"type": "embedding", "vocab_size": vocab, "embed_dim": width}
    if padding:
        fields["padding_idx"] = 0   # the padding row is still a parameter
    net = net_of([fields], [length])
    module = nn.Embedding(vocab, width, padding_idx=0 if padding else None)
    assert net.total == numel(module) == vocab * width
    out = module(torch.zeros(1, length, dtype=torch.long))
    assert tuple(int(v) for v in net[1].output_shape) == tuple(out.shape[1:])


def test_positional_embedding_adds_a_learned_row_per_position():
    net = net_of([{"type": "embedding", "vocab_size": 100, "embed_dim": 16},
                  {"type": "positional_embedding", "max_positions": 32}], [20])
    assert net[2].params == 32 * 16
    assert tuple(net[2].output_shape) == (20, 16)
    assert "T_2" in str(net[2].formula) and "E_2" in str(net[2].formula)
    with pytest.raises(SymparamsError, match="max_positions"):
        net_of([{"type": "embedding", "vocab_size": 100, "embed_dim": 16},
                {"type": "positional_embedding", "max_positions": 8}], [20])


# ------------------------------------------------------------------- recurrent

RNN_MODULES = {"rnn": "RNN", "lstm": "LSTM", "gru": "GRU"}
GATES = {"rnn": 1, "lstm": 4, "gru": 3}


@needs_torch
@FEW
@given(kind=st.sampled_from(sorted(RNN_MODULES)), x=st.integers(1, 24), h=st.integers(1, 24),
       layers=st.integers(1, 3), bidirectional=st.booleans(), bias=st.booleans(),
       sequences=st.booleans(), length=st.integers(1, 6))
def test_recurrent_layers_match_torch(kind, x, h, layers, bidirectional, bias, sequences,
                                      length):
    fields = {"type": kind, "hidden_size": h, "num_layers": layers,
              "bidirectional": bidirectional, "bias": bias, "return_sequences": sequences}
    net = net_of([fields], [length, x])
    module = getattr(nn, RNN_MODULES[kind])(x, h, num_layers=layers, bias=bias,
                                            bidirectional=bidirectional, batch_first=True)
    assert net.total == numel(module)
    out, _ = module(torch.zeros(1, length, x))
    expected = tuple(out.shape[1:]) if sequences else tuple(out[:, -1].shape[1:])
    assert tuple(int(v) for v in net[1].output_shape) == expected


def keras_recurrent(kind: str, x: int, h: int, bias=True, reset_after=True) -> int:
    """Keras' documented counts: one bias vector per gate (GRU with reset_after: two)."""
    biases = 0 if not bias else (2 if kind == "gru" and reset_after else 1)
    return GATES[kind] * (h * x + h * h + biases * h)


@pytest.mark.parametrize("kind", sorted(RNN_MODULES))
@pytest.mark.parametrize("x, h", [(8, 16), (100, 32), (3, 1)])
def test_recurrent_layers_count_as_keras_under_convention_keras(kind, x, h):
    net = net_of([{"type": kind, "hidden_size": h, "convention": "keras"}], [10, x])
    assert net.total == keras_recurrent(kind, x, h)
    step = net[1].step
    assert "Keras" in step.title and "PyTorch" in step.reason   # says what the other counts
    if kind == "gru":
        plain = net_of([{"type": kind, "hidden_size": h, "convention": "keras",
                         "reset_after": False}], [10, x])
        assert plain.total == keras_recurrent(kind, x, h, reset_after=False)
    stacked = net_of([{"type": kind, "hidden_size": h, "convention": "keras", "num_layers": 2,
                       "bidirectional": True}], [10, x])
    assert stacked.total == 2 * (keras_recurrent(kind, x, h) + keras_recurrent(kind, 2 * h, h))


def test_recurrent_formula_is_printed_in_letters_and_says_the_framework():
    net = net_of([{"type": "lstm", "hidden_size": 32}], [10, 8])
    step = net[1].step
    assert step.text.formula == "4 × (h₁ × x₁ + h₁ × h₁ + 2 × h₁)"
    assert "PyTorch" in step.title and "Keras" in step.reason
    stacked = net_of([{"type": "gru", "hidden_size": 4, "num_layers": 3,
                       "bidirectional": True}], [10, 8]).layers[1].step
    assert "s₁" in stacked.text.formula and "(s₁ - 1)" in stacked.text.formula
    assert any("stacked" in meaning for meaning in stacked.letters.values())


def test_solve_for_the_hidden_size_given_a_total():
    net = net_of([{"type": "lstm", "hidden_size": 32}], [10, 8])
    assert net.solve("LSTM1.hidden_size", total=int(net.total)) == [32]


# ------------------------------------------------------------------- attention

@needs_torch
@FEW
@given(heads=st.integers(1, 4), per_head=st.integers(1, 8), kdim=st.none() | st.integers(1, 20),
       vdim=st.none() | st.integers(1, 20), bias=st.booleans(), bias_kv=st.booleans(),
       length=st.integers(1, 5))
def test_multihead_attention_matches_torch(heads, per_head, kdim, vdim, bias, bias_kv, length):
    width = heads * per_head
    fields = {"type": "multihead_attention", "heads": heads, "bias": bias,
              "add_bias_kv": bias_kv}
    if kdim:
        fields["kdim"] = kdim
    if vdim:
        fields["vdim"] = vdim
    net = net_of([fields], [length, width])
    module = nn.MultiheadAttention(width, heads, bias=bias, add_bias_kv=bias_kv, kdim=kdim,
                                   vdim=vdim, batch_first=True)
    assert net.total == numel(module)
    q = torch.zeros(1, length, width)
    out, _ = module(q, torch.zeros(1, length, kdim or width), torch.zeros(1, length, vdim or width))
    assert tuple(int(v) for v in net[1].output_shape) == tuple(out.shape[1:])


def test_cross_attention_takes_queries_and_a_memory():
    spec = {"input": {"target": [6, 32], "memory": [9, 20]},
            "layers": [{"name": "XATTN", "type": "multihead_attention", "heads": 4, "kdim": 20,
                        "vdim": 20, "inputs": ["target", "memory"]}]}
    net = Network.from_spec(spec_from_data(spec))
    assert tuple(net["XATTN"].output_shape) == (6, 32)
    spec["layers"][0]["kdim"] = 16
    with pytest.raises(SymparamsError, match="kdim"):
        Network.from_spec(spec_from_data(spec))


@needs_torch
@FEW
@given(heads=st.integers(1, 4), per_head=st.integers(1, 6), ff=st.integers(1, 40),
       bias=st.booleans(), decoder=st.booleans(), length=st.integers(1, 4))
def test_transformer_layers_match_torch(heads, per_head, ff, bias, decoder, length):
    width = heads * per_head
    kind = "transformer_decoder" if decoder else "transformer_encoder"
    net = net_of([{"type": kind, "heads": heads, "dim_feedforward": ff, "bias": bias}],
                 [length, width])
    cls = nn.TransformerDecoderLayer if decoder else nn.TransformerEncoderLayer
    module = cls(width, heads, dim_feedforward=ff, bias=bias, batch_first=True)
    assert net.total == numel(module)
    x = torch.zeros(1, length, width)
    out = module(x, x) if decoder else module(x)
    assert tuple(int(v) for v in net[1].output_shape) == tuple(out.shape[1:])


def test_transformer_step_shows_its_parts_and_their_sum():
    step = net_of([{"type": "transformer_encoder", "heads": 12, "dim_feedforward": 3072}],
                  [8, 768]).layers[1].step
    assert step.result == 7_087_872
    notes = " ".join(step.notes)
    for part in ("self-attention", "feed-forward", "normalisation"):
        assert part in notes
    assert "2,362,368" in notes and "4,722,432" in notes


def test_heads_must_divide_the_width(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("input: [8, 30]\nlayers:\n  - {name: ATT, type: multihead_attention, "
                    "heads: 4}\n")
    done = run_cli("count", str(path))
    assert done.returncode == 2
    line = done.stderr.strip()
    assert "\n" not in line and "Traceback" not in line
    assert "ATT" in line and "heads" in line and "30" in line


@pytest.mark.parametrize("layer, shape, field", [
    ({"type": "lstm", "hidden_size": 8}, [8, 8, 3], "type"),
    ({"type": "lstm", "hidden_size": 0}, [8, 3], "hidden_size"),
    ({"type": "gru", "hidden_size": 8, "convention": "tensorflow"}, [8, 3], "convention"),
    ({"type": "embedding", "vocab_size": 10}, [8], "embed_dim"),
    ({"type": "transformer_encoder", "heads": 5, "dim_feedforward": 8}, [8, 12], "heads"),
])
def test_bad_fields_are_one_line_errors_naming_the_field(layer, shape, field):
    with pytest.raises(SymparamsError) as caught:
        net_of([layer], shape)
    assert caught.value.field == field or field in str(caught.value)


# --------------------------------------------------------- dense on a sequence

@needs_torch
def test_dense_on_a_sequence_acts_on_the_last_axis():
    net = net_of([{"type": "dense", "units": 10}], [7, 16])
    module = nn.Linear(16, 10)
    assert net.total == numel(module) == 170
    assert tuple(net[1].output_shape) == tuple(module(torch.zeros(1, 7, 16)).shape[1:]) == (7, 10)
    assert any("each of the 7 positions" in n for n in net[1].step.notes)
    flat = net_of([{"type": "flatten"}, {"type": "dense", "units": 10}], [7, 16])
    assert flat.total == 7 * 16 * 10 + 10


def test_dense_on_an_image_still_flattens():
    net = net_of([{"type": "dense", "units": 10}], [4, 4, 3])
    assert net.total == 4 * 4 * 3 * 10 + 10 and tuple(net[1].output_shape) == (10,)


# ---------------------------------------------------------------- tied weights

def tiny_lm(tie="WTE", units=50, bias=False):
    return net_of([{"name": "WTE", "type": "embedding", "vocab_size": 50, "embed_dim": 8},
                   {"name": "HEAD", "type": "dense", "units": units, "bias": bias, "tie": tie}],
                  [5])


def test_tied_weights_are_counted_once_and_the_step_says_so():
    net = tiny_lm()
    assert net["HEAD"].params == 0 and net.total == 50 * 8
    notes = " ".join(net["HEAD"].step.notes)
    assert "WTE" in notes and "400" in notes
    with_bias = tiny_lm(bias=True)
    assert with_bias["HEAD"].params == 50 and with_bias.total == 450


@pytest.mark.parametrize("tie, units, match", [("NOPE", 50, "NOPE"), ("WTE", 49, "50")])
def test_a_bad_tie_is_an_error(tie, units, match):
    with pytest.raises(SymparamsError, match=match) as caught:
        tiny_lm(tie, units)
    assert caught.value.field == "tie"


# ------------------------------------------------------------------ explain

@pytest.mark.parametrize("kind", ["embedding", "positional_embedding", "rnn", "lstm", "gru",
                                  "multihead_attention", "transformer_encoder",
                                  "transformer_decoder"])
def test_every_sequence_family_is_explained(kind):
    text = explain(kind)
    assert "Example (worked out by symparams)" in text and "Letters" in text


@pytest.mark.parametrize("preset, size, value", [
    ("lstm-lm", "LSTM.num_layers", 2), ("lstm-lm", "EMBED.embed_dim", 200),
    ("transformer-classifier", "POSITIONS.max_positions", 128),
    ("transformer-classifier", "ENC1.dim_feedforward", 256)])
def test_solve_over_the_sequence_sizes(preset, size, value):
    from symparams import load
    net = load(preset)
    assert net.solve(size, total=int(net.total)) == [value]
    other = net.subs({size: value + 1})
    assert net.solve(size, total=int(other.total)) == [value + 1]


def test_solve_for_the_hidden_size_on_the_command_line():
    done = run_cli("solve", "lstm-lm", "--for", "LSTM.hidden_size", "--layer", "LSTM",
                   "--total", "643200")
    assert done.returncode == 0, done.stderr
    assert "200" in done.stdout


def test_a_convention_filled_in_later_moves_the_layer_to_its_formula():
    # The network's convention (None on the layer: the network's) may be set on a copy
    # after the layer is read; the count follows.
    import copy
    from symparams.layers import LSTM, generic_formula
    layer = LSTM(hidden_size=8)
    assert layer.convention is None and "8*h" in str(layer.formula)
    keras = copy.copy(layer)
    keras.convention = "keras"
    assert str(generic_formula(type(keras), True)[1]) == "4*h**2 + 4*h*x + 4*h"
    assert str(layer._replace(convention="keras").formula) == "4*h**2 + 4*h*x + 4*h"
    assert str(layer.formula) == "4*h**2 + 4*h*x + 8*h"     # the original is untouched


def test_a_decoder_takes_the_encoders_output_as_a_second_input():
    spec = {"input": {"target": [6, 32], "memory": [9, 32]},
            "layers": [{"name": "DEC", "type": "transformer_decoder", "heads": 4,
                        "dim_feedforward": 64, "inputs": ["target", "memory"]}]}
    net = Network.from_spec(spec_from_data(spec))
    assert tuple(net["DEC"].output_shape) == (6, 32)
    assert net.total == 2 * 4 * (32 * 32 + 32) + (32 * 64 + 64) + (64 * 32 + 32) + 3 * 2 * 32
    spec["input"]["memory"] = [9, 16]
    with pytest.raises(SymparamsError, match="must be E = 32"):
        Network.from_spec(spec_from_data(spec))
    spec["input"]["memory"] = [9, 32]
    spec["layers"][0]["inputs"] = ["target", "memory", "target"]
    with pytest.raises(SymparamsError, match="at most two inputs"):
        Network.from_spec(spec_from_data(spec))
