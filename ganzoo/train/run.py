"""``ganzoo.train(...)``: the Python door to training, and :class:`Run`, what a run leaves behind.

``ganzoo run`` is a client of these functions: the same specification, the same run folder.

    >>> run = ganzoo.train("cyclegan", gen="resnet9", steps=200, out="runs")
    >>> run.scores["trained"], run.run_dir
    >>> run.model.translate(x)
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import time
from pathlib import Path
from typing import Any, Callable, Iterator, Mapping

from ganzoo.errors import GanzooError, UsageError
from ganzoo.train.spec import RunSpec, from_json


@dataclasses.dataclass
class Run:
    """A run folder with its specification and scores.

    Attributes:
        run_dir: ``OUT/RECIPE/NAME``: config.json, checkpoints/, samples/, metrics.csv, index.html.
        spec: the run's specification.
        total_steps: iterations the run trains for.
        scores: the toy scores, ``{"untrained": {...}, "trained": {...}}`` (empty for real data).
    """

    run_dir: Path
    spec: RunSpec
    total_steps: int = 0
    scores: dict[str, Any] = dataclasses.field(default_factory=dict)

    @classmethod
    def open(cls, run_dir: str | Path) -> "Run":
        """A run folder as it is on disk (finished or not)."""
        run_dir = Path(run_dir)
        spec = load_spec(run_dir)
        summary = _read_json(run_dir / "scores.json") if (run_dir / "scores.json").exists() else {}
        return cls(run_dir=run_dir, spec=spec, total_steps=int(summary.get("steps", 0)),
                   scores=dict(summary.get("scores", {})))

    @property
    def model(self) -> Any:
        """The trained model (its latest checkpoint) as a :class:`ganzoo.Model`."""
        from ganzoo.hub.model import Model

        return Model.from_pretrained(self.run_dir)

    @property
    def samples(self) -> list[Path]:
        """The sample grids, oldest first."""
        return sorted((self.run_dir / "samples").glob("step-*.png"))


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text())
    except ValueError as exc:
        raise GanzooError(f"{path} is not valid JSON: {exc}") from exc


def load_spec(run_dir: str | Path) -> RunSpec:
    """The specification in a run folder's config.json (this ganzoo's, or ganzoo 0.1.0's)."""
    path = Path(run_dir) / "config.json"
    if not path.exists():
        raise GanzooError(f"{run_dir} is not a run folder (no config.json)")
    return from_json(_read_json(path), where=str(path))


LOCK_FILE = ".lock"  # held (an OS lock) by the process training in the folder


def new_run_dir(out: str | Path, recipe: str, name: str | None) -> Path:
    """``OUT/RECIPE/NAME``. A given NAME is decided under the folder's lock when training starts
    (:func:`fit`). Without one, NAME is the date and time, with ``-2``, ``-3``, ... when runs start in the
    same second: the folder is created here, atomically, so two processes never get the same one."""
    if name:
        return Path(out) / recipe / name
    from ganzoo.fsutil import OutputError, describe_os_error

    base = Path(out) / recipe / time.strftime("%Y%m%d-%H%M%S")
    for attempt in range(1, 1000):
        candidate = base if attempt == 1 else base.with_name(f"{base.name}-{attempt}")
        try:
            candidate.mkdir(parents=True)
            return candidate
        except FileExistsError:
            continue
        except OSError as exc:
            raise OutputError(f"cannot write the run folder {candidate}: {describe_os_error(exc)}") from exc
    raise OutputError(f"{base.parent} holds 999 runs started in the same second; give --name")


def _claim(run_dir: Path, *, overwrite: bool) -> None:
    """Make sure a new run may start in ``run_dir`` (called under its lock): an empty folder, or
    ``overwrite``, which clears what an earlier run left there."""
    if not (run_dir / "config.json").exists():
        return
    if overwrite:
        _clear(run_dir)
        return
    from ganzoo.train.checkpoint import latest_checkpoint

    if latest_checkpoint(run_dir / "checkpoints") is None:
        raise UsageError(f"{run_dir} holds a run that stopped before its first checkpoint; start it over with "
                         f"`ganzoo run --resume {run_dir}` or --overwrite, or choose another --name")
    raise UsageError(f"{run_dir} already holds a run; continue it with `ganzoo run --resume {run_dir}`, "
                     "choose another --name, or replace it with --overwrite")


def _clear(run_dir: Path) -> None:
    """Remove everything an earlier run wrote in ``run_dir`` (not the lock): each entry is first moved
    into one hidden folder, so a kill midway leaves no half run behind, only that folder."""
    import os
    import shutil

    trash = run_dir / f".overwritten-{os.getpid()}"
    trash.mkdir(exist_ok=True)
    for entry in run_dir.iterdir():
        if entry.name != LOCK_FILE and entry != trash:
            os.replace(entry, trash / entry.name)
    shutil.rmtree(trash, ignore_errors=True)


