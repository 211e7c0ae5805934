"""``ganzoo translate`` and ``ganzoo sample``: use a trained model from a folder, the Hub or the reference."""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING

import click

from ganzoo.cli import cli
from ganzoo.cli.hub import quiet_hub_client
from ganzoo.errors import GanzooError, UsageError
from ganzoo.fsutil import OutputError, atomic_write, describe_os_error, ensure_writable_dir
from ganzoo.train.spec import PRECISIONS

if TYPE_CHECKING:
    from PIL import Image

SOURCE = "SOURCE"


@cli.command("translate")
@click.argument("source", metavar=SOURCE)
@click.argument("images", nargs=-1, required=True, type=click.Path())
@click.option("--direction", type=click.Choice(["AtoB", "BtoA"]), default="AtoB", show_default=True,
              help="relative to the direction the model was trained")
@click.option("--out", "out_dir", type=click.Path(file_okay=False), default="translated", show_default=True)
@click.option("--keep-size", is_flag=True, help="keep each image's size (rounded for the network) "
                                                "instead of the model's image size")
@click.option("--revision", help="a branch, tag or commit of a Hub repo")
@click.option("--device", default="cpu", show_default=True)
@click.option("--precision", type=click.Choice(PRECISIONS), default="fp32", show_default=True,
              help="autocast precision of the generator (bf16 or fp16 for speed on a GPU)")
def translate_command(source: str, images: tuple[str, ...], direction: str, out_dir: str, keep_size: bool,
                      revision: str | None, device: str, precision: str) -> None:
    """Translate IMAGES with the generator of SOURCE (a run folder, a bundle folder, hf-hub:ORG/NAME[@REV] or
    reference:NAME); writes one PNG per image into --out. Only that generator is downloaded."""
    from ganzoo.hub import Model

    missing = [path for path in images if not Path(path).is_file()]
    if missing:
        raise UsageError(f"no image file {missing[0]}" + (f" (and {len(missing) - 1} more)" if len(missing) > 1 else ""))
    out = ensure_writable_dir(Path(out_dir))  # before the model is fetched
    quiet_hub_client()
    model = Model.from_pretrained(source, revision=revision, device=device)
    if model.config.get("generator_input") == "noise":
        raise GanzooError(f"{source} generates from noise; use `ganzoo sample {source}`")
    _precision_note(precision, device)
    translated = model.translate(list(images), direction=direction, keep_size=keep_size, precision=precision)
    for path, image in zip(images, translated):
        dest = out / f"{Path(path).stem}.png"
        atomic_write(dest, _png_bytes(image), sync=False)
        click.echo(str(dest))


def _precision_note(precision: str, device: str) -> None:
    """The training command's warning about bf16 emulated on this CPU, on stderr (stdout lists the files)."""
    from ganzoo.train.config import emulated_bf16_note

    if note := emulated_bf16_note(precision, device):
        click.echo(f"note: {note}", err=True)


def _png_bytes(image: Image.Image) -> bytes:
    """An image as PNG bytes, to be written in one atomic step (a kill leaves no truncated PNG)."""
    import io

    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


@cli.command("sample")
@click.argument("source", metavar=SOURCE)
@click.option("-n", "count", type=click.IntRange(min=1), default=64, show_default=True)
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--out", "out_file", type=click.Path(dir_okay=False),
              help="PNG grid (default SOURCE/samples/sample-seedS.png for a folder, else sample-seedS.png)")
@click.option("--revision", help="a branch, tag or commit of a Hub repo")
@click.option("--device", default="cpu", show_default=True)
@click.option("--precision", type=click.Choice(PRECISIONS), default="fp32", show_default=True,
              help="autocast precision of the generator (bf16 or fp16 for speed on a GPU)")
def sample_command(source: str, count: int, seed: int, out_file: str | None, revision: str | None,
                   device: str, precision: str) -> None:
    """Generate -n images from noise with the generator of SOURCE, as one PNG grid."""
    import torch

    from ganzoo.hub import Model
    from ganzoo.train.report import save_grid

    dest = _grid_path(source, seed=seed, out_file=out_file)
    ensure_writable_dir(dest.parent)  # before the model is fetched
    quiet_hub_client()
    model = Model.from_pretrained(source, revision=revision, device=device)
    if model.config.get("generator_input") != "noise":
        raise GanzooError(f"{source} translates images; use `ganzoo translate {source} IMAGES...`")
    _precision_note(precision, device)
    images = model.sample(count, seed=seed, precision=precision)
    side = math.ceil(math.sqrt(count))
    rows = [images[i:i + side] for i in range(0, count, side)]
    if rows[-1].shape[0] < side:  # pad the last row with white
        pad = torch.ones(side - rows[-1].shape[0], *images.shape[1:])
        rows[-1] = torch.cat([rows[-1], pad])
    try:
        click.echo(str(save_grid(rows, dest)))
    except OSError as exc:
        raise OutputError(f"cannot write {dest}: {describe_os_error(exc)}") from exc


def _grid_path(source: str, *, seed: int, out_file: str | None) -> Path:
    """Where ``sample`` writes its grid: ``--out``, else SOURCE/samples/ for a folder, else here."""
    if out_file:
        return Path(out_file)
    if Path(source).is_dir():
        return Path(source) / "samples" / f"sample-seed{seed}.png"
    return Path(f"sample-seed{seed}.png")
