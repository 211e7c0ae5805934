"""``ganzoo push``, ``ganzoo pull`` and ``ganzoo convert``: models to and from the Hub and the reference code."""

from __future__ import annotations

from pathlib import Path

import click

from ganzoo.cli import cli

SOURCE_HELP = "a run folder, a bundle folder, hf-hub:ORG/NAME[@REVISION] or reference:NAME"


def quiet_hub_client() -> None:
    """Keep ``huggingface_hub``'s retry warnings ("Retrying in 8s [Retry 4/5]") off a command's output,
    which ends a failure in one line, unless the user asked for them with ``HF_HUB_VERBOSITY``."""
    import os

    if os.environ.get("HF_HUB_VERBOSITY"):
        return
    from huggingface_hub.utils import logging as hub_logging

    hub_logging.set_verbosity_error()


@cli.command("push")
@click.argument("source", metavar="SOURCE")
@click.argument("repo_id", metavar="ORG/NAME")
@click.option("--private", is_flag=True, help="create the repo private")
@click.option("--message", help="the commit message")
@click.option("--revision", help="the branch to push to (default main)")
def push_command(source: str, repo_id: str, private: bool, message: str | None, revision: str | None) -> None:
    """Upload SOURCE (usually a run folder) to the Hub repo ORG/NAME as a model bundle, with its model card.

    Uses HF_TOKEN (or the token of `hf auth login`) and HF_ENDPOINT."""
    from ganzoo.hub import Model

    quiet_hub_client()
    model = Model.from_pretrained(source)
    url = model.push_to_hub(repo_id, private=private, commit_message=message, revision=revision)
    click.echo(f"pushed {', '.join(model.network_names)} to {repo_id}: {url}")


@cli.command("pull")
@click.argument("source", metavar="SOURCE")
@click.option("--out", type=click.Path(file_okay=False), help="copy the bundle into this folder as well")
@click.option("--revision", help="a branch, tag or commit of a Hub repo")
def pull_command(source: str, out: str | None, revision: str | None) -> None:
    """Fetch every file of a model (hf-hub:ORG/NAME[@REVISION], or reference:NAME, which is downloaded from
    the reference project and converted) and print the folder that holds it.

    Hub files go to the Hub cache (HF_HOME, HF_HUB_CACHE); `ganzoo list --pretrained` names the reference models."""
    from ganzoo.hub import Model

    quiet_hub_client()
    model = Model.from_pretrained(source, revision=revision)
    click.echo(str(model.download(out=out)))


@cli.command("convert")
@click.argument("checkpoint", type=click.Path(dir_okay=False))
@click.option("--gen", "gen", metavar="NAME", help="the checkpoint is this generator (resnet_9blocks, unet_256, ...)")
@click.option("--disc", "disc", metavar="NAME", help="the checkpoint is this discriminator (basic, n_layers, pixel)")
@click.option("--norm", type=click.Choice(["instance", "batch"]), help="checked against the tensors (read from them if not given)")
@click.option("--out", required=True, type=click.Path(file_okay=False), help="the bundle folder to write (or to add to)")
@click.option("--direction", type=click.Choice(["AtoB", "BtoA"]), default="AtoB", show_default=True,
              help="which way the generator translates (G_A of a CycleGAN is AtoB, G_B is BtoA)")
@click.option("--name", "network", help="the network's name in the bundle (default gen_ab, gen_ba or disc)")
@click.option("--image-size", type=click.IntRange(min=8), default=256, show_default=True,
              help="the size the network was trained at")
@click.option("--domains", metavar="A,B", help="names of the two domains (default: from the file name, X2Y.pth)")
def convert_command(checkpoint: str, gen: str | None, disc: str | None, norm: str | None, out: str, direction: str,
                    network: str | None, image_size: int, domains: str | None) -> None:
    """Convert a checkpoint of the reference CycleGAN/pix2pix code (latest_net_G.pth, ...) into a bundle.

    Widths, depth and the dropout layout are read from the checkpoint's tensors. Run it again with the
    same --out to add G_B (--direction BtoA) or a discriminator to the bundle."""
    from ganzoo.errors import GanzooError
    from ganzoo.hub.convert import convert_checkpoint, describe

    if bool(gen) == bool(disc):
        raise GanzooError("say what the checkpoint holds: --gen NAME or --disc NAME (one of them)")
    names = None
    if domains:
        parts = [p.strip() for p in domains.split(",")]
        if len(parts) != 2 or not all(parts):
            raise GanzooError(f"--domains takes two names, A,B; got {domains!r}")
        names = {"A": parts[0], "B": parts[1]}
    folder = convert_checkpoint(Path(checkpoint), role="generator" if gen else "discriminator", name=gen or disc,
                                out=Path(out), norm=norm, network=network, direction=direction,
                                image_size=image_size, domains=names)
    click.echo(describe(folder))
    click.echo(f"bundle: {folder}")
