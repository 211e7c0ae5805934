"""Reading a run folder's configuration (``ganzoo.Model.from_pretrained`` uses its trained networks)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ganzoo.errors import GanzooError


def load_config(run_dir: str | Path) -> dict[str, Any]:
    path = Path(run_dir) / "config.json"
    if not path.exists():
        raise GanzooError(f"{run_dir} is not a run folder (no config.json)")
    try:
        return json.loads(path.read_text())
    except ValueError as exc:
        raise GanzooError(f"{path} is not valid JSON: {exc}") from exc
