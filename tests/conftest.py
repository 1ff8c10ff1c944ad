"""Fixtures shared by test files: one build of the website for every test that reads it."""
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def site(tmp_path_factory) -> Path:
    """The website built from this checkout (every page executed, warnings are errors): its html folder.

    Built once per test session, in a temporary folder. ``RNNCOURSE_SITE=<path-output>`` reuses a
    build made with ``jupyter-book build . --all -W --keep-going --path-output <path-output>``
    (for iterating on the website's tests; the suite builds its own).
    """
    reuse = os.environ.get("RNNCOURSE_SITE")
    if reuse:
        html = Path(reuse) / "_build" / "html"
        assert (html / "index.html").is_file(), f"RNNCOURSE_SITE={reuse} holds no built site ({html})"
        return html
    out = tmp_path_factory.mktemp("site")
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}")
    env.pop("MPLBACKEND", None)  # the kernels must use their inline backend to show figures
    cmd = [str(Path(sys.executable).parent / "jupyter-book"), "build", str(ROOT), "--path-output", str(out),
           "--all", "-W", "--keep-going"]
    result = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=3000)
    log = result.stdout[-6000:] + result.stderr[-6000:]
    assert result.returncode == 0, log
    return out / "_build" / "html"


@pytest.fixture
def one_torch_thread():
    """Tiny recurrent nets run fastest, and most predictably on a busy machine, on one thread
    (a module opts in with ``pytestmark = pytest.mark.usefixtures("one_torch_thread")``)."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


# --- pytest-xdist: `make test` runs `-n 2 --dist loadscope` with the scopes below ---------------------------
#: test files that use the session's website build (``site``): one worker builds it, once
SITE_FILES = {"tests/test_book.py", "tests/test_colab.py", "tests/test_site_browser.py"}
#: test files whose module-scoped fixture is parametrized: one scope per parameter (a graded chapter)
SPLIT_BY_PARAMETER = {"tests/test_adversarial.py"}


def xdist_scope(nodeid: str) -> str:
    """The unit of work a worker takes whole: a test file (its module fixtures, a notebook's cells that
    share one kernel), the website's tests together, one graded chapter of the adversarial suite."""
    path, _, rest = nodeid.partition("::")
    if path in SITE_FILES:
        return "site"
    if path in SPLIT_BY_PARAMETER and rest.endswith("]") and "[" in rest:
        return f"{path}[{rest[rest.index('[') + 1:-1]}]"
    return path


def pytest_xdist_make_scheduler(config, log):
    if config.getvalue("dist") != "loadscope":
        return None
    from xdist.scheduler import LoadScopeScheduling

    class SharedFixtureScheduling(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return xdist_scope(nodeid)

    return SharedFixtureScheduling(config, log)
