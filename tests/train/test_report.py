"""metrics.csv, sample grids and index.html."""

import csv

import numpy as np
import pytest
import torch
from PIL import Image

from ganzoo.train.report import MetricsLog, read_grids, save_grid


def test_metrics_header_grows_and_truncates(tmp_path):
    log = MetricsLog(tmp_path / "metrics.csv")
    log.append({"step": 1, "D": 0.5})
    log.append({"step": 2, "D": 0.4, "G_gan": 1.25})
    log.append({"step": 3, "D": 0.3})
    rows = list(csv.DictReader(open(tmp_path / "metrics.csv")))
    assert [r["G_gan"] for r in rows] == ["", "1.25", ""] and rows[2]["D"] == "0.3"
    MetricsLog(tmp_path / "metrics.csv").truncate_after(2)
    assert [r["step"] for r in MetricsLog(tmp_path / "metrics.csv").rows()] == ["1", "2"]


def test_grid_rows_and_grayscale(tmp_path):
    rows = [torch.full((3, 3, 8, 8), -1.0), torch.full((3, 1, 8, 8), 1.0)]
    path = save_grid(rows, tmp_path / "g.png")
    img = Image.open(path).convert("RGB")
    assert img.size == (3 * 10 + 2, 2 * 10 + 2), "without labels, no margin (ganzoo sample's grids)"
    assert img.getpixel((3, 3)) == (0, 0, 0) and img.getpixel((3, 13)) == (255, 255, 255)


def dark_rows(image, *, columns):
    """The y of each pixel row with text (a dark pixel) in the given columns."""
    pixels = np.asarray(image.convert("L"))[:, columns[0]:columns[1]]
    return np.flatnonzero((pixels < 128).any(axis=1))


def test_labels_are_drawn_in_a_left_margin_and_stored(tmp_path):
    rows = [torch.full((2, 3, 32, 32), 1.0), torch.full((2, 3, 32, 32), 1.0)]  # white: only text is dark
    plain = Image.open(save_grid(rows, tmp_path / "plain.png"))
    path = save_grid(rows, tmp_path / "samples" / "step-000007.png", labels=["input", "translation"])
    image = Image.open(path)
    margin = image.width - plain.width
    assert margin > 20 and image.height == plain.height
    text = dark_rows(image, columns=(0, margin))
    assert any(2 <= y < 34 for y in text) and any(36 <= y < 68 for y in text), "a label beside each row"
    assert not dark_rows(image, columns=(margin, image.width)).size, "the images are untouched"
    assert read_grids(tmp_path / "samples")[0].labels == ["input", "translation"]
    assert read_grids(tmp_path / "samples")[0].step == 7


def test_a_block_label_is_drawn_once_beside_its_rows(tmp_path):
    rows = [torch.ones(4, 3, 32, 32)] * 4
    image = Image.open(save_grid(rows, tmp_path / "g.png", labels=["samples", "", "", ""]))
    text = dark_rows(image, columns=(0, 40))
    assert text.size and text.min() > 34 and text.max() < 104, "centred on the block, not on its first row"


def test_rows_too_short_for_the_font_are_scaled_up(tmp_path):
    image = Image.open(save_grid([torch.zeros(3, 3, 8, 8)] * 2, tmp_path / "g.png", labels=["a", "b"]))
    assert image.height >= 2 * (2 * 10 + 2)
    with pytest.raises(ValueError, match="1 labels for 2 rows"):
        save_grid([torch.zeros(3, 3, 8, 8)] * 2, tmp_path / "g.png", labels=["a"])


def test_grids_are_read_newest_first_by_step(tmp_path):
    for step in (0, 200, 1000000):
        save_grid([torch.zeros(1, 3, 8, 8)], tmp_path / f"step-{step:06d}.png")
    (tmp_path / "step-notes.png").write_text("not a grid")
    (tmp_path / "step-000300.png").write_bytes(b"not a png")
    grids = read_grids(tmp_path)
    assert [g.step for g in grids] == [1000000, 300, 200, 0]
    assert grids[1].size is None and grids[1].labels == [] and grids[0].size == (8, 8)


def test_index_shows_the_spec_scores_and_grids(tmp_path):
    from ganzoo.train.report import write_index
    from tests.train.tiny import tiny_spec

    spec = tiny_spec("cyclegan", gen="resnet6", loss="hinge")
    MetricsLog(tmp_path / "metrics.csv").append({"step": 1, "epoch": 0.1, "images_per_s": 3.0, "D_A": 0.5})
    save_grid([torch.zeros(2, 3, 8, 8)], tmp_path / "samples" / "step-000001.png")
    page = write_index(tmp_path, spec=spec, scores={"untrained": {"psnr": 7.5}}).read_text()
    assert "<title>cyclegan: resnet6 / patchgan / hinge on toy:day2night</title>" in page
    assert "samples/step-000001.png" in page and "<svg" in page and "7.5" in page
    assert "&quot;format&quot;: &quot;ganzoo-run&quot;" in page, "the configuration shown is the run's config.json"
