"""Where a translation toy model loses shape accuracy: inside its shapes, or on their rims.

``shape accuracy`` (ganzoo.metrics.toy) counts every pixel of the true shapes alike. On 32x32 scenes a
shape 10 pixels across is nearly half rim (pixels with one of their 8 neighbours of another true
label), and a rim pixel that blends the shape's colour with the background's can be named either. This
splits the score per shape kind into interior and rim, and says what the missed pixels were taken for:
the background, another kind, or still an input colour (within half the smallest distance between the
two sides' colours of an input side colour, as ganzoo.metrics.toy.classify counts it; any other colour
is named by the target colour it is nearest to). Then it gives the rim pixels right on each side of the
shapes (left, right, top, bottom): an output drawn off by part of a pixel misses one side and keeps its
opposite, where a blur misses all four alike::

    python benchmarks/toy_rims.py runs/cyclegan/NAME

A run folder, a saved bundle or a Hub repository of a model trained on a translation toy set
(``toy:day2night``, ``toy:edges2shapes``), judged in the direction it was trained, on the test scenes,
palettes and count of its run's toy score (ganzoo.data.toy.ToySet.translations, what ToySet.score
scores). docs/recipes/cyclegan.md quotes it for the CycleGAN toy.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass

import torch.nn.functional as F
from torch import Tensor

from ganzoo.data.sources import resolve_data
from ganzoo.errors import GanzooError
from ganzoo.hub.model import Model
from ganzoo.metrics.evaluate import Target
from ganzoo.metrics.toy import NO_CLASS, SHAPES

#: What a missed pixel was taken for, in the table's column order.
MISSES = ("background", "another kind", "input colour")


@dataclass(frozen=True)
class KindReport:
    """One shape kind's pixels: how many, the share right overall, inside and on the rim, and the misses."""

    pixels: int
    right: float
    interior: float
    rim: float
    rim_share: float
    misses: dict[str, int]


def rims(labels: Tensor) -> Tensor:
    """(N, H, W) bool: the pixels with one of their 8 neighbours of another label (the image's edge is
    not a neighbour). Not ganzoo.data.toy.outline, which draws the toy's outlines: 4 neighbours, and the
    image's edge counts; diagonal neighbours belong here, as a blend there is a blend all the same."""
    padded = F.pad(labels[:, None].float(), (1, 1, 1, 1), mode="replicate")
    highest = F.max_pool2d(padded, 3, stride=1)
    lowest = -F.max_pool2d(-padded, 3, stride=1)
    return (highest != lowest)[:, 0]


def rim_report(predicted: Tensor, labels: Tensor) -> dict[str, KindReport]:
    """Per shape kind (label 1 + its index in SHAPES), then ``all`` of them together (its ``right`` is the
    run's shape accuracy), from the predicted and true label maps."""
    on_rim, right = rims(labels), predicted == labels
    masks = {kind: labels == index + 1 for index, kind in enumerate(SHAPES)} | {"all": labels > 0}
    reports = {}
    for kind, where in masks.items():
        if not where.any():
            continue
        missed = where & ~right
        reports[kind] = KindReport(
            pixels=int(where.sum()), right=_share(right, where), interior=_share(right, where & ~on_rim),
            rim=_share(right, where & on_rim), rim_share=_share(on_rim, where),
            misses={"background": int((missed & (predicted == 0)).sum()),
                    "another kind": int((missed & (predicted > 0)).sum()),
                    "input colour": int((missed & (predicted == NO_CLASS)).sum())})
    return reports


#: The sides of a shape's rim, by the 4-neighbour of another label: (name, down, right) of that neighbour.
SIDES = (("left", 0, -1), ("right", 0, 1), ("top", -1, 0), ("bottom", 1, 0))


