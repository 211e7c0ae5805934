"""The model bundle: what a trained model is once it leaves its run folder.

A bundle is a folder (or a Hub repo) holding:

- ``config.json``: the recipe, each network's registry name, options and file, which generator
  translates which way, the image size, the normalization, the data domains, the metrics, and the
  training configuration it came from (see :func:`bundle_config_from_run`);
- one ``NETWORK.safetensors`` per network, so that a user who translates A to B fetches one file;
- ``README.md``, the model card (see :mod:`ganzoo.hub.card`), and ``samples.png`` when the run made grids.

Nothing in a bundle is pickled: the config is JSON and the weights are safetensors, loaded strictly.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Any, Iterator, Mapping

from ganzoo.errors import GanzooError, UnknownComponentError
from ganzoo.fsutil import OutputError, describe_os_error, fsync_dir

FORMAT = "ganzoo-bundle"
#: 2: ``training.config`` is a run specification of format 2 (1: ganzoo 0.1.0's untyped config).
FORMAT_VERSION = 2
CONFIG_FILE = "config.json"
CARD_FILE = "README.md"
SAMPLES_FILE = "samples.png"
#: How images map to tensors for every ganzoo recipe: ``x = (pixel / 255 - mean) / std``, in [-1, 1].
NORMALIZATION = {"mean": 0.5, "std": 0.5, "range": [-1.0, 1.0]}


class BundleError(GanzooError):
    """A bundle's config or weights are missing, malformed, or need a plugin that is not installed."""


def weights_file(network: str) -> str:
    return f"{network}.safetensors"


def network_spec(role: str, name: str, options: Mapping[str, Any]) -> dict[str, Any]:
    """One network's entry in ``config.json``: its registry name (canonical), options and provider."""
    from ganzoo.plugins import plugin_infos, registry

    entry = registry(role).get(name)
    info = next((i for i in plugin_infos() if i.name == entry.plugin), None)
    canonical = entry.name + (name[name.index(":"):] if ":" in name else "")
    return {"role": role, "name": canonical, "options": dict(options),
            "plugin": entry.plugin, "distribution": info.distribution if info else "",
            "plugin_version": info.version if info else ""}


def domains_of(spec: str, *, direction: str = "AtoB") -> dict[str, str]:
    """Domain names read from a data set's name (``toy:day2night`` -> day, night); A and B otherwise."""
    stem = Path(spec.removeprefix("toy:").removeprefix("hf-hub:").split("@")[0].rstrip("/")).name
    parts = stem.split("2")
    a, b = (parts[0], parts[1]) if len(parts) == 2 and all(parts) else ("A", "B")
    return {"A": b, "B": a} if direction == "BtoA" else {"A": a, "B": b}


def bundle_config_from_run(spec: Any, *, metrics: Mapping[str, Any] | None = None,
                           step: int | None = None) -> dict[str, Any]:
    """The bundle config of a run: a projection of its :class:`~ganzoo.train.spec.RunSpec`.

    It needs no plugin at all: which network translates which way (or samples), and which plugin
    provides each network, are in the specification. Networks a recipe builds for training alone (a ``module`` such as CUT's
    feature sampler) stay out of the bundle. A run with ``--ema`` exports its averaged networks' moving
    averages: ``training.ema`` says so (``{"decay": 0.999, "networks": ["gen"]}``; absent: every network's
    weights are its last trained ones).
    """
    data = spec.data
    networks = {}
    for net, net_spec in spec.networks.items():
        if net_spec.role not in ("generator", "discriminator"):
            continue
        c = spec.components[net_spec.slot]
        networks[net] = {"role": net_spec.role, "name": c.name, "options": dict(c.options), "plugin": c.plugin,
                         "distribution": c.distribution, "plugin_version": _plugin_version(spec, c.plugin),
                         "file": weights_file(net)}
    noise = "sample" in spec.inference
    config: dict[str, Any] = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "library_name": "ganzoo",
        "recipe": spec.recipe,
        "generator_input": "noise" if noise else "image",
        "networks": networks,
        "image_size": data.image_size,
        "channels": {"A": data.in_channels, "B": data.out_channels},
        "normalization": dict(NORMALIZATION),
        "metrics": dict(metrics or {}),
        "training": {"data": data.source, "steps": step if step is not None else spec.train.steps,
                     "config": spec.to_json()},
        "versions": dict(spec.versions),
    }
    averaged = [net for net in spec.ema_networks() if net in networks]
    if averaged:
        config["training"]["ema"] = {"decay": spec.train.ema, "networks": averaged}
    if noise:
        config["domains"] = {"images": Path(data.source.removeprefix("toy:").rstrip("/")).name}
        config["sampler"] = spec.inference["sample"]
    else:
        config["domains"] = domains_of(data.source, direction=data.direction)
        config["directions"] = {d: spec.inference[d] for d in ("AtoB", "BtoA") if d in spec.inference}
    return config


def public_config(config: Mapping[str, Any]) -> dict[str, Any]:
    """A bundle config as it goes to the Hub: every value that is a whole absolute local path (the folder
    the model was trained on, in ``training`` and its configuration; an evaluation's model and data) cut
    to its last part, ``/home/alice/data/horse2zebra`` to ``horse2zebra``.

    Why: a run records where its data was so that it can resume and be evaluated on that machine, but on
    the Hub the path only tells strangers about the trainer's disk (user names, folder layout), and it
    would not resolve there anyway; the folder's name still says what the data was, the card's command
    shows it as ``--data horse2zebra``, and ``ganzoo eval`` takes ``--data`` where it is not a data set of
    that name. Relative paths, ``toy:``/``hf-hub:`` sources and names are kept as they are."""
    def public(value: Any) -> Any:
        if isinstance(value, Mapping):
            return {k: public(v) for k, v in value.items()}
        if isinstance(value, list):
            return [public(v) for v in value]
        if isinstance(value, str):
            return _last_part(value) if _is_absolute_path(value) else value
        return value

    return public(config)


