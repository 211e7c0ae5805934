"""CUT and FastCUT (plugins/ganzoo_cut): PatchNCE against a direct computation, the projector built
eagerly from the generator's taps, kept in checkpoints and out of bundles, and the two recipes' settings."""

import math

import pytest
import torch
from safetensors.torch import load_file

import ganzoo
from ganzoo.errors import GanzooError
from ganzoo.train.engine import Trainer, TrainingInterrupted
from ganzoo.train.run import load_spec
from ganzoo_cut.nce import PatchNCELoss, PatchSampler
from tests.train.tiny import ctrl_c_after, tiny_spec


def direct_patch_nce(query, key, temperature):
    """The loss written out patch by patch: the positive first, then every key of the same image, the
    key at the query's own place standing at -10 (the reference masks it so)."""
    losses = []
    for b in range(query.shape[0]):
        for i in range(query.shape[1]):
            positive = float(query[b, i] @ key[b, i])
            negatives = [-10.0 if j == i else float(query[b, i] @ key[b, j]) for j in range(query.shape[1])]
            logits = [v / temperature for v in [positive, *negatives]]
            top = max(logits)
            losses.append(-(logits[0] - top - math.log(sum(math.exp(v - top) for v in logits))))
    return sum(losses) / len(losses)


def unit(*shape, seed=0):
    torch.manual_seed(seed)
    return torch.nn.functional.normalize(torch.randn(*shape, dtype=torch.float64), dim=-1)


@pytest.mark.parametrize("temperature", [0.07, 0.5])
def test_patch_nce_matches_the_direct_computation(temperature):
    query, key = unit(2, 5, 4, seed=1), unit(2, 5, 4, seed=2)
    got = PatchNCELoss(temperature=temperature)(query, key)
    assert got.item() == pytest.approx(direct_patch_nce(query, key, temperature), rel=1e-5)


def test_patch_nce_takes_the_batch_size_from_its_tensors_and_negatives_from_the_same_image():
    query, key = unit(3, 6, 8, seed=3), unit(3, 6, 8, seed=4)
    loss = PatchNCELoss()
    per_image = [loss(query[b:b + 1], key[b:b + 1]).item() for b in range(3)]
    assert loss(query, key).item() == pytest.approx(sum(per_image) / 3, rel=1e-6)
    assert loss(query, query).item() < loss(query, key).item(), "a query matching its key scores better"


def test_patch_nce_moves_the_queries_only():
    query, key = unit(1, 4, 3).requires_grad_(), unit(1, 4, 3, seed=5).requires_grad_()
    PatchNCELoss()(query, key).backward()
    assert query.grad is not None and query.grad.abs().sum() > 0 and key.grad is None


def test_patch_nce_refuses_tensors_that_do_not_line_up():
    with pytest.raises(GanzooError, match="one shape"):
        PatchNCELoss()(torch.zeros(2, 4, 3), torch.zeros(2, 5, 3))


def test_the_projector_is_built_eagerly_from_the_generators_taps():
    gen = ganzoo.create_generator("resnet9", ngf=8, antialias=True)
    projector = PatchSampler(networks={"gen": gen}, layers="input,down1,down2,block1,block5", width=16, patches=10)
    widths = [getattr(projector, f"mlp_{i}")[0].in_features for i in range(5)]
    assert widths == [3, 16, 32, 32, 32], "the channels of each tap, read before any batch"
    assert not any(isinstance(p, torch.nn.parameter.UninitializedParameter) for p in projector.parameters())
    features = gen.encode(torch.randn(2, 3, 32, 32), list(projector.layers))
    keys, positions = projector(features)
    queries, again = projector(features, positions=positions)
    assert [k.shape for k in keys] == [(2, 10, 16)] * 5
    assert all(torch.equal(a, b) for a, b in zip(positions, again)), "the queries take the keys' places"
    assert all(torch.allclose(k.norm(dim=2), torch.ones(2, 10)) for k in keys)
    assert all(torch.allclose(q, k) for q, k in zip(queries, keys))


