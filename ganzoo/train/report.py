"""What a run shows a person: metrics.csv, sample grids, and an index.html with grids and loss curves."""

from __future__ import annotations

import csv
import html
import io
import json
import math
import re
from pathlib import Path
from typing import Any, NamedTuple, Sequence

import torch
from torch import Tensor

from ganzoo.errors import GanzooError
from ganzoo.fsutil import OutputError, atomic_write, describe_os_error


class MetricsLog:
    """Rows of scalars in metrics.csv, readable whatever moment a process was killed at.

    Rows are appended (and flushed) one by one while training; a kill mid-row leaves a torn last line,
    which :meth:`rows` skips, as it skips any row that does not parse. Every rewrite (a wider header, a
    resume dropping the rows after its checkpoint) replaces the file atomically, so the rows already
    logged are never lost to a kill.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.fields: list[str] | None = None
        self.skipped = 0  # rows of the file that did not parse (a torn or damaged line)
        if path.exists():
            self.fields = self._read_header()

    def _read_header(self) -> list[str] | None:
        try:
            with open(self.path, newline="", encoding="utf-8") as f:
                header = next(csv.reader(f), None)
        except (UnicodeDecodeError, csv.Error, OSError) as exc:
            raise MetricsError(f"{self.path} is not a readable metrics file ({exc}); move it away to go on") from exc
        if header is not None and "step" not in header:
            raise MetricsError(f"{self.path} is not a ganzoo metrics file (no step column); move it away to go on")
        return header

    def append(self, row: dict[str, Any]) -> None:
        if self.fields is None:
            self._rewrite([], list(row))
        new = [k for k in row if k not in (self.fields or [])]
        if new:  # a loss that first appears now (a critic's generator turn): widen the header
            self._rewrite(self.rows(), [*(self.fields or []), *new])
        line = io.StringIO()
        csv.writer(line).writerow([_fmt(row.get(k, "")) for k in self.fields or []])
        try:
            with open(self.path, "a", newline="", encoding="utf-8") as f:
                f.write(line.getvalue())
                f.flush()
        except OSError as exc:
            raise OutputError(f"cannot write {self.path}: {describe_os_error(exc)}") from exc

    def _rewrite(self, rows: list[dict[str, str]], fields: list[str]) -> None:
        self.fields = fields
        text = io.StringIO()
        writer = csv.DictWriter(text, fieldnames=fields, restval="", extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
        atomic_write(self.path, text.getvalue())

    def rows(self) -> list[dict[str, str]]:
        """The rows that parse: a step that is a number and one value per column (others are counted
        in :attr:`skipped`)."""
        if not self.path.exists():
            return []
        good, self.skipped = [], 0
        try:
            with open(self.path, newline="", encoding="utf-8", errors="replace") as f:
                for row in csv.DictReader(f):
                    if None in row or None in row.values() or not _is_number(row.get("step")):
                        self.skipped += 1
                        continue
                    good.append(row)
        except csv.Error as exc:
            raise MetricsError(f"{self.path} is not a readable metrics file ({exc}); move it away to go on") from exc
        return good

    def truncate_after(self, step: int) -> None:
        """Keep only the rows logged up to ``step`` (a resumed run repeats the steps after its
        checkpoint), and drop torn or damaged rows; the file is replaced atomically."""
        if self.fields is not None:
            self._rewrite([r for r in self.rows() if float(r["step"]) <= step], self.fields)


class MetricsError(GanzooError):
    """metrics.csv cannot be read at all (not a CSV file, or not ganzoo's)."""


def _is_number(text: str | None) -> bool:
    try:
        return text is not None and math.isfinite(float(text))
    except ValueError:
        return False


def _fmt(value: Any) -> Any:
    return f"{value:.6g}" if isinstance(value, float) else value


#: The PNG text chunk in which :func:`save_grid` stores the row labels (JSON), for the run's page.
ROW_LABELS_KEY = "ganzoo:rows"
_LABEL_GAP = 6  # pixels between a label and the margin's edges
_LABEL_COLOUR = (34, 34, 34)


def save_grid(rows: Sequence[Tensor], path: Path, *, labels: Sequence[str] | None = None) -> Path:
    """Save rows of images in [-1, 1] (each (N, C, H, W)) as one PNG grid, one row per tensor.

    With ``labels`` (one per row; ``""`` continues the block above, as
    :func:`ganzoo.step.labelled_rows` gives them) a left margin names the rows in PIL's default font,
    so the grid reads right wherever it is opened (an image viewer, TensorBoard, a model card), and the
    labels are also stored in the PNG under :data:`ROW_LABELS_KEY`. Rows too short for the font are
    scaled up (nearest neighbour) until it fits. The file is replaced atomically.
    """
    from PIL import Image
    from PIL.PngImagePlugin import PngInfo
    from torchvision.utils import make_grid

    rows = [r.detach().float().cpu() for r in rows]
    rows = [r.expand(-1, 3, -1, -1) if r.shape[1] == 1 else r for r in rows]
    grid = make_grid((torch.cat(rows) + 1) / 2, nrow=rows[0].shape[0], padding=2, pad_value=1.0)
    image = Image.fromarray(grid.mul(255).add_(0.5).clamp_(0, 255).permute(1, 2, 0).to(torch.uint8).numpy())
    info = None
    if labels is not None:
        if len(labels) != len(rows):
            raise ValueError(f"{len(labels)} labels for {len(rows)} rows")
        image = _draw_labels(image, list(labels), row_height=rows[0].shape[2])
        info = PngInfo()
        info.add_text(ROW_LABELS_KEY, json.dumps(list(labels)))
    png = io.BytesIO()
    image.save(png, format="png", pnginfo=info)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"cannot write {path.parent}: {describe_os_error(exc)}") from exc
    return atomic_write(path, png.getvalue(), sync=False)


