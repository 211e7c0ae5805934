"""``ganzoo run RECIPE``: train, with the slot options each recipe declares."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Mapping

import click

from ganzoo.cli import cli
from ganzoo.errors import GanzooError, UsageError, first_line

#: The flags of the first-party slot roles; any other slot of a recipe gets ``--ROLE``.
SLOT_FLAGS = {"generator": "--gen", "discriminator": "--disc", "loss": "--loss"}


class RunGroup(click.Group):
    """One subcommand per registered recipe, generated from its slots when first needed (no torch)."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        from ganzoo.plugins import registry

        return registry("recipe").names()

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        from ganzoo.train.config import get_recipe

        return _recipe_command(get_recipe(cmd_name))

    def resolve_command(self, ctx: click.Context, args: list[str]):
        try:
            return super().resolve_command(ctx, args)
        except GanzooError as exc:
            raise click.UsageError(str(exc)) from exc


@cli.group("run", cls=RunGroup, invoke_without_command=True)
@click.option("--resume", "resume_dir", type=click.Path(exists=True, file_okay=False),
              help="Continue the run in this folder from its latest checkpoint.")
@click.option("--quiet", is_flag=True, help="No progress bar.")
@click.option("--nproc", type=int, metavar="N", help="Resume on N processes of this machine (torchrun; one GPU each).")
@click.pass_context
def run_group(ctx: click.Context, resume_dir: str | None, quiet: bool, nproc: int | None) -> None:
    """Train a recipe (the commands below come from plugins); `ganzoo run RECIPE --help` lists its options.

    With no --data, the recipe trains on its embedded toy set, then prints the toy score of the
    trained model beside the untrained one's.
    """
    if ctx.invoked_subcommand is None:
        if not resume_dir:
            click.echo(ctx.get_help())
            return
        if not _launched_for(nproc):
            _train(None, Path(resume_dir), quiet=quiet)


def _slot_flag(role: str) -> str:
    return SLOT_FLAGS.get(role, "--" + role.replace("_", "-"))


def _requirement(slot) -> str:
    return "; must have " + ", ".join(f"{k}={v}" for k, v in slot.requires.items()) if slot.requires else ""


