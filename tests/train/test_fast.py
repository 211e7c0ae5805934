"""The fast path: mixed precision, channels-last, compiled networks, ``--fast``, and checkpoints that the
fast and the plain path read from each other. Tiny sizes, on the CPU (bf16 and fp16 autocast exist there)."""

import dataclasses
import json
import math

import pytest
import torch
from click.testing import CliRunner

from ganzoo.cli import cli
from ganzoo.errors import GanzooError
from ganzoo.losses.adversarial import LSGANLoss, WGANGPLoss
from ganzoo.losses.reconstruction import ReconstructionLoss
from ganzoo.train import fast
from ganzoo.train.engine import Trainer
from ganzoo.train.run import load_spec
from tests.train.tiny import tiny_spec

CPU = {"device": "cpu"}


def first_logs(spec, tmp_path, name):
    """The losses of a run's first iteration, as floats."""
    trainer = Trainer(spec, tmp_path / name, progress=False)
    logs = trainer.iteration(next(trainer.device_batches(0)))
    return trainer, {k: float(v) for k, v in logs.items()}


@pytest.mark.parametrize("precision, tolerance", [("bf16", 0.05), ("fp16", 0.01)])
@pytest.mark.parametrize("recipe", ["pix2pix", "cyclegan"])
def test_reduced_precision_steps_give_the_fp32_losses_of_the_first_step(recipe, precision, tolerance, tmp_path):
    _, exact = first_logs(tiny_spec(recipe, sets=CPU), tmp_path, "fp32")
    trainer, mixed = first_logs(tiny_spec(recipe, sets={**CPU, "precision": precision}), tmp_path, precision)
    assert mixed.keys() == exact.keys()
    for key, value in mixed.items():
        assert math.isfinite(value), (key, value)
        assert value == pytest.approx(exact[key], rel=tolerance, abs=tolerance), (key, value, exact[key])
    assert sorted(trainer.precision.scalers) == (sorted(trainer.optimizers) if precision == "fp16" else [])


def test_losses_reduce_in_fp32_and_the_penalty_runs_its_critic_in_fp32():
    seen = []

    def critic(x):
        seen.append((x.dtype, torch.is_autocast_enabled("cpu")))
        return (x * 2).sum(dim=(1, 2, 3))

    real, fake = torch.randn(2, 3, 8, 8), torch.randn(2, 3, 8, 8)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        logits = torch.nn.functional.linear(torch.randn(2, 4), torch.randn(5, 4))
        assert logits.dtype == torch.bfloat16
        assert LSGANLoss().discriminator_loss(logits, logits).dtype == torch.float32
        assert ReconstructionLoss()(real.bfloat16(), fake.bfloat16()).dtype == torch.float32
        penalty = WGANGPLoss().penalty(critic, real.bfloat16(), fake.bfloat16())
    assert penalty.dtype == torch.float32 and seen == [(torch.float32, False)]


def test_fp16_scaler_state_round_trips_through_a_checkpoint(tmp_path):
    spec = tiny_spec("pix2pix", sets={**CPU, "precision": "fp16"})
    trainer = Trainer(spec, tmp_path / "run", progress=False)
    trainer.iteration(next(trainer.device_batches(0)))
    trainer.precision.scalers["G"].update(new_scale=1234.0)
    trainer.precision.scalers["D"].update(new_scale=77.0)
    trainer.save_checkpoint(1)
    resumed = Trainer(spec, tmp_path / "run", progress=False)
    assert resumed.resume() == 1
    assert resumed.precision.scalers["G"].get_scale() == 1234.0
    assert resumed.precision.scalers["D"].get_scale() == 77.0


FAST = {**CPU, "precision": "bf16", "channels_last": True, "fast": True}
PLAIN = {**CPU, "precision": "fp32", "channels_last": False, "fast": False}


