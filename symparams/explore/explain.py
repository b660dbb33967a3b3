"""What a layer kind computes and why it has the parameters it has.

``explain("conv2d")`` (or ``symparams explain conv2d``) gives, for one layer
kind: its letters and what each means, the formula printed by SymPy in the
textbook's order, why the formula has that form, the rule for its output shape,
and a small example that symparams works out (the numbers in it are computed by
the library, not written here).

>>> from symparams import explain
>>> text = explain("conv")           # aliases and any case are accepted
>>> print(text.splitlines()[0])
conv2d: convolution (also written conv, convolution, conv2)
>>> print(next(line for line in text.splitlines() if line.startswith("  CONV1")))
  CONV1: ((m₁ × n₁ × d₁) + 1) × k₁ = ((5 × 5 × 3) + 1) × 8 = 608
"""
from __future__ import annotations

import difflib
import textwrap
from typing import Any

from sympy import Expr, Integer

from ..errors import SymparamsError
from ..layers import (FAMILIES, REGISTRY, Conv2D, GroupedConv2D, Input, Layer, generic_formula,
                      is_unsupported)
from ..layers.transpose import transpose_rule
from ..printable import echo
from ..printing import unicode_plain, unicode_shape, unicode_written
from ..shapes import conv_output_size, same_rule as _same_rule, window_rule as _window_rule
from ..spec import size_symbol
from . import explain_nd

WIDTH = 78