def _recipe_command(recipe) -> click.Command:
    from ganzoo.train.config import fitting_names

    params: list[click.Parameter] = []
    for role, slot in recipe.slots.items():
        params.append(click.Option([_slot_flag(role), role], default=None, metavar="NAME",
                                   help=f"{role.replace('_', ' ')} (default {slot.default}; "
                                        f"{', '.join(fitting_names(recipe, role))}{_requirement(slot)})"))
    aux = ", ".join(f"{role} ({a.default}, weight {a.weight:g})" for role, a in recipe.aux.items())
    params += [
        click.Option(["--data-mode"], type=click.Choice(list(recipe.data_modes)), help=f"default {recipe.data_modes[0]}"),
        click.Option(["--data"], metavar="PATH|toy:NAME|DATASET",
                     help=f"a folder, a toy set, a known data set or hf-hub:ORG/NAME (default {recipe.toy.get('data')})"),
        click.Option(["--aux"], multiple=True, metavar="ROLE=LOSS|WEIGHT",
                     help=f"the loss filling an auxiliary role, or its weight: {aux or 'none'}"),
        # Values are checked with the run's specification (one place for each range, one line when refused).
        click.Option(["--epochs"], metavar="N", help="train this many epochs"),
        click.Option(["--steps"], metavar="N", help="train this many steps (iterations)"),
        click.Option(["--batch-size"], metavar="N"),
        click.Option(["--image-size"], metavar="N"),
        click.Option(["--lr"], metavar="LR", help="every optimizer group's learning rate"),
        click.Option(["--set", "sets"], multiple=True, metavar="KEY=VALUE",
                     help="any setting (lr_policy=cosine, cycle=5, l1.criterion=l2) or component option "
                          "(gen.ngf=32, disc.n_layers=4, loss.gp_weight=10, data.preprocess=crop); repeatable"),
        click.Option(["--config", "config_file"], type=click.Path(exists=True, dir_okay=False),
                     help="a run specification in JSON (whole or in part): a run's config.json repeats that run"),
        click.Option(["--logger", "loggers"], multiple=True, metavar="NAME", help="switch a logger on (tensorboard)"),
        click.Option(["--out"], default="runs", show_default=True, type=click.Path(file_okay=False),
                     help="runs are written to OUT/RECIPE/NAME"),
        click.Option(["--name"], help="the run's folder name (default: the date and time)"),
        click.Option(["--overwrite"], is_flag=True, help="replace the run already in OUT/RECIPE/NAME"),
        click.Option(["--seed"], metavar="N"),
        click.Option(["--device"], help="auto (CUDA, then MPS, then CPU), cpu, cuda, cuda:1, mps"),
        click.Option(["--deterministic"], is_flag=True, default=None, help="deterministic algorithms"),
        click.Option(["--ema"], metavar="DECAY",
                     help="keep a moving average of the generators' weights (0.999; 0: off, the default); "
                          "samples, scores and exports use it"),
        # Evaluation during training (docs/evaluation.md); other settings: --set eval_features=timm:NAME, ...
        click.Option(["--eval-every"], metavar="N",
                     help="evaluate every N steps and at the end (FID, KID; toy scores on a toy set)"),
        click.Option(["--eval-metrics"], metavar="fid,kid,toy", help="what --eval-every computes"),
        click.Option(["--keep-best"], metavar="METRIC",
                     help="keep the best model so far by this metric (fid, kid, a toy score) as a bundle in RUN/best"),
        # The fast path (docs/training.md, "The fast path"); the default stays exact fp32 eager.
        click.Option(["--precision"], metavar="fp32|bf16|fp16", help="autocast precision of the forward passes"),
        click.Option(["--channels-last"], is_flag=True, default=None,
                     help="channels-last layout for the networks without instance norm"),
        click.Option(["--compile"], is_flag=False, flag_value="default", default=None, metavar="[MODE]",
                     help="torch.compile the networks: default, reduce-overhead (CUDA graphs), max-autotune"),
        click.Option(["--fast"], is_flag=True, default=None,
                     help="the best measured combination for the device (said in a note)"),
        # Several processes (docs/training.md, "Several GPUs and machines"); torchrun -m ganzoo run ... also works.
        click.Option(["--nproc"], type=int, metavar="N",
                     help="train on N processes of this machine, started by torchrun (one GPU each; DDP); "
                          "--batch-size is per process"),
        click.Option(["--sync-bn"], is_flag=True, default=None,
                     help="with several processes: batch norm statistics over all of them (GPUs only)"),
        click.Option(["--resume", "resume_dir"], type=click.Path(exists=True, file_okay=False),
                     help="continue the run in this folder"),
        click.Option(["--dry-run"], is_flag=True, help="print the run's specification and parameter counts"),
        click.Option(["--quiet"], is_flag=True, help="no progress bar"),
    ]

    def callback(**kwargs: Any) -> None:
        if kwargs["resume_dir"]:
            if not _launched_for(kwargs["nproc"]):
                _train(None, Path(kwargs["resume_dir"]), quiet=kwargs["quiet"])
            return
        spec = _build(recipe, kwargs)
        if kwargs["dry_run"]:
            click.echo(json.dumps(spec.to_json(), indent=2))
            for name, count in _parameter_counts(spec).items():
                click.echo(f"{name}: {count:,} parameters")
            return
        if _launched_for(kwargs["nproc"]):  # checked here first: a bad option is refused before any process starts
            return
        from ganzoo.train import distributed
        from ganzoo.train.run import new_run_dir

        with distributed.session(device=spec.train.device) as here:  # under torchrun: rank 0 names the folder
            run_dir = here.on_main(lambda: new_run_dir(kwargs["out"], recipe.name, kwargs["name"]))
            _train(spec, run_dir, quiet=kwargs["quiet"], overwrite=kwargs["overwrite"])

    return click.Command(recipe.name, params=params, callback=callback,
                         help=f"{recipe.summary}. Paper: {recipe.paper}")


