"""Pure matplotlib drawing: every `plot_*` takes `ax=None` (one module per section)."""
