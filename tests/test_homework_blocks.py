"""A homework template built from blocks: a BatchNorm and a residual block whose
sizes vary through the block's parameters, giving valid variants and right keys."""
from __future__ import annotations

import json

import yaml

from conftest import run_cli


def expected_total(spec: dict) -> int:
    """resnet-block's count worked out by hand from the variant's own sizes."""
    height, _, channels = spec["input"]
    width = spec["layers"][0]["with"]["width"]
    units = spec["layers"][-1]["units"]
    blocks = spec["layers"][0]["with"]["blocks"]
    stem = 3 * 3 * channels * width + 2 * width            # conv without bias, BatchNorm
    block = 2 * (3 * 3 * width * width + 2 * width)         # two convolutions, two BatchNorms
    pooled = (height // 2) ** 2 * width
    return stem + blocks * block + pooled * units + units


def test_resnet_block_template_gives_valid_variants_with_right_keys(tmp_path):
    out = tmp_path / "hw"
    done = run_cli("homework", "resnet-block", "--variants", "4", "--seed", "3",
                   "--format", "md", "--quiet", "-o", out)
    assert done.returncode == 0, done.stderr
    manifest = json.loads((out / "manifest.json").read_text("utf-8"))
    variants = manifest["variants"]
    assert len(variants) == 4
    widths = set()
    for variant in variants:
        spec = yaml.safe_load((out / variant["spec"]).read_text("utf-8"))
        widths.add(spec["layers"][0]["with"]["width"])
        answers = variant["answers"]
        assert answers["total"] == expected_total(spec)
        by_name = {layer["name"]: layer for layer in answers["layers"]}
        width = spec["layers"][0]["with"]["width"]
        last = spec["layers"][0]["with"]["blocks"] - 1
        assert by_name[f"net.layer1.{last}.bn2"]["params"] == 2 * width
        assert f"net.layer1.{last + 1}.bn2" not in by_name
        assert by_name["net.layer1.0.conv2"]["params"] == 9 * width * width
        assert by_name[f"net.layer1.{last}.add"]["output_shape"][-1] == width
        # the variant's spec is a normal spec giving the same answers
        counted = run_cli("count", out / variant["spec"], "--json")
        assert json.loads(counted.stdout)["total"] == answers["total"]
        questions = {q["id"]: q for q in variant["questions"]}
        assert any(q.startswith("params.") for q in questions)
    assert len(widths) > 1                      # the block's parameter does vary


def test_a_variation_inside_a_block_definition_points_to_with(write_spec):
    text = run_cli("homework", "--show-template", "resnet-block").stdout
    data = yaml.safe_load(text)
    data["blocks"]["residual"]["layers"][0]["kernel"] = {"choice": [3, 5]}
    path = write_spec(yaml.safe_dump(data), "t.yaml")
    done = run_cli("homework", path, "--variants", "1", "--quiet", "-o", path.parent / "o")
    assert done.returncode == 2
    assert "belongs in with:" in done.stderr and "blocks.residual.kernel" in done.stderr
    assert done.stderr.count("\n") == 1


def test_presets_lists_the_residual_template():
    out = run_cli("presets").stdout
    assert "resnet-block" in out.partition("Homework templates")[2]
