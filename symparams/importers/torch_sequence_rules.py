"""PyTorch module rules for sequence models (see torch_map.py for the contract).

Embeddings, recurrent layers, attention and transformer layers of ``torch.nn``,
and the modules of Hugging Face transformers that hold parameters themselves
(GPT-2's ``Conv1D``) or have no torch.nn class (its activation modules). Each
rule reads the module's own attributes, never its weights; the walkers'
accounting check compares our family's count with the module's ``numel()``.

A configuration our families cannot count (an LSTM with ``proj_size``) raises
``NotImplementedError`` with the reason, as in torch_cnn_rules.py: the walker then
treats the module as one without a rule (an error naming the reason, or an opaque
layer under allow_unknown).
"""
from __future__ import annotations

from typing import Any

from .torch_map import ModuleCall, module_rule

Entry = dict[str, Any]


@module_rule("Embedding")
def embedding(call: ModuleCall) -> list[Entry]:
    # max_norm, scale_grad_by_freq and sparse change training, not the table's size.
    module = call.module
    entry: Entry = {"type": "embedding", "vocab_size": module.num_embeddings,
                    "embed_dim": module.embedding_dim}
    if module.padding_idx is not None:
        entry["padding_idx"] = module.padding_idx   # torch has made a negative one positive
    return [entry]


@module_rule("EmbeddingBag")
def embedding_bag(call: ModuleCall) -> list[Entry]:
    """A bag of L ids (a 2-D input: one bag per row) → one vector of E: the table, then
    the bag's reduction over its L rows (mean or max pooling; sum has no family name)."""
    module = call.module
    if len(call.in_shapes) != 1 or len(call.in_shapes[0]) != 1:
        raise NotImplementedError("bags given by offsets: only a 2-D input of ids is read")
    table = {"type": "embedding", "vocab_size": module.num_embeddings,
             "embed_dim": module.embedding_dim}
    if module.padding_idx is not None:
        table["padding_idx"] = module.padding_idx
    reduce = {"mean": {"type": "global_avg_pool"}, "max": {"type": "global_max_pool"}}.get(
        module.mode, {"type": "opaque", "op": f"torch.nn.EmbeddingBag ({module.mode} over "
                                              f"the bag)", "output": [module.embedding_dim]})
    return [table, reduce]


def _recurrent(kind: str):
    def rule(call: ModuleCall) -> list[Entry]:
        module = call.module
        if getattr(module, "proj_size", 0):
            raise NotImplementedError(f"a projected LSTM, proj_size {module.proj_size}")
        if len(call.in_shapes[0]) != 2:
            raise NotImplementedError("an input without a time axis: only [T, x] sequences are read")
        return [{"type": kind, "hidden_size": module.hidden_size,
                 "num_layers": module.num_layers, "bidirectional": bool(module.bidirectional),
                 "bias": bool(module.bias)}]
    return rule


module_rule("RNN")(_recurrent("rnn"))
module_rule("LSTM")(_recurrent("lstm"))
module_rule("GRU")(_recurrent("gru"))


def _cell(kind: str):
    """A single step (nn.LSTMCell …) counts as a one-step recurrent layer: the input
    vector of x becomes a sequence of one step, and the cell's output is that step's h."""
    def rule(call: ModuleCall) -> list[Entry]:
        module = call.module
        if len(call.in_shapes[0]) != 1:
            raise NotImplementedError("a cell on several vectors: only one input vector [x] is read")
        return [{"type": "reshape", "target": [1, module.input_size]},
                {"type": kind, "hidden_size": module.hidden_size, "bias": bool(module.bias),
                 "return_sequences": False}]
    return rule


module_rule("RNNCell")(_cell("rnn"))
module_rule("LSTMCell")(_cell("lstm"))
module_rule("GRUCell")(_cell("gru"))


@module_rule("MultiheadAttention")
def multihead_attention(call: ModuleCall) -> list[Entry]:
    # The walker gives a cross-attention its keys and values as the second input.
    module = call.module
    entry: Entry = {"type": "multihead_attention", "heads": module.num_heads}
    if module.kdim != module.embed_dim:
        entry["kdim"] = module.kdim
    if module.vdim != module.embed_dim:
        entry["vdim"] = module.vdim
    if module.out_proj.bias is None:
        entry["bias"] = False
    if module.bias_k is not None:
        entry["add_bias_kv"] = True
    return [entry]


def _transformer(kind: str):
    def rule(call: ModuleCall) -> list[Entry]:
        module = call.module
        entry: Entry = {"type": kind, "heads": module.self_attn.num_heads,
                        "dim_feedforward": module.linear1.out_features}
        if module.linear1.bias is None:
            entry["bias"] = False
        if module.norm_first:
            entry["norm_first"] = True
        return [entry]
    return rule


module_rule("TransformerEncoderLayer")(_transformer("transformer_encoder"))
module_rule("TransformerDecoderLayer")(_transformer("transformer_decoder"))


@module_rule("Conv1D")
def transformers_conv1d(call: ModuleCall) -> list[Entry]:
    """transformers.pytorch_utils.Conv1D (GPT-2): a dense layer whose weight is stored
    transposed (nx × nf), with a bias of nf; torch.nn's Conv1d is another class."""
    return [{"type": "dense", "units": call.module.nf}]   # nn.Conv1d is "Conv1d": no clash


# RMS normalisation: a scale γ of E and no shift, what our layernorm with center: false counts.
# torch.nn.RMSNorm, and the classes transformers' models define for it each under its own name.
_RMS_NORMS = ("RMSNorm", "LlamaRMSNorm", "MistralRMSNorm", "MixtralRMSNorm", "Qwen2RMSNorm",
              "Qwen3RMSNorm", "Qwen2MoeRMSNorm", "GemmaRMSNorm", "Gemma2RMSNorm",
              "Gemma3RMSNorm", "Phi3RMSNorm", "OlmoRMSNorm", "GraniteRMSNorm", "T5LayerNorm",
              "MT5LayerNorm", "UMT5LayerNorm")


@module_rule(*_RMS_NORMS)
def rms_norm(call: ModuleCall) -> list[Entry]:
    shape = getattr(call.module, "normalized_shape", None)
    if shape is not None and len(shape) != 1:
        raise NotImplementedError(f"RMS normalisation over {len(shape)} axes (ours normalises "
                                  f"the last)")
    weights = [p for _, p in call.module.named_parameters()]
    if not weights:
        return [{"type": "layernorm", "affine": False}]
    if len(weights) != 1 or weights[0].dim() != 1:
        raise NotImplementedError("an RMS normalisation with more than a scale of E")
    return [{"type": "layernorm", "center": False}]


# transformers' activation modules (transformers.activations): no parameters, one function.
_GELU = ("GELUActivation", "NewGELUActivation", "FastGELUActivation", "QuickGELUActivation",
         "AccurateGELUActivation", "ClippedGELUActivation", "GELUTanh", "PytorchGELUTanh")
_FUNCTIONS = {**{name: "gelu" for name in _GELU}, "SiLUActivation": "silu",
              "MishActivation": "mish", "LinearActivation": "linear",
              "SigmoidActivation": "sigmoid"}


def _activation(call: ModuleCall) -> list[Entry]:
    return [{"type": "activation", "function": _FUNCTIONS[type(call.module).__name__]}]


module_rule(*_FUNCTIONS)(_activation)
