"""Network families, one per file. Importing this package imports torch; ``import ganzoo`` does not."""
