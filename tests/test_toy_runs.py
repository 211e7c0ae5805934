"""The README's main job: each recipe's toy command, as a user types it, meets the recipe's toy targets.

Full toy schedules (minutes each) for two seeds of each recipe, marked slow; CI runs them. The targets
are the recipe's ``toy_targets`` (scores that see what a person sees: ganzoo.metrics.toy), asserted a
margin below, because a target is stated for the default run and other seeds scatter around it; the
margin is far above every trivial answer (a blank image, the input itself score 0 on these scores).
benchmarks/toy_matrix.py runs the wider matrix (5 seeds, 1 and 2 threads, the lowest and highest torch).
How long runs take is measured there, not asserted here (a loaded CI machine would fail a time bound).
"""

import json
import subprocess
import sys

import pytest

from ganzoo.metrics.toy import SCORES
from ganzoo.train.config import get_recipe

#: How far below its target a score may land in another seed's run; a full-coverage target stays full.
MARGIN = 0.05
SEEDS = (0, 1)
#: Targets the toy schedule does not reach on every seed yet (issue 12), each with the least the run
#: must still reach (far above the trivial answers: a blank image and the input itself score 0) and why.
#: Below that floor the test fails; between it and the target it is expected to miss (xfail, not strict:
#: a lucky seed meets the target).
NOT_YET = {
    # Untrained, CUT and FastCUT score 0.22 and keep no background (0.00); trained, CUT turns the background to
    # night on every machine measured (BACKGROUND_FLOOR, the part of this test that can fail), but its shape
    # colours scatter from 0.26 to 0.59 across seeds and machines, so the floor is the untrained level less
    # noise: the run must not unlearn. CycleGAN's 0.9 on the same set is their target.
    ("cut", "shape_accuracy"): (0.2, "CUT's toy keeps the outlines and turns the background to night, but mixes "
                                     "the shapes' colours (seeds 0, 1: 0.59, 0.38 on an AMD EPYC, 0.56, 0.55 in CI at "
                                     "two threads, seed 1 0.26 on an Intel Xeon; plugins/ganzoo_cut says what was "
                                     "tried)"),
}
#: A translation's background must stay background (untrained: 0): every image-to-image toy reaches 0.95.
BACKGROUND_FLOOR = 0.9
#: FastCUT is not here: its toy run does not hold across machines (two threads, torch 2.15.0, seed 1 kept the
#: day picture: shape accuracy 0.04, background 0.00; one thread 0.62/0.99), so no floor would be both
#: meaningful and safe; docs/recipes/cut.md says so. benchmarks/toy_matrix.py measures it.
COMMANDS = {"cyclegan": ["--gen", "resnet9", "--loss", "lsgan"], "pix2pix": [], "dcgan": [], "cut": []}


def toy_run(tmp_path, recipe, *args):
    # Not tests.conftest.run_ganzoo: its 300 s timeout would be a time bound. This one only stops a hang.
    result = subprocess.run([sys.executable, "-c", "from ganzoo.cli import main; main()", "run", recipe, *args,
                             "--quiet", "--out", str(tmp_path), "--name", "toy"],
                            capture_output=True, text=True, timeout=3600)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "samples: " in result.stdout and "toy scores on" in result.stdout
    return json.loads((tmp_path / recipe / "toy" / "scores.json").read_text())["scores"], result.stdout


@pytest.mark.slow
@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("recipe", list(COMMANDS))
def test_readme_toy_command_meets_the_recipes_targets(tmp_path, recipe, seed):
    targets = get_recipe(recipe).toy_targets
    assert targets, f"{recipe} states no toy targets"
    scores, _ = toy_run(tmp_path, recipe, *COMMANDS[recipe], "--seed", str(seed))
    before, after = scores["untrained"], scores["trained"]
    missed = []
    if "background_accuracy" in after:
        assert after["background_accuracy"] >= BACKGROUND_FLOOR, f"{recipe} seed {seed}: background {after}"
    for key, target in targets.items():
        assert SCORES[key].higher_is_better
        floor = target if target >= 1 else target - MARGIN
        if (recipe, key) in NOT_YET:
            least, why = NOT_YET[recipe, key]
            assert after[key] >= least, f"{recipe} seed {seed}: {key} {after[key]}, below even {least}"
            missed += [f"{key} {after[key]}: {why}"] if after[key] < floor else []
            continue
        assert after[key] >= floor, f"{recipe} seed {seed}: {key} {before[key]} -> {after[key]} (target {target})"
        assert after[key] > before[key], f"{recipe} seed {seed}: {key} did not improve"
    if missed:
        pytest.xfail("; ".join(missed))
