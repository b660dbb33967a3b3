"""Homework on sequence networks: a template with an embedding, an LSTM and a dense
layer per position gives variants whose answer keys follow the formulas (written out
here as integers) and whose question sheets state the sizes a student needs."""
from __future__ import annotations

import csv

import yaml

from conftest import run_cli

TEMPLATE = """\
name: seq-hw
title: Parameters of a small LSTM tagger
input: [{range: [10, 40]}]
layers:
  - {type: embedding, name: EMBED, vocab_size: {choice: [1000, 5000]}, embed_dim: {choice: [32, 64]}}
  - {type: lstm, name: LSTM, hidden_size: {range: [16, 64], step: 16}, bidirectional: true}
  - {type: dense, name: TAGS, units: {choice: [10, 17]}}
questions:
  - {type: params, points: 1}
  - {type: shapes, points: 1}
"""


def test_a_sequence_template_gives_variants_with_correct_keys(tmp_path):
    path = tmp_path / "seq.yaml"
    path.write_text(TEMPLATE, encoding="utf-8")
    out = tmp_path / "out"
    done = run_cli("homework", path, "--variants", "3", "--format", "md", "--quiet", "-o", out)
    assert done.returncode == 0, done.stderr
    rows = list(csv.DictReader((out / "answers.csv").open(encoding="utf-8")))
    for variant in ("variant-01", "variant-02", "variant-03"):
        spec = yaml.safe_load((out / variant / "spec.yaml").read_text(encoding="utf-8"))
        layers = {layer["name"]: layer for layer in spec["layers"]}
        V, E = layers["EMBED"]["vocab_size"], layers["EMBED"]["embed_dim"]
        h, c = layers["LSTM"]["hidden_size"], layers["TAGS"]["units"]
        T = spec["input"][0]
        keys = {r["question"]: r["answer"] for r in rows if r["variant"] == variant}
        lstm = 2 * 4 * (h * E + h * h + 2 * h)          # bidirectional, PyTorch's biases
        assert int(keys["params.EMBED"]) == V * E
        assert int(keys["params.LSTM"]) == lstm
        assert int(keys["params.TAGS"]) == c * 2 * h + c  # per position: p = 2h
        assert int(keys["params.total"]) == V * E + lstm + c * 2 * h + c
        assert keys["shapes.TAGS"].replace(" ", "") in (f"{T}x{c}", f"{T}×{c}")
        sheet = (out / variant / "questions.md").read_text(encoding="utf-8")
        # the student sees the sizes behind each count, and no bias note on an embedding
        assert f"h = {h}, bidirectional" in sheet and f"{V} tokens × {E} values" in sheet
        assert "no bias |" not in sheet and "no bias," not in sheet


def test_a_transformer_template_keeps_only_variants_whose_heads_divide_the_width(tmp_path):
    path = tmp_path / "tr.yaml"
    path.write_text("""\
name: tr-hw
input: [{range: [8, 32]}]
layers:
  - {type: embedding, name: EMBED, vocab_size: {choice: [1000, 2000]}, embed_dim: {choice: [32, 48]}}
  - {type: positional_embedding, name: POS, max_positions: 16}
  - {type: transformer_encoder, name: ENC, heads: {choice: [3, 4]}, dim_feedforward: {choice: [64, 128]}}
  - {type: select_token, name: CLS}
  - {type: dense, name: OUT, units: {choice: [2, 5]}}
questions:
  - {type: params, points: 1}
""", encoding="utf-8")
    out = tmp_path / "out"
    done = run_cli("homework", path, "--variants", "6", "--format", "md", "--quiet", "-o", out)
    assert done.returncode == 0, done.stderr
    rows = list(csv.DictReader((out / "answers.csv").open(encoding="utf-8")))
    for number in range(1, 7):
        variant = f"variant-{number:02d}"
        spec = yaml.safe_load((out / variant / "spec.yaml").read_text(encoding="utf-8"))
        layers = {layer["name"]: layer for layer in spec["layers"]}
        E, F = layers["EMBED"]["embed_dim"], layers["ENC"]["dim_feedforward"]
        assert E % layers["ENC"]["heads"] == 0 and spec["input"][0] <= 16
        keys = {r["question"]: r["answer"] for r in rows if r["variant"] == variant}
        assert int(keys["params.ENC"]) == 4 * (E * E + E) + (E * F + F) + (F * E + E) + 4 * E


def test_a_token_networks_sheet_speaks_of_token_ids_and_sequences_not_images(tmp_path):
    # the sheet used to say the input was "(height × width × channels)" and ask for
    # every output as height × width × channels, for a network of token ids
    path = tmp_path / "seq.yaml"
    path.write_text(TEMPLATE, encoding="utf-8")
    out = tmp_path / "out"
    done = run_cli("homework", path, "--variants", "1", "--format", "md", "--quiet", "-o", out)
    assert done.returncode == 0, done.stderr
    sheet = (out / "variant-01" / "questions.md").read_text(encoding="utf-8")
    assert "height" not in sheet
    assert "(token ids, one per position)" in sheet
    assert "Give each layer's output as length × channels for a sequence" in sheet
    assert "the input is one token id per position" in sheet