# Why each kind has its count, in plain words (the document's reasoning).
WHY = {
    "conv2d": (
        "A convolution slides each of its k filters over the input. At every position a "
        "filter looks at an m × n window through all d channels of the input and multiplies "
        "each of those m × n × d values by a weight of its own, so one filter has m × n × d "
        "weights. The same weights are used at every position, which is why the size of the "
        "image does not appear in the count. Each filter adds one bias to its sum (the + 1), "
        "and there are k filters (the × k). With bias: false the + 1 goes. With groups: g "
        "the d channels and k filters are split into g groups and each filter sees only the "
        "d / g channels of its group: ((m × n × d / g) + 1) × k."),
    "depthwise_conv2d": (
        "A depthwise convolution gives every input channel filters of its own instead of "
        "mixing the channels: each of the d channels has q filters (the depth multiplier, "
        "default 1), and each filter has one weight per value of its m × n window over that "
        "one channel plus one bias: ((m × n) + 1) for each of the d × q filters. The output "
        "has d × q channels."),
    "separable_conv2d": (
        "A separable convolution (as Keras counts it) is a depthwise convolution followed by "
        "a 1 × 1 convolution. The depthwise step has m × n × d × q weights and no bias; the "
        "1 × 1 step mixes the d × q depthwise channels into k output channels with "
        "((d × q) + 1) × k parameters, the bias counted once, here. It needs far fewer "
        "parameters than a full m × n convolution with k filters."),
    "conv2d_transpose": (
        "A transposed convolution runs a convolution backwards: every value of each of the d "
        "input channels is spread over an m × n window of each of the k output channels, "
        "with one weight for each (input channel, output channel, window position), so "
        "m × n × d × k weights, and each output channel adds one bias (+ 1 per filter). The "
        "count is the one of a convolution from d to k channels; what differs is the shape: "
        "with stride S the output grows about S times instead of shrinking."),
    "batchnorm": (
        "Batch normalisation brings each of the C channels to mean 0 and variance 1 over the "
        "batch, then scales it by a learned γ and shifts it by a learned β: one of each per "
        "channel, 2 × C parameters (affine: false, as PyTorch writes it, drops both; Keras' "
        "scale: false drops γ and center: false drops β). The running mean and variance it "
        "keeps for prediction are averaged over the batches, not learned, and the frameworks "
        "count them differently. PyTorch (the default convention): 2 × C parameters, and the "
        "statistics are 2 × C buffers, not parameters (PyTorch also keeps a 1-value "
        "num_batches_tracked counter, left out of the buffers). Keras (convention: keras or "
        "--convention keras): 4 × C parameters, of which the 2 × C moving statistics are "
        "non-trainable. The shape is handed on unchanged."),
    "layernorm": (
        "Layer normalisation brings the C values of the last axis of each example to mean 0 "
        "and variance 1, then scales each by a learned γ and shifts it by a learned β: "
        "2 × C parameters (affine, scale and center switch them off). The mean and variance "
        "are computed afresh for every example, not learned. The shape is handed on "
        "unchanged."),
    "groupnorm": (
        "Group normalisation splits the C channels into g groups (g must divide C) and "
        "brings each group of each example to mean 0 and variance 1; then every channel is "
        "scaled by a learned γ and shifted by a learned β: 2 × C parameters, whatever g is "
        "(affine, scale and center switch them off). The means and variances are computed "
        "afresh, not learned. The shape is handed on unchanged."),
    "instancenorm": (
        "Instance normalisation brings each channel of each example to mean 0 and variance "
        "1 on its own. PyTorch learns nothing by default (affine: false, count 0); with "
        "affine: true each of the C channels gets a learned γ and β: 2 × C parameters. The "
        "means and variances are computed afresh, not learned. The shape is handed on "
        "unchanged."),
    "maxpool2d": (
        "Pooling replaces each m × n window by its largest value. Taking a maximum is a "
        "fixed rule: there is no weight to multiply by and no bias to add, so there is "
        "nothing to learn and the count is 0. The layer still matters for the count: it "
        "shrinks the height and width, and with them the number of values the next dense "
        "layer is connected to."),
    "avgpool2d": (
        "Average pooling replaces each m × n window by the mean of its values. Every value "
        "is weighted 1 / (m × n), a fixed number that is not learned, and no bias is added: "
        "nothing to learn, the count is 0. It shrinks the height and width like max pooling "
        "does."),
    "dense": (
        "Every one of the c neurons is connected to every one of the p values coming in and "
        "has one weight per connection: c × p weights. Each neuron also adds one bias of its "
        "own: 1 × c. A height × width × channels input is flattened first, so p is the "
        "product of all three, which is why the first dense layer after the convolutions "
        "usually holds most of a network's parameters."),
    "flatten": (
        "Flattening lays the height × width × channels values out as one long vector. The "
        "values are only rearranged, none is computed with a weight: nothing to learn."),
    "dropout": (
        "While training, dropout sets each value to zero with probability rate (and scales "
        "the others up); when predicting it passes the values through. The rate is chosen, "
        "not learned, and there are no weights: the count is 0."),
    "activation": (
        "An activation such as ReLU applies the same fixed function to every value on its "
        "own. The function has no weights and no bias: the count is 0."),
    "add": (
        "Adding joins several layers' outputs value by value, as a residual connection adds "
        "a block's input to its output. The sum uses no weight and no bias: nothing to learn, "
        "the count is 0. The inputs, named in inputs:, must have the same shape or shapes "
        "that broadcast as in NumPy (each size the same or 1: a 1 × 1 × C scale onto "
        "H × W × C, a 1 × E row onto T × E); the broadcast shape is the output's."),
    "multiply": (
        "Multiplying joins several layers' outputs value by value, as a gate scales one "
        "branch by another. The product uses no weight and no bias: nothing to learn, the "
        "count is 0. The inputs, named in inputs:, must have the same shape or shapes that "
        "broadcast as in NumPy (a squeeze-and-excitation gate 1 × 1 × C scales H × W × C)."),
    "concat": (
        "Concatenation lays the outputs of the layers named in inputs: side by side along "
        "one axis, the channels by default, as Inception joins its branches. Nothing is "
        "computed, so nothing is learned and the count is 0; but the next layer sees all "
        "the channels together, so its d is their sum."),
    "embedding": (
        "An embedding is a table of V learned vectors of E values, one row per token id of "
        "the vocabulary; each id coming in picks its row, so T ids become T × E values. The "
        "table is the whole count: V × E. A padding row (padding_idx) is kept at zero while "
        "training but is still a row of the table, so it does not change the count."),
    "positional_embedding": (
        "A learned positional embedding (BERT's, GPT-2's) has a vector of E values for each "
        "of T positions (max_positions) and adds the t-th one to the t-th vector of the "
        "sequence, so the model knows where each token is: T × E. The sequence may be "
        "shorter than T; the output has the input's shape."),
    "select_token": (
        "Selecting a token keeps one position of a T × E sequence as a vector of E values "
        "(BERT's pooler reads the first token, [CLS]). Nothing is computed with a weight: "
        "the count is 0."),
    "rnn": (
        "A recurrent layer reads a sequence step by step. At each step its hidden state of h "
        "values is computed from the x input values of the step (an h × x weight matrix) and "
        "the hidden state of the step before (an h × h matrix), plus biases. PyTorch adds two "
        "bias vectors of h (b_ih and b_hh): h × x + h × h + 2 × h; Keras one (convention: "
        "keras). The same weights serve every step, so the length T does not appear. "
        "bidirectional doubles the count; a stack of s layers (num_layers) feeds each later "
        "layer the outputs of the one below, so its input size is h (2 × h bidirectional)."),
    "lstm": (
        "An LSTM has 4 gates (input, forget, cell, output), each a recurrent layer of its "
        "own: an h × x matrix on the input, an h × h matrix on the hidden state and biases, so "
        "4 × (h × x + h × h + 2 × h) in PyTorch, which has two bias vectors per gate (b_ih, "
        "b_hh), and 4 × (h × x + h × h + h) in Keras (convention: keras). bidirectional "
        "doubles it; later layers of a stack take h (2 × h) inputs instead of x."),
    "gru": (
        "A GRU has 3 gates (reset, update, new): 3 × (h × x + h × h + 2 × h) in PyTorch (two "
        "bias vectors per gate). Keras' GRU with reset_after: true (its default) has two as "
        "well; with reset_after: false one: 3 × (h × x + h × h + h). bidirectional doubles "
        "it; later layers of a stack take h (2 × h) inputs instead of x."),
    "multihead_attention": (
        "Multi-head attention projects its queries, keys and values with an E × E matrix "
        "each (E × K and E × U when kdim and vdim are given) and a bias of E each, lets each "
        "of the heads attend with its E / heads share, and projects the joined heads back "
        "with an E × E matrix and a bias: 3 × (E × E + E) + (E × E + E). The heads share "
        "the matrices, so their number does not change the count, but it must divide E. A "
        "second input (inputs: [QUERIES, MEMORY]) gives the keys and values."),
    "transformer_encoder": (
        "A transformer encoder layer (PyTorch's nn.TransformerEncoderLayer, one BERT or "
        "GPT-2 block) is self-attention, 4 × (E × E + E), then a feed-forward network of two "
        "dense layers E → F → E, (E × F + F) + (F × E + E), with a layer normalisation of "
        "2 × E after each: the step lists the parts and adds them. The heads and norm_first "
        "do not change the count."),
    "transformer_decoder": (
        "A transformer decoder layer (PyTorch's nn.TransformerDecoderLayer) has "
        "self-attention and attention over the encoder's output, 4 × (E × E + E) each, the "
        "feed-forward network (E × F + F) + (F × E + E) and three layer normalisations of "
        "2 × E. The encoder's output may come in as a second input (inputs: [TARGET, "
        "MEMORY]); it does not change the count."),
    "input": (
        "The input layer only states the shape of the data coming in; it computes nothing, "
        "so there is nothing to learn and the count is 0."),
    "opaque": (
        "An opaque layer is an operation of a framework that symparams has no layer family "
        "for, written by an importer (symparams import, count model.onnx). One with no "
        "parameters is a shape-only op (a transpose inside attention, a channel shuffle) and "
        "counts 0. One that holds parameters counts the framework's own number (params, of "
        "which non_trainable are not trained; buffers are kept besides): it is counted from "
        "the framework, there is no formula, --symbolic leaves it a number, and every "
        "output warns about it. An importer writes one only with --allow-unknown. Fields: "
        "op (the framework's name, required), params, non_trainable, buffers (whole numbers, "
        "default 0) and output (its shape; default: the shape of its first input). It may "
        "take several inputs."),
    "tensor": (
        "A tensor layer is a learned tensor used directly, not through a layer: a ViT class "
        "token or position table, a layer scale, an ONNX initializer fed to an element-wise "
        "op. Every value in it is a parameter, so it has the product of its sizes: u × v for "
        "a tensor of shape [u, v] (u × v × w, u × v × w × z for more axes). It takes no "
        "input (inputs: []) and gives its own shape; add and multiply broadcast it onto "
        "another input, concat joins it (axis: 0 puts a class token before the tokens). "
        "trainable: false freezes it."),
}

