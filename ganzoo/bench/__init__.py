"""Benchmarks of ganzoo's training step and inference against the plain reference algorithms.

``ganzoo bench`` runs them (:func:`ganzoo.bench.suite.run_benchmark`); :mod:`ganzoo.bench.baseline` is
the reference written plainly, :mod:`ganzoo.bench.measure` takes the figures, :mod:`ganzoo.bench.report`
makes docs/benchmarks.md from the JSON. Importing this package imports no torch.
"""