def _parse_aux(items: tuple[str, ...]) -> tuple[dict[str, str], dict[str, float]]:
    from ganzoo.train.config import parse_value

    losses, weights = {}, {}
    for item in items:
        role, sep, value = item.partition("=")
        if not sep or not role.strip() or not value.strip():
            raise GanzooError(f"--aux expects ROLE=LOSS or ROLE=WEIGHT, got {item!r}")
        parsed = parse_value(value.strip())
        if isinstance(parsed, (int, float)) and not isinstance(parsed, bool):
            weights[role.strip()] = parsed
        else:
            losses[role.strip()] = str(parsed)
    return losses, weights


#: The options that are settings of the spec, given as text and checked as ``--set`` values are.
SETTING_OPTIONS = ("steps", "epochs", "batch_size", "image_size", "lr", "seed", "device", "ema", "precision",
                   "compile", "eval_every", "eval_metrics", "keep_best")
#: The flags that switch a setting of the spec on.
SETTING_FLAGS = ("deterministic", "channels_last", "fast", "sync_bn")


def _build(recipe, kwargs: dict[str, Any]):
    from ganzoo.train.config import build_spec, parse_sets, parse_value

    config = _read_config(Path(kwargs["config_file"])) if kwargs["config_file"] else None
    aux_losses, aux_weights = _parse_aux(kwargs["aux"])
    sets = {**aux_weights, **parse_sets(list(kwargs["sets"]))}
    sets.update({flag: True for flag in SETTING_FLAGS if kwargs[flag]})
    if kwargs["loggers"]:
        sets["loggers"] = list(kwargs["loggers"])
    settings = {k: parse_value(kwargs[k]) for k in SETTING_OPTIONS if kwargs[k] is not None}
    return build_spec(recipe.name, data=kwargs["data"], slots={role: kwargs[role] for role in recipe.slots},
                      data_mode=kwargs["data_mode"], aux=aux_losses, config=config, sets=sets, **settings)


def _read_config(path: Path) -> Any:
    from ganzoo.train.spec import json_kind

    """A ``--config`` file: a run specification in JSON (whole or in part), or a model bundle's (whose
    training configuration it repeats). Its shape and values are checked with the rest of the spec."""
    try:
        config = json.loads(path.read_text())
    except (ValueError, UnicodeDecodeError) as exc:
        raise UsageError(f"--config {path} is not valid JSON: {first_line(exc)}") from exc
    if not isinstance(config, dict):
        raise UsageError(f"--config {path} holds {json_kind(config)}, not a run configuration (a JSON object)")
    if config.get("format") == "ganzoo-bundle":  # a model bundle: repeat its training
        config = (config.get("training") or {}).get("config")
        if not config:
            raise UsageError(f"--config {path} is a model bundle without a training configuration (a converted model)")
    return config


def _parameter_counts(spec) -> dict[str, int]:
    from ganzoo.train.build import build_networks

    nets = build_networks(spec, device="meta", init=False)
    return {name: sum(p.numel() for p in net.parameters()) for name, net in nets.items()}


def _launched_for(nproc: int | None) -> bool:
    """With ``--nproc N`` (in the command as typed, not in a process torchrun started): run this very
    command on N processes through torchrun, and say so (True)."""
    import sys

    if nproc is None or "RANK" in os.environ:
        return False
    from ganzoo.train.distributed import launch

    argv = sys.argv[1:]
    if "--nproc" not in argv and not any(a.startswith("--nproc=") for a in argv):
        raise UsageError("--nproc works from the ganzoo command; from Python, start your script with "
                         "torchrun --nproc_per_node N")
    launch(nproc, argv)
    return True


