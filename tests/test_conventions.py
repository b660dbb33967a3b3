"""Framework conventions and the three parts of every count.

PyTorch and Keras count batch normalisation differently: PyTorch has 2 × C
parameters (γ, β) and keeps the running mean and variance as 2 × C buffers,
which are not parameters; Keras reports 4 × C parameters of which 2 × C (the
moving mean and variance) are non-trainable.  A network states its convention
(``convention: pytorch | keras``, PyTorch by default, ``--convention`` on the
command line, ``convention:`` on one layer), and every count has three parts:
trainable, non-trainable (frozen layers, Keras' moving statistics) and buffers.
The expected numbers are written out here from the channels, not taken from
symparams.
"""
from __future__ import annotations

import json

import pytest
from sympy import Integer

from conftest import import_torch, run_cli
from symparams import Network, SymparamsError, explain, load
from symparams.layers import BatchNorm, Conv2D, Dense, Flatten
from symparams.spec import size_symbol, spec_from_data

torch, nn = import_torch()

needs_torch = pytest.mark.skipif(torch is None, reason="torch extra not installed")

# conv(3 → 8, 3 × 3, padding 1) + BN(8) + conv(8 → 12, 3 × 3) + BN(12) + flatten + dense(10)
CONV1 = (3 * 3 * 3 + 1) * 8
CONV2 = (3 * 3 * 8 + 1) * 12
DENSE = (6 * 6 * 12 + 1) * 10
BN_CHANNELS = (8, 12)


def bn_spec(convention=None, **extra) -> dict:
    spec = {"name": "bnnet", "input": [8, 8, 3], "layers": [
        {"type": "conv2d", "kernel": 3, "filters": 8, "padding": 1},
        {"type": "batchnorm"},
        {"type": "conv2d", "kernel": 3, "filters": 12},
        {"type": "batchnorm"},
        {"type": "flatten"},
        {"type": "dense", "units": 10}]}
    if convention is not None:
        spec["convention"] = convention
    spec.update(extra)
    return spec


BN_YAML = ("name: bnnet\ninput: [8, 8, 3]\n{top}layers:\n"
           "  - {{type: conv2d, kernel: 3, filters: 8, padding: 1}}\n"
           "  - {{type: batchnorm}}\n"
           "  - {{type: conv2d, kernel: 3, filters: 12}}\n"
           "  - {{type: batchnorm{bn2}}}\n"
           "  - {{type: flatten}}\n"
           "  - {{type: dense, units: 10{dense}}}\n")


def bn_yaml(write_spec, top="", bn2="", dense=""):
    return write_spec(BN_YAML.format(top=top, bn2=bn2, dense=dense))


def net_of(spec: dict) -> Network:
    return Network.from_spec(spec_from_data(spec))


# ------------------------------------------------------------------ the two conventions

def test_pytorch_is_the_default_running_statistics_are_buffers():
    net = net_of(bn_spec())
    assert net.convention == "pytorch"
    learned = sum(2 * c for c in BN_CHANNELS)
    assert net.total == CONV1 + CONV2 + DENSE + learned
    assert net.trainable_total == net.total
    assert net.non_trainable_total == 0
    assert net.buffers_total == sum(2 * c for c in BN_CHANNELS)
    for value in (net.trainable_total, net.non_trainable_total, net.buffers_total):
        assert isinstance(value, Integer)
    bn1 = net["BN1"]
    assert (bn1.params, bn1.trainable, bn1.non_trainable, bn1.buffers) == (16, 16, 0, 16)
    assert net["CONV1"].buffers == 0 and net["CONV1"].trainable == CONV1


