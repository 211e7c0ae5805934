"""The run specification: one typed, frozen description of a run, each fact in one field.

It is built and validated once (:func:`ganzoo.train.config.build_spec`) from the recipe, the user's
choices and ``--set``, and becomes JSON (with a format version) only at the edges: the run folder's
config.json, ``--dry-run``, the bundle (:func:`ganzoo.hub.bundle.bundle_config_from_run` projects it) and
the model card. :func:`from_json` also reads the untyped config.json that ganzoo 0.1.0 wrote.

Each field declares its allowed range beside its type (:func:`allowed`); every spec checks its fields when
it is made (from ``build_spec``, from a config.json, from ``dataclasses.replace``), so no value out of
range gets as far as the engine.

This module imports no torch (names owned by torch-importing modules are read from them when checked).
"""

from __future__ import annotations

import dataclasses
import functools
import typing
from typing import Any, Mapping

from ganzoo.errors import GanzooError, UsageError
from ganzoo.recipe import Value

FORMAT = "ganzoo-run"
FORMAT_VERSION = 2


def allowed(default: Any = dataclasses.MISSING, **bounds: Any) -> Any:
    """A field whose value must fit ``bounds`` (:class:`ganzoo.Value` keywords; the type is the annotation)."""
    return dataclasses.field(default=default, metadata={"allowed": bounds})


@functools.cache
def field_values(cls: type) -> dict[str, Value]:
    """What each field of a spec class may hold: its annotation with its declared bounds."""
    hints = typing.get_type_hints(cls)
    return {f.name: Value(hints[f.name], **f.metadata.get("allowed", {})) for f in dataclasses.fields(cls)}


def _check_fields(spec: Any) -> None:
    """Check (and normalise: 3.0 -> 3, [names] -> (names,)) every declared field of a frozen spec."""
    for name, value in field_values(type(spec)).items():
        object.__setattr__(spec, name, value.check(name, getattr(spec, name)))


#: Devices: auto, cpu, cuda, cuda:N, mps.
DEVICES = ("auto", "cpu", "cuda", "cuda:N", "mps")

#: Autocast precisions: exact float32, bfloat16, float16 (with a gradient scaler per optimizer group).
PRECISIONS = ("fp32", "bf16", "fp16")
#: torch.compile modes (``reduce-overhead`` adds CUDA graphs on CUDA).
COMPILE_MODES = ("default", "reduce-overhead", "max-autotune")

#: The preprocessing modes that crop ``image_size`` out of an image resized to ``load_size`` (None: the default).
_CROPPING = (None, "resize_and_crop", "scale_width_and_crop")


@dataclasses.dataclass(frozen=True)
class ComponentSpec:
    """The component filling one slot."""

    name: str  # registry name as resolved (aliases made canonical; FAMILY:ARG and NAME.TAG kept)
    options: Mapping[str, Any] = dataclasses.field(default_factory=dict)  # every option passed to it
    plugin: str = ""  # the plugin that registered it
    distribution: str = ""  # what to pip install to get that plugin (named when it is missing)


@dataclasses.dataclass(frozen=True)
class NetworkSpec:
    """One network of the run (from the recipe's declaration, kept so a run folder reads without it)."""

    slot: str  # the slot whose component it is
    role: str  # the registry kind of that component: generator, discriminator, module
    group: str = ""  # the optimizer group that updates it


@dataclasses.dataclass(frozen=True)
class AuxSpec:
    """An auxiliary loss role, filled."""

    loss: str  # the registry name of the loss
    weight: float = allowed(min=0)  # 0: off
    options: Mapping[str, Any] = dataclasses.field(default_factory=dict)

    def __post_init__(self) -> None:
        _check_fields(self)


@dataclasses.dataclass(frozen=True)
class OptimizerSpec:
    """Adam for one optimizer group."""

    lr: float = allowed(2e-4, min=0, min_open=True)
    beta1: float = allowed(0.5, min=0, max=1, max_open=True)
    beta2: float = allowed(0.999, min=0, max=1, max_open=True)

    def __post_init__(self) -> None:
        _check_fields(self)


