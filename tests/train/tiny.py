"""Tiny settings that make any recipe train in a second or two on a CPU."""

TINY_SETS = {"gen.ngf": 8, "disc.ndf": 8, "score_samples": 8, "log_every": 1}


def tiny_config(recipe, **kwargs):
    from ganzoo.train.config import resolve_config

    sets = {k: v for k, v in {**TINY_SETS, **kwargs.pop("sets", {})}.items() if v is not None}  # None: drop
    return resolve_config(recipe, batch_size=kwargs.pop("batch_size", 2), steps=kwargs.pop("steps", 3),
                          sets=sets, **kwargs)