def test_keras_counts_four_c_of_which_two_c_non_trainable():
    net = net_of(bn_spec("keras"))
    assert net.convention == "keras"
    moving = sum(2 * c for c in BN_CHANNELS)
    assert net.total == CONV1 + CONV2 + DENSE + sum(4 * c for c in BN_CHANNELS)
    # Keras' non-trainable count: twice the channels summed over the BatchNorm layers.
    assert net.non_trainable_total == moving
    assert net.trainable_total == net.total - moving
    assert net.buffers_total == 0
    bn2 = net["BN2"]
    assert (bn2.params, bn2.trainable, bn2.non_trainable, bn2.buffers) == (48, 24, 24, 0)
    C = size_symbol("C_2")
    assert bn2.formula == 4 * C
    assert "Keras" in bn2.step.title or "Keras" in bn2.step.reason


def test_the_reason_says_the_convention_and_what_the_other_framework_says():
    torch_reason = net_of(bn_spec())["BN1"].step.reason
    keras_reason = net_of(bn_spec("keras"))["BN1"].step.reason
    assert "PyTorch convention" in torch_reason and "Keras" in torch_reason
    assert "Keras convention" in keras_reason and "PyTorch" in keras_reason
    for reason in (torch_reason, keras_reason):
        assert "2 × C parameters and 2 × C buffers" in reason
        assert "4 × C of which 2 × C non-trainable" in reason
    assert "num_batches_tracked" in torch_reason


@pytest.mark.parametrize("switches, learned", [({}, 2), ({"scale": False}, 1),
                                               ({"center": False}, 1), ({"affine": False}, 0)])
def test_keras_keeps_moving_statistics_whatever_the_switches(switches, learned):
    channels = 6
    keras = net_of({"input": [4, 4, channels], "convention": "keras",
                    "layers": [{"type": "batchnorm", **switches}]})
    torch_net = net_of({"input": [4, 4, channels], "layers": [{"type": "batchnorm", **switches}]})
    assert keras.total == (learned + 2) * channels
    assert keras.non_trainable_total == 2 * channels and keras.buffers_total == 0
    assert torch_net.total == learned * channels
    assert torch_net.non_trainable_total == 0 and torch_net.buffers_total == 2 * channels


def test_other_layers_count_the_same_under_both_conventions():
    assert load("lenet").total == load("lenet", convention="keras").total == 62958
    assert load("lenet", convention="keras").non_trainable_total == 0


def test_a_layer_may_override_the_networks_convention():
    spec = bn_spec("keras")
    spec["layers"][1] = {"type": "batchnorm", "convention": "pytorch"}
    net = net_of(spec)
    assert (net["BN1"].params, net["BN1"].non_trainable, net["BN1"].buffers) == (16, 0, 16)
    assert (net["BN2"].params, net["BN2"].non_trainable, net["BN2"].buffers) == (48, 24, 0)
    # The layer's own choice survives the spec round trip; the network's is written once.
    data = net.to_spec()
    assert data["convention"] == "keras"
    assert data["layers"][1].get("convention") == "pytorch"
    assert "convention" not in data["layers"][3]
    assert net_of(data).total == net.total


def test_the_api_takes_a_convention_and_keeps_it_through_subs():
    layers = [Conv2D(kernel=3, filters=4), BatchNorm(), Flatten(), Dense(units=2)]
    net = Network(layers, input=(6, 6, 1), convention="keras")
    assert net["BN1"].params == 16 and net.non_trainable_total == 8
    wider = net.subs({"CONV1.filters": 5})
    assert wider.convention == "keras" and wider.non_trainable_total == 10
    assert net.symbolic().convention == "keras"
    with pytest.raises(SymparamsError, match="convention"):
        Network(layers, input=(6, 6, 1), convention="tensorflow")


def test_symbolic_sizes_give_symbolic_parts():
    net = net_of({"input": [8, 8, "C"], "convention": "keras",
                  "layers": [{"type": "batchnorm"}]})
    C = size_symbol("C")
    assert net.total == 4 * C and net.non_trainable_total == 2 * C
    assert net.trainable_total == 2 * C and net.buffers_total == 0


