"""The baseline: each reference algorithm written plainly, eager fp32, without ganzoo's engine or steps.

Every ganzoo figure is divided by the figure of this code measured in the same run on the same device,
so it has to be the reference as people run it, not a ganzoo step in disguise:

* CycleGAN: ``optimize_parameters`` of pytorch-CycleGAN-and-pix2pix's ``models/cycle_gan_model.py``:
  G_A and G_B forward (fake and reconstruction), the generators' update with both discriminators
  frozen (LSGAN + cycle L1 x10 + identity L1 x0.5 x10), then D_A and D_B, each on a fake drawn from its
  own image pool of 50 (``util/image_pool.py``), each loss halved and back-propagated on its own, one
  optimizer step for both.
* Pix2Pix: ``models/pix2pix_model.py``: G forward, D update on the detached fake pair and the real pair
  (vanilla GAN loss, halved), then G update with D frozen (GAN + L1 x100).
* DCGAN: PyTorch's ``examples/dcgan/main.py``: D on the real batch (backward), D on the detached fake
  (backward), D step; then G through D (D not frozen, as the example) and G step. The example's
  ``Sigmoid`` + ``BCELoss`` is written as ``BCEWithLogitsLoss`` on logits: the same numbers, the same
  convolutions.

The networks are ganzoo's, built with :func:`ganzoo.create_generator` / :func:`ganzoo.create_discriminator`
with the reference's options spelled out here: their layout equals the reference's (``resnet_9blocks``,
``unet_256``, ``basic`` PatchGAN: tests/nn/test_reference.py loads the reference's checkpoints into them
and reproduces its outputs; the DCGAN pair has the example's layers at 64x64, checked in
tests/bench/test_bench.py). Adam 2e-4, betas (0.5, 0.999), normal(0, 0.02) initialisation, as the
references. Data loading is not part of the timed step, for the baseline as for ganzoo: both take the
same batch, already on the device.
"""

from __future__ import annotations

import itertools
import random
from typing import Any, Callable

import torch
from torch import Tensor, nn

from ganzoo.bench.cases import Case

LR, BETAS = 2e-4, (0.5, 0.999)


def set_requires_grad(nets: list[nn.Module], flag: bool) -> None:
    """The reference's ``BaseModel.set_requires_grad``: freeze the discriminators for the G update."""
    for net in nets:
        for p in net.parameters():
            p.requires_grad = flag


class ImagePool:
    """The reference's ``util/image_pool.py``: half the time a stored past fake replaces the new one."""

    def __init__(self, size: int = 50) -> None:
        self.size, self.images = size, []

    def query(self, images: Tensor) -> Tensor:
        if self.size == 0:
            return images
        out = []
        for image in images.detach():
            image = image.unsqueeze(0)
            if len(self.images) < self.size:
                self.images.append(image)
                out.append(image)
            elif random.uniform(0, 1) > 0.5:
                index = random.randint(0, self.size - 1)
                out.append(self.images[index].clone())
                self.images[index] = image
            else:
                out.append(image)
        return torch.cat(out, 0)


def _adam(*nets: nn.Module) -> torch.optim.Adam:
    return torch.optim.Adam(itertools.chain(*(n.parameters() for n in nets)), lr=LR, betas=BETAS)


def _gan_loss(criterion: nn.Module, prediction: Tensor, real: bool) -> Tensor:
    """The reference's ``GANLoss``: the criterion against a target of ones or zeros shaped like the prediction."""
    target = torch.ones_like(prediction) if real else torch.zeros_like(prediction)
    return criterion(prediction, target)


class CycleGANBaseline:
    """``CycleGANModel.optimize_parameters`` with resnet9 generators and 70x70 PatchGANs (instance norm)."""

    lambda_a = lambda_b = 10.0
    lambda_identity = 0.5

    def __init__(self, case: Case, device: torch.device) -> None:
        from ganzoo import create_discriminator, create_generator

        gen = dict(ngf=case.ngf, norm="instance", dropout=False)
        disc = dict(ndf=case.ndf, n_layers=3, norm="instance")
        self.g_a, self.g_b = (create_generator("resnet9", **gen).to(device) for _ in range(2))
        self.d_a, self.d_b = (create_discriminator("patchgan", **disc).to(device) for _ in range(2))
        self.opt_g, self.opt_d = _adam(self.g_a, self.g_b), _adam(self.d_a, self.d_b)
        self.pool_a, self.pool_b = ImagePool(50), ImagePool(50)
        self.gan, self.l1 = nn.MSELoss(), nn.L1Loss()

    def step(self, batch: dict[str, Tensor]) -> None:
        real_a, real_b = batch["A"], batch["B"]
        fake_b = self.g_a(real_a)
        rec_a = self.g_b(fake_b)
        fake_a = self.g_b(real_b)
        rec_b = self.g_a(fake_a)
        set_requires_grad([self.d_a, self.d_b], False)
        self.opt_g.zero_grad()
        idt_a = self.g_a(real_b)
        loss_idt_a = self.l1(idt_a, real_b) * self.lambda_b * self.lambda_identity
        idt_b = self.g_b(real_a)
        loss_idt_b = self.l1(idt_b, real_a) * self.lambda_a * self.lambda_identity
        loss_g = (_gan_loss(self.gan, self.d_a(fake_b), True) + _gan_loss(self.gan, self.d_b(fake_a), True)
                  + self.l1(rec_a, real_a) * self.lambda_a + self.l1(rec_b, real_b) * self.lambda_b
                  + loss_idt_a + loss_idt_b)
        loss_g.backward()
        self.opt_g.step()
        set_requires_grad([self.d_a, self.d_b], True)
        self.opt_d.zero_grad()
        self._backward_d(self.d_a, real_b, self.pool_b.query(fake_b))
        self._backward_d(self.d_b, real_a, self.pool_a.query(fake_a))
        self.opt_d.step()

    def _backward_d(self, disc: nn.Module, real: Tensor, fake: Tensor) -> None:
        """The reference's ``backward_D_basic``."""
        loss = (_gan_loss(self.gan, disc(real), True) + _gan_loss(self.gan, disc(fake.detach()), False)) * 0.5
        loss.backward()

    def inference(self) -> Callable[[Tensor], Tensor]:
        return self.g_a


