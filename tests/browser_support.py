"""Drive JupyterLab in headless Chromium for tests/test_browser.py.

`LabServer` starts `python -m jupyterlab` from this environment on a copy
of the notebooks; `open_browser` launches Debian's Chromium through
Playwright; `run_notebook` opens one notebook, clears and re-runs it, checks
its outputs, moves one control per widget and takes a screenshot.
"""
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from dataclasses import asdict, dataclass, field
from pathlib import Path

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu",
                 "--disable-quic", "--no-first-run",
                 "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
INSTALL_HINT = ("install Debian's Chromium: `sudo apt-get install -y "
                "chromium` (do not use `playwright install`)")
WIDGET_MIME = "application/vnd.jupyter.widget-view+json"
# A widget that the front end could not render shows its text repr, e.g.
# "VBox(children=(...))" or "IntSlider(value=3)" (keyword arguments, unlike
# matplotlib's "Text(0.5, 1.0, 'title')").
WIDGET_REPR = re.compile(
    r"^\s*(VBox|HBox|Box|GridBox|Tab|Accordion|interactive|IntSlider|"
    r"FloatSlider|IntRangeSlider|SelectionSlider|Dropdown|ToggleButtons|"
    r"RadioButtons|Checkbox|Button|Image|HTML|Label|Output|Play|IntText|"
    r"FloatText|BoundedIntText|Text|[A-Z]\w*Explorer)\((\w+=|\)\s*$)",
    re.M)
ERROR_LINE = re.compile(r"Traceback \(most recent call last\)|"
                        r"^\s*\w*(Error|Exception)\b.*$|"
                        r"Error displaying widget", re.M)

# Settings that switch off JupyterLab's news and update pop-ups, autosave
# (the copy is thrown away anyway) and windowed rendering (so every cell,
# also the off-screen ones, is in the DOM).
LAB_SETTINGS = {
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings":
        {"fetchNews": "false", "checkForUpdates": False},
    "@jupyterlab/docmanager-extension/plugin.jupyterlab-settings":
        {"autosave": False},
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings":
        {"windowingMode": "none"},
}


def missing_cjk_font():
    """True when fontconfig knows no Chinese font (the notebooks' prose
    would show as boxes in the screenshots)."""
    try:
        out = subprocess.run(["fc-list", ":lang=zh", "family"],
                             capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.SubprocessError):
        return False
    return out.returncode == 0 and not out.stdout.strip()


