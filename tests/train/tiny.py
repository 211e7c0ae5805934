"""Tiny settings that make any recipe train in a second or two on a CPU."""

TINY_SETS = {"gen.ngf": 8, "disc.ndf": 8, "score_samples": 8, "log_every": 1}


def tiny_config(recipe, **kwargs):
    from ganzoo.train.config import resolve_config

    sets = {k: v for k, v in {**TINY_SETS, **kwargs.pop("sets", {})}.items() if v is not None}  # None: drop
    return resolve_config(recipe, batch_size=kwargs.pop("batch_size", 2), steps=kwargs.pop("steps", 3),
                          sets=sets, **kwargs)


def register_one_layer_generator(name: str = "onelayer") -> str:
    """Register (for this process) a minimal third-party-style generator and return its name."""
    import ganzoo
    from torch import nn

    class OneLayer(nn.Module):
        """A one-convolution image generator, as a plugin might bring."""

        input_kind = "image"

        def __init__(self, *, in_channels: int = 3, out_channels: int = 3):
            super().__init__()
            self.in_channels, self.out_channels = in_channels, out_channels
            self.conv = nn.Conv2d(in_channels, out_channels, 3, padding=1)

        def forward(self, x):
            return self.conv(x).tanh()

    ganzoo.register_generator(OneLayer, name=name)
    return name
