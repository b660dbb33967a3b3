"""Importing PyTorch models through torch.fx (issue 10, item 1): every torchvision
classifier and small hand-built modules, checked against PyTorch's own counts.

The importer checks its own accounting; these tests check it again from the
outside, module by module (tests/frameworks.py counts each module's own
parameters as PyTorch holds them), and compare output shapes with a forward
pass, so a wrong rule cannot hide behind a right total.
"""
from __future__ import annotations

import warnings
from unittest import mock

import pytest

import frameworks as fw
from conftest import ROOT
from symparams import Network, SymparamsError
from symparams.spec import spec_from_data

pytestmark = pytest.mark.frameworks

# torchvision.models.list_models(module=torchvision.models) of torchvision 0.28;
# test_the_list_is_torchvisions keeps it honest.
CLASSIFIERS = (
    "alexnet", "convnext_base", "convnext_large", "convnext_small", "convnext_tiny",
    "densenet121", "densenet161", "densenet169", "densenet201", "efficientnet_b0",
    "efficientnet_b1", "efficientnet_b2", "efficientnet_b3", "efficientnet_b4",
    "efficientnet_b5", "efficientnet_b6", "efficientnet_b7", "efficientnet_v2_l",
    "efficientnet_v2_m", "efficientnet_v2_s", "googlenet", "inception_v3", "maxvit_t",
    "mnasnet0_5", "mnasnet0_75", "mnasnet1_0", "mnasnet1_3", "mobilenet_v2",
    "mobilenet_v3_large", "mobilenet_v3_small", "regnet_x_16gf", "regnet_x_1_6gf",
    "regnet_x_32gf", "regnet_x_3_2gf", "regnet_x_400mf", "regnet_x_800mf", "regnet_x_8gf",
    "regnet_y_128gf", "regnet_y_16gf", "regnet_y_1_6gf", "regnet_y_32gf", "regnet_y_3_2gf",
    "regnet_y_400mf", "regnet_y_800mf", "regnet_y_8gf", "resnet101", "resnet152", "resnet18",
    "resnet34", "resnet50", "resnext101_32x8d", "resnext101_64x4d", "resnext50_32x4d",
    "shufflenet_v2_x0_5", "shufflenet_v2_x1_0", "shufflenet_v2_x1_5", "shufflenet_v2_x2_0",
    "squeezenet1_0", "squeezenet1_1", "swin_b", "swin_s", "swin_t", "swin_v2_b", "swin_v2_s",
    "swin_v2_t", "vgg11", "vgg11_bn", "vgg13", "vgg13_bn", "vgg16", "vgg16_bn", "vgg19",
    "vgg19_bn", "vit_b_16", "vit_b_32", "vit_h_14", "vit_l_16", "vit_l_32",
    "wide_resnet101_2", "wide_resnet50_2",
)
# The classifiers that do not import, and the start of the reason (the README lists them).
NOT_IMPORTED: dict[str, str] = {}
# The input each model is read with: the image size its weights were trained on
# where the architecture fixes it (ViT's position table), else a small image
# (every size gives the same count; smaller is quicker).
INPUT = {name: (3, 224, 224) if name.startswith(("vit", "maxvit"))
         else (3, 299, 299) if name == "inception_v3" else (3, 96, 96) for name in CLASSIFIERS}


@pytest.fixture(scope="module")
def tv():
    return fw.import_torchvision()


def build(tv, name: str):
    """A torchvision classifier with random weights on the meta device (no memory, no
    download). RegNet's builder computes its widths with tensors, which the meta
    device cannot hold: that arithmetic runs on the CPU, the model on meta."""
    torch = fw.need("torch")
    from torchvision.models import regnet
    widths = regnet.BlockParams.from_init_params.__func__

    def on_cpu(cls, *args, **kwargs):
        with torch.device("cpu"):
            return widths(cls, *args, **kwargs)
    with mock.patch.object(regnet.BlockParams, "from_init_params", classmethod(on_cpu)), \
            torch.device("meta"), warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)   # GoogLeNet's note on its init
        return tv.models.get_model(name, weights=None)


