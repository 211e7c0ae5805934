"""The moving average of the generators' weights (``--ema``): the update with its warm-up, the swap into
the live networks, buffers taken from the live network, the checkpoint files and an exact resume, the
averaged weights in samples, scores and everything a run folder exports, and the fast path."""

import json

import pytest
import torch
from safetensors.torch import load_file
from torch import nn

import ganzoo
from ganzoo.train import fast
from ganzoo.train.checkpoint import CheckpointError, averaged_file, latest_checkpoint, load_state
from ganzoo.train.ema import WeightAverage
from ganzoo.train.engine import Trainer, TrainingDiverged, TrainingInterrupted
from ganzoo.train.run import resume
from tests.train.test_engine import final_weights
from tests.train.test_run import at_iteration, ctrl_c, tiny_run
from tests.train.tiny import tiny_spec


class ConvBN(nn.Module):
    """A convolution, batch norm (running statistics and a counter as buffers) and a bias-free linear."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(2, 3, 3, padding=1)
        self.bn = nn.BatchNorm2d(3)
        self.head = nn.Linear(3, 1, bias=False)

    def forward(self, x):
        return self.head(self.bn(self.conv(x)).mean((2, 3)))


def nudge(net, *, seed):
    """Move every parameter (as a training step would) and the batch-norm statistics (a forward pass)."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in net.parameters():
            p.add_(torch.randn(p.shape, generator=g))
    net.train()
    net(torch.randn(4, 2, 5, 5, generator=g))


def snapshot(net):
    return {k: v.detach().clone() for k, v in net.state_dict().items()}


# -- the average -----------------------------------------------------------------------------------


def test_three_updates_match_a_hand_computation_with_the_warm_up():
    net = nn.Linear(1, 1, bias=False)
    with torch.no_grad():
        net.weight.fill_(1.0)
    average = WeightAverage({"gen": net}, decay=0.2)
    shadow, expected_decays = 1.0, []
    for n, live in enumerate([3.0, -2.0, 5.0]):
        with torch.no_grad():
            net.weight.fill_(live)
        decay = min(0.2, (1 + n) / (10 + n))  # 0.1, 2/11, then capped at 0.2 (3/12 = 0.25 > 0.2)
        expected_decays.append(decay)
        assert average.current_decay() == pytest.approx(decay)
        average.update()
        shadow = decay * shadow + (1 - decay) * live
    assert expected_decays[2] == 0.2 and expected_decays[0] == pytest.approx(0.1)
    assert average.updates == 3
    assert average.state_dicts()["gen"]["weight"].item() == pytest.approx(shadow, abs=1e-6)
    assert net.weight.item() == 5.0, "the live weights are not touched"


def test_the_swap_holds_the_average_and_restores_the_live_weights_bit_for_bit_also_on_an_exception():
    net = ConvBN()
    average = WeightAverage({"gen": net}, decay=0.9)
    for seed in range(3):
        nudge(net, seed=seed)
        average.update()
    live = snapshot(net)
    shadow = {k: v.clone() for k, v in average.state_dicts()["gen"].items()}
    addresses = [p.data_ptr() for p in net.parameters()]
    assert not torch.equal(shadow["conv.weight"], live["conv.weight"])
    with average.swapped():
        inside = snapshot(net)
        assert [p.data_ptr() for p in net.parameters()] == addresses, "copied in place, never rebound"
    assert all(torch.equal(inside[k], shadow[k]) for k in shadow)
    assert all(torch.equal(v, net.state_dict()[k]) for k, v in live.items())

    with pytest.raises(RuntimeError, match="boom"):
        with average.swapped():
            with torch.no_grad():
                net.conv.weight.mul_(0)
            raise RuntimeError("boom")
    assert all(torch.equal(v, net.state_dict()[k]) for k, v in live.items())


def test_buffers_are_the_live_networks_not_averaged():
    net = ConvBN()
    average = WeightAverage({"gen": net}, decay=0.9)
    for seed in range(3):
        nudge(net, seed=seed)
        average.update()
    exported = average.state_dicts()["gen"]
    assert list(exported) == list(net.state_dict())  # a whole state_dict: it loads strictly
    for key in ("bn.running_mean", "bn.running_var", "bn.num_batches_tracked"):
        assert torch.equal(exported[key], net.state_dict()[key]), key
    assert int(exported["bn.num_batches_tracked"]) == 3
    with average.swapped():
        assert torch.equal(net.bn.running_mean, exported["bn.running_mean"])


