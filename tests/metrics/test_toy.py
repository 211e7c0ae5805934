"""The toy scores see what a person sees: real data scores 1, the trivial answers (a blank image, the
input itself) score near 0, and blobs, specks and mode collapse each lower the score that names them."""

import numpy as np
import pytest
import torch

from ganzoo.data import toy_set
from ganzoo.data.toy import DAY, NIGHT, render, scene_labels
from ganzoo.metrics.toy import (NO_CLASS, SCORES, SHAPES, VERDICTS, class_cutoff, classify, classify_outline,
                                connected_components, outline_census, outline_templates, sample_scores,
                                translation_scores)


def scenes(n, size=32, seed=0):
    rng = np.random.default_rng(seed)
    return [scene_labels(rng, size) for _ in range(n)]


def paint(palette, labels):
    return torch.stack([render(palette, lab) for lab in labels])


@pytest.mark.parametrize("name", ["day2night", "edges2shapes"])
@pytest.mark.parametrize("direction", ["AtoB", "BtoA"])
def test_translation_truth_scores_1_and_trivial_answers_score_0(name, direction):
    toy = toy_set(name)
    inputs, targets, _ = toy.truth(size=50, direction=direction)
    truth = toy.score(lambda x: targets[: len(x)], n=50, batch_size=50, direction=direction)
    assert truth["shape_accuracy"] == truth["background_accuracy"] == 1.0
    identity = toy.score(lambda x: x, n=50, direction=direction)
    assert identity["shape_accuracy"] < 0.05, "the input itself is not a translation"
    background = targets[:, :, :1, :1].expand_as(targets)[: 1].expand(50, -1, -1, -1)  # target's corner colour
    blank = toy.score(lambda x: background[: len(x)], n=50, direction=direction)
    assert blank["shape_accuracy"] == 0.0 and blank["background_accuracy"] == 1.0


def test_blank_night_image_scores_19_db_but_no_shape():
    """Why PSNR is not enough: the issue's blank navy image."""
    toy = toy_set("day2night")
    _, targets, labels = toy.truth(size=100)
    blank = render(NIGHT, np.zeros((32, 32), np.int64)).expand(100, -1, -1, -1)
    scores = translation_scores(blank, targets, labels=labels, palette=NIGHT)
    assert scores["psnr"] > 18 and scores["shape_accuracy"] == 0.0


def test_shape_accuracy_counts_wrong_classes_and_off_palette_colours():
    labels = torch.from_numpy(np.stack(scenes(20)))
    targets = paint(DAY, labels.numpy())
    all_green = paint(DAY, np.where(labels.numpy() > 0, 2, 0))
    share_green = float((labels == 2).sum()) / float((labels > 0).sum())
    scores = translation_scores(all_green, targets, labels=labels, palette=DAY)
    assert scores["shape_accuracy"] == pytest.approx(share_green)
    assert scores["background_accuracy"] == 1.0
    night = paint(NIGHT, labels.numpy())  # the input unchanged
    assert translation_scores(night, targets, labels=labels, palette=DAY, input_palette=NIGHT)["shape_accuracy"] == 0.0


def test_a_pixel_is_the_colour_it_is_nearest_unless_that_is_an_input_colour_or_too_far():
    day_red = torch.from_numpy(DAY[1]).view(1, 3, 1, 1) * 2 - 1
    night_red = torch.from_numpy(NIGHT[1]).view(1, 3, 1, 1) * 2 - 1
    assert classify(night_red, DAY).item() == 1, "nearest the day's red of the day's colours"
    assert classify(night_red, DAY, confusers=NIGHT).item() == NO_CLASS, "but it is the input's colour"
    soft_edge = torch.tensor([0.21, 0.34, 0.65]).view(1, 3, 1, 1) * 2 - 1  # night's light blue blended into navy
    assert classify(soft_edge, NIGHT, confusers=DAY).item() == 3, "darker than light blue, but not the day's blue"
    assert classify(torch.from_numpy(DAY[3]).view(1, 3, 1, 1) * 2 - 1, NIGHT, confusers=DAY).item() == NO_CLASS
    cutoff = class_cutoff(DAY)
    assert cutoff == pytest.approx(float(np.linalg.norm(DAY[2] - DAY[3])) / 2, rel=1e-5)
    away = torch.tensor([0.0, 1.0, 1.0]).view(1, 3, 1, 1) * 2 / 2 ** 0.5  # a unit step on [0, 1], in [-1, 1] units
    near, far = day_red + 0.9 * cutoff * away, day_red + 1.1 * cutoff * away
    assert classify(near, DAY, cutoff=cutoff).item() == 1 and classify(far, DAY, cutoff=cutoff).item() == NO_CLASS