# The example each kind is worked out on: the input shape and the layer's spec fields.
EXAMPLES: dict[str, tuple[tuple[int, ...], dict[str, Any]]] = {
    "conv2d": ((32, 32, 3), {"kernel": 5, "filters": 8}),
    "depthwise_conv2d": ((32, 32, 3), {"kernel": 3, "depth_multiplier": 2}),
    "separable_conv2d": ((32, 32, 3), {"kernel": 3, "filters": 8}),
    "conv2d_transpose": ((7, 7, 16), {"kernel": 3, "filters": 8, "stride": 2}),
    "batchnorm": ((28, 28, 8), {}),
    "layernorm": ((64,), {}),
    "groupnorm": ((28, 28, 8), {"groups": 4}),
    "instancenorm": ((28, 28, 8), {"affine": True}),
    "maxpool2d": ((28, 28, 8), {"kernel": 2}),
    "avgpool2d": ((28, 28, 8), {"kernel": 2}),
    "dense": ((5, 5, 16), {"units": 120}),
    "flatten": ((5, 5, 16), {}),
    "dropout": ((120,), {"rate": 0.5}),
    "activation": ((120,), {"function": "relu"}),
    "input": ((32, 32, 3), {}),
    "embedding": ((8,), {"vocab_size": 1000, "embed_dim": 16}),
    "positional_embedding": ((8, 16), {"max_positions": 32}),
    "select_token": ((8, 16), {}),
    "rnn": ((10, 8), {"hidden_size": 16}),
    "lstm": ((10, 8), {"hidden_size": 16}),
    "gru": ((10, 8), {"hidden_size": 16}),
    "multihead_attention": ((10, 32), {"heads": 4}),
    "transformer_encoder": ((10, 32), {"heads": 4, "dim_feedforward": 64}),
    "transformer_decoder": ((10, 32), {"heads": 4, "dim_feedforward": 64}),
    # Merge layers join the layer before with the input itself (inputs: [LAYER, INPUT]).
    "add": ((8, 8, 16), {}),
    "multiply": ((8, 8, 16), {}),
    "concat": ((8, 8, 16), {}),
    "opaque": ((10, 32), {"op": "torch.nn.PReLU", "params": 1}),
    "tensor": ((10, 32), {"shape": [1, 32]}),
}

