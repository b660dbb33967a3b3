"""One list of presets: network presets and homework templates, and which command takes which."""
from __future__ import annotations

import pytest
import yaml

from conftest import run_cli


def test_presets_lists_both_kinds_and_their_commands():
    result = run_cli("presets")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    networks, _, templates = out.partition("Homework templates")
    assert templates, out
    for name in ("alexnet", "lenet", "vgg16"):
        assert name in networks
    for name in ("lenet", "strided", "vgg-small"):
        assert name in templates
    assert "vgg-small" not in networks and "alexnet" not in templates
    assert "62,958" in networks                   # lenet's total, as a person reads it
    assert "symparams count" in networks and "symparams homework" in templates
    assert "--show-template" in templates


@pytest.mark.parametrize("name", ["lenet", "vgg-small", "strided"])
def test_show_template_prints_a_template_to_start_from(name, tmp_path):
    result = run_cli("homework", "--show-template", name)
    assert result.returncode == 0, result.stderr
    data = yaml.safe_load(result.stdout)
    assert data["name"] == name and data["layers"]
    # What it printed is a template the homework command reads.
    path = tmp_path / "mine.yaml"
    path.write_text(result.stdout, encoding="utf-8")
    done = run_cli("homework", path, "--variants", "2", "--format", "md", "--quiet",
                   "-o", tmp_path / "out")
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "out" / "manifest.json").is_file()


def test_show_template_of_something_else_says_what_exists():
    result = run_cli("homework", "--show-template", "alexnet")
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert "lenet, resnet-block, strided, vgg-small" in result.stderr


@pytest.mark.parametrize("args, fragments", [
    (["count", "vgg-small"], ["homework template", "symparams homework vgg-small",
                              "alexnet, lenet, mobilenet_v2, resnet18"]),
    (["report", "strided", "--format", "md"], ["homework template", "alexnet, lenet, mobilenet_v2, resnet18"]),
    (["homework", "alexnet", "--variants", "1"], ["network preset", "symparams count alexnet",
                                                  "lenet, resnet-block, strided, vgg-small"]),
    (["homework", "vgg16", "--variants", "1"], ["network preset", "lenet, resnet-block, strided, vgg-small"]),
    (["count", "nothing-like-it"], ["alexnet, lenet, mobilenet_v2, resnet18"]),
])
def test_the_wrong_kind_of_preset_says_exactly_what_exists(args, fragments, tmp_path):
    result = run_cli(*args, cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    for fragment in fragments:
        assert fragment in result.stderr, result.stderr
    assert not any(tmp_path.iterdir())   # nothing written
