"""Measures of what a model learned.

- :mod:`ganzoo.metrics.toy`: the embedded toy sets' scores, which read a model's pictures back as labels
  (right class colour, recognisable shapes, every kind covered).
- :mod:`ganzoo.metrics.fidelity`: FID and KID between generated and real images, by torch-fidelity's
  functions, with a record of how each number was made; :mod:`ganzoo.metrics.features` turns images into
  feature vectors (Inception v3 or a timm model), and :mod:`ganzoo.metrics.weights` finds, verifies and
  fetches the feature networks' weights.
"""