# The 1-D and 3-D windows and the shape-only layers (explain_nd.py).
WHY.update(explain_nd.WHY)
EXAMPLES.update(explain_nd.EXAMPLES)


class Explanation(str):
    """The text of an explanation; in a REPL it shows as the text itself."""

    kind: str

    def __new__(cls, text: str, kind: str):
        obj = super().__new__(cls, text)
        obj.kind = kind
        return obj

    def __repr__(self) -> str:
        return str(self)

    def _repr_markdown_(self) -> str:
        return f"```text\n{self}\n```"


def kinds() -> list[str]:
    """Every layer kind that can be explained, in the order of the README's table."""
    return ["input", *(cls.kind for cls in FAMILIES)]


def kind_class(name: str) -> type[Layer]:
    """The layer class for a kind or an alias, any case; one-line error otherwise."""
    key = str(name).strip().lower()
    if key == "input":
        return Input
    if key in REGISTRY:
        return REGISTRY[key]
    if is_unsupported(key):  # conv1d is no misspelt conv2d: say so, suggest nothing
        raise SymparamsError(f"layer kind {echo(name)} is not supported yet (known: "
                             f"{', '.join(kinds())})")
    names = [*REGISTRY, "input"]
    close = difflib.get_close_matches(key, names, n=1, cutoff=0.75)
    hint = ""
    if close:
        hint = f"; did you mean '{close[0] if close[0] == 'input' else REGISTRY[close[0]].kind}'?"
    raise SymparamsError(f"unknown layer kind {echo(name)} (known: {', '.join(kinds())}){hint}")


def _rule_text(expr: Expr) -> str:
    return unicode_written(expr)