def _draw_labels(grid: Any, labels: list[str], *, row_height: int, padding: int = 2) -> Any:
    """``grid`` (a PIL image of rows ``row_height`` high, ``padding`` apart) with a left margin in which
    each label is drawn right-aligned, centred on its row or block of rows."""
    from PIL import Image, ImageDraw, ImageFont

    font = ImageFont.load_default()
    boxes = {label: font.getbbox(label) for label in labels if label}
    text_height = max((b[3] - b[1] for b in boxes.values()), default=0)
    scale = max(1, math.ceil((text_height + 2) / row_height))
    if scale > 1:
        grid = grid.resize((grid.width * scale, grid.height * scale), Image.NEAREST)
    pitch, pad = (row_height + padding) * scale, padding * scale
    margin = max((b[2] - b[0] for b in boxes.values()), default=0) + 2 * _LABEL_GAP
    labelled = Image.new("RGB", (margin + grid.width, grid.height), "white")
    labelled.paste(grid, (margin, 0))
    draw = ImageDraw.Draw(labelled)
    starts = [i for i, label in enumerate(labels) if label] + [len(labels)]
    for first, after in zip(starts, starts[1:]):
        left, top, right, bottom = boxes[labels[first]]
        middle = pad + (first * pitch + after * pitch - pad) / 2
        xy = (margin - _LABEL_GAP - right, round(middle - (top + bottom) / 2))
        draw.text(xy, labels[first], fill=_LABEL_COLOUR, font=font)
    return labelled


class GridFile(NamedTuple):
    """A sample grid on disk as the run's page needs it."""

    path: Path
    step: int
    size: tuple[int, int] | None  # (width, height); None when the file cannot be read as an image
    labels: list[str]  # the row labels save_grid stored ([] for an unlabelled grid)


