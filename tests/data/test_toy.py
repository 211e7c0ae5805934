"""The embedded toy sets: deterministic, disjoint splits, exact truth, and scorers that separate good
from bad models."""

import pytest
import torch

import ganzoo
from ganzoo.data import resolve_data, toy_set
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


def test_truth_labels_match_the_rendered_targets_in_both_directions():
    toy = toy_set("edges2shapes")
    a, b, labels = toy.truth(size=10)
    assert torch.equal(torch.stack([render(DAY, lab.numpy()) for lab in labels]), b)
    b2, a2, outlines = toy.truth(size=10, direction="BtoA")
    assert torch.equal(a2, a) and torch.equal(b2, b)
    assert set(outlines.unique().tolist()) == {0, 1}
    assert torch.equal(torch.stack([render(toy.target_palette("BtoA"), o.numpy()) for o in outlines]), a)


def test_score_uses_the_truth_of_the_direction_asked():
    toy = toy_set("day2night")
    a, b = toy.pairs(size=20)
    assert toy.score(lambda x: b[: len(x)], n=20)["shape_accuracy"] == 1.0
    assert toy.score(lambda x: a[: len(x)], n=20, direction="BtoA")["shape_accuracy"] == 1.0
    assert toy.score(lambda x: b[: len(x)], n=20, direction="BtoA")["shape_accuracy"] == 0.0


@pytest.mark.parametrize("direction", ["AtoB", "BtoA"])
def test_translations_hold_what_the_score_judges(direction):
    """The score is the translations' scores; their classes name the target side's colours and count an
    input side's colour as no class (an unchanged input is no translation)."""
    from ganzoo.metrics.toy import NO_CLASS

    toy = toy_set("day2night")
    a, b, labels = toy.truth(size=20, direction=direction)
    judged = toy.translations(lambda x: x, n=20, direction=direction, batch_size=7)
    assert torch.equal(judged.outputs, a) and torch.equal(judged.targets, b) and torch.equal(judged.labels, labels)
    assert (judged.palette == toy.target_palette(direction)).all()
    assert judged.scores() == toy.score(lambda x: x, n=20, direction=direction)
    assert (judged.classes()[labels > 0] == NO_CLASS).all()
    perfect = toy.translations(lambda x: b[: len(x)], n=20, direction=direction)
    assert torch.equal(perfect.classes(), labels)


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