def _is_absolute_path(text: str) -> bool:
    return (PurePosixPath(text).is_absolute() or PureWindowsPath(text).is_absolute()
            or text == "~" or text.startswith(("~/", "~\\")))


def _last_part(path: str) -> str:
    return PureWindowsPath(path.rstrip("/\\")).name or "."  # a Windows path reads "/" and "\\" as separators


def _plugin_version(spec: Any, plugin: str) -> str:
    return spec.versions.get("ganzoo" if plugin == "ganzoo" else f"plugin:{plugin}", "")


def check_bundle_config(config: Any, *, where: str) -> dict[str, Any]:
    """Validate a bundle config and that every network it names is provided by an installed plugin."""
    from ganzoo.plugins import registry

    if not isinstance(config, dict) or config.get("format") != FORMAT:
        raise BundleError(f"{where} is not a ganzoo model bundle (its config.json has no \"format\": \"{FORMAT}\")")
    if config.get("format_version", 0) > FORMAT_VERSION:
        raise BundleError(f"{where} is bundle format {config['format_version']}; this ganzoo reads up to "
                          f"{FORMAT_VERSION}: upgrade ganzoo")
    networks = config.get("networks")
    if not isinstance(networks, dict) or not networks:
        raise BundleError(f"{where}: config.json lists no networks")
    for net, spec in networks.items():
        missing = [k for k in ("role", "name", "options", "file") if k not in spec]
        if missing or spec["role"] not in ("generator", "discriminator"):
            raise BundleError(f"{where}: network {net!r} in config.json lacks {', '.join(missing) or 'a valid role'}")
        try:
            registry(spec["role"]).get(spec["name"])
        except UnknownComponentError as exc:
            provider = spec.get("distribution") or spec.get("plugin") or "?"
            raise BundleError(f"{where} needs the {spec['role']} {spec['name']!r} from plugin "
                              f"{spec.get('plugin') or '?'!r}, which no installed plugin provides: "
                              f"pip install {provider}") from exc
    return config


def read_config(path: Path, *, where: str) -> dict[str, Any]:
    try:
        config = json.loads(Path(path).read_text())
    except ValueError as exc:
        raise BundleError(f"{where}: config.json is not valid JSON ({exc})") from exc
    return check_bundle_config(config, where=where)


def write_bundle(folder: Path, config: Mapping[str, Any], weights: Mapping[str, Path | Mapping[str, Any]], *,
                 card: str, samples: Path | None = None) -> Path:
    """Write a bundle into ``folder`` through a staging folder renamed into place (:func:`staged_folder`).

    ``weights`` maps each network to a safetensors file to copy or to a state dict to save. A folder
    that already holds a bundle is replaced whole; any other non-empty folder is refused.
    """
    from safetensors.torch import save_file

    folder = Path(folder)
    if folder.exists() and (not folder.is_dir() or (any(folder.iterdir()) and not (folder / CONFIG_FILE).exists())):
        raise BundleError(f"{folder} is not empty and holds no bundle; choose an empty or new folder")
    with staged_folder(folder) as staging:
        for net, source in weights.items():
            dest = staging / weights_file(net)
            if isinstance(source, (str, Path)):
                shutil.copyfile(source, dest)
            else:
                tensors = {k: v.detach().cpu().contiguous() for k, v in source.items()}
                save_file(tensors, str(dest), metadata={"format": "pt"})
        if samples is not None and Path(samples).exists():
            shutil.copyfile(samples, staging / SAMPLES_FILE)
        (staging / CONFIG_FILE).write_text(json.dumps(config, indent=2, default=str) + "\n")
        (staging / CARD_FILE).write_text(card)
    return folder


@contextlib.contextmanager
def staged_folder(folder: Path) -> Iterator[Path]:
    """Give a hidden folder beside ``folder`` to fill; when the block ends, its files are synced and it
    replaces ``folder`` in one rename, so a reader (or a process killed at any moment) never sees half a
    bundle. If the block raises, nothing is kept. A full disk or a folder ganzoo cannot write raises
    :class:`~ganzoo.fsutil.OutputError` naming ``folder``."""
    folder = Path(folder)
    staging = folder.with_name(f".{folder.name}.tmp-{os.getpid()}")
    try:
        folder.parent.mkdir(parents=True, exist_ok=True)
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir()
        yield staging
        _sync_files(staging)
        _replace_folder(staging, folder)
    except OSError as exc:
        raise OutputError(f"cannot write {folder}: {describe_os_error(exc)}") from exc
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _sync_files(folder: Path) -> None:
    """Flush every file of ``folder`` to the disk, so that the rename never publishes empty files."""
    for path in folder.rglob("*"):
        if path.is_file() and not path.is_symlink():
            with open(path, "rb") as f:
                os.fsync(f.fileno())
    fsync_dir(folder)


def _replace_folder(staging: Path, folder: Path) -> None:
    """Put ``staging`` where ``folder`` is: a rename, after moving an existing folder aside (a folder
    cannot be renamed over a non-empty one); the old one is deleted only once the new one is in place."""
    if folder.exists() and any(folder.iterdir()):
        old = folder.with_name(f".{folder.name}.old-{os.getpid()}")
        os.replace(folder, old)
        os.replace(staging, folder)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.replace(staging, folder)  # over nothing, or over an empty folder
    fsync_dir(folder.parent)
