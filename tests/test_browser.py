"""Every notebook, run in JupyterLab in headless Chromium (issue 7).

For each notebooks/*.ipynb: open it in a real JupyterLab (this
environment's, with the widget front end), clear outputs, run all cells,
check that no cell raised and every widget rendered as a widget, move one
control of each widget and check that its figure and readout change, and
keep a screenshot. Artifacts: artifacts/browser/<notebook>.png and
artifacts/browser/timings.json (run and widget update times).

Needs Debian's Chromium at /usr/bin/chromium and the Playwright Python
package (never `playwright install`). Without Chromium the tests skip,
unless CI or COURSE_REQUIRE_BROWSER=1 is set: then they fail.
COURSE_UPDATE_SCREENSHOTS=1 also copies the screenshots to
docs/screenshots/. COURSE_BROWSER_NOTEBOOKS=DIR runs the notebooks of
another folder (for development); COURSE_BROWSER_TIMEOUT=S changes the
Run All limit per notebook (480 s).
"""
import os
import shutil
import tempfile
import warnings
from pathlib import Path

import pytest

from browser_support import (
    LabServer, chromium_missing_message, kill_processes_using,
    missing_cjk_font, open_browser, run_notebook, write_json_atomic)

REPO = Path(__file__).resolve().parent.parent
NOTEBOOKS = Path(os.environ.get("COURSE_BROWSER_NOTEBOOKS")
                 or REPO / "notebooks")
ARTIFACTS = REPO / "artifacts" / "browser"
DOCS_SHOTS = REPO / "docs" / "screenshots"
# Seconds for Run All of one notebook. 6.6 trains briefly even in quick
# mode: about 285 s on 2 CPU cores shared with other jobs (load 14).
NOTEBOOK_TIMEOUT = int(os.environ.get("COURSE_BROWSER_TIMEOUT", "480"))
SELFTEST = "_selftest_raises.ipynb"

pytestmark = pytest.mark.browser

_RUNS = {}


def _notebook_names():
    return sorted(p.name for p in NOTEBOOKS.glob("*.ipynb"))


def _require_browser():
    why = chromium_missing_message()
    if why is None:
        return
    if os.environ.get("CI") or os.environ.get(
            "COURSE_REQUIRE_BROWSER") == "1":
        pytest.fail(f"browser test required (CI / COURSE_REQUIRE_BROWSER): "
                    f"{why}", pytrace=False)
    pytest.skip(why)


@pytest.fixture(scope="module")
def lab(data_dir):
    """A JupyterLab server on a temporary copy of the notebooks."""
    _require_browser()
    if missing_cjk_font():
        warnings.warn("no Chinese font installed: the screenshots show the "
                      "prose as boxes (apt-get install -y "
                      "fonts-wqy-microhei or fonts-noto-cjk)")
    workdir = Path(tempfile.mkdtemp(prefix="course-browser-"))
    server = None
    try:
        server = LabServer(NOTEBOOKS, workdir, env={
            "COURSE_QUICK": "1", "COURSE_DATA_DIR": str(data_dir),
            "MPLBACKEND": "module://matplotlib_inline.backend_inline"})
        _write_selftest(server.root / SELFTEST)
        yield server
    finally:
        if server is not None:
            server.stop()
        shutil.rmtree(workdir, ignore_errors=True)


@pytest.fixture(scope="module")
def browser(lab, request):
    """Debian's Chromium (headless) driven by Playwright."""
    from playwright.sync_api import sync_playwright

    profile = Path(tempfile.mkdtemp(prefix="course-chromium-"))
    pw = sync_playwright().start()
    context = None
    try:
        context = open_browser(pw, profile)
        context.set_default_timeout(30_000)
        yield context
    finally:
        try:
            if context is not None:
                context.close()
        finally:
            pw.stop()
            kill_processes_using(profile)
            shutil.rmtree(profile, ignore_errors=True)
            _report(request.config)


@pytest.fixture(scope="module")
def page(browser):
    """One JupyterLab page for all notebooks (loading the app is slow)."""
    holder = {"page": browser.new_page()}
    yield holder
    holder["page"].close()


def _run(lab, page, name, shot):
    try:
        return run_notebook(page["page"], lab, name, lab.root / name, shot,
                            timeout=NOTEBOOK_TIMEOUT)
    except BaseException:
        # Start the next notebook in a fresh page.
        old = page["page"]
        try:
            old.close()
            page["page"] = old.context.new_page()
        except Exception:
            pass
        raise
    finally:
        lab.shutdown_kernels(name)


