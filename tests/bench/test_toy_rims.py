"""benchmarks/toy_rims.py: where a translation toy model loses shape accuracy."""

import pytest
import torch

from ganzoo.data.toy import TOY_SETS
from ganzoo.metrics.toy import NO_CLASS, classify
from tests.bench.scripts import benchmark_script


def test_a_square_is_split_into_its_interior_and_its_rim():
    rims = benchmark_script("toy_rims")
    labels = torch.zeros(1, 8, 8, dtype=torch.long)
    labels[0, 2:6, 2:6] = 2  # a 4x4 square: a 2x2 interior inside a rim of 12
    on_rim = rims.rims(labels)
    assert int((on_rim & (labels == 2)).sum()) == 12 and not on_rim[0, 3:5, 3:5].any()
    assert not on_rim[0, 0].any(), "the image's edge is no neighbour: the top row of background is no rim"


def test_a_diagonal_neighbour_makes_a_rim_and_the_image_edge_does_not():
    rims = benchmark_script("toy_rims")
    labels = torch.zeros(1, 8, 8, dtype=torch.long)
    labels[0, 1:7, 1:7] = 2
    labels[0, 2, 2] = 0  # a hole: (3, 3) touches it only diagonally
    assert rims.rims(labels)[0, 3, 3]
    corner = torch.zeros(1, 8, 8, dtype=torch.long)
    corner[0, :3, :3] = 1  # a shape in the corner: the edge beyond it is no other label
    assert not rims.rims(corner)[0, 0, 0] and rims.rims(corner)[0, 2, 2]


def test_each_kind_counts_its_misses_by_what_they_were_taken_for():
    rims = benchmark_script("toy_rims")
    labels = torch.zeros(1, 8, 8, dtype=torch.long)
    labels[0, 2:6, 2:6] = 2
    predicted = labels.clone()
    predicted[0, 2, 2:6] = 0  # the top rim row taken for background
    predicted[0, 5, 2] = 3  # one rim pixel taken for a triangle
    predicted[0, 3, 3] = NO_CLASS  # one interior pixel in no colour of the target side
    report = rims.rim_report(predicted, labels)
    assert list(report) == ["square", "all"], "kinds absent from the scenes get no row"
    square = report["square"]
    assert square.pixels == 16 and square.right == 10 / 16
    assert square.interior == 3 / 4 and square.rim == 7 / 12 and square.rim_share == 12 / 16
    assert square.misses == {"background": 4, "another kind": 1, "input colour": 1}
    table = rims.rim_table(report).splitlines()
    assert table[2] == "| square | 16 | 0.625 | 0.750 | 0.583 | 0.75 | 4 | 1 | 1 |"
    assert table[3] == "| all | 16 | 0.625 | 0.750 | 0.583 | 0.75 | 4 | 1 | 1 |", "one kind: all is that kind"


def test_all_kinds_together_count_every_shape_pixel_once():
    rims = benchmark_script("toy_rims")
    labels = torch.zeros(1, 8, 8, dtype=torch.long)
    # a 2x2 circle (all rim); a 4x4 triangle in the corner (7 rim pixels: the image's edge is no neighbour)
    labels[0, 1:3, 1:3], labels[0, 4:8, 4:8] = 1, 3
    predicted = labels.clone()
    predicted[0, 1:3, 1:3] = 0  # the circle lost to the background
    report = rims.rim_report(predicted, labels)
    assert list(report) == ["circle", "triangle", "all"]
    together = report["all"]
    assert together.pixels == 20 and together.right == 16 / 20 and together.rim_share == 11 / 20
    assert together.rim == 7 / 11 and together.interior == 9 / 9 and together.misses["background"] == 4


