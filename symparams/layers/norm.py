"""Normalisation layers: batch, layer, group and instance normalisation.

Each normalises its input and then, when its switches say so, scales it by a
learned γ and shifts it by a learned β, one of each per channel: 2 × C
parameters.  PyTorch has one switch, ``affine`` (γ and β together); Keras has
two, ``scale`` (γ) and ``center`` (β).  All three are accepted: γ is learned
when ``affine`` and ``scale`` are on, β when ``affine`` and ``center`` are.

The formula depends on the switches, not only on sizes, so each family has
variants chosen once the switches are read: 2 × C
with both, C with one, nothing to learn with neither.  The mean and variance
the layer normalises with are not learned; batch normalisation keeps running
averages of them, which the frameworks count differently (its ``convention``
field, filled in by the network): PyTorch keeps them as 2 × C buffers, not
parameters (:meth:`buffers`); Keras counts them as 2 × C more parameters, which
are non-trainable (:meth:`non_trainable`), so its formula has 2 × C more.
"""
from __future__ import annotations

from typing import ClassVar

from sympy import Integer, Mul

from ..errors import SymparamsError
from ..printing import unicode_plain
from .base import Layer
from .fields import Flag, Size, convention_field

_SWITCHES = (Flag("scale", default=True), Flag("center", default=True))
_CHANNELS = "channels of the input (its last axis): one γ and one β each"


class _Norm(Layer):
    """What the four normalisation families share; see the module docstring."""
    family = "norm"
    learned: ClassVar[int] = 2         # γ and β: vectors of C learned per channel
    stored: ClassVar[int] = 0          # moving statistics counted as parameters (Keras: 2)
    not_learned: ClassVar[str] = ""    # what the step's reason says is not learned
    letters = {"C": _CHANNELS}

    def check(self):
        # The switches pick the variant, once they are read (a probe built without
        # fields, as generic_formula builds one, keeps its class).
        base = getattr(type(self), "_base", type(self))
        if "_variants" in base.__dict__:
            variants = base._keras_variants if getattr(self, "convention", None) == "keras" \
                else base._variants
            self.__class__ = variants[int(self.gamma) + int(self.beta)]

    def derived(self, in_shape):
        return {"C": in_shape[-1]}

    def written_formula(self, L):
        vectors = self.learned + self.stored
        if vectors == 0:
            return Integer(0)
        return Mul(Integer(vectors), L["C"]) if vectors > 1 else L["C"]

    @property
    def gamma(self) -> bool:
        return bool(self.affine and self.scale)

    @property
    def beta(self) -> bool:
        return bool(self.affine and self.center)

    def step_reason(self):
        learned = {2: "a learned scale γ and shift β for each of the C channels",
                   1: ("a learned scale γ for each of the C channels (no β: center: false)"
                       if self.gamma else
                       "a learned shift β for each of the C channels (no γ: scale: false)"),
                   0: "nothing learned (affine: false, or scale and center both false)"}
        return f"It has {learned[self.learned]}; {self.not_learned}.{self.convention_text()}"

    def convention_text(self) -> str:
        """What the step's reason adds about the framework's convention (families whose
        count the frameworks agree on add nothing)."""
        return ""

    def notes(self, in_shape):
        return []  # no bias field: the switches are said in the reason

    def describe(self):
        parts = []
        if not self.gamma:
            parts.append("no γ")
        if not self.beta:
            parts.append("no β")
        return ", ".join(parts) or "γ and β per channel"


def _with_variants(cls: type[_Norm]) -> type[_Norm]:
    """Give a family its variants with one learned vector (C) and none (0)."""
    one = type(f"{cls.__name__}OneVector", (cls,),
               {"learned": 1, "_base": cls, "__doc__": f"{cls.__name__} with γ or β, not both."})
    none = type(f"{cls.__name__}Fixed", (cls,),
                {"learned": 0, "letters": {}, "schema": cls.schema, "_base": cls,
                 "__doc__": f"{cls.__name__} with nothing to learn."})
    cls._variants = {2: cls, 1: one, 0: none}
    cls.reason = f"It has a learned scale γ and shift β for each of the C channels; {cls.not_learned}."
    cls._base = cls
    variants = [one, none]
    if "convention" in cls.fields:
        # Keras counts the moving mean and variance as parameters: each variant has
        # 2 × C more (4 × C, 3 × C, 2 × C), and the C stays a letter with nothing learned.
        cls._keras_variants = {
            learned: type(f"{cls.__name__}Keras{suffix}", (variant,),
                          {"stored": 2, "letters": cls.letters, "schema": cls.schema,
                           "_base": cls,
                           "__doc__": f"{variant.__name__} as Keras counts it."})
            for learned, variant, suffix in ((2, cls, ""), (1, one, "OneVector"),
                                             (0, none, "Fixed"))}
        variants += cls._keras_variants.values()
    for variant in variants:  # module-level names, so layers pickle and copy
        variant.__module__ = __name__
        globals()[variant.__name__] = variant
    return cls


