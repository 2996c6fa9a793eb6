"""The README's lab command serves notebooks/ on 127.0.0.1, token only."""
import os
import secrets
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def status(url):
    try:
        with urllib.request.urlopen(url, timeout=5) as r:
            return r.status, r.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as e:
        return e.code, ""


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("lab")
    port, token = free_port(), secrets.token_hex(16)
    env = dict(os.environ, JUPYTER_TOKEN=token,
               JUPYTER_RUNTIME_DIR=str(tmp_path / "runtime"),
               JUPYTERLAB_WORKSPACES_DIR=str(tmp_path / "ws"))
    args = f"--port {port} --no-browser --ServerApp.port_retries=0"
    proc = subprocess.Popen(
        ["make", "-s", "lab", f"LAB_ARGS={args}"], cwd=REPO, env=env,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(240):
            if proc.poll() is not None:
                pytest.fail("make lab exited:\n" + proc.stdout.read().decode())
            try:
                if status(f"{base}/api/status?token={token}")[0] == 200:
                    break
            except OSError:
                pass
            time.sleep(0.5)
        else:
            pytest.fail("JupyterLab did not answer within 120 s")
        yield base, token
    finally:
        os.killpg(proc.pid, signal.SIGTERM)  # make and its jupyter child
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def test_lab_serves_notebooks_with_token(lab):
    base, token = lab
    code, page = status(f"{base}/lab?token={token}")
    assert code == 200 and "JupyterLab" in page
    code, body = status(f"{base}/api/contents?token={token}")
    assert code == 200
    assert "00-index.ipynb" in body  # root is notebooks/


def test_lab_refuses_without_token(lab):
    base, _ = lab
    assert status(f"{base}/api/contents")[0] == 403
    assert status(f"{base}/api/contents?token=wrong")[0] == 403


def outward_address():
    """This host's non-loopback address (UDP connect sends nothing)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        try:
            s.connect(("10.255.255.255", 9))
        except OSError:
            return None
        return s.getsockname()[0]


def test_lab_listens_on_loopback_only(lab):
    base, _ = lab
    port = int(base.rsplit(":", 1)[1])
    other = outward_address()
    if other is None or other.startswith("127."):
        pytest.skip("this host has no non-loopback address to probe")
    with socket.socket() as s:
        s.settimeout(2)
        assert s.connect_ex((other, port)) != 0
