"""The model card (README.md) of a bundle: what the Hub shows on the model's page.

The YAML header carries what the Hub indexes (``library_name: ganzoo``, tags, the pipeline type); the
body says what the model is, how to load it from Python and from the command line, its sample grid,
its metrics, and the command that trains it again.
"""

from __future__ import annotations

import json
from typing import Any, Mapping

from ganzoo.hub.bundle import SAMPLES_FILE


def _pipeline(config: Mapping[str, Any]) -> str:
    return "unconditional-image-generation" if config.get("generator_input") == "noise" else "image-to-image"


def _title(config: Mapping[str, Any], repo_id: str | None) -> str:
    if repo_id:
        return repo_id.split("/")[-1]
    what = config.get("recipe") or "converted"
    domains = config.get("domains", {})
    if "A" in domains and "B" in domains:
        return f"{what}: {domains['A']} to {domains['B']}"
    return f"{what}: {', '.join(domains.values())}" if domains else what


def _front_matter(config: Mapping[str, Any]) -> str:
    tags = ["ganzoo", "gan", "pytorch", _pipeline(config)]
    if config.get("recipe"):
        tags.append(config["recipe"])
    tags += sorted({spec["name"] for spec in config["networks"].values()})
    lines = ["---", "library_name: ganzoo", f"pipeline_tag: {_pipeline(config)}", "tags:"]
    lines += [f"- {tag}" for tag in dict.fromkeys(tags)]
    return "\n".join(lines + ["---", ""])


def _networks_table(config: Mapping[str, Any]) -> list[str]:
    rows = ["| network | role | component | options |", "| --- | --- | --- | --- |"]
    for net, spec in config["networks"].items():
        options = ", ".join(f"{k}={v}" for k, v in spec["options"].items())
        rows.append(f"| {net} | {spec['role']} | `{spec['name']}` | {options} |")
    return rows


def _usage(config: Mapping[str, Any], source: str) -> list[str]:
    if config.get("generator_input") == "noise":
        python = [f'model = ganzoo.Model.from_pretrained("{source}")',
                  "images = model.sample(16, seed=0)  # (16, C, H, W) in [-1, 1]"]
        cli = f"ganzoo sample {source} -n 16 --out samples.png"
    else:
        python = [f'model = ganzoo.Model.from_pretrained("{source}")',
                  'fakes = model.translate(["photo.jpg"], direction="AtoB")  # PIL images',
                  "y = model.translate(x)  # a tensor in [-1, 1] gives a tensor in [-1, 1]"]
        cli = f"ganzoo translate {source} photo.jpg --direction AtoB --out translated/"
    return ["```python", "import ganzoo", "", *python, "```", "", "```bash", cli, "```"]


def _metrics(config: Mapping[str, Any]) -> list[str]:
    metrics = config.get("metrics") or {}
    if not metrics:
        return []
    names = sorted({k for values in metrics.values() if isinstance(values, dict) for k in values})
    rows = ["## Metrics", "", "| when | " + " | ".join(names) + " |", "| --- |" + " --- |" * len(names)]
    for when, values in metrics.items():
        if isinstance(values, dict):
            rows.append(f"| {when} | " + " | ".join(str(values.get(n, "")) for n in names) + " |")
    data = (config.get("training") or {}).get("data", "")
    if str(data).startswith("toy:"):
        rows += ["", f"Scored on the embedded toy set `{data}` (PSNR in dB against the true translations, or "
                     "the share of valid samples): a check that training worked, not a paper benchmark."]
    return rows + [""]


