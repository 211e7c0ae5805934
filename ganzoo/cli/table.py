"""Plain-text tables for the terminal (no dependency beyond click)."""

from __future__ import annotations

from typing import Sequence

import click


def print_table(headers: Sequence[str], rows: Sequence[Sequence[str]], *, max_width: int = 72) -> None:
    """Print rows under headers in aligned columns; the last column is cut to ``max_width``."""
    if not rows:
        return
    cells = [[str(c) for c in row] for row in rows]
    widths = [max(len(h), *(len(r[i]) for r in cells)) for i, h in enumerate(headers)]
    widths[-1] = min(widths[-1], max_width)

    def line(values: Sequence[str]) -> str:
        padded = [v.ljust(w) if i < len(values) - 1 else _cut(v, w) for i, (v, w) in enumerate(zip(values, widths))]
        return "  ".join(padded).rstrip()

    click.echo(line([h.upper() for h in headers]))
    for row in cells:
        click.echo(line(row))


def _cut(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 3] + "..."