def imported(model, input_shape, **options):
    from symparams.importers.torch_fx import spec_from_torch
    data = spec_from_torch(model, input_shape, **options)
    return data, Network.from_spec(spec_from_data(data))


def owner(name: str, paths: set[str]) -> str:
    """The module a layer counts: its own path, else the nearest module above it
    (``encoder.pos_embedding`` is the encoder's tensor, ``fc.positions`` part of fc)."""
    while name not in paths and name:
        name = name.rpartition(".")[0]
    return name


def per_module(net, model) -> tuple[dict[str, int], dict[str, int]]:
    """(ours, PyTorch's) parameters per module that holds any. A layer that stands for
    a whole module (nn.MultiheadAttention and its out_proj) gets its children's too."""
    paths = {path for path, _ in model.named_modules()}
    ours: dict[str, int] = {}
    for info in net.layers[1:]:
        if int(info.params):
            key = owner(info.name, paths)
            ours[key] = ours.get(key, 0) + int(info.params)
    theirs: dict[str, int] = {}
    for count in fw.module_counts(model):
        if count.params:
            key = count.path
            while key not in ours and key:
                key = key.rpartition(".")[0]
            theirs[key] = theirs.get(key, 0) + count.params
    return ours, theirs


def test_the_list_is_torchvisions(tv):
    assert sorted(tv.models.list_models(module=tv.models)) == sorted(CLASSIFIERS)


@pytest.mark.parametrize("name", [n for n in CLASSIFIERS if n not in NOT_IMPORTED])
def test_torchvision_classifier_imports_with_pytorchs_counts(tv, name):
    model = build(tv, name)
    data, net = imported(model, INPUT[name], name=name)
    assert net.total == fw.total_params(model)
    assert net.buffers_total == fw.total_buffers(model)[0]
    ours, theirs = per_module(net, model)
    assert ours == theirs


def test_classifiers_that_do_not_import_are_listed_with_the_reason(tv, capsys):
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    failures = {}
    for name, reason in NOT_IMPORTED.items():
        with pytest.raises(SymparamsError) as caught:
            imported(build(tv, name), INPUT[name], name=name)
        failures[name] = str(caught.value)
        assert reason in failures[name]
        assert f"`{name}`" in readme
    assert "torchvision classifiers that do not import:" in readme
    with capsys.disabled():
        print("\ntorchvision classifiers that do not import:",
              "none" if not failures else "", *(f"\n  {n}: {r}" for n, r in failures.items()))


@pytest.mark.parametrize("name", ["resnet18", "mobilenet_v3_small", "googlenet"])
def test_imported_shapes_are_pytorchs_forward_shapes(tv, name):
    torch = fw.need("torch")
    model = build(tv, name).eval()
    _, net = imported(model, (3, 96, 96))
    layers = {info.name: info for info in net.layers[1:]}
    paths = [p for p, _ in model.named_modules() if p in layers]
    forward = fw.output_shapes(model, torch.empty(1, 3, 96, 96, device="meta"), paths)
    for path, shape in forward.items():
        assert tuple(layers[path].output_shape) == fw.nchw_to_hwc(shape), path


# ---------------------------------------------------------------- hand-built modules

@pytest.fixture(scope="module")
def nn():
    return fw.need("torch").nn


def forward_shape(model, input_shape):
    torch = fw.need("torch")
    with torch.no_grad():
        return tuple(model.eval()(torch.zeros(1, *input_shape)).shape[1:])


def check(model, input_shape, **options):
    """Import ``model`` and check it against PyTorch: total, frozen, buffers, per module."""
    data, net = imported(model, input_shape, **options)
    assert net.total == fw.total_params(model)
    assert net.non_trainable_total == sum(p.numel() for p in model.parameters()
                                          if not p.requires_grad)
    assert net.buffers_total == fw.total_buffers(model)[0]
    ours, theirs = per_module(net, model)
    assert ours == theirs
    return data, net


