"""ganzoo's own components, registered through the same hooks as any third-party plugin.

The hooks are ``tryfirst``: the built-ins register before any plugin, which may then replace them
(``replace=True``). Every factory is registered by reference (``"module:Qualname"``), so loading this
plugin imports neither torch nor any network: ``ganzoo list`` and ``ganzoo info`` stay fast, and a
component's module is imported when the component is first built. What a component is (a generator's
input, a loss's role) is read from its class, so registrations carry no such metadata.
"""

from __future__ import annotations

from ganzoo.hookspecs import hookimpl

CYCLEGAN = "https://arxiv.org/abs/1703.10593"
PIX2PIX = "https://arxiv.org/abs/1611.07004"
DCGAN = "https://arxiv.org/abs/1511.06434"
PIX2PIXHD = "https://arxiv.org/abs/1711.11585"
TIMM = "https://github.com/huggingface/pytorch-image-models"
REFERENCE = "https://github.com/junyanz/pytorch-CycleGAN-and-pix2pix"

#: The embedded toy sets: name -> (data mode, summary). They live in ganzoo.data.toy, which imports torch
#: to render them, so their names are repeated here (a test keeps the two equal).
TOY_SETS = {
    "day2night": ("unpaired", "Shapes by day and by night; unpaired piles, true counterparts for testing"),
    "edges2shapes": ("paired", "Outlines to filled shapes; the fill colour follows from the shape"),
    "shapes": ("single", "Filled circles, squares and triangles; samples scored for palette, shapes and variety"),
}


@hookimpl(tryfirst=True)
def ganzoo_register_generators(register):
    register("ganzoo.nn.resnet:ResnetGenerator", name="resnet9", aliases=["resnet_9blocks"],
             defaults={"n_blocks": 9}, paper=CYCLEGAN,
             summary="ResNet generator with 9 residual blocks (CycleGAN, 256x256 images)")
    register("ganzoo.nn.resnet:ResnetGenerator", name="resnet6", aliases=["resnet_6blocks"],
             defaults={"n_blocks": 6}, paper=CYCLEGAN,
             summary="ResNet generator with 6 residual blocks (CycleGAN, 128x128 images)")
    register("ganzoo.nn.unet:UnetGenerator", name="unet256", aliases=["unet_256"], defaults={"num_downs": 8},
             summary="U-Net generator with 8 downsamplings (pix2pix, 256x256 images)", paper=PIX2PIX)
    register("ganzoo.nn.unet:UnetGenerator", name="unet128", aliases=["unet_128"], defaults={"num_downs": 7},
             summary="U-Net generator with 7 downsamplings (pix2pix, 128x128 images)", paper=PIX2PIX)
    register("ganzoo.nn.dcgan:DCGANGenerator", name="dcgan",
             summary="DCGAN noise-to-image generator (32, 64 or 128 pixels)", paper=DCGAN)
    register("ganzoo.nn.timm_backbones:TimmUnetGenerator", name="timm-unet", family=True,
             example="timm-unet:test_resnet", paper=TIMM,
             summary="U-Net generator whose encoder is any timm backbone (timm-unet:MODEL)")


@hookimpl(tryfirst=True)
def ganzoo_register_discriminators(register):
    register("ganzoo.nn.patchgan:PatchDiscriminator", name="patchgan", aliases=["basic", "n_layers"],
             summary="PatchGAN: a grid of real/fake logits over 70x70 patches (n_layers=3)", paper=PIX2PIX)
    register("ganzoo.nn.patchgan:PixelDiscriminator", name="pixel",
             summary="1x1 PatchGAN judging each pixel's colour", paper=PIX2PIX)
    register("ganzoo.nn.multiscale:MultiscaleDiscriminator", name="multiscale",
             summary="pix2pixHD's multi-scale PatchGAN: one per image scale (num_scales=3), a list of logit maps",
             paper=PIX2PIXHD)
    register("ganzoo.nn.dcgan:DCGANDiscriminator", name="dc",
             summary="DCGAN discriminator, one logit per image (32, 64 or 128 pixels)", paper=DCGAN)
    register("ganzoo.nn.timm_backbones:TimmDiscriminator", name="timm", family=True, example="timm:test_resnet",
             summary="Any timm classifier as a one-logit discriminator (timm:MODEL)", paper=TIMM)


