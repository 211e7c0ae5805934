"""Where a model comes from: a run folder, a bundle folder, a Hub repo, or a reference checkpoint.

Each source answers the same three questions, so that :class:`ganzoo.hub.Model` never cares which it
has: its bundle config, the path of one network's weights (fetched only when asked), and the path of an
optional extra file (the sample grid). A Hub source downloads through ``huggingface_hub``, which
honours ``HF_ENDPOINT``, ``HF_HUB_OFFLINE``, ``HF_HOME``/``HF_HUB_CACHE`` and ``HF_TOKEN``, and keeps
files in the standard Hub cache.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

from ganzoo.errors import GanzooError, first_line
from ganzoo.hub.bundle import (CONFIG_FILE, SAMPLES_FILE, BundleError, bundle_config_from_run, check_bundle_config,
                               read_config, weights_file)

HUB_PREFIX = "hf-hub:"
REFERENCE_PREFIX = "reference:"


class ModelSource:
    """A place a bundle can be read from."""

    description: str

    def config(self) -> dict[str, Any]:
        raise NotImplementedError

    def weights(self, network: str) -> Path:
        raise NotImplementedError

    def extra(self, filename: str) -> Path | None:
        return None


class BundleFolder(ModelSource):
    """A folder written by ``save_pretrained``, ``ganzoo convert`` or ``ganzoo pull``."""

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)
        self.description = str(folder)

    def config(self) -> dict[str, Any]:
        from ganzoo.metrics.evaluate import read_metrics

        config = read_config(self.folder / CONFIG_FILE, where=self.description)
        evaluation = read_metrics(self.folder)  # written by ganzoo eval: it travels with the bundle from now on
        if evaluation is not None and evaluation.get("step") == (config.get("training") or {}).get("steps"):
            config["evaluation"] = evaluation
        return config

    def weights(self, network: str) -> Path:
        path = self.folder / weights_file(network)
        if not path.exists():
            raise BundleError(f"{self.description} has no weights for {network!r} ({path.name} is missing)")
        return path

    def extra(self, filename: str) -> Path | None:
        path = self.folder / filename
        return path if path.exists() else None


class RunFolder(ModelSource):
    """A run folder: its resolved config, scores and latest checkpoint, seen as a bundle. A run that
    trained with ``--ema`` exports the moving averages of its averaged networks (``NET.ema.safetensors``)
    as their weights."""

    def __init__(self, folder: Path) -> None:
        from ganzoo.train.checkpoint import latest_checkpoint

        self.folder = Path(folder)
        self.description = str(folder)
        self.checkpoint = latest_checkpoint(self.folder / "checkpoints")
        if self.checkpoint is None:
            raise GanzooError(f"{folder} has no checkpoint yet")

    @functools.cached_property
    def spec(self) -> Any:
        """The run's specification (its config.json)."""
        from ganzoo.train.run import load_spec

        return load_spec(self.folder)

    def config(self) -> dict[str, Any]:
        scores_path = self.folder / "scores.json"
        metrics: dict[str, Any] = {}
        if scores_path.exists():
            try:
                metrics = json.loads(scores_path.read_text()).get("scores", {})
            except ValueError:
                metrics = {}
        step = int(self.checkpoint.name.removeprefix("step-"))
        config = bundle_config_from_run(self.spec, metrics=metrics, step=step)
        from ganzoo.metrics.evaluate import read_metrics

        evaluation = read_metrics(self.folder)
        if evaluation is not None and evaluation.get("step") == step:  # ganzoo eval (or --eval-every) of this checkpoint
            config["evaluation"] = evaluation
        return check_bundle_config(config, where=self.description)

    def weights(self, network: str) -> Path:
        from ganzoo.train.checkpoint import averaged_file

        if network in self.spec.ema_networks():
            path = self.checkpoint / averaged_file(network)
            if not path.exists():
                raise BundleError(f"checkpoint {self.checkpoint} has no averaged weights for {network!r} "
                                  f"({path.name}), though the run trained with ema={self.spec.train.ema:g}")
            return path
        path = self.checkpoint / weights_file(network)
        if not path.exists():
            raise BundleError(f"checkpoint {self.checkpoint} has no weights for {network!r}")
        return path

    def extra(self, filename: str) -> Path | None:
        if filename != SAMPLES_FILE:
            return None
        grids = sorted((self.folder / "samples").glob("step-*.png"))
        return grids[-1] if grids else None


