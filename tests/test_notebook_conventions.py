"""Every notebook follows the course's conventions (tools/notebooks.py)."""
import importlib.util
from pathlib import Path

import nbformat
import pytest

REPO = Path(__file__).resolve().parent.parent
spec = importlib.util.spec_from_file_location(
    "nbtools", REPO / "tools" / "notebooks.py")
nbtools = importlib.util.module_from_spec(spec)
spec.loader.exec_module(nbtools)

EXPECTED = ["6.1", "6.2", "6.3", "6.4", "6.5", "6.6"]
NOTEBOOKS = [nbtools.NB_DIR / nbtools.INDEX] + nbtools.section_notebooks()


def test_one_notebook_per_section():
    found = [p.name.split("-")[0] for p in nbtools.section_notebooks()]
    assert found == EXPECTED
    assert (nbtools.NB_DIR / nbtools.INDEX).exists()


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_conventions(path):
    nb = nbformat.read(path, as_version=4)
    assert nbtools.problems(path, nb) == []


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_nav_and_toc_up_to_date(path):
    fresh = nbtools.refreshed()[path]
    stored = nbformat.read(path, as_version=4)
    assert nbformat.writes(fresh) == nbformat.writes(stored), (
        "run: python tools/notebooks.py nav")


def test_nav_links_point_to_neighbours():
    paths = nbtools.section_notebooks()
    for k, path in enumerate(paths):
        nav = nbformat.read(path, as_version=4).cells[0].source
        assert f"]({nbtools.INDEX})" in nav
        if k + 1 < len(paths):
            assert f"]({paths[k + 1].name})" in nav
        if k > 0:
            assert f"]({paths[k - 1].name})" in nav


def test_index_lists_every_section():
    nb = nbformat.read(nbtools.NB_DIR / nbtools.INDEX, as_version=4)
    toc = [c for c in nb.cells if nbtools.has_tag(c, nbtools.TOC_TAG)]
    assert len(toc) == 1
    for path in nbtools.section_notebooks():
        assert f"]({path.name})" in toc[0].source


def test_widget_cells_ignore_output_and_follow_a_static_figure():
    # nbval cannot reproduce a live widget's repr: such cells must be
    # marked, and a static figure must precede them for GitHub readers.
    for path in nbtools.section_notebooks():
        nb = nbformat.read(path, as_version=4)
        code = [c for c in nb.cells if c.cell_type == "code"]
        for k, cell in enumerate(code):
            widget = any("application/vnd.jupyter.widget-view+json"
                         in o.get("data", {}) for o in cell.outputs)
            if widget:
                assert cell.source.startswith("# NBVAL_IGNORE_OUTPUT"), (
                    f"{path.name}: widget cell {k} not marked")
                before = [o for c in code[:k] for o in c.outputs
                          if "image/png" in o.get("data", {})]
                assert before, f"{path.name}: no static figure before {k}"
