"""Publishing a copy: one setting (``repository.url`` in _config.yml) names the repository everywhere.

The exercises' install line is run for real: a wheel of the package is built from this checkout
and installed the way the setup cell installs it, into a fresh virtual environment that has the
course's dependencies but not the course, with no network.
"""
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "scripts" / "set_repository.py"
spec = importlib.util.spec_from_file_location("set_repository", SCRIPT)
set_repository = importlib.util.module_from_spec(spec)
spec.loader.exec_module(set_repository)


def run_script(*args, root=ROOT):
    proc = subprocess.run([sys.executable, str(SCRIPT), *args, "--root", str(root)], capture_output=True, text=True)
    return proc.returncode, proc.stdout + proc.stderr


def copy_course(tmp_path) -> Path:
    """The files that hold the repository URL, copied into a scratch course folder."""
    course = tmp_path / "course"
    course.mkdir()
    for name in ["_config.yml", "README.md"]:
        shutil.copy(ROOT / name, course / name)
    for folder in ["solutions", "notebooks"]:
        shutil.copytree(ROOT / folder, course / folder, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    (course / "book").mkdir()
    for nb in (ROOT / "book").glob("*.ipynb"):
        shutil.copy(nb, course / "book" / nb.name)
    return course


def test_every_place_names_the_configured_repository():
    code, out = run_script("--check")
    assert code == 0, f"{out}(run `make repository` to copy _config.yml's URL everywhere)"
    url = set_repository.configured_url()
    places = {path.relative_to(ROOT).parts[0] for path, found in set_repository.occurrences() if found == url}
    assert places == {"solutions", "notebooks", "book", "README.md"}
    assert len([p for p, _ in set_repository.occurrences() if p.parts[-3] == "solutions"]) == len(
        list((ROOT / "solutions").glob("*/*.ipynb")))


def test_colab_copies_and_launch_buttons_read_the_same_setting():
    spec = importlib.util.spec_from_file_location("colab_pages", ROOT / "scripts" / "colab_pages.py")
    colab_pages = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(colab_pages)
    assert colab_pages.REPOSITORY == set_repository.configured_url()
    assert set_repository.configured_url() in colab_pages.SETUP


def test_one_command_moves_the_course_to_another_repository(tmp_path):
    course = copy_course(tmp_path)
    old = set_repository.configured_url(course)
    before = {p: p.read_text() for p in course.rglob("*") if p.is_file()}
    code, out = run_script("https://github.com/someone/rnn-fork.git", root=course)
    assert code == 0, out
    new = "https://github.com/someone/rnn-fork"
    assert set_repository.configured_url(course) == new
    assert run_script("--check", root=course) == (0, "")
    for path, text in before.items():
        after = path.read_text()
        assert old not in after, f"{path} still names {old}"
        # only the URL changed: the rest of every file is as it was
        assert after.replace(new, old) == text.replace(new, old), path
    # the exercise notebooks are still valid notebooks with the new install line
    nb = nbformat.read(course / "notebooks" / "ch01_rnn_basics" / "ch01_rnn_basics.ipynb", as_version=4)
    nbformat.validate(nb)
    (setup,) = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "setup"]
    assert f'"git+{new}"' in setup.source


def test_check_names_each_place_that_disagrees(tmp_path):
    course = copy_course(tmp_path)
    url = set_repository.configured_url(course)
    page = course / "book" / "ch03_bptt.ipynb"
    page.write_text(page.read_text().replace(url, "https://github.com/elsewhere/copy"))
    readme = course / "README.md"
    readme.write_text(readme.read_text().replace(url, "https://example.org/x"))
    code, out = run_script("--check", root=course)
    assert code == 1
    assert "book/ch03_bptt.ipynb: https://github.com/elsewhere/copy" in out
    assert "README.md: no repository URL found" in out
    assert out.count("\n") == 2, out
    # running it without --check repairs what it can find
    assert run_script(root=course)[0] == 0
    assert "ch03_bptt" not in run_script("--check", root=course)[1]


@pytest.mark.parametrize("bad", ["github.com/x/y", "https://gitlab.com/x/y", "https://github.com/x", "not a url"])
def test_a_url_that_colab_cannot_open_is_refused(tmp_path, bad):
    course = copy_course(tmp_path)
    before = (course / "_config.yml").read_text()
    code, out = run_script(bad, root=course)
    assert code == 2 and "expected a GitHub repository URL" in out and repr(bad) in out
    assert (course / "_config.yml").read_text() == before


def fresh_environment(tmp_path) -> Path:
    """A new virtual environment whose only packages are this one's, less the course: its python."""
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    ours = Path(next(p for p in sys.path if p.endswith("site-packages") and Path(p).is_dir()))
    deps = tmp_path / "deps"  # this environment's packages, without rnncourse and its editable-install hooks
    deps.mkdir()
    for entry in ours.iterdir():
        if not re.match(r"(_+editable_+.*|_?rnncourse.*|.*\.pth)$", entry.name, re.IGNORECASE):
            (deps / entry.name).symlink_to(entry)
    python = venv / "bin" / "python"
    site = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          capture_output=True, text=True, check=True).stdout.strip()
    Path(site, "course-deps.pth").write_text(f"{deps}\n")
    return python


@pytest.mark.slow
def test_exercise_setup_cell_installs_the_built_package_in_a_fresh_environment(tmp_path):
    url = set_repository.configured_url()
    # a wheel of the package, built from a copy of this checkout (nothing written into it)
    source = tmp_path / "source"
    shutil.copytree(ROOT / "src", source / "src", ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    for name in ["pyproject.toml", "README.md"]:
        shutil.copy(ROOT / name, source / name)
    wheels = tmp_path / "wheels"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
                    "--no-index", "-w", str(wheels), str(source)], check=True, capture_output=True)
    (wheel,) = wheels.glob("rnncourse-*.whl")

    python = fresh_environment(tmp_path)
    probe = subprocess.run([str(python), "-c", "import numpy, torch, IPython, pip; import rnncourse"],
                           capture_output=True, text=True)
    assert "No module named 'rnncourse'" in probe.stderr, probe.stderr  # dependencies there, course missing

    nb = nbformat.read(ROOT / "notebooks" / "ch01_rnn_basics" / "ch01_rnn_basics.ipynb", as_version=4)
    (cell,) = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "setup"]
    requirement = f'"git+{url}"'
    assert cell.source.count(requirement) == 1, cell.source
    # the cell as it is, with the requirement it names served by the wheel built above (no network)
    setup = cell.source.replace(requirement, f'"{wheel}"')
    check = ("import json, rnncourse, rnncourse.grading; print(json.dumps({'package': rnncourse.__file__, "
             "'names': [callable(check_array), callable(check_equal), callable(check_shape), callable(submit)], "
             "'dtype': str(torch.get_default_dtype())}))")
    program = textwrap.dedent(f"""
        from IPython.core.interactiveshell import InteractiveShell
        shell = InteractiveShell.instance()
        for cell in {[setup, check]!r}:
            shell.run_cell(cell).raise_error()
        """)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "PIP_", "VIRTUAL_ENV"))}
    env.update(PIP_NO_INDEX="1", PIP_DISABLE_PIP_VERSION_CHECK="1", PIP_NO_INPUT="1", HOME=str(tmp_path))
    proc = subprocess.run([str(python), "-c", program], cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert out["package"].startswith(str(tmp_path / "venv")), out  # installed by the cell into the new environment
    assert out["names"] == [True] * 4
    assert out["dtype"] == "torch.float64"