@pytest.mark.parametrize("first, second", [(FAST, PLAIN), (PLAIN, FAST)], ids=["fast-then-plain", "plain-then-fast"])
@pytest.mark.parametrize("recipe", ["pix2pix", "cyclegan"])  # cyclegan: its image pools hold bf16 fakes
def test_a_checkpoint_of_one_path_resumes_in_the_other(recipe, first, second, tmp_path):
    run = tmp_path / "run"
    Trainer(tiny_spec(recipe, steps=2, sets=first), run, progress=False).run_training()
    spec = load_spec(run)
    other = dataclasses.replace(spec, train=dataclasses.replace(spec.train, **{k: v for k, v in second.items()
                                                                                  if k != "device"}))
    trainer = Trainer(other, run, progress=False)
    assert trainer.resume() == 2
    logs = trainer.iteration(next(trainer.device_batches(2)))
    assert all(math.isfinite(float(v)) for v in logs.values()), logs


def test_the_fast_path_keeps_the_state_dict_keys(tmp_path):
    plain = Trainer(tiny_spec("pix2pix", sets=CPU), tmp_path / "plain", progress=False)
    compiled = Trainer(tiny_spec("pix2pix", sets={**FAST, "compile": "default"}), tmp_path / "fast", progress=False)
    for name, net in plain.nets.items():
        assert list(compiled.nets[name].state_dict()) == list(net.state_dict())


def is_channels_last(net):
    weights = [m.weight for m in net.modules() if isinstance(m, torch.nn.Conv2d)]
    return all(w.is_contiguous(memory_format=torch.channels_last) and not w.is_contiguous() for w in weights)


def test_channels_last_goes_to_the_networks_without_instance_norm_and_the_notes_say_which(tmp_path):
    # CycleGAN with batch-norm discriminators: the instance-norm generators keep the contiguous layout.
    spec = tiny_spec("cyclegan", sets={**CPU, "channels_last": True, "disc.norm": "batch"})
    note = next(n for n in spec.notes if n.startswith("channels_last"))
    assert note.startswith("channels_last for disc_a, disc_b; not for gen_ab, gen_ba (instance norm")
    trainer = Trainer(spec, tmp_path / "run", progress=False)
    assert trainer.channels_last == ["disc_a", "disc_b"]
    assert is_channels_last(trainer.nets["disc_a"]) and not is_channels_last(trainer.nets["gen_ab"])
    batch = next(trainer.device_batches(0))
    assert batch["A"].is_contiguous(memory_format=torch.channels_last)
    assert all(math.isfinite(float(v)) for v in trainer.iteration(batch).values())
    plain = tiny_spec("cyclegan", sets=CPU)
    assert not any(n.startswith("channels_last") for n in plain.notes)


def dry_run(*args):
    result = CliRunner().invoke(cli, ["run", "pix2pix", "--device", "cpu", *args, "--dry-run"])
    assert result.exit_code == 0, result.output
    config = json.loads(result.output[:result.output.rindex("}") + 1])
    return config, result.output


def test_fast_on_the_cpu_says_what_it_picked_and_an_explicit_setting_wins():
    config, _ = dry_run("--fast")
    assert config["train"]["fast"] is True
    note = next(n for n in config["notes"] if n.startswith("--fast on cpu"))
    from ganzoo.train.config import MEASURED_SLOWER, fast_choices

    picked = fast_choices("cpu")  # the CPU's table entry, bf16 only where this CPU computes it natively
    assert picked["adam"] == "fused"
    for key, value in picked.items():
        assert f"{key}={json.dumps(value)}" in note
        if key in config["train"]:
            assert config["train"][key] == value
    assert all(option in note for option in MEASURED_SLOWER["cpu"]), note
    explicit, _ = dry_run("--fast", "--precision", "fp16", "--compile")
    assert explicit["train"]["precision"] == "fp16" and explicit["train"]["compile"] == "default"
    default, _ = dry_run()
    assert {k: default["train"][k] for k in ("precision", "channels_last", "compile", "fast")} == \
        {"precision": "fp32", "channels_last": False, "compile": None, "fast": False}
    assert not any("--fast" in n for n in default["notes"])


