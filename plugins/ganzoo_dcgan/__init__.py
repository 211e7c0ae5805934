"""DCGAN as a ganzoo recipe: noise-to-image generation with deep convolutional networks.

Radford, Metz, Chintala, "Unsupervised Representation Learning with Deep Convolutional Generative
Adversarial Networks", ICLR 2016 (https://arxiv.org/abs/1511.06434). The paper's settings: noise of 100,
the DCGAN generator and discriminator with batch norm, the original GAN loss, Adam 2e-4 with beta1 0.5,
batch 128, 64x64 images.
"""

import ganzoo
from ganzoo.recipe import Recipe, Slot

from ganzoo_dcgan.step import DCGANStep

DCGAN = Recipe(
    name="dcgan",
    summary="Noise-to-image generation with the DCGAN generator and discriminator",
    paper="https://arxiv.org/abs/1511.06434",
    data_mode=Slot("data_mode", "single"),
    generator=Slot("generator", "dcgan", options={"nz": 100, "norm": "batch"}),
    discriminator=Slot("discriminator", "dc", options={"norm": "batch"}),
    adversarial_loss=Slot("loss", "bce"),
    hparams={"lr": 2e-4, "beta1": 0.5, "beta2": 0.999, "batch_size": 128, "image_size": 64,
             "lr_policy": "constant", "epochs": 25},
    step=DCGANStep,
    # 32x32 toy images. On the toy's flat colours the discriminator wins outright and the generator
    # collapses (measured: sample validity 0.40 at step 1000, 0.00 at 1500); a discriminator half the
    # generator's width, 6000 scenes instead of 600 (no memorising), and one-sided label smoothing
    # (Salimans et al. 2016, https://arxiv.org/abs/1606.03498) keep it improving (0.57 at step 1500).
    toy={"data": "toy:shapes", "steps": 1500, "hparams": {"batch_size": 64, "image_size": 32},
         "generator": {"ngf": 32}, "discriminator": {"ndf": 16}, "loss": {"real_label": 0.9},
         "data_options": {"size": 6000}},
)


def dcgan() -> Recipe:
    """Noise-to-image generation with the DCGAN generator and discriminator."""
    return DCGAN


@ganzoo.hookimpl
def ganzoo_register_recipes(register):
    register(dcgan, name="dcgan", paper=DCGAN.paper)