def _letters_section(cls: type[Layer]) -> list[str]:
    if cls.kind == "tensor":
        cls = cls._by_rank[2]   # the letters of a two-axis tensor; more axes add w, z
    if cls.kind == "opaque":
        return ["Letters", "  none: the count is the framework's number (params), not a formula"]
    if not cls.letters:
        return ["Letters", "  none: the count is 0 whatever the sizes are"]
    rows = []
    for letter, meaning in cls.letters.items():
        if letter in cls.given_letters:
            source = f"given by the field {cls.given_letters[letter]}"
        else:
            source = "follows from the layer before"
        rows.append((letter, meaning, source))
    width = max(len(m) for _, m, _ in rows)
    lines = ["Letters"]
    lines += [f"  {letter}  {meaning.ljust(width)}   {source}" for letter, meaning, source in rows]
    return lines


def _formula_section(cls: type[Layer]) -> list[str]:
    if cls.kind == "tensor":   # one variant per rank: the product of the sizes
        return ["Parameters", "  " + "; ".join(
            unicode_written(generic_formula(cls._by_rank[rank], True)[0]) for rank in (1, 2, 3))
            + " … (the product of the sizes in shape)"]
    if cls.kind == "opaque":
        return ["Parameters", "  params: the framework's number, counted from the framework, "
                              "no formula"]
    if not cls.letters:
        return ["Parameters", "  0"]
    lines = ["Parameters", f"  {unicode_written(generic_formula(cls, True)[0])}"]
    if "affine" in cls.fields:  # normalisation: switches, not a bias
        one = unicode_written(generic_formula(cls._variants[1], False)[0])
        lines.append(f"  with scale: false or center: false: {one}; with affine: false: 0")
        if "convention" in cls.fields:  # counted differently by PyTorch and Keras
            keras = cls._keras_variants
            keras_formula = {n: unicode_written(generic_formula(keras[n], False)[0])
                             for n in keras}
            lines.append(f"  Keras (convention: keras): {keras_formula[2]}, of which 2 × C "
                         f"non-trainable")
            lines.append(f"    ({keras_formula[1]} with one of γ and β, {keras_formula[0]} "
                         f"with neither)")
            lines.append("  PyTorch (the default) also keeps 2 × C buffers, not parameters")
        return lines
    if "bias" not in cls.fields:   # an embedding's table: no bias to switch off
        return lines
    lines.append(f"  without bias (bias: false): {unicode_written(generic_formula(cls, False)[0])}")
    if "convention" in cls.fields and hasattr(cls, "_variants"):  # recurrent: Keras' biases
        keras = cls._variants[(1, 1, False)]
        lines.append("  (that is PyTorch's count: convention: pytorch, the default)")
        lines.append(f"  Keras (convention: keras): {unicode_written(generic_formula(keras, True)[0])}")
        stacked = cls._variants[(2, 2, True)]
        lines.append(f"  bidirectional, num_layers: s: "
                     f"{unicode_written(generic_formula(stacked, True)[0])}")
    grouped = GroupedConv2D if cls is Conv2D else getattr(cls, "grouped_class", None)
    if grouped is not None:
        lines.append(f"  with groups (groups: g): "
                     f"{unicode_written(generic_formula(grouped, True)[0])}")
    return lines


