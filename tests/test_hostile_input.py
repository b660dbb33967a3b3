"""Hostile and malformed specs (issue 8, section 2): one line, exit 2, no traceback,
no hang — from the command line and from ``symparams.load``."""
import io
import json
import sys
import time
from contextlib import redirect_stderr, redirect_stdout

import pytest

import symparams
from symparams import SymparamsError
from symparams.cli import main
from symparams.printable import printable

from conftest import ROOT, run_cli

SIMPLE = "input: [8, 8, 3]\nlayers:\n  - {type: conv2d, kernel: 3, filters: 4}\n"


def run_main(*argv):
    """Run the CLI in-process: (exit code, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        try:
            code = main([str(a) for a in argv])
        except SystemExit as exc:
            code = exc.code
    return code, out.getvalue(), err.getvalue()


def run_stdin(text, *argv):
    """The CLI in a subprocess with ``text`` on standard input."""
    import os
    import subprocess
    return subprocess.run([sys.executable, "-m", "symparams", *argv], input=text,
                          capture_output=True, text=True, cwd=ROOT, env=dict(os.environ),
                          timeout=120)


def assert_one_line_error(code, err, *fragments):
    assert code == 2, err
    assert err.endswith("\n") and err.count("\n") == 1, err
    assert "Traceback" not in err
    assert len(err) <= 320, err
    assert err.isprintable() or err[:-1].isprintable(), err
    for fragment in fragments:
        assert fragment in err, err


def count_fails(path, *fragments):
    code, out, err = run_main("count", path)
    assert_one_line_error(code, err, *fragments)
    with pytest.raises(SymparamsError):
        symparams.load(str(path))
    return err


# ------------------------------------------------------------------ alias bombs

def billion_laughs(levels=9):
    lines = ["a: &a [x, x, x, x, x, x, x, x, x]"]
    previous = "a"
    for name in "bcdefghijklmnop"[:levels - 1]:
        lines.append(f"{name}: &{name} [" + ", ".join([f"*{previous}"] * 9) + "]")
        previous = name
    return "\n".join(lines), previous


def test_alias_bomb_is_refused_before_building(write_spec):
    bomb, last = billion_laughs()
    path = write_spec(f"{bomb}\ninput: [8, 8, 3]\nlayers:\n  - {{type: conv2d, kernel: 3, "
                      f"filters: *{last}}}\n")
    start = time.monotonic()
    err = count_fails(path, "net.yaml", "alias")
    assert time.monotonic() - start < 60  # a hang detector, not a timing assertion
    assert "nodes" in err


def test_alias_bomb_inside_a_layer_list(write_spec):
    bomb, last = billion_laughs(7)
    path = write_spec(f"{bomb}\ninput: [8, 8, 3]\nlayers: *{last}\n")
    count_fails(path, "net.yaml")


def test_small_aliases_still_work(write_spec):
    path = write_spec("conv: &conv {type: conv2d, kernel: 3, filters: 4}\n"
                      "input: [8, 8, 3]\nlayers: [*conv]\n")
    code, out, err = run_main("count", path)
    # 'conv' is an unknown top-level field: the alias itself was read fine.
    assert_one_line_error(code, err, "conv")
    path = write_spec("input: [8, 8, 3]\nlayers:\n  - &c {type: conv2d, kernel: 3, filters: 4}\n"
                      "  - *c\n")
    assert symparams.load(str(path)).total == 112 + 4 * (9 * 4 + 1)


def test_yaml_uses_the_c_loader_when_available():
    import yaml
    from symparams import documents
    if getattr(yaml, "__with_libyaml__", False):
        assert issubclass(documents._YAML_LOADER, yaml.CSafeLoader)


@pytest.fixture
def pure_python_yaml(monkeypatch):
    """The fallback loader, as on a machine whose PyYAML lacks libyaml."""
    import yaml
    from symparams import documents
    monkeypatch.setattr(documents, "_YAML_BASE", yaml.SafeLoader)
    monkeypatch.setattr(documents, "_YAML_LOADER", documents.spec_yaml_loader(yaml.SafeLoader))


@pytest.mark.parametrize("text, fragment", [
    (billion_laughs()[0] + "\ninput: [8]\nlayers: [{type: flatten}]\n", "alias"),
    ("input: [8]\nlayers: " + "[" * 2000 + "]" * 2000 + "\n", "nested"),
    ("input: [8]\nlayers:\n" + "- " * 900 + "x\n", "nested"),
    ("input: [8]\ninput: [9]\nlayers: [{type: flatten}]\n", "duplicate key 'input'"),
    ("input: [%s]\nlayers: [{type: flatten}]\n" % ("9" * 5000), "too large to be a size"),
])
def test_pure_python_yaml_has_the_same_limits(pure_python_yaml, write_spec, text, fragment):
    count_fails(write_spec(text), fragment)


# --------------------------------------------------------------- deep nesting

@pytest.mark.parametrize("name, text", [
    ("deep.json", '{"input": [8, 8, 3], "layers": ' + "[" * 2000 + "]" * 2000 + "}"),
    ("deep.yaml", "input: [8, 8, 3]\nlayers: " + "[" * 2000 + "]" * 2000 + "\n"),
    ("block.yaml", "input: [8, 8, 3]\nlayers:\n" + "- " * 900 + "x\n"),
    ("deep.toml", "input = [8, 8, 3]\nlayers = " + "[" * 2000 + "]" * 2000 + "\n"),
])
def test_deep_nesting_is_one_line(write_spec, name, text):
    count_fails(write_spec(text, name), name, "nest")


def test_deep_nesting_on_stdin():
    proc = run_stdin("[" * 5000 + "]" * 5000, "count", "-")
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1, proc.stderr
    assert "nest" in proc.stderr and "Traceback" not in proc.stderr


# ----------------------------------------------------------- too-large numbers

@pytest.mark.parametrize("name, text", [
    ("big.json", '{"input": [%s, 8, 3], "layers": [{"type": "flatten"}]}' % ("9" * 5000)),
    ("big.yaml", "input: [%s, 8, 3]\nlayers: [{type: flatten}]\n" % ("9" * 5000)),
    ("big.toml", 'input = [%s, 8, 3]\nlayers = [{type = "flatten"}]\n' % ("9" * 5000)),
    ("hex.yaml", "input: [0x%s, 8, 3]\nlayers: [{type: flatten}]\n" % ("f" * 5000)),
    ("over.yaml", "input: [1%s, 8, 3]\nlayers: [{type: flatten}]\n" % ("0" * 101)),
])
def test_huge_literals_are_too_large_to_be_a_size(write_spec, name, text):
    count_fails(write_spec(text, name), name, "too large to be a size")


def test_huge_literal_on_stdin():
    proc = run_stdin("input: [%s, 8, 3]\nlayers: [{type: flatten}]\n" % ("9" * 5000),
                     "count", "-")
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1, proc.stderr
    assert "too large to be a size" in proc.stderr


def test_expression_results_have_the_same_maximum(write_spec):
    units = "*".join(["9^64"] * 71)
    path = write_spec(f"input: [8]\nlayers:\n  - {{type: dense, units: '{units}'}}\n")
    count_fails(path, "layer 1 (FC1)", "units", "too large to be a size")


def test_set_values_have_the_same_maximum(write_spec):
    code, _, err = run_main("count", "lenet", "--set", "k_1=" + "*".join(["9^64"] * 71))
    assert_one_line_error(code, err, "too large to be a size")
    code, _, err = run_main("count", "lenet", "--set", "k_1=1" + "0" * 101)
    assert_one_line_error(code, err, "too large to be a size")
    # A name set to a large value inside a power is checked after substitution.
    path = write_spec("input: [8]\nlayers:\n  - {type: dense, units: 'H^64'}\n")
    code, _, err = run_main("count", path, "--set", "H=10^60")
    assert_one_line_error(code, err, "too large to be a size")
    with pytest.raises(SymparamsError, match="too large"):
        symparams.load("lenet").subs(k_1=10 ** 101)


def test_the_largest_size_is_accepted(write_spec):
    path = write_spec("input: [1%s]\nlayers:\n  - {type: dense, units: 1}\n" % ("0" * 100))
    assert symparams.load(str(path)).total == 10 ** 100 + 1


# ------------------------------------------------------------ printable output

def test_lone_surrogate_in_a_name(write_spec):
    path = write_spec('{"input": [8, 8, 3], "layers": [{"type": "conv2d", "name": "\\udc80", '
                      '"kernel": 9, "filters": 4}]}', "s.json")
    err = count_fails(path, "\\udc80")
    proc = run_cli("count", path)
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1, proc.stderr


def test_newline_in_a_key_does_not_split_the_line(write_spec):
    path = write_spec('{"input": [8], "layers": [{"type": "dense", "units": 4, "bad\\nkey": 1}]}',
                      "k.json")
    count_fails(path, "bad\\nkey")


def test_newline_in_a_set_argument(write_spec):
    code, _, err = run_main("count", "lenet", "--set", "k_1\nsymparams: error: forged=1")
    assert_one_line_error(code, err)


def test_escape_sequence_in_a_name_never_reaches_the_terminal(write_spec):
    path = write_spec('name: "\\e[31mRED"\n' + SIMPLE)
    code, out, err = run_main("count", path)
    assert code == 0, err
    assert "\x1b" not in out and "\\x1b[31mRED" in out
    path = write_spec('input: [8, 8, 3]\nlayers:\n  - {type: conv2d, name: "\\e[2J", kernel: 3, '
                      'filters: 4}\n')
    code, out, err = run_main("count", path)
    assert code == 0 and "\x1b" not in out and "\\x1b[2J" in out


def test_long_values_are_shortened(write_spec):
    path = write_spec("input: [8, 8, 3]\nlayers:\n  - {type: conv2d, kernel: 3, filters: "
                      + json.dumps(list(range(5000))) + "}\n")
    count_fails(path, "filters")
    path = write_spec('{"input": [8, 8, 3], "layers": [{"type": "conv2d", "kernel": 3, '
                      '"filters": 4, "%s": 1}]}' % ("x" * 3000), "long.json")
    count_fails(path, "unknown field")
    path = write_spec('{"name": "%s", "input": [8, 8, 3], "layers": [{"type": "conv2d", '
                      '"name": "%s", "kernel": 30, "filters": 4}]}' % ("n" * 3000, "m" * 3000),
                      "names.json")
    count_fails(path, "window does not fit")


def test_printable_escapes_controls_and_keeps_unicode():
    assert printable("k₁ × 3") == "k₁ × 3"
    assert printable("a\nb") == "a\\nb"
    assert printable("\u202eevil") == "\\u202eevil"


# ------------------------------------------------------------- keyword fields

@pytest.mark.parametrize("layer, fragments", [
    ("{type: conv2d, kernel: 3, filters: 4, padding: smae}", ("padding", "'smae'", "did you mean 'same'")),
    ("{type: conv2d, kernel: 3, filters: 4, padding: causal}", ("padding", "'causal'", "same, valid")),
    ("{type: maxpool2d, kernel: 2, padding: [1, vaild]}", ("padding", "did you mean 'valid'")),
    ("{type: dense, units: 4, activation: banana}", ("activation", "'banana'", "relu")),
    ("{type: dense, units: 4, activation: sofmax}", ("activation", "did you mean 'softmax'")),
    ("{type: activation, function: tanhh}", ("function", "did you mean 'tanh'")),
])
def test_misspelt_keywords_are_errors(write_spec, layer, fragments):
    path = write_spec(f"input: [8, 8, 3]\nlayers:\n  - {layer}\n")
    count_fails(path, "layer 1", *fragments)


def test_letters_and_declared_symbols_are_sizes_in_keyword_fields(write_spec):
    path = write_spec("input: [8, 8, 3]\nlayers:\n  - {type: conv2d, kernel: 3, filters: 4, "
                      "padding: P_1}\n")
    assert "P_1" in symparams.load(str(path)).free_symbols
    path = write_spec("symbols: [pad]\ninput: [8, 8, 3]\nlayers:\n  - {type: conv2d, kernel: 3, "
                      "filters: 4, padding: pad}\n")
    net = symparams.load(str(path))
    assert "pad" in net.free_symbols
    assert net.subs(pad=1)["CONV1"].output_shape[0] == 8
    path = write_spec("symbols: [7]\n" + SIMPLE)
    count_fails(path, "symbols")


def test_known_keywords_keep_working(write_spec):
    path = write_spec("input: [8, 8, 3]\nlayers:\n  - {type: conv2d, kernel: 3, filters: 4, "
                      "padding: Same}\n  - {type: dense, units: 4, activation: ReLU}\n"
                      "  - {type: activation, function: leaky_relu}\n")
    assert symparams.load(str(path)).total == 112 + 4 * (8 * 8 * 4) + 4


def test_set_value_must_be_a_size(write_spec):
    code, _, err = run_main("count", "lenet", "--set", "k_2=abc")
    assert_one_line_error(code, err, "k_2", "'abc'")
    code, out, err = run_main("count", "lenet", "--set", "k_2=k")
    assert code == 0, err


def test_homework_template_with_a_misspelt_padding(write_spec, tmp_path):
    path = write_spec("name: hw\ninput: [32, 32, 3]\nlayers:\n  - {type: conv2d, kernel: "
                      "{choice: [3, 5]}, filters: 4, padding: smae}\n  - {type: flatten}\n"
                      "  - {type: dense, units: 10}\n")
    code, _, err = run_main("homework", path, "--variants", "2", "-o", tmp_path / "hw",
                            "--format", "md", "--quiet")
    assert_one_line_error(code, err, "padding", "did you mean 'same'")
    assert not (tmp_path / "hw").exists()


def test_homework_template_with_a_letter_as_padding(write_spec, tmp_path):
    path = write_spec("name: hw\ninput: [32, 32, 3]\nlayers:\n  - {type: conv2d, kernel: "
                      "{choice: [3, 5]}, filters: 4, padding: P}\n  - {type: flatten}\n"
                      "  - {type: dense, units: 10}\n")
    code, _, err = run_main("homework", path, "--variants", "2", "-o", tmp_path / "hw",
                            "--format", "md", "--quiet")
    assert_one_line_error(code, err, "padding")


# --------------------------------------------------------------- pool padding

@pytest.mark.parametrize("layer", [
    "{type: maxpool2d, kernel: 2, padding: 2}",
    "{type: avgpool2d, kernel: [3, 2], padding: [1, 2]}",
])
def test_pool_padding_over_half_the_window_is_refused(write_spec, layer):
    path = write_spec(f"input: [8, 8, 3]\nlayers:\n  - {layer}\n")
    count_fails(path, "layer 1 (POOL1)", "padding", "half")


def test_pool_padding_of_half_the_window_is_fine(write_spec):
    path = write_spec("input: [8, 8, 3]\nlayers:\n  - {type: maxpool2d, kernel: 2, padding: 1}\n")
    assert symparams.load(str(path))["POOL1"].output_shape == (5, 5, 3)


def test_pool_padding_set_later_is_checked(write_spec):
    path = write_spec("input: [8, 8, 3]\nlayers:\n  - {type: maxpool2d, kernel: 2, padding: P}\n")
    code, _, err = run_main("count", path, "--set", "P=3")
    assert_one_line_error(code, err, "padding", "half")


# ------------------------------------------------------------ type suggestions

@pytest.mark.parametrize("kind", ["Cropping2D", "depthwise_conv1d", "LocallyConnected2D",
                                  "localresponsenorm", "LocalResponseNormalization", "TimeDistributed",
                                  "capsule_layer", "ReflectionPad2d"])
def test_unsupported_layer_kinds_say_so(write_spec, kind):
    path = write_spec(f"input: [8, 8, 3]\nlayers:\n  - {{type: {kind}}}\n")
    err = count_fails(path, "not supported yet", "conv2d, maxpool2d")
    assert "did you mean" not in err


@pytest.mark.parametrize("kind, meant", [("conv2", None), ("cnov2d", "conv2d"),
                                         ("denes", "dense"), ("maxpol2d", "maxpool2d")])
def test_close_misspellings_get_did_you_mean(write_spec, kind, meant):
    path = write_spec(f"input: [8, 8, 3]\nlayers:\n  - {{type: {kind}, kernel: 3, filters: 2}}\n"
                      if kind == "conv2" else
                      f"input: [8, 8, 3]\nlayers:\n  - {{type: {kind}}}\n")
    if meant is None:
        assert symparams.load(str(path)).total  # an alias, not a misspelling
    else:
        count_fails(path, f"did you mean '{meant}'")


def test_far_words_get_no_suggestion(write_spec):
    path = write_spec("input: [8, 8, 3]\nlayers:\n  - {type: banana}\n")
    err = count_fails(path, "unknown layer type 'banana'")
    assert "did you mean" not in err


def test_activation_function_as_a_type_says_how_to_write_it(write_spec):
    path = write_spec("input: [8]\nlayers:\n  - {type: softmax}\n")
    count_fails(path, "type: activation", "function: softmax")


# ------------------------------------------------------- duplicates and folders

@pytest.mark.parametrize("name, text", [
    ("dup.yaml", "input: [8, 8, 3]\nlayers:\n  - {type: conv2d, kernel: 3, filters: 4, "
                 "filters: 5}\n"),
    ("top.yaml", "input: [8, 8, 3]\ninput: [9, 9, 3]\nlayers: [{type: flatten}]\n"),
    ("dup.json", '{"input": [8, 8, 3], "layers": [{"type": "conv2d", "kernel": 3, '
                 '"filters": 4, "filters": 5}]}'),
    ("dup.toml", 'input = [8, 8, 3]\ninput = [9, 9, 3]\nlayers = [{type = "flatten"}]\n'),
])
def test_duplicate_keys_are_refused(write_spec, name, text):
    count_fails(write_spec(text, name), name, "input" if name.startswith(("top", "dup.toml"))
                else "filters")


def test_duplicate_keys_say_duplicate(write_spec):
    err = count_fails(write_spec("input: [8]\ninput: [9]\nlayers: [{type: flatten}]\n"),
                      "duplicate key 'input'")
    assert "line 2" in err


def test_yaml_merge_keys_are_not_duplicates(write_spec):
    path = write_spec("base: &b {type: conv2d, kernel: 3, filters: 4}\n" if False else
                      "input: [8, 8, 3]\nlayers:\n  - &c {type: conv2d, kernel: 3, filters: 4}\n"
                      "  - {<<: *c, filters: 6}\n")
    assert symparams.load(str(path)).total == 112 + 6 * (9 * 4 + 1)


def test_a_folder_as_spec_says_it_is_a_folder(tmp_path):
    (tmp_path / "specs").mkdir()
    code, _, err = run_main("count", tmp_path / "specs")
    assert_one_line_error(code, err, "is a folder")
    assert "no such file" not in err


# ----------------------------------------------------------- argparse errors

@pytest.mark.parametrize("argv", [
    [], ["nope"], ["count"], ["count", "lenet", "--bogus"], ["report"], ["homework"],
    ["homework", "lenet", "--variants", "x"], ["grade", "x"], ["sweep", "lenet"],
    ["solve", "lenet", "--whatever"], ["diff", "lenet"], ["explain", "a", "b"],
    ["presets", "extra"], ["homework", "lenet", "--seed", "9" * 5000],
    ["count", "lenet", "--bad\noption"],
])
def test_usage_errors_are_one_line(argv):
    code, out, err = run_main(*argv)
    assert code == 2
    lines = err.splitlines()
    assert 1 <= len(lines) <= 2, err
    assert lines[0].startswith("symparams") and "error" in lines[0]
    assert all(len(line) <= 320 for line in lines), err
    assert "\x1b" not in err


def test_usage_error_from_a_subprocess():
    proc = run_cli("count")
    assert proc.returncode == 2 and len(proc.stderr.splitlines()) <= 2, proc.stderr


def test_a_huge_file_is_refused_unread(write_spec):
    path = write_spec("# " + " " * (33 * 2 ** 20) + "\n" + SIMPLE, "huge.yaml")
    count_fails(path, "larger than 32 MB")


def test_lone_surrogates_are_refused_when_read(write_spec):
    path = write_spec('{"name": "\\udc80", "input": [8], "layers": [{"type": "dense", "units": 3}]}',
                      "ok.json")
    count_fails(path, "lone surrogate", "\\udc80")
    proc = run_cli("count", path, "--json")
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1, proc.stderr


def test_readme_lists_every_activation_name():
    from symparams.layers.base import ACTIVATIONS
    readme = (ROOT / "README.md").read_text("utf-8")
    assert all(f"`{name}`" in readme for name in ACTIVATIONS)


def test_declared_symbols_survive_to_spec(write_spec):
    from symparams.network import Network
    from symparams.spec import spec_from_data
    path = write_spec("symbols: [pad]\ninput: [8, 8, 3]\nlayers:\n  - {type: conv2d, kernel: 3, "
                      "filters: 4, padding: pad}\n")
    net = symparams.load(str(path))
    again = Network.from_spec(spec_from_data(net.to_spec(), source="again"))
    assert again.total == net.total and "pad" in again.free_symbols
