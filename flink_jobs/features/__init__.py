"""Declarative feature groups: the model, the catalogue, its validation, and SQL generation."""