@pytest.mark.parametrize("size", [32, 64])
def test_real_samples_score_1(size):
    real = paint(DAY, scenes(300, size))
    scores = toy_set("shapes").score(real)
    assert scores == {"palette_fit": 1.0, "recognisable": pytest.approx(1.0, abs=0.01), "coverage": 1.0,
                      "shape_presence": 1.0}


def test_blobs_specks_noise_and_collapse_each_show():
    labs = scenes(200)
    real = paint(DAY, labs)
    blank = paint(DAY, [np.zeros_like(labs[0])] * 50)
    assert sample_scores(blank, palette=DAY)["shape_presence"] == 0.0
    assert sample_scores(blank, palette=DAY)["coverage"] == 0.0
    green = sample_scores(paint(DAY, [np.where(lab > 0, 2, 0) for lab in labs]), palette=DAY)
    assert green["recognisable"] < 0.5, "circles and triangles painted in the square's colour"
    assert green["coverage"] == pytest.approx(1 / 3)
    circles = sample_scores(paint(DAY, [np.where(lab == 1, 1, 0) for lab in labs]), palette=DAY)
    assert circles["recognisable"] == pytest.approx(1.0, abs=0.01) and circles["coverage"] == pytest.approx(1 / 3)
    blurred = torch.nn.functional.avg_pool2d(real, 7, 1, 3, count_include_pad=False)
    assert sample_scores(blurred, palette=DAY)["recognisable"] < 0.7, "blurred shapes are blobs"
    torch.manual_seed(0)
    noise = sample_scores(torch.rand(100, 3, 32, 32) * 2 - 1, palette=DAY)
    assert noise["recognisable"] < 0.05 and noise["coverage"] == 0.0 and noise["palette_fit"] < 0.6
    specks = real.clone()
    specks[:, :, ::4, ::4] = torch.from_numpy(DAY[1]).view(1, 3, 1, 1) * 2 - 1  # red dots on everything
    assert sample_scores(specks, palette=DAY)["recognisable"] < sample_scores(real, palette=DAY)["recognisable"]


def test_components_follow_4_neighbours_and_never_wrap():
    classes = torch.zeros(2, 6, 6, dtype=torch.int64)
    classes[0, 0, 0] = classes[0, 0, 5] = 1  # opposite edges of one row: two regions, not one
    classes[0, 2, 2] = classes[0, 3, 3] = 2  # diagonal neighbours: two regions
    classes[1, 1:4, 1:3] = 3
    classes[1, 1:4, 3] = 1  # touching but another class
    found = sorted((int(m.sum()), c) for m, c in connected_components(classes))
    assert found == [(1, 1), (1, 1), (1, 2), (1, 2), (3, 1), (6, 3)]


@pytest.mark.parametrize("kind", ["circle", "square", "triangle"])
@pytest.mark.parametrize("box", [(9, 9), (12, 13), (20, 22)])
def test_outlines_recognise_their_own_template(kind, box):
    template = outline_templates(*box)[kind]
    assert classify_outline(template) == ["circle", "square", "triangle"].index(kind)


