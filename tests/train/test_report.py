"""metrics.csv, sample grids and index.html."""

import csv

import torch
from PIL import Image

from ganzoo.train.report import MetricsLog, save_grid


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
    assert img.size == (3 * 10 + 2, 2 * 10 + 2)
    assert img.getpixel((3, 3)) == (0, 0, 0) and img.getpixel((3, 13)) == (255, 255, 255)


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
