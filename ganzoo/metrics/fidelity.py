"""FID and KID between generated and real images, computed by torch-fidelity's own functions.

The statistics are torch-fidelity's (``fid_features_to_statistics`` and ``fid_statistics_to_metric``,
``kid_features_to_metric``), which follow the TensorFlow reference code (TTUR's FID, the MMD-GAN
repository's KID): on the same features a ganzoo number is torch-fidelity's number. ganzoo adds the
feature extraction from its own images (:mod:`ganzoo.metrics.features`), one-line errors, and a
protocol record that says how each number was made, since an FID means nothing without it.

Both metrics depend on how many images were compared: FID is biased upwards for small sets (compare
scores over equal counts only); KID is unbiased, but its subsets cannot hold more images than there are,
so with fewer images than ``kid_subset_size`` the smaller count is used and the protocol says so.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Iterable, Iterator

import numpy as np
import torch
from torch import Tensor

from ganzoo.errors import UsageError
from ganzoo.metrics.features import FeatureExtractor

#: The metrics :func:`distances` computes, in the order it reports them.
METRICS = ("fid", "kid")
# torch-fidelity's defaults (torch_fidelity.defaults.DEFAULTS), so that equal calls give equal numbers
KID_SUBSETS = 100
KID_SUBSET_SIZE = 1000
KID_SEED = 2020
KID_DEGREE = 3
KID_COEF0 = 1.0

Features = Tensor | np.ndarray


@dataclasses.dataclass(frozen=True)
class KernelDistance:
    """KID's mean and standard deviation over ``subsets`` random subsets of ``subset_size`` features
    from each set (``requested_subset_size`` when there were enough). Unpacks as ``mean, std``."""

    mean: float
    std: float
    subsets: int
    subset_size: int
    requested_subset_size: int

    def __iter__(self) -> Iterator[float]:
        return iter((self.mean, self.std))


def _as_features(x: Features, which: str) -> Tensor:
    """Features as a float64 CPU tensor (torch-fidelity's functions take tensors and go to numpy)."""
    x = torch.as_tensor(x).detach().to("cpu", torch.float64)
    if x.dim() != 2:
        raise UsageError(f"the {which} features must be (N, D); got shape {tuple(x.shape)}")
    if not torch.isfinite(x).all():
        raise UsageError(f"the {which} features hold NaN or infinite values (did the images?)")
    return x


def _pair(a: Features, b: Features, *, least: int, metric: str) -> tuple[Tensor, Tensor]:
    a, b = _as_features(a, "first"), _as_features(b, "second")
    if a.shape[1] != b.shape[1]:
        raise UsageError(f"the two feature sets differ in width ({a.shape[1]} and {b.shape[1]}): were they made "
                         "by the same extractor?")
    if min(len(a), len(b)) < least:
        raise UsageError(f"{metric} needs at least {least} images in each set; got {len(a)} and {len(b)}")
    return a, b


def frechet_distance(a: Features, b: Features) -> float:
    """The Fréchet distance between Gaussians fitted to two feature sets (N, D): FID for Inception
    features. torch-fidelity's statistics and formula (the trace of the covariances' product's square
    root through its eigenvalues), in float64."""
    from torch_fidelity.metric_fid import KEY_METRIC_FID, fid_features_to_statistics, fid_statistics_to_metric

    a, b = _pair(a, b, least=2, metric="FID")
    stats_a, stats_b = fid_features_to_statistics(a), fid_features_to_statistics(b)
    return float(fid_statistics_to_metric(stats_a, stats_b, verbose=False)[KEY_METRIC_FID])


def kernel_distance(a: Features, b: Features, *, subsets: int = KID_SUBSETS, subset_size: int = KID_SUBSET_SIZE,
                    seed: int = KID_SEED, degree: int = KID_DEGREE, gamma: float | None = None,
                    coef0: float = KID_COEF0) -> KernelDistance:
    """The kernel distance (KID for Inception features): the unbiased MMD² with the polynomial kernel
    ``(x·y * gamma + coef0) ** degree`` (``gamma`` None: 1 / D), averaged over ``subsets`` subsets drawn
    without replacement with numpy's ``RandomState(seed)``, by torch-fidelity's ``kid_features_to_metric``.

    With fewer than ``subset_size`` features in a set, subsets of the smaller count are drawn: see
    :attr:`KernelDistance.subset_size`. Unpacks as ``mean, std``.
    """
    from torch_fidelity.metric_kid import KEY_METRIC_KID_MEAN, KEY_METRIC_KID_STD, kid_features_to_metric

    if subsets < 1 or subset_size < 2:
        raise UsageError(f"KID needs at least 1 subset of at least 2 images; got {subsets} of {subset_size}")
    a, b = _pair(a, b, least=2, metric="KID")
    used = min(subset_size, len(a), len(b))
    out = kid_features_to_metric(a, b, kid_subsets=subsets, kid_subset_size=used, rng_seed=seed, verbose=False,
                                 kid_kernel="poly", kid_kernel_poly_degree=degree, kid_kernel_poly_gamma=gamma,
                                 kid_kernel_poly_coef0=coef0)
    return KernelDistance(float(out[KEY_METRIC_KID_MEAN]), float(out[KEY_METRIC_KID_STD]), subsets, used, subset_size)


def check_metrics(metrics: str | Iterable[str]) -> tuple[str, ...]:
    """The metrics asked for, in :data:`METRICS`'s order; a one-line :class:`UsageError` for any other."""
    asked = (metrics,) if isinstance(metrics, str) else tuple(metrics)
    unknown = [m for m in asked if m not in METRICS]
    if unknown or not asked:
        what = f"unknown metric {unknown[0]!r}" if unknown else "no metric asked for"
        raise UsageError(f"{what}; choose from {', '.join(METRICS)}")
    return tuple(m for m in METRICS if m in asked)


def distances_from_features(generated: Features, real: Features, *, metrics: str | Iterable[str] = METRICS,
                            kid_subsets: int = KID_SUBSETS, kid_subset_size: int = KID_SUBSET_SIZE,
                            seed: int = KID_SEED, protocol: dict[str, Any] | None = None) -> dict[str, Any]:
    """FID and/or KID between two feature sets: ``{"fid": ..., "kid": ..., "kid_std": ..., "protocol":
    {...}}`` with only the metrics asked for. ``protocol`` (the extractor's) is extended with the image
    counts and KID's subsets; ``kid_subset_size_requested`` appears when fewer images forced smaller ones.
    """
    wanted = check_metrics(metrics)
    generated, real = _as_features(generated, "generated"), _as_features(real, "real")
    result: dict[str, Any] = {}
    record = {**(protocol or {}), "generated_images": len(generated), "real_images": len(real)}
    if "fid" in wanted:
        result["fid"] = frechet_distance(generated, real)
    if "kid" in wanted:
        kid = kernel_distance(generated, real, subsets=kid_subsets, subset_size=kid_subset_size, seed=seed)
        result["kid"], result["kid_std"] = kid.mean, kid.std
        record.update(kid_subsets=kid.subsets, kid_subset_size=kid.subset_size, kid_seed=seed)
        if kid.subset_size < kid.requested_subset_size:
            record["kid_subset_size_requested"] = kid.requested_subset_size
    result["protocol"] = record
    return result


def distances(generated: Tensor, real: Tensor, *, features: FeatureExtractor, metrics: str | Iterable[str] = METRICS,
              kid_subsets: int = KID_SUBSETS, kid_subset_size: int = KID_SUBSET_SIZE,
              seed: int = KID_SEED) -> dict[str, Any]:
    """FID and/or KID between generated and real images (float in [-1, 1], or uint8 pixels), through
    ``features`` (:func:`ganzoo.metrics.features.make_features`); see :func:`distances_from_features`.
    The metric names are checked before any feature is computed."""
    check_metrics(metrics)
    return distances_from_features(features(generated), features(real), metrics=metrics, kid_subsets=kid_subsets,
                                   kid_subset_size=kid_subset_size, seed=seed, protocol=features.protocol())