@dataclasses.dataclass(frozen=True)
class DataSpec:
    """What the run trains on and how images become tensors."""

    source: str  # a folder, toy:NAME, a data set name, or hf-hub:ORG/NAME
    mode: str  # the data mode: paired, unpaired, single, or a plugin's
    image_size: int = allowed(min=8)  # training crop side (the networks may need more: the probe says)
    toy: bool = False  # the embedded toy set of the recipe (its toy schedule applied)
    in_channels: int = allowed(3, min=1)
    out_channels: int = allowed(3, min=1)
    direction: str = allowed("AtoB", choices="ganzoo.data.folders:DIRECTIONS")  # BtoA swaps the domains
    # None: the data mode's default (resize_and_crop)
    preprocess: str | None = allowed(None, choices="ganzoo.data.transforms:PREPROCESS_MODES")
    load_size: int | None = allowed(None, min=8)  # None: image_size * 286 / 256 for real data, as the reference
    flip: bool | None = None  # None: the data mode's default (random horizontal flips when training)
    serial: bool = False  # unpaired: pair B images in order instead of at random
    max_size: int | None = allowed(None, min=1)  # use at most this many images
    size: int | None = allowed(None, min=1)  # toy sets: how many scenes to generate

    def __post_init__(self) -> None:
        _check_fields(self)
        if self.load_size is not None and self.load_size < self.image_size and self.preprocess in _CROPPING:
            raise UsageError(f"load_size={self.load_size}: expected a whole number >= image_size ({self.image_size}): "
                             f"preprocess {self.preprocess or 'resize_and_crop'} crops image_size from load_size")


@dataclasses.dataclass(frozen=True)
class TrainSpec:
    """The engine's settings."""

    steps: int | None = allowed(None, min=1)  # total iterations; None: from epochs
    epochs: int | None = allowed(None, min=1)  # used when steps is None
    batch_size: int = allowed(1, min=1)
    lr_policy: str = allowed("linear", choices="ganzoo.train.schedules:SCHEDULES")
    decay_start: float = allowed(0.5, min=0, max=1)  # linear: share of the run at constant lr before the decay
    seed: int = allowed(0, min=0, max=2**32 - 1)
    device: str = allowed("auto", choices=DEVICES, pattern=r"auto|cpu|mps|cuda(:\d+)?")  # auto: CUDA, MPS, CPU
    deterministic: bool = False
    log_every: int = allowed(25, min=1)  # iterations per metrics row (losses are averaged over them)
    sample_every: int | None = allowed(None, min=1)  # None: 5 grids over the run
    checkpoint_every: int | None = allowed(None, min=1)  # None: 2 checkpoints over the run, and the last
    keep_checkpoints: int = allowed(3, min=1)
    # None: the modules' own initialisation
    init_type: str | None = allowed("normal", choices="ganzoo.nn.layers:INIT_TYPES")
    init_gain: float = allowed(0.02, min=0, min_open=True)
    workers: int | None = allowed(None, min=0)  # data loader processes; None: chosen for the machine
    score_samples: int = allowed(100, min=1)  # toy scoring: how many test items
    loggers: tuple[str, ...] = ()  # logger plugins to switch on (tensorboard, ...)
    # The fast path (docs/training.md): the defaults are exact fp32 eager. Checkpoints are the same either way.
    precision: str = allowed("fp32", choices=PRECISIONS)  # autocast dtype of the forward passes; fp16 adds scalers
    channels_last: bool = False  # channels-last layout for the networks without instance norm
    compile: str | None = allowed(None, choices=COMPILE_MODES)  # torch.compile mode per network; None: eager
    fast: bool = False  # fill what the user left unset with the device's best measured combination
    # Decay of an exponential moving average of the inference networks' weights (ganzoo/train/ema.py); 0: off.
    # Samples, toy scores and exports use the average when it is on.
    ema: float = allowed(0.0, min=0, max=1, max_open=True)
    # Evaluation during training (ganzoo/train/evaluation.py): every N steps and at the end; None: off.
    eval_every: int | None = allowed(None, min=1)
    # fid, kid, toy; empty: fid and kid, and toy on a toy set
    eval_metrics: tuple[str, ...] = allowed((), choices="ganzoo.metrics.evaluate:METRICS")
    eval_features: str = allowed("inception", pattern=r"inception|timm:\S+")  # the feature network of FID/KID
    eval_weights: str | None = None  # a local copy of its weights (else GANZOO_INCEPTION_WEIGHTS, else the cache)
    eval_unverified_weights: bool = False  # take Inception weights whose SHA-256 is not the pinned one (marked so)
    eval_resize: str = allowed("tf1", choices="ganzoo.metrics.features:RESIZES")  # tf1: as published tables
    eval_max_images: int | None = allowed(None, min=2)  # real images per comparison (None: up to 10000)
    eval_samples: int | None = allowed(None, min=2)  # noise-to-image: samples (None: as many as real images)
    keep_best: str | None = None  # fid, kid or a toy score: keep the best model so far as a bundle in RUN/best
    # Under torchrun (ganzoo/train/distributed.py): batch norm statistics over all processes' batches (GPUs only)
    sync_bn: bool = False

    def __post_init__(self) -> None:
        _check_fields(self)
        if self.keep_best and not self.eval_every:
            raise UsageError(f"keep_best={self.keep_best} needs evaluation during training: add --eval-every N")