def test_fast_keeps_fp32_on_a_cpu_without_native_bf16(monkeypatch):
    from ganzoo.train import config

    monkeypatch.setattr(config, "_cpu_has_bf16", lambda: False)
    assert "precision" not in config.fast_choices("cpu")
    monkeypatch.setattr(config, "_cpu_has_bf16", lambda: True)
    assert config.fast_choices("cpu")["precision"] == "bf16"


def test_bf16_asked_for_on_a_cpu_that_emulates_it_is_warned_about(monkeypatch):
    from ganzoo.train import config

    def warned(*args):
        return [n for n in dry_run(*args)[0]["notes"] if "emulated" in n]

    monkeypatch.setattr(config, "_cpu_has_bf16", lambda: False)
    [note] = warned("--precision", "bf16")
    assert "slower" in note and "--precision fp32" in note
    assert not warned() and not warned("--precision", "fp16") and not warned("--fast")
    monkeypatch.setattr(config, "_cpu_has_bf16", lambda: True)
    assert not warned("--precision", "bf16")


@pytest.mark.parametrize("args, key", [(["--precision", "fp8"], "precision"), (["--compile", "fastest"], "compile"),
                                       (["--set", "channels_last=2"], "channels_last")])
def test_bad_fast_path_values_are_one_line_usage_errors(args, key):
    result = CliRunner().invoke(cli, ["run", "pix2pix", *args, "--dry-run"])
    assert result.exit_code == 2, result.output
    errors = [line for line in result.output.splitlines() if line.startswith("Error")]
    assert len(errors) == 1 and f"{key}=" in errors[0], result.output


def test_a_config_json_without_the_fast_path_fields_loads_as_plain(tmp_path):
    from ganzoo.train.spec import from_json

    doc = tiny_spec("pix2pix").to_json()
    for key in ("precision", "channels_last", "compile", "fast"):
        del doc["train"][key]
    train = from_json(doc).train
    assert (train.precision, train.channels_last, train.compile, train.fast) == ("fp32", False, None, False)


def test_the_bundle_translates_and_samples_in_reduced_precision(tmp_path):
    import ganzoo

    run = ganzoo.train("pix2pix", steps=1, out=tmp_path, name="p", progress=False,
                       sets={"gen.ngf": 8, "disc.ndf": 8, "score_samples": 4, "device": "cpu"})
    model = run.model
    x = torch.rand(2, 3, 32, 32) * 2 - 1
    exact = model.translate(x)
    for options in ({"precision": "bf16"}, {"precision": "fp16"}, {"channels_last": True}):
        y = model.translate(x, **options)
        assert y.dtype == torch.float32 and y.is_contiguous() and y.shape == exact.shape
        assert (y - exact).abs().max() < 0.1, options
    with pytest.raises(GanzooError, match="precision must be one of"):
        model.translate(x, precision="fp8")
    dcgan = ganzoo.train("dcgan", steps=1, out=tmp_path, name="d", progress=False,
                         sets={"gen.ngf": 8, "disc.ndf": 8, "score_samples": 4, "batch_size": 4, "device": "cpu"})
    sampled = dcgan.model.sample(3, precision="bf16")
    assert sampled.dtype == torch.float32 and (sampled - dcgan.model.sample(3)).abs().max() < 0.1


