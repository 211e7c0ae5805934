"""The generic training engine: everything around a recipe's step."""
