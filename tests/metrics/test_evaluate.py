"""What a model is evaluated against, and the record of it (ganzoo.metrics.evaluate).

A small stand-in feature network (pooled colours) keeps these tests fast; the real Inception pipeline
is checked against torch-fidelity in test_fidelity.py.
"""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from ganzoo.errors import UsageError
from ganzoo.metrics import evaluate as ev
from tests.train.tiny import tiny_spec


class PooledColours:
    """Each image as its 4x4 average-pooled colours: different for different pictures, cheap."""

    name = "pooled-colours"

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, images: torch.Tensor) -> torch.Tensor:
        self.calls += len(images)
        return F.adaptive_avg_pool2d(images.float(), 4).flatten(1).double()

    def protocol(self) -> dict:
        return {"features": self.name}


def toy_target(recipe: str = "cyclegan", **kwargs) -> ev.Target:
    return ev.Target.from_spec(tiny_spec(recipe, **kwargs))


def oracle(target: ev.Target):
    """The perfect translator: each test input's true counterpart, in the order they are asked for."""
    from ganzoo.data.sources import toy_set

    toy = toy_set(target.source)

    def make(name: str):
        direction = target.direction if name == "AtoB" else "BtoA"
        _, truth, _ = toy.truth(image_size=target.image_size, direction=direction)
        done = [0]

        def translate(x: torch.Tensor) -> torch.Tensor:
            out = truth[done[0]:done[0] + len(x)]
            done[0] += len(x)
            return out

        return translate

    return make


def identity(name: str):
    return lambda x: x.clone()


def test_parse_metrics_keeps_order_and_refuses_unknown_names():
    assert ev.parse_metrics("kid, fid,kid") == ("kid", "fid")
    with pytest.raises(UsageError, match="unknown metric 'is'; choose from fid, kid, toy"):
        ev.parse_metrics("fid,is")
    with pytest.raises(UsageError, match="no metric given"):
        ev.parse_metrics(" , ")


def test_translations_are_judged_against_the_other_sides_test_images():
    target = toy_target("cyclegan")
    assert target.outputs == ("AtoB", "BtoA") and target.domains == {"A": "day", "B": "night"}
    found = {c.name: c for c in ev.comparisons(target)}
    assert set(found) == {"AtoB", "BtoA"}
    atob, btoa = found["AtoB"], found["BtoA"]
    assert atob.real_split == "test, night side" and btoa.real_split == "test, day side"
    assert atob.count == len(atob.inputs) == len(atob.real) == 100
    # AtoB's real images are BtoA's inputs (the night side of the same test scenes), and the reverse
    assert torch.equal(atob.real[3], btoa.inputs[3]) and torch.equal(btoa.real[3], atob.inputs[3])
    assert not torch.equal(atob.real[3], atob.inputs[3])
    assert len(ev.comparisons(target, max_images=10)[0].real) == 10


def test_samples_are_judged_against_the_training_set_with_the_count_stated():
    target = toy_target("dcgan", sets={"size": 40})
    (comparison,) = ev.comparisons(target)
    assert comparison.name == "sample" and comparison.real_split == "train" and comparison.inputs is None
    assert len(comparison.real) == comparison.count == 40
    assert ev.comparisons(target, samples=12)[0].count == 12


def test_the_true_translation_scores_fid_near_zero_and_the_input_does_not():
    target = toy_target("cyclegan")
    features = PooledColours()
    perfect = ev.evaluate(target, oracle(target), metrics=["fid", "kid", "toy"], features=features)
    copied = ev.evaluate(target, identity, metrics=["fid", "kid"], features=features)
    for name in ("AtoB", "BtoA"):
        assert abs(perfect["results"][name]["fid"]) < 1e-6
        assert perfect["results"][name]["toy"]["shape_accuracy"] == 1.0
        assert copied["results"][name]["fid"] > 0.1  # day colours are not night colours
        # KID's estimate on random subsets of the same images is about 0, far below the copy's
        assert abs(perfect["results"][name]["kid"]) < 0.05 * copied["results"][name]["kid"]
    assert perfect["comparisons"]["AtoB"]["real_split"] == "test, night side"
    assert perfect["protocol"]["features"] == "pooled-colours" and perfect["protocol"]["image_size"] == 32


def test_real_features_are_computed_once_across_evaluations():
    target = toy_target("cyclegan")
    features, kept = PooledColours(), ev.RealFeatures()
    ev.evaluate(target, identity, metrics=["fid"], features=features, max_images=10, real_features=kept)
    first = features.calls
    ev.evaluate(target, identity, metrics=["fid"], features=features, max_images=10, real_features=kept)
    assert first == 40 and features.calls == first + 20  # the second time only the translations


def test_samples_are_seeded_per_batch_so_the_batch_size_does_not_change_them():
    target = toy_target("dcgan", sets={"size": 20})
    (comparison,) = ev.comparisons(target)

    def make(name):
        return lambda n, seed=0: torch.randn(n, 3, 32, 32, generator=torch.Generator().manual_seed(seed)).tanh()

    a = torch.cat(list(ev.generated_images(comparison, make("sample"), batch_size=8)))
    b = torch.cat(list(ev.generated_images(comparison, make("sample"), batch_size=8)))
    assert a.shape == (20, 3, 32, 32) and torch.equal(a, b)


