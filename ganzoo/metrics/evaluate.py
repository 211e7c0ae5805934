"""Evaluate a trained model the way published tables do, and record how.

What is compared with what (:func:`comparisons`):

- image-to-image: each direction the model translates turns the *test* split of its input domain into
  the other domain, compared with that domain's real test images (CycleGAN, CUT and pix2pix tables
  compute FID so);
- noise-to-image: samples, compared with the *training* set, as many as there are real images used (at
  most :data:`DEFAULT_MAX_IMAGES`) unless told otherwise;
- on an embedded toy set, the toy scores too (:mod:`ganzoo.metrics.toy`), which know the right answers.

Every number is stored with its protocol (:mod:`ganzoo.metrics.features` and :mod:`ganzoo.metrics.fidelity`
say what goes in it): the feature network and its weights' SHA-256, the resize, the number of real and
generated images, which real split, the image size. :func:`evaluate` works on anything that exposes the
trained generators as functions, so the command line (``ganzoo eval``) and the training loop
(``--eval-every``) share it.
"""

from __future__ import annotations

import dataclasses
import math
from typing import TYPE_CHECKING, Any, Callable, Iterator, Mapping, Sequence

from ganzoo.errors import GanzooError, UsageError

if TYPE_CHECKING:
    from torch import Tensor

    from ganzoo.metrics.features import FeatureExtractor

#: What ``--metric`` takes.
METRICS = ("fid", "kid", "toy")
#: At most this many real images (and as many samples) unless ``max_images`` says otherwise.
DEFAULT_MAX_IMAGES = 10_000
#: The evaluation record's file (in a run or bundle folder), format marker and version.
METRICS_FILE, FORMAT, FORMAT_VERSION = "metrics.json", "ganzoo-metrics", 1
#: Which way a lower or higher value is better, for ``--keep-best`` and for tables.
LOWER_IS_BETTER = {"fid": True, "kid": True}


class EvaluationError(GanzooError):
    """The model or the data cannot be evaluated as asked (no test split, a metric that does not apply)."""


def parse_metrics(text: str | Sequence[str]) -> tuple[str, ...]:
    """``"fid,kid"`` (or a list) as a tuple of known metric names, in the order given, without repeats."""
    names = [n.strip().lower() for n in (text.split(",") if isinstance(text, str) else text) if n.strip()]
    unknown = [n for n in names if n not in METRICS]
    if unknown or not names:
        raise UsageError(f"unknown metric {unknown[0]!r}; choose from {', '.join(METRICS)}" if unknown
                         else f"no metric given; choose from {', '.join(METRICS)}")
    return tuple(dict.fromkeys(names))


@dataclasses.dataclass(frozen=True)
class Target:
    """What a model was trained on and what it makes: enough to find the real images it is judged against.

    Attributes:
        source: the data (``toy:NAME``, a folder, ``hf-hub:...``, a catalog name).
        mode: ``paired``, ``unpaired`` or ``single``.
        direction: the direction the model was trained (``AtoB`` or ``BtoA``): its input side is the
            data's A side when ``AtoB``.
        image_size: the side the model makes; real images are resized to it.
        channels: ``{"A": 3, "B": 3}`` (input and target side, as trained).
        outputs: ``("AtoB", "BtoA")``, ``("AtoB",)`` or ``("sample",)``.
        domains: names of the input (``A``) and target (``B``) domains, for labels.
        train_size: how many training images a toy set had (None: its default).
        score_samples: how many images the toy scores use.
    """

    source: str
    mode: str
    direction: str
    image_size: int
    channels: Mapping[str, int]
    outputs: tuple[str, ...]
    domains: Mapping[str, str]
    train_size: int | None = None
    score_samples: int = 100

    @classmethod
    def from_spec(cls, spec: Any) -> Target:
        """From a run specification (a run that is training, or a run folder's config.json)."""
        from ganzoo.hub.bundle import domains_of

        data = spec.data
        outputs = ("sample",) if "sample" in spec.inference else tuple(d for d in ("AtoB", "BtoA")
                                                                        if d in spec.inference)
        return cls(source=data.source, mode=data.mode, direction=data.direction, image_size=data.image_size,
                   channels={"A": data.in_channels, "B": data.out_channels}, outputs=outputs,
                   domains=domains_of(data.source, direction=data.direction), train_size=data.size,
                   score_samples=spec.train.score_samples)

    @classmethod
    def from_bundle(cls, config: Mapping[str, Any], *, data: str | None = None) -> Target:
        """From a bundle's config; ``data`` replaces the data it was trained on (needed when the bundle
        does not say, as for converted reference weights)."""
        from ganzoo.hub.bundle import domains_of
        from ganzoo.train.spec import from_json

        training = config.get("training") or {}
        spec = None
        if training.get("config"):
            try:
                spec = from_json(training["config"], where="training.config")
            except GanzooError:
                spec = None  # an older or foreign specification: fall back to the bundle's own fields
        if spec is not None:
            target = cls.from_spec(spec)
            return target if data is None else dataclasses.replace(
                target, source=data, domains=domains_of(data, direction=target.direction), train_size=None)
        source = data or training.get("data")
        if not source:
            raise UsageError("this model does not say what data it was trained on: pass --data")
        noise = config.get("generator_input") == "noise"
        outputs = ("sample",) if noise else tuple(config.get("directions") or {"AtoB": None})
        mode = "single" if noise else _data_mode(config.get("recipe"), outputs)
        channels = config.get("channels") or {"A": 3, "B": 3}
        return cls(source=source, mode=mode, direction="AtoB", image_size=int(config["image_size"]),
                   channels=channels, outputs=outputs, domains=domains_of(source))


