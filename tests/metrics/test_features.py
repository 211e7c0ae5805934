"""Feature extractors: the pixels of the saved PNGs go in, the resize is the one the protocol names, and
weights are taken only when they are what they claim to be. The Inception here has the real architecture
with seeded random values (see conftest); the timm model is timm's tiny ``test_resnet``."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from ganzoo.data.images import to_uint8
from ganzoo.errors import UsageError
from ganzoo.metrics.features import (RESIZES, InceptionFeatures, TimmFeatures, clean_resize,
                                     make_features, to_pixels)
from ganzoo.metrics.weights import MissingWeightsError, WeightsMismatchError, file_sha256, timm_weights_path
from tests.metrics.samples import images


@pytest.fixture(scope="module")
def inception(inception_file):
    return InceptionFeatures(weights=inception_file, verify=False)


# -- pixels and resizing ------------------------------------------------------------------------


def test_pixels_are_the_png_pixels_and_grey_becomes_rgb():
    x = images(2)
    assert torch.equal(to_pixels(x), to_uint8(x))
    assert torch.equal(to_pixels(to_uint8(x)), to_uint8(x)), "uint8 is taken as pixels already"
    grey = images(2, channels=1)
    assert torch.equal(to_pixels(grey), to_uint8(grey).repeat(1, 3, 1, 1))
    with pytest.raises(UsageError, match=r"^images must be \(N, 1 or 3, H, W\); got shape \(2, 4, 8, 8\)$"):
        to_pixels(torch.zeros(2, 4, 8, 8))


def test_tf1_resize_at_299_is_the_identity():
    """So ``clean`` can hand torch-fidelity 299x299 images that its own resize leaves alone."""
    from torch_fidelity.interpolate_compat_tensorflow import interpolate_bilinear_2d_like_tensorflow1x

    pixels = torch.randint(0, 256, (2, 3, 299, 299)).float()
    assert torch.equal(interpolate_bilinear_2d_like_tensorflow1x(pixels, size=(299, 299), align_corners=False), pixels)


def test_clean_resize_is_pils_bicubic_and_the_identity_at_299():
    pixels = to_uint8(images(2))
    resized = clean_resize(pixels)
    assert resized.shape == (2, 3, 299, 299) and resized.dtype == torch.uint8
    for got, source in zip(resized, pixels):
        # PIL's own 8-bit RGB bicubic rounds and clips between its two passes (which clean-fid's float
        # channels avoid): a few pixels near black and white differ more, the rest by at most one level.
        # (Its bilinear or Lanczos differ from ours by more than one level on most pixels.)
        pil = Image.fromarray(source.permute(1, 2, 0).numpy()).resize((299, 299), Image.Resampling.BICUBIC)
        difference = (got.permute(1, 2, 0).int() - torch.from_numpy(np.array(pil)).int()).abs()
        assert (difference > 1).float().mean() < 0.01 and difference.float().mean() < 0.3
    big = to_uint8(images(1, size=299))
    assert torch.equal(clean_resize(big), big)


# -- Inception ----------------------------------------------------------------------------------


def test_inception_features_are_float64_rows_of_the_png_pixels(inception):
    x = images(3)
    features = inception(x)
    assert features.shape == (3, 2048) and features.dtype == torch.float64 and features.device.type == "cpu"
    assert features.std(0).mean() > 1e-3, "the test network's features are not degenerate"
    assert torch.equal(inception(to_uint8(x)), features)
    assert inception(x[:0]).shape == (0, 2048)
    grey = images(1, channels=1)
    assert torch.equal(inception(grey), inception(grey.repeat(1, 3, 1, 1)))


def test_inception_batches_give_the_same_features(inception_file, inception):
    x = images(3, seed=1)
    small = InceptionFeatures(weights=inception_file, verify=False, batch_size=2)
    torch.testing.assert_close(small(x), inception(x), rtol=1e-5, atol=1e-6)


def test_clean_and_tf1_differ_on_small_images_and_agree_at_299(inception_file, inception):
    clean = InceptionFeatures(weights=inception_file, verify=False, resize="clean")
    small = images(2, seed=2)
    a, b = clean(small), inception(small)
    assert (a - b).abs().max() > 1e-3 * b.abs().max(), "a different resize, different features"
    big = images(1, size=299, seed=3)
    assert torch.equal(clean(big), inception(big)), "at 299 neither resizes"
    assert clean.protocol()["resize_label"] == RESIZES["clean"]
    assert RESIZES["clean"] == ("clean: PIL bicubic to 299 (antialiased) as clean-fid does, quantised to 8 bits; "
                                "not comparable with published tables")


def test_inception_protocol_names_the_weights_and_the_resize(inception_file, inception):
    import torch_fidelity

    protocol = inception.protocol()
    assert protocol == {
        "features": "inception", "network": "inception-v3-compat", "layer": "2048", "input_size": 299,
        "resize": "tf1", "resize_label": RESIZES["tf1"], "weights": inception_file.name,
        "sha256": file_sha256(inception_file), "standard": False, "url": protocol["url"], "comparable": False,
        "torch_fidelity": torch_fidelity.__version__,
    }
    assert protocol["url"].endswith("weights-inception-2015-12-05-6726825d.pth")


def test_inception_refuses_unpinned_weights_unless_asked(inception_file):
    with pytest.raises(WeightsMismatchError, match="--unverified-weights"):
        InceptionFeatures(weights=inception_file)
    with pytest.raises(MissingWeightsError, match="ganzoo weights fetch inception"):
        InceptionFeatures()
    with pytest.raises(UsageError, match=r"^unknown resize 'area'; choose tf1 or clean$"):
        InceptionFeatures(weights=inception_file, verify=False, resize="area")


class _RunsCode:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (open, (str(self.marker), "w"))  # creates the marker file when unpickled


def test_an_unverified_file_cannot_run_code(tmp_path):
    marker = tmp_path / "ran"
    path = tmp_path / "evil.pth"
    torch.save({"Conv2d_1a_3x3.conv.weight": _RunsCode(marker)}, path)
    with pytest.raises(UsageError, match=f"^cannot read {path} as a weights file: "):
        InceptionFeatures(weights=path, verify=False)
    assert not marker.exists(), "the pickle's code ran"


def test_weights_of_another_network_are_refused_in_one_line(tmp_path):
    path = tmp_path / "other.pth"
    torch.save({"conv.weight": torch.zeros(1)}, path)
    with pytest.raises(UsageError, match="does not hold the Inception v3 weights torch-fidelity expects: ") as exc:
        InceptionFeatures(weights=path, verify=False)
    assert "\n" not in str(exc.value)


# -- timm ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def resnet_state():
    """A random ``test_resnet`` state_dict with its classifier, as timm publishes them."""
    import timm

    torch.manual_seed(0)
    return timm.create_model("test_resnet", pretrained=False).state_dict()


def save_state(state, path):
    import safetensors.torch

    if path.suffix == ".safetensors":
        safetensors.torch.save_file(state, path)
    else:
        torch.save(state, path)
    return path


@pytest.mark.parametrize("suffix", [".safetensors", ".pth"])
def test_timm_features_from_a_weights_file(tmp_path, resnet_state, suffix):
    import timm

    path = save_state(resnet_state, tmp_path / f"resnet{suffix}")
    features = TimmFeatures("test_resnet", weights=path)
    reference = timm.create_model("test_resnet", pretrained=False, num_classes=0).eval()
    reference.load_state_dict({k: v for k, v in resnet_state.items() if not k.startswith("fc.")})
    x = images(2, size=160)  # the model's input size: only scaling to its mean and std (0.5) is left
    with torch.no_grad():
        expected = reference(to_uint8(x).float() / 127.5 - 1).double()
    torch.testing.assert_close(features(x), expected)
    assert features(images(3)).shape == (3, reference.num_features), "other sizes are resized"
    protocol = features.protocol()
    assert protocol["features"] == "timm:test_resnet" and protocol["input_size"] == 160
    assert protocol["resize"] == "bilinear" and protocol["resize_label"].startswith("bilinear (antialiased) from "
                                                                                    "the 8-bit image to 160x160")
    assert protocol["weights"] == path.name and protocol["sha256"] == file_sha256(path)
    assert protocol["standard"] is None and protocol["comparable"] is False


def test_timm_features_load_the_fetched_copy_by_default(tmp_path, monkeypatch, resnet_state):
    monkeypatch.setenv("GANZOO_WEIGHTS_DIR", str(tmp_path / "weights"))
    with pytest.raises(MissingWeightsError, match="ganzoo weights fetch timm:test_resnet") as exc:
        TimmFeatures("test_resnet")
    assert "\n" not in str(exc.value)
    path = timm_weights_path("test_resnet")
    path.parent.mkdir(parents=True)
    save_state({k: v for k, v in resnet_state.items() if not k.startswith("fc.")}, path)
    assert TimmFeatures("test_resnet").weights_path == path


def test_timm_weights_missing_tensors_are_refused(tmp_path, resnet_state):
    """timm's own file loading (pretrained_cfg_overlay) would leave the missing layers random without a word."""
    part = dict(list(resnet_state.items())[:5])
    with pytest.raises(UsageError, match=r"does not hold the weights of timm:test_resnet: \d+ of its \d+ tensors "
                                         r"missing \(e\.g\. "):
        TimmFeatures("test_resnet", weights=save_state(part, tmp_path / "part.safetensors"))
    with pytest.raises(UsageError, match="does not hold the weights of timm:test_resnet: "):
        TimmFeatures("test_resnet", weights=save_state({**resnet_state, "extra": torch.zeros(1)}, tmp_path / "x.pth"))
    with pytest.raises(UsageError, match=r"timm has no model 'test_resnot' \(did you mean test_resnet"):
        TimmFeatures("test_resnot")


# -- choosing -----------------------------------------------------------------------------------


def test_make_features_by_name(inception_file, tmp_path, resnet_state):
    assert isinstance(make_features("inception", weights=inception_file, verify=False), InceptionFeatures)
    timm_features = make_features("timm:test_resnet", weights=save_state(resnet_state, tmp_path / "r.safetensors"))
    assert isinstance(timm_features, TimmFeatures) and timm_features.name == "test_resnet"
    for spec in ("vgg16", "timm:", "Inception"):
        with pytest.raises(UsageError, match=rf"^unknown features '{spec}'; choose inception or timm:NAME "):
            make_features(spec)
    with pytest.raises(UsageError, match="resize 'clean' is for the inception features"):
        make_features("timm:test_resnet", resize="clean")