def test_flat_metrics_and_the_headline_for_keeping_the_best():
    results = {"AtoB": {"fid": 10.0, "kid": 0.01, "kid_std": 0.001, "toy": {"shape_accuracy": 0.9}},
               "BtoA": {"fid": 20.0, "kid": 0.03, "kid_std": 0.002, "toy": {"shape_accuracy": 0.7}}}
    flat = ev.flat_metrics(results)
    assert flat == {"fid_AtoB": 10.0, "kid_AtoB": 0.01, "kid_std_AtoB": 0.001, "toy_shape_accuracy_AtoB": 0.9,
                    "fid_BtoA": 20.0, "kid_BtoA": 0.03, "kid_std_BtoA": 0.002, "toy_shape_accuracy_BtoA": 0.7}
    assert all(ev.is_metric_column(k) for k in flat) and not ev.is_metric_column("G_gan")
    assert ev.headline(results, "fid") == 15.0 and ev.headline(results, "psnr") is None


def test_toy_scores_need_a_toy_set(tmp_path):
    target = ev.Target(source=str(tmp_path), mode="unpaired", direction="AtoB", image_size=32,
                       channels={"A": 3, "B": 3}, outputs=("AtoB",), domains={"A": "A", "B": "B"})
    with pytest.raises(UsageError, match="the toy scores need an embedded toy set"):
        ev.evaluate(target, identity, metrics=["toy"])


def _write_images(folder, count: int, colour: tuple[int, int, int]) -> None:
    from PIL import Image

    folder.mkdir(parents=True)
    for i in range(count):
        Image.new("RGB", (40, 48), tuple(min(255, c + 7 * i) for c in colour)).save(folder / f"{i:03d}.png")


def test_a_folder_is_read_from_its_test_split_resized_to_the_models_size(tmp_path):
    _write_images(tmp_path / "testA", 5, (200, 30, 30))
    _write_images(tmp_path / "testB", 7, (30, 30, 200))
    _write_images(tmp_path / "trainA", 2, (0, 0, 0))
    target = ev.Target(source=str(tmp_path), mode="unpaired", direction="AtoB", image_size=16,
                       channels={"A": 3, "B": 3}, outputs=("AtoB", "BtoA"), domains={"A": "red", "B": "blue"})
    found = {c.name: c for c in ev.comparisons(target)}
    assert (found["AtoB"].count, len(found["AtoB"].real)) == (5, 7)
    assert (found["BtoA"].count, len(found["BtoA"].real)) == (7, 5)
    assert found["AtoB"].real_split == "testB (blue)"
    image = found["AtoB"].real[0]
    assert image.shape == (3, 16, 16) and image[2].mean() > 0.5 > image[0].mean()  # blue, in [-1, 1]
    flipped = ev.comparisons(ev.Target(**{**target.__dict__, "direction": "BtoA"}))
    assert flipped[0].real_split == "testA (blue)" and flipped[0].count == 7


def test_a_folder_without_the_other_sides_test_split_is_refused_in_one_line(tmp_path):
    _write_images(tmp_path / "testA", 3, (200, 30, 30))
    target = ev.Target(source=str(tmp_path), mode="unpaired", direction="AtoB", image_size=16,
                       channels={"A": 3, "B": 3}, outputs=("AtoB",), domains={"A": "A", "B": "B"})
    with pytest.raises(ev.EvaluationError, match="has no testB folder: FID compares translations"):
        ev.comparisons(target)


def test_a_converted_one_direction_cyclegan_is_judged_on_unpaired_data(tmp_path):
    """Reference CycleGAN weights hold one generator: the bundle still names its recipe's data mode."""
    _write_images(tmp_path / "testA", 3, (200, 30, 30))
    _write_images(tmp_path / "testB", 4, (30, 30, 200))
    config = {"recipe": "cyclegan", "generator_input": "image", "directions": {"AtoB": "gen"}, "image_size": 16,
              "channels": {"A": 3, "B": 3}, "training": {}}
    target = ev.Target.from_bundle(config, data=str(tmp_path))
    assert target.mode == "unpaired" and target.outputs == ("AtoB",)
    (comparison,) = ev.comparisons(target)
    assert comparison.count == 3 and len(comparison.real) == 4
    pix2pix = ev.Target.from_bundle({**config, "recipe": "pix2pix"}, data=str(tmp_path))
    assert pix2pix.mode == "paired"
    with pytest.raises(UsageError, match="pass --data"):
        ev.Target.from_bundle(config)


def test_a_toy_set_of_the_other_kind_is_refused_in_one_line():
    import dataclasses

    translator = dataclasses.replace(toy_target("cyclegan"), source="toy:shapes")
    sampler = dataclasses.replace(toy_target("dcgan"), source="toy:day2night")
    with pytest.raises(ev.EvaluationError, match="toy:shapes is a single toy set, but this model translates images"):
        ev.comparisons(translator)
    with pytest.raises(ev.EvaluationError, match="is a unpaired toy set, but this model generates from noise"):
        ev.evaluate(sampler, identity, metrics=["toy"])
    assert ev.default_metrics(toy_target("cyclegan")) == ("fid", "kid", "toy")
    assert ev.default_metrics(dataclasses.replace(translator, source="facades")) == ("fid", "kid")


def test_timm_features_are_named_as_what_they_are_not_fid(tmp_path):
    import timm
    from safetensors.torch import save_file

    from ganzoo.metrics.features import make_features

    torch.manual_seed(0)
    save_file(timm.create_model("test_resnet", pretrained=False).state_dict(), tmp_path / "resnet.safetensors")
    features = make_features("timm:test_resnet", weights=tmp_path / "resnet.safetensors")
    found = ev.evaluate(toy_target("pix2pix"), identity, metrics=["fid", "kid"], features=features, max_images=6)
    assert found["results"]["AtoB"]["fid"] > 0 and found["comparisons"]["AtoB"]["real_images"] == 6
    assert found["protocol"]["features"] == "timm:test_resnet"
    assert ev.distance_names(found["protocol"]) == ("FD[timm:test_resnet]", "KD[timm:test_resnet]")
    assert ev.distance_names({"features": "inception"}) == ("FID", "KID")