@hookimpl(tryfirst=True)
def ganzoo_register_losses(register):
    register("ganzoo.losses.adversarial:BCELoss", name="bce", aliases=["vanilla"],
             summary="Binary cross-entropy on logits, the original GAN loss",
             paper="https://arxiv.org/abs/1406.2661")
    register("ganzoo.losses.adversarial:LSGANLoss", name="lsgan",
             summary="Least-squares GAN loss (CycleGAN's default)", paper="https://arxiv.org/abs/1611.04076")
    register("ganzoo.losses.adversarial:WGANGPLoss", name="wgan-gp", aliases=["wgangp"],
             summary="Wasserstein loss with gradient penalty (5 critic steps, no batch norm in the critic)",
             paper="https://arxiv.org/abs/1704.00028")
    register("ganzoo.losses.adversarial:HingeLoss", name="hinge",
             summary="Hinge loss (Geometric GAN, SAGAN)", paper="https://arxiv.org/abs/1705.02894")
    register("ganzoo.losses.feature_matching:FeatureMatchingLoss", name="feature_matching",
             summary="pix2pixHD's feature matching: L1 between the discriminator's features on fakes and on "
                     "real inputs, per scale and layer", paper=PIX2PIXHD)
    register("ganzoo.losses.reconstruction:CycleConsistencyLoss", name="cycle",
             summary="Cycle-consistency L1: A -> B -> A gives A back", paper=CYCLEGAN)
    register("ganzoo.losses.reconstruction:IdentityLoss", name="identity",
             summary="Identity L1: an image already in the target domain stays unchanged", paper=CYCLEGAN)
    register("ganzoo.losses.reconstruction:PixelLoss", name="l1",
             summary="Pixel L1 of an output against its paired target (pix2pix)", paper=PIX2PIX)


@hookimpl(tryfirst=True)
def ganzoo_register_data_modes(register):
    register("ganzoo.data.folders:PairedFolder", name="paired", toy="edges2shapes",
             summary="Input/target pairs: pix2pix's A|B images, or folders A and B matched by name", paper=PIX2PIX)
    register("ganzoo.data.folders:UnpairedFolder", name="unpaired", toy="day2night",
             summary="Two unrelated piles, ROOT/trainA and ROOT/trainB (CycleGAN's layout)", paper=CYCLEGAN)
    register("ganzoo.data.folders:SingleFolder", name="single", toy="shapes",
             summary="Every image under a folder, recursively (noise-to-image recipes)", paper=DCGAN)


@hookimpl(tryfirst=True)
def ganzoo_register_datasets(register):
    from ganzoo.data.download import CATALOG  # torch-free: the download catalog

    for name, (mode, summary) in TOY_SETS.items():
        register("ganzoo.data.sources:embedded_toy_set", name=name, defaults={"name": name}, example=f"toy:{name}",
                 toy=True, prefix="toy:", mode=mode, summary=f"toy set ({mode}): {summary}")
    for name, variants in sorted(CATALOG.items()):
        summary = "; ".join(f"{mode} ({v.source}): {v.summary}" for mode, v in sorted(variants.items()))
        register("ganzoo.data.download:download_dataset", name=name, defaults={"name": name},
                 modes=sorted(variants), summary=f"download: {summary}", paper=REFERENCE)


@hookimpl
def ganzoo_register_loggers(register):
    register("ganzoo.loggers.tensorboard:TensorBoardLogger", name="tensorboard",
             summary="TensorBoard events in RUN/tensorboard: losses, learning rates, sample grids, scores "
                     "(needs the tensorboard package)", paper="https://www.tensorflow.org/tensorboard")
