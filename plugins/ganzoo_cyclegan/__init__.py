"""CycleGAN as a ganzoo recipe: unpaired image-to-image translation with cycle consistency.

Zhu, Park, Isola, Efros, "Unpaired Image-to-Image Translation using Cycle-Consistent Adversarial
Networks", ICCV 2017 (https://arxiv.org/abs/1703.10593). Settings are the paper's and the reference
code's: resnet9 with instance norm, 70x70 PatchGAN, LSGAN, cycle weights 10 and 10, identity 0.5 (times
the cycle weight), a pool of 50 past fakes, Adam 2e-4 with beta1 0.5, 100 epochs constant then 100 of
linear decay. Declared through the same entry-point door any third-party recipe uses; this module
imports no torch (the step is named by reference).
"""

import ganzoo
from ganzoo import AuxLoss, Network, Recipe, Slot, Value

CYCLEGAN = Recipe(
    name="cyclegan",
    summary="Unpaired translation with two generators, two discriminators and cycle consistency",
    paper="https://arxiv.org/abs/1703.10593",
    slots={
        "generator": Slot("generator", "resnet9", options={"norm": "instance", "dropout": False},
                          requires={"input_kind": "image"}),
        "discriminator": Slot("discriminator", "patchgan", options={"norm": "instance", "n_layers": 3}),
        "loss": Slot("loss", "lsgan", requires={"role": "adversarial"}),
    },
    networks=(Network("gen_ab", "generator", "G"), Network("gen_ba", "generator", "G"),
              Network("disc_a", "discriminator", "D"), Network("disc_b", "discriminator", "D")),
    step="ganzoo_cyclegan.step:CycleGANStep",
    data_modes=("unpaired", "paired"),
    inference={"AtoB": "gen_ab", "BtoA": "gen_ba"},
    # Feature matching (pix2pixHD's, off unless weighted) compares D_B's features on G_AB(a) with those
    # on the batch's real B images, which in unpaired data are not a's counterparts: it pulls the fakes'
    # features towards unrelated real ones (in expectation, towards their median at each position of
    # the patch grid), a weaker kin of the paired loss pix2pixHD uses.
    aux={"cycle": AuxLoss("cycle", 10.0), "identity": AuxLoss("identity", 0.5),
         "feature_matching": AuxLoss("feature_matching", 0.0, requires={"role": "feature_matching"})},
    # pool_size: past fakes kept for the discriminators (0: none). pretrain_steps: iterations in which the
    # generators only learn to give their inputs back, before the adversarial game; gen_warmup_steps:
    # iterations after those over which the generators' rate climbs from near 0 to the schedule's (0 and
    # 0: the paper's, neither). cycle_flips: most cycles go back through a flipped translation (false:
    # the paper's plain cycle). identity_boost, identity_boost_steps: the identity term counts that many
    # times its weight at the game's start, falling to its own over those iterations (1 and 0: the
    # paper's). plugins/ganzoo_cyclegan/step.py says why.
    hparams={"pool_size": 50, "pretrain_steps": 0, "gen_warmup_steps": 0, "cycle_flips": False,
             "identity_boost": 1.0, "identity_boost_steps": 0},
    hparam_values={"pool_size": Value(int, min=0), "pretrain_steps": Value(int, min=0),
                   "gen_warmup_steps": Value(int, min=0), "cycle_flips": Value(bool),
                   "identity_boost": Value(float, min=1.0), "identity_boost_steps": Value(int, min=0)},
    defaults={"lr": 2e-4, "beta1": 0.5, "beta2": 0.999, "batch_size": 1, "image_size": 256,
              "lr_policy": "linear", "decay_start": 0.5, "epochs": 200},
    optimizer_lr={"D": "lr_d"},
    # 32x32 toy images (issue 12). The paper's layout at toy width turned every shape into a green blob;
    # docs/recipes/cyclegan.md ("How the toy schedule was found") has every trial with its scores. Why
    # each setting differs from the paper:
    # - one downsampling, not two: at a quarter of 32 pixels the residual blocks lose a 10-pixel shape
    #   (none at all did well on one seed and badly on another);
    # - lr 1e-3: in 1000 steps of batch 4 it learned the shapes far better than 2e-4 (ngf/ndf 16 keep a
    #   step cheap; a discriminator twice as wide and batch 8 both scored lower);
    # - an average of the generators' weights (ema), which scored a little higher on the same run;
    # - identity 1.0, twice the paper's: it kept each kind's colour on seeds 0-4, where at 0.5 some
    #   seeds swapped two;
    # - the linear decay from a quarter of the run, not half: it cleaned the shapes' edges;
    # - 1400 steps: at 1000 one seed still swapped two colours;
    # - cycles through flipped translations (cycle_flips) with the identity term three times as heavy at
    #   the start, falling to its weight by step 500 (identity_boost): without them some seeds drew the
    #   shapes' rims off by part of a pixel (the other generator drew them back, which the plain cycle
    #   accepts) and others settled two kinds' colours swapped; the flips alone left the rims in place but
    #   a seed's triangles in the squares' colour, the boost alone kept seed 7's colours but drew other
    #   seeds' rims off (and still swapped two kinds on seeds 6 and 8, which kept every kind with both).
    # The discriminator keeps the paper's instance norm: without it the shapes' interiors took their night
    # colours, but one seed swapped squares and triangles (which a cycle undoes), and the one variant tried
    # that kept its kinds collapsed another seed. U-Nets, if chosen, get 5 levels (2**5 = 32).
    # docs/recipes/cyclegan.md has every run's figures. Pre-training with a warm-up (pretrain_steps,
    # gen_warmup_steps) kept every kind's colour where the schedule lost it, but more runs missed their
    # rims (drawn off by part of a pixel, or blurred), so the schedule does not take them.
    toy={"data": "toy:day2night", "steps": 1400, "batch_size": 4, "image_size": 32, "lr": 1e-3, "ema": 0.995,
         "identity": 1.0, "decay_start": 0.25, "cycle_flips": True, "identity_boost": 3.0,
         "identity_boost_steps": 500,
         "gen.ngf": 16, "gen.n_downsampling": 1, "gen.num_downs": 5, "disc.ndf": 16},
    toy_targets={"shape_accuracy": 0.9},
)


def cyclegan() -> Recipe:
    """Unpaired translation with two generators, two discriminators and cycle consistency."""
    return CYCLEGAN


@ganzoo.hookimpl
def ganzoo_register_recipes(register):
    register(cyclegan, name="cyclegan", summary=CYCLEGAN.summary, paper=CYCLEGAN.paper)


# The published weights (reference:cyclegan/NAME and their named weights tags).
from ganzoo_cyclegan.pretrained import ganzoo_register_reference_models, ganzoo_register_weights  # noqa: E402,F401