def rim_sides(predicted: Tensor, labels: Tensor) -> dict[str, float]:
    """The share of shape pixels right on each side of the shapes' rims: a pixel is on the left side when
    its left neighbour has another label (a corner is on two sides; the image's edge is no neighbour).

    Why: nothing in CycleGAN's losses stops a generator from drawing its output a fraction of a pixel
    off (the other generator moves it back, so the cycle loss does not mind, and a patch discriminator
    judges every position alike). By eye the translation is right; by the score the rims of two sides
    are missed and their opposites kept, where a blur misses all four alike.
    """
    padded = F.pad(labels, (1, 1, 1, 1), value=-1)
    height, width = labels.shape[1:]
    right = predicted == labels
    shares = {}
    for side, down, across in SIDES:
        neighbour = padded[:, 1 + down:1 + down + height, 1 + across:1 + across + width]
        on_side = (labels > 0) & (neighbour != labels) & (neighbour >= 0)
        shares[side] = _share(right, on_side)
    return shares


def _share(hits: Tensor, where: Tensor) -> float:
    """The share of ``where`` that ``hits`` covers. NaN for an empty ``where`` (a shape too small to have
    an interior has no interior score), where ganzoo.metrics.toy's share counts an empty set as all right."""
    total = int(where.sum())
    return float((hits & where).sum()) / total if total else float("nan")


def judged_classes(model: Model, *, n: int | None = None) -> tuple[Tensor, Tensor]:
    """Translate ``n`` test scenes (default: as many as the run's toy score took): the output pixels'
    classes in the target palette, and the true labels."""
    what = model.source.description
    target = Target.from_bundle(model.config)
    try:
        toy = resolve_data(target.source, mode=target.mode, download=False).toy
    except GanzooError:
        toy = None
    if toy is None:
        raise GanzooError(f"{what} was trained on {target.source}, not a toy set; the rim report judges "
                          f"translations of toy scenes")
    if toy.mode == "single":
        raise GanzooError(f"{what} was trained on {target.source}, which has no translations to judge; "
                          f"benchmarks/toy_outlines.py judges its samples")
    if toy.a_is_outline and target.direction == "BtoA":
        raise GanzooError(f"{what} draws {target.source}'s outlines (BtoA), which have no shape kinds to judge")
    judged = toy.translations(model.translate, image_size=target.image_size, direction=target.direction,
                              n=n or target.score_samples)
    return judged.classes(), judged.labels


def rim_table(reports: dict[str, KindReport]) -> str:
    """A Markdown table: one row per kind, then all kinds together."""
    head = "| kind | pixels | right | interior right | rim right | rim share | " + " | ".join(
        f"missed: {m}" for m in MISSES) + " |"
    rule = "| --- |" + " --- |" * (5 + len(MISSES))
    rows = [f"| {kind} | {r.pixels} | {r.right:.3f} | {r.interior:.3f} | {r.rim:.3f} | {r.rim_share:.2f} | "
            + " | ".join(str(r.misses[m]) for m in MISSES) + " |"
            for kind, r in reports.items()]
    return "\n".join([head, rule, *rows])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", help="a run folder, a bundle or a Hub repository of a translation toy model")
    parser.add_argument("-n", type=int, help="test scenes to translate (default: as many as the run scored)")
    args = parser.parse_args(argv)
    if args.n is not None and args.n < 1:
        parser.error(f"-n must be at least 1, got {args.n}")
    try:
        predicted, labels = judged_classes(Model.from_pretrained(args.model), n=args.n)
    except GanzooError as error:
        raise SystemExit(f"error: {error}") from None
    reports = rim_report(predicted, labels)
    together = reports["all"]
    print(f"{args.model}: shape accuracy {together.right:.3f} over {together.pixels} shape pixels\n")
    print(rim_table(reports))
    sides = rim_sides(predicted, labels)
    print("\nrim pixels right by side (one side missed and its opposite kept: the output drawn off by part "
          "of a pixel): " + ", ".join(f"{side} {share:.3f}" for side, share in sides.items()))


if __name__ == "__main__":
    main()
