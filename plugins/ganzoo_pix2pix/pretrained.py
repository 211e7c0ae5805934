"""pix2pix's published generators, as the reference project's ``scripts/download_pix2pix_model.sh``
fetches them: ``unet256`` with batch norm, trained on 256x256 images.

Each one is declared twice from one table: as a reference model (``reference:pix2pix/NAME`` downloads
and converts it) and as named weights of the generator (``unet256.NAME``). This module imports no torch.
"""

import ganzoo
from ganzoo import ReferenceModel

SERVER = "http://efrosgans.eecs.berkeley.edu"

#: Model name -> (input domain, output domain).
MODELS = {
    "edges2shoes": ("edges", "shoes"), "sat2map": ("satellite", "map"), "map2sat": ("map", "satellite"),
    "facades_label2photo": ("label", "photo"), "day2night": ("day", "night"),
}

REFERENCE_MODELS = tuple(
    ReferenceModel(name, recipe="pix2pix", base_url=SERVER, url_path=f"pix2pix/models-pytorch/{name}.pth",
                   generator="unet256", norm="batch", domains=domains)
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
