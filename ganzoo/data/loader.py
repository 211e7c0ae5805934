"""DataLoaders tuned for the data set at hand: workers, pinned memory, persistent workers, sharding."""

from __future__ import annotations

import os

import torch
from torch.utils.data import DataLoader, Dataset, DistributedSampler, Sampler

from ganzoo.data.toy import ToyDataset


def default_workers(dataset: Dataset) -> int:
    """In-memory toy sets load fastest in the main process; folders get up to 4 worker processes."""
    if isinstance(dataset, ToyDataset):
        return 0
    return max(0, min(4, (os.cpu_count() or 1) - 1))


def make_loader(dataset: Dataset, *, batch_size: int, shuffle: bool = True, workers: int | None = None,
                device: torch.device | str = "cpu", drop_last: bool = True, seed: int | None = None,
                distributed: bool | None = None, sampler: Sampler | None = None,
                generator: torch.Generator | None = None, persistent: bool = True) -> DataLoader:
    """A DataLoader for training or evaluation.

    Under ``torch.distributed`` (or ``distributed=True``) each process reads its own shard through a
    :class:`DistributedSampler`; call ``loader.sampler.set_epoch(epoch)`` each epoch to reshuffle. A
    caller with its own ``sampler`` (and ``generator`` for worker seeds) keeps control of the order;
    ``persistent=False`` restarts workers each epoch, so their random streams depend on the epoch alone.
    """
    workers = default_workers(dataset) if workers is None else workers
    if distributed is None:
        distributed = torch.distributed.is_available() and torch.distributed.is_initialized()
    if generator is None and seed is not None:
        generator = torch.Generator().manual_seed(seed)
    if sampler is None and distributed:
        sampler = DistributedSampler(dataset, shuffle=shuffle, seed=seed or 0, drop_last=drop_last)
    return DataLoader(
        dataset,
        batch_size=min(batch_size, len(dataset)) if drop_last else batch_size,
        shuffle=shuffle and sampler is None,
        sampler=sampler,
        num_workers=workers,
        pin_memory=torch.device(device).type == "cuda",
        persistent_workers=persistent and workers > 0,
        drop_last=drop_last,
        generator=generator,
    )
