"""``ganzoo.Model``: a trained model to load, use, save and share, whatever its source.

    >>> model = ganzoo.Model.from_pretrained("hf-hub:org/cyclegan-horse2zebra")
    >>> zebras = model.translate(["horse.jpg"])           # PIL images in, PIL images out
    >>> y = model.translate(x, direction="BtoA")          # a tensor in [-1, 1] in, a tensor in [-1, 1] out
    >>> model.save_pretrained("my-bundle"); model.push_to_hub("me/my-model")

Networks are built from the bundle's config and loaded one by one, on first use: translating A to B
fetches the config and one generator, never the discriminators or the other direction.
"""

from __future__ import annotations

import functools
import os
import shutil
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Sequence, Union

from ganzoo.errors import GanzooError, first_line
from ganzoo.fsutil import ensure_writable_dir
from ganzoo.hub.bundle import CARD_FILE, SAMPLES_FILE, BundleError, public_config, staged_folder, write_bundle
from ganzoo.hub.card import render_card
from ganzoo.hub.sources import ModelSource, open_source

if TYPE_CHECKING:
    import torch
    from PIL import Image
    from torch import nn

ImageLike = Union[str, os.PathLike, "Image.Image"]
DIRECTIONS = ("AtoB", "BtoA")


class Model:
    """A bundle's config and its networks (built and loaded lazily, returned in eval mode)."""

    def __init__(self, config: dict[str, Any], source: ModelSource, *, device: str | torch.device = "cpu") -> None:
        self.config = config
        self.source = source
        self.device = device
        self._networks: dict[str, nn.Module] = {}

    # -- loading -------------------------------------------------------------------------------

    @classmethod
    def from_pretrained(cls, source: str | os.PathLike[str], *, revision: str | None = None,
                        device: str | torch.device = "cpu", cache_dir: str | os.PathLike[str] | None = None,
                        token: str | bool | None = None, local_files_only: bool = False) -> Model:
        """Open a model from a run folder, a bundle folder, ``hf-hub:ORG/NAME[@REVISION]`` or ``reference:NAME``.

        Only config.json is read here; each network's weights are fetched when first used. Hub
        downloads go to the standard Hub cache (``HF_HOME``/``HF_HUB_CACHE``, or ``cache_dir``), use
        ``HF_TOKEN`` (or ``token``) and obey ``HF_HUB_OFFLINE`` (or ``local_files_only``).
        """
        opened = open_source(source, revision=revision, cache_dir=cache_dir, token=token,
                             local_files_only=local_files_only)
        return cls(opened.config(), opened, device=device)

    @property
    def network_names(self) -> list[str]:
        return list(self.config["networks"])

    @property
    def image_size(self) -> int:
        return int(self.config["image_size"])

    def network(self, name: str) -> nn.Module:
        """One network, built from its registry name and options, loaded strictly, in eval mode."""
        if name not in self.config["networks"]:
            raise BundleError(f"{self.source.description} has no network {name!r}; it has: "
                              f"{', '.join(self.network_names)}")
        if name not in self._networks:
            self._networks[name] = self._load(name)
        return self._networks[name]

    def _load(self, name: str) -> nn.Module:
        from ganzoo.api import create_discriminator, create_generator
        from ganzoo.train.checkpoint import load_network_file

        spec = self.config["networks"][name]
        create = create_generator if spec["role"] == "generator" else create_discriminator
        try:
            net = create(spec["name"], init_type=None, **spec["options"])
        except (TypeError, ValueError) as exc:
            raise BundleError(f"{self.source.description}: cannot build {name!r} ({spec['name']}): {exc}") from exc
        load_network_file(self.source.weights(name), net, name=name)
        return net.to(self.device).eval()

    def to(self, device: str | torch.device) -> Model:
        """Move the loaded networks (and those loaded later) to ``device``."""
        self.device = device
        for net in self._networks.values():
            net.to(device)
        return self

    # -- use -----------------------------------------------------------------------------------

    def generator(self, direction: str = "AtoB") -> nn.Module:
        """The generator that translates in ``direction`` (relative to the direction it was trained)."""
        if self.config.get("generator_input") == "noise":
            raise BundleError(f"{self.source.description} generates from noise; use sample(), not translate()")
        if direction not in DIRECTIONS:
            raise GanzooError(f"direction must be AtoB or BtoA, not {direction!r}")
        directions = self.config.get("directions") or {}
        if direction not in directions:
            has = " and ".join(directions) or "no direction"
            raise BundleError(f"{self.source.description} translates one direction only ({has}), not {direction}")
        return self.network(directions[direction])

    def translate(self, images: torch.Tensor | ImageLike | Sequence[ImageLike], *, direction: str = "AtoB",
                  keep_size: bool = False, precision: str = "fp32",
                  channels_last: bool = False) -> torch.Tensor | list[Image.Image]:
        """Translate images with the generator for ``direction``.

        Args:
            images: a tensor (C, H, W) or (N, C, H, W) scaled to [-1, 1], whose sides are multiples of the
                generator's; or an image, a path, or a list of them.
            direction: ``AtoB`` or ``BtoA``, relative to the direction the model was trained.
            keep_size: for images and paths, keep each one's size (rounded to what the generator takes)
                instead of resizing to the model's image size.
            precision: ``fp32`` (exact), ``bf16`` or ``fp16``: the generator runs under autocast to that
                dtype (on a GPU, about twice the images per second); the output is float32 either way.
            channels_last: run the generator in the channels-last layout, unless it has instance norm
                (which copies the layout back and would only be slower).

        Returns:
            For a tensor, the generator's output in [-1, 1] with the same layout and on the input's device;
            for images and paths, a list of PIL images.
        """
        import torch

        gen = self.generator(direction)
        run = functools.partial(self._run, gen, precision=precision, channels_last=channels_last)
        if isinstance(images, torch.Tensor):
            return self._translate_tensor(gen, images, run)
        items = [images] if isinstance(images, (str, os.PathLike)) or _is_pil(images) else list(images)
        channels = self.config.get("channels", {}).get("A" if direction == "AtoB" else "B", 3)
        outputs = []
        for item in items:
            x = self._to_tensor(item, gen, channels=channels, keep_size=keep_size)
            outputs.append(_to_pil(self._translate_tensor(gen, x, run)))
        return outputs

    def _run(self, gen: nn.Module, x: torch.Tensor, *, precision: str, channels_last: bool) -> torch.Tensor:
        """The generator on ``x`` (moved to the model's device) without gradients, in ``precision`` and
        the layout asked for; float32 out."""
        import torch

        from ganzoo.precision import DTYPES, autocast
        from ganzoo.train.fast import channels_last_networks

        if precision not in DTYPES:
            raise GanzooError(f"precision must be one of {', '.join(DTYPES)}, not {precision!r}")
        x = x.to(self.device, torch.float32)
        if channels_last and channels_last_networks({"gen": gen}) and x.dim() == 4:
            gen.to(memory_format=torch.channels_last)
            x = x.contiguous(memory_format=torch.channels_last)
        with torch.no_grad(), autocast(torch.device(self.device).type, precision):
            return gen(x).float().contiguous()

    def _translate_tensor(self, gen: nn.Module, x: torch.Tensor,
                          run: Callable[[torch.Tensor], torch.Tensor]) -> torch.Tensor:
        single = x.dim() == 3
        batch = x.unsqueeze(0) if single else x
        if batch.dim() != 4:
            raise GanzooError(f"expected an image tensor (C, H, W) or (N, C, H, W), got shape {tuple(x.shape)}")
        expected = getattr(gen, "in_channels", None)
        if expected is not None and batch.shape[1] != expected:
            raise GanzooError(f"the generator takes {expected}-channel images, got {batch.shape[1]} channels")
        multiple = getattr(gen, "size_multiple", 1)
        if batch.shape[-1] % multiple or batch.shape[-2] % multiple:
            raise GanzooError(f"image sides must be multiples of {multiple} for this generator, got "
                              f"{batch.shape[-2]}x{batch.shape[-1]}")
        y = run(batch).to(x.device)
        return y[0] if single else y

    def _to_tensor(self, item: ImageLike, gen: nn.Module, *, channels: int, keep_size: bool) -> torch.Tensor:
        from PIL import Image
        from torchvision.transforms import functional as TF

        from ganzoo.data.images import READ_ERRORS, load_rgb

        if _is_pil(item):
            img = item.convert("RGB")
        else:
            try:
                img = load_rgb(item)
            except READ_ERRORS as exc:
                raise GanzooError(f"cannot read image {item}: {type(exc).__name__}") from exc
        if channels == 1:
            img = img.convert("L")
        multiple = getattr(gen, "size_multiple", 1)
        if keep_size:
            target = (max(multiple, round(img.width / multiple) * multiple),
                      max(multiple, round(img.height / multiple) * multiple))
        else:
            target = (self.image_size, self.image_size)
        return TF.to_tensor(img.resize(target, resample=Image.Resampling.BICUBIC)) * 2 - 1  # as the reference

    def sample(self, n: int, *, seed: int = 0, precision: str = "fp32", channels_last: bool = False) -> torch.Tensor:
        """``n`` images from a noise-to-image model, (n, C, H, W) in [-1, 1]; the same seed, the same images.
        ``precision`` and ``channels_last`` as for :meth:`translate`."""
        import torch

        if self.config.get("generator_input") != "noise":
            raise BundleError(f"{self.source.description} translates images; use translate(), not sample()")
        if n < 1:
            raise GanzooError(f"n must be at least 1, got {n}")
        gen = self.network(self.config["sampler"])
        noise = gen.noise(n, generator=torch.Generator().manual_seed(seed))
        return self._run(gen, noise, precision=precision, channels_last=channels_last).cpu()

    def evaluate(self, *, data: str | None = None, metrics: str | Sequence[str] | None = None,
                 features: str = "inception", weights: str | os.PathLike[str] | None = None, verify: bool = True,
                 resize: str = "tf1", samples: int | None = None, max_images: int | None = None,
                 batch_size: int = 50) -> dict[str, Any]:
        """FID and KID (and on a toy set the toy scores), as ``ganzoo eval`` computes and records them:
        :func:`ganzoo.metrics.evaluate.evaluate_model` says what each option does and what is compared."""
        from ganzoo.metrics.evaluate import evaluate_model

        return evaluate_model(self, data=data, metrics=metrics, features=features,
                              weights=None if weights is None else str(weights), verify=verify, resize=resize,
                              samples=samples, max_images=max_images, batch_size=batch_size)

    # -- sharing -------------------------------------------------------------------------------

    def save_pretrained(self, folder: str | os.PathLike[str], *, repo_id: str | None = None) -> Path:
        """Write the bundle (config.json, one safetensors per network, README.md, samples.png) to ``folder``.

        Networks already loaded are saved as they are now (fine-tuned weights included); the others are
        copied from the source, which fetches them if it is a Hub repo.
        """
        return self._write_bundle(Path(folder), self.config, repo_id=repo_id)

    def _write_bundle(self, folder: Path, config: dict[str, Any], *, repo_id: str | None) -> Path:
        weights: dict[str, Any] = {}
        for name in self.network_names:
            weights[name] = self._networks[name].state_dict() if name in self._networks else self.source.weights(name)
        samples = self.source.extra(SAMPLES_FILE)
        card = render_card(config, repo_id=repo_id, has_samples=samples is not None)
        return write_bundle(folder, config, weights, card=card, samples=samples)

    def push_to_hub(self, repo_id: str, *, private: bool = False, token: str | bool | None = None,
                    commit_message: str | None = None, revision: str | None = None) -> str:
        """Create the model repo ``repo_id`` if needed and upload the bundle to it; returns the commit URL.

        What is uploaded names no local path: :func:`~ganzoo.hub.bundle.public_config` cuts each to the
        folder's name (``save_pretrained`` keeps them, for the machine the model was trained on)."""
        from huggingface_hub import HfApi
        from huggingface_hub import errors as hub_errors

        from ganzoo.data.download import hub_client_errors, is_repo_id

        if not is_repo_id(repo_id):
            raise GanzooError(f"expected ORG/NAME for the Hub repo, got {repo_id!r}")
        api = HfApi(token=token, library_name="ganzoo")
        with tempfile.TemporaryDirectory(prefix="ganzoo-push-") as tmp:
            folder = self._write_bundle(Path(tmp) / "bundle", public_config(self.config), repo_id=repo_id)
            try:
                api.create_repo(repo_id, private=private, exist_ok=True, repo_type="model")
                info = api.upload_folder(repo_id=repo_id, folder_path=folder, repo_type="model", revision=revision,
                                         commit_message=commit_message or f"Upload {self._what()} with ganzoo")
            except hub_errors.LocalTokenNotFoundError as exc:
                raise GanzooError("pushing needs a Hugging Face token: set HF_TOKEN or run `hf auth login`") from exc
            except hub_client_errors() as exc:
                raise GanzooError(f"could not push to {repo_id}: {first_line(exc)}") from exc
        return str(getattr(info, "commit_url", None) or info)

    def download(self, *, out: str | os.PathLike[str] | None = None) -> Path:
        """Make every file of the model local (all networks, the card, the samples) and return its folder.

        Hub files land in the Hub cache, whose snapshot folder is returned; ``out`` copies the bundle to a
        folder of its own (a run folder is written there as a bundle).
        """
        from ganzoo.hub.sources import BundleFolder, RunFolder

        if isinstance(self.source, RunFolder):
            if out is None:
                raise GanzooError(f"{self.source.description} is a run folder already; name a folder to write its bundle to (--out DIR)")
            return self.save_pretrained(out)
        if out is not None:  # before anything is fetched
            out = Path(out)
            if out.exists() and (not out.is_dir() or any(out.iterdir())):
                raise GanzooError(f"{out} is not empty; choose an empty or new folder")
            ensure_writable_dir(out.parent, what="output folder")
        paths = [self.source.weights(name) for name in self.network_names]
        for extra in (CARD_FILE, SAMPLES_FILE):
            self.source.extra(extra)
        folder = self.source.folder if isinstance(self.source, BundleFolder) else paths[0].parent
        if out is None:
            return folder
        with staged_folder(out) as staging:  # appears whole or not at all
            shutil.copytree(folder, staging, dirs_exist_ok=True)  # follows the Hub cache's links to its blobs
        return out

    def _what(self) -> str:
        return f"{self.config.get('recipe') or 'a converted'} model ({', '.join(self.network_names)})"

    def __repr__(self) -> str:
        return f"Model({self.source.description!r}, recipe={self.config.get('recipe')!r}, networks={self.network_names})"


def _is_pil(value: Any) -> bool:
    try:
        from PIL import Image
    except ImportError:  # pragma: no cover - torchvision depends on Pillow
        return False
    return isinstance(value, Image.Image)


def _to_pil(y: torch.Tensor) -> Image.Image:
    """A translation as a PIL image, truncated to 8 bits as the reference's ``tensor2im`` does, so
    ``ganzoo translate`` writes the PNGs its ``test.py`` writes (grids and FID round half up instead:
    :func:`ganzoo.data.images.to_uint8`; the two differ by at most one level)."""
    from torchvision.transforms import functional as TF

    return TF.to_pil_image(((y.detach().cpu().clamp(-1, 1) + 1) / 2))