def _evaluation(config: Mapping[str, Any]) -> list[str]:
    """``ganzoo eval``'s (or ``--eval-every``'s) FID and KID with the protocol that makes them comparable."""
    found = config.get("evaluation") or {}
    results = {k: v for k, v in (found.get("results") or {}).items() if "fid" in v or "kid" in v}
    if not results:
        return []
    from ganzoo.metrics.evaluate import distance_names

    protocol = found.get("protocol") or {}
    fid_name, kid_name = distance_names(protocol)
    rows = ["## Evaluation", "", f"| output | {fid_name} | {kid_name} x 1000 | generated | real |",
            "| --- | --- | --- | --- | --- |"]
    for output, values in results.items():
        comparison = (found.get("comparisons") or {}).get(output, {})
        fid = f"{values['fid']:.2f}" if "fid" in values else ""
        kid = f"{1000 * values['kid']:.2f} ± {1000 * values.get('kid_std', 0):.2f}" if "kid" in values else ""
        rows.append(f"| {output} | {fid} | {kid} | {comparison.get('generated_images', '')} | "
                    f"{comparison.get('real_images', '')} ({comparison.get('real_split', '')}) |")
    standard = (" (not the standard weights: not comparable with published numbers)"
                if protocol.get("standard") is False else "")
    rows += ["", f"Features: {protocol.get('features')}, weights `{protocol.get('weights')}` (SHA-256 "
                 f"`{protocol.get('sha256')}`){standard}; resize: {protocol.get('resize')}; images "
                 f"{protocol.get('image_size')}x{protocol.get('image_size')}; step {found.get('step')}."]
    return rows + [""]


def _training(config: Mapping[str, Any]) -> list[str]:
    from ganzoo.errors import GanzooError
    from ganzoo.train.spec import from_json

    training = config.get("training") or {}
    if not training.get("config"):
        return []
    try:
        spec = from_json(training["config"], where="training.config")
    except GanzooError:
        return []
    lines = ["## Training", "", f"Trained for {training.get('steps')} steps on `{training.get('data')}`:", "",
             "```bash", retrain_command(spec), "```", "",
             "The exact configuration (every option, hyper-parameter and seed) is under `training.config` in "
             "config.json; `ganzoo run " + spec.recipe + " --config config.json` repeats it.", ""]
    ema = training.get("ema")
    if isinstance(ema, Mapping) and isinstance(ema.get("networks"), list):  # a hand-edited config may hold anything
        lines += [f"The weights of {', '.join(map(str, ema['networks']))} are an exponential moving average of "
                  f"the trained ones (decay {ema.get('decay')}).", ""]
    return lines


def retrain_command(spec: Any) -> str:
    """The ``ganzoo run`` line that trains the same components for as long (a toy run keeps its toy schedule)."""
    flags = {"generator": "--gen", "discriminator": "--disc", "loss": "--loss"}
    parts = [f"ganzoo run {spec.recipe}"]
    parts += [f"{flags.get(role, '--' + role)} {c.name}" for role, c in spec.components.items()]
    if not spec.data.toy:
        parts.append(f"--data {spec.data.source}")
    parts.append(f"--steps {spec.train.steps}" if spec.train.steps else f"--epochs {spec.train.epochs}")
    if spec.train.ema:
        parts.append(f"--ema {spec.train.ema:g}")
    return " ".join(parts)


def _provenance(config: Mapping[str, Any]) -> list[str]:
    source = config.get("source")
    if not source:
        return []
    lines = ["## Source", "", source.get("description", "")]
    if source.get("url"):
        lines += ["", f"Downloaded from {source['url']}"]
    files = source.get("files") or {}
    if files:
        lines += ["", "| network | converted file | SHA-256 |", "| --- | --- | --- |"]
        lines += [f"| {net} | {f['file']} | `{f['sha256']}` |" for net, f in files.items()]
    return lines + [""]


def render_card(config: Mapping[str, Any], *, repo_id: str | None = None, has_samples: bool = False) -> str:
    """The model card for a bundle config; ``repo_id`` names the Hub repo it is pushed to."""
    source = f"hf-hub:{repo_id}" if repo_id else "path/to/this/folder"
    domains = config.get("domains", {})
    what = ("generates images from noise" if config.get("generator_input") == "noise"
            else f"translates {domains.get('A', 'A')} images to {domains.get('B', 'B')}")
    body = [f"# {_title(config, repo_id)}", "",
            f"A ganzoo {config.get('recipe') or 'model'} that {what} "
            f"({config['image_size']}x{config['image_size']} pixels, values in [-1, 1]).", "",
            *_networks_table(config), "", "## Use it", "", *_usage(config, source), ""]
    if has_samples:
        body += ["## Samples", "", f"![samples]({SAMPLES_FILE})", "",
                 "Each row: fixed test inputs and what the generators made of them at the end of training.", ""]
    body += [*_metrics(config), *_evaluation(config), *_training(config), *_provenance(config)]
    versions = config.get("versions") or {}
    if versions:
        body += ["## Versions", "", "```json", json.dumps(versions, indent=1), "```", ""]
    return _front_matter(config) + "\n".join(body)