def test_an_elongated_blob_is_no_shape():
    yy, xx = torch.meshgrid(torch.arange(12) + 0.5, torch.arange(30) + 0.5, indexing="ij")
    assert classify_outline(((xx - 15) / 15) ** 2 + ((yy - 6) / 6) ** 2 <= 1) == -1, "a smear is no circle"
    cross = torch.zeros(15, 15, dtype=torch.bool)
    cross[5:10, :] = cross[:, 5:10] = True
    assert classify_outline(cross) == -1, "a cross fills its box no better than a blob"


def test_the_outline_census_says_why_each_region_fails():
    """Real scenes: every shape recognised, counted under the kind it is. Then one region of each failure,
    all in the square's green: a circle (another kind), a bar (stretched), a thin plus (no outline) and a
    3x3 dot (a speck)."""
    labs = scenes(50)
    census = outline_census(paint(DAY, labs), palette=DAY)
    for k, kind in enumerate(SHAPES):
        shapes = sum(len(connected_components(torch.from_numpy(np.where(lab == k + 1, 1, 0))[None])) for lab in labs)
        assert census[kind] == {**dict.fromkeys(VERDICTS, 0), "recognised": shapes}
    failures = np.zeros((4, 32, 32), np.int64)
    yy, xx = np.mgrid[0:32, 0:32] + 0.5
    failures[0][(xx - 16) ** 2 + (yy - 16) ** 2 <= 36] = 2  # a green circle
    failures[1][10:14, 4:28] = 2  # a bar, 6 times as long as it is wide
    failures[2][15:17, 8:24] = failures[2][8:24, 15:17] = 2  # a plus of 2-pixel arms
    failures[3][5:8, 5:8] = 2
    census = outline_census(paint(DAY, failures), palette=DAY)
    assert census["square"] == {"speck": 1, "recognised": 0, "another kind": 1, "stretched": 1, "no outline": 1}
    assert census["circle"] == census["triangle"] == dict.fromkeys(VERDICTS, 0)


def test_every_score_says_what_it_means():
    real = paint(DAY, scenes(20))
    names = set(sample_scores(real, palette=DAY)) | set(translation_scores(real, real, labels=torch.zeros(20, 32, 32,
                                                                                                        dtype=torch.int64), palette=DAY))
    assert names <= set(SCORES)
    assert all(s.meaning for s in SCORES.values())


def test_the_accuracies_count_the_translation_classes():
    """Shape and background accuracy are the shares of translation_classes that match the labels: a closer
    look that takes the classes apart (benchmarks/toy_rims.py) judges each pixel as the score does."""
    from ganzoo.metrics.toy import translation_classes

    torch.manual_seed(0)
    labels = torch.randint(0, 4, (3, 8, 8))
    outputs = torch.rand(3, 3, 8, 8) * 2.4 - 1.2  # some pixels out of range, some near input colours
    classes = translation_classes(outputs, NIGHT, input_palette=DAY)
    scores = translation_scores(outputs, torch.zeros_like(outputs), labels=labels, palette=NIGHT, input_palette=DAY)
    right = classes == labels
    assert scores["shape_accuracy"] == pytest.approx(right[labels > 0].float().mean().item())
    assert scores["background_accuracy"] == pytest.approx(right[labels == 0].float().mean().item())
    assert 0 < scores["shape_accuracy"] < 1, "a mix of right and wrong pixels, so the comparison can fail"


def test_translation_classes_name_target_colours_and_refuse_input_colours():
    """Each night colour is its own class; each day colour (an unchanged input) is no class, though the
    nearest night colour would name one."""
    from ganzoo.metrics.toy import translation_classes

    def image(colours):
        rgb = torch.from_numpy(np.asarray(colours, np.float32)) * 2 - 1  # [0, 1] -> [-1, 1]
        return rgb.T[None, :, None, :]  # (1, 3, 1, K): one pixel per colour

    night = translation_classes(image(NIGHT), NIGHT, input_palette=DAY)
    assert night.flatten().tolist() == list(range(len(NIGHT)))
    day = translation_classes(image(DAY), NIGHT, input_palette=DAY)
    assert (day == NO_CLASS).all()
    assert (translation_classes(image(DAY), NIGHT) != NO_CLASS).all(), "without the input palette: a class"
