"""One CUT iteration, in the reference's order: the discriminator, then the generator and the patch
projector from one loss (the adversarial term plus PatchNCE)."""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from ganzoo import Step


class CUTStep(Step):
    """G: A -> B; D judges B images; the projector (optimizer group F) maps encoder patches for PatchNCE.

    Hyper-parameters: ``nce_idt`` adds PatchNCE between B and G(B) (CUT; the identity's contrastive
    form), ``flip_equivariance`` flips the batch at random and the translation's features back
    (FastCUT), so the loss asks the generator to commute with horizontal flips.
    """

    def train_step(self, batch: dict[str, Any]) -> dict[str, Tensor]:
        real_a, real_b = batch["A"], batch["B"]
        gen, disc = self.nets["gen"], self.nets["disc"]
        identity = bool(self.hparams["nce_idt"]) and self.has_aux("nce")
        turn = self.generator_turn
        real = torch.cat([real_a, real_b]) if identity else real_a
        flipped = bool(self.hparams["flip_equivariance"]) and bool(torch.rand(()) < 0.5)
        if flipped:
            real = real.flip(3)
        with torch.set_grad_enabled(turn):
            fake = gen(real)
        fake_b = fake[: real_a.shape[0]]
        loss_d = self.discriminator_loss(disc, real_b, fake_b)
        self.update("D", loss_d)
        logs = {"D": loss_d.detach()}
        if not turn:
            return logs
        with self.frozen(disc):
            loss_gan = self.adversarial.generator_loss(disc(fake_b))
            loss_nce = self.patch_nce(real_a, fake_b, flipped=flipped)
            total_nce = loss_nce
            if identity:
                loss_idt = self.patch_nce(real_b, fake[real_a.shape[0]:], flipped=flipped)
                total_nce = (loss_nce + loss_idt) * 0.5
                logs["NCE_Y"] = loss_idt.detach()
            self.update(("G", "F"), loss_gan + total_nce)
        logs.update({"G_gan": loss_gan.detach(), "NCE": loss_nce.detach()})
        return logs

    def patch_nce(self, source: Tensor, translation: Tensor, *, flipped: bool) -> Tensor:
        """PatchNCE between an input and its translation, weighted, averaged over the projector's layers.

        The translation's patches are the queries; the input's, the keys. The keys are detached in the
        loss, so they are computed without a graph (the same numbers, less memory).
        """
        if not self.has_aux("nce"):
            return torch.zeros((), device=self.device)
        gen, projector, term = self.nets["gen"], self.nets["projector"], self.aux["nce"]
        layers = list(projector.layers)
        queries = gen.encode(translation, layers)
        if flipped:  # the translation came from the flipped input: flip its features back into place
            queries = [q.flip(3) for q in queries]
        with torch.no_grad():
            keys, positions = projector(gen.encode(source, layers))
        queries, _ = projector(queries, positions=positions)
        total = sum(term.loss(q, k) for q, k in zip(queries, keys))
        return total * term.weight / len(layers)

    def sample_rows(self, fixed: dict[str, Any]) -> dict[str, Tensor]:
        gen = self.nets["gen"]
        rows = {"input A": fixed["A"], "translated to B": gen(fixed["A"]), "input B": fixed["B"]}
        if self.hparams["nce_idt"]:
            rows["B through G (identity)"] = gen(fixed["B"])
        return rows

    def monitor(self, means: dict[str, float]) -> float:
        return sum(v for k, v in means.items() if k != "D")