def read_grids(folder: Path) -> list[GridFile]:
    """The ``step-N.png`` grids in ``folder``, newest first (by step, whatever the zero padding)."""
    from PIL import Image

    grids = []
    for path in folder.glob("step-*.png"):
        match = re.fullmatch(r"step-(\d+)\.png", path.name)
        if match is None:
            continue
        size, labels = None, []
        try:
            with Image.open(path) as image:
                size = image.size
                stored = json.loads(image.info.get(ROW_LABELS_KEY, "[]"))
            labels = [str(label) for label in stored] if isinstance(stored, list) else []
        except (OSError, ValueError):
            pass
        grids.append(GridFile(path, int(match.group(1)), size, labels))
    return sorted(grids, key=lambda g: g.step, reverse=True)


def _svg_chart(rows: list[dict[str, str]], keys: list[str], *, width: int = 640, height: int = 220) -> str:
    colours = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf"]
    points = {k: [(float(r["step"]), float(r[k])) for r in rows if _is_number(r.get(k))] for k in keys}
    values = [v for series in points.values() for _, v in series]
    steps = [s for series in points.values() for s, _ in series]
    if not values:
        return "<p>No metrics yet.</p>"
    lo, hi = min(values), max(values)
    s0, s1 = min(steps), max(steps)
    span, sspan = (hi - lo) or 1.0, (s1 - s0) or 1.0

    def xy(step: float, value: float) -> str:
        return f"{40 + (step - s0) / sspan * (width - 50):.1f},{10 + (hi - value) / span * (height - 30):.1f}"

    lines = []
    for i, (key, series) in enumerate(points.items()):
        colour = colours[i % len(colours)]
        lines.append(f'<polyline fill="none" stroke="{colour}" stroke-width="1.5" '
                     f'points="{" ".join(xy(s, v) for s, v in series)}"><title>{html.escape(key)}</title></polyline>')
        lines.append(f'<text x="{width - 150}" y="{20 + 14 * i}" fill="{colour}" font-size="12">{html.escape(key)}</text>')
    axis = (f'<text x="2" y="14" font-size="11">{hi:.3g}</text><text x="2" y="{height - 20}" font-size="11">{lo:.3g}</text>'
            f'<text x="40" y="{height - 4}" font-size="11">step {s0:.0f}</text>'
            f'<text x="{width - 80}" y="{height - 4}" font-size="11">step {s1:.0f}</text>')
    return f'<svg width="{width}" height="{height}" xmlns="http://www.w3.org/2000/svg">{axis}{"".join(lines)}</svg>'


def write_index(run_dir: Path, *, spec: Any, scores: dict[str, Any]) -> Path:
    """index.html: the run's settings, scores, loss curves and every sample grid, newest first."""
    rows = MetricsLog(run_dir / "metrics.csv").rows()
    loss_keys = [k for k in (rows[0].keys() if rows else []) if k not in ("step", "epoch", "images_per_s")
                 and not k.startswith("lr_")]
    grids = sorted((run_dir / "samples").glob("step-*.png"), reverse=True)
    score_rows = "".join(f"<tr><th>{html.escape(k)}</th><td>{html.escape(json.dumps(v))}</td></tr>" for k, v in scores.items())
    images = "".join(f'<figure><img src="samples/{g.name}" alt="{g.stem}"><figcaption>{g.stem}</figcaption></figure>'
                     for g in grids)
    title = f"{spec.recipe}: {' / '.join(c.name for c in spec.components.values())} on {spec.data.source}"
    page = f"""<!doctype html>
<html><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<style>body{{font-family:sans-serif;margin:2em}} img{{image-rendering:pixelated;width:100%;max-width:720px}}
figure{{margin:1em 0}} table{{border-collapse:collapse}} th,td{{padding:2px 8px;text-align:left}}</style></head>
<body><h1>{html.escape(title)}</h1>
<h2>Scores</h2><table>{score_rows or "<tr><td>none yet</td></tr>"}</table>
<h2>Losses</h2>{_svg_chart(rows, loss_keys)}
<h2>Samples</h2>{images or "<p>No samples yet.</p>"}
<h2>Configuration</h2><pre>{html.escape(json.dumps(spec.to_json(), indent=2))}</pre>
</body></html>
"""
    return atomic_write(run_dir / "index.html", page, sync=False)