def test_residual_block_adds_its_shortcut(nn):
    class Residual(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv2d(8, 8, 3, padding=1, bias=False)
            self.bn1 = nn.BatchNorm2d(8)
            self.conv2 = nn.Conv2d(8, 8, 3, padding=1)

        def forward(self, x):
            return (self.conv2(self.bn1(self.conv1(x))) + x).relu()
    data, net = check(Residual(), (8, 10, 12))
    add = next(e for e in data["layers"] if e["type"] == "add")
    assert add["inputs"] == ["conv2", "INPUT"]
    assert [e["type"] for e in data["layers"]] == ["conv2d", "batchnorm", "conv2d", "add",
                                                  "activation"]
    assert tuple(net.layers[-1].output_shape) == (10, 12, 8)


def test_functional_calls_are_named_by_the_module_they_are_called_in(nn):
    """A residual add inside ``blocks.0`` is ``blocks.0.add`` (the second one there
    ``blocks.0.add_2``); a call in the top-level forward keeps its bare name; a leaf
    module called twice keeps its path and the builder's ``_2``."""
    torch = fw.need("torch")

    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(4, 4, 3, padding=1)
            self.relu = nn.ReLU()

        def forward(self, x):
            y = self.relu(self.conv(x)) + x
            return self.relu(y + x)

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.blocks = nn.Sequential(Block(), Block())
            self.head = nn.Linear(4 * 5 * 5, 3)

        def forward(self, x):
            return self.head(torch.flatten(self.blocks(x), 1))
    data, net = check(Net(), (4, 5, 5))
    assert [e["name"] for e in data["layers"]] == [
        "blocks.0.conv", "blocks.0.relu", "blocks.0.add", "blocks.0.add_2", "blocks.0.relu_2",
        "blocks.1.conv", "blocks.1.relu", "blocks.1.add", "blocks.1.add_2", "blocks.1.relu_2",
        "flatten", "head"]
    assert tuple(net["blocks.1.add"].sources) == ("blocks.1.relu", "blocks.0.relu_2")


def test_a_call_named_like_a_module_leaves_the_path_to_the_module(nn):
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.relu = nn.ReLU()

        def forward(self, x):
            return self.relu(x.relu() * 2)
    data, _ = check(Net(), (3,))
    assert [e["name"] for e in data["layers"]] == ["relu_2", "mul", "relu"]


def test_torchvision_resnet18_adds_are_named_by_their_block(tv):
    data, _ = imported(build(tv, "resnet18"), INPUT["resnet18"])
    adds = [e["name"] for e in data["layers"] if e["type"] == "add"]
    assert adds == [f"layer{s}.{i}.add" for s in range(1, 5) for i in range(2)]
    assert [e["name"] for e in data["layers"][-3:]] == ["avgpool", "flatten", "fc"]


def test_branches_joined_by_cat_are_a_concat_along_the_channels(nn):
    torch = fw.need("torch")

    class Branches(nn.Module):
        def __init__(self):
            super().__init__()
            self.a = nn.Conv2d(3, 4, 1)
            self.b = nn.Conv2d(3, 6, 3, padding=1)
            self.head = nn.Linear(10 * 8 * 8, 5)

        def forward(self, x):
            y = torch.cat([self.a(x), self.b(x)], dim=1)
            return self.head(torch.flatten(y, 1))
    model = Branches()
    data, net = check(model, (3, 8, 8))
    cat = net["cat"]
    assert cat.kind == "concat" and tuple(cat.output_shape) == (8, 8, 10)
    assert tuple(net.layers[-1].output_shape) == forward_shape(model, (3, 8, 8)) == (5,)


def test_tied_linear_weights_are_counted_once(nn):
    class Tied(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc1 = nn.Linear(16, 16)
            self.fc2 = nn.Linear(16, 16)
            self.fc2.weight = self.fc1.weight

        def forward(self, x):
            return self.fc2(self.fc1(x).tanh())
    model = Tied()
    data, net = check(model, (16,))
    assert net.total == 16 * 16 + 16 + 16
    assert net["fc2"].kind == "opaque" and int(net["fc2"].params) == 0
    assert "fc1.weight" in next(e for e in data["layers"] if e["name"] == "fc2")["op"]
    assert int(net["fc2.bias"].params) == 16


def test_frozen_parameters_are_non_trainable(nn):
    model = nn.Sequential(nn.Conv2d(3, 4, 3), nn.ReLU(), nn.Flatten(), nn.Linear(4 * 6 * 6, 2))
    for p in model[0].parameters():
        p.requires_grad = False
    data, net = check(model, (3, 8, 8))
    assert data["layers"][0]["trainable"] is False
    assert net.non_trainable_total == 3 * 9 * 4 + 4
    assert net.trainable_total == 4 * 36 * 2 + 2


def test_cnn_rules_cover_the_torch_nn_zoo(nn):
    model = nn.Sequential(
        nn.Conv2d(3, 8, 3, stride=2, padding=1, bias=False),
        nn.BatchNorm2d(8), nn.ReLU6(),
        nn.Conv2d(8, 8, 3, padding=1, groups=8), nn.Hardswish(),      # depthwise
        nn.Conv2d(8, 16, (1, 3), padding=(0, 1), groups=2, dilation=(1, 1)), nn.SiLU(),
        nn.GroupNorm(4, 16), nn.InstanceNorm2d(16, affine=True), nn.LocalResponseNorm(2),
        nn.ConvTranspose2d(16, 8, 2, stride=2), nn.Hardsigmoid(), nn.ZeroPad2d((1, 2, 0, 1)),
        nn.MaxPool2d(2, ceil_mode=True), nn.AvgPool2d(3, stride=1, padding=1),
        nn.Upsample(scale_factor=2), nn.AdaptiveMaxPool2d((3, 2)), nn.Dropout2d(0.1),
        nn.Flatten(), nn.Linear(8 * 6, 10, bias=False), nn.LayerNorm(10), nn.GELU(),
        nn.Dropout(0.3), nn.BatchNorm1d(10), nn.Identity(), nn.Softmax(dim=1))
    data, net = check(model, (3, 16, 16))
    assert tuple(net.layers[-1].output_shape) == forward_shape(model, (3, 16, 16))
    kinds = [e["type"] for e in data["layers"]]
    assert "groupnorm" in kinds and "instancenorm" in kinds and "conv2d_transpose" in kinds
    assert data["layers"][0]["kernel"] == 3 and data["layers"][0]["stride"] == 2


def test_1d_and_3d_layers_keep_their_layout(nn):
    signal = nn.Sequential(nn.Conv1d(4, 8, 5, padding=2), nn.BatchNorm1d(8), nn.MaxPool1d(2),
                           nn.ConvTranspose1d(8, 2, 4, stride=2), nn.AdaptiveAvgPool1d(1),
                           nn.Flatten(), nn.Linear(2, 3))
    _, net = check(signal, (4, 20))
    assert tuple(net["0"].output_shape) == (20, 8)      # [L, C]
    volume = nn.Sequential(nn.Conv3d(1, 4, 3), nn.AvgPool3d(2), nn.Conv3d(4, 4, (1, 3, 3)))
    _, net = check(volume, (1, 8, 10, 10))
    assert tuple(net.layers[-1].output_shape) == (3, 2, 2, 4)   # [D, H, W, C]


def test_linear_on_sequences_and_grids(nn):
    model = nn.Sequential(nn.Linear(6, 12), nn.LayerNorm(12), nn.Linear(12, 4))
    data, net = check(model, (7, 6))
    assert [e["type"] for e in data["layers"]] == ["dense", "layernorm", "dense"]
    assert tuple(net.layers[-1].output_shape) == (7, 4)



def _scale(nn):
    class ChannelScale(nn.Module):
        def __init__(self, channels):
            super().__init__()
            self.gain = nn.Parameter(fw.need("torch").ones(channels, 1, 1))

        def forward(self, x):
            return x * self.gain
    return ChannelScale


def test_a_module_with_parameters_and_no_rule_is_an_error_naming_it(nn):
    from symparams.importers.torch_fx import spec_from_torch
    model = nn.Sequential(nn.Conv2d(3, 5, 3), _scale(nn)(5))
    with pytest.raises(SymparamsError) as caught:
        spec_from_torch(model, (3, 8, 8), source="my_model.py")
    message = str(caught.value)
    assert "\n" not in message and len(message) <= 300
    for part in ("my_model.py", "layer 2", "ChannelScale", "5 parameters", "--allow-unknown"):
        assert part in message, part


def test_allow_unknown_counts_it_as_an_opaque_layer_with_a_warning(nn):
    model = nn.Sequential(nn.Conv2d(3, 5, 3), _scale(nn)(5))
    data, net = check(model, (3, 8, 8), allow_unknown=True)
    layer = data["layers"][1]
    assert layer["type"] == "opaque" and layer["params"] == 5 and "ChannelScale" in layer["op"]
    assert any("1" in w and "opaque" in w for w in net.warnings)


def test_a_parameter_used_directly_is_a_tensor_layer(nn):
    torch = fw.need("torch")

    class Tokens(nn.Module):
        def __init__(self):
            super().__init__()
            self.embed = nn.Linear(6, 8)
            self.cls = nn.Parameter(torch.zeros(1, 1, 8))
            self.pos = nn.Parameter(torch.zeros(1, 5, 8))
            self.proj = nn.Conv2d(8, 8, 1)
            self.scale = nn.Parameter(torch.ones(8, 1, 1))

        def forward(self, x):
            x = self.embed(x)
            x = torch.cat([self.cls.expand(x.shape[0], -1, -1), x], dim=1) + self.pos
            grid = x[:, 1:].transpose(1, 2).reshape(x.shape[0], 8, 2, 2)
            return self.proj(grid) * self.scale
    model = Tokens()
    data, net = check(model, (4, 6))
    shapes = {e["name"]: e.get("shape") for e in data["layers"] if e["type"] == "tensor"}
    assert shapes == {"cls": [1, 8], "pos": [5, 8], "scale": [1, 1, 8]}
    assert net["cat"].kind == "concat" and tuple(net["cat"].output_shape) == (5, 8)
    assert tuple(net.layers[-1].output_shape) == (2, 2, 8)


def test_a_module_fx_cannot_trace_is_read_leaf_by_leaf_with_a_note(nn):
    class Branchy(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(3, 4, 3)
            self.fc = nn.Linear(4 * 6 * 6, 2)

        def forward(self, x):
            x = self.conv(x)
            if x.sum() > 0:                 # data-dependent: fx cannot follow it
                x = x.relu()
            return self.fc(x.flatten(1))
    data, net = imported(Branchy(), (3, 8, 8))
    assert net.total == 3 * 9 * 4 + 4 + 144 * 2 + 2
    assert any(n.startswith("fx could not trace Branchy") for n in data["notes"])


# ------------------------------------------------------------------- factories

def test_a_factory_builds_the_model_and_imports_it(tv):
    from symparams.importers.torch_fx import spec_from_factory
    data = spec_from_factory("torch:torchvision.models:resnet18", (3, 64, 64))
    net = Network.from_spec(spec_from_data(data))
    assert data["name"] == "resnet18" and net.total == fw.PUBLISHED_TOTALS["resnet18"]


@pytest.mark.parametrize("factory, message", [
    ("torch:resnet50", "expected torch:package.module:factory"),
    ("torch:no_such_package_here.models:resnet50", "cannot import no_such_package_here.models"),
    ("torch:torchvision.models:no_such_model", "module torchvision.models has no attribute "
                                               "no_such_model"),
    ("torch:math:pi", "math.pi is a float, not a function or class"),
    ("torch:math:factorial", "calling math.factorial() failed: TypeError"),
    ("torch:builtins:dict", "builtins.dict() returned a dict, not a torch.nn.Module"),
    # A factory that exits would otherwise end symparams with its code (0: "success").
    ("torch:sys:exit", "calling sys.exit() failed: SystemExit"),
])
def test_a_bad_factory_is_one_line_naming_it(tv, factory, message):
    from symparams.importers.torch_fx import spec_from_factory
    with pytest.raises(SymparamsError) as caught:
        spec_from_factory(factory, (3, 32, 32))
    text = str(caught.value)
    assert message in text and "\n" not in text and len(text) <= 300
    assert text.startswith(factory[:40])


# ---------------------------------------------------------------- command line

def torchvision_ops_load() -> bool:
    """Whether torchvision's compiled ops load here (not beside the CPU torch of the test
    extra: its torchvision is a CUDA build)."""
    import importlib.util
    from symparams.importers.torchvision_compat import _extension_path
    path = _extension_path(importlib.util.find_spec("torchvision").submodule_search_locations[0])
    try:
        fw.need("torch").ops.load_library(path)
        return True
    except (ImportError, OSError, TypeError):
        return False


def test_the_cli_reports_a_torch_factory(tv, tmp_path):
    """Issue 10's done-when, end to end in a fresh interpreter, as a user runs it
    (markdown here; the PDF is the same report rendered by WeasyPrint, which
    test_report_pdf covers). Where torchvision's own ops cannot load, the factory
    still imports and every output says what was done."""
    from conftest import run_cli
    from symparams.importers.torchvision_compat import NOTE
    out = run_cli("report", "torch:torchvision.models:resnet50", "--input", "3,224,224",
                  "--format", "md", "-o", tmp_path)
    assert out.returncode == 0, out.stderr
    text = (tmp_path / "resnet50.md").read_text(encoding="utf-8")
    assert "25,557,032" in text and "layer1.0.conv1" in text
    assert (NOTE[:60] in text) is not torchvision_ops_load()


def test_the_cli_refuses_a_bad_factory_in_one_line(tmp_path):
    from conftest import run_cli
    out = run_cli("report", "torch:torchvision.models:no_such_model", "--input", "3,32,32",
                  "-o", tmp_path)
    assert out.returncode == 2 and "Traceback" not in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1
    assert "torchvision.models has no attribute no_such_model" in out.stderr
    assert not any(tmp_path.iterdir())


def test_named_input_sizes_stay_letters(tv):
    from symparams.importers.torch_fx import STAND_IN
    model = build(tv, "resnet18")
    data, net = imported(model, (3, "H", "W"))
    assert data["input"] == ["H", "W", 3]
    assert net.subs({"H": 64, "W": 96}).total == fw.total_params(model)
    assert tuple(net.subs({"H": 64, "W": 96})["layer4.1.bn2"].output_shape) == (2, 3, 512)
    # ViT's position table fixes its image size: the count stays, the size is the stand-in's
    data, net = imported(build(tv, "vit_b_16"), (3, "H", "W"))
    assert net.total == fw.total_params(build(tv, "vit_b_16"))
    assert data["input"] in (["H", "W", 3], [STAND_IN, STAND_IN, 3])


def test_one_layer_alone_is_read_as_that_layer(nn):
    data, net = check(nn.Conv2d(3, 8, 3, bias=False), (3, 10, 10))
    assert [(e["name"], e["type"]) for e in data["layers"]] == [("Conv2d", "conv2d")]
    assert tuple(net.layers[-1].output_shape) == (8, 8, 8)


def test_a_module_with_only_some_parameters_frozen_is_named(nn):
    from symparams.importers.torch_fx import spec_from_torch
    model = nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 2))
    model[2].bias.requires_grad = False
    with pytest.raises(SymparamsError, match=r"module 2 \(Linear\) holds 8 parameters .*"
                                             r"\(only some of its parameters are frozen\)"):
        spec_from_torch(model, (4,))
    data, net = check(model, (4,), allow_unknown=True)
    assert data["layers"][-1]["non_trainable"] == 2 and net.non_trainable_total == 2


def test_a_module_called_twice_is_counted_once(nn):
    class Twice(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(8, 8)

        def forward(self, x):
            return self.fc(self.fc(x).relu())
    data, net = check(Twice(), (8,))
    assert [e["type"] for e in data["layers"]] == ["dense", "activation", "opaque"]
    assert net.total == 72 and "counted there" in data["layers"][-1]["op"]
