"""A real dispatcher and a real agent with simulated workers, on ports the OS picks, for the
client's tests; and the client's package installed into a fresh virtual environment.

MW_BIN names the folder of mw-dispatcher, mw-agent and mw (build/bin); MW_SOURCE the repository.
"""

import os
import shutil
import signal
import subprocess
import time

import pytest

SOURCE = os.environ.get("MW_SOURCE") or os.path.abspath(
    os.path.join(os.path.dirname(__file__), "..", "..", ".."))
BIN = os.path.abspath(os.environ.get("MW_BIN") or os.path.join(SOURCE, "build", "bin"))
DEMO = os.path.join(SOURCE, "examples", "demo")


def wait_for_file(path, process, what, seconds=30.0):
    """Polls for `path` (a ready file) while `process` lives; fails naming its log."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if os.path.exists(path) and os.path.getsize(path) > 0:
            with open(path) as f:
                return f.read()
        if process.poll() is not None:
            break
        time.sleep(0.05)
    pytest.fail(f"{what} did not start (exit {process.poll()}); see its log beside {path}")


class Cluster:
    def __init__(self, root):
        self.root = root
        self.processes = []
        self.env = dict(os.environ)

    def start(self, args, log):
        out = open(os.path.join(self.root, log), "wb")
        p = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT)
        self.processes.append(p)
        return p

    def mw(self, *args, check=True):
        """Runs the mw command line as the operator; returns its completed process."""
        r = subprocess.run([os.path.join(BIN, "mw"), *args], env=self.env, text=True,
                           capture_output=True)
        if check and r.returncode != 0:
            raise AssertionError(f"mw {' '.join(args)} exited {r.returncode}:\n{r.stderr}")
        return r

    def stop(self):
        for p in self.processes:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in self.processes:
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                p.kill()


@pytest.fixture(scope="session")
def cluster(tmp_path_factory):
    root = str(tmp_path_factory.mktemp("cluster"))
    c = Cluster(root)
    ready = os.path.join(root, "dispatcher.ready")
    d = c.start([os.path.join(BIN, "mw-dispatcher"), "--data-dir", os.path.join(root, "d"),
                 "--listen", "127.0.0.1:0", "--metrics-listen", "127.0.0.1:0",
                 "--ready-file", ready], "dispatcher.log")
    line = wait_for_file(ready, d, "mw-dispatcher").split()
    c.server = line[0].split("=", 1)[1]
    c.token_file = os.path.join(root, "d", "operator.token")
    c.env.update(MW_SERVER=c.server, MW_TOKEN_FILE=c.token_file)
    cred = os.path.join(root, "nairobi.cred")
    c.mw("centre", "add", "--id", "nairobi", "--region", "KE", "--currency", "USD",
         "--floor-minor", "150", "--languages", "en,sw", "--capacity", "100",
         "--credential-out", cred)
    c.start([os.path.join(BIN, "mw-agent"), "--dispatcher", c.server, "--credential-file", cred,
             "--data-dir", os.path.join(root, "agent"), "--sim-workers", "5",
             "--sim-accuracy", "0.9", "--sim-truth", os.path.join(DEMO, "truth.csv"),
             "--sim-time-scale", "0", "--sim-seed", "7"], "agent.log")
    yield c
    c.stop()


@pytest.fixture(scope="session")
def client(cluster):
    import microwork
    with microwork.Client(cluster.server, token_file=cluster.token_file) as c:
        yield c


def readme_commands():
    """The indented command lines of the README's "From Python" section, in order."""
    with open(os.path.join(SOURCE, "README.md"), encoding="utf-8") as f:
        section = f.read().split("## From Python", 1)[1].split("\n## ", 1)[0]
    return [line.strip() for line in section.splitlines()
            if line.startswith("    ") and line.strip() and not line.strip().startswith("#")]


@pytest.fixture(scope="session")
def venv(tmp_path_factory):
    """A virtual environment made by the README's own two lines (Debian's grpcio, protobuf and
    yaml seen through --system-site-packages; `pip install ./clients/python`), run in a copy
    of the repository's clients/python and proto/ so the checkout stays clean. No package
    index is asked."""
    root = tmp_path_factory.mktemp("venv")
    copy = root / "repo"
    shutil.copytree(os.path.join(SOURCE, "proto"), copy / "proto")
    shutil.copytree(os.path.join(SOURCE, "clients", "python"), copy / "clients" / "python",
                    ignore=shutil.ignore_patterns("build", "*.egg-info", "__pycache__"))
    make_venv, install = readme_commands()[:2]
    assert make_venv.startswith("/usr/bin/python3 -m venv") and "pip install" in install
    env = dict(os.environ, PIP_NO_INDEX="1", PIP_DISABLE_PIP_VERSION_CHECK="1")
    env.pop("PYTHONPATH", None)
    for line in (make_venv, install):
        r = subprocess.run(line.replace("/tmp/", f"{root}/"), shell=True, cwd=copy, env=env,
                           capture_output=True, text=True)
        assert r.returncode == 0, f"{line}\n{r.stdout}{r.stderr}"
    return root / "venv" / "bin" / "python", env