def test_a_bad_convention_is_one_line_naming_the_field(write_spec):
    path = bn_yaml(write_spec, top="convention: tensorflow\n")
    result = run_cli("count", path)
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert "convention" in result.stderr and "pytorch" in result.stderr
    path = bn_yaml(write_spec, bn2=", convention: jax")
    result = run_cli("count", path)
    assert result.returncode == 2 and "layer 4" in result.stderr
    assert "convention" in result.stderr and result.stderr.count("\n") == 1


# ------------------------------------------------------------------ trainable: false

def test_a_frozen_layer_moves_its_parameters_to_non_trainable():
    spec = bn_spec()
    spec["layers"][0]["trainable"] = False
    net = net_of(spec)
    plain = net_of(bn_spec())
    assert net.total == plain.total             # the parameters are still there
    assert net.non_trainable_total == CONV1
    assert net.trainable_total == plain.total - CONV1
    conv1 = net["CONV1"]
    assert (conv1.trainable, conv1.non_trainable, conv1.frozen) == (0, CONV1, True)
    assert not net["CONV2"].frozen
    assert any("trainable: false" in note for note in conv1.step.notes)


@pytest.mark.parametrize("convention, parts", [("pytorch", (0, 24, 24)),
                                                ("keras", (0, 48, 0))])
def test_a_frozen_batchnorm_under_each_convention(convention, parts):
    spec = bn_spec(convention)
    spec["layers"][3]["trainable"] = False
    bn2 = net_of(spec)["BN2"]
    assert (bn2.trainable, bn2.non_trainable, bn2.buffers) == parts


def test_trainable_true_is_the_default_and_round_trips():
    spec = bn_spec()
    spec["layers"][0]["trainable"] = True
    spec["layers"][2]["trainable"] = False
    net = net_of(spec)
    assert not net["CONV1"].frozen and net["CONV2"].frozen
    data = net.to_spec()
    assert "trainable" not in data["layers"][0]
    assert data["layers"][2]["trainable"] is False
    again = net_of(data)
    assert again.non_trainable_total == net.non_trainable_total == CONV2
    assert net.subs({"CONV2.filters": 4})["CONV2"].frozen


def test_the_api_freezes_layers_by_name():
    layers = [Conv2D(kernel=3, filters=4, name="BACKBONE"), Flatten(), Dense(units=2)]
    net = Network(layers, input=(6, 6, 1), frozen=["BACKBONE"])
    assert net.non_trainable_total == 40 and net.trainable_total == net.total - 40
    with pytest.raises(SymparamsError, match="NOPE"):
        Network(layers, input=(6, 6, 1), frozen=["NOPE"])


def test_a_bad_trainable_value_is_one_line_naming_layer_and_field(write_spec):
    path = bn_yaml(write_spec, dense=", trainable: maybe")
    result = run_cli("count", path)
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert "trainable" in result.stderr and "layer 6" in result.stderr


# ------------------------------------------------------------------ command line

def test_cli_convention_overrides_the_spec(write_spec):
    path = bn_yaml(write_spec, top="convention: pytorch\n")
    data = json.loads(run_cli("count", path, "--json", "--convention", "keras").stdout)
    assert data["convention"] == "keras"
    moving = sum(2 * c for c in BN_CHANNELS)
    assert data["total_non_trainable"] == moving
    assert data["total_trainable"] == data["total"] - moving
    assert data["total_buffers"] == 0
    torch_data = json.loads(run_cli("count", path, "--json").stdout)
    assert torch_data["convention"] == "pytorch"
    assert torch_data["total_buffers"] == moving and torch_data["total_non_trainable"] == 0


def test_json_layers_have_the_three_parts(write_spec):
    path = bn_yaml(write_spec, dense=", trainable: false")
    data = json.loads(run_cli("count", path, "--json").stdout)
    bn1 = data["layers"][2]
    assert (bn1["params"], bn1["trainable"], bn1["non_trainable"], bn1["buffers"]) == \
        (16, 16, 0, 16)
    dense = data["layers"][6]
    assert (dense["trainable"], dense["non_trainable"]) == (0, DENSE)
    assert data["total_non_trainable"] == DENSE


