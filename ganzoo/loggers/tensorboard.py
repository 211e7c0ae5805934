"""TensorBoard logging: losses, learning rates, sample grids and scores, switched on by ``--logger tensorboard``.

It writes to ``RUN/tensorboard`` (``tensorboard --logdir runs``). It needs the ``tensorboard`` package
(``pip install tensorboard``); being importable never switches it on. The writer is closed when the run
ends, however it ends (completed, interrupted, diverged or failed).
"""

from __future__ import annotations

from typing import Any

from ganzoo.hookspecs import hookimpl


class TensorBoardLogger:
    """Writes a run's metrics, sample grids and scores as TensorBoard events."""

    def __init__(self) -> None:
        from torch.utils.tensorboard import SummaryWriter  # ImportError: tensorboard is not installed

        self._writer_class = SummaryWriter
        self.writer: Any = None

    @hookimpl
    def ganzoo_run_start(self, run: Any) -> None:
        self.writer = self._writer_class(str(run.run_dir / "tensorboard"))

    @hookimpl
    def ganzoo_log(self, run: Any, step: int, metrics: dict[str, float]) -> None:
        for key, value in metrics.items():
            if key != "step" and isinstance(value, (int, float)):
                self.writer.add_scalar(key, value, step)

    @hookimpl
    def ganzoo_samples(self, run: Any, step: int, path: Any) -> None:
        import numpy as np
        from PIL import Image

        with Image.open(path) as image:
            self.writer.add_image("samples", np.asarray(image.convert("RGB")), step, dataformats="HWC")

    @hookimpl
    def ganzoo_evaluation(self, run: Any, step: int, scores: dict[str, Any]) -> None:
        for stage, values in scores.items():
            for key, value in (values or {}).items():
                self.writer.add_scalar(f"score/{stage}/{key}", value, step)

    @hookimpl
    def ganzoo_run_end(self, run: Any, status: str, error: Any) -> None:
        if self.writer is not None:
            self.writer.close()
            self.writer = None
