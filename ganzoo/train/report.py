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

from ganzoo.data.images import to_uint8
from ganzoo.errors import GanzooError
from ganzoo.fsutil import OutputError, atomic_write, describe_os_error
from ganzoo.metrics.evaluate import is_metric_column


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

    rows = [to_uint8(r.cpu()) for r in rows]
    rows = [r.expand(-1, 3, -1, -1) if r.shape[1] == 1 else r for r in rows]
    grid = make_grid(torch.cat(rows), nrow=rows[0].shape[0], padding=2, pad_value=255)
    image = Image.fromarray(grid.permute(1, 2, 0).numpy())
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


def _loss_charts(rows: list[dict[str, str]], keys: list[str]) -> str:
    """One small chart per loss, each on its own scale (an L1 term of 60 would flatten a GAN loss of 0.2
    on a shared one)."""
    charts = [chart for key in keys if (chart := _svg_chart(rows, key))]
    return f'<div class="charts">{"".join(charts)}</div>' if charts else "<p>No metrics yet.</p>"


def _svg_chart(rows: list[dict[str, str]], key: str, *, width: int = 360, height: int = 170) -> str:
    """An SVG line chart of column ``key`` over the steps, named, with its range ("" with no values)."""
    series = [(float(r["step"]), float(r[key])) for r in rows if _is_number(r.get(key))]
    if not series:
        return ""
    lo, hi = min(v for _, v in series), max(v for _, v in series)
    s0, s1 = series[0][0], series[-1][0]
    span, sspan = (hi - lo) or 1.0, (s1 - s0) or 1.0
    left, top, right, bottom = 48, 24, width - 10, height - 22

    def xy(step: float, value: float) -> str:
        return f"{left + (step - s0) / sspan * (right - left):.1f},{top + (hi - value) / span * (bottom - top):.1f}"

    line = (f'<polyline fill="none" stroke="#1f5fa8" stroke-width="2" points="{" ".join(xy(s, v) for s, v in series)}">'
            f"<title>{html.escape(key)}</title></polyline>")
    if len(series) == 1:  # a line of one point draws nothing
        x, y = xy(*series[0]).split(",")
        line += f'<circle cx="{x}" cy="{y}" r="3" fill="#1f5fa8"/>'
    frame = f'<rect x="{left}" y="{top}" width="{right - left}" height="{bottom - top}" fill="none" stroke="#ccc"/>'
    labels = (f'<text x="{left}" y="15" font-size="13" font-weight="600">{html.escape(key)}</text>'
              f'<text x="{left - 4}" y="{top + 4}" font-size="11" text-anchor="end">{hi:.3g}</text>'
              f'<text x="{left - 4}" y="{bottom}" font-size="11" text-anchor="end">{lo:.3g}</text>'
              f'<text x="{left}" y="{height - 6}" font-size="11">step {s0:.0f}</text>'
              f'<text x="{right}" y="{height - 6}" font-size="11" text-anchor="end">step {s1:.0f}</text>')
    return (f'<svg width="{width}" height="{height}" viewBox="0 0 {width} {height}" xmlns="http://www.w3.org/2000/svg" '
            f'font-family="system-ui,sans-serif">{frame}{line}{labels}</svg>')


#: Grids no wider than this are shown upscaled with hard pixel edges; wider ones are smoothed when shrunk.
_PIXELATED_UP_TO = 560

_STYLE = """
body{font:15px/1.45 system-ui,sans-serif;color:#222;margin:16px 24px;max-width:1600px}
h1{font-size:22px;margin:0 0 4px} h2{font-size:18px;margin:28px 0 8px;border-bottom:1px solid #ddd}
.status{color:#555;margin:0 0 12px}
.grids{display:grid;grid-template-columns:1fr 1fr;gap:16px 24px;align-items:start}
@media (max-width:700px){.grids{grid-template-columns:1fr}}
figure{margin:0} figcaption{font-weight:600;margin:0 0 4px}
img{display:block;width:100%;height:auto} img.pixel{image-rendering:pixelated}
.rows{color:#444;margin:8px 0 0} .charts{display:flex;flex-wrap:wrap;gap:8px 24px}
table{border-collapse:collapse} th,td{padding:4px 10px;text-align:left;vertical-align:top;border-bottom:1px solid #e4e4e4}
thead th{border-bottom:2px solid #bbb} td.num{text-align:right;white-space:nowrap;font-variant-numeric:tabular-nums}
td.up{color:#17702b} td.down{color:#b3261e} td.meaning{color:#555;max-width:560px}
pre{background:#f6f6f6;padding:8px;overflow:auto;font-size:12px}
"""


def write_index(run_dir: Path, *, spec: Any, scores: dict[str, Any], total_steps: int | None = None) -> Path:
    """index.html, the run as a person reads it: the untrained and the newest grid side by side, the
    scores as a table, the loss curves, every grid newest first, then the configuration.

    The page is rewritten at each new grid, so it shows a run in progress as well as a finished one
    (``total_steps`` says how far it has to go). It opens from disk: relative paths, no script, nothing
    fetched.
    """
    rows = MetricsLog(run_dir / "metrics.csv").rows()
    columns = list(rows[0].keys()) if rows else []
    loss_keys = [k for k in columns if k not in ("step", "epoch", "images_per_s") and not k.startswith("lr_")
                 and not is_metric_column(k)]
    # --eval-every's columns: FID, KID and the toy scores over the steps (their spread, kid_std_*, is not drawn)
    eval_keys = [k for k in columns if is_metric_column(k) and not k.startswith("kid_std_")]
    evaluation = (f"<h2>Evaluation</h2><p>Every {spec.train.eval_every} steps (metrics.json has the protocol)."
                  f"{_best(run_dir)}</p>{_loss_charts(rows, eval_keys)}" if eval_keys else "")
    grids = read_grids(run_dir / "samples")
    title = f"{spec.recipe}: {' / '.join(c.name for c in spec.components.values())} on {spec.data.source}"
    history = "".join(_figure(g, f"step {g.step}") for g in grids)
    page = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<meta name="viewport" content="width=device-width, initial-scale=1"><style>{_STYLE}</style></head>