def _data_mode(recipe: str | None, outputs: tuple[str, ...]) -> str:
    """The data mode a translation model without a training configuration (a converted reference model)
    is judged in: its recipe's (a one-direction CycleGAN generator is still unpaired), else a guess from
    its directions."""
    from ganzoo.train.config import get_recipe

    if recipe:
        try:
            return get_recipe(recipe).data_modes[0]
        except GanzooError:
            pass  # a recipe whose plugin is not installed
    return "unpaired" if "BtoA" in outputs else "paired"


@dataclasses.dataclass
class Comparison:
    """One FID/KID comparison: what one output of the model makes, against real images of the domain it
    should land in.

    Attributes:
        name: the output (``AtoB``, ``BtoA`` or ``sample``).
        real: the real images, a sequence of (C, H, W) tensors in [-1, 1].
        real_split: which real images, in words (``test, night side``; ``train``).
        inputs: the images translated (None when sampling noise).
        count: how many images the model makes.
    """

    name: str
    real: Sequence[Tensor]
    real_split: str
    inputs: Sequence[Tensor] | None
    count: int


class _Pile(Sequence):
    """One side of a data set's items (``A``, ``B`` or ``image``), at most ``limit`` of them."""

    def __init__(self, dataset: Any, key: str, *, limit: int | None = None) -> None:
        self.dataset, self.key = dataset, key
        self.length = len(dataset) if limit is None else min(limit, len(dataset))

    def __len__(self) -> int:
        return self.length

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(self.length))]
        if not 0 <= index < self.length:
            raise IndexError(index)
        return self.dataset[index][self.key]


def _folder_dataset(mode: str, root: Any, *, phase: str, target: Target, channels: int | None = None) -> Any:
    """A folder data set of ``mode`` with every image resized to the model's size (no crop, no flip)."""
    from ganzoo.plugins import registry

    entry = registry("data_mode").get(mode)
    size = target.image_size
    context = {"root": root, "phase": phase, "crop_size": size, "load_size": size, "preprocess": "resize_and_crop",
               "flip": False, "serial": True, "direction": target.direction, "size_multiple": 1,
               "in_channels": target.channels.get("A", 3), "out_channels": target.channels.get("B", 3),
               "channels": channels if channels is not None else target.channels.get("B", 3)}
    accepted = set(entry.option_names())
    return entry.build(None, **{k: v for k, v in context.items() if k in accepted})


def _data(target: Target) -> Any:
    """The resolved data, refused in one line when it is a toy set of the other kind (images to translate
    for a noise-to-image model, or the reverse)."""
    from ganzoo.data.sources import resolve_data

    source = resolve_data(target.source, mode=target.mode)
    noise = target.outputs == ("sample",)
    if source.is_toy and (source.toy.mode == "single") != noise:
        what, needed = ("generates from noise", "a single") if noise else ("translates images", "a paired or unpaired")
        raise EvaluationError(f"{target.source} is a {source.toy.mode} toy set, but this model {what}; "
                              f"judge it against {needed} data set (--data)")
    return source


