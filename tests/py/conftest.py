import os
import pathlib
import subprocess

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
BUILD = pathlib.Path(os.environ.get("AG_BUILD_DIR", ROOT / "build"))
if not BUILD.is_absolute():
    BUILD = ROOT / BUILD
AUTOGLM = BUILD / "autoglm"


def run_autoglm(*args, timeout=300):
    """Runs the CLI; returns CompletedProcess with text stdout/stderr."""
    return subprocess.run([str(AUTOGLM), *map(str, args)], capture_output=True, text=True,
                          timeout=timeout, cwd=ROOT)


@pytest.fixture(scope="session")
def autoglm():
    assert AUTOGLM.exists(), f"{AUTOGLM} is not built (run scripts/setup.sh)"
    return run_autoglm
