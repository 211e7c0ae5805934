"""Reading users' images: every mode converted, unreadable files skipped with one warning each."""

import logging

import numpy as np
import torch
from PIL import Image
from torchvision.transforms import functional as TF

from ganzoo.data.images import check_readable, list_images, load_rgb, to_uint8


def test_modes_convert_to_8bit_rgb(tmp_path):
    Image.new("RGBA", (4, 4), (255, 0, 0, 0)).save(tmp_path / "clear.png")  # fully transparent red
    Image.new("RGBA", (4, 4), (255, 0, 0, 255)).save(tmp_path / "solid.png")
    Image.new("P", (4, 4), 3).save(tmp_path / "palette.gif")
    Image.new("L", (4, 4), 77).save(tmp_path / "gray.png")
    Image.fromarray(np.full((4, 4), 65535, np.uint16)).save(tmp_path / "deep.png")  # 16-bit white
    Image.fromarray(np.full((4, 4), 32768, np.uint16)).save(tmp_path / "half.tif")
    loaded = {p.name: load_rgb(p) for p in list_images(tmp_path)}
    assert all(img.mode == "RGB" and img.size == (4, 4) for img in loaded.values())
    assert loaded["clear.png"].getpixel((0, 0)) == (255, 255, 255), "transparent pixels become white"
    assert loaded["solid.png"].getpixel((0, 0)) == (255, 0, 0)
    assert loaded["gray.png"].getpixel((0, 0)) == (77, 77, 77)
    assert loaded["deep.png"].getpixel((0, 0)) == (255, 255, 255), "16-bit scaled, not clipped"
    assert loaded["half.tif"].getpixel((0, 0)) == (128, 128, 128)


def test_unreadable_files_skipped_with_one_warning_each_and_a_count(tmp_path, caplog):
    Image.new("RGB", (8, 8), (1, 2, 3)).save(tmp_path / "good.png")
    (tmp_path / "notes.txt").write_text("not an image, wrong extension: ignored silently")
    (tmp_path / "fake.jpg").write_text("not an image at all")
    data = (tmp_path / "good.png").read_bytes()
    (tmp_path / "truncated.png").write_bytes(data[: len(data) // 2])
    (tmp_path / ".hidden.png").write_bytes(data)
    with caplog.at_level(logging.WARNING, logger="ganzoo.data"):
        good = check_readable(list_images(tmp_path), where=str(tmp_path))
    assert [p.name for p in good] == ["good.png"]
    messages = [r.getMessage() for r in caplog.records]
    assert len(messages) == 3
    assert "fake.jpg" in messages[0] and "truncated.png" in messages[1]
    assert messages[2].startswith("ganzoo: skipped 2 unreadable file(s)")


def test_recursive_listing(tmp_path):
    (tmp_path / "a" / "b").mkdir(parents=True)
    Image.new("RGB", (2, 2)).save(tmp_path / "a" / "b" / "deep.PNG")
    assert list_images(tmp_path) == []
    assert [p.name for p in list_images(tmp_path, recursive=True)] == ["deep.PNG"]


def test_to_uint8_gives_back_the_pixels_an_image_was_loaded_from():
    pixels = np.arange(256, dtype=np.uint8).reshape(16, 16)
    image = Image.fromarray(np.stack([pixels, pixels.T, 255 - pixels], -1))
    loaded = TF.to_tensor(image) * 2.0 - 1.0  # what ganzoo's data pipeline does
    assert torch.equal(to_uint8(loaded), torch.from_numpy(np.array(image)).permute(2, 0, 1))


def test_to_uint8_rounds_half_up_and_clamps():
    # in float32, (x + 1) / 2 * 255 is exactly 127.5 and 64.5 for these: half up gives 128 and 65
    # (round half to even would give 128 and 64, one level off the saved PNGs)
    ties = torch.tensor([0.0, 129 / 255 - 1], dtype=torch.float32)
    assert ((ties + 1) / 2 * 255).tolist() == [127.5, 64.5]
    assert to_uint8(ties).tolist() == [128, 65]
    assert to_uint8(torch.tensor([-7.0, -1.0, 1.0, 3.0])).tolist() == [0, 0, 255, 255]
    assert to_uint8(torch.zeros(2, 3, dtype=torch.float16)).dtype == torch.uint8