def test_records_and_csv_have_the_three_parts():
    net = net_of(bn_spec("keras"))
    record = net.to_records()[2]
    assert (record["trainable"], record["non_trainable"], record["buffers"]) == (16, 16, 0)
    lines = net.to_csv().splitlines()
    header = lines[0].split(",")
    assert header[-3:] == ["trainable", "non_trainable", "buffers"]
    total = lines[-1].split(",")
    assert total[-4:] == [str(net.total), str(net.trainable_total), "40", "0"]


def test_terminal_shows_the_split_when_there_is_one(write_spec):
    path = bn_yaml(write_spec)
    keras = run_cli("count", path, "--convention", "keras").stdout
    moving = sum(2 * c for c in BN_CHANNELS)
    total = CONV1 + CONV2 + DENSE + sum(4 * c for c in BN_CHANNELS)
    assert f"Total params: {total:,}" in keras
    assert f"Trainable params: {total - moving:,}" in keras
    assert f"Non-trainable params: {moving:,}" in keras
    assert "Keras convention" in keras
    assert "non-trainable" in keras.splitlines()[1] or "non-train" in keras
    pytorch = run_cli("count", path).stdout
    assert f"Buffers (not parameters): {moving:,}" in pytorch
    assert "PyTorch convention" in pytorch


def test_lenet_table_is_unchanged():
    out = run_cli("count", "lenet").stdout
    assert "Total: 62,958 learnable parameters" in out
    assert "non-trainable" not in out and "buffers" not in out.lower()


def test_solve_sweep_and_diff_take_the_convention(write_spec):
    path = bn_yaml(write_spec)
    keras_total = CONV1 + CONV2 + DENSE + sum(4 * c for c in BN_CHANNELS)
    result = run_cli("solve", path, "--for", "CONV1.filters", "--total", keras_total,
                     "--convention", "keras")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "8" in result.stdout.splitlines()[-1]
    sweep = run_cli("sweep", path, "--vary", "CONV1.filters=8", "--csv", "--convention", "keras")
    assert str(keras_total) in sweep.stdout
    diff = json.loads(run_cli("diff", path, path, "--json", "--convention", "keras").stdout)
    assert diff["total_a"] == keras_total


# ------------------------------------------------------------------ reports and explain

@pytest.mark.parametrize("fmt, suffix", [("md", "md"), ("html", "html"), ("tex", "tex")])
def test_every_report_states_the_convention_and_the_split(write_spec, tmp_path, fmt, suffix):
    path = bn_yaml(write_spec, dense=", trainable: false")
    out = tmp_path / "out"
    result = run_cli("report", path, "--format", fmt, "-o", out, "--convention", "keras")
    assert result.returncode == 0, result.stderr
    text = (out / f"bnnet.{suffix}").read_text(encoding="utf-8")
    assert "Keras convention" in text
    moving = sum(2 * c for c in BN_CHANNELS)
    assert f"{moving + DENSE:,} non-trainable" in text
    assert "non-trainable" in text
    assert "trainable: false" in text or "frozen" in text


def test_pdf_report_states_the_convention(write_spec, tmp_path):
    pytest.importorskip("weasyprint")
    from test_report_pdf import pdf_text
    path = bn_yaml(write_spec)
    out = tmp_path / "out"
    result = run_cli("report", path, "--format", "pdf", "-o", out)
    assert result.returncode == 0, result.stderr
    text = " ".join(pdf_text(out / "bnnet.pdf"))
    assert "PyTorch convention" in text and "buffers" in text


def test_explain_batchnorm_gives_both_conventions():
    text = str(explain("batchnorm"))
    assert "4 × C" in text and "Keras" in text and "buffers" in text
    assert "num_batches_tracked" in text


# ------------------------------------------------------------------ PyTorch itself

