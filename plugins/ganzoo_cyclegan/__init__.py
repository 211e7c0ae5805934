"""CycleGAN as a ganzoo recipe: unpaired image-to-image translation with cycle consistency.

Zhu, Park, Isola, Efros, "Unpaired Image-to-Image Translation using Cycle-Consistent Adversarial
Networks", ICCV 2017 (https://arxiv.org/abs/1703.10593). Hyper-parameters are the paper's and the
reference code's: resnet9 with instance norm, 70x70 PatchGAN, LSGAN, cycle weights 10 and 10, identity
0.5 (times the cycle weight), a pool of 50 past fakes, Adam 2e-4 with beta1 0.5, 100 epochs constant
then 100 of linear decay. Declared through the same entry-point door any third-party recipe uses.
"""

import ganzoo
from ganzoo.recipe import Recipe, Slot

from ganzoo_cyclegan.step import CycleGANStep

CYCLEGAN = Recipe(
    name="cyclegan",
    summary="Unpaired translation with two generators, two discriminators and cycle consistency",
    paper="https://arxiv.org/abs/1703.10593",
    data_mode=Slot("data_mode", "unpaired", choices=("unpaired", "paired")),
    generator=Slot("generator", "resnet9", options={"norm": "instance", "dropout": False},
                   copies=("gen_ab", "gen_ba")),
    discriminator=Slot("discriminator", "patchgan", options={"norm": "instance", "n_layers": 3},
                       copies=("disc_a", "disc_b")),
    adversarial_loss=Slot("loss", "lsgan"),
    aux_losses={"cycle": 10.0, "identity": 0.5},
    hparams={"lr": 2e-4, "beta1": 0.5, "beta2": 0.999, "batch_size": 1, "image_size": 256, "pool_size": 50,
             "lr_policy": "linear", "decay_start": 0.5, "epochs": 200},
    step=CycleGANStep,
    # 32x32 toy images: narrower networks, and U-Nets (if chosen) get 5 levels (2**5 = 32).
    toy={"data": "toy:day2night", "steps": 400, "hparams": {"batch_size": 4, "image_size": 32},
         "generator": {"ngf": 32, "num_downs": 5}, "discriminator": {"ndf": 32}},
)


def cyclegan() -> Recipe:
    """Unpaired translation with two generators, two discriminators and cycle consistency."""
    return CYCLEGAN


@ganzoo.hookimpl
def ganzoo_register_recipes(register):
    register(cyclegan, name="cyclegan", paper=CYCLEGAN.paper)
