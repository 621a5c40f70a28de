"""Starts a real `autoglm serve` process on a free loopback port for the server tests.

The model is the built-in one unless AG_SERVER_MODEL names a checkpoint directory. Each server
writes its log to a file; on failure the tail of it is shown.
"""
import contextlib
import os
import pathlib
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request

import pytest

from conftest import AUTOGLM, ROOT

MODEL_NAME = "autoglm-phone-9b"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http_status(url, timeout=2.0):
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r:
            return r.status
    except urllib.error.HTTPError as e:
        return e.code
    except OSError:
        return None


class ServerProcess:
    def __init__(self, *extra_args, startup_timeout=600):
        self.port = free_port()
        self.root = f"http://127.0.0.1:{self.port}"
        self.base_url = self.root + "/v1"
        self.log_path = pathlib.Path(tempfile.mkstemp(prefix="autoglm-serve-", suffix=".log")[1])
        args = [str(AUTOGLM), "serve", "--host", "127.0.0.1", "--port", str(self.port),
                "--served-model-name", MODEL_NAME, *map(str, extra_args)]
        model = os.environ.get("AG_SERVER_MODEL")
        if model:
            args += ["--model", model]
        self.log = open(self.log_path, "w")
        self.final_log = None  # the whole log once stopped (the file is then removed)
        self.proc = subprocess.Popen(args, stdout=self.log, stderr=subprocess.STDOUT, cwd=ROOT)
        self._wait_ready(startup_timeout)

    def _wait_ready(self, timeout):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited with {self.proc.returncode}:\n{self.log_tail()}")
            if http_status(self.root + "/health") == 200:
                return
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"server not ready after {timeout}s:\n{self.log_tail()}")

    def log_tail(self, n=4000):
        if self.final_log is not None:
            return self.final_log[-n:]
        self.log.flush()
        return self.log_path.read_text(errors="replace")[-n:]

    def metrics(self):
        with urllib.request.urlopen(self.root + "/metrics", timeout=5) as r:
            text = r.read().decode()
        out = {}
        for line in text.splitlines():
            if line and not line.startswith("#"):
                name, _, value = line.rpartition(" ")
                out[name] = float(value)
        return out

    def metric(self, name):
        """Value of an unlabelled-by-reason metric (the model_name/engine labels ignored)."""
        for key, value in self.metrics().items():
            if key.split("{")[0] == name:
                return value
        raise KeyError(name)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.final_log is None:
            self.log.close()
            self.final_log = self.log_path.read_text(errors="replace")
            self.log_path.unlink(missing_ok=True)
        return self.proc.returncode


@contextlib.contextmanager
def running_server(*extra_args):
    assert AUTOGLM.exists(), f"{AUTOGLM} is not built"
    srv = ServerProcess(*extra_args)
    try:
        yield srv
    finally:
        rc = srv.stop()
        assert rc == 0, f"server did not exit cleanly ({rc}):\n{srv.log_tail()}"


@pytest.fixture(scope="module")
def server():
    with running_server() as srv:
        yield srv


@pytest.fixture(scope="module")
def client(server):
    openai = pytest.importorskip("openai")
    return openai.OpenAI(base_url=server.base_url, api_key="EMPTY", max_retries=0, timeout=300)


class BackgroundStream:
    """A long greedy chat stream on a thread, recording when each content chunk arrived: the
    probe for "running streams keep decoding while X happens"."""

    def __init__(self, client):
        import threading
        self.stamps = []
        self._stop = threading.Event()
        self._client = client
        self._thread = threading.Thread(target=self._run)
        self._thread.start()
        while len(self.stamps) < 5:
            assert self._thread.is_alive(), "the background stream ended early"
            time.sleep(0.01)

    def _run(self):
        s = self._client.chat.completions.create(
            model=MODEL_NAME, messages=[{"role": "user", "content": "count"}], temperature=0,
            max_tokens=7000, stream=True, extra_body={"ignore_eos": True})
        for chunk in s:
            if chunk.choices and chunk.choices[0].delta.content:
                self.stamps.append(time.monotonic())
            if self._stop.is_set():
                s.close()
                return

    def stop(self):
        self._stop.set()
        self._thread.join(timeout=120)

    def gaps_within(self, lo, hi):
        """(chunks inside [lo, hi], the longest gap between chunks across that window and its
        edges)."""
        during = [t for t in self.stamps if lo <= t <= hi]
        edges = [max([t for t in self.stamps if t < lo], default=lo)] + during + \
                [min([t for t in self.stamps if t > hi], default=hi)]
        return len(during), max(b - a for a, b in zip(edges, edges[1:]))