def test_a_layer_with_fewer_positions_gives_them_all():
    gen = ganzoo.create_generator("resnet9", ngf=8)
    projector = PatchSampler(networks={"gen": gen}, layers=["block1"], patches=256)
    (keys,), (where,) = projector(gen.encode(torch.randn(1, 3, 16, 16), ["block1"]))
    assert keys.shape[1] == 16 and sorted(where.tolist()) == list(range(16))


def test_the_projector_names_what_is_wrong():
    gen = ganzoo.create_generator("resnet9", ngf=8)
    with pytest.raises(GanzooError, match="no tap 'down5'.*its taps: input, stem"):
        PatchSampler(networks={"gen": gen}, layers="down5")
    with pytest.raises(GanzooError, match="needs a generator with named encoder taps"):
        PatchSampler(networks={"gen": torch.nn.Conv2d(3, 3, 1)}, layers="input")


def test_the_recipes_carry_the_papers_settings():
    cut, fast = ganzoo.get_recipe("cut"), ganzoo.get_recipe("fastcut")
    assert cut.slots["generator"].options["antialias"] is True and cut.defaults["init_type"] == "xavier"
    assert cut.slots["projector"].options == {"layers": "input,down1,down2,block1,block5", "width": 256,
                                              "patches": 256}
    assert (cut.aux["nce"].weight, cut.hparams) == (1.0, {"nce_idt": True, "flip_equivariance": False})
    assert (fast.aux["nce"].weight, fast.hparams) == (10.0, {"nce_idt": False, "flip_equivariance": True})
    assert (cut.defaults["epochs"], fast.defaults["epochs"], fast.defaults["decay_start"]) == (400, 200, 0.75)
    assert "pool_size" not in cut.hparams, "CUT keeps no image pool"


@pytest.mark.parametrize("recipe,logged", [("cut", {"D", "G_gan", "NCE", "NCE_Y"}), ("fastcut", {"D", "G_gan", "NCE"})])
def test_one_step_updates_the_generator_and_the_projector(recipe, logged, tmp_path):
    trainer = Trainer(tiny_spec(recipe), tmp_path / "run", progress=False)
    before = {name: [p.detach().clone() for p in trainer.nets[name].parameters()] for name in ("gen", "projector")}
    batch = next(trainer.device_batches(0))
    logs = trainer.step.train_step(batch)
    assert set(logs) == logged
    for name, params in before.items():
        assert any(not torch.equal(a, b) for a, b in zip(params, trainer.nets[name].parameters())), name
    assert set(trainer.step.optimizers) == {"G", "D", "F"}


def final_weights(run):
    latest = run / "checkpoints" / (run / "checkpoints" / "latest").read_text().strip()
    return {f.name: load_file(str(f)) for f in sorted(latest.glob("*.safetensors"))}


def test_a_resumed_run_continues_exactly_with_its_projector(tmp_path, monkeypatch):
    spec = tiny_spec("fastcut", steps=4, sets={"deterministic": True})  # FastCUT: the flips draw random numbers
    Trainer(spec, tmp_path / "a", progress=False).run_training()
    with ctrl_c_after(2, monkeypatch), pytest.raises(TrainingInterrupted):
        Trainer(spec, tmp_path / "b", progress=False).run_training()
    resumed = Trainer(load_spec(tmp_path / "b"), tmp_path / "b", progress=False)
    assert resumed.resume() == 2
    resumed.run_training()
    a, b = final_weights(tmp_path / "a"), final_weights(tmp_path / "b")
    assert "projector.safetensors" in a, "the projector is part of the training checkpoint"
    for name in a:
        for key in a[name]:
            assert torch.equal(a[name][key], b[name][key]), f"{name}:{key} differs after resume"


def test_the_bundle_leaves_the_projector_out(tmp_path):
    run = ganzoo.train("cut", steps=2, batch_size=2, out=tmp_path, name="r", progress=False,
                       sets={"gen.ngf": 8, "disc.ndf": 8, "score_samples": 8})
    files = sorted(p.name for p in run.model.save_pretrained(tmp_path / "bundle").iterdir())
    assert "gen.safetensors" in files and not any(name.startswith("projector") for name in files)
    x = torch.rand(1, 3, 32, 32) * 2 - 1
    assert ganzoo.Model.from_pretrained(tmp_path / "bundle").translate(x).shape == x.shape