def free_port():
    """A TCP port on 127.0.0.1 that nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def chromium_missing_message():
    """None when /usr/bin/chromium and Playwright exist, else the reason."""
    if not CHROMIUM.exists():
        return f"{CHROMIUM} not found: {INSTALL_HINT}"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return ("the Playwright Python package is missing: "
                "`pip install -e '.[test]'` (no `playwright install`)")
    return None


class LabServer:
    """`jupyter lab` on 127.0.0.1 serving a temporary copy of a folder."""

    def __init__(self, notebooks, workdir, env=None, timeout=120):
        self.workdir = Path(workdir)
        self.root = self.workdir / "notebooks"
        shutil.copytree(notebooks, self.root, ignore=shutil.ignore_patterns(
            ".ipynb_checkpoints", "__pycache__"))
        self.token = secrets.token_hex(16)
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.log_path = self.workdir / "jupyter-lab.log"
        self.proc = None
        dirs = {name: self.workdir / name for name in (
            "runtime", "settings", "workspaces", "data", "config")}
        for d in dirs.values():
            d.mkdir()
        for rel, value in LAB_SETTINGS.items():
            path = dirs["settings"] / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(value))
        full_env = dict(os.environ)
        full_env.update(env or {})
        repo = str(Path(__file__).resolve().parent.parent)
        full_env["PYTHONPATH"] = os.pathsep.join(
            p for p in (repo, full_env.get("PYTHONPATH")) if p)
        full_env.update(
            JUPYTER_RUNTIME_DIR=str(dirs["runtime"]),
            JUPYTERLAB_SETTINGS_DIR=str(dirs["settings"]),
            JUPYTERLAB_WORKSPACES_DIR=str(dirs["workspaces"]),
            JUPYTER_DATA_DIR=str(dirs["data"]),
            JUPYTER_CONFIG_DIR=str(dirs["config"]),
            JUPYTER_PLATFORM_DIRS="1",
            PYDEVD_DISABLE_FILE_VALIDATION="1")
        cmd = [sys.executable, "-m", "jupyterlab", "--no-browser",
               "--ip", "127.0.0.1", f"--port={self.port}",
               "--ServerApp.port_retries=0",
               f"--ServerApp.token={self.token}",
               f"--ServerApp.root_dir={self.root}",
               "--LabApp.news_url=None",
               # window.jupyterapp: read cell models, run lab commands
               "--LabApp.expose_app_in_browser=True",
               "--LabApp.check_for_updates_class="
               "jupyterlab.NeverCheckForUpdate"]
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            cmd.append("--allow-root")
        self._log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(
            cmd, env=full_env, cwd=self.root, stdin=subprocess.DEVNULL,
            stdout=self._log, stderr=subprocess.STDOUT,
            start_new_session=True)
        try:
            self._wait_ready(timeout)
        except BaseException:
            self.stop()
            raise

    def url(self, path, **query):
        """Server URL for `path` with the token in the query."""
        query = {"token": self.token, **query}
        return (f"{self.base_url}/{path.lstrip('/')}?"
                + urllib.parse.urlencode(query))

    def api(self, path, method="GET"):
        """Call the REST API; returns the decoded JSON (or None)."""
        req = urllib.request.Request(
            f"{self.base_url}/api/{path}", method=method,
            headers={"Authorization": f"token {self.token}"})
        with urllib.request.urlopen(req, timeout=10) as resp:
            body = resp.read()
        return json.loads(body) if body else None

    def log_tail(self, n=40):
        """The last `n` lines the server wrote (for failure messages)."""
        try:
            lines = self.log_path.read_text(errors="replace").splitlines()
        except OSError:
            return ""
        return "\n".join(lines[-n:])

    def _wait_ready(self, timeout):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(
                    f"jupyter lab exited with {self.proc.returncode}:\n"
                    + self.log_tail())
            try:
                self.api("status")
                return
            except OSError:
                time.sleep(0.3)
        raise RuntimeError(f"jupyter lab did not answer within {timeout} s:"
                           f"\n{self.log_tail()}")

    def shutdown_kernels(self, path=None):
        """Shut down the kernels of all sessions (or of notebook `path`)."""
        try:
            for s in self.api("sessions") or []:
                if path is None or s.get("path") == path:
                    self.api(f"sessions/{s['id']}", method="DELETE")
        except OSError:
            pass

    def stop(self):
        """Stop the server by its handle: terminate, wait, then kill."""
        if self.proc is not None and self.proc.poll() is None:
            self.shutdown_kernels()
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        if self.proc is not None and hasattr(os, "killpg"):
            # The server led its own process group: stop what is left.
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        self._log.close()


def open_browser(playwright, profile_dir):
    """Launch /usr/bin/chromium headless; returns a persistent context."""
    return playwright.chromium.launch_persistent_context(
        str(profile_dir), executable_path=str(CHROMIUM), headless=True,
        args=CHROMIUM_ARGS, viewport={"width": 1280, "height": 900},
        device_scale_factor=1)


def kill_processes_using(marker):
    """Kill processes whose command line mentions `marker` (a temp path).

    The browser is started by Playwright's driver; should closing it leave
    a Chromium process behind, its unique profile folder identifies it.
    """
    marker = str(marker).encode()
    if not Path("/proc").is_dir():  # not Linux: nothing to look at
        return
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit() or int(proc.name) == os.getpid():
            continue
        try:
            if marker in (proc / "cmdline").read_bytes():
                os.kill(int(proc.name), signal.SIGKILL)
        except (OSError, ValueError):
            pass


@dataclass
class WidgetUpdate:
    """One control moved in the browser and how long the figure took."""
    cell: str
    control: str
    before: str
    after: str
    readout_before: str = ""
    readout_after: str = ""
    ms: float = 0.0
    figure_changed: bool = False
    readout_changed: bool = False
    error: str = ""
    index: int = -1
    figure_scale: float = 0.0  # displayed / PNG width of its largest image


@dataclass
class NotebookRun:
    """What happened when one notebook ran in the browser."""
    name: str
    code_cells: int = 0
    executed_cells: int = 0
    errors: list = field(default_factory=list)
    widget_cells: list = field(default_factory=list)
    unrendered_widgets: list = field(default_factory=list)
    text_reprs: list = field(default_factory=list)
    updates: list = field(default_factory=list)
    open_s: float = 0.0
    run_s: float = 0.0
    total_s: float = 0.0
    timed_out: bool = False
    screenshot: str = ""

    def problems(self):
        """Human-readable list of everything that went wrong."""
        out = []
        if self.timed_out:
            out.append(f"Run All did not finish: {self.executed_cells} of "
                       f"{self.code_cells} code cells executed")
        elif self.executed_cells < self.code_cells and not self.errors:
            out.append(f"only {self.executed_cells} of {self.code_cells} "
                       "code cells executed")
        for err in self.errors:
            out.append("cell raised / printed a traceback:\n" + err)
        for what in self.unrendered_widgets:
            out.append(f"widget not rendered as a widget: {what}")
        for cell, text in self.text_reprs:
            out.append(f"{cell} shows a widget as text: {text[:200]!r}")
        for u in self.updates:
            if u.error:
                out.append(f"widget in {u.cell} ({u.control}): {u.error}")
        return out

    def summary(self):
        """A JSON-friendly record (timings and outcome)."""
        d = asdict(self)
        d["slowest_update_ms"] = max(
            (u.ms for u in self.updates if u.figure_changed), default=None)
        d["problems"] = self.problems()
        return d


def stored_widget_cells(nb_path):
    """Indices of the cells whose stored outputs hold a widget view."""
    nb = json.loads(Path(nb_path).read_text(encoding="utf-8"))
    return [i for i, cell in enumerate(nb["cells"])
            if cell["cell_type"] == "code" and any(
                WIDGET_MIME in o.get("data", {})
                for o in cell.get("outputs", []))]


# Runs in the page (JupyterLab started with expose_app_in_browser): the
# open notebook's model (execution counts, outputs) and what its DOM shows.
STATE_JS = r"""
() => {
  const app = window.jupyterapp;
  const w = app && Array.from(app.shell.widgets('main')).find(
      x => x.node.classList.contains('jp-NotebookPanel'));
  if (!w || !w.content || !w.sessionContext || !w.content.model) return null;
  const sc = w.sessionContext;
  const k = sc.session && sc.session.kernel;
  const cells = w.content.widgets.map((c, i) => {
    const m = c.model;
    const r = {type: m.type};
    if (m.type !== 'code') return r;
    r.source = m.sharedModel.getSource();
    r.count = m.executionCount;
    r.running = m.executionState === 'running'
        || /\[\*\]/.test((c.node.querySelector('.jp-InputPrompt') || {})
                         .textContent || '');
    const outs = m.outputs.toJSON();
    const text = t => Array.isArray(t) ? t.join('') : (t || '');
    r.errors = outs.filter(o => o.output_type === 'error').map(
        o => (o.traceback || []).join('\n') || (o.ename + ': ' + o.evalue));
    r.stderr = outs.filter(o => o.output_type === 'stream'
                           && o.name === 'stderr').map(o => text(o.text));
    r.widgetOutputs = outs.filter(o => o.data && o.data[
        'application/vnd.jupyter.widget-view+json']).length;
    const dom = [...c.node.querySelectorAll('.jp-OutputArea-output')];
    r.renderedWidgets = dom.filter(o => !o.closest('.jupyter-widgets')
        && (o.classList.contains('jupyter-widgets')
            || o.querySelector('.jupyter-widgets'))).length;
    r.texts = dom.filter(o => (o.getAttribute('data-mime-type') || '')
        .startsWith('text/')).map(o => o.innerText || o.textContent || '');
    // Errors the DOM shows that are not in the cell's own outputs:
    // a widget that failed to render, a traceback in an Output widget.
    r.domErrors = dom.map(o => o.innerText || o.textContent || '').filter(
        t => t.includes('Error displaying widget')).concat(
        dom.filter(o => o.closest('.jupyter-widgets')
            && (o.getAttribute('data-mime-type') || '').includes('stderr'))
          .map(o => o.innerText || o.textContent || ''));
    return r;
  });
  return {path: w.context.path, kernel: k ? k.status : null,
          connected: k ? k.connectionStatus : null,
          domCells: w.content.node.querySelectorAll('.jp-Cell').length,
          cells};
}
"""
ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def _is_error(text):
    return bool(ERROR_LINE.search(text))


def _state(page):
    return page.evaluate(STATE_JS)


def _code_cells(state):
    """(index, cell) of the non-empty code cells."""
    return [(i, c) for i, c in enumerate(state["cells"])
            if c["type"] == "code" and c["source"].strip()]


def _wait_ready(page, name, timeout):
    """Wait until notebook `name` is open, fully rendered and its kernel
    is connected and idle (Run All before that silently skips cells)."""
    deadline = time.monotonic() + timeout
    state = None
    while time.monotonic() < deadline:
        _accept_dialogs(page)
        try:
            state = _state(page)
        except Exception:  # the page is still loading
            state = None
        if (state and state["path"] == name and state["kernel"] == "idle"
                and state["connected"] == "connected"
                and state["domCells"] == len(state["cells"])):
            return state
        time.sleep(0.25)
    raise TimeoutError(f"{name}: notebook or kernel not ready within "
                       f"{timeout} s (last state: kernel "
                       f"{state and state['kernel']}, "
                       f"{state and state['connected']})")


def _wait_executed(page, timeout):
    """Poll until the kernel is idle and every non-empty code cell ran, or
    one raised, or nothing runs any more. Returns (state, timed_out)."""
    deadline = time.monotonic() + timeout
    state, quiet_since = None, None
    while time.monotonic() < deadline:
        _accept_dialogs(page)
        state = _state(page)
        code = _code_cells(state)
        idle = state["kernel"] == "idle" and not any(
            c["running"] for _, c in code)
        finished = all(c["count"] is not None for _, c in code) or any(
            c["errors"] for _, c in code)
        if idle:
            quiet_since = quiet_since or time.monotonic()
            quiet = time.monotonic() - quiet_since
            # Let late outputs (widget views) land; stop waiting when
            # nothing has run for a while (a skipped cell is reported).
            if (finished and quiet > 0.5) or quiet > 5:
                return state, False
        else:
            quiet_since = None
        time.sleep(0.25)
    return state, True


def _accept_dialogs(page):
    """Accept a kernel-selection (or any) dialog if one is open."""
    try:
        if page.locator(".jp-Dialog").count():
            page.locator(".jp-Dialog .jp-mod-accept").first.click(
                timeout=2000)
    except Exception:
        pass


def _command(page, command):
    """Run a JupyterLab command (what the menu item of that name does)."""
    page.evaluate("(c) => window.jupyterapp.commands.execute(c)", command)


def log_console_errors(page):
    """Tracebacks in JupyterLab's log console, which collects kernel output
    that belongs to no cell (an exception in a widget callback lands
    there); closes and clears the console."""
    # The status item's title says "N log entries for NB.ipynb" (its text
    # counts only unread ones, which a reused page does not keep track of).
    title = page.evaluate("""() => {
        const n = document.querySelector(
            '.jp-LogConsoleStatusItem [title]');
        return n ? n.getAttribute('title') : ''; }""")
    entries = re.search(r"(\d+) log entries", title or "")
    if not entries or entries.group(1) == "0":
        return []
    # The console opens in the bottom panel for the notebook's logger;
    # read it, clear that logger and close the console again.
    page.evaluate("""() => {
        const app = window.jupyterapp;
        const nb = Array.from(app.shell.widgets('main')).find(
            w => w.node.classList.contains('jp-NotebookPanel'));
        return app.commands.execute('logconsole:open',
                                    {source: nb.context.path});
    }""")
    panel = page.locator(".jp-LogConsolePanel")
    try:
        panel.wait_for(timeout=10_000)
        time.sleep(0.3)
        text = panel.inner_text()
    finally:
        page.evaluate("""async () => {
            const app = window.jupyterapp;
            try { await app.commands.execute('logconsole:clear'); }
            catch (e) {}
            for (const area of ['down', 'main']) {
                Array.from(app.shell.widgets(area)).filter(w =>
                    w.node.classList.contains('jp-LogConsole'))
                    .forEach(w => w.dispose());
            }
            const nb = Array.from(app.shell.widgets('main')).find(
                w => w.node.classList.contains('jp-NotebookPanel'));
            if (nb) app.shell.activateById(nb.id);
        }""")
    if not _is_error(text):
        return []
    # Keep the end of the traceback: the frames of the course's code.
    lines = text.strip().splitlines()
    return ["\n".join((["..."] if len(lines) > 40 else []) + lines[-40:])]


# Runs in the page: a snapshot of the widget output of one cell.
WIDGET_JS = r"""
(i) => {
  const w = Array.from(window.jupyterapp.shell.widgets('main')).find(
      x => x.node.classList.contains('jp-NotebookPanel'));
  const cell = w.content.widgets[i];
  if (!cell) return null;
  const area = cell.node.querySelector('.jp-OutputArea');
  const imgEls = [...area.querySelectorAll(
      '.widget-image img, img.widget-image')];
  const imgs = imgEls.map(x => x.getAttribute('src') || '');
  const canv = [...area.querySelectorAll('canvas')].map(c => {
      try { return c.toDataURL(); } catch (e) { return ''; } });
  const readouts = [...area.querySelectorAll(
      '.widget-readout, .widget-html-content, .widget-label, ' +
      '.widget-htmlmath-content')]
      .map(x => (x.innerText || x.textContent || '').trim());
  const errors = [...area.querySelectorAll('.jp-OutputArea-output')]
      .filter(o => (o.getAttribute('data-mime-type') || '')
                   .includes('stderr'))
      .map(o => o.innerText || o.textContent || '');
  // How much the browser scales the PNG (1 = shown at its own size).
  const scale = Math.max(0, ...imgEls.filter(x => x.naturalWidth)
      .map(x => x.clientWidth / x.naturalWidth));
  return {figure: imgs.concat(canv).join('|'), readout: readouts.join(' | '),
          errors: errors, scale: Math.round(scale * 100) / 100};
}
"""


def _control(page, i):
    """The first movable control in cell `i`'s output, or (None, None):
    a slider handle, a dropdown <select> or a text/number box."""
    area = page.locator(".jp-NotebookPanel .jp-Notebook .jp-Cell").nth(
        i).locator(".jp-OutputArea")
    for kind, sel in (
            ("slider", ".widget-slider:not(.mod-disabled) .noUi-handle"),
            ("dropdown", ".widget-dropdown select:not([disabled])"),
            ("text", ".widget-text input:not([disabled])")):
        loc = area.locator(sel)
        if loc.count():
            return kind, loc.first
    return None, None


def move_control(page, i, timeout=30):
    """Move the first control of the widget in cell `i` and time the
    figure update. Returns a WidgetUpdate, or None when the widget has no
    control or no figure."""
    kind, ctl = _control(page, i)
    if kind is None:
        return None
    snap = page.evaluate(WIDGET_JS, i)
    if not snap["figure"]:
        return None
    ctl.scroll_into_view_if_needed()
    if kind == "slider":
        now = ctl.get_attribute("aria-valuenow")
        top = ctl.get_attribute("aria-valuemax")
        key = "ArrowLeft" if now is not None and now == top else "ArrowRight"
        ctl.focus()
        label = f"slider {key}"
        t0 = time.perf_counter()
        page.keyboard.press(key)
    elif kind == "dropdown":
        options = ctl.locator("option").all_inner_texts()
        current = ctl.evaluate("s => s.selectedIndex")
        if len(options) < 2:
            return None
        target = options[(current + 1) % len(options)]
        label = f"dropdown -> {target}"
        t0 = time.perf_counter()
        ctl.select_option(label=target)
    else:
        value = ctl.input_value()
        new = (str(int(value) + 1) if value.strip().lstrip("-").isdigit()
               else value + "x")
        label = f"text -> {new}"
        t0 = time.perf_counter()
        ctl.fill(new)
        ctl.press("Enter")
    upd = WidgetUpdate(cell=i, control=label, before=snap["figure"][:60],
                       after="", readout_before=snap["readout"])
    try:
        page.wait_for_function(
            "([i, before]) => { const s = (" + WIDGET_JS + ")(i);"
            " return s && s.figure && s.figure !== before; }",
            arg=[i, snap["figure"]], timeout=timeout * 1000, polling=20)
        upd.figure_changed = True
    except Exception:  # playwright's TimeoutError
        upd.error = (f"figure did not change within {timeout} s after "
                     f"{label}")
    upd.ms = round((time.perf_counter() - t0) * 1e3, 1)
    # The readout may be updated just after the image: give it a moment.
    deadline = time.monotonic() + 3
    while True:
        after = page.evaluate(WIDGET_JS, i)
        if after["readout"] != snap["readout"] or \
                time.monotonic() > deadline:
            break
        time.sleep(0.05)
    upd.after = after["figure"][:60]
    upd.readout_after = after["readout"]
    upd.readout_changed = after["readout"] != snap["readout"]
    upd.figure_scale = after["scale"]
    errs = [e for e in after["errors"] if _is_error(e)]
    # A callback's traceback reaches the page before the kernel reports
    # idle again: wait for that, then look at the log console.
    deadline = time.monotonic() + timeout
    while _state(page)["kernel"] != "idle" and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.2)
    errs += log_console_errors(page)
    if errs:
        upd.error = "; ".join(filter(None, [upd.error, (
            "traceback after moving the control (widget callback):\n"
            + errs[-1])]))
    return upd


def run_notebook(page, server, name, nb_file, shot_path, timeout=240):
    """Open notebook `name` (relative to the server root), clear outputs,
    run all cells and check them; returns a NotebookRun."""
    t_start = time.perf_counter()
    res = NotebookRun(name=name)
    stored = stored_widget_cells(nb_file)
    if page.url.startswith(server.base_url):
        # JupyterLab is loaded already: close the last notebook, open this
        # one (saves loading the whole application again).
        page.evaluate("""async (path) => {
            const app = window.jupyterapp;
            const old = Array.from(app.shell.widgets('main'));
            const nb = await app.commands.execute('docmanager:open', {path});
            old.forEach(w => w.dispose());
            app.shell.activateById(nb.id);
        }""", name)
    else:
        page.goto(server.url(f"lab/tree/{urllib.parse.quote(name)}",
                             reset=""))
    _wait_ready(page, name, timeout=120)
    # Hide the file browser so the notebook fills the screenshot.
    if page.locator(".jp-FileBrowser:visible").count():
        _command(page, "application:toggle-left-area")
    res.open_s = round(time.perf_counter() - t_start, 2)
    _command(page, "notebook:clear-all-cell-outputs")
    t_run = time.perf_counter()
    _command(page, "notebook:run-all-cells")
    state, res.timed_out = _wait_executed(page, timeout)
    res.run_s = round(time.perf_counter() - t_run, 2)
    code = _code_cells(state)
    res.code_cells = len(code)
    res.executed_cells = sum(1 for _, c in code if c["count"] is not None)
    n = len(state["cells"])
    where = lambda i: f"cell {i + 1} of {n}"  # noqa: E731 (as JupyterLab)
    for i, c in code:
        for tb in c["errors"] + [s for s in c["stderr"] if _is_error(s)] + \
                c["domErrors"]:
            res.errors.append(f"{where(i)}:\n{ANSI.sub('', tb).strip()}")
        res.text_reprs += [(where(i), t) for t in c["texts"]
                           if WIDGET_REPR.search(t)]
        if c["count"] is None:
            continue
        wants = c["widgetOutputs"] or (i in stored)
        if wants:
            res.widget_cells.append(i)
        if wants and c["renderedWidgets"] < max(c["widgetOutputs"], 1):
            res.unrendered_widgets.append(
                f"{where(i)}: {c['widgetOutputs']} widget output(s) in "
                f"the model, {c['renderedWidgets']} rendered as widgets")
    res.errors += [f"kernel output outside any cell (log console):\n{t}"
                   for t in log_console_errors(page)]
    if not res.timed_out:
        for i in res.widget_cells:
            upd = move_control(page, i)
            if upd is not None:
                upd.cell = where(i)
                upd.index = i
                res.updates.append(upd)
    _screenshot(page, res, shot_path)
    res.total_s = round(time.perf_counter() - t_start, 2)
    return res


def _screenshot(page, res, shot_path):
    """Screenshot with the first moved widget (else the top) in view."""
    shot_path = Path(shot_path)
    shot_path.parent.mkdir(parents=True, exist_ok=True)
    target = res.updates[0].index if res.updates else (
        res.widget_cells[0] if res.widget_cells else None)
    try:
        # The widget's output at the top, a few lines of its code above.
        page.evaluate("""(i) => {
            const w = Array.from(window.jupyterapp.shell.widgets('main')).find(
      x => x.node.classList.contains('jp-NotebookPanel'));
            const scroller = w.content.node.querySelector(
                '.jp-WindowedPanel-outer') || w.content.node;
            if (i === null) { scroller.scrollTop = 0; return; }
            const cell = w.content.widgets[i].node;
            const out = cell.querySelector('.jp-OutputArea') || cell;
            out.scrollIntoView({block: 'start'});
            scroller.scrollTop = Math.max(0, scroller.scrollTop - 110);
        }""", target)
        time.sleep(0.3)
        page.screenshot(path=str(shot_path))
        res.screenshot = str(shot_path)
    except Exception as exc:  # a screenshot must not hide the real result
        res.screenshot = f"failed: {exc}"


def write_json_atomic(path, data):
    """Write JSON to `path` via a temporary file and rename."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(data, indent=2, ensure_ascii=False))
    tmp.replace(path)
