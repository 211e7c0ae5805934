"""CUT and FastCUT as ganzoo recipes: unpaired translation with one generator and a patchwise
contrastive loss instead of a second generator and a cycle.

Park, Efros, Zhang, Zhu, "Contrastive Learning for Unpaired Image-to-Image Translation", ECCV 2020
(https://arxiv.org/abs/2007.15651); reference code github.com/taesungp/contrastive-unpaired-translation.
The paper's settings: the ResNet generator (9 blocks) with anti-aliased down- and upsampling, the 70x70
PatchGAN with anti-aliased downsampling too, LSGAN, PatchNCE on the generator's layers 0, 4, 8, 12, 16 (here
the taps ``input, down1, down2, block1, block5``) through a two-layer MLP of 256, 256 patches, temperature
0.07, Xavier initialisation, no image pool, Adam 2e-4 with betas (0.5, 0.999), batch 1. CUT: lambda_NCE 1 with
the identity NCE term, 200 epochs constant then 200 of linear decay. FastCUT: lambda_NCE 10, no identity term,
flip equivariance, 150 epochs then 50 of decay.

A first-party plugin that uses only ganzoo's public surface, through the same entry-point door as any
third party; this module imports no torch (the step, the loss and the projector are named by reference).
"""

import dataclasses

import ganzoo
from ganzoo import AuxLoss, Network, Recipe, Slot, Value

PAPER = "https://arxiv.org/abs/2007.15651"
#: CUT's nce_layers 0, 4, 8, 12, 16, as the ResNet generator names its taps.
NCE_LAYERS = "input,down1,down2,block1,block5"

CUT = Recipe(
    name="cut",
    summary="Unpaired translation with one generator and a patchwise contrastive loss (CUT)",
    paper=PAPER,
    slots={
        "generator": Slot("generator", "resnet9", options={"norm": "instance", "dropout": False, "antialias": True},
                          requires={"input_kind": "image"}),
        "discriminator": Slot("discriminator", "patchgan", options={"norm": "instance", "n_layers": 3,
                                                                     "antialias": True}),
        "loss": Slot("loss", "lsgan", requires={"role": "adversarial"}),
        "projector": Slot("module", "ganzoo_cut.nce:PatchSampler",
                          options={"layers": NCE_LAYERS, "width": 256, "patches": 256},
                          help="the MLP that projects the sampled encoder patches (CUT's netF)"),
    },
    networks=(Network("gen", "generator", "G"), Network("disc", "discriminator", "D"),
              Network("projector", "projector", "F")),
    step="ganzoo_cut.step:CUTStep",
    data_modes=("unpaired",),
    inference={"AtoB": "gen"},
    aux={"nce": AuxLoss("patchnce", 1.0, requires={"role": "contrastive"})},
    hparams={"nce_idt": True, "flip_equivariance": False},
    hparam_values={"nce_idt": Value(bool), "flip_equivariance": Value(bool)},
    defaults={"lr": 2e-4, "beta1": 0.5, "beta2": 0.999, "batch_size": 1, "image_size": 256,
              "lr_policy": "linear", "decay_start": 0.5, "epochs": 400, "init_type": "xavier"},
    # 32x32 toy images, as CycleGAN's toy schedule was when this was measured (the same set, batch, rate and
    # widths, and 1000 steps, where CycleGAN's now takes 1400 to avoid a colour swap; not measured here): one
    # downsampling level (so no down2 tap), ngf/ndf 16, a projector of 64. Measured (shape accuracy /
    # background kept, seed 0, one thread): as declared without the average 0.58/0.95, with ema 0.995
    # 0.59/0.95 (kept); lr 5e-4 0.46/0.98; PatchNCE weight 2 0.29/0.98, 0.5 0.40/0.99; without the input
    # tap 0.34/0.99; ngf 32 0.33/0.99; 2000 steps 0.57/0.99. The background turns night, the shapes keep
    # their outlines, but their colours come out mixed (issue 16's note): short of CycleGAN's 0.93 here.
    # Those figures are with the plain strided PatchGAN, which the toy keeps: with CUT's blur-pooled one
    # (the paper's, the default for real data) CUT scored 0.51/0.98 and 0.41/0.98 on seeds 0 and 1 (plain:
    # 0.59/0.95, 0.38/0.96), and FastCUT's seed 0 kept the day background (0.59/0.00; plain: 0.63/0.98).
    toy={"data": "toy:day2night", "steps": 1000, "batch_size": 4, "image_size": 32, "lr": 1e-3, "ema": 0.995,
         "gen.ngf": 16, "gen.n_downsampling": 1, "disc.ndf": 16, "disc.antialias": False,
         "projector.layers": "input,down1,block1,block5", "projector.width": 64},
    toy_targets={"shape_accuracy": 0.9},
)

FASTCUT = dataclasses.replace(
    CUT,
    name="fastcut",
    summary="CUT's faster variant: a heavier PatchNCE, no identity term, flip equivariance (FastCUT)",
    aux={"nce": AuxLoss("patchnce", 10.0, requires={"role": "contrastive"})},
    hparams={"nce_idt": False, "flip_equivariance": True},
    defaults={**CUT.defaults, "epochs": 200, "decay_start": 0.75},
    # The paper's PatchNCE weight of 10 holds the toy's day colours: the background stays light (shape
    # accuracy 0.44, background kept 0.00; 2000 steps 0.65/0.00). Weight 3 lets the discriminator turn it
    # to night: 0.63/0.98 (2: 0.59/0.99, 1: 0.46/0.98, all with ema 0.995, seed 0, one thread).
    toy={**CUT.toy, "nce": 3.0},
)


def cut() -> Recipe:
    """Unpaired translation with one generator and a patchwise contrastive loss (CUT)."""
    return CUT


def fastcut() -> Recipe:
    """CUT's faster variant (FastCUT)."""
    return FASTCUT


@ganzoo.hookimpl
def ganzoo_register_recipes(register):
    register(cut, name="cut", summary=CUT.summary, paper=PAPER)
    register(fastcut, name="fastcut", summary=FASTCUT.summary, paper=PAPER)


@ganzoo.hookimpl
def ganzoo_register_losses(register):
    register("ganzoo_cut.nce:PatchNCELoss", name="patchnce", paper=PAPER,
             summary="PatchNCE: a translated patch matches the input's patch at the same place (CUT)")
