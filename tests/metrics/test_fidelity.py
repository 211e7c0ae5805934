"""FID and KID: checked against direct numpy computations and closed forms, and the whole pipeline
(ganzoo images to numbers) against torch-fidelity's own ``calculate_metrics`` on the same pixels."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from ganzoo.data.images import to_uint8
from ganzoo.errors import UsageError
from ganzoo.metrics.features import InceptionFeatures
from ganzoo.metrics.fidelity import (KID_COEF0, KID_DEGREE, KID_SEED, KID_SUBSET_SIZE, KID_SUBSETS, KernelDistance,
                                     check_metrics, distances, distances_from_features, frechet_distance,
                                     kernel_distance)
from tests.metrics.samples import images, pale


def gaussian(n: int, mean, std, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.normal(mean, std, size=(n, len(np.atleast_1d(std))))


# -- Fréchet distance ---------------------------------------------------------------------------


def reference_fid(a: np.ndarray, b: np.ndarray) -> float:
    """|mu_a - mu_b|² + tr(S_a + S_b - 2 (S_a^½ S_b S_a^½)^½), square roots from symmetric eigendecompositions."""

    def sqrt_psd(m):
        values, vectors = np.linalg.eigh(m)
        return (vectors * np.sqrt(values.clip(0))) @ vectors.T

    sa, sb = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    root = sqrt_psd(sa)
    cross = sqrt_psd(root @ sb @ root)
    diff = a.mean(0) - b.mean(0)
    return float(diff @ diff + np.trace(sa) + np.trace(sb) - 2 * np.trace(cross))


def test_frechet_distance_matches_a_direct_computation():
    a = gaussian(60, 0.0, np.linspace(0.5, 2, 16), seed=0) @ gaussian(16, 0, np.ones(16), seed=1)  # correlated
    b = gaussian(50, 0.3, np.linspace(1, 1.5, 16), seed=2)
    assert frechet_distance(a, b) == pytest.approx(reference_fid(a, b), rel=1e-9)
    assert frechet_distance(torch.from_numpy(a).float(), b) == pytest.approx(reference_fid(a, b), rel=1e-5)


def test_frechet_distance_of_two_gaussians_approaches_the_closed_form():
    mean_a, mean_b = np.array([0.0, 1.0, -1.0, 2.0]), np.array([0.5, 1.0, 0.0, 1.0])
    var_a, var_b = np.array([1.0, 4.0, 0.25, 1.0]), np.array([2.0, 1.0, 0.25, 9.0])
    exact = np.sum((mean_a - mean_b) ** 2) + np.sum(var_a + var_b - 2 * np.sqrt(var_a * var_b))  # 7.17...
    a = gaussian(50_000, mean_a, np.sqrt(var_a), seed=3)
    b = gaussian(50_000, mean_b, np.sqrt(var_b), seed=4)
    assert frechet_distance(a, b) == pytest.approx(exact, rel=0.02)


def test_frechet_distance_of_a_set_to_itself_is_zero():
    a = gaussian(100, 1.0, np.linspace(0.1, 3, 16), seed=5)
    assert abs(frechet_distance(a, a)) < 1e-9
    assert frechet_distance(a, a + 1) == pytest.approx(16, rel=1e-9), "a shift adds its squared length"


# -- kernel distance ----------------------------------------------------------------------------


def reference_kid(x: np.ndarray, y: np.ndarray) -> float:
    """The unbiased MMD² with k(x, y) = (x·y / d + 1)³ as torch-fidelity (and the MMD-GAN code) estimate
    it: the within-set sums leave out the diagonal, the cross sum keeps all m² pairs."""
    m, d = len(x), x.shape[1]

    def k(u, v):
        return (u @ v / d + 1) ** 3

    within = sum(k(x[i], x[j]) + k(y[i], y[j]) for i in range(m) for j in range(m) if i != j)
    across = sum(k(x[i], y[j]) for i in range(m) for j in range(m))
    return within / (m * (m - 1)) - 2 * across / (m * m)


def test_kernel_distance_matches_a_direct_computation_when_a_subset_is_everything():
    x, y = gaussian(10, 0.0, np.ones(5), seed=6), gaussian(10, 0.5, np.ones(5) * 1.5, seed=7)
    kid = kernel_distance(x, y, subsets=4, subset_size=10)
    assert isinstance(kid, KernelDistance)
    assert kid.mean == pytest.approx(reference_kid(x, y), rel=1e-10)
    assert kid.std == pytest.approx(0, abs=1e-12), "every subset is the whole set, in another order"
    assert (kid.subsets, kid.subset_size, kid.requested_subset_size) == (4, 10, 10)


def test_kernel_distance_uses_all_the_images_there_are_and_says_so():
    x, y = gaussian(10, 0.0, np.ones(5), seed=6), gaussian(12, 0.5, np.ones(5), seed=7)
    kid = kernel_distance(x, y, subsets=3)
    assert (kid.subset_size, kid.requested_subset_size) == (10, 1000)
    mean, std = kid  # unpacks as the (mean, std) pair
    assert (mean, std) == (kid.mean, kid.std)


def test_kernel_distance_of_one_distribution_is_near_zero():
    same = kernel_distance(gaussian(300, 0, np.ones(8), seed=8), gaussian(300, 0, np.ones(8), seed=9),
                           subset_size=100, subsets=50)
    shifted = kernel_distance(gaussian(300, 0, np.ones(8), seed=8), gaussian(300, 0.5, np.ones(8), seed=9),
                              subset_size=100, subsets=50)
    assert abs(same.mean) < 0.05 * shifted.mean
    assert abs(same.mean) < 3 * same.std


def test_kernel_distance_subsets_follow_the_seed():
    x, y = gaussian(40, 0, np.ones(4), seed=10), gaussian(40, 0.3, np.ones(4), seed=11)
    first = kernel_distance(x, y, subset_size=10, subsets=5)
    assert kernel_distance(x, y, subset_size=10, subsets=5) == first
    assert kernel_distance(x, y, subset_size=10, subsets=5, seed=1).mean != first.mean


def test_defaults_are_torch_fidelitys():
    from torch_fidelity.defaults import DEFAULTS

    assert (KID_SUBSETS, KID_SUBSET_SIZE, KID_SEED) == (DEFAULTS["kid_subsets"], DEFAULTS["kid_subset_size"],
                                                        DEFAULTS["rng_seed"])
    assert (KID_DEGREE, KID_COEF0) == (DEFAULTS["kid_kernel_poly_degree"], DEFAULTS["kid_kernel_poly_coef0"])
    assert DEFAULTS["kid_kernel"] == "poly" and DEFAULTS["kid_kernel_poly_gamma"] is None


# -- the record and the errors ------------------------------------------------------------------


def test_only_the_metrics_asked_for_with_a_protocol():
    a, b = gaussian(20, 0, np.ones(6), seed=12), gaussian(30, 1, np.ones(6), seed=13)
    fid_only = distances_from_features(a, b, metrics=["fid"], protocol={"features": "test"})
    assert set(fid_only) == {"fid", "protocol"}
    assert fid_only["protocol"] == {"features": "test", "generated_images": 20, "real_images": 30}
    kid_only = distances_from_features(a, b, metrics="kid", kid_subsets=7, kid_subset_size=15)
    assert set(kid_only) == {"kid", "kid_std", "protocol"}
    assert kid_only["protocol"] == {"generated_images": 20, "real_images": 30, "kid_subsets": 7,
                                    "kid_subset_size": 15, "kid_seed": KID_SEED}
    both = distances_from_features(a, b)
    assert both["fid"] == fid_only["fid"] and both["protocol"]["kid_subset_size"] == 20
    assert both["protocol"]["kid_subset_size_requested"] == 1000
    assert (both["kid"], both["kid_std"]) == tuple(kernel_distance(a, b, subset_size=20))


@pytest.mark.parametrize("metrics, message", [
    (("fid", "is"), "unknown metric 'is'; choose from fid, kid"),
    ((), "no metric asked for; choose from fid, kid"),
])
def test_unknown_metrics_are_one_line_usage_errors(metrics, message):
    with pytest.raises(UsageError, match=f"^{message}$"):
        check_metrics(metrics)

    class Unused:
        def __call__(self, images):
            raise AssertionError("features computed before the metrics were checked")

    with pytest.raises(UsageError, match=f"^{message}$"):
        distances(torch.zeros(2, 3, 8, 8), torch.zeros(2, 3, 8, 8), features=Unused(), metrics=metrics)


def test_features_that_cannot_be_compared_are_said_so():
    a = gaussian(5, 0, np.ones(4), seed=14)
    with pytest.raises(UsageError, match=r"differ in width \(4 and 3\)"):
        frechet_distance(a, a[:, :3])
    with pytest.raises(UsageError, match="^FID needs at least 2 images in each set; got 5 and 1$"):
        frechet_distance(a, a[:1])
    with pytest.raises(UsageError, match="^KID needs at least 2 images in each set; got 1 and 5$"):
        kernel_distance(a[:1], a)
    with pytest.raises(UsageError, match="NaN or infinite"):
        distances_from_features(a, np.where(a > 1, np.nan, a))
    with pytest.raises(UsageError, match=r"must be \(N, D\)"):
        frechet_distance(a[0], a)


# -- the whole pipeline against torch-fidelity --------------------------------------------------


class Pixels(torch.utils.data.Dataset):
    """uint8 (3, H, W) images, the input torch-fidelity takes."""

    def __init__(self, pixels: torch.Tensor) -> None:
        self.pixels = pixels

    def __len__(self) -> int:
        return len(self.pixels)

    def __getitem__(self, index: int) -> torch.Tensor:
        return self.pixels[index]


def test_ganzoo_images_score_as_torch_fidelity_scores_their_pixels(inception_file):
    import torch_fidelity

    generated = images(12, seed=20)
    real = pale(images(12, seed=21))
    ours = distances(generated, real, features=InceptionFeatures(weights=inception_file, verify=False),
                     kid_subset_size=6)
    theirs = torch_fidelity.calculate_metrics(
        input1=Pixels(to_uint8(generated)), input2=Pixels(to_uint8(real)), fid=True, kid=True, kid_subset_size=6,
        feature_extractor_weights_path=str(inception_file), cuda=False, verbose=False, cache=False,
        save_cpu_ram=True)
    assert ours["fid"] > 1, "the two sets differ"
    assert ours["fid"] == pytest.approx(theirs["frechet_inception_distance"], rel=1e-5)
    assert ours["kid"] == pytest.approx(theirs["kernel_inception_distance_mean"], rel=1e-5)
    assert ours["kid_std"] == pytest.approx(theirs["kernel_inception_distance_std"], rel=1e-4)
    protocol = ours["protocol"]
    assert protocol["generated_images"] == protocol["real_images"] == 12
    assert protocol["kid_subset_size"] == 6 and "kid_subset_size_requested" not in protocol
    assert protocol["standard"] is False and protocol["comparable"] is False and protocol["resize"] == "tf1"