def _train(spec, run_dir: Path, *, quiet: bool, overwrite: bool = False) -> None:
    from ganzoo.train.run import fit, load_spec

    def announce(trainer) -> None:
        if spec is None and trainer.start_step == 0:
            click.echo(f"{run_dir} has no checkpoint yet: starting it over ({trainer.total_steps} steps)")
        elif spec is None:
            click.echo(f"resuming {run_dir} at step {trainer.start_step} of {trainer.total_steps}")
        else:
            parts = " / ".join(c.name for c in spec.components.values())
            click.echo(f"training {spec.recipe}: {parts} on {spec.data.source} for {trainer.total_steps} steps "
                       f"on {trainer.device}")
            for note in spec.notes:
                click.echo(f"note: {note}")
        if trainer.world.distributed:
            lrs = ", ".join(f"{group} {trainer.spec.optimizers[group].lr:g}" for group in trainer.optimizers)
            click.echo(f"distributed: {trainer.world.describe()}; batch {trainer.batch_size} per process, "
                       f"{trainer.total_batch_size} in all; learning rate {lrs} (as given, not scaled)")

    run = fit(load_spec(run_dir) if spec is None else spec, run_dir, resume=spec is None, overwrite=overwrite,
              progress=not quiet, announce=announce)
    if os.environ.get("RANK", "0") != "0":
        return  # under torchrun, rank 0 says what the run left
    click.echo(f"samples: {run_dir / 'samples'}  (overview: {run_dir / 'index.html'})")
    click.echo(f"checkpoint: {run_dir / 'checkpoints'}")
    _say_evaluation(run_dir)
    if "trained" in run.scores and "untrained" in run.scores:
        from ganzoo.train.config import get_recipe

        targets = get_recipe(run.spec.recipe).toy_targets if run.spec.data.toy else {}
        click.echo(score_table(run.spec.data.source, run.scores["untrained"], run.scores["trained"], targets=targets))


def _say_evaluation(run_dir: Path) -> None:
    """With --eval-every: the last evaluation's headline numbers, and with --keep-best where the best is."""
    from ganzoo.metrics.evaluate import flat_metrics, read_metrics

    record = read_metrics(run_dir)
    if record is None:
        return
    flat = {k: v for k, v in flat_metrics(record.get("results", {})).items() if not k.startswith("kid_std_")}
    click.echo(f"evaluation at step {record.get('step')}: " + ", ".join(f"{k} {v:.4g}" for k, v in flat.items())
               + f"  ({run_dir / 'metrics.json'})")
    best = record.get("best")
    if best:
        click.echo(f"best {best['metric']}: {best['value']:.4g} at step {best['step']}: {run_dir / 'best'}")


def score_table(source: str, before: dict[str, float], after: dict[str, float], *,
                targets: Mapping[str, float] | None = None) -> str:
    """The toy scores before and after training, one per line with what it means (ganzoo.metrics.toy),
    and where the recipe states a target for its toy schedule, whether the run met it."""
    from ganzoo.metrics.toy import SCORES

    known = [k for k in SCORES if k in after and k in before]
    width = max(len(SCORES[k].label) for k in known)
    lines = [f"toy scores on {source}, untrained -> trained:"]
    for key in known:
        score = SCORES[key]
        better = "higher" if score.higher_is_better else "lower"
        target = (targets or {}).get(key)
        verdict = ""
        if target is not None:
            met = after[key] >= target if score.higher_is_better else after[key] <= target
            verdict = f"[target {'>=' if score.higher_is_better else '<='} {score.format(target)}: {'met' if met else 'MISSED'}] "
        lines.append(f"  {score.label:<{width}}  {score.format(before[key]):>9} -> {score.format(after[key]):<9}  "
                     f"{verdict}({better} is better) {score.meaning}")
    return "\n".join(lines)
