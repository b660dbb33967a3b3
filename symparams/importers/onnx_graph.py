"""An ONNX file as spec data: ``symparams count model.onnx``.

The graph is read with the ``onnx`` package only (no runtime, nothing
executed; onnx_read.py), its values put in our layout (onnx_layout.py), and
each node that computes on the data becomes spec entries (onnx_ops.py): Conv →
``conv2d``, MatMul with a weight (and the Add of its bias) → ``dense``, LSTM →
``lstm``, a learned tensor added or multiplied in → ``tensor`` and ``add`` …;
shape-only ops the families have no name for (a Transpose inside attention)
are zero-parameter ``opaque`` layers.

Accounting (never guessing): the parameters plus buffers of the network built
from the spec must equal the sum of the sizes of the floating-point
initializers the layers use as weights, layer by layer.  Initializers used only
as constants of shape operations (Reshape targets, Resize scales) and integer
ones (index tables) are not parameters.  A node that holds weights and has no
family is an error naming it, unless ``allow_unknown`` counts it as an
``opaque`` layer.
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from ..errors import SymparamsError
from ..printable import echo
from .common import SpecBuilder, check_accounting
from .onnx_layout import Layout, fix_input_dims
from .onnx_shapes import infer_dims
from .onnx_read import OnnxGraph, is_float, read_model

FOLDING_NOTE = ("exported with constant folding: BatchNorm is folded into the convolutions "
                "(their weights are the exporter's onnx::Conv_… tensors), so this counts what "
                "the file holds; export with do_constant_folding=False (and "
                "training=torch.onnx.TrainingMode.PRESERVE) to keep BatchNormalization")


def spec_from_onnx(path: str | Path, *, input_shape=None, allow_unknown: bool = False) -> dict:
    """Spec data for an ONNX model file, checked against the file's own weights."""
    source = str(path)
    model = read_model(path)
    graph = OnnxGraph.read(model, source)
    letters = fix_input_dims(model, graph, list(input_shape) if input_shape else None, source)
    dims = infer_dims(model, graph)
    importer = OnnxImporter(graph, Layout(graph, dims, letters), source, allow_unknown)
    return importer.run()


def module_path(text: str) -> str:
    """torch's scope names back to a module path (the op stays as the last part).

    >>> module_path("/layer1/layer1.0/conv1/Conv")
    'layer1.0.conv1.Conv'
    >>> module_path("/layers.0/self_attn/Transpose_2")
    'layers.0.self_attn.Transpose_2'
    """
    parts = [p for p in text.split("/") if p]
    path: list[str] = []
    for part in parts:
        if path and part.startswith(path[-1] + "."):
            path[-1] = part            # "layer1" then "layer1.0": a child of a Sequential
        else:
            path.append(part)
    return ".".join(path)


def _parameter_module(key: str) -> str | None:
    """``layer1.0.conv1.weight`` → ``layer1.0.conv1``; None for the exporter's own names."""
    if "/" in key or "::" in key or not key or key[0].isdigit():
        return None
    return key.rsplit(".", 1)[0] if "." in key else key


