"""Measures of what a model learned. :mod:`ganzoo.metrics.toy`: the embedded toy sets' scores, which read
a model's pictures back as labels (right class colour, recognisable shapes, every kind covered)."""