class HubRepo(ModelSource):
    """A model repo on the Hugging Face Hub; each file is downloaded (into the Hub cache) when first asked."""

    def __init__(self, repo_id: str, *, revision: str | None = None, cache_dir: str | Path | None = None,
                 token: str | bool | None = None, local_files_only: bool = False) -> None:
        from ganzoo.data.download import is_repo_id

        if not is_repo_id(repo_id):
            raise GanzooError(f"expected hf-hub:ORG/NAME[@REVISION], got {HUB_PREFIX}{repo_id}")
        self.repo_id, self.revision = repo_id, revision
        self.cache_dir, self.token, self.local_files_only = cache_dir, token, local_files_only
        self.description = f"{HUB_PREFIX}{repo_id}" + (f"@{revision}" if revision else "")

    def fetch(self, filename: str, *, required: bool = True) -> Path | None:
        """Download one file of the repo (or find it in the cache), with a one-line error on failure."""
        from huggingface_hub import hf_hub_download
        from huggingface_hub import errors as hub_errors

        from ganzoo.data.download import hub_client_errors

        try:
            return Path(hf_hub_download(self.repo_id, filename, revision=self.revision, cache_dir=self.cache_dir,
                                        token=self.token, local_files_only=self.local_files_only,
                                        library_name="ganzoo"))
        except hub_errors.RepositoryNotFoundError as exc:
            raise BundleError(f"no model repo {self.repo_id!r} on the Hub (or it is private or gated: set "
                              "HF_TOKEN)") from exc
        except hub_errors.RevisionNotFoundError as exc:
            raise BundleError(f"{self.repo_id!r} has no revision {self.revision!r}") from exc
        except (hub_errors.LocalEntryNotFoundError, hub_errors.OfflineModeIsEnabled) as exc:
            if not required:
                return None
            raise BundleError(f"{filename} of {self.description} is not in the Hub cache, and the Hub cannot be "
                              "reached (HF_HUB_OFFLINE is set, or there is no network)") from exc
        except getattr(hub_errors, "RemoteEntryNotFoundError", hub_errors.EntryNotFoundError) as exc:
            if not required:
                return None
            raise BundleError(f"{self.description} has no file {filename!r}"
                              + (": it is not a ganzoo model bundle" if filename == CONFIG_FILE else "")) from exc
        except hub_client_errors() as exc:
            raise BundleError(f"could not download {filename} of {self.description}: {first_line(exc)}") from exc

    def config(self) -> dict[str, Any]:
        path = self.fetch(CONFIG_FILE)
        assert path is not None
        return read_config(path, where=self.description)

    def weights(self, network: str) -> Path:
        path = self.fetch(weights_file(network))
        assert path is not None
        return path

    def extra(self, filename: str) -> Path | None:
        return self.fetch(filename, required=False)


def open_source(source: str | Path, *, revision: str | None = None, cache_dir: str | Path | None = None,
                token: str | bool | None = None, local_files_only: bool = False) -> ModelSource:
    """The :class:`ModelSource` a user's SOURCE names (see :meth:`ganzoo.hub.Model.from_pretrained`)."""
    text = str(source)
    if text.startswith(HUB_PREFIX):
        from ganzoo.data.download import parse_hub_spec

        repo_id, pinned = parse_hub_spec(text)
        if pinned and revision and pinned != revision:
            raise GanzooError(f"{text} pins revision {pinned!r} but revision={revision!r} was also given")
        return HubRepo(repo_id, revision=pinned or revision, cache_dir=cache_dir, token=token,
                       local_files_only=local_files_only)
    if text.startswith(REFERENCE_PREFIX):
        from ganzoo.hub.reference import pull_reference

        return BundleFolder(pull_reference(text.removeprefix(REFERENCE_PREFIX)))
    folder = Path(text).expanduser()
    if not folder.is_dir():
        raise GanzooError(f"no folder {text!r}; a model is a run folder, a bundle folder, "
                          f"{HUB_PREFIX}ORG/NAME[@REVISION] or {REFERENCE_PREFIX}NAME")
    config_path = folder / CONFIG_FILE
    if not config_path.exists():
        raise GanzooError(f"{folder} is neither a run folder nor a model bundle (no config.json)")
    try:
        head = json.loads(config_path.read_text())
    except ValueError as exc:
        raise GanzooError(f"{config_path} is not valid JSON: {exc}") from exc
    if isinstance(head, dict) and ("components" in head or head.get("format") == "ganzoo-run"):
        return RunFolder(folder)
    return BundleFolder(folder)
