"""Pix2Pix as a ganzoo recipe: paired image-to-image translation with a conditional GAN.

Isola, Zhu, Zhou, Efros, "Image-to-Image Translation with Conditional Adversarial Networks", CVPR 2017
(https://arxiv.org/abs/1611.07004). The paper's settings: a U-Net 256 generator with dropout and batch
norm, a 70x70 PatchGAN that sees input and output together, the original GAN loss, L1 weight 100,
batch size 1, Adam 2e-4 with beta1 0.5. This module imports no torch (the step is named by reference).
"""

import ganzoo
from ganzoo import AuxLoss, Network, Recipe, Slot

PIX2PIX = Recipe(
    name="pix2pix",
    summary="Paired translation: a U-Net generator and a conditional PatchGAN, with an L1 term",
    paper="https://arxiv.org/abs/1611.07004",
    slots={
        "generator": Slot("generator", "unet256", options={"norm": "batch", "dropout": True},
                          requires={"input_kind": "image"}),
        "discriminator": Slot("discriminator", "patchgan", options={"norm": "batch", "n_layers": 3}),
        "loss": Slot("loss", "bce", requires={"role": "adversarial"}),
    },
    networks=(Network("gen", "generator", "G"), Network("disc", "discriminator", "D")),
    step="ganzoo_pix2pix.step:Pix2PixStep",
    data_modes=("paired",),
    inference={"AtoB": "gen"},
    # pix2pixHD's feature matching (https://arxiv.org/abs/1711.11585), off unless weighted: --aux
    # feature_matching=10 with --disc multiscale is pix2pixHD's discriminator side.
    aux={"l1": AuxLoss("l1", 100.0),
         "feature_matching": AuxLoss("feature_matching", 0.0, requires={"role": "feature_matching"})},
    defaults={"lr": 2e-4, "beta1": 0.5, "beta2": 0.999, "batch_size": 1, "image_size": 256,
              "lr_policy": "linear", "decay_start": 0.5, "epochs": 200},
    optimizer_lr={"D": "lr_d"},
    # 32x32 toy images: the U-Net gets 5 levels (2**5 = 32) instead of 8. Batch 16 for 1500 steps: 500
    # steps of 4 left blurred blobs (shape accuracy 0.40), 2000 of 4 reached 0.955, 1000 of 16 0.968,
    # 1500 of 16 0.994 (issue 12; each seed 0, one thread).
    toy={"data": "toy:edges2shapes", "steps": 1500, "batch_size": 16, "image_size": 32,
         "gen.ngf": 32, "gen.num_downs": 5, "disc.ndf": 32},
    toy_targets={"shape_accuracy": 0.95},
)


def pix2pix() -> Recipe:
    """Paired translation: a U-Net generator and a conditional PatchGAN, with an L1 term."""
    return PIX2PIX


@ganzoo.hookimpl
def ganzoo_register_recipes(register):
    register(pix2pix, name="pix2pix", summary=PIX2PIX.summary, paper=PIX2PIX.paper)


# The published weights (reference:pix2pix/NAME and their named weights tags).
from ganzoo_pix2pix.pretrained import ganzoo_register_reference_models, ganzoo_register_weights  # noqa: E402,F401
