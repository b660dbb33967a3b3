"""ONNX Gemm/MatMul nodes whose weight an earlier layer already counts.

torch's exporter writes a tied weight once, as one initializer every user reads
(directly or through a Transpose): GPT-2's ``lm_head`` reads the token
embedding's table, a Linear called twice reads its own weight again.  Counting
it at each user would count it twice, so the later users say whose it is.
"""
from __future__ import annotations


def counted_weight(importer, value: str) -> str | None:
    """The earlier layer that already counts every initializer of this weight (read
    directly, or through Transpose or an Identity of what that layer read), else None:
    a head tied to an embedding's table, or a Linear's weight used by a second node.
    An Identity copy of an initializer is a tensor of its own (onnx_read.py: torch
    counts each of the equal fresh tensors it stands for), so it is never a tie."""
    keys = importer.graph.sources(value)
    owners = {importer.claimed.get(key) for key in keys}
    return owners.pop() if keys and len(owners) == 1 and None not in owners else None


def shared_dense(importer, node, index, acts, outputs, owner, units, bias_values):
    """A Gemm/MatMul whose weight ``owner`` already counts: ``tie:`` the embedding whose
    V × E table it is (GPT-2's head: counted there, once, and the step says so); any
    other sharer is a zero-parameter opaque layer naming whose weight it uses, with its
    own new bias (if any) as a learned tensor fed to it."""
    g = importer.graph
    bias_keys = [k for v in bias_values for k in sorted(g.sources(v))]
    new_bias = importer.new_sources(bias_values)
    name = importer.node_name(node, index, new_bias, short=True)
    shape = importer.layout.ours(acts[0])
    if importer.tables.get(owner) == [units, shape[-1] if shape else None] \
            and new_bias == bias_keys and len(shape) <= 2:
        return importer.add("dense", name, acts, outputs=outputs, weights=new_bias,
                            units=units, bias=bool(bias_keys), tie=owner)
    tensors = []
    for key in new_bias:
        layer = importer.add("tensor", f"{name}.bias", [], weights=[key], shape=[units])
        importer.layer_of[f"\0{layer}"] = layer
        tensors.append(f"\0{layer}")
    fields = {"op": f"ONNX {node.op_type} (its weight is {owner}'s, counted there)"}
    if importer.layout.ours(outputs[-1]) is not None:
        fields["output"] = importer.layout.ours(outputs[-1])
    return importer.add("opaque", name, [*acts, *tensors], outputs=outputs, **fields)