@_with_variants
class BatchNorm(_Norm):
    """Batch normalisation: γ and β per channel, and running statistics not learned.

    >>> BatchNorm().formula
    2*C
    >>> BatchNorm(affine=False).has_params
    False
    """
    kind = "batchnorm"
    aliases = ("batchnorm2d", "batch_normalization", "batchnorm1d", "batchnormalization", "bn")
    title = "batch normalisation"
    name_prefix = "BN"
    schema = (Flag("affine", default=True), *_SWITCHES, convention_field())
    not_learned = ("the running mean and variance (2 × C values) are averaged over the "
                   "batches, not learned")
    # What the reports and the terminal say about the two conventions (see steps.py).
    convention_note = ("batch normalisation has 2 × C parameters and 2 × C buffers in "
                       "PyTorch, 4 × C parameters (2 × C non-trainable) in Keras")

    def non_trainable(self, in_shape):
        """Keras: the moving mean and variance, 2 × C parameters that are not trained;
        PyTorch: none (they are buffers)."""
        return 2 * in_shape[-1] if self.stored else Integer(0)

    def buffers(self, in_shape):
        """PyTorch: the running mean and variance, 2 × C values that are not parameters
        (its 1-value num_batches_tracked counter is left out); Keras: none."""
        return Integer(0) if self.stored else 2 * in_shape[-1]

    def convention_text(self):
        used = ("Keras convention here: they are 2 × C non-trainable parameters."
                if self.stored else
                "PyTorch convention here: they are 2 × C buffers, not parameters (PyTorch also "
                "keeps a 1-value num_batches_tracked counter, left out of the buffers here).")
        return (f" {used} PyTorch: 2 × C parameters and 2 × C buffers; Keras: "
                f"4 × C of which 2 × C non-trainable.")

    def describe(self):
        framework = "Keras" if self.stored else "PyTorch"
        return f"{super().describe()}, {framework} convention"


@_with_variants
class LayerNorm(_Norm):
    """Layer normalisation over the last axis (C values): γ and β of size C.

    >>> LayerNorm().formula
    2*C
    """
    kind = "layernorm"
    aliases = ("layer_normalization", "layernormalization", "ln")
    title = "layer normalisation"
    name_prefix = "LN"
    letters = {"C": "size of the last axis of the input (normalised over): one γ and one β "
                    "each"}
    schema = (Flag("affine", default=True), *_SWITCHES)
    not_learned = ("the mean and variance are computed afresh for every example, not learned")


@_with_variants
class GroupNorm(_Norm):
    """Group normalisation: C channels in g groups; γ and β per channel.

    >>> GroupNorm(groups=4).formula
    2*C
    """
    kind = "groupnorm"
    aliases = ("group_normalization", "groupnormalization")
    title = "group normalisation"
    name_prefix = "GN"
    schema = (Size("groups"), Flag("affine", default=True), *_SWITCHES)
    not_learned = ("the mean and variance of each of the g groups are computed afresh for "
                   "every example, not learned")

    def check_input(self, in_shape):
        super().check_input(in_shape)
        channels = in_shape[-1]
        rest = channels / self.groups
        if rest.is_number and not rest.is_integer:
            raise SymparamsError(f"{unicode_plain(self.groups)} groups must divide the "
                                 f"{unicode_plain(channels)} channels of the input",
                                 field="groups")

    def describe(self):
        return f"{unicode_plain(self.groups)} groups, {super().describe()}"


@_with_variants
class InstanceNorm(_Norm):
    """Instance normalisation: like group normalisation with one channel per group;
    PyTorch learns nothing unless ``affine: true``.

    >>> InstanceNorm().has_params, InstanceNorm(affine=True).formula
    (False, 2*C)
    """
    kind = "instancenorm"
    aliases = ("instancenorm2d", "instance_normalization", "instancenormalization",
               "instancenorm1d")
    title = "instance normalisation"
    name_prefix = "IN"
    schema = (Flag("affine", default=False), *_SWITCHES)
    not_learned = ("the mean and variance of each channel are computed afresh for every "
                   "example, not learned")


NORM_FAMILIES = (BatchNorm, LayerNorm, GroupNorm, InstanceNorm)

__all__ = ["BatchNorm", "LayerNorm", "GroupNorm", "InstanceNorm", "NORM_FAMILIES"]
