"""metrics.csv, sample grids and index.html (rendered in headless Chromium where it is installed)."""

import csv
import os
import re
import shutil
import subprocess

import numpy as np
import pytest
import torch
from PIL import Image

from ganzoo.train.report import MetricsLog, read_grids, save_grid, write_index
from tests.train.tiny import tiny_spec


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


# -- index.html ------------------------------------------------------------------------------------------

def fake_run(tmp_path, colours, *, labels=("input", "translation")):
    """A run folder with metrics and one single-colour grid per step (``{step: (r, g, b)}``)."""
    tmp_path.mkdir(parents=True, exist_ok=True)
    log = MetricsLog(tmp_path / "metrics.csv")
    for step in (1, 2, 3, 4):
        log.append({"step": step, "epoch": step / 4, "images_per_s": 3.0, "D_A": 1 / step, "G_cycle": 8 - step})
    for step, colour in colours.items():
        tensor = torch.tensor(colour, dtype=torch.float32).view(1, 3, 1, 1) / 127.5 - 1
        save_grid([tensor.expand(3, 3, 16, 16)] * len(labels), tmp_path / "samples" / f"step-{step:06d}.png",
                  labels=list(labels))
    return tmp_path


SPEC = tiny_spec("cyclegan", gen="resnet6", loss="hinge")
MAGENTA, YELLOW, CYAN = (255, 0, 255), (255, 255, 0), (0, 255, 255)


def test_index_shows_the_spec_scores_and_grids(tmp_path):
    fake_run(tmp_path, {0: MAGENTA, 2: YELLOW, 4: CYAN})
    page = write_index(tmp_path, spec=SPEC, scores={"untrained": {"psnr": 7.5}}, total_steps=4).read_text()
    assert "<title>cyclegan: resnet6 / patchgan / hinge on toy:day2night</title>" in page
    assert "<svg" in page and ">D_A<" in page and ">G_cycle<" in page and ">images_per_s<" not in page
    assert "&quot;format&quot;: &quot;ganzoo-run&quot;" in page, "the configuration shown is the run's config.json"
    top, history = page.split("Samples over time")
    assert re.findall(r'src="(samples/[^"]+)"', top) == ["samples/step-000000.png", "samples/step-000004.png"]
    assert "untrained (step 0)" in top and "trained (step 4)" in top
    assert "<b>input</b> · <b>translation</b>" in top, "what the rows show"
    assert re.findall(r'src="(samples/[^"]+)"', history) == [
        f"samples/step-{s:06d}.png" for s in (4, 2, 0)], "every grid, newest first"
    assert 'alt="step 2: sample grid, rows: input, translation"' in history
    assert "<script" not in page and not re.search(r'(src|href)="(\w+:)?//', page), "opens from disk, fetches nothing"


def test_index_of_a_run_in_progress(tmp_path):
    fake_run(tmp_path, {0: MAGENTA, 2: YELLOW})
    page = write_index(tmp_path, spec=SPEC, scores={"untrained": {"psnr": 7.5}}, total_steps=4).read_text()
    assert "latest (step 2 of 4)" in page and ">trained (step" not in page
    assert "7.50 dB" in page and "training…" in page


def scores_table(page):
    """The scores table's rows as lists of cell texts."""
    table = page.split("<h2>Scores</h2>")[1].split("<h2>")[0]
    return [[re.sub(r"<[^>]+>", "", cell) for cell in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row)]
            for row in re.findall(r"<tr>(.*?)</tr>", table)]


def test_scores_are_a_table_in_the_order_and_words_of_scores(tmp_path):
    from ganzoo.metrics.toy import SCORES

    scores = {"untrained": {"psnr": 6.4773, "mystery": 3, "l1": 0.8188},
              "trained": {"l1": 0.25, "psnr": 5.0, "mystery": 4}}
    page = write_index(fake_run(tmp_path, {0: MAGENTA}), spec=SPEC, scores=scores, total_steps=4).read_text()
    head, psnr, l1, mystery = scores_table(page)
    assert head == ["score", "untrained", "trained", "better", "what it means"]
    assert psnr == ["PSNR", "6.48 dB", "5.00 dB", "higher ↑", SCORES["psnr"].meaning]
    assert l1 == ["L1", "0.819", "0.250", "lower ↓", SCORES["l1"].meaning]
    assert mystery == ["mystery", "3", "4", "", ""], "a score SCORES does not know is shown raw, last"
    assert '<td class="num down">5.00 dB' in page and '<td class="num up">0.250' in page
    assert "{" not in page.split("<h2>Scores</h2>")[1].split("<h2>")[0], "no raw JSON"


