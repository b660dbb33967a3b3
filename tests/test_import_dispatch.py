"""Which importer reads a target (symparams.importers.load_source), --input and
--allow-unknown on the command line, and the public from_torch/from_onnx/from_keras.

The importers themselves (torch_fx, onnx_graph, keras_config) are other modules;
here the routing is observed through what needs none of them (errors raised before
any importer is imported, specs still read as specs) and, where a call must reach
an importer, through a stand-in module put in ``sys.modules`` under the importer's
name, which records what it was given.
"""
import json
import subprocess
import sys
import types

import pytest

from conftest import ROOT, run_cli
import symparams
from symparams import SymparamsError
from symparams.cli import main
from symparams.importers import is_import_target, load_source, parse_input_shape

FRAMEWORKS = ("torch", "onnx", "keras", "tensorflow")

# What a stand-in importer returns: a small model as spec data.
SPEC_DATA = {"name": "imported", "convention": "pytorch", "input": [8],
             "notes": ["exported with constant folding"],
             "layers": [{"name": "fc", "type": "dense", "units": 4},
                        {"name": "act", "type": "opaque", "op": "torch.nn.PReLU", "params": 1}]}


def _one_line(text: str) -> str:
    lines = text.strip().splitlines()
    assert len(lines) == 1 and len(lines[0]) <= 320, text
    return lines[0]


@pytest.fixture
def stand_in(monkeypatch):
    """Put a recording stand-in for an importer module in sys.modules."""
    def install(module: str, function: str, result=SPEC_DATA, error=None):
        calls = []

        def read(*args, **kwargs):
            calls.append((args, kwargs))
            if error is not None:
                raise error
            return json.loads(json.dumps(result))
        fake = types.ModuleType(f"symparams.importers.{module}")
        setattr(fake, function, read)
        if module == "torch_fx":
            fake.spec_from_torch = read
        monkeypatch.setitem(sys.modules, f"symparams.importers.{module}", fake)
        return calls
    return install