class OnnxImporter:
    """Walks the graph's layer nodes in order, adding spec entries to a SpecBuilder."""

    def __init__(self, graph: OnnxGraph, layout: Layout, source: str, allow_unknown: bool):
        self.graph = graph
        self.layout = layout
        self.source = source
        self.allow_unknown = allow_unknown
        name = graph.model.graph.name or Path(source).stem
        self.builder = SpecBuilder(name=re.sub(r"[^\w.-]+", "_", Path(source).stem) or name,
                                   source=source)
        self.layer_of: dict[str, str] = {}         # value -> our layer (or input) name
        self.claimed: dict[str, str] = {}          # source key -> the layer counting it
        self.expected: dict[str, int] = {}         # layer -> values of its sources
        self.where: dict[str, tuple[int, str]] = {}  # layer -> (node index, op) for errors
        self.expected_shape: dict[str, list[Any]] = {}
        self.tables: dict[str, list[int]] = {}    # embedding layer -> its [V, E] table
        self.skip: set[int] = set()                # nodes folded into an earlier entry
        self.index = 0
        self.node = None

    # ----------------------------------------------------------------- helpers
    def node_name(self, node, index: int, weights=(), short: bool = False) -> str:
        """The module path of the weights, else the node's scope (``short``: without the
        op, for a module that is that op, as ``layer1.0.relu``), else op and index."""
        for key in weights:
            found = _parameter_module(key)
            if found:
                return found
        if node.name:
            path = module_path(node.name)
            if short:
                stem = re.sub(r"\.(%s)(_\d+)?$" % re.escape(node.op_type), "", path)
                if stem:
                    return stem
            if path:
                return path
        return f"{node.op_type.lower()}_{index}"

    def layer_input(self, value: str) -> str:
        if value not in self.layer_of:
            raise SymparamsError(f"node {self.index} uses {echo(value)} before it is computed",
                                 file=self.source)
        return self.layer_of[value]

    def new_sources(self, values) -> list[str]:
        """The source keys of these constant inputs not yet counted by an earlier layer."""
        keys: list[str] = []
        for value in values:
            for key in sorted(self.graph.sources(value)):
                if key not in self.claimed and key not in keys:
                    keys.append(key)
        return keys

    def add(self, kind: str, name: str, inputs: list[str], outputs=(), weights=(),
            expect: str | None = None, **fields) -> str:
        """Add one entry taking these activation values; it counts ``weights`` (source keys)."""
        layer = self.builder.add(kind, name, inputs=[self.layer_input(v) for v in inputs]
                                 if kind != "tensor" else [], **fields)
        for key in weights:
            self.claimed[key] = layer
        if weights:
            self.expected[layer] = sum(self.graph.source_size[k] for k in weights)
        self.where[layer] = (self.index, self.node.op_type if self.node is not None else kind)
        for value in outputs:
            self.layer_of[value] = layer
        if expect is not None:
            shape = self.layout.ours(expect)
            if shape is not None:
                self.expected_shape[layer] = shape
        return layer

    def unknown(self, node, index: int, weights: list[str], acts: list[str]) -> None:
        """A node holding weights that no family counts: an error, or opaque when allowed."""
        size = sum(self.graph.source_size[k] for k in weights)
        name = self.node_name(node, index, weights)
        if not self.allow_unknown:
            raise SymparamsError(
                f"node {index} ({echo(node.name or name)}) is an ONNX {echo(node.op_type)} "
                f"holding {size:,} parameter values that no layer family counts; "
                f"--allow-unknown counts it as an opaque layer", file=self.source)
        out = node.output[0]
        fields = {"op": f"ONNX {node.op_type}", "params": size}
        shape = self.layout.ours(out)
        if shape is not None:
            fields["output"] = shape
        self.add("opaque", name, acts, outputs=[v for v in node.output if v], weights=weights,
                 **fields)

    # --------------------------------------------------------------------- run
    def run(self) -> dict:
        from .onnx_batch import propagate_batch
        from .onnx_ops import map_node
        g = self.graph
        for name in g.inputs:
            shape = self.layout.ours(name)
            if shape is None:
                raise SymparamsError(f"the size of the input {echo(name)} is unknown; give it "
                                     f"with --input", file=self.source)
            self.layer_of[name] = self.builder.add_input(
                "INPUT" if len(g.inputs) == 1 else re.sub(r"\W+", "_", name), shape)
        self.node = None
        for index, node in enumerate(g.nodes):
            self.index, self.node = index, node
            if not any(v in g.activations for v in node.output):
                continue                    # a constant: weights or shapes being prepared
            propagate_batch(self, node)
            if index in self.skip:
                continue
            map_node(self, node, index)
        self.node = None
        self.notes()
        data = self.builder.data()
        outputs = [self.layer_of[v.name] for v in g.model.graph.output if v.name in self.layer_of]
        if outputs and len(set(outputs)) > 1:
            data["outputs"] = list(dict.fromkeys(outputs))
        return self.checked(data)

    def notes(self) -> None:
        g = self.graph
        nodes = g.nodes
        has_bn = any(n.op_type == "BatchNormalization" for n in nodes)
        conv_weights = [n.input[1] for n in nodes if n.op_type == "Conv" and len(n.input) > 1]
        if not has_bn and any(w.startswith("onnx::") for w in conv_weights):
            self.builder.notes.append(FOLDING_NOTE)
        if g.external:
            self.builder.notes.append(
                f"{len(g.external)} initializers keep their values in external data files, "
                f"which are not read: they are counted from their dims")
        used = {g.source_origin[k] for k in self.claimed}
        unused = [name for name, t in g.initializers.items()
                  if is_float(t.data_type) and g.sizes[name] > 1 and name not in used
                  and any(name in n.input for n in nodes)]
        if unused:
            values = sum(g.sizes[n] for n in unused)
            self.builder.notes.append(
                f"{values:,} values of floating-point initializers ({', '.join(unused[:3])}"
                f"{' …' if len(unused) > 3 else ''}) are used only as constants of shape "
                f"operations, not as weights, and are not counted")

    # ---------------------------------------------------------------- checking
    def checked(self, data: dict) -> dict:
        """Build the network; zero-parameter entries whose shapes differ from ONNX's become
        opaque (their count is 0 either way); then check every layer's count."""
        from ..network import Network
        from ..spec import spec_from_data
        replaced: set[str] = set()
        for _attempt in range(50):
            try:
                net = Network.from_spec(spec_from_data(data, self.source))
            except SymparamsError as exc:
                name = exc.layer[1] if isinstance(exc.layer, tuple) else None
                if not self._make_opaque(data, name, replaced):
                    raise
                continue
            wrong = [info.name for info in net.layers
                     if info.name in self.expected_shape and info.name not in replaced
                     and info.name not in self.expected
                     and not self._same_shape(info, self.expected_shape[info.name])]
            if not wrong:
                break
            for name in wrong:
                self._make_opaque(data, name, replaced)
        else:
            raise SymparamsError("the layers' shapes could not be matched to the graph's",
                                 file=self.source)
        for info in net.layers:
            if info.name not in self.expected:
                continue
            found = int(info.params) + int(info.buffers)
            if found != self.expected[info.name]:
                index, op = self.where[info.name]
                raise SymparamsError(
                    f"node {index} ({info.name}, ONNX {op}) counts {found:,} as "
                    f"{info.layer.kind} but its initializers hold {self.expected[info.name]:,}; "
                    f"please report this model", file=self.source)
        check_accounting(int(net.total) + int(net.buffers_total),
                         sum(self.graph.source_size[k] for k in self.claimed),
                         "the sum of the sizes of the initializers used as weights", self.source)
        return data

    @staticmethod
    def _same_shape(info, expected) -> bool:
        try:
            return [int(v) if v.is_Integer else str(v) for v in info.output_shape] == \
                [v if isinstance(v, int) else str(v) for v in expected]
        except (AttributeError, TypeError):
            return True

    def _make_opaque(self, data: dict, name: str | None, replaced: set[str]) -> bool:
        if name is None or name in self.expected or name in replaced:
            return False
        for entry in data["layers"]:
            if entry["name"] == name:
                kind = entry["type"]
                if kind in ("opaque", "tensor"):
                    return False
                op = self.where.get(name, (0, kind))[1]
                keep = {k: entry[k] for k in ("name", "inputs") if k in entry}
                entry.clear()
                entry.update(keep)
                entry["type"] = "opaque"
                entry["op"] = f"ONNX {op}"
                if name in self.expected_shape:
                    entry["output"] = self.expected_shape[name]
                replaced.add(name)
                return True
        return False