@dataclasses.dataclass(frozen=True)
class RunSpec:
    """Everything about a run."""

    recipe: str
    components: Mapping[str, ComponentSpec]  # slot role -> component
    networks: Mapping[str, NetworkSpec]  # network name -> where it comes from
    inference: Mapping[str, str]  # AtoB/BtoA/sample -> network name
    aux: Mapping[str, AuxSpec]  # role -> loss
    optimizers: Mapping[str, OptimizerSpec]  # group -> Adam settings
    hparams: Mapping[str, Any]  # the step's own hyper-parameters
    data: DataSpec
    train: TrainSpec
    recipe_distribution: str = ""  # what to pip install to get the recipe's plugin
    notes: tuple[str, ...] = ()  # what the checks changed, said once at start
    versions: Mapping[str, str] = dataclasses.field(default_factory=dict)  # ganzoo, torch, plugins

    def network_component(self, network: str) -> ComponentSpec:
        return self.components[self.networks[network].slot]

    def ema_networks(self) -> tuple[str, ...]:
        """The networks whose weights are averaged (``train.ema`` > 0): those the inference map names,
        in its order, each once; none when the average is off."""
        if not self.train.ema:
            return ()
        return tuple(dict.fromkeys(self.inference.values()))

    def to_json(self) -> dict[str, Any]:
        """The JSON form (config.json, ``--dry-run``, a bundle's training configuration)."""
        body = _plain(dataclasses.asdict(self))
        return {"format": FORMAT, "format_version": FORMAT_VERSION, **body}


def _plain(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def _build(cls: type, doc: Any, *, where: str) -> Any:
    """One spec from its JSON object; a value out of range is refused naming where it was read."""
    if not isinstance(doc, Mapping):
        raise UsageError(f"{where} must be a JSON object, not {json_kind(doc)}")
    fields = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(doc) - fields)
    if unknown:
        raise GanzooError(f"{where} has unknown keys {', '.join(unknown)}")
    try:
        return cls(**doc)
    except UsageError as exc:
        raise UsageError(f"{where}: {exc}") from exc
    except TypeError as exc:
        raise GanzooError(f"{where} is incomplete: {exc}") from exc


def json_kind(value: Any) -> str:
    """A JSON value's kind in JSON's words (a list is an array, None is null)."""
    names = {list: "an array", tuple: "an array", str: "a string", bool: "a boolean", int: "a number",
             float: "a number", type(None): "null"}
    return names.get(type(value), type(value).__name__)


def _object(doc: Mapping[str, Any], key: str, *, where: str) -> Mapping[str, Any]:
    """A section of config.json that must be a JSON object."""
    value = doc[key]
    if not isinstance(value, Mapping):
        raise UsageError(f"{where}: {key} must be a JSON object, not {json_kind(value)}")
    return value


def from_json(doc: Any, *, where: str = "config.json") -> RunSpec:
    """Read a run specification written by this ganzoo (format 2) or by ganzoo 0.1.0 (format 1)."""
    if not isinstance(doc, Mapping):
        raise GanzooError(f"{where} is not a run configuration (a JSON object)")
    if doc.get("format") != FORMAT:
        if "components" in doc and "hparams" in doc:
            doc = upgrade_v1(doc)
        else:
            raise GanzooError(f"{where} is not a ganzoo run configuration")
    version = doc.get("format_version", 0)
    if not isinstance(version, int) or version > FORMAT_VERSION:
        raise GanzooError(f"{where} is run format {version}; this ganzoo reads up to {FORMAT_VERSION}: upgrade ganzoo")
    try:
        sections = {key: _object(doc, key, where=where) for key in
                    ("components", "networks", "inference", "aux", "optimizers", "hparams", "data", "train")}
        return RunSpec(
            recipe=doc["recipe"],
            components={k: _build(ComponentSpec, v, where=f"{where}: components.{k}")
                        for k, v in sections["components"].items()},
            networks={k: _build(NetworkSpec, v, where=f"{where}: networks.{k}") for k, v in sections["networks"].items()},
            inference=dict(sections["inference"]),
            aux={k: _build(AuxSpec, v, where=f"{where}: aux.{k}") for k, v in sections["aux"].items()},
            optimizers={k: _build(OptimizerSpec, v, where=f"{where}: optimizers.{k}")
                        for k, v in sections["optimizers"].items()},
            hparams=dict(sections["hparams"]),
            data=_build(DataSpec, sections["data"], where=f"{where}: data"),
            train=_build(TrainSpec, sections["train"], where=f"{where}: train"),
            recipe_distribution=str(doc.get("recipe_distribution", "")),
            notes=tuple(doc.get("notes", ())),
            versions=dict(doc.get("versions", {})),
        )
    except (KeyError, AttributeError, TypeError) as exc:
        raise GanzooError(f"{where} is not a complete run configuration (missing {exc})") from exc