def test_the_swap_is_seen_by_a_compiled_network_without_recompiling():
    torch.manual_seed(0)
    net = ConvBN().eval()
    twin = ConvBN().eval()  # eager, to compute what the averaged network gives
    average = WeightAverage({"gen": net}, decay=0.5)
    nudge(net, seed=1)
    average.update()
    net.eval()
    net.compile(backend="aot_eager")  # AOT autograd lifts the parameters, as inductor does
    x = torch.randn(2, 2, 5, 5)
    with torch.no_grad():
        live_out = net(x)
        compiled = fast.compilations()
        with average.swapped():
            averaged_out = net(x)
        assert torch.equal(net(x), live_out)
    assert fast.compilations() == compiled, "the swap made the compiled network recompile"
    twin.load_state_dict(average.state_dicts()["gen"])
    with torch.no_grad():
        assert torch.allclose(averaged_out, twin(x), atol=1e-6)
    assert not torch.allclose(averaged_out, live_out)


# -- in the engine ---------------------------------------------------------------------------------


@pytest.mark.parametrize("recipe, averaged", [("cyclegan", ["gen_ab", "gen_ba"]), ("pix2pix", ["gen"]),
                                              ("dcgan", ["gen"])])
def test_the_networks_of_the_inference_map_are_averaged(recipe, averaged, tmp_path):
    spec = tiny_spec(recipe, sets={"ema": 0.9})
    assert list(spec.ema_networks()) == averaged
    trainer = Trainer(spec, tmp_path / "run", progress=False)
    assert list(trainer.ema.nets) == averaged
    path = trainer.save_checkpoint(1)
    assert sorted(p.name for p in path.glob("*.ema.safetensors")) == [averaged_file(n) for n in averaged]


def test_samples_and_scores_use_the_average_and_training_the_live_weights(tmp_path, monkeypatch):
    """The fast path too: channels-last (pix2pix's U-Net has batch norm) and bf16."""
    spec = tiny_spec("pix2pix", sets={"ema": 0.5, "gen.num_downs": 5, "device": "cpu", "channels_last": True,
                                      "precision": "bf16"})
    trainer = Trainer(spec, tmp_path / "run", progress=False)
    assert list(trainer.ema.nets) == ["gen"]
    gen = trainer.nets["gen"]
    assert trainer.ema.state_dicts()["gen"]["model.model.0.weight"].is_contiguous(memory_format=torch.channels_last)
    batches = trainer.device_batches(0)
    for _ in range(2):
        trainer.iteration(next(batches))
    assert trainer.ema.updates == 2
    live, averaged = snapshot(gen), {k: v.clone() for k, v in trainer.ema.state_dicts()["gen"].items()}
    assert not torch.equal(live["model.model.0.weight"], averaged["model.model.0.weight"])
    seen = {}

    def record(what, original):
        def wrapper(*args, **kwargs):
            seen[what] = snapshot(gen)
            return original(*args, **kwargs)
        return wrapper

    monkeypatch.setattr(trainer.step, "sample_rows", record("samples", trainer.step.sample_rows))
    monkeypatch.setattr(trainer.step, "inference", record("score", trainer.step.inference))
    trainer.save_samples(2)
    trainer.score()
    for what in ("samples", "score"):
        assert all(torch.equal(seen[what][k], averaged[k]) for k in averaged), what
    assert all(torch.equal(v, gen.state_dict()[k]) for k, v in live.items()), "live weights restored"


def test_a_non_finite_average_is_never_checkpointed(tmp_path):
    trainer = Trainer(tiny_spec("pix2pix", sets={"ema": 0.5, "gen.num_downs": 5}), tmp_path / "run", progress=False)
    trainer.ema.state_dicts()["gen"]["model.model.0.weight"].fill_(float("nan"))  # the shadow itself
    with pytest.raises(TrainingDiverged, match=r"network gen \(moving average\) has non-finite values in model.model.0.weight"):
        trainer.save_checkpoint(1)
    assert latest_checkpoint(tmp_path / "run" / "checkpoints") is None


def test_without_ema_no_averaged_files_nor_state_are_written(tmp_path):
    run = tiny_run(tmp_path, steps=2)
    assert run.spec.train.ema == 0 and run.spec.ema_networks() == ()
    latest = latest_checkpoint(run.run_dir / "checkpoints")
    assert sorted(p.name for p in latest.iterdir()) == ["disc.safetensors", "gen.safetensors", "training_state.pt"]
    assert "ema" not in load_state(latest)
    assert "ema" not in run.model.config["training"]


