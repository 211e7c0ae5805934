"""``ganzoo translate`` and ``ganzoo sample``: use a trained model from a folder, the Hub or the reference."""

from __future__ import annotations

import math
from pathlib import Path

import click

from ganzoo.cli import cli
from ganzoo.errors import GanzooError

SOURCE = "SOURCE"


@cli.command("translate")
@click.argument("source", metavar=SOURCE)
@click.argument("images", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False))
@click.option("--direction", type=click.Choice(["AtoB", "BtoA"]), default="AtoB", show_default=True,
              help="relative to the direction the model was trained")
@click.option("--out", "out_dir", type=click.Path(file_okay=False), default="translated", show_default=True)
@click.option("--keep-size", is_flag=True, help="keep each image's size (rounded for the network) "
                                                "instead of the model's image size")
@click.option("--revision", help="a branch, tag or commit of a Hub repo")
@click.option("--device", default="cpu", show_default=True)
def translate_command(source: str, images: tuple[str, ...], direction: str, out_dir: str, keep_size: bool,
                      revision: str | None, device: str) -> None:
    """Translate IMAGES with the generator of SOURCE (a run folder, a bundle folder, hf-hub:ORG/NAME[@REV] or
    reference:NAME); writes one PNG per image into --out. Only that generator is downloaded."""
    from ganzoo.hub import Model

    model = Model.from_pretrained(source, revision=revision, device=device)
    if model.config.get("generator_input") == "noise":
        raise GanzooError(f"{source} generates from noise; use `ganzoo sample {source}`")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    for path, image in zip(images, model.translate(list(images), direction=direction, keep_size=keep_size)):
        dest = out / f"{Path(path).stem}.png"
        image.save(dest)
        click.echo(str(dest))


@cli.command("sample")
@click.argument("source", metavar=SOURCE)
@click.option("-n", "count", type=click.IntRange(min=1), default=64, show_default=True)
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--out", "out_file", type=click.Path(dir_okay=False),
              help="PNG grid (default SOURCE/samples/sample-seedS.png for a folder, else sample-seedS.png)")
@click.option("--revision", help="a branch, tag or commit of a Hub repo")
@click.option("--device", default="cpu", show_default=True)
def sample_command(source: str, count: int, seed: int, out_file: str | None, revision: str | None,
                   device: str) -> None:
    """Generate -n images from noise with the generator of SOURCE, as one PNG grid."""
    import torch

    from ganzoo.hub import Model
    from ganzoo.train.report import save_grid

    model = Model.from_pretrained(source, revision=revision, device=device)
    if model.config.get("generator_input") != "noise":
        raise GanzooError(f"{source} translates images; use `ganzoo translate {source} IMAGES...`")
    images = model.sample(count, seed=seed)
    side = math.ceil(math.sqrt(count))
    rows = [images[i:i + side] for i in range(0, count, side)]
    if rows[-1].shape[0] < side:  # pad the last row with white
        pad = torch.ones(side - rows[-1].shape[0], *images.shape[1:])
        rows[-1] = torch.cat([rows[-1], pad])
    if out_file:
        dest = Path(out_file)
    elif Path(source).is_dir():
        dest = Path(source) / "samples" / f"sample-seed{seed}.png"
    else:
        dest = Path(f"sample-seed{seed}.png")
    click.echo(str(save_grid(rows, dest)))
