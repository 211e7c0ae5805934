"""ganzoo's own loggers: components of kind ``logger`` that implement the run's event hooks."""