class Pix2PixBaseline:
    """``Pix2PixModel.optimize_parameters`` with a U-Net (batch norm, dropout) and a conditional PatchGAN."""

    lambda_l1 = 100.0

    def __init__(self, case: Case, device: torch.device) -> None:
        from ganzoo import create_discriminator, create_generator

        self.g = create_generator("unet256", ngf=case.ngf, num_downs=case.num_downs, norm="batch",
                                  dropout=True).to(device)
        self.d = create_discriminator("patchgan", in_channels=6, ndf=case.ndf, n_layers=3, norm="batch").to(device)
        self.opt_g, self.opt_d = _adam(self.g), _adam(self.d)
        self.gan, self.l1 = nn.BCEWithLogitsLoss(), nn.L1Loss()

    def step(self, batch: dict[str, Tensor]) -> None:
        real_a, real_b = batch["A"], batch["B"]
        fake_b = self.g(real_a)
        set_requires_grad([self.d], True)
        self.opt_d.zero_grad()
        fake_ab = torch.cat((real_a, fake_b), 1)
        loss_d_fake = _gan_loss(self.gan, self.d(fake_ab.detach()), False)
        loss_d_real = _gan_loss(self.gan, self.d(torch.cat((real_a, real_b), 1)), True)
        ((loss_d_fake + loss_d_real) * 0.5).backward()
        self.opt_d.step()
        set_requires_grad([self.d], False)
        self.opt_g.zero_grad()
        loss_g = _gan_loss(self.gan, self.d(fake_ab), True) + self.l1(fake_b, real_b) * self.lambda_l1
        loss_g.backward()
        self.opt_g.step()

    def inference(self) -> Callable[[Tensor], Tensor]:
        return self.g


class DCGANBaseline:
    """The training loop body of PyTorch's DCGAN example (nz 100, batch norm, BCE)."""

    nz = 100

    def __init__(self, case: Case, device: torch.device) -> None:
        from ganzoo import create_discriminator, create_generator

        self.device = device
        self.g = create_generator("dcgan", nz=self.nz, ngf=case.ngf, image_size=case.image_size,
                                  norm="batch").to(device)
        self.d = create_discriminator("dc", ndf=case.ndf, image_size=case.image_size, norm="batch").to(device)
        self.opt_g, self.opt_d = _adam(self.g), _adam(self.d)
        self.criterion = nn.BCEWithLogitsLoss()

    def step(self, batch: dict[str, Tensor]) -> None:
        real = batch["image"]
        size = real.size(0)
        self.d.zero_grad()
        output = self.d(real).view(-1)
        label = torch.full((size,), 1.0, device=self.device)
        self.criterion(output, label).backward()
        noise = torch.randn(size, self.nz, 1, 1, device=self.device)
        fake = self.g(noise)
        label.fill_(0.0)
        output = self.d(fake.detach()).view(-1)
        self.criterion(output, label).backward()
        self.opt_d.step()
        self.g.zero_grad()
        label.fill_(1.0)
        output = self.d(fake).view(-1)
        self.criterion(output, label).backward()
        self.opt_g.step()

    def inference(self) -> Callable[[int], Tensor]:
        def sample(n: int) -> Tensor:
            return self.g(torch.randn(n, self.nz, 1, 1, device=self.device))

        return sample


BASELINES: dict[str, Any] = {"cyclegan": CycleGANBaseline, "pix2pix": Pix2PixBaseline, "dcgan": DCGANBaseline}


def build_baseline(case: Case, device: torch.device) -> Any:
    """The plain reference implementation of ``case``'s recipe, seeded like ganzoo's run (seed 0)."""
    torch.manual_seed(0)
    random.seed(0)
    return BASELINES[case.recipe](case, device)