def run_main(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


# ----------------------------------------------------------- refused before import

def test_torch_factory_needs_input_before_anything_is_imported():
    code = ("import sys\nfrom symparams.cli import main\n"
            "rc = main(['count', 'torch:torchvision.models:resnet50'])\n"
            f"print(rc, sorted(m for m in sys.modules if m.split('.')[0] in {FRAMEWORKS!r}"
            " or m.startswith('symparams.importers.torch')))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            cwd=ROOT, timeout=120)
    assert result.stdout.strip() == "2 []", result.stdout + result.stderr
    line = _one_line(result.stderr)
    assert "torch:torchvision.models:resnet50" in line and "--input" in line
    assert "3,224,224" in line


@pytest.mark.parametrize("target", ["torch:", "torch:torchvision", "torch:a b:c",
                                    "torch:os:system;rm", "torch:../x:f"])
def test_a_malformed_factory_is_one_line(capsys, target):
    code, _, err = run_main(capsys, "count", target, "--input", "3,32,32")
    assert code == 2 and "package.module:factory" in _one_line(err)


@pytest.mark.parametrize("name, words", [
    ("model.h5", [".keras", "to_json"]), ("model.HDF5", [".keras"]),
    ("graph.pb", ["ONNX"]), ("weights.pth", ["torch:package.module:factory"]),
    ("weights.pt", ["unpickling"]), ("model.py", ["never run", "torch:"]),
])
def test_formats_we_do_not_read_say_what_to_export(capsys, tmp_path, name, words):
    path = tmp_path / name
    path.write_bytes(b"\x89HDF\r\n")
    code, out, err = run_main(capsys, "count", path)
    assert code == 2 and not out
    line = _one_line(err)
    assert str(path) in line
    for word in words:
        assert word in line


def test_a_saved_model_folder_is_refused(capsys, tmp_path):
    (tmp_path / "saved").mkdir()
    (tmp_path / "saved" / "saved_model.pb").write_bytes(b"\x08\x01")
    code, _, err = run_main(capsys, "count", tmp_path / "saved")
    assert code == 2 and "SavedModel" in _one_line(err)


@pytest.mark.parametrize("name", ["evil.py", "evil.onnx", "evil.keras", "evil.json",
                                  "evil.yaml"])
def test_a_plain_file_is_never_run(tmp_path, name):
    marker = tmp_path / "ran"
    program = (f"import pathlib; pathlib.Path({str(marker)!r}).write_text('ran')\n"
               "__import__('os').system('touch ' + " + repr(str(marker)) + ")\n")
    path = tmp_path / name
    path.write_text(program, encoding="utf-8")
    result = run_cli("count", path, "--input", "3,32,32", "--allow-unknown")
    assert result.returncode == 2 and not result.stdout
    assert str(path) in _one_line(result.stderr)
    assert not marker.exists()


# ---------------------------------------------------------------- routing

def test_a_spec_json_is_still_a_spec(tmp_path):
    path = tmp_path / "spec.json"
    path.write_text(json.dumps({"name": "s", "input": [8],
                                "layers": [{"type": "dense", "units": 2}]}), encoding="utf-8")
    assert not is_import_target(path) and not is_import_target("lenet")
    assert symparams.load(str(path)).total == 18
    assert symparams.load("lenet").total == 62958


def test_a_keras_json_goes_to_the_keras_importer(stand_in, tmp_path):
    calls = stand_in("keras_config", "spec_from_keras")
    path = tmp_path / "model.json"
    path.write_text(json.dumps({"class_name": "Sequential", "config": {"layers": []}}),
                    encoding="utf-8")
    assert is_import_target(path)
    net = symparams.load(str(path), input_shape=("T", 8))
    assert net.total == 8 * 4 + 4 + 1 and net.source == str(path)
    assert net.warnings[0] == "exported with constant folding"
    (args, kwargs), = calls
    assert str(args[0]) == str(path) and kwargs == {"input_shape": ("T", 8),
                                                     "allow_unknown": False}
    data, source = load_source(str(tmp_path / "model.json"), allow_unknown=True)
    assert data["name"] == "imported" and source == str(path)
    assert calls[-1][1]["allow_unknown"] is True


def test_onnx_and_keras_files_go_to_their_importers(stand_in, tmp_path, capsys):
    onnx_calls = stand_in("onnx_graph", "spec_from_onnx")
    keras_calls = stand_in("keras_config", "spec_from_keras")
    for name in ("m.onnx", "m.keras"):
        (tmp_path / name).write_bytes(b"PK\x03\x04")
    code, out, err = run_main(capsys, "count", tmp_path / "m.onnx", "--input", "3,H,W",
                              "--json", "--allow-unknown")
    assert code == 0, err
    data = json.loads(out)
    assert data["warnings"][0] == "exported with constant folding"
    assert "layer 2 act (opaque torch.nn.PReLU): 1 parameter counted" in data["warnings"][1]
    assert onnx_calls[0][1] == {"input_shape": (3, "H", "W"), "allow_unknown": True}
    code, out, err = run_main(capsys, "count", tmp_path / "m.keras", "--json")
    assert code == 0 and keras_calls[0][1] == {"input_shape": None, "allow_unknown": False}


def test_torch_factory_goes_to_the_torch_importer(stand_in, capsys, tmp_path):
    calls = stand_in("torch_fx", "spec_from_factory")
    code, out, err = run_main(capsys, "count", "torch:mypkg.models:tiny", "--input", "8",
                              "--json")
    assert code == 0, err
    assert calls == [(("torch:mypkg.models:tiny", (8,)), {"allow_unknown": False})]
    for command in (["report", "--format", "md", "-o", tmp_path],
                    ["sweep", "--vary", "c_1=2:4"],
                    ["solve", "--for", "fc.units", "--total", "46"]):
        code, out, err = run_main(capsys, command[0], "torch:mypkg.models:tiny",
                                  "--input", "8", *command[1:])
        assert code == 0, (command, err)
    assert "Warning" in (tmp_path / "imported.md").read_text(encoding="utf-8")


def test_diff_takes_an_input_per_side(stand_in, capsys):
    calls = stand_in("torch_fx", "spec_from_factory")
    code, out, err = run_main(capsys, "diff", "torch:a.b:c", "torch:a.b:d", "--input-a", "8",
                              "--input", "16", "--json")
    assert code == 0, err
    assert [c[0][1] for c in calls] == [(8,), (16,)]
    # --input goes to each side that is imported; a spec side gives its own input.
    code, out, err = run_main(capsys, "diff", "torch:a.b:c", "lenet", "--input", "8")
    assert code == 0, err
    assert calls[-1][0][1] == (8,)


def test_errors_in_imported_data_name_the_source(stand_in, capsys):
    stand_in("torch_fx", "spec_from_factory",
             result={"name": "x", "input": [8], "layers": [{"name": "odd", "type": "bogus"}]})
    code, _, err = run_main(capsys, "count", "torch:pkg.mod:f", "--input", "8")
    line = _one_line(err)
    assert code == 2 and line.startswith("symparams: error: torch:pkg.mod:f") and "odd" in line


def test_a_missing_framework_package_says_how_to_install_it(stand_in, capsys, monkeypatch,
                                                             tmp_path):
    stand_in("onnx_graph", "spec_from_onnx",
             error=ModuleNotFoundError("No module named 'onnx'", name="onnx"))
    (tmp_path / "m.onnx").write_bytes(b"\x08\x07")
    code, _, err = run_main(capsys, "count", tmp_path / "m.onnx")
    assert code == 2 and "pip install onnx" in _one_line(err)
    monkeypatch.setitem(sys.modules, "symparams.importers.torch_fx", None)
    code, _, err = run_main(capsys, "count", "torch:pkg.mod:f", "--input", "8")
    assert code == 2 and "importer" in _one_line(err)


def test_input_is_only_for_import_targets(capsys):
    code, _, err = run_main(capsys, "count", "lenet", "--input", "3,32,32")
    assert code == 2 and "--input" in _one_line(err)


@pytest.mark.parametrize("text, shape", [("3,224,224", (3, 224, 224)), ("T", ("T",)),
                                         (" T , 768 ", ("T", 768)), ("1,H_in,W", (1, "H_in", "W"))])
def test_parse_input_shape(text, shape):
    assert parse_input_shape(text) == shape


@pytest.mark.parametrize("text", ["", "3,,4", "3.5", "0,3", "-1", "2**8", "__import__('os')",
                                  "1e9", "3;4", "x" * 300, "1,2,3,4,5,6", "99999999999"])
def test_bad_input_shapes_are_one_line(text):
    with pytest.raises(SymparamsError) as info:
        parse_input_shape(text)
    assert "--input" in str(info.value) and "\n" not in str(info.value)


# ------------------------------------------------------------------ public API

def test_public_api_wraps_the_importers(stand_in, tmp_path):
    assert {"from_torch", "from_onnx", "from_keras"} <= set(symparams.__all__)
    for function in (symparams.from_torch, symparams.from_onnx, symparams.from_keras):
        assert function.__doc__ and "allow_unknown" in function.__doc__
    keras_calls = stand_in("keras_config", "spec_from_keras")
    onnx_calls = stand_in("onnx_graph", "spec_from_onnx")
    torch_calls = stand_in("torch_fx", "spec_from_factory")
    path = tmp_path / "model.bin"
    path.write_bytes(b"x")
    assert symparams.from_keras(path, input_shape=[8]).total == 37
    assert keras_calls[0][1] == {"input_shape": (8,), "allow_unknown": False}
    assert symparams.from_onnx(path, allow_unknown=True).source == str(path)
    assert onnx_calls[0][1]["allow_unknown"] is True

    class Tiny:   # what from_torch hands on is the module object itself
        pass
    tiny = Tiny()
    net = symparams.from_torch(tiny, (8,), name="tiny")
    assert net.total == 37 and net.source.endswith("Tiny")
    (args, kwargs), = torch_calls
    assert args == (tiny, (8,)) and kwargs["name"] == "tiny"
    assert kwargs["allow_unknown"] is False and kwargs["source"].endswith("Tiny")
    with pytest.raises(SymparamsError, match="no such file"):
        symparams.from_onnx(tmp_path / "missing.onnx")


def test_import_symparams_and_count_import_no_framework():
    code = ("import sys, io, contextlib\nimport symparams\nfrom symparams.cli import main\n"
            "with contextlib.redirect_stdout(io.StringIO()):\n"
            "    rc = main(['count', 'lenet', '--json'])\n"
            f"print(rc, sorted(m for m in sys.modules if m.split('.')[0] in {FRAMEWORKS!r}))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            cwd=ROOT, timeout=120)
    assert result.stdout.strip() == "0 []", result.stdout + result.stderr
