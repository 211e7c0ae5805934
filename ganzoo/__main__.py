"""``python -m ganzoo``: the ``ganzoo`` command, as torchrun starts it (``torchrun ... -m ganzoo run RECIPE``)."""

from ganzoo.cli import main

if __name__ == "__main__":
    main()