def _test_sides(target: Target) -> dict[str, tuple[Sequence[Tensor], str]]:
    """The test split's input side (``A``) and target side (``B``) as trained, each with its label."""
    from pathlib import Path

    source = _data(target)
    labels = {side: f"test, {target.domains.get(side, side)} side" for side in ("A", "B")}
    if source.is_toy:
        ds = source.toy.dataset(phase="test", image_size=target.image_size, direction=target.direction, flip=False,
                                serial=True)
        return {side: (_Pile(ds, side), labels[side]) for side in ("A", "B")}
    root = Path(source.root)
    if target.mode == "unpaired":
        folders = {"A": "testA", "B": "testB"} if target.direction == "AtoB" else {"A": "testB", "B": "testA"}
        missing = [f for f in folders.values() if not (root / f).is_dir()]
        if missing:
            raise EvaluationError(f"{root} has no {missing[0]} folder: FID compares translations of the test split "
                                  "with the other domain's test images")
        return {side: (_Pile(_folder_dataset("single", root / folder, phase="test", target=target,
                                             channels=target.channels.get(side, 3)), "image"),
                       f"{folder} ({target.domains.get(side, side)})")
                for side, folder in folders.items()}
    try:
        ds = _folder_dataset("paired", root, phase="test", target=target)
    except GanzooError as exc:
        raise EvaluationError(f"{root} has no paired test split ({exc}): FID compares translations of the test "
                              "inputs with their targets") from exc
    return {side: (_Pile(ds, side), labels[side]) for side in ("A", "B")}


def _training_images(target: Target, *, limit: int) -> Sequence[Tensor]:
    source = _data(target)
    if source.is_toy:
        ds = source.toy.dataset(phase="train", image_size=target.image_size, size=target.train_size, flip=False)
    else:
        ds = _folder_dataset("single", source.root, phase="train", target=target)
    return _Pile(ds, "image", limit=limit)


def comparisons(target: Target, *, samples: int | None = None, max_images: int | None = None) -> list[Comparison]:
    """The FID/KID comparisons for a model of ``target`` (see the module's docstring).

    Args:
        samples: for noise-to-image models, how many samples (default: as many as real images used).
        max_images: use at most this many real images per comparison (and translate at most as many).
    """
    limit = max_images or DEFAULT_MAX_IMAGES
    if target.outputs == ("sample",):
        real = _training_images(target, limit=limit)
        if not len(real):
            raise EvaluationError(f"no training images in {target.source}")
        return [Comparison("sample", real, "train", None, samples or len(real))]
    sides = _test_sides(target)
    found = []
    for name in target.outputs:
        (inputs, _), (real, split) = (sides["A"], sides["B"]) if name == "AtoB" else (sides["B"], sides["A"])
        inputs, real = _Pile(inputs.dataset, inputs.key, limit=limit), _Pile(real.dataset, real.key, limit=limit)
        if not len(inputs) or not len(real):
            raise EvaluationError(f"the test split of {target.source} has no images on one side")
        found.append(Comparison(name, real, split, inputs, len(inputs)))
    return found


def _batches(images: Sequence[Tensor], batch_size: int) -> Iterator[Tensor]:
    import torch

    for start in range(0, len(images), batch_size):
        yield torch.stack(list(images[start:start + batch_size]))


def generated_images(comparison: Comparison, make: Callable[..., Tensor], *, batch_size: int,
                     seed: int = 0) -> Iterator[Tensor]:
    """The model's images for ``comparison`` in batches, on the CPU: ``make(x)`` translates a batch,
    ``make(n, seed=...)`` samples ``n`` (each batch its own seed, so the images do not depend on the
    batch size's effect on a shared random stream)."""
    if comparison.inputs is not None:
        for batch in _batches(comparison.inputs, batch_size):
            yield make(batch).float().cpu()
        return
    for i, start in enumerate(range(0, comparison.count, batch_size)):
        yield make(min(batch_size, comparison.count - start), seed=seed + i).float().cpu()


class RealFeatures:
    """The real images' features per comparison, computed once and kept (evaluation during training
    compares every checkpoint with the same real images)."""

    def __init__(self) -> None:
        self._kept: dict[tuple[str, str], Tensor] = {}

    def get(self, comparison: Comparison, features: FeatureExtractor, *, batch_size: int) -> Tensor:
        import torch

        key = (comparison.name, features.name)
        if key not in self._kept:
            self._kept[key] = torch.cat([features(b) for b in _batches(comparison.real, batch_size)])
        return self._kept[key]