@pytest.mark.parametrize("name", _notebook_names())
def test_notebook_in_jupyterlab(lab, page, name, record_timing):
    """Run All in JupyterLab: no errors, widgets render and respond."""
    stem = Path(name).stem
    shot = ARTIFACTS / f"{stem}.png"
    res = _run(lab, page, name, shot)
    _RUNS[name] = res.summary()
    write_json_atomic(ARTIFACTS / "timings.json", _RUNS)
    for u in res.updates:
        if u.figure_changed:
            record_timing(f"browser {stem} {u.cell}", u.ms)
    if os.environ.get("COURSE_UPDATE_SCREENSHOTS") == "1" and \
            shot.exists():
        DOCS_SHOTS.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(shot, DOCS_SHOTS / shot.name)
    problems = res.problems()
    if problems:
        pytest.fail(f"{name} in JupyterLab (screenshot {shot}):\n\n"
                    + "\n\n".join(problems), pytrace=False)
    if res.widget_cells:
        moved = [u for u in res.updates if u.figure_changed]
        assert moved, (f"{name}: no widget had a control (slider, dropdown, "
                       f"text box) and a figure that could be moved")
        assert any(u.readout_changed for u in moved), (
            f"{name}: moving a control changed a figure but no readout: "
            + "; ".join(f"{u.cell} {u.control}: {u.readout_before!r}"
                        for u in moved))


def test_runner_reports_tracebacks(lab, page):
    """The detector works: a raising cell fails with its traceback shown,
    a widget shown as text is flagged, a working widget responds and a
    widget whose callback raises is reported with that traceback."""
    res = _run(lab, page, SELFTEST, ARTIFACTS / "selftest" / "raises.png")
    problems = "\n".join(res.problems())
    assert "ZeroDivisionError" in problems, problems
    assert "Traceback" in problems or "division by zero" in problems
    assert res.text_reprs and "IntSlider(" in res.text_reprs[0][1], problems
    # Run All stops at the error: the cell after it never runs.
    assert res.executed_cells == res.code_cells - 1, res
    assert "cell 5 of 6" in problems, problems
    assert not res.timed_out
    moved = [u for u in res.updates if u.figure_changed]
    assert len(moved) == 2 and moved[0].readout_changed, res.updates
    assert not moved[0].error, moved[0].error
    # An exception in a widget callback shows in the log console only.
    assert "ValueError: callback broke" in moved[1].error, moved[1].error


SELFTEST_WIDGET = '''\
import ipywidgets as widgets
import numpy as np
from helpers.widgets.common import FigureView, new_figure


def explorer(broken=False):
    fig = new_figure((3, 2))
    x = np.linspace(0, 6, 50)
    line, = fig.add_subplot().plot(x, np.sin(x))
    view = FigureView(fig)
    k = widgets.IntSlider(value=1, min=1, max=5, description="k")
    readout = widgets.HTML(value="k = 1")

    def update(change):
        line.set_ydata(np.sin(k.value * x))
        view.refresh()
        if broken:
            raise ValueError("callback broke")
        readout.value = f"k = {k.value}"

    k.observe(update, names="value")
    return widgets.VBox([k, view.image, readout])


explorer()'''


def _write_selftest(path):
    """A scratch notebook (only in the temporary copy) with a widget, one
    whose callback raises, a widget printed as text and a raising cell."""
    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "language": "python",
                                 "display_name": "Python 3"}
    widget = nbformat.v4.new_code_cell(SELFTEST_WIDGET)
    widget.outputs = [nbformat.v4.new_output(
        "display_data", data={
            "application/vnd.jupyter.widget-view+json": {
                "model_id": "0", "version_major": 2, "version_minor": 0},
            "text/plain": "VBox(...)"})]
    broken = nbformat.v4.new_code_cell("explorer(broken=True)")
    broken.outputs = widget.outputs
    nb.cells = [
        nbformat.v4.new_markdown_cell("# self-test of the browser runner"),
        widget,
        broken,
        nbformat.v4.new_code_cell(
            "from IPython.display import display\n"
            "display({'text/plain': 'IntSlider(value=3)'}, raw=True)"),
        nbformat.v4.new_code_cell("1 / 0"),
        nbformat.v4.new_code_cell("print('never runs')"),
    ]
    nbformat.write(nb, str(path))


def _report(config):
    """Print per-notebook run and slowest widget update times."""
    if not _RUNS:
        return
    tr = config.pluginmanager.get_plugin("terminalreporter")
    capman = config.pluginmanager.get_plugin("capturemanager")
    if tr is None:
        return
    if capman is not None:
        with capman.global_and_fixture_disabled():
            _write_report(tr)
    else:
        _write_report(tr)


def _write_report(tr):
    tr.write_line("")
    tr.write_sep("-", "browser: Run All time and slowest widget update")
    for name, s in _RUNS.items():
        slow = s["slowest_update_ms"]
        tr.write_line(
            f"{name}: open {s['open_s']} s, run all {s['run_s']} s, "
            f"total {s['total_s']} s, {len(s['updates'])} widget(s) moved, "
            f"slowest update {'-' if slow is None else f'{slow:.0f} ms'}"
            f"{'  PROBLEMS' if s['problems'] else ''}")
    tr.write_line(f"details: {ARTIFACTS / 'timings.json'}")
