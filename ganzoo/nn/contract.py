"""The component contract: what ganzoo may assume about a network or a loss, read from the object itself.

Every check (slot fitting, size validation, the WGAN-GP batch-norm rule, the registry-wide tests) reads
the contract here rather than from registration metadata, so that a component says what it is in one
place and a third-party plugin cannot register one thing and build another. docs/plugins.md ("Conventions
networks follow") documents the attributes.

Networks declare plain attributes (class attributes, or instance attributes where they depend on
options); batch normalisation is found by inspecting the modules, because whether a network has it
usually depends on a ``norm`` option, and a declaration could go stale.
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
from typing import Any, Sequence

from torch import Tensor, nn
from torch.nn.modules.batchnorm import _BatchNorm
from torch.nn.modules.instancenorm import _InstanceNorm

from ganzoo.errors import GanzooError

#: The values ``input_kind`` may take: an image batch (N, C, H, W), or noise from ``noise(n)``.
INPUT_KINDS: tuple[str, ...] = ("image", "noise")
#: The values a built-in loss's ``role`` takes: the adversarial slot, a distance between two images, or
#: a distance between a discriminator's features on fakes and on real inputs (pix2pixHD's feature matching).
LOSS_ROLES: tuple[str, ...] = ("adversarial", "reconstruction", "feature_matching")


@dataclasses.dataclass(frozen=True)
class Contract:
    """What a built network promises: its input, its channels, the sizes it takes and its capabilities.

    Attributes:
        input_kind: ``"image"`` (N, C, H, W) or ``"noise"`` (the network has ``noise(n)``).
        in_channels: input channels; ``None`` for noise generators.
        out_channels: output channels (1 for discriminators, whose outputs are logit maps).
        size_multiple: input sides must be multiples of this.
        min_size: smallest input side the network takes.
        image_size: the one side a fixed-size network (DCGAN) takes or makes; ``None`` when any fits.
        batch_norm: whether any submodule normalises with batch statistics (see :func:`uses_batch_norm`).
        features: whether ``features(x)`` gives the intermediate activations (feature matching).
        encoder_layers: the names ``encode(x, layers)`` accepts (contrastive losses); empty if none.
    """

    input_kind: str = "image"
    in_channels: int | None = None
    out_channels: int | None = None
    size_multiple: int = 1
    min_size: int = 1
    image_size: int | None = None
    batch_norm: bool = False
    features: bool = False
    encoder_layers: tuple[str, ...] = ()


def _has_method(net: nn.Module, name: str) -> bool:
    # Looked up on the class, so that a submodule that happens to be called ``features`` (torchvision's
    # VGG has one) is not mistaken for the method.
    return callable(inspect.getattr_static(type(net), name, None))


def _unwrap(factory: Any) -> Any:
    while isinstance(factory, functools.partial):
        factory = factory.func
    return factory


def _check_input_kind(kind: Any, owner: Any) -> str:
    if kind not in INPUT_KINDS:
        raise GanzooError(f"{getattr(owner, '__name__', type(owner).__name__)} declares input_kind {kind!r}; "
                          f"valid: {', '.join(INPUT_KINDS)}")
    return kind


def contract_of(net: nn.Module) -> Contract:
    """Read a built network's contract from its attributes and modules.

    Only attributes are read and modules inspected, so a network built on the meta device (``with
    torch.device("meta"): net = ...``) gives the same contract as a real one, without allocating weights.

    Raises:
        GanzooError: ``input_kind`` is not one of :data:`INPUT_KINDS`, or a noise network lacks
            ``noise(n)``; both would otherwise fail later, deep inside training.
    """
    kind = _check_input_kind(getattr(net, "input_kind", "image"), type(net))
    if kind == "noise" and not _has_method(net, "noise"):
        raise GanzooError(f"{type(net).__name__} takes noise but has no noise(n) method to draw it")
    image_size = getattr(net, "image_size", None)
    return Contract(
        input_kind=kind,
        in_channels=getattr(net, "in_channels", None),
        out_channels=getattr(net, "out_channels", None),
        size_multiple=int(getattr(net, "size_multiple", 1)),
        min_size=int(getattr(net, "min_size", 1)),
        image_size=None if image_size is None else int(image_size),
        batch_norm=uses_batch_norm(net),
        features=_has_method(net, "features"),
        encoder_layers=tuple(getattr(net, "encoder_layers", ())) if _has_method(net, "encode") else (),
    )


def input_kind_of(factory: Any) -> str:
    """What a generator factory's networks consume, read without building one.

    A class declares ``input_kind`` as a class attribute; a function factory may carry an ``input_kind``
    attribute. Without one, the answer is ``"image"``. ``functools.partial`` wrappers are looked through.
    """
    factory = _unwrap(factory)
    return _check_input_kind(getattr(factory, "input_kind", "image"), factory)


def loss_role(factory: Any) -> str | None:
    """A loss factory's ``role`` class attribute (one of :data:`LOSS_ROLES` for the built-ins), read without
    building it; ``None`` when the factory declares none (an auxiliary loss no slot is typed for)."""
    return getattr(_unwrap(factory), "role", None)


def discriminator_needs(factory: Any) -> tuple[str, ...]:
    """The :class:`Contract` fields a loss factory's ``discriminator_needs`` class attribute names (feature
    matching: ``("features",)``), read without building it; ``()`` when it declares none."""
    return tuple(getattr(_unwrap(factory), "discriminator_needs", ()))


#: The method behind each capability field of :class:`Contract`.
METHODS: dict[str, str] = {"features": "features", "encoder_layers": "encode"}


def offers(factory: Any, field: str) -> bool:
    """Whether a network class has the method behind a capability field of :class:`Contract`
    (``features``), read from the class without building it; a function factory shows nothing."""
    factory = _unwrap(factory)
    return isinstance(factory, type) and callable(inspect.getattr_static(factory, METHODS[field], None))


def uses_batch_norm(module: nn.Module) -> bool:
    """Whether any submodule normalises with batch statistics.

    True for every subclass of torch's ``_BatchNorm`` (``BatchNorm1d/2d/3d``, ``SyncBatchNorm``, the lazy
    variants, and timm's ``BatchNormAct2d``), so a timm critic built with batch norm is caught too. Instance
    and group norm are per-sample and timm's ``FrozenBatchNorm2d`` uses fixed statistics; none of them
    couples the samples of a batch, which is what makes a per-sample gradient penalty (WGAN-GP) wrong.
    """
    return any(isinstance(m, _BatchNorm) for m in module.modules())


def uses_instance_norm(module: nn.Module) -> bool:
    """Whether any submodule is an instance norm (``InstanceNorm1d/2d/3d`` and their lazy variants).

    The fast path reads it: PyTorch's instance norm copies a channels-last input back to the contiguous
    layout (and the result back again), so such a network runs slower in channels-last, not faster.
    """
    return any(isinstance(m, _InstanceNorm) for m in module.modules())


def as_logit_list(output: Any) -> list[Tensor]:
    """A discriminator's output as a list of logit maps: one map (a Tensor) or one per scale.

    Multi-scale discriminators (pix2pixHD) return a list or tuple of maps, coarsest or finest first; the
    losses treat every scale alike, so the order does not matter to them.

    Raises:
        GanzooError: ``output`` is neither a Tensor nor a non-empty list/tuple of Tensors.
    """
    if isinstance(output, Tensor):
        return [output]
    if isinstance(output, (list, tuple)) and output and all(isinstance(o, Tensor) for o in output):
        return list(output)
    if isinstance(output, (list, tuple)):
        inner = ", ".join(sorted({type(o).__name__ for o in output})) or "nothing"
        raise GanzooError(f"a discriminator returned a {type(output).__name__} of {inner}; expected a Tensor "
                          "of logits or a non-empty list of them (one per scale)")
    raise GanzooError(f"a discriminator returned a {type(output).__name__}; expected a Tensor of logits or a "
                      "list of them (one per scale)")


def check_encoder_layers(net: nn.Module, layers: Sequence[str]) -> None:
    """Raise a :class:`GanzooError` naming the valid layers if ``layers`` asks for one ``net`` lacks."""
    if isinstance(layers, str):
        raise GanzooError(f"encode takes a sequence of layer names, not the string {layers!r}")
    valid = tuple(getattr(net, "encoder_layers", ()))
    unknown = [name for name in layers if name not in valid]
    if unknown:
        raise GanzooError(f"{type(net).__name__} has no encoder layer {', '.join(map(repr, unknown))}; "
                          f"valid layers: {', '.join(valid) or 'none'}")