def evaluate(target: Target, make: Callable[[str], Callable[..., Tensor]], *, metrics: Sequence[str],
             features: FeatureExtractor | None = None, samples: int | None = None, max_images: int | None = None,
             batch_size: int = 50, real_features: RealFeatures | None = None,
             toy_scorer: Callable[[str], Mapping[str, float]] | None = None) -> dict[str, Any]:
    """Every asked metric for each output of the model.

    Args:
        target: what the model was trained on and makes.
        make: ``make(output)`` is the function for one output (``AtoB``, ``BtoA``, ``sample``), taking a
            batch in [-1, 1] (or ``n, seed=``) and returning images in [-1, 1].
        metrics: names from :data:`METRICS`.
        features: the feature network (needed for ``fid`` and ``kid``).
        real_features: a cache of the real images' features across calls.
        toy_scorer: ``toy_scorer(output)`` gives the toy scores of one output (default: computed here
            through ``make``).

    Returns:
        ``{"results": {output: {"fid": ..., "kid": ..., "kid_std": ..., "toy": {...}}},
        "protocol": {...}, "comparisons": {output: {"real_split": ..., "real_images": ..., ...}}}``
    """
    from ganzoo.metrics.fidelity import distances_from_features

    metrics = parse_metrics(list(metrics))
    distance_metrics = [m for m in metrics if m in ("fid", "kid")]
    results: dict[str, dict[str, Any]] = {name: {} for name in target.outputs}
    report: dict[str, Any] = {"results": results, "comparisons": {}, "protocol": {}}
    if distance_metrics:
        if features is None:
            raise UsageError("FID and KID need a feature network")
        real_features = real_features or RealFeatures()
        for comparison in comparisons(target, samples=samples, max_images=max_images):
            real = real_features.get(comparison, features, batch_size=batch_size)
            import torch

            generated = torch.cat([features(images) for images in
                                   generated_images(comparison, make(comparison.name), batch_size=batch_size)])
            found = distances_from_features(generated, real, metrics=distance_metrics)
            protocol = dict(found.pop("protocol", {}))
            results[comparison.name].update(found)
            report["comparisons"][comparison.name] = {"real_split": comparison.real_split, **protocol}
        report["protocol"] = {"image_size": target.image_size, "data": target.source, **features.protocol()}
    if "toy" in metrics:
        scorer = toy_scorer or _toy_scorer(target, make)
        for name in target.outputs:
            results[name]["toy"] = {k: round(float(v), 4) for k, v in scorer(name).items()}
    return report


def _toy_scorer(target: Target, make: Callable[[str], Callable[..., Tensor]]) -> Callable[[str], Mapping[str, float]]:
    source = _data(target)
    if not source.is_toy:
        raise UsageError(f"the toy scores need an embedded toy set; {target.source} is not one (use --metric fid,kid)")
    toy = source.toy

    def score(name: str) -> Mapping[str, float]:
        if name == "sample":
            fn = make(name)
            return toy.score(lambda n: fn(n, seed=0), image_size=target.image_size, n=target.score_samples)
        # BtoA turns the trained target side back into the input side
        direction = target.direction if name == "AtoB" else ("BtoA" if target.direction == "AtoB" else "AtoB")
        return toy.score(make(name), image_size=target.image_size, direction=direction, n=target.score_samples)

    return score


def headline(results: Mapping[str, Any], metric: str) -> float | None:
    """One number per metric for a whole model (``--keep-best``): the mean over its outputs (FID of both
    CycleGAN directions averaged), None when no output has it."""
    values = [r[metric] for r in results.values() if isinstance(r, Mapping) and isinstance(r.get(metric), (int, float))]
    return sum(values) / len(values) if values else None


def flat_metrics(results: Mapping[str, Any]) -> dict[str, float]:
    """``{"fid_AtoB": 41.2, "kid_AtoB": 0.012, "toy_shape_accuracy_AtoB": 0.93, ...}``: one column each,
    as metrics.csv and the run page plot them."""
    flat: dict[str, float] = {}
    for output, values in results.items():
        for key, value in values.items():
            if isinstance(value, Mapping):
                flat.update({f"{key}_{k}_{output}": float(v) for k, v in value.items() if _finite(v)})
            elif _finite(value):
                flat[f"{key}_{output}"] = float(value)
    return flat


