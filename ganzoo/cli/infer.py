"""``ganzoo translate`` and ``ganzoo sample``: use a finished run."""

from __future__ import annotations

from pathlib import Path

import click

from ganzoo.cli import cli
from ganzoo.errors import GanzooError


@cli.command("translate")
@click.argument("run_dir", type=click.Path(exists=True, file_okay=False))
@click.argument("images", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False))
@click.option("--direction", type=click.Choice(["AtoB", "BtoA"]), default="AtoB", show_default=True,
              help="relative to the direction the run trained")
@click.option("--out", "out_dir", type=click.Path(file_okay=False), default="translated", show_default=True)
@click.option("--keep-size", is_flag=True, help="keep each image's size (rounded for the network) "
                                                "instead of the run's image size")
@click.option("--device", default="cpu", show_default=True)
def translate_command(run_dir: str, images: tuple[str, ...], direction: str, out_dir: str, keep_size: bool,
                      device: str) -> None:
    """Translate IMAGES with the generator of RUN_DIR; writes one PNG per image into --out."""
    import torch
    from torchvision.transforms import functional as TF

    from ganzoo.data.images import READ_ERRORS, load_rgb
    from ganzoo.train.runs import load_config, load_generators, translation_generator

    config = load_config(run_dir)
    if _is_noise(config):
        raise GanzooError(f"{run_dir} is a noise-to-image run; use `ganzoo sample {run_dir}`")
    name = translation_generator(config, direction)
    _, nets = load_generators(run_dir, device=device, only=(name,))
    gen = nets[name]
    multiple = getattr(gen, "size_multiple", 1)
    size = config["data"]["image_size"]
    grayscale = config["data"]["in_channels" if direction == "AtoB" else "out_channels"] == 1
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    for path in images:
        try:
            img = load_rgb(path)
        except READ_ERRORS as exc:
            raise GanzooError(f"cannot read image {path}: {type(exc).__name__}") from exc
        if grayscale:
            img = img.convert("L")
        target = (max(multiple, round(img.width / multiple) * multiple),
                  max(multiple, round(img.height / multiple) * multiple)) if keep_size else (size, size)
        x = TF.to_tensor(img.resize(target)).unsqueeze(0) * 2 - 1
        with torch.no_grad():
            y = gen(x.to(device)).cpu()[0]
        dest = out / f"{Path(path).stem}.png"
        TF.to_pil_image(((y.clamp(-1, 1) + 1) / 2)).save(dest)
        click.echo(str(dest))


def _is_noise(config) -> bool:
    from ganzoo.train.config import get_recipe

    return get_recipe(config["recipe"]).step.generator_input == "noise"


@cli.command("sample")
@click.argument("run_dir", type=click.Path(exists=True, file_okay=False))
@click.option("-n", "count", type=click.IntRange(min=1), default=64, show_default=True)
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--out", "out_file", type=click.Path(dir_okay=False), help="PNG grid (default RUN_DIR/samples/sample-seedS.png)")
@click.option("--device", default="cpu", show_default=True)
def sample_command(run_dir: str, count: int, seed: int, out_file: str | None, device: str) -> None:
    """Generate -n images from noise with RUN_DIR's generator, as one PNG grid."""
    import math

    import torch

    from ganzoo.train.report import save_grid
    from ganzoo.train.runs import load_config, load_generators

    config = load_config(run_dir)
    if not _is_noise(config):
        raise GanzooError(f"{run_dir} is an image-to-image run; use `ganzoo translate {run_dir} IMAGES...`")
    _, nets = load_generators(run_dir, device=device)
    gen = next(iter(nets.values()))
    noise = gen.noise(count, generator=torch.Generator().manual_seed(seed)).to(device)
    with torch.no_grad():
        images = gen(noise).cpu()
    side = math.ceil(math.sqrt(count))
    rows = [images[i:i + side] for i in range(0, count, side)]
    if rows[-1].shape[0] < side:  # pad the last row with white
        pad = torch.ones(side - rows[-1].shape[0], *images.shape[1:])
        rows[-1] = torch.cat([rows[-1], pad])
    dest = Path(out_file) if out_file else Path(run_dir) / "samples" / f"sample-seed{seed}.png"
    click.echo(str(save_grid(rows, dest)))
