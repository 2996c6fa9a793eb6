"""Checkers for the 练习 cells: each prints ✓ or ✗ with a hint."""