def _shape_section(cls: type[Layer]) -> list[str]:
    if cls.kind in explain_nd.SHAPES:
        return _worked_shape_section(cls)
    H, W, P, S, D = (size_symbol(s) for s in "HWPSD")
    m, n = size_symbol("m"), size_symbol("n")
    kind = cls.kind
    if kind == "conv2d":
        return ["Output shape (input H × W × d)",
                f"  height:   {_rule_text(_window_rule(H, n, P, S, D))}",
                f"  width:    {_rule_text(_window_rule(W, m, P, S, D))}",
                "  channels: k (one output channel per filter)",
                "  P padding (default 0), S stride (default 1), D dilation (default 1);",
                f"  padding same: {_rule_text(_same_rule(H, S))} × {_rule_text(_same_rule(W, S))}"]
    if kind in ("depthwise_conv2d", "separable_conv2d"):
        channels = ("d × q (q filters for each input channel)" if kind == "depthwise_conv2d"
                    else "k (one output channel per 1 × 1 filter)")
        return ["Output shape (input H × W × d), as for conv2d",
                f"  height:   {_rule_text(_window_rule(H, n, P, S, D))}",
                f"  width:    {_rule_text(_window_rule(W, m, P, S, D))}",
                f"  channels: {channels}",
                "  P padding (default 0), S stride (default 1), D dilation (default 1);",
                f"  padding same: {_rule_text(_same_rule(H, S))} × {_rule_text(_same_rule(W, S))}"]
    if kind == "conv2d_transpose":
        O = size_symbol("O")
        return ["Output shape (input H × W × d)",
                f"  height:   {_rule_text(transpose_rule(H, n, P, S, D, O))}",
                f"  width:    {_rule_text(transpose_rule(W, m, P, S, D, O))}",
                "  channels: k (one output channel per filter)",
                "  P padding (default 0), S stride (default 1), D dilation (default 1),",
                "  O output_padding (default 0, smaller than S or D), as in PyTorch"]
    if kind in ("maxpool2d", "avgpool2d"):
        return ["Output shape (input H × W × C, window m × n given by the field kernel)",
                f"  height:   {_rule_text(_window_rule(H, n, P, S, None))}",
                f"  width:    {_rule_text(_window_rule(W, m, P, S, None))}",
                "  channels: C (each channel is pooled on its own)",
                "  S stride (defaults to the window), P padding (default 0);",
                f"  padding same: {_rule_text(_same_rule(H, S))} × {_rule_text(_same_rule(W, S))}"]
    if kind == "dense":
        return ["Output shape", "  c values, one per neuron, whatever the input's shape"]
    if kind == "flatten":
        return ["Output shape", "  one vector of H × W × C values (input H × W × C)"]
    if kind == "embedding":
        return ["Output shape", "  T × E for T token ids (an axis of E values appended)"]
    if kind in ("rnn", "lstm", "gru"):
        return ["Output shape (input T × x)",
                "  T × h with return_sequences: true (the default, PyTorch's output),",
                "  h (the last step) with return_sequences: false; 2 × h when bidirectional"]
    if kind == "select_token":
        return ["Output shape", "  E values (input T × E)"]
    if kind in ("positional_embedding", "multihead_attention", "transformer_encoder",
                "transformer_decoder"):
        return ["Output shape", "  T × E, the shape of its input (the queries)"]
    if kind == "input":
        return ["Output shape", "  the shape given by the spec's input: [height, width, "
                "channels] or [features]"]
    if kind in ("add", "multiply"):
        return ["Output shape", "  the inputs' shape; shapes broadcast as in NumPy (lined up "
                "from the last axis,", "  each size the same or 1: H × W × C and 1 × 1 × C "
                "give H × W × C; an error shows both)"]
    if kind == "opaque":
        return ["Output shape", "  output: [..] as given, else the shape of its first input"]
    if kind == "tensor":
        return ["Output shape", "  shape: [..], its own; it takes no input"]
    if kind == "concat":
        return ["Output shape (inputs H × W × d₁, H × W × d₂ …)",
                "  channels: d₁ + d₂ + … (axis: 0 or 1 joins along the height or width; on a",
                "  sequence T × E, axis: 0 joins the tokens; negative axes count from the last);",
                "  the other sizes must match"]
    return ["Output shape", "  the same as its input"]


def _worked_shape_section(cls: type[Layer]) -> list[str]:
    """The rules in letters as the layer works them out on its example input."""
    from ..shapes import axis_letters
    shape, fields = EXAMPLES[cls.kind]
    layer = cls.from_fields(dict(fields))
    letters = " × ".join(axis_letters(shape))
    lines = [f"Output shape (input {letters})"]
    lines += [f"  {w.label}: {_rule_text(w.formula)}"
              for w in layer.shape_working(tuple(Integer(v) for v in shape)) if w.is_rule]
    lines.append(f"  {explain_nd.SHAPES[cls.kind]}")
    return lines