def test_a_trained_run_is_reported_on_the_scenes_its_own_score_took(tiny_run, capsys):
    rims = benchmark_script("toy_rims")
    run = tiny_run("pix2pix", steps=2)
    rims.main([str(run.run_dir)])
    printed = capsys.readouterr().out
    first = printed.splitlines()[0]
    assert first.startswith(f"{run.run_dir}: shape accuracy ")
    measured = float(first.split("shape accuracy ")[1].split()[0])
    assert measured == pytest.approx(run.scores["trained"]["shape_accuracy"], abs=1e-3)
    assert "| circle |" in printed and "| triangle |" in printed


class Answering:
    """A model with a run's config whose translations are given: to check the report against the score."""

    def __init__(self, model, answer):
        self.config, self.source, self.answer = model.config, model.source, answer

    def translate(self, images):
        return self.answer(images)


@pytest.mark.parametrize("direction", ["AtoB", "BtoA"])
def test_a_perfect_and_an_unchanged_translation_score_as_the_toy_score_says(tiny_run, direction):
    rims = benchmark_script("toy_rims")
    run = tiny_run("cyclegan", steps=1, sets={"direction": direction})
    toy = TOY_SETS["day2night"]
    source, target = toy.target_palette("BtoA" if direction == "AtoB" else "AtoB"), toy.target_palette(direction)

    def perfect(images):
        return torch.from_numpy(target[classify(images, source).numpy()]).permute(0, 3, 1, 2) * 2 - 1

    def unchanged(images):
        return images

    for answer, expected in ((perfect, 1.0), (unchanged, 0.0)):
        together = rims.rim_report(*rims.judged_classes(Answering(run.model, answer)))["all"]
        assert together.right == expected == toy.score(answer, direction=direction)["shape_accuracy"]
    misses = rims.rim_report(*rims.judged_classes(Answering(run.model, unchanged)))["all"].misses
    assert misses["input colour"] == together.pixels, "an unchanged picture keeps every input colour"


def test_an_output_drawn_off_misses_the_rim_on_one_side_and_keeps_its_opposite():
    rims = benchmark_script("toy_rims")
    labels = torch.zeros(1, 12, 12, dtype=torch.long)
    labels[0, 3:7, 3:7] = 2  # a square, 4x4
    assert rims.rim_sides(labels, labels) == {"left": 1.0, "right": 1.0, "top": 1.0, "bottom": 1.0}
    drawn_right = torch.roll(labels, shifts=1, dims=2)  # its left column lost, a column gained on the right
    assert rims.rim_sides(drawn_right, labels) == {"left": 0.0, "right": 1.0, "top": 0.75, "bottom": 0.75}
    shrunk = torch.zeros_like(labels)
    shrunk[0, 4:6, 4:6] = 2  # every rim pixel lost: a blur, not a shift
    assert set(rims.rim_sides(shrunk, labels).values()) == {0.0}


def test_a_run_on_a_toy_set_named_without_its_prefix_is_judged(tiny_run, capsys):
    run = tiny_run("pix2pix", steps=1, data="edges2shapes", sets={"gen.num_downs": 5})
    benchmark_script("toy_rims").main([str(run.run_dir), "-n", "4"])
    assert "| all |" in capsys.readouterr().out


def test_outlines_drawn_from_shapes_are_refused_in_one_line(tiny_run):
    run = tiny_run("pix2pix", steps=1, sets={"direction": "BtoA"})
    with pytest.raises(SystemExit, match=r"^error: .* draws toy:edges2shapes's outlines \(BtoA\), which have no "
                                         r"shape kinds to judge$"):
        benchmark_script("toy_rims").main([str(run.run_dir), "-n", "4"])


def test_a_model_of_samples_is_refused_in_one_line(tiny_run):
    run = tiny_run("dcgan", steps=1)
    with pytest.raises(SystemExit, match=r"^error: .* was trained on toy:shapes, which has no translations to "
                                         r"judge; benchmarks/toy_outlines.py judges its samples$"):
        benchmark_script("toy_rims").main([str(run.run_dir), "-n", "4"])
