"""``ganzoo eval`` (FID, KID and the toy scores of a trained model) and ``ganzoo weights`` (the feature
networks' weights, fetched once)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Mapping

import click

from ganzoo.cli import cli
from ganzoo.cli.hub import quiet_hub_client
from ganzoo.cli.table import print_table
from ganzoo.errors import UsageError
from ganzoo.fsutil import atomic_write, ensure_writable_dir


def feature_options(command: Any) -> Any:
    """The options that choose the feature network and its weights (``run --eval-every`` takes the same
    as ``--set eval_features=...``, ``eval_weights``, ``eval_unverified_weights``, ``eval_resize``)."""
    for option in reversed([
        click.option("--features", default="inception", show_default=True, metavar="inception|timm:NAME",
                     help="the feature network: inception (the 2015-12-05 weights published tables use) or "
                          "any timm backbone (labelled with its name)"),
        click.option("--weights", "weights_path", type=click.Path(dir_okay=False), metavar="PATH",
                     help="a local copy of the feature network's weights (env GANZOO_INCEPTION_WEIGHTS)"),
        click.option("--unverified-weights", is_flag=True,
                     help="use Inception weights whose SHA-256 is not the pinned one (numbers not comparable)"),
        click.option("--resize", type=click.Choice(["tf1", "clean"]), default="tf1", show_default=True,
                     help="tf1: TensorFlow-compatible bilinear, as published tables; clean: PIL bicubic, antialiased"),
    ]):
        command = option(command)
    return command


@cli.command("eval")
@click.argument("source", metavar="RUN_DIR|BUNDLE|hf-hub:ORG/NAME")
@click.option("--data", metavar="PATH|toy:NAME|DATASET", help="judge against this data (default: what the model "
                                                               "was trained on)")
@click.option("--metric", "metric_text", metavar="fid,kid,toy",
              help="which metrics (default fid,kid; with toy on a toy set)")
@feature_options
@click.option("--fetch-weights", is_flag=True,
              help="download the feature network's weights first if they are not cached")
@click.option("--samples", type=click.IntRange(min=2), help="noise-to-image: how many samples "
                                                            "(default: as many as real images)")
@click.option("--max-images", type=click.IntRange(min=2), help="at most this many real images per comparison")
@click.option("--batch-size", type=click.IntRange(min=1), default=50, show_default=True)
@click.option("--device", default="auto", show_default=True, help="auto (CUDA, then MPS, then CPU), cpu, cuda")
@click.option("--out", "out_file", type=click.Path(dir_okay=False),
              help="where metrics.json goes (default: in the run or bundle folder; for the Hub, here)")
@click.option("--revision", help="a branch, tag or commit of a Hub repo")
def eval_command(source: str, data: str | None, metric_text: str | None, features: str, weights_path: str | None,
                 unverified_weights: bool, resize: str, fetch_weights: bool, samples: int | None,
                 max_images: int | None, batch_size: int, device: str, out_file: str | None,
                 revision: str | None) -> None:
    """Evaluate a trained model: FID and KID of its translations of the test split against the target
    domain's test images (both directions where it has two), or of its samples against the training set;
    and on a toy set its toy scores. Prints a table and writes metrics.json with the protocol."""
    from ganzoo.hub import Model
    from ganzoo.metrics.evaluate import METRICS_FILE, parse_metrics, read_metrics
    from ganzoo.train.engine import choose_device

    metrics = parse_metrics(metric_text) if metric_text else None
    dest = _metrics_path(source, out_file)
    ensure_writable_dir(dest.parent)  # before anything is computed
    if fetch_weights and not weights_path:
        _fetch(features)
    quiet_hub_client()
    model = Model.from_pretrained(source, revision=revision, device=choose_device(device))
    found = model.evaluate(data=data, metrics=metrics, features=features, weights=weights_path,
                           verify=not unverified_weights, resize=resize, samples=samples, max_images=max_images,
                           batch_size=batch_size)
    print_results(found)
    earlier = read_metrics(dest.parent) if dest.name == METRICS_FILE else None
    if earlier:  # a run's --eval-every history and best stay in its record
        found.update({k: earlier[k] for k in ("history", "best") if k in earlier})
    atomic_write(dest, json.dumps(found, indent=2) + "\n")
    click.echo(f"wrote {dest}")


def _metrics_path(source: str, out_file: str | None) -> Path:
    if out_file:
        return Path(out_file)
    if Path(source).is_dir():
        return Path(source) / "metrics.json"
    stem = source.removeprefix("hf-hub:").removeprefix("reference:").replace("/", "--")  # ORG--NAME@REV
    return Path(f"metrics-{stem}.json")


def print_results(found: Mapping[str, Any]) -> None:
    """The results as a table (one row per output of the model), then how they were measured."""
    from ganzoo.metrics.toy import SCORES

    from ganzoo.metrics.evaluate import distance_names

    results = found.get("results", {})
    protocol = found.get("protocol") or {}
    fid_name, kid_name = distance_names(protocol)
    rows = []
    for output, values in results.items():
        row = {"output": output}
        if "fid" in values:
            row[f"{fid_name} (lower better)"] = f"{values['fid']:.3f}"
        if "kid" in values:
            row[f"{kid_name} x1000 (lower better)"] = (f"{1000 * values['kid']:.3f} ± "
                                                       f"{1000 * values.get('kid_std', 0.0):.3f}")
        for key, value in (values.get("toy") or {}).items():
            score = SCORES.get(key)
            label = f"{score.label} ({'higher' if score.higher_is_better else 'lower'} better)" if score else key
            row[label] = score.format(value) if score else f"{value:.4g}"
        rows.append(row)
    headers = list(dict.fromkeys(k for row in rows for k in row))
    print_table(headers, [[row.get(h, "") for h in headers] for row in rows])
    if protocol:
        warning = ", NOT the standard weights" if protocol.get("standard") is False else ""
        click.echo(f"features: {protocol.get('features')} ({protocol.get('weights', '')}, "
                   f"sha256 {str(protocol.get('sha256', ''))[:12]}…{warning}); "
                   f"resize: {protocol.get('resize')}; image size {protocol.get('image_size')}")
    for output, comparison in (found.get("comparisons") or {}).items():
        click.echo(f"{output}: {comparison.get('generated_images')} generated vs {comparison.get('real_images')} real "
                   f"({comparison.get('real_split')})")


@cli.group("weights")
def weights_group() -> None:
    """The feature networks' weights that FID and KID use: fetched once into the cache, verified."""


