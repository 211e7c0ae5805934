"""The run specification: one typed, frozen description of a run, each fact in one field.

It is built and validated once (:func:`ganzoo.train.config.build_spec`) from the recipe, the user's
choices and ``--set``, and becomes JSON (with a format version) only at the edges: the run folder's
config.json, ``--dry-run``, the bundle (:func:`ganzoo.hub.bundle.bundle_config_from_run` projects it) and
the model card. :func:`from_json` also reads the untyped config.json that ganzoo 0.1.0 wrote.

This module imports no torch.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Mapping

from ganzoo.errors import GanzooError

FORMAT = "ganzoo-run"
FORMAT_VERSION = 2


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
    weight: float  # 0: off
    options: Mapping[str, Any] = dataclasses.field(default_factory=dict)


@dataclasses.dataclass(frozen=True)
class OptimizerSpec:
    """Adam for one optimizer group."""

    lr: float = 2e-4
    beta1: float = 0.5
    beta2: float = 0.999


@dataclasses.dataclass(frozen=True)
class DataSpec:
    """What the run trains on and how images become tensors."""

    source: str  # a folder, toy:NAME, a data set name, or hf-hub:ORG/NAME
    mode: str  # the data mode: paired, unpaired, single, or a plugin's
    image_size: int  # training crop side
    toy: bool = False  # the embedded toy set of the recipe (its toy schedule applied)
    in_channels: int = 3
    out_channels: int = 3
    direction: str = "AtoB"  # AtoB trains A -> B; BtoA swaps the domains
    preprocess: str | None = None  # None: the data mode's default (resize_and_crop)
    load_size: int | None = None  # None: image_size * 286 / 256 for real data, as the reference
    flip: bool | None = None  # None: the data mode's default (random horizontal flips when training)
    serial: bool = False  # unpaired: pair B images in order instead of at random
    max_size: int | None = None  # use at most this many images
    size: int | None = None  # toy sets: how many scenes to generate


@dataclasses.dataclass(frozen=True)
class TrainSpec:
    """The engine's settings."""

    steps: int | None = None  # total iterations; None: from epochs
    epochs: int | None = None  # used when steps is None
    batch_size: int = 1
    lr_policy: str = "linear"  # linear, constant, step, cosine, plateau
    decay_start: float = 0.5  # linear: share of the run at constant lr before the decay
    seed: int = 0
    device: str = "auto"  # auto: CUDA, then MPS, then CPU
    deterministic: bool = False
    log_every: int = 25  # iterations per metrics row (losses are averaged over them)
    sample_every: int | None = None  # None: 5 grids over the run
    checkpoint_every: int | None = None  # None: 2 checkpoints over the run, and the last
    keep_checkpoints: int = 3
    init_type: str | None = "normal"  # normal, xavier, kaiming, orthogonal; None: the modules' own
    init_gain: float = 0.02
    workers: int | None = None  # data loader processes; None: chosen for the machine
    score_samples: int = 100  # toy scoring: how many test items
    loggers: tuple[str, ...] = ()  # logger plugins to switch on (tensorboard, ...)


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


def _build(cls: type, doc: Mapping[str, Any], *, where: str) -> Any:
    fields = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(doc) - fields)
    if unknown:
        raise GanzooError(f"{where} has unknown keys {', '.join(unknown)}")
    try:
        return cls(**doc)
    except TypeError as exc:
        raise GanzooError(f"{where} is incomplete: {exc}") from exc


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
        train = dict(doc["train"])
        train["loggers"] = tuple(train.get("loggers", ()))
        return RunSpec(
            recipe=doc["recipe"],
            components={k: _build(ComponentSpec, v, where=f"{where}: components.{k}") for k, v in doc["components"].items()},
            networks={k: _build(NetworkSpec, v, where=f"{where}: networks.{k}") for k, v in doc["networks"].items()},
            inference=dict(doc["inference"]),
            aux={k: _build(AuxSpec, v, where=f"{where}: aux.{k}") for k, v in doc["aux"].items()},
            optimizers={k: _build(OptimizerSpec, v, where=f"{where}: optimizers.{k}")
                        for k, v in doc["optimizers"].items()},
            hparams=dict(doc["hparams"]),
            data=_build(DataSpec, doc["data"], where=f"{where}: data"),
            train=_build(TrainSpec, train, where=f"{where}: train"),
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