def train(recipe: str, *, data: str | None = None, gen: str | None = None, disc: str | None = None,
          loss: str | None = None, data_mode: str | None = None, aux: Mapping[str, str] | None = None,
          steps: int | None = None, epochs: int | None = None, out: str | Path = "runs", name: str | None = None,
          config: Mapping[str, Any] | None = None, sets: Mapping[str, Any] | None = None,
          slots: Mapping[str, str] | None = None, overwrite: bool = False, progress: bool = True,
          **settings: Any) -> Run:
    """Train a recipe, exactly as ``ganzoo run`` does, and return the :class:`Run`.

    Args:
        recipe: a registered recipe (``cyclegan``, ``pix2pix``, ``dcgan``, or a plugin's).
        data: a folder, ``toy:NAME``, a data set name or ``hf-hub:ORG/NAME``; None: the recipe's toy set.
        gen: the generator slot's component (``--gen``); ``slots`` names any slot of a recipe.
        disc: the discriminator slot's component (``--disc``).
        loss: the adversarial loss slot's component (``--loss``).
        data_mode: one of the recipe's data modes.
        aux: losses filling auxiliary roles (``{"l1": "l1"}``).
        steps: how many iterations to train (default: the recipe's schedule).
        epochs: how many epochs to train, instead of ``steps``.
        out: the run folder is ``OUT/RECIPE/NAME``.
        name: the run folder's name (default: the date and time).
        slots: components by slot name, for a recipe's other slots (``{"projector": "mlp"}``).
        overwrite: replace a run already in that folder (otherwise that is an error).
        config: a (partial) run specification in JSON form, such as a run's config.json.
        sets: settings with dotted names (``{"gen.ngf": 32, "cycle": 5}``).
        progress: show a progress bar.
        **settings: any other setting by name (``lr=1e-3``, ``batch_size=4``, ``seed=1``, ``loggers=["tensorboard"]``).
    """
    from ganzoo.train import distributed
    from ganzoo.train.config import build_spec

    spec = build_spec(recipe, data=data, slots={"gen": gen, "disc": disc, "loss": loss, **(slots or {})},
                      data_mode=data_mode, aux=aux, config=config, sets=sets, steps=steps, epochs=epochs, **settings)
    with distributed.session(device=spec.train.device) as here:
        # under torchrun rank 0 names (and creates) the folder, and every process trains into it
        run_dir = here.on_main(lambda: new_run_dir(out, spec.recipe, name))
        return fit(spec, run_dir, overwrite=overwrite, progress=progress)


def resume(run_dir: str | Path, *, progress: bool = True) -> Run:
    """Continue a run from its latest checkpoint."""
    return fit(load_spec(run_dir), Path(run_dir), resume=True, progress=progress)


def fit(spec: RunSpec, run_dir: Path, *, resume: bool = False, overwrite: bool = False, progress: bool = True,
        announce: Callable[[Any], None] | None = None) -> Run:
    """Train (or resume) one run: what :func:`train`, :func:`resume` and ``ganzoo run`` all call.

    The folder is checked to be writable before anything is built, and locked while the run trains in
    it: a second process gets a one-line error naming the holder. ``announce`` gets the engine once it
    is set up (and resumed), before the first step: the command line prints what it is about to do from it.
    A new run that fails before writing anything (a setting its networks refuse, a Ctrl-C while they are
    built) takes its empty folder away, so that no husk of a run is left among the runs; a folder that
    held a run before (``--overwrite`` included) is left where it is.
    """
    from ganzoo.train import distributed
    from ganzoo.train.engine import Trainer

    with distributed.session(device=spec.train.device) as here:
        fresh = not resume and here.is_main and _unwritten(Path(run_dir))
        with _main_lock(here, Path(run_dir)) as locked:  # a refusal (another process holds it) touches nothing
            try:
                if not resume:
                    here.on_main(lambda: _claim(locked, overwrite=overwrite))
                trainer = Trainer(spec, locked, progress=progress)
                if resume:
                    trainer.resume()
                if announce is not None and here.is_main:
                    announce(trainer)
                return trainer.run_training()
            except BaseException:
                if fresh and _unwritten(locked):  # looked at again under the lock, and removed while holding it
                    _remove_unwritten(locked)
                raise


def _unwritten(run_dir: Path) -> bool:
    """Whether ``run_dir`` holds nothing a run wrote: absent, empty, or only the lock file."""
    try:
        return all(entry.name == LOCK_FILE for entry in run_dir.iterdir())
    except FileNotFoundError:
        return True
    except OSError:
        return False


def _remove_unwritten(run_dir: Path) -> None:
    """Take away a folder that :func:`_unwritten` found empty, while this process still holds its lock:
    a process that opens the lock file meanwhile is refused (it opened the file this one holds), or makes
    a new one in a folder that is then not empty, and the rmdir gives up. Best effort, as it is only
    tidying: where an open file cannot be unlinked (Windows) the folder stays, with its lock file."""
    try:
        (run_dir / LOCK_FILE).unlink(missing_ok=True)
        run_dir.rmdir()
    except OSError:
        pass


@contextlib.contextmanager
def _main_lock(here: Any, run_dir: Path) -> Iterator[Path]:
    """The run folder, checked to be writable and locked while the run trains in it, by the process
    that writes it (rank 0 of a distributed run; the others only read it, to resume)."""
    from ganzoo.fsutil import ensure_writable_dir, exclusive_lock

    run_dir = here.on_main(lambda: ensure_writable_dir(Path(run_dir), what="run folder"))
    with contextlib.ExitStack() as held:
        # rank 0 takes the lock; a refusal (another process trains there) is raised on every process
        def lock() -> None:
            held.enter_context(exclusive_lock(run_dir / LOCK_FILE, what=f"the run folder {run_dir}"))

        here.on_main(lock)
        yield run_dir
