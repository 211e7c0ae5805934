"""Why a ``toy:shapes`` model's shapes fail the outline test: a census of its samples' shape regions.

``recognisable shapes`` and ``kinds covered`` (ganzoo.metrics.toy) count only the regions whose outline
is the kind their colour stands for. This prints, per kind, how many regions of ``-n`` samples are
recognised and why the others are not (ganzoo.metrics.toy.VERDICTS: specks, another kind's outline,
stretched boxes, no outline at all), beside the same count on as many real scenes::

    python benchmarks/toy_outlines.py runs/dcgan/NAME -n 400 --seed 0

A run folder, a saved bundle or a Hub repository (anything ``ganzoo sample`` takes). docs/recipes/dcgan.md
quotes it for the DCGAN toy, whose squares are the kind that fails.
"""

from __future__ import annotations

import argparse

import torch

from ganzoo.data import toy_set
from ganzoo.errors import GanzooError
from ganzoo.hub.model import Model
from ganzoo.metrics.toy import SHAPES, VERDICTS, outline_census

TOY_SET = "toy:shapes"


def census_table(generated: dict[str, dict[str, int]], real: dict[str, dict[str, int]]) -> str:
    """A Markdown table: one row per kind, each verdict's count for the samples, the real count after it."""
    head = "| kind | " + " | ".join(VERDICTS) + " |"
    rule = "| --- |" + " --- |" * len(VERDICTS)
    rows = [f"| {kind} | " + " | ".join(f"{generated[kind][v]} ({real[kind][v]})" for v in VERDICTS) + " |"
            for kind in SHAPES]
    return "\n".join([head, rule, *rows])


def census_of(model: Model, *, n: int, seed: int = 0) -> tuple[dict[str, dict[str, int]], dict[str, dict[str, int]]]:
    """The census of ``n`` samples of ``model`` (noise of ``seed``) and of as many real test scenes."""
    data = (model.config.get("training") or {}).get("data")
    if data not in (None, TOY_SET):  # a bundle that does not say (converted weights) is taken at its word
        raise GanzooError(f"{model.source.description} was trained on {data}; the census judges {TOY_SET} samples")
    toy = toy_set(TOY_SET.removeprefix("toy:"))
    with torch.no_grad():
        samples = model.sample(n, seed=seed)
    real = toy.dataset(phase="test", image_size=samples.shape[-1], size=n, flip=False).b
    return outline_census(samples, palette=toy.palette_b), outline_census(real, palette=toy.palette_b)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", help="a run folder, a bundle or a Hub repository of a toy:shapes model")
    parser.add_argument("-n", type=int, default=400, help="samples to judge")
    parser.add_argument("--seed", type=int, default=0, help="the noise's seed")
    args = parser.parse_args(argv)
    if args.n < 1:
        parser.error(f"-n must be at least 1, got {args.n}")
    try:
        generated, real = census_of(Model.from_pretrained(args.model), n=args.n, seed=args.seed)
    except GanzooError as error:
        raise SystemExit(f"error: {error}") from None
    print(f"{args.n} samples of {args.model} (in brackets: {args.n} real test scenes)\n")
    print(census_table(generated, real))


if __name__ == "__main__":
    main()