def _example_section(cls: type[Layer]) -> list[str]:
    from ..network import Network
    shape, fields = EXAMPLES[cls.kind]
    layers = [] if cls is Input else [cls.from_fields(dict(fields))]
    inputs = None
    if cls.merges:  # joined with a branch: a 1 × 1 convolution of the input
        from ..layers import Conv2D
        layers.insert(0, Conv2D(kernel=1, filters=shape[-1], name="BRANCH"))
        inputs = [None, ["BRANCH", "INPUT"]]
    net = Network(layers, input=shape, name="example", inputs=inputs)
    info = net.layers[-1]
    shown = ", ".join(f"{k}: {v}" for k, v in {"type": cls.kind, **fields}.items())
    lines = ["Example (worked out by symparams)"]
    if cls is Input:
        lines.append(f"  input: {list(shape)}")
    elif cls.merges:
        lines.append(f"  input {unicode_shape(net.input_shape)}, BRANCH {{type: conv2d, "
                     f"kernel: 1, filters: {shape[-1]}}}, layer {{{shown}, inputs: [BRANCH, "
                     f"INPUT]}}")
    else:
        lines.append(f"  input {unicode_shape(net.input_shape)}, layer {{{shown}}}")
    step = info.step
    lines += [f"  note: {note}" for note in step.notes]
    lines.append(f"  {info.name}: {step.text.equation()}" if step.has_formula
                 else f"  {info.name}: {unicode_plain(info.params)} parameters")
    if info.non_trainable or info.buffers:
        lines.append(f"  trainable {unicode_plain(info.trainable)}, non-trainable "
                     f"{unicode_plain(info.non_trainable)}, buffers {unicode_plain(info.buffers)}")
    lines += _example_shape(info)
    lines.append(f"  output shape: {unicode_shape(info.output_shape)}")
    if info.letters:
        lines.append("  (inside a network the letters carry the layer's number in its family: "
                     f"{', '.join(unicode_written(s) for s in info.letters.values())} here)")
    return lines


def _example_shape(info) -> list[str]:
    """For windows: the output-shape rule with the example's numbers put in."""
    layer = info.layer
    if layer.kind == "conv2d_transpose" or layer.kind in explain_nd.SHAPES:  # worked by the layer
        return [f"  {w.label}: {unicode_written(w.substituted)} = {w.result}"
                for w in layer.shape_working(info.input_shape) if w.is_rule]
    if not hasattr(layer, "kernel") or layer.padding == "same":
        return []
    kernel = layer.kernel
    dilation = getattr(layer, "dilation", (None, None))  # pooling has none
    pad_w, pad_h = layer.padding
    lines = []
    for axis, size, k, s, p, d in (
            ("height", info.input_shape[0], kernel[1], layer.stride[1], pad_h, dilation[1]),
            ("width", info.input_shape[1], kernel[0], layer.stride[0], pad_w, dilation[0])):
        rule = _rule_text(_window_rule(size, k, p, s, d))
        value = conv_output_size(size, k, s, p, d if d is not None else Integer(1))
        lines.append(f"  {axis}: {rule} = {value}")
    return lines


def explain(kind: str) -> Explanation:
    """The explanation of one layer kind (see the module's docstring)."""
    cls = kind_class(kind)
    aliases = [a for a in cls.aliases]
    head = f"{cls.kind}: {cls.title}"
    if aliases:
        head += f" (also written {', '.join(aliases)})"
    why = textwrap.fill(WHY[cls.kind], WIDTH, initial_indent="  ", subsequent_indent="  ")
    sections = [[head], _letters_section(cls), _formula_section(cls), ["Why", why],
                _shape_section(cls), _example_section(cls)]
    return Explanation("\n\n".join("\n".join(s) for s in sections), cls.kind)


# Kinds whose count is no single formula of their class.
_OVERVIEW_FORMULAS = {"tensor": "u × v × … (the product of its sizes)",
                      "opaque": "params (the framework's number, no formula)"}


def overview() -> Explanation:
    """One line per kind: its formula (what ``symparams explain`` without a kind prints)."""
    rows = []
    for name in kinds():
        cls = kind_class(name)
        formula = unicode_written(generic_formula(cls, True)[0]) if cls.letters else "0"
        formula = _OVERVIEW_FORMULAS.get(name, formula)
        rows.append((name, cls.title, formula))
    width = max(len(n) for n, _, _ in rows)
    title_width = max(len(t) for _, t, _ in rows)
    lines = ["Layer kinds (symparams explain KIND for letters, reasons, shapes and an example):"]
    lines += [f"  {n.ljust(width)}  {t.ljust(title_width)}  {f}" for n, t, f in rows]
    return Explanation("\n".join(lines), "")
