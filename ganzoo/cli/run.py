"""``ganzoo run RECIPE``: train, with the slot options each recipe declares."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import click

from ganzoo.cli import cli
from ganzoo.errors import GanzooError

SLOT_FLAGS = {"generator": "--gen", "discriminator": "--disc", "adversarial_loss": "--loss", "data_mode": "--data-mode"}


class RunGroup(click.Group):
    """One subcommand per registered recipe, generated from its slots when first needed."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        from ganzoo.plugins import registry

        return registry("recipe").names()

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        from ganzoo.plugins import registry

        if cmd_name not in registry("recipe"):
            registry("recipe").get(cmd_name)  # unknown: raises with close matches
        return _recipe_command(registry("recipe").get(cmd_name).build())

    def resolve_command(self, ctx: click.Context, args: list[str]):
        try:
            return super().resolve_command(ctx, args)
        except GanzooError as exc:
            raise click.UsageError(str(exc)) from exc


@cli.group("run", cls=RunGroup, invoke_without_command=True)
@click.option("--resume", "resume_dir", type=click.Path(exists=True, file_okay=False),
              help="Continue the run in this folder from its latest checkpoint.")
@click.option("--quiet", is_flag=True, help="No progress bar.")
@click.pass_context
def run_group(ctx: click.Context, resume_dir: str | None, quiet: bool) -> None:
    """Train a recipe (the commands below come from plugins); `ganzoo run RECIPE --help` lists its options.

    With no --data, the recipe trains on its embedded toy set, then prints the toy score of the
    trained model beside the untrained one's.
    """
    if ctx.invoked_subcommand is None:
        if not resume_dir:
            click.echo(ctx.get_help())
            return
        _train(None, Path(resume_dir), resume=True, quiet=quiet)


def _recipe_command(recipe) -> click.Command:
    from ganzoo.train.config import fitting_names

    params: list[click.Parameter] = []
    for role, slot in recipe.slots().items():
        choices = (slot.choices or (slot.default,)) if role == "data_mode" else fitting_names(recipe, role)
        names = ", ".join(choices)
        params.append(click.Option([SLOT_FLAGS[role]], default=None, metavar="NAME",
                                   help=f"{role.replace('_', ' ')} (default {slot.default}; choices: {names})"))
    params += [
        click.Option(["--data"], metavar="PATH|toy:NAME|DATASET",
                     help=f"a folder, a toy set, a known data set or hf-hub:ORG/NAME (default {recipe.toy.get('data')})"),
        click.Option(["--epochs"], type=click.IntRange(min=1), help="train this many epochs"),
        click.Option(["--steps"], type=click.IntRange(min=1), help="train this many steps (iterations)"),
        click.Option(["--batch-size"], type=click.IntRange(min=1)),
        click.Option(["--image-size"], type=click.IntRange(min=8)),
        click.Option(["--lr"], type=click.FloatRange(min=0, min_open=True)),
        click.Option(["--set", "sets"], multiple=True, metavar="KEY=VALUE",
                     help="any hyper-parameter (lr_policy=cosine, cycle=5) or component option (gen.ngf=32, "
                          "disc.n_layers=4, loss.gp_weight=10, data.preprocess=crop); repeatable"),
        click.Option(["--config", "config_file"], type=click.Path(exists=True, dir_okay=False),
                     help="a JSON file of these options, or a run's config.json to repeat it"),
        click.Option(["--out"], default="runs", show_default=True, type=click.Path(file_okay=False),
                     help="runs are written to OUT/RECIPE/NAME"),
        click.Option(["--name"], help="the run's folder name (default: the date and time)"),
        click.Option(["--seed"], type=int),
        click.Option(["--device"], help="auto (CUDA, then MPS, then CPU), cpu, cuda, cuda:1, mps"),
        click.Option(["--deterministic"], is_flag=True, default=None, help="deterministic algorithms"),
        click.Option(["--resume", "resume_dir"], type=click.Path(exists=True, file_okay=False),
                     help="continue the run in this folder"),
        click.Option(["--dry-run"], is_flag=True, help="print the resolved configuration and parameter counts"),
        click.Option(["--quiet"], is_flag=True, help="no progress bar"),
    ]

    def callback(**kwargs: Any) -> None:
        if kwargs["resume_dir"]:
            _train(None, Path(kwargs["resume_dir"]), resume=True, quiet=kwargs["quiet"])
            return
        config = _resolve(recipe.name, kwargs)
        if kwargs["dry_run"]:
            click.echo(json.dumps(config, indent=2, default=str))
            for name, count in _parameter_counts(config).items():
                click.echo(f"{name}: {count:,} parameters")
            return
        name = kwargs["name"] or time.strftime("%Y%m%d-%H%M%S")
        run_dir = Path(kwargs["out"]) / recipe.name / name
        if (run_dir / "config.json").exists():
            raise GanzooError(f"{run_dir} already holds a run; choose another --name, or --resume it")
        _train(config, run_dir, resume=False, quiet=kwargs["quiet"])

    return click.Command(recipe.name, params=params, callback=callback,
                         help=f"{recipe.summary}. Paper: {recipe.paper}")


