"""Evaluation during training (``--eval-every N``): FID, KID and the toy scores of the networks the run
exports, every N steps and at the end.

The numbers go into metrics.csv beside the losses (one column per metric and output, so the run page
plots them), the run folder's metrics.json keeps the latest evaluation with its protocol and the
history, and with ``--keep-best METRIC`` the best model so far is written as a bundle in ``RUN/best``
(loadable with ``ganzoo translate``/``sample``/``eval``/``push`` like any bundle). The feature network
is loaded when the run starts, so missing weights stop a run before it trains, not after.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Mapping

from ganzoo.errors import UsageError
from ganzoo.fsutil import atomic_write
from ganzoo.metrics import evaluate as ev
from ganzoo.train.checkpoint import rng_state, set_rng_state

if TYPE_CHECKING:
    from torch import Tensor

#: The run folder's best-model bundle.
BEST_DIR = "best"


def best_direction(metric: str, metrics: tuple[str, ...]) -> bool:
    """Whether lower is better for ``metric`` (``fid``, ``kid`` or a toy score's name), checking that the
    run computes it."""
    from ganzoo.metrics.toy import SCORES

    if metric in ("fid", "kid"):
        if metric not in metrics:
            raise UsageError(f"--keep-best {metric}: the run does not compute {metric} "
                             f"(eval metrics: {', '.join(metrics)})")
        return ev.LOWER_IS_BETTER[metric]
    if metric in SCORES:
        if "toy" not in metrics:
            raise UsageError(f"--keep-best {metric} is a toy score: evaluate with the toy metric (on a toy set)")
        return not SCORES[metric].higher_is_better
    raise UsageError(f"--keep-best {metric!r}: choose fid, kid or a toy score ({', '.join(SCORES)})")


class TrainingEvaluation:
    """The evaluation schedule, the real images' features (computed once), the history and the best."""

    def __init__(self, spec: Any, run_dir: Path, *, device: Any) -> None:
        from ganzoo.metrics.features import make_features

        train = spec.train
        self.spec, self.run_dir, self.every = spec, Path(run_dir), int(train.eval_every)
        self.target = ev.Target.from_spec(spec)
        self.metrics = (ev.parse_metrics(list(train.eval_metrics)) if train.eval_metrics
                        else ev.default_metrics(self.target))
        if "toy" in self.metrics and not spec.data.toy and not self.target.source.startswith("toy:"):
            raise UsageError(f"the toy metric needs an embedded toy set; {self.target.source} is not one")
        self.keep_best = train.keep_best
        self.lower_is_better = best_direction(train.keep_best, self.metrics) if train.keep_best else True
        self.features = None
        if {"fid", "kid"} & set(self.metrics):
            # building a network draws random initial values: put the streams back, so the run trains
            # exactly as it would without evaluation
            rng = rng_state()
            try:
                self.features = make_features(train.eval_features, weights=train.eval_weights,
                                              verify=not train.eval_unverified_weights, resize=train.eval_resize,
                                              device=device)
            finally:
                set_rng_state(rng)
        self.real = ev.RealFeatures()
        self.history: list[dict[str, Any]] = []
        self.best: dict[str, Any] | None = None

    def due(self, step: int, total: int) -> bool:
        return step % self.every == 0 or step == total

    def evaluate(self, make: Callable[[str], Callable[..., Tensor]], *, step: int) -> dict[str, float]:
        """Evaluate now (the caller has put the exported weights in place); returns the flat metrics row."""
        train = self.spec.train
        report = ev.evaluate(self.target, make, metrics=self.metrics, features=self.features,
                             samples=train.eval_samples, max_images=train.eval_max_images, real_features=self.real)
        flat = ev.flat_metrics(report["results"])
        self.history.append({"step": step, **flat})
        self.latest = ev.record(report, target=self.target, source=str(self.run_dir), step=step)
        return flat

    def improved(self, step: int) -> bool:
        """Whether the latest evaluation is the best so far by ``--keep-best`` (remembering it if so)."""
        if not self.keep_best:
            return False
        value = self._value(self.latest["results"])
        if value is None or not math.isfinite(value):  # a failed evaluation is never the best
            return False
        if self.best is not None:
            better = value < self.best["value"] if self.lower_is_better else value > self.best["value"]
            if not better:
                return False
        self.best = {"metric": self.keep_best, "value": value, "step": step}
        return True

    def _value(self, results: Mapping[str, Any]) -> float | None:
        if self.keep_best in ("fid", "kid"):
            return ev.headline(results, self.keep_best)
        toy = {name: values.get("toy", {}) for name, values in results.items()}
        return ev.headline(toy, self.keep_best)

    def write(self) -> Path:
        """metrics.json: the latest evaluation with its protocol, the history of every evaluation, the best."""
        body = {**self.latest, "history": self.history, "best": self.best}
        return atomic_write(self.run_dir / ev.METRICS_FILE, json.dumps(body, indent=2) + "\n")

    def state_dict(self) -> dict[str, Any]:
        return {"history": list(self.history), "best": self.best}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        self.history = list(state.get("history", []))
        self.best = state.get("best")
