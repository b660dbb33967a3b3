"""Hostile and broken Keras files: one line naming the file (and layer), exit 2, nothing written.

A ``.keras`` archive is a zip file from anywhere: the importer reads only its
``config.json`` and ``metadata.json`` through capped reads, never extracts, and
refuses zip bombs, odd member names and corrupt archives; the JSON is read within
the spec reader's limits (depth, size, numbers).
"""
from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest

import frameworks as fw
from symparams.cli import main
from symparams.errors import SymparamsError
from symparams.importers import keras_archive
from symparams.importers.keras_config import spec_from_keras


def dense_model(units=4, extra_layer=None) -> dict:
    layers = [{"class_name": "InputLayer", "config": {"batch_shape": [None, 8], "name": "x"}},
              {"class_name": "Dense", "config": {"name": "fc", "units": units}}]
    if extra_layer:
        layers.append(extra_layer)
    return {"class_name": "Sequential", "config": {"name": "tiny", "layers": layers}}


def archive(path: Path, members: dict[str, bytes], method=zipfile.ZIP_DEFLATED) -> Path:
    with zipfile.ZipFile(path, "w", method) as handle:
        for name, data in members.items():
            handle.writestr(name, data)
    return path


def bomb(tmp: Path) -> Path:
    # 40 MB of spaces inside valid JSON: compressed about a thousand times.
    text = json.dumps(dense_model())[:-1] + " " * (40 * 2 ** 20) + "}"
    return archive(tmp / "bomb.keras", {"config.json": text.encode()})


CASES = {
    "zip bomb": (bomb, "zip bomb"),
    "corrupt zip": (lambda t: _write(t / "broken.keras", b"PK\x03\x04" + b"\x00garbage" * 20),
                    "not a readable .keras archive"),
    "no config.json": (lambda t: archive(t / "empty.keras", {"metadata.json": b"{}"}),
                       "no config.json"),
    "odd member name": (lambda t: archive(t / "odd.keras", {
        "../config.json": json.dumps(dense_model()).encode()}), "odd name"),
    "unknown layer class": (lambda t: _json(t / "custom.json", dense_model(extra_layer={
        "class_name": "MyAttention", "config": {"name": "mine", "units": 3}})),
        "layer 3 (mine, MyAttention): class MyAttention has no family"),
    "deep nesting": (lambda t: _write(t / "deep.json", (
        '{"class_name": "Sequential", "config": ' + "[" * 50_000 + "]" * 50_000 + "}").encode()),
        "nested more than"),
    "huge size": (lambda t: _json(t / "huge.json", dense_model(units=10 ** 30)),
                  "layer 2 (fc, Dense): units: expected a whole number"),
    "huge literal": (lambda t: _write(t / "literal.json", json.dumps(dense_model()).replace(
        '"units": 4', '"units": ' + "9" * 5000).encode()), "too large"),
    "infinite size": (lambda t: _write(t / "inf.json", json.dumps(dense_model()).replace(
        '"units": 4', '"units": 1e400').encode()), "units: expected a whole number"),
    "not a model": (lambda t: archive(t / "list.keras", {"config.json": b"[1, 2, 3]"}),
                    "not a Keras model config"),
    "missing input shape": (lambda t: _json(t / "open.json", {
        "class_name": "Sequential", "config": {"name": "m", "layers": [
            {"class_name": "Dense", "config": {"name": "fc", "units": 2}}]}}), "--input"),
    "unknown reference": (lambda t: _json(t / "dangling.json", {
        "class_name": "Functional", "config": {
            "name": "m", "input_layers": [["x", 0, 0]], "output_layers": [["fc", 0, 0]],
            "layers": [{"class_name": "InputLayer", "name": "x", "inbound_nodes": [],
                        "config": {"batch_input_shape": [None, 3]}},
                       {"class_name": "Dense", "name": "fc", "config": {"units": 2},
                        "inbound_nodes": [[["ghost", 0, 0, {}]]]}]}}),
        "takes 'ghost', which no earlier layer computes"),
    "garbage weights": (lambda t: archive(t / "weights.keras", {
        "config.json": json.dumps(dense_model()).encode(),
        "model.weights.h5": b"\x89HDF\r\n\x1a\n" + b"\xff" * 400}), "model.weights.h5"),
}


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def _json(path: Path, data: dict) -> Path:
    return _write(path, json.dumps(data).encode())


@pytest.mark.parametrize("case", sorted(CASES))
def test_hostile_keras_files_give_one_line(tmp_path, case, capsys):
    make, expected = CASES[case]
    path = make(tmp_path)
    if case == "garbage weights":
        fw.need("h5py")
    out = tmp_path / "out" / "count.json"
    out.parent.mkdir()
    # The CLI's own entry point, in this process: any exception but the one-line error
    # would escape it and fail the test with its traceback.
    assert main(["count", str(path), "-o", str(out)]) == 2
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and captured.out == "", captured
    assert str(path.name) in lines[0] and expected in lines[0], lines[0]
    assert len(lines[0]) <= 320
    assert not out.exists() and list(out.parent.iterdir()) == []


