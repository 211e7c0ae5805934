"""Try levers for the DCGAN toy (issue 12), some not options of ganzoo yet, before building them in.

Written when the DCGAN toy (then spectral norm and the hinge loss, its defaults here) drew samples that
fit the palette but whose shapes were blobs, too few recognisable to cover every kind; the toy now takes
R1 at a higher learning rate (docs/recipes/dcgan.md). Some levers that may help were not options of the
library: ProGAN's minibatch standard deviation and a full-resolution first layer in the discriminator
still are not; R1 (Mescheder et al. 2018, https://arxiv.org/abs/1801.04406, in StyleGAN2's lazy form) and
a generator that doubles by nearest-neighbour upsampling and a 3x3 convolution (Odena et al. 2016,
"Deconvolution and Checkerboard Artifacts") now are (the losses' ``r1_weight`` and ``r1_interval``, the
DCGAN generator's ``upsample``), and ``--r1`` and ``--upsample`` here take ganzoo's. This script trains
the toy with ganzoo's own DCGAN networks, toy data (``toy:shapes``, 6000 scenes, with flips) and scores,
in a plain loop that does what the DCGAN step does (one discriminator update, then one generator update,
an EMA of the generator with ganzoo's warm-up, samples in eval mode), with those levers switchable, and
prints one JSON line per run: the scores of 100 samples (what a run's scores.json holds) and of 400 (less
noisy), and the wall time::

    OMP_NUM_THREADS=1 python benchmarks/dcgan_toy_levers.py --batch 16 --steps 6000 --loss logistic \\
        --r1 1 --r1-every 4 --no-spectral-norm --ndf 32 --betas 0 0.99 --upsample nearest --seed 0

A lever that holds here is then built into the library and measured with the README's command
(benchmarks/toy_matrix.py); docs/recipes/dcgan.md lists what was tried.
"""

from __future__ import annotations

import argparse
import copy
import json
import time
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ganzoo.data.toy import TOY_SETS
from ganzoo.losses.adversarial import r1_penalty
from ganzoo.nn.dcgan import UPSAMPLING, DCGANDiscriminator, DCGANGenerator
from ganzoo.train.report import save_grid


class MinibatchStd(nn.Module):
    """ProGAN's minibatch standard deviation: one more channel holding the mean standard deviation of
    the features over groups of ``group`` samples, so the discriminator can see a batch lacking variety."""

    def __init__(self, group: int = 4) -> None:
        super().__init__()
        self.group = group

    def forward(self, x: Tensor) -> Tensor:
        n, c, h, w = x.shape
        g = min(self.group, n)
        y = x.view(g, -1, c, h, w)
        y = (y - y.mean(0)).pow(2).mean(0).add(1e-8).sqrt().mean([1, 2, 3])
        return torch.cat([x, y.view(-1, 1, 1, 1).repeat(g, 1, h, w)], 1)


def build(args: argparse.Namespace) -> tuple[nn.Module, nn.Module]:
    gen = DCGANGenerator(nz=100, ngf=args.ngf, image_size=32, norm="batch", upsample=args.upsample)
    disc = DCGANDiscriminator(ndf=args.ndf, image_size=32, norm="none", spectral_norm=args.spectral_norm)
    layers = list(disc.main)
    if args.full_res:
        first = layers[0]
        layers = [nn.Conv2d(3, args.full_res, 3, padding=1), nn.LeakyReLU(0.2, True),
                  nn.Conv2d(args.full_res, first.out_channels, 4, 2, 1, bias=False), *layers[1:]]
    if args.mbstd:
        last = layers[-1]
        layers = [*layers[:-1], MinibatchStd(), nn.Conv2d(last.in_channels + 1, 1, 4, bias=False)]
    disc.main = nn.Sequential(*layers)
    return gen, disc


