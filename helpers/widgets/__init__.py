"""Thin ipywidgets wiring over `helpers.plot` (one module per section)."""