@pytest.mark.slow
def test_the_compiled_step_gives_the_eager_losses_and_does_not_recompile_after_warm_up(tmp_path):
    # Dropout off: compiled code draws its random numbers differently from eager.
    sets = {**CPU, "gen.dropout": False}

    def first_losses(trainer, batches):
        # the warm-up: the first steps compile (the frozen discriminator is a second graph)
        return [{k: float(v) for k, v in trainer.iteration(next(batches)).items()} for _ in range(2)]

    # One trainer after the other: each starts from the run's seed (random flips of the data included).
    eager = Trainer(tiny_spec("pix2pix", steps=10, sets=sets), tmp_path / "eager", progress=False)
    want = first_losses(eager, eager.device_batches(0))
    compiled = Trainer(tiny_spec("pix2pix", steps=10, sets={**sets, "compile": "default"}), tmp_path / "compiled",
                       progress=False)
    compiled_batches = compiled.device_batches(0)
    got = first_losses(compiled, compiled_batches)
    for step_got, step_want in zip(got, want):
        assert step_got == pytest.approx(step_want, rel=1e-3, abs=1e-4)
    assert fast.compilations() > 0
    before = fast.compilations()
    for _ in range(3):
        compiled.iteration(next(compiled_batches))
    assert fast.compilations() == before, "recompiled after the warm-up"


@pytest.mark.parametrize("loss, sets, eager", [
    ("wgan-gp", {}, ["disc"]),
    ("bce", {"loss.r1_weight": 1.0}, ["disc"]),
    ("bce", {"loss.r1_weight": 0.0}, []),  # the DCGAN toy takes R1; without it nothing stays eager
    ("wgan-gp", {"loss.gp_weight": 0.0}, []),
])
def test_compile_leaves_eager_a_critic_that_the_penalty_differentiates_twice(loss, sets, eager):
    # torch.compile's AOT autograd has no double backward: a compiled critic would fail at the first penalty.
    from ganzoo.api import create_loss

    spec = tiny_spec("dcgan", loss=loss, sets={**sets, "compile": "default"})
    adversarial = create_loss(spec.components["loss"].name, **spec.components["loss"].options)
    assert [n for n in spec.networks if n not in fast.networks_to_compile(spec.networks, adversarial)] == eager
    notes = [n for n in spec.notes if n.startswith("compile for")]
    assert notes == ([f"compile for gen; not for disc (the loss's {adversarial.penalty_name} differentiates it "
                      "twice, which torch.compile cannot)"] if eager else [])
    assert not [n for n in tiny_spec("dcgan", loss=loss, sets=sets).notes if n.startswith("compile for")]


@pytest.mark.slow
def test_a_compiled_run_with_a_gradient_penalty_trains(tmp_path):
    trainer = Trainer(tiny_spec("dcgan", loss="wgan-gp", steps=2, sets={**CPU, "compile": "default"}), tmp_path,
                      progress=False)
    batches = trainer.device_batches(0)
    for _ in range(2):
        logs = trainer.iteration(next(batches))
    assert all(math.isfinite(float(v)) for v in logs.values())
    assert trainer.nets["gen"]._compiled_call_impl is not None and trainer.nets["disc"]._compiled_call_impl is None


@pytest.mark.slow
def test_bf16_training_reaches_the_fp32_toy_score(tmp_path):
    from ganzoo.train.config import EMULATED_BF16_SLOWDOWN, _cpu_has_bf16
    from tests.test_toy_runs import toy_run

    if not _cpu_has_bf16():  # the numbers are the same there; the first-step tests above check them
        pytest.skip(f"this CPU emulates bf16 (about {EMULATED_BF16_SLOWDOWN}x slower than fp32): a toy-length "
                    "bf16 run would take tens of minutes")
    # A shorter schedule than the toy's, the same for both: what is compared is bf16 against fp32.
    short = ("--device", "cpu", "--steps", "600")
    fp32, _ = toy_run(tmp_path / "fp32", "pix2pix", *short)
    bf16, _ = toy_run(tmp_path / "bf16", "pix2pix", *short, "--precision", "bf16")
    before, exact, mixed = (s["shape_accuracy"] for s in (bf16["untrained"], fp32["trained"], bf16["trained"]))
    assert mixed > before + 0.5, f"shape accuracy {before} -> {mixed}"
    assert mixed > exact - 0.1, f"bf16 {mixed} against fp32 {exact}"
