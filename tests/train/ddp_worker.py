"""What tests/train/test_distributed.py runs in each process torchrun starts (or in one plain process).

    python -m torch.distributed.run --standalone --nproc-per-node 2 tests/train/ddp_worker.py SCENARIO OUT JSON

Each process writes ``OUT/rank-R.json``: a digest of every network's parameters after training, so the
test compares the processes (and a single process) without sharing memory.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the repository: tests.train.tiny

from ganzoo.train import distributed  # noqa: E402
from ganzoo.train.engine import Trainer  # noqa: E402
from tests.train.tiny import tiny_spec  # noqa: E402


def parameters(trainer: Trainer) -> dict[str, list[float]]:
    """Every network's parameters, flattened, as lists of numbers (small at tiny sizes)."""
    return {name: torch.cat([p.detach().float().flatten().cpu() for p in net.parameters()]).tolist()
            for name, net in trainer.nets.items()}


def train(out: Path, options: dict) -> None:
    """A whole run through the engine (every process trains into the same run folder)."""
    spec = tiny_spec(options["recipe"], steps=options.get("steps", 3), batch_size=options.get("batch_size", 1),
                     sets=options.get("sets"), loss=options.get("loss"))
    with distributed.session(device="cpu") as here:
        run_dir = here.on_main(lambda: out / "run")
        trainer = Trainer(spec, run_dir, progress=False)
        trainer.run_training()
        first = next(trainer._batches(0))  # what the loader gave this process at step 1
        result = {"parameters": parameters(trainer), "world_size": here.size,
                  "first_batch": list(first.get("path") or first.get("A_path"))}
        (out / f"rank-{here.rank}.json").write_text(json.dumps(result))


def same_batches(out: Path, options: dict) -> None:
    """``steps`` iterations on fixed items of the toy set: item ``r`` on rank ``r`` of 2, or items 0
    and 1 as one batch of 2 in a single process; a noise-to-image recipe gets the matching rows of one
    fixed noise tensor. Data order, flips and noise are then the same both ways. ``alone``: item 0 alone."""
    spec = tiny_spec(options["recipe"], steps=options["steps"], batch_size=2, sets=options.get("sets"),
                     loss=options.get("loss"))
    with distributed.session(device="cpu") as here:
        trainer = Trainer(spec, out / "run", progress=False)
        trainer.dataset.flip = False  # the flips are drawn per process: none, so both ways see the same images
        items = [trainer.dataset[i] for i in range(2)]
        share = slice(0, 1) if options.get("alone") else slice(0, 2) if here.size == 1 else slice(here.rank, here.rank + 1)
        mine = items[share]
        batch = {k: torch.stack([it[k] for it in mine]) for k, v in mine[0].items() if isinstance(v, torch.Tensor)}
        if "gen" in trainer.nets and hasattr(trainer.nets["gen"], "noise"):
            gen = trainer.nets["gen"]
            noise = gen.noise(2, generator=torch.Generator().manual_seed(7))
            rows = noise[share]
            gen.noise = lambda n, device=None, generator=None: rows.to(device)
        for _ in range(options["steps"]):
            trainer.iteration(dict(batch))
        (out / f"rank-{here.rank}.json").write_text(json.dumps({"parameters": parameters(trainer)}))


if __name__ == "__main__":
    scenario, folder, options = sys.argv[1], Path(sys.argv[2]), json.loads(sys.argv[3])
    {"train": train, "same_batches": same_batches}[scenario](folder, options)