@needs_torch
@pytest.mark.parametrize("channels", [3, 16])
@pytest.mark.parametrize("affine", [True, False])
def test_batchnorm2d_parameters_and_buffers(channels, affine):
    module = nn.BatchNorm2d(channels, affine=affine)
    net = net_of({"input": [4, 4, channels],
                  "layers": [{"type": "batchnorm", "affine": affine}]})
    assert net.total == sum(p.numel() for p in module.parameters())
    # PyTorch keeps a 1-value num_batches_tracked counter too: left out of our buffers.
    buffers = sum(b.numel() for b in module.buffers())
    assert module.num_batches_tracked.numel() == 1
    assert net.buffers_total == buffers - 1
    assert net.non_trainable_total == 0


@needs_torch
def test_requires_grad_false_matches_trainable_false():
    spec = bn_spec()
    spec["layers"][0]["trainable"] = False
    spec["layers"][1]["trainable"] = False
    net = net_of(spec)
    model = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8),
                          nn.Conv2d(8, 12, 3), nn.BatchNorm2d(12),
                          nn.Flatten(), nn.Linear(12 * 6 * 6, 10))
    model[0].requires_grad_(False)
    model[1].requires_grad_(False)
    params = list(model.parameters())
    assert net.total == sum(p.numel() for p in params)
    assert net.trainable_total == sum(p.numel() for p in params if p.requires_grad)
    assert net.non_trainable_total == sum(p.numel() for p in params if not p.requires_grad)
    assert net.buffers_total == sum(b.numel() for b in model.buffers()) - 2


def test_a_homework_template_keeps_the_convention_and_frozen_layers(write_spec, tmp_path):
    template = write_spec(
        "name: bnhw\nconvention: keras\ninput: [{choice: [16, 20]}, same, 3]\nlayers:\n"
        "  - {type: conv2d, name: CONV1, kernel: 3, filters: {choice: [4, 8]}, "
        "trainable: false}\n"
        "  - {type: batchnorm, name: BN1}\n"
        "  - {type: dense, name: FC, units: 10}\n"
        "questions:\n  - {type: params, points: 1}\n", name="hw.yaml")
    out = tmp_path / "hw"
    result = run_cli("homework", template, "--variants", "2", "--format", "md", "-o", out,
                     "--quiet", "--jobs", "1")
    assert result.returncode == 0, result.stderr
    spec = (out / "variant-01" / "spec.yaml").read_text(encoding="utf-8")
    assert "convention: keras" in spec and "trainable: false" in spec
    answers = (out / "variant-01" / "answers.md").read_text(encoding="utf-8")
    assert "Keras convention" in answers and "non-trainable" in answers


def test_jupyter_view_states_the_split_and_the_convention():
    html = net_of(bn_spec("keras"))._repr_html_()
    assert "Keras convention" in html and "40 non-trainable" in html
    assert "convention" not in load("lenet")._repr_html_()


def test_any_family_with_the_convention_field_gets_the_networks_convention():
    # Contract 1: a family declares convention_field(); None means the network's.
    from symparams.layers.base import Layer
    from symparams.layers.fields import Size, convention_field

    class Biased(Layer):
        """c + (c if Keras else 2 × c): a bias counted once by Keras, twice by PyTorch."""
        kind = "biased_test"
        family = "biased_test"
        name_prefix = "B"
        letters = {"c": "units"}
        schema = (Size("units", letter="c"), convention_field())
        vectors = 2   # the formula is the class's (generic_formula probes the class)

        def written_formula(self, L):
            from sympy import Integer, Mul
            return Mul(Integer(self.vectors), L["c"])

        def check(self):  # one class per formula, as the contract asks
            if self.convention == "keras" and type(self) is Biased:
                self.__class__ = BiasedKeras

    class BiasedKeras(Biased):
        vectors = 1

    layers = [Biased(units=5), Biased(units=5, convention="pytorch")]
    keras = Network(layers, input=(3,), convention="keras")
    assert [info.params for info in keras.layers[1:]] == [5, 10]
    assert [info.layer.convention for info in keras.layers[1:]] == ["keras", "pytorch"]
    assert Network(layers, input=(3,)).total == 20
    assert layers[0].convention is None   # the layer itself is left as it was