def distance_names(protocol: Mapping[str, Any]) -> tuple[str, str]:
    """What to call the two distances of a record: FID and KID on the Inception features, "FD" and "KD"
    with the feature network named otherwise (not comparable with any FID)."""
    features = str(protocol.get("features") or "")
    if not features or features.startswith("inception"):
        return "FID", "KID"
    return f"FD[{features}]", f"KD[{features}]"


def is_metric_column(key: str) -> bool:
    """Whether a metrics.csv column holds an evaluation (from :func:`flat_metrics`) rather than a loss."""
    return key.startswith(("fid_", "kid_", "toy_"))


def _finite(value: Any) -> bool:
    return isinstance(value, (int, float)) and math.isfinite(value)


def model_functions(model: Any) -> Callable[[str], Callable[..., Tensor]]:
    """``make(output)`` for a :class:`ganzoo.Model`: its translation for ``AtoB``/``BtoA``, its sampler
    for ``sample``."""

    def make(name: str) -> Callable[..., Tensor]:
        if name == "sample":
            return lambda n, seed=0: model.sample(n, seed=seed)
        return lambda x: model.translate(x, direction=name)

    return make


def evaluate_model(model: Any, *, data: str | None = None, metrics: Sequence[str] | str | None = None,
                   features: str = "inception", weights: str | None = None, verify: bool = True,
                   resize: str = "tf1", samples: int | None = None, max_images: int | None = None,
                   batch_size: int = 50) -> dict[str, Any]:
    """Evaluate a :class:`ganzoo.Model` (from a run folder, a bundle or the Hub) and return the record
    that ``ganzoo eval`` writes as metrics.json.

    Args:
        data: the data to judge against (default: what the model was trained on).
        metrics: names from :data:`METRICS` (default: ``fid,kid``, and ``toy`` on a toy set).
        features: ``inception`` (the 2015-12-05 weights published tables use) or ``timm:NAME``.
        weights: a local copy of the feature network's weights (else its env var, else the cache).
        verify: refuse Inception weights whose SHA-256 is not the pinned one.
        resize: ``tf1`` (torch-fidelity's TensorFlow-compatible bilinear, as published tables) or ``clean``.
        samples: noise-to-image models: how many samples (default: as many as real images used).
        max_images: at most this many real images per comparison.
    """
    from ganzoo.metrics.features import make_features

    target = Target.from_bundle(model.config, data=data)
    chosen = parse_metrics(metrics) if metrics else default_metrics(target)
    extractor = None
    if {"fid", "kid"} & set(chosen):
        extractor = make_features(features, weights=weights, verify=verify, resize=resize, device=model.device)
    report = evaluate(target, model_functions(model), metrics=chosen, features=extractor, samples=samples,
                      max_images=max_images, batch_size=batch_size)
    return record(report, target=target, source=model.source.description,
                  step=(model.config.get("training") or {}).get("steps"))


def default_metrics(target: Target) -> tuple[str, ...]:
    """FID and KID; the toy scores too on an embedded toy set (``toy:NAME`` or a toy set's plain name)."""
    from ganzoo.data.sources import resolve_data

    try:
        toy = resolve_data(target.source, mode=target.mode, download=False).is_toy
    except GanzooError:
        toy = False  # not resolvable without a download: not a toy set
    return ("fid", "kid", "toy") if toy else ("fid", "kid")


def record(report: Mapping[str, Any], *, target: Target, source: str, step: int | None) -> dict[str, Any]:
    """metrics.json: the results with what was evaluated, when, and how."""
    import datetime

    from ganzoo import __version__

    return {"format": FORMAT, "format_version": FORMAT_VERSION, "model": source, "step": step,
            "data": target.source,
            "evaluated": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
            "ganzoo": __version__, **report}


def read_metrics(folder: Any) -> dict[str, Any] | None:
    """A run or bundle folder's metrics.json; None when there is none or it is not an evaluation record."""
    import json
    from pathlib import Path

    try:
        found = json.loads((Path(folder) / METRICS_FILE).read_text())
    except (OSError, ValueError):
        return None
    return found if isinstance(found, dict) and found.get("format") == FORMAT else None