@weights_group.command("fetch")
@click.argument("name", default="inception", metavar="inception|timm:NAME")
@click.option("--from", "url", metavar="URL", help="another address of the same file (a mirror); the pinned "
                                                   "SHA-256 still decides")
def weights_fetch_command(name: str, url: str | None) -> None:
    """Download NAME's weights once (Inception: from torch-fidelity's release, checked against the pinned
    SHA-256) into the cache (GANZOO_WEIGHTS_DIR, default ~/.cache/ganzoo/weights)."""
    click.echo(str(_fetch(name, url=url)))


@weights_group.command("list")
def weights_list_command() -> None:
    """The known weights and whether each is in the cache."""
    from ganzoo.metrics.weights import WEIGHTS, weights_dir

    rows = []
    for name, w in WEIGHTS.items():
        path = weights_dir() / w.filename
        rows.append([name, "yes" if path.exists() else "no", f"{w.size / 1e6:.0f} MB", w.url])
    print_table(["name", "cached", "size", "from"], rows, max_width=100)


def _fetch(name: str, *, url: str | None = None) -> Path:
    from ganzoo.metrics.weights import WEIGHTS, fetch_timm_weights, fetch_weights

    if name.startswith("timm:"):
        if url:
            raise UsageError("--from is for the Inception weights; timm fetches its own")
        return fetch_timm_weights(name.removeprefix("timm:"))
    if name not in WEIGHTS:
        raise UsageError(f"unknown weights {name!r}; known: {', '.join(WEIGHTS)} or timm:NAME")
    return fetch_weights(WEIGHTS[name], url=url)