def losses(kind: str):
    """(discriminator loss, generator loss) on logits: hinge, or the non-saturating logistic loss."""
    if kind == "hinge":
        return (lambda r, f: F.relu(1 - r).mean() + F.relu(1 + f).mean()), (lambda f: -f.mean())
    return (lambda r, f: F.softplus(-r).mean() + F.softplus(f).mean()), (lambda f: F.softplus(-f).mean())


def train(args: argparse.Namespace) -> dict:
    torch.manual_seed(args.seed)
    toy = TOY_SETS["shapes"]
    data = toy.dataset(phase="train", image_size=32, size=6000).b
    gen, disc = build(args)
    average = copy.deepcopy(gen).eval()
    opt_g = torch.optim.Adam(gen.parameters(), args.lr, betas=tuple(args.betas))
    opt_d = torch.optim.Adam(disc.parameters(), args.lr_d or args.lr, betas=tuple(args.betas))
    d_loss, g_loss = losses(args.loss)
    start = time.perf_counter()
    for step in range(1, args.steps + 1):
        real = data[torch.randint(0, len(data), (args.batch,))]
        flip = torch.rand(args.batch) < 0.5
        real = torch.where(flip[:, None, None, None], real.flip(-1), real)
        fake = gen(torch.randn(args.batch, 100, 1, 1))
        loss = d_loss(disc(real), disc(fake.detach()))
        if args.r1 > 0 and step % args.r1_every == 0:  # R1 as ganzoo's losses take it (loss.r1_weight), lazily
            loss = loss + args.r1_every * r1_penalty(disc, real, weight=args.r1)
        opt_d.zero_grad(set_to_none=True)
        loss.backward()
        opt_d.step()
        disc.requires_grad_(False)
        opt_g.zero_grad(set_to_none=True)
        g_loss(disc(fake)).backward()
        opt_g.step()
        disc.requires_grad_(True)
        with torch.no_grad():  # ganzoo.train.ema: parameters averaged with a warm-up, buffers live
            decay = min(args.ema, step / (9 + step))
            for kept, live in zip(average.parameters(), gen.parameters()):
                kept.lerp_(live, 1 - decay)
            for kept, live in zip(average.buffers(), gen.buffers()):
                kept.copy_(live)
    seconds = time.perf_counter() - start
    with torch.no_grad():
        samples = average(torch.randn(400, 100, 1, 1, generator=torch.Generator().manual_seed(99)))
    if args.grid:
        save_grid([samples[i:i + 6] for i in range(0, 36, 6)], Path(args.grid))
    scores = {n: {k: round(v, 3) for k, v in toy.score(samples[:n]).items()} for n in (100, 400)}
    return {"args": vars(args), "scores_100": scores[100], "scores_400": scores[400], "seconds": round(seconds)}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--steps", type=int, default=1500)
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--loss", choices=("hinge", "logistic"), default="hinge")
    p.add_argument("--r1", type=float, default=0.0, help="R1 weight gamma (0: none)")
    p.add_argument("--r1-every", type=int, default=1, help="take the R1 penalty every Nth step")
    p.add_argument("--no-spectral-norm", dest="spectral_norm", action="store_false")
    p.add_argument("--ndf", type=int, default=16)
    p.add_argument("--ngf", type=int, default=32)
    p.add_argument("--lr", type=float, default=2e-4)
    p.add_argument("--lr-d", type=float, default=None)
    p.add_argument("--betas", type=float, nargs=2, default=(0.5, 0.999))
    p.add_argument("--ema", type=float, default=0.999)
    p.add_argument("--upsample", choices=UPSAMPLING, default="transposed")
    p.add_argument("--mbstd", action="store_true", help="minibatch standard deviation before the logit")
    p.add_argument("--full-res", type=int, default=0, help="channels of a 3x3 stride-1 first layer (0: none)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--grid", help="write 36 samples as a PNG grid here")
    print(json.dumps(train(p.parse_args())), flush=True)


if __name__ == "__main__":
    main()