def test_an_inflated_member_past_the_limit_is_refused(tmp_path, monkeypatch):
    # A config.json larger than the limit that compresses too little to look like a bomb:
    # refused by its size before it is read (the read itself is capped too).
    monkeypatch.setattr(keras_archive, "MAX_JSON", 2000)
    text = json.dumps(dense_model(extra_layer={"class_name": "Dropout", "config": {
        "name": "d", "rate": 0.5, "padding": [str(i) for i in range(600)]}}))
    path = archive(tmp_path / "big.keras", {"config.json": text.encode()})
    with pytest.raises(SymparamsError, match="inflates to"):
        spec_from_keras(path)


def test_too_many_members_are_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(keras_archive, "MAX_MEMBERS", 5)
    members = {f"assets/{i}.txt": b"x" for i in range(6)}
    members["config.json"] = json.dumps(dense_model()).encode()
    with pytest.raises(SymparamsError, match="members"):
        spec_from_keras(archive(tmp_path / "many.keras", members))


def test_a_corrupt_archive_through_the_command_line(tmp_path):
    from conftest import run_cli
    whole = archive(tmp_path / "whole.keras", {"config.json": json.dumps(dense_model()).encode()})
    data = whole.read_bytes()
    path = _write(tmp_path / "broken.keras", data[:len(data) // 2])   # cut short
    result = run_cli("count", path)
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.count("\n") == 1 and "not a readable .keras archive" in result.stderr


def test_mutated_configs_give_one_line_or_a_network(tmp_path):
    """Seeded mutations of a real config (values swapped for other kinds of JSON): every
    one is read or refused with a one-line SymparamsError, never another exception."""
    import copy
    import gzip
    import random
    from conftest import ROOT
    base = json.loads(gzip.decompress(
        (ROOT / "tests" / "fixtures" / "keras" / "small_sequence.json.gz").read_bytes()))
    values = [None, "x", -1, 0, [], {}, 10 ** 12, True, 2.5, [None], [1, 2, 3], "same",
              {"class_name": "__keras_tensor__"}, [["ghost", 0, 0]], 1]
    paths: list[tuple] = []

    def walk(item, path=()):
        children = item.items() if isinstance(item, dict) else \
            enumerate(item) if isinstance(item, list) else ()
        for key, value in children:
            paths.append((*path, key))
            walk(value, (*path, key))
    walk(base)
    rng = random.Random(10)
    path = tmp_path / "mutated.json"
    refused = 0
    for _ in range(150):
        model = copy.deepcopy(base)
        for _ in range(rng.randint(1, 3)):
            where = rng.choice(paths)
            target = model
            try:
                for key in where[:-1]:
                    target = target[key]
                target[where[-1]] = copy.deepcopy(rng.choice(values))
            except (KeyError, IndexError, TypeError):
                pass   # an earlier mutation replaced a container on the way
        path.write_text(json.dumps(model), encoding="utf-8")
        try:
            spec_from_keras(path)
        except SymparamsError as error:
            refused += 1
            assert "\n" not in str(error) and len(str(error)) <= 320
    assert refused > 20


def weights_file(path: Path, links: bool = True) -> bytes:
    """A model.weights.h5 for dense_model() (8 inputs, 4 units), with a soft link and a
    link to another file beside the weights when ``links``."""
    h5py = fw.need("h5py")
    with h5py.File(path, "w") as handle:
        handle.create_group("layers/input_layer/vars")
        handle.create_dataset("layers/dense/vars/0", shape=(8, 4), dtype="f4")
        handle.create_dataset("layers/dense/vars/1", shape=(4,), dtype="f4")
        handle.create_dataset("optimizer/vars/0", shape=(1000,), dtype="f4")  # not weights
        if links:
            handle["layers/dense/vars/2"] = h5py.SoftLink("/optimizer/vars/0")
            handle["layers/dense/vars/3"] = h5py.ExternalLink("/etc/passwd", "/x")
    return path.read_bytes()


def test_stored_weights_are_read_by_shape_and_links_are_not_followed(tmp_path):
    weights = weights_file(tmp_path / "w.h5")
    path = archive(tmp_path / "tiny.keras", {"config.json": json.dumps(dense_model()).encode(),
                                             "model.weights.h5": weights},
                   method=zipfile.ZIP_STORED)
    data = spec_from_keras(path)    # 8 × 4 + 4 = 36, checked against the two tensors
    assert "notes" not in data
    squeezed = archive(tmp_path / "deflated.keras", {
        "config.json": json.dumps(dense_model()).encode(), "model.weights.h5": weights})
    assert spec_from_keras(squeezed) == data
    wrong = archive(tmp_path / "wrong.keras", {
        "config.json": json.dumps(dense_model(units=5)).encode(), "model.weights.h5": weights})
    with pytest.raises(SymparamsError, match="layer fc counts 45 but model.weights.h5 stores 36"):
        spec_from_keras(wrong)


def test_an_h5_file_with_too_many_nodes_is_refused(tmp_path, monkeypatch):
    weights = weights_file(tmp_path / "w.h5", links=False)
    monkeypatch.setattr(keras_archive, "MAX_H5_NODES", 3)
    path = archive(tmp_path / "tiny.keras", {"config.json": json.dumps(dense_model()).encode(),
                                             "model.weights.h5": weights})
    with pytest.raises(SymparamsError, match="more than 3 groups and tensors"):
        spec_from_keras(path)