#: How ganzoo 0.1.0's first-party recipes laid out their networks (its config.json did not say).
_V1_LAYOUT = {
    "cyclegan": ({"gen_ab": ("generator", "G"), "gen_ba": ("generator", "G"), "disc_a": ("discriminator", "D"),
                  "disc_b": ("discriminator", "D")}, {"AtoB": "gen_ab", "BtoA": "gen_ba"}),
    "pix2pix": ({"gen": ("generator", "G"), "disc": ("discriminator", "D")}, {"AtoB": "gen"}),
    "dcgan": ({"gen": ("generator", "G"), "disc": ("discriminator", "D")}, {"sample": "gen"}),
}
_V1_ENGINE_HPARAMS = ("lr", "lr_d", "beta1", "beta2", "batch_size", "image_size", "lr_policy", "decay_start",
                      "epochs", "in_channels", "out_channels")


def upgrade_v1(doc: Mapping[str, Any]) -> dict[str, Any]:
    """ganzoo 0.1.0's config.json (no format key: nested dicts) in today's form."""
    c, data, hp, train = doc["components"], doc["data"], dict(doc["hparams"]), dict(doc["train"])
    recipe = doc["recipe"]
    copies = {role: list(c[role].get("copies") or []) for role in ("generator", "discriminator")}
    if recipe in _V1_LAYOUT:
        layout, inference = _V1_LAYOUT[recipe]
    else:  # a third-party recipe of 0.1.0: its copies (or gen/disc), G and D, the first generator translating
        layout = {name: (role, "G" if role == "generator" else "D")
                  for role, default in (("generator", "gen"), ("discriminator", "disc"))
                  for name in copies[role] or [default]}
        gens = [n for n, (role, _) in layout.items() if role == "generator"]
        inference = dict(zip(("AtoB", "BtoA"), gens))
    options = dict(data.get("options", {}))
    lr = float(hp["lr"])
    betas = {"beta1": float(hp.get("beta1", 0.5)), "beta2": float(hp.get("beta2", 0.999))}
    optimizers = {"G": {"lr": lr, **betas}, "D": {"lr": float(hp.get("lr_d") or lr), **betas}}
    loss = c["adversarial_loss"]
    return {
        "format": FORMAT, "format_version": FORMAT_VERSION, "recipe": recipe,
        "components": {"generator": {"name": c["generator"]["name"], "options": c["generator"]["options"]},
                       "discriminator": {"name": c["discriminator"]["name"], "options": c["discriminator"]["options"]},
                       "loss": {"name": loss["name"], "options": loss.get("options", {})}},
        "networks": {name: {"slot": role, "role": role, "group": group} for name, (role, group) in layout.items()},
        "inference": inference,
        "aux": {role: {"loss": role, "weight": float(spec["weight"]), "options": {}}
                for role, spec in c.get("aux_losses", {}).items()},
        "optimizers": optimizers,
        "hparams": {k: v for k, v in hp.items() if k not in _V1_ENGINE_HPARAMS},
        "data": {"source": data["spec"], "mode": data["mode"], "image_size": int(data["image_size"]),
                 "toy": bool(data.get("toy")), "in_channels": int(data.get("in_channels", 3)),
                 "out_channels": int(data.get("out_channels", 3)),
                 **{k: options[k] for k in ("direction", "preprocess", "load_size", "flip", "serial", "max_size", "size")
                    if k in options}},
        "train": {**{k: train[k] for k in ("steps", "epochs", "seed", "device", "deterministic", "log_every",
                                           "sample_every", "checkpoint_every", "keep_checkpoints", "init_type",
                                           "init_gain", "workers", "score_samples") if k in train},
                  "batch_size": int(hp.get("batch_size", 1)), "lr_policy": hp.get("lr_policy", "linear"),
                  "decay_start": float(hp.get("decay_start", 0.5))},
        "notes": list(doc.get("notes", [])),
        "versions": dict(doc.get("versions", {})),
    }
