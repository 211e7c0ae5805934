"""``ganzoo data ...``: fetch the data sets people train on."""

from __future__ import annotations

import click

from ganzoo.cli import cli


@cli.group("data")
def data_group() -> None:
    """Download data sets (toy sets need no download: `ganzoo list data` shows them all)."""


@data_group.command("download")
@click.argument("name")
@click.option("--to", "to", type=click.Path(file_okay=False), help="Put it in this folder instead of the cache.")
@click.option("--mode", type=click.Choice(["paired", "unpaired"]),
              help="pix2pix's paired or CycleGAN's unpaired version, for names that have both.")
@click.option("--quiet", is_flag=True, help="No progress bar.")
def download_command(name: str, to: str | None, mode: str | None, quiet: bool) -> None:
    """Download NAME (facades, horse2zebra, ... or hf-hub:ORG/NAME[@REV]) and print where it is.

    The cache is GANZOO_DATA_DIR (default ~/.cache/ganzoo/datasets); GANZOO_DATASET_MIRROR changes the
    server, and HF_ENDPOINT the Hub's.
    """
    from ganzoo.cli.hub import quiet_hub_client
    from ganzoo.data.download import download_dataset, download_hub_dataset

    if name.startswith("hf-hub:"):
        quiet_hub_client()
        path = download_hub_dataset(name, to=to)
    else:
        path = download_dataset(name, mode=mode, to=to, progress=not quiet)
    click.echo(str(path))