def _resolve(recipe_name: str, kwargs: dict[str, Any]) -> dict[str, Any]:
    from ganzoo.train.config import parse_sets, resolve_config

    choices: dict[str, Any] = {}
    sets: dict[str, Any] = {}
    if kwargs["config_file"]:
        choices, sets = _read_config_file(Path(kwargs["config_file"]))
    for key in ("gen", "disc", "loss", "data_mode", "data", "steps", "epochs", "batch_size", "image_size", "lr",
                "seed", "device"):
        if kwargs.get(key) is not None:
            choices[key] = kwargs[key]
    if kwargs.get("deterministic"):
        sets["deterministic"] = True
    sets.update(parse_sets(list(kwargs["sets"])))
    return resolve_config(recipe_name, **choices, sets=sets)


def _read_config_file(path: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    """A flat JSON of CLI options (``{"gen": "unet128", "steps": 100, "set": {"gen.ngf": 32}}``), a run's
    resolved config.json, or a model bundle's config.json, turned into choices and ``--set`` values."""
    try:
        doc = json.loads(path.read_text())
    except ValueError as exc:
        raise GanzooError(f"{path} is not valid JSON: {exc}") from exc
    if isinstance(doc, dict) and doc.get("format") == "ganzoo-bundle":  # a model bundle: repeat its training
        doc = (doc.get("training") or {}).get("config")
        if not doc:
            raise GanzooError(f"{path} is a model bundle without a training configuration (a converted model)")
    if "components" not in doc:
        sets = dict(doc.pop("set", {}))
        return {k.replace("-", "_"): v for k, v in doc.items()}, sets
    c, data, train = doc["components"], doc["data"], doc["train"]
    choices = {"gen": c["generator"]["name"], "disc": c["discriminator"]["name"], "loss": c["adversarial_loss"]["name"],
               "data_mode": data["mode"], "data": None if data["toy"] else data["spec"]}
    sets = {f"gen.{k}": v for k, v in c["generator"]["options"].items()}
    sets.update({f"disc.{k}": v for k, v in c["discriminator"]["options"].items()})
    sets.update({f"loss.{k}": v for k, v in c["adversarial_loss"]["options"].items()})
    sets.update({f"data.{k}": v for k, v in data["options"].items()})
    sets.update({k: v["weight"] for k, v in c["aux_losses"].items()})
    sets.update({k: v for k, v in doc["hparams"].items()})
    sets.update({k: v for k, v in train.items() if v is not None})
    return {k: v for k, v in choices.items() if v is not None}, sets


def _parameter_counts(config: dict[str, Any]) -> dict[str, int]:
    import torch

    from ganzoo.train.build import build_networks

    nets = build_networks(config, device=torch.device("meta"), init=False)
    return {name: sum(p.numel() for p in net.parameters()) for name, net in nets.items()}


def _train(config: dict[str, Any] | None, run_dir: Path, *, resume: bool, quiet: bool) -> None:
    from ganzoo.train.engine import Trainer
    from ganzoo.train.runs import load_config

    if resume:
        config = load_config(run_dir)
    assert config is not None
    trainer = Trainer(config, run_dir, progress=not quiet)
    if resume:
        step = trainer.resume()
        click.echo(f"resuming {run_dir} at step {step} of {trainer.total_steps}")
    else:
        components = config["components"]
        click.echo(f"training {config['recipe']}: {components['generator']['name']} / "
                   f"{components['discriminator']['name']} / {components['adversarial_loss']['name']} on "
                   f"{config['data']['spec']} for {trainer.total_steps} steps on {trainer.device}")
        for note in config["notes"]:
            click.echo(f"note: {note}")
    summary = trainer.run()
    click.echo(f"samples: {summary['samples']}  (overview: {run_dir / 'index.html'})")
    click.echo(f"checkpoint: {run_dir / 'checkpoints'}")
    scores = summary["scores"]
    if "trained" in scores and "untrained" in scores:
        click.echo(_score_line(config["data"]["spec"], scores["untrained"], scores["trained"]))


def _score_line(spec: str, before: dict[str, float], after: dict[str, float]) -> str:
    if "psnr" in after:
        return (f"toy score on {spec} (PSNR against the true translations, higher is better): "
                f"untrained {before['psnr']:.2f} dB -> trained {after['psnr']:.2f} dB "
                f"(L1 {before['l1']:.3f} -> {after['l1']:.3f})")
    return (f"toy score on {spec} (sample validity, 0 to 1, higher is better): "
            f"untrained {before['validity']:.3f} -> trained {after['validity']:.3f}")
