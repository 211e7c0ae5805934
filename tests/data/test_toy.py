"""The embedded toy sets: deterministic, disjoint splits, exact truth, and scorers that separate good
from bad models."""

import pytest
import torch

import ganzoo
from ganzoo.data import resolve_data, sample_validity, toy_set, translation_scores
from ganzoo.data.toy import DAY, NIGHT, render
from ganzoo.errors import GanzooError


def test_generation_is_deterministic():
    a1, b1 = toy_set("day2night").pairs(size=5)
    a2, b2 = toy_set("toy:day2night").pairs(size=5)
    assert torch.equal(a1, a2) and torch.equal(b1, b2)


def test_unpaired_training_piles_share_no_scene_with_each_other_or_the_test_split():
    toy = toy_set("day2night")
    train = toy.dataset(size=300)
    test_a, _ = toy.pairs(size=100)
    night_of_train_a = {tuple(render(NIGHT, scene_labels_from(img)).flatten().tolist()) for img in train.a[:100]}
    train_b = {tuple(img.flatten().tolist()) for img in train.b}
    assert not night_of_train_a & train_b, "no A scene's true counterpart is in the B pile"
    assert not {tuple(x.flatten().tolist()) for x in test_a} & {tuple(x.flatten().tolist()) for x in train.a}


def scene_labels_from(image):
    """Recover a day image's label map from its colours (each label has its own colour)."""
    rgb = ((image + 1) / 2).permute(1, 2, 0)
    return (rgb[..., None, :] - torch.from_numpy(DAY)).abs().sum(-1).argmin(-1).numpy()


def test_true_counterpart_is_the_same_scene():
    a, b = toy_set("day2night").pairs(size=10)
    for x, y in zip(a, b):
        assert torch.equal(render(NIGHT, scene_labels_from(x)), y)


def test_edges2shapes_target_follows_from_outline():
    toy = toy_set("edges2shapes")
    a, b = toy.pairs(size=20)
    assert set(a.unique().tolist()) <= {-1.0, 1.0}, "outlines are white on black"
    labels = [scene_labels_from(y) for y in b]
    assert all((lab > 0).any() for lab in labels)
    ds = toy.dataset(size=8)
    item = ds[3]
    assert item["A"].shape == item["B"].shape == (3, 32, 32)


def test_translation_scores_order_models():
    toy = toy_set("day2night")
    a, b = toy.pairs(size=50)
    truth = toy.score(lambda x: b[: len(x)] if len(x) == 50 else None, n=50, batch_size=50)
    identity = toy.score(lambda x: x, n=50)
    assert truth["l1"] == 0 and truth["psnr"] == pytest.approx(100.0)
    assert identity["psnr"] < 10 < truth["psnr"]
    direct = translation_scores(a, b)
    assert direct == pytest.approx(identity)


def test_sample_validity_separates_real_from_noise():
    real = torch.stack([toy_set("shapes").dataset(size=50)[i]["image"] for i in range(50)])
    scores = sample_validity(real)
    assert scores["validity"] > 0.99
    torch.manual_seed(0)
    assert sample_validity(torch.rand(50, 3, 32, 32) * 2 - 1)["validity"] < 0.2
    assert sample_validity(torch.zeros(50, 3, 32, 32))["validity"] == 0.0, "grey is not a valid colour"
    blank = torch.from_numpy(DAY[0]).view(1, 3, 1, 1).expand(10, 3, 32, 32) * 2 - 1
    assert sample_validity(blank)["shape_presence"] == 0.0, "background alone has no shape"
    assert toy_set("shapes").score(lambda n: real[:n], n=50)["validity"] > 0.99


@pytest.mark.parametrize("size", [16, 64])
def test_other_sizes(size):
    ds = toy_set("shapes").dataset(image_size=size, size=4)
    assert ds[0]["image"].shape == (3, size, size)


def test_toy_sets_are_registered_and_resolvable():
    names = {e.name: e for e in ganzoo.get_registry("dataset") if "toy" in e.metadata}
    assert set(names) == {"day2night", "edges2shapes", "shapes"}
    assert {e.metadata["mode"] for e in names.values()} == {"unpaired", "paired", "single"}
    for mode in ("paired", "unpaired", "single"):
        toy = toy_set(ganzoo.get_entry("data_mode", mode).metadata["toy"])
        assert toy.mode == mode
    source = resolve_data("toy:edges2shapes")
    assert source.is_toy and source.toy.mode == "paired"


def test_bad_toy_names():
    with pytest.raises(GanzooError, match="did you mean day2night"):
        resolve_data("toy:day2nite")
    with pytest.raises(GanzooError, match="not a toy set"):
        resolve_data("toy:facades")
    with pytest.raises(GanzooError, match="is not a folder, a toy set"):
        resolve_data("no/such/thing")