def test_a_run_on_real_data_says_it_has_no_toy_scores(tmp_path):
    page = write_index(fake_run(tmp_path, {0: MAGENTA}), spec=SPEC, scores={}, total_steps=4).read_text()
    assert "No toy scores: this run trains on real data" in page and "<table>" not in page


# -- the page in a browser --------------------------------------------------------------------------------

def chromium():
    """Debian's chromium; missing, the test is skipped, or fails where GANZOO_REQUIRE_CHROMIUM=1 (CI)."""
    path = shutil.which("chromium")
    if path is None:
        if os.environ.get("GANZOO_REQUIRE_CHROMIUM") == "1":
            pytest.fail("chromium is not installed, and GANZOO_REQUIRE_CHROMIUM=1 asks for the browser test")
        pytest.skip("chromium is not installed (apt-get install chromium); the page is not rendered")
    return path


def screenshot(page, tmp_path, *, size=(1200, 1600)):
    """The page as headless Chromium draws it in a window of ``size``, as an RGB array."""
    out = tmp_path / "screenshot.png"
    command = [chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--no-first-run",
               f"--window-size={size[0]},{size[1]}", f"--user-data-dir={tmp_path / 'chromium-profile'}",
               f"--screenshot={out}", page.resolve().as_uri()]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and out.exists(), done.stderr[-2000:]
    return np.asarray(Image.open(out).convert("RGB")).astype(int)


def where(shot, colour):
    """(top, bottom, left, right) of the pixels of ``colour`` in the first band of rows holding it, and
    how many pixels of it the band holds; None when the colour is nowhere."""
    mask = (np.abs(shot - np.array(colour)) <= 3).all(axis=2)
    ys = np.flatnonzero(mask.any(axis=1))
    if not ys.size:
        return None
    gaps = np.flatnonzero(np.diff(ys) > 40)  # the band ends where a gap taller than a grid's padding starts
    top, bottom = ys[0], ys[gaps[0]] if gaps.size else ys[-1]
    xs = np.flatnonzero(mask[top:bottom + 1].any(axis=0))
    return top, bottom, xs[0], xs[-1], int(mask[top:bottom + 1].sum())


def test_the_page_shows_untrained_and_trained_grids_side_by_side(tmp_path):
    run = fake_run(tmp_path / "run", {0: MAGENTA, 2: YELLOW, 4: CYAN})
    page = write_index(run, spec=SPEC, scores={"untrained": {"psnr": 7.5}, "trained": {"psnr": 9.0}},
                       total_steps=4)
    shot = screenshot(page, tmp_path)
    untrained, trained = where(shot, MAGENTA), where(shot, CYAN)
    assert untrained and trained, "both grids are drawn"
    natural = 2 * 3 * 16 * 16  # the colour's pixels in one grid at its own size
    assert untrained[4] >= 4 * natural and trained[4] >= 4 * natural, "upscaled at least twice each way"
    assert abs(untrained[0] - trained[0]) <= 2 and untrained[3] < trained[2], "side by side, untrained left"
    assert untrained[0] < 400, "at the top of the page"
    label_zone = shot[untrained[0]:untrained[1], max(0, untrained[2] - 150):untrained[2]]
    assert (label_zone.max(axis=2) < 100).any(), "the row labels are drawn beside the grid"


def test_the_browser_check_sees_a_grid_that_is_missing(tmp_path):
    run = fake_run(tmp_path / "run", {0: MAGENTA, 4: CYAN})
    page = write_index(run, spec=SPEC, scores={}, total_steps=4)
    (run / "samples" / "step-000000.png").unlink()  # the page now points at nothing
    shot = screenshot(page, tmp_path)
    assert where(shot, MAGENTA) is None and where(shot, CYAN) is not None
