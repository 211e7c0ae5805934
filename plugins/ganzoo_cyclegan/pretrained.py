"""CycleGAN's published generators, as the reference project's ``scripts/download_cyclegan_model.sh``
fetches them: ``resnet9`` with instance norm, trained on 256x256 crops.

Each one is declared twice from one table: as a reference model (``reference:cyclegan/NAME`` downloads
and converts it) and as named weights of the generator (``resnet9.NAME``). This module imports no torch.
"""

import ganzoo
from ganzoo import ReferenceModel

SERVER = "http://efrosgans.eecs.berkeley.edu"

#: Model name -> (input domain, output domain).
MODELS = {
    "apple2orange": ("apple", "orange"), "orange2apple": ("orange", "apple"),
    "summer2winter_yosemite": ("summer", "winter"), "winter2summer_yosemite": ("winter", "summer"),
    "horse2zebra": ("horse", "zebra"), "zebra2horse": ("zebra", "horse"),
    "monet2photo": ("monet", "photo"), "style_monet": ("photo", "monet"), "style_cezanne": ("photo", "cezanne"),
    "style_ukiyoe": ("photo", "ukiyoe"), "style_vangogh": ("photo", "vangogh"),
    "sat2map": ("satellite", "map"), "map2sat": ("map", "satellite"),
    "cityscapes_photo2label": ("photo", "label"), "cityscapes_label2photo": ("label", "photo"),
    "facades_photo2label": ("photo", "label"), "facades_label2photo": ("label", "photo"),
    "iphone2dslr_flower": ("iphone", "dslr"),
}

REFERENCE_MODELS = tuple(
    ReferenceModel(name, recipe="cyclegan", base_url=SERVER, url_path=f"cyclegan/pretrained_models/{name}.pth",
                   generator="resnet9", norm="instance", domains=domains)
    for name, domains in MODELS.items()
)


@ganzoo.hookimpl
def ganzoo_register_reference_models(register):
    for model in REFERENCE_MODELS:
        register(model)


@ganzoo.hookimpl
def ganzoo_register_weights(register):
    for model in REFERENCE_MODELS:
        register("generator", model.generator, tag=model.name, source=model.source, summary=model.summary)
