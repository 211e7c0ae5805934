"""Scores of the embedded toy sets that see what a person sees.

PSNR alone says "learned" for pictures a person calls collapsed: on ``day2night`` a blank navy image
scores 19 dB, because the background is most of every picture. The toy scenes are flat colours with a
known label per pixel, so a model's output can be read back as labels and judged the way a person
judges it:

- translations: is each shape pixel the right class colour, and does the background stay background?
- samples (``shapes``): do the pixels take the palette's colours, is each shape recognisable by its
  geometry (a blob is not a square), and do all shape kinds appear across many samples (mode collapse)?

A translated pixel's class is the target colour it is nearest to, as a person names a colour ("dark
red, a bit dull"), unless it still has an input colour: within half the smallest distance between an
input colour and a target colour of one of the input side's colours, it counts as left unchanged, which
is never right. So the input itself scores 0 even where the two sides' colours are alike, while the
soft edge of a shape (a blend of its colour and the background's) is named by the colour it is nearest.
A sample's pixel fits the palette when it lies within half the smallest distance between two palette
colours of one of them (then it could not be mistaken for another).

:data:`SCORES` says what each number means and which way is better; the CLI and the run's index.html
read it from here.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import torch
from torch import Tensor

from ganzoo.errors import InvalidOptionError

#: The shape kinds, in the toy sets' label order (label 1 + index), each with one fill colour.
SHAPES = ("circle", "square", "triangle")
NO_CLASS = -1


@dataclasses.dataclass(frozen=True)
class Score:
    """What one toy score means, for people: the CLI's summary line and the run page's table."""

    label: str
    meaning: str
    higher_is_better: bool = True
    unit: str = ""  # "dB"; "" for shares from 0 to 1

    def format(self, value: float) -> str:
        return f"{value:.2f} {self.unit}" if self.unit else f"{value:.3f}"


SCORES: dict[str, Score] = {
    "shape_accuracy": Score("shape accuracy", "share of the true shapes' pixels painted in the right class colour"),
    "background_accuracy": Score("background kept", "share of the true background's pixels that stay background colour"),
    "psnr": Score("PSNR", "peak signal-to-noise ratio against the true translation (dominated by the background)",
                  unit="dB"),
    "l1": Score("L1", "mean absolute error against the true translation, on the [-1, 1] scale",
                higher_is_better=False),
    "palette_fit": Score("palette fit", "share of pixels in a colour of the palette (background or a shape's)"),
    "recognisable": Score("recognisable shapes", "share of shape-coloured pixels in a shape whose outline is "
                          "the kind its colour stands for (circle, square, triangle)"),
    "coverage": Score("kinds covered", "share of the 3 shape kinds that each make up at least a quarter of "
                      "their fair share of the recognisable shapes (low: mode collapse)"),
    "shape_presence": Score("shape presence", "share of images with some shape but not only shape (2% to 60% "
                            "of the pixels)"),
}

#: The score each kind of toy set is judged by first (the README's targets are stated in it).
HEADLINE = {"translation": "shape_accuracy", "samples": "palette_fit"}


def class_cutoff(palette: np.ndarray) -> float:
    """Half the smallest distance between two palette colours (RGB on the [0, 1] scale)."""
    colours = torch.from_numpy(np.asarray(palette, np.float32))
    distances = torch.cdist(colours, colours) + torch.eye(len(colours)) * 1e9
    return float(distances.min()) / 2


def classify(images: Tensor, palette: np.ndarray, *, confusers: np.ndarray | None = None,
             cutoff: float | None = None) -> Tensor:
    """Each pixel's palette index: the palette colour it is nearest to, or :data:`NO_CLASS` when it is
    further than ``cutoff`` from every palette colour, or still one of the ``confusers`` (colours that
    are never right, such as the input side's): within half the smallest distance between a confuser
    and a palette colour of one.

    ``images`` is (N, 3, H, W) in [-1, 1]; the result is (N, H, W) int64.
    """
    rgb = ((images.detach().float().cpu().clamp(-1, 1) + 1) / 2).permute(0, 2, 3, 1)
    colours = torch.from_numpy(np.asarray(palette, np.float32))
    nearest = (rgb[..., None, :] - colours).norm(dim=-1).min(-1)
    wrong = torch.zeros_like(nearest.indices, dtype=torch.bool)
    if cutoff is not None:
        wrong |= nearest.values > cutoff
    if confusers is not None:
        others = torch.from_numpy(np.asarray(confusers, np.float32))
        radius = float(torch.cdist(others, colours).min()) / 2
        wrong |= (rgb[..., None, :] - others).norm(dim=-1).min(-1).values < radius
    return torch.where(wrong, torch.full_like(nearest.indices, NO_CLASS), nearest.indices)


def translation_classes(outputs: Tensor, palette: np.ndarray, *, input_palette: np.ndarray | None = None) -> Tensor:
    """(N, H, W): each translated pixel's class in the target side's ``palette``, :data:`NO_CLASS` where it
    is still one of the ``input_palette``'s colours (an unchanged input is no translation). What the shape
    and background accuracies count, and what a closer look (benchmarks/toy_rims.py) takes apart."""
    return classify(outputs, palette, confusers=input_palette)


def translation_scores(outputs: Tensor, targets: Tensor, *, labels: Tensor | None = None,
                       palette: np.ndarray | None = None, input_palette: np.ndarray | None = None) -> dict[str, float]:
    """Scores of translations against the truth.

    Always L1 (on the [-1, 1] scale) and PSNR in dB (on the [0, 1] scale); with the true ``labels``
    (N, H, W: 0 background, k > 0 a shape class) and the target side's ``palette``, also the share of
    shape pixels that take their class colour and of background pixels that stay background
    (``input_palette``: the input side's colours, which count as wrong).
    """
    if outputs.shape != targets.shape:
        raise InvalidOptionError(f"outputs {tuple(outputs.shape)} and targets {tuple(targets.shape)} differ in shape")
    outputs = outputs.float().clamp(-1, 1)
    mse = (((outputs - targets) / 2) ** 2).flatten(1).mean(1).clamp_min(1e-10)
    scores = {"l1": (outputs - targets).abs().mean().item(), "psnr": (10 * torch.log10(1 / mse)).mean().item()}
    if labels is not None and palette is not None:
        right = translation_classes(outputs, palette, input_palette=input_palette) == labels
        shape = labels > 0
        scores["shape_accuracy"] = _share(right, shape)
        scores["background_accuracy"] = _share(right, ~shape)
    return scores


def _share(hits: Tensor, where: Tensor) -> float:
    total = int(where.sum())
    return float((hits & where).sum()) / total if total else 1.0


# -- samples -----------------------------------------------------------------------------------


def sample_classes(images: Tensor, palette: np.ndarray) -> Tensor:
    """A generated scene's pixels as palette indices: a pixel fits the palette within :func:`class_cutoff`
    of a colour (then it could not be mistaken for another), and is :data:`NO_CLASS` beyond."""
    return classify(images, palette, cutoff=class_cutoff(palette))


def sample_scores(images: Tensor, *, palette: np.ndarray, min_shape: float = 0.02,
                  max_shape: float = 0.6) -> dict[str, float]:
    """Scores of generated ``shapes`` scenes (N, 3, H, W in [-1, 1]); real scenes score 1 on each.

    The palette's index 0 is the background and index ``1 + k`` the colour of shape kind ``SHAPES[k]``.
    """
    classes = sample_classes(images, palette)
    shape_pixels = classes > 0
    share = shape_pixels.float().flatten(1).mean(1)
    recognised_pixels, kinds = 0, [0] * len(SHAPES)
    for mask, colour, verdict in judged_components(classes):
        if verdict == "recognised":  # specks and the rest: their pixels count as unrecognised
            recognised_pixels += int(mask.sum())
            kinds[colour - 1] += 1
    found = sum(kinds)
    fair = found / len(SHAPES)
    return {
        "palette_fit": (classes != NO_CLASS).float().mean().item(),
        "recognisable": recognised_pixels / int(shape_pixels.sum()) if shape_pixels.any() else 0.0,
        "coverage": (sum(k >= 0.25 * fair for k in kinds) / len(SHAPES)) if found else 0.0,
        "shape_presence": ((share >= min_shape) & (share <= max_shape)).float().mean().item(),
    }


#: What :func:`judged_components` says of a shape-coloured region, in the order it checks.
VERDICTS = ("speck", "recognised", "another kind", "stretched", "no outline")


def judged_components(classes: Tensor) -> list[tuple[Tensor, int, str]]:
    """Each shape-coloured region of (N, H, W) class maps with its class and a verdict from :data:`VERDICTS`:
    ``speck`` (under 2% of the scene: the smallest real shape covers about 3%), ``recognised`` (its outline
    is the kind its colour stands for), ``another kind`` (the outline of another kind fits best),
    ``stretched`` (an outline would fit, but its box is longer one way than any toy shape's) or ``no outline``
    (no kind's outline fits, whatever the box).
    :func:`sample_scores` counts the recognised ones; :func:`outline_census` counts them all, to say why
    the others fail."""
    _, height, width = classes.shape
    min_area = max(4, round(0.02 * height * width))
    judged = []
    for mask, colour in connected_components(classes):
        if int(mask.sum()) < min_area:
            verdict = "speck"
        elif (kind := classify_outline(mask)) == colour - 1:
            verdict = "recognised"
        elif kind >= 0:
            verdict = "another kind"
        else:  # refused: by the box's aspect alone, or by every outline
            verdict = "stretched" if classify_outline(mask, max_aspect=float("inf")) >= 0 else "no outline"
        judged.append((mask, colour, verdict))
    return judged


def outline_census(images: Tensor, *, palette: np.ndarray) -> dict[str, dict[str, int]]:
    """How many shape-coloured regions of generated ``shapes`` scenes get each verdict of :data:`VERDICTS`,
    per shape kind (the kind their colour stands for): where :func:`sample_scores`' recognisable shapes
    and kinds covered are lost. Diagnostic only; ``benchmarks/toy_outlines.py`` prints it for a run."""
    census = {kind: dict.fromkeys(VERDICTS, 0) for kind in SHAPES}
    for _, colour, verdict in judged_components(sample_classes(images, palette)):
        census[SHAPES[colour - 1]][verdict] += 1
    return census


def connected_components(classes: Tensor) -> list[tuple[Tensor, int]]:
    """The 4-connected regions of equal shape class (> 0) in (N, H, W) class maps, as
    (boolean mask of one image, class) pairs.

    Labels spread by repeated minimum over same-class neighbours, all images at once; a few dozen
    rounds settle a 32x32 scene.
    """
    n, height, width = classes.shape
    big = n * height * width
    ids = torch.arange(big, dtype=torch.int64).view(n, height, width)
    fg = classes > 0
    labels = torch.where(fg, ids, torch.full_like(ids, big))
    shifts = ((1, 1), (-1, 1), (1, 2), (-1, 2))
    same = [(classes == torch.roll(classes, s, d)) & fg & _not_wrapped(classes.shape, s, d) for s, d in shifts]
    while True:
        spread = labels
        for (s, d), ok in zip(shifts, same):
            spread = torch.minimum(spread, torch.where(ok, torch.roll(labels, s, d), spread))
        if torch.equal(spread, labels):
            break
        labels = spread
    found = []
    flat, flat_classes = labels.flatten(), classes.flatten()
    for root in torch.unique(flat[fg.flatten()]).tolist():
        image = root // (height * width)
        mask = labels[image] == root
        found.append((mask, int(flat_classes[root])))
    return found


def _not_wrapped(shape: torch.Size, shift: int, dim: int) -> Tensor:
    """False where torch.roll brought a neighbour round from the opposite edge."""
    ok = torch.ones(shape, dtype=torch.bool)
    index = [slice(None)] * 3
    index[dim] = 0 if shift > 0 else -1
    ok[tuple(index)] = False
    return ok


def outline_templates(height: int, width: int) -> dict[str, Tensor]:
    """The ideal circle, square and upright triangle that fill a height x width box, as masks sampled at
    pixel centres: the toy scenes draw their shapes the same way."""
    yy, xx = torch.meshgrid(torch.arange(height) + 0.5, torch.arange(width) + 0.5, indexing="ij")
    cy, cx, ry, rx = height / 2, width / 2, height / 2, width / 2
    return {
        "circle": ((xx - cx) / rx) ** 2 + ((yy - cy) / ry) ** 2 <= 1.0 + 1.0 / min(height, width),
        "square": torch.ones(height, width, dtype=torch.bool),
        "triangle": (xx - cx).abs() <= rx * yy / height + 0.5,
    }


def classify_outline(mask: Tensor, *, min_iou: float = 0.75, max_aspect: float = 1.4) -> int:
    """The shape kind (index into :data:`SHAPES`) whose ideal outline in the mask's bounding box overlaps
    the mask best, or -1 when none overlaps by ``min_iou`` (intersection over union) or more, or the box
    is more than ``max_aspect`` times as long one way as the other (every toy shape's box is about
    square: a smear is not a circle)."""
    rows, cols = mask.any(1).nonzero().flatten(), mask.any(0).nonzero().flatten()
    box = mask[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1]
    if max(box.shape) > max_aspect * min(box.shape):
        return -1
    best, best_iou = -1, min_iou
    for kind, template in enumerate(outline_templates(*box.shape).values()):
        iou = float((box & template).sum()) / float((box | template).sum())
        if iou >= best_iou:
            best, best_iou = kind, iou
    return best

