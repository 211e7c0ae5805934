"""An example ganzoo plugin: a generator, a loss and a recipe, added through ganzoo's public surface.

- ``resize-unet``: a U-Net generator that upsamples by resizing and convolving (no checkerboard
  artefacts); it follows ganzoo's network contract, so any image-to-image recipe can use it
  (``ganzoo run pix2pix --gen resize-unet``).
- ``charbonnier``: a reconstruction loss, for any reconstruction role (``--aux l1=charbonnier``).
- ``pairgan``: a recipe, paired translation judged by an unconditional discriminator, with its step.

This module is what the entry point names, so ganzoo imports it to list the plugin's parts: it imports
no torch. The networks, the loss and the step are registered by reference (``"module:Name"``) and
imported the first time they are built.
"""

import ganzoo
from ganzoo import AuxLoss, Network, Recipe, Slot

__version__ = "0.1.0"

ODENA = "https://distill.pub/2016/deconv-checkerboard/"
LAPSRN = "https://arxiv.org/abs/1704.03915"
PIX2PIX = "https://arxiv.org/abs/1611.07004"


@ganzoo.hookimpl
def ganzoo_register_generators(register):
    register("ganzoo_example.nets:ResizeUnetGenerator", name="resize-unet", aliases=["resize_unet"], paper=ODENA)


@ganzoo.hookimpl
def ganzoo_register_losses(register):
    register("ganzoo_example.losses:CharbonnierLoss", name="charbonnier", paper=LAPSRN)


PAIRGAN = Recipe(
    name="pairgan",
    summary="Paired translation judged by an unconditional discriminator, with a reconstruction term",
    # pix2pix's "L1+GAN" (Isola et al., table 1): the discriminator sees the output alone, not the pair.
    paper=PIX2PIX,
    slots={
        "generator": Slot("generator", "resize-unet", options={"norm": "instance"},
                          requires={"input_kind": "image"}),
        "discriminator": Slot("discriminator", "patchgan", options={"norm": "instance", "n_layers": 3}),
        "loss": Slot("loss", "lsgan", requires={"role": "adversarial"}),
    },
    networks=(Network("gen", "generator", "G"), Network("disc", "discriminator", "D")),
    step="ganzoo_example.step:PairGANStep",
    data_modes=("paired",),
    inference={"AtoB": "gen"},
    aux={"rec": AuxLoss("charbonnier", 100.0)},
    defaults={"lr": 2e-4, "beta1": 0.5, "beta2": 0.999, "batch_size": 1, "image_size": 256,
              "lr_policy": "linear", "decay_start": 0.5, "epochs": 200},
    # 32x32 toy images: three levels (32 -> 4 pixels), a 2-layer PatchGAN that sees 16-pixel patches.
    # Shape accuracy (seed 0, one thread, torch 2.14.1): 0.67 after 600 steps of 16, 0.998 after 1500
    # (122 s on two shared CPU cores).
    toy={"data": "toy:edges2shapes", "steps": 1500, "batch_size": 16, "image_size": 32,
         "gen.ngf": 16, "gen.depth": 3, "disc.ndf": 16, "disc.n_layers": 2},
    toy_targets={"shape_accuracy": 0.95},
)


def pairgan() -> Recipe:
    """Paired translation judged by an unconditional discriminator, with a reconstruction term."""
    return PAIRGAN


@ganzoo.hookimpl
def ganzoo_register_recipes(register):
    register(pairgan, name="pairgan", summary=PAIRGAN.summary, paper=PAIRGAN.paper)