<body><h1>{html.escape(title)}</h1>
{_status(grids, total_steps)}
{_comparison(grids, total_steps)}
<h2>Scores</h2>{_scores_table(scores)}
<h2>Losses</h2>{_loss_charts(rows, loss_keys)}
{evaluation}
<h2>Samples over time, newest first</h2>{f'<div class="grids">{history}</div>' if grids else "<p>No samples yet.</p>"}
<h2>Configuration</h2><pre>{html.escape(json.dumps(spec.to_json(), indent=2))}</pre>
</body></html>
"""
    return atomic_write(run_dir / "index.html", page, sync=False)


def _best(run_dir: Path) -> str:
    """``--keep-best``: which evaluation was the best, and where that model is."""
    from ganzoo.metrics.evaluate import read_metrics

    best = (read_metrics(run_dir) or {}).get("best")
    if not best:
        return ""
    return (f' Best {html.escape(str(best["metric"]))}: {best["value"]:.4g} at step {best["step"]}, kept as a bundle in '
            f'<a href="best/README.md">best/</a>.')


def _finished(grid: GridFile, total_steps: int | None) -> bool:
    return total_steps is not None and grid.step >= total_steps


def _status(grids: list[GridFile], total_steps: int | None) -> str:
    if not grids:
        return '<p class="status">No sample grid yet.</p>'
    if _finished(grids[0], total_steps):
        return f'<p class="status">Trained for {total_steps} steps.</p>'
    of = f" of {total_steps}" if total_steps is not None else ""
    return f'<p class="status">Samples up to step {grids[0].step}{of}; this page is rewritten at each new grid.</p>'


def _comparison(grids: list[GridFile], total_steps: int | None) -> str:
    """The first grid (untrained, step 0) beside the newest, with what the rows show."""
    if not grids:
        return ""
    first, newest = grids[-1], grids[0]
    figures = [_figure(first, "untrained (step 0)" if first.step == 0 else f"earliest (step {first.step})")]
    if newest is not first:
        if _finished(newest, total_steps):
            caption = f"trained (step {newest.step})"
        else:
            caption = f"latest (step {newest.step}{f' of {total_steps}' if total_steps is not None else ''})"
        figures.append(_figure(newest, caption))
    labels = [label for label in newest.labels if label]
    legend = (f'<p class="rows">Rows, top to bottom: {" · ".join(f"<b>{html.escape(x)}</b>" for x in labels)}.</p>'
              if len(labels) > 1 else "")  # one label (a square of samples) needs no legend
    return f'<div class="grids">{"".join(figures)}</div>{legend}'


def _figure(grid: GridFile, caption: str) -> str:
    """One grid with its caption, as large as its column (at most 4x), with hard pixel edges when small."""
    rows = [label for label in grid.labels if label]
    alt = f"{caption}: sample grid" + (f", rows: {', '.join(rows)}" if rows else "")
    attributes = ""
    if grid.size is not None:
        width, height = grid.size
        pixel = ' class="pixel"' if width <= _PIXELATED_UP_TO else ""
        attributes = f' width="{width}" height="{height}" style="max-width:{4 * width}px"{pixel}'
    return (f'<figure><figcaption>{html.escape(caption)}</figcaption>'
            f'<img src="samples/{html.escape(grid.path.name)}" alt="{html.escape(alt)}"{attributes}></figure>')


def _scores_table(scores: dict[str, Any]) -> str:
    """One row per score, those :data:`~ganzoo.metrics.toy.SCORES` knows first (in its order), then any
    other, raw; before the end the trained column says the run is still training."""
    from ganzoo.metrics.toy import SCORES

    untrained = scores.get("untrained") or {}
    trained = scores.get("trained")
    names = [k for k in SCORES if k in untrained or k in (trained or {})]
    names += [k for k in {**untrained, **(trained or {})} if k not in SCORES]
    if not names:
        return ("<p>No toy scores: this run trains on real data, which has no known right answers to score "
                "against.</p>")
    body = []
    for name in names:
        score = SCORES.get(name)
        before, after = untrained.get(name), (trained or {}).get(name)
        if trained is None:
            trained_cell = '<td class="num">training…</td>'
        else:
            trained_cell = f'<td class="num{_direction(score, before, after)}">{_value(score, after)}</td>'
        better = ("" if score is None else "higher ↑" if score.higher_is_better else "lower ↓")
        body.append(f"<tr><th>{html.escape(score.label if score else name)}</th>"
                    f'<td class="num">{_value(score, before)}</td>{trained_cell}'
                    f'<td>{better}</td><td class="meaning">{html.escape(score.meaning if score else "")}</td></tr>')
    head = "<tr><th>score</th><th>untrained</th><th>trained</th><th>better</th><th>what it means</th></tr>"
    return f'<table><thead>{head}</thead><tbody>{"".join(body)}</tbody></table>'


def _value(score: Any, value: Any) -> str:
    if value is None:
        return "—"
    if score is not None and isinstance(value, (int, float)):
        return html.escape(score.format(float(value)))
    return html.escape(str(value))


def _direction(score: Any, before: Any, after: Any) -> str:
    """`` up`` when training made a known score better, `` down`` when worse, else nothing."""
    numbers = all(isinstance(v, (int, float)) and math.isfinite(v) for v in (before, after))
    if score is None or not numbers or before == after:
        return ""
    return " up" if (after > before) == score.higher_is_better else " down"
