"""Folder data sets in the reference layouts, and clear errors for everything else."""

import random

import pytest
import torch
from PIL import Image

import ganzoo
import ganzoo.data
from ganzoo.data import DataLayoutError, PairedFolder, SingleFolder, UnpairedFolder

TINY = dict(preprocess="resize_and_crop", load_size=36, crop_size=32)


def solid(path, colour, size=(40, 40)):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", size, colour).save(path)


def side_by_side(path, left, right, size=(40, 40)):
    path.parent.mkdir(parents=True, exist_ok=True)
    img = Image.new("RGB", (size[0] * 2, size[1]), left)
    img.paste(Image.new("RGB", size, right), (size[0], 0))
    img.save(path)


def mean_colour(tensor):
    return tuple(round(v, 1) for v in ((tensor.mean((1, 2)) + 1) / 2).tolist())


def test_unpaired_piles_of_different_sizes(tmp_path):
    for i in range(3):
        solid(tmp_path / "trainA" / f"a{i}.jpg", (255, 0, 0))
    for i in range(5):
        solid(tmp_path / "trainB" / f"b{i}.png", (0, 0, 255))
    ds = ganzoo.create_component("data_mode", "unpaired", root=tmp_path, **TINY)
    assert len(ds) == 5
    item = ds[4]
    assert item["A"].shape == (3, 32, 32) and item["B"].shape == (3, 32, 32)
    assert mean_colour(item["A"]) == (1.0, 0.0, 0.0) and mean_colour(item["B"]) == (0.0, 0.0, 1.0)
    assert item["A_path"].endswith("a1.jpg")


def test_unpaired_random_vs_serial_and_direction(tmp_path):
    for i in range(4):
        solid(tmp_path / "trainA" / f"a{i}.png", (255, 0, 0))
        solid(tmp_path / "trainB" / f"b{i}.png", (0, 0, 255))
    serial = UnpairedFolder(root=tmp_path, serial=True, **TINY)
    assert [serial[i]["B_path"][-6:] for i in range(4)] == ["b0.png", "b1.png", "b2.png", "b3.png"]
    random.seed(0)
    drawn = {UnpairedFolder(root=tmp_path, **TINY)[0]["B_path"] for _ in range(20)}
    assert len(drawn) > 1, "B is drawn at random per A"
    swapped = UnpairedFolder(root=tmp_path, direction="BtoA", **TINY)[0]
    assert mean_colour(swapped["A"]) == (0.0, 0.0, 1.0), "A is always the input side"


def test_unpaired_grayscale_side_and_max_size(tmp_path):
    for i in range(6):
        solid(tmp_path / "testA" / f"a{i}.png", (255, 0, 0))
        solid(tmp_path / "testB" / f"b{i}.png", (0, 0, 255))
    ds = UnpairedFolder(root=tmp_path, phase="test", in_channels=1, max_size=2, **TINY)
    assert len(ds) == 2 and ds[0]["A"].shape[0] == 1 and ds[0]["B"].shape[0] == 3


def test_paired_side_by_side_gets_same_crop_and_flip(tmp_path):
    # Left half: a horizontal ramp in red; right half: the same ramp in green. Any crop or flip that
    # differs between the sides would make their ramps disagree.
    img = Image.new("RGB", (80, 40))
    img.putdata([((x * 6, 0, 0) if x < 40 else (0, (x - 40) * 6, 0)) for _ in range(40) for x in range(80)])
    (tmp_path / "train").mkdir()
    img.save(tmp_path / "train" / "1.png")
    ds = PairedFolder(root=tmp_path, preprocess="crop", load_size=40, crop_size=24, flip=True)
    random.seed(1)
    for _ in range(10):
        item = ds[0]
        assert torch.allclose(item["A"][0], item["B"][1], atol=1e-6)


def test_paired_direction_swaps_sides(tmp_path):
    side_by_side(tmp_path / "train" / "x.jpg", (255, 0, 0), (0, 255, 0))
    a_to_b = PairedFolder(root=tmp_path, **TINY)[0]
    b_to_a = PairedFolder(root=tmp_path, direction="BtoA", **TINY)[0]
    assert mean_colour(a_to_b["A"])[0] > 0.9 and mean_colour(b_to_a["A"])[1] > 0.9


def test_paired_two_folders_matched_by_name(tmp_path, caplog):
    for name in ("x", "y", "z"):
        solid(tmp_path / "A" / f"{name}.png", (255, 0, 0))
    for name in ("x", "y", "w"):
        solid(tmp_path / "B" / f"{name}.jpg", (0, 255, 0))
    ds = PairedFolder(root=tmp_path, **TINY)
    assert len(ds) == 2
    assert [(p[0].stem, p[1].stem) for p in ds.pairs] == [("x", "x"), ("y", "y")]
    assert "2 image(s)" in caplog.text and "no partner" in caplog.text


def test_single_searches_recursively(tmp_path):
    solid(tmp_path / "cats" / "1.png", (9, 9, 9))
    solid(tmp_path / "dogs" / "big" / "2.jpg", (9, 9, 9))
    ds = SingleFolder(root=tmp_path, channels=1, **TINY)
    assert len(ds) == 2 and ds[1]["image"].shape == (1, 32, 32)


def test_missing_folder(tmp_path):
    with pytest.raises(DataLayoutError, match="does not exist"):
        UnpairedFolder(root=tmp_path / "nope")


def test_wrong_layout_names_folder_found_and_expected(tmp_path):
    solid(tmp_path / "horses" / "1.png", (1, 1, 1))
    with pytest.raises(DataLayoutError) as info:
        UnpairedFolder(root=tmp_path)
    message = str(info.value)
    assert str(tmp_path) in message and "trainA and trainB" in message and "found horses/" in message
    with pytest.raises(DataLayoutError, match="side by side"):
        PairedFolder(root=tmp_path)


def test_empty_side_is_an_error(tmp_path):
    (tmp_path / "trainA").mkdir()
    (tmp_path / "trainA" / "readme.txt").write_text("x")
    solid(tmp_path / "trainB" / "1.png", (1, 1, 1))
    with pytest.raises(DataLayoutError, match=r"no readable images in .*trainA.*found readme.txt"):
        UnpairedFolder(root=tmp_path)


def test_file_broken_after_scan_is_replaced(tmp_path, caplog):
    for i in range(3):
        solid(tmp_path / f"{i}.png", (0, 0, 0))
    ds = SingleFolder(root=tmp_path, **TINY)
    (tmp_path / "0.png").write_bytes(b"gone bad")
    item = ds[0]
    assert item["path"] != str(tmp_path / "0.png") and "0.png" in caplog.text


def test_loader_batches_with_workers(tmp_path):
    for i in range(4):
        solid(tmp_path / "trainA" / f"a{i}.png", (255, 0, 0))
        solid(tmp_path / "trainB" / f"b{i}.png", (0, 0, 255))
    loader = ganzoo.data.make_loader(UnpairedFolder(root=tmp_path, **TINY), batch_size=2, workers=2, seed=0)
    batches = list(loader)
    assert len(batches) == 2 and batches[0]["A"].shape == (2, 3, 32, 32)
    assert loader.persistent_workers and not loader.pin_memory