@pytest.fixture(scope="module")
def ema_run(tmp_path_factory):
    """A pix2pix run of 4 steps with ema 0.5 (a short horizon, so the average is far from the start)."""
    return tiny_run(tmp_path_factory.mktemp("ema"), name="whole", steps=4,
                    sets={"ema": 0.5, "deterministic": True, "checkpoint_every": 2})


def test_a_resumed_run_equals_the_uninterrupted_one_with_its_average(ema_run, tmp_path, monkeypatch):
    undo = at_iteration(monkeypatch, 2, ctrl_c)
    with pytest.raises(TrainingInterrupted, match="interrupted at step 2"):
        tiny_run(tmp_path, name="cut", steps=4, sets={"ema": 0.5, "deterministic": True, "checkpoint_every": 2})
    undo()
    cut = tmp_path / "pix2pix" / "cut"
    assert load_state(latest_checkpoint(cut / "checkpoints"))["ema"] == {"updates": 2}
    resume(cut, progress=False)
    whole, resumed = final_weights(ema_run.run_dir), final_weights(cut)
    assert sorted(whole) == ["disc.safetensors", "gen.ema.safetensors", "gen.safetensors"] == sorted(resumed)
    for name in whole:
        for key in whole[name]:
            assert torch.equal(whole[name][key], resumed[name][key]), f"{name}:{key} differs after resume"


def test_a_run_folder_exports_the_average(ema_run, tmp_path):
    latest = latest_checkpoint(ema_run.run_dir / "checkpoints")
    averaged, live = load_file(str(latest / averaged_file("gen"))), load_file(str(latest / "gen.safetensors"))
    model = ganzoo.Model.from_pretrained(ema_run.run_dir)
    loaded = model.network("gen").state_dict()
    params = [k for k, _ in model.network("gen").named_parameters()]
    assert all(torch.equal(loaded[k], averaged[k]) for k in averaged)
    assert any(not torch.equal(averaged[k], live[k]) for k in params), "the average equals the live weights"
    assert model.config["training"]["ema"] == {"decay": 0.5, "networks": ["gen"]}
    assert model.config["training"]["config"]["train"]["ema"] == 0.5
    bundle = model.save_pretrained(tmp_path / "bundle")  # what `ganzoo push` uploads
    exported = load_file(str(bundle / "gen.safetensors"))
    assert all(torch.equal(exported[k], averaged[k]) for k in averaged)
    disc = load_file(str(latest / "disc.safetensors"))  # not averaged: exported as trained
    assert all(torch.equal(v, disc[k]) for k, v in load_file(str(bundle / "disc.safetensors")).items())
    card = (bundle / "README.md").read_text()
    assert "--ema 0.5" in card and "moving average" in card


def test_a_missing_average_is_named_on_resume_and_on_export(ema_run, tmp_path):
    import shutil

    run_dir = tmp_path / "copy"
    shutil.copytree(ema_run.run_dir, run_dir)
    latest = latest_checkpoint(run_dir / "checkpoints")
    (latest / averaged_file("gen")).unlink()
    with pytest.raises(CheckpointError, match="no averaged weights for 'gen' .gen.ema.safetensors."):
        Trainer(ema_run.spec, run_dir, progress=False).resume()
    with pytest.raises(ganzoo.GanzooError, match="no averaged weights for 'gen'.*ema=0.5"):
        ganzoo.Model.from_pretrained(run_dir).network("gen")


def test_a_mis_shaped_average_is_refused_naming_the_tensor(ema_run, tmp_path):
    import shutil

    from safetensors.torch import save_file

    run_dir = tmp_path / "copy"
    shutil.copytree(ema_run.run_dir, run_dir)
    path = latest_checkpoint(run_dir / "checkpoints") / averaged_file("gen")
    tensors = load_file(str(path))
    tensors["model.model.0.weight"] = tensors["model.model.0.weight"][:1].contiguous()
    save_file(tensors, str(path))
    with pytest.raises(CheckpointError, match=r"gen.ema.safetensors does not fit gen: mis-shaped \[.model.model.0.weight"):
        Trainer(ema_run.spec, run_dir, progress=False).resume()


def test_ema_is_a_setting_of_ganzoo_train_and_of_config_json(ema_run):
    config = json.loads((ema_run.run_dir / "config.json").read_text())
    assert config["train"]["ema"] == 0.5 and ema_run.spec.train.ema == 0.5
