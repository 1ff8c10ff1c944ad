"""Opening the course in Colab: the chapter pages' notebook copies and the exercises' setup cell.

Colab is simulated: a fake ``google.colab`` module, and git told to fetch the repository's URL
from this checkout (the tests are offline).
"""
import importlib.util
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import jupytext
import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "scripts" / "colab_pages.py"
spec = importlib.util.spec_from_file_location("colab_pages", SCRIPT)
colab_pages = importlib.util.module_from_spec(spec)
spec.loader.exec_module(colab_pages)


def git_redirect(tmp_path) -> dict:
    """Environment in which git fetches the course's public URL from this checkout."""
    config = tmp_path / "gitconfig"
    config.write_text(f'[url "file://{ROOT}"]\n\tinsteadOf = {colab_pages.REPOSITORY}\n'
                      "[safe]\n\tdirectory = *\n")
    return dict(os.environ, GIT_CONFIG_GLOBAL=str(config), GIT_CONFIG_NOSYSTEM="1")


def run_cells(code_cells: list[str], cwd, env, prelude: str = "") -> dict:
    """Run cells in a fresh IPython shell (magics included); return what the last line prints as JSON."""
    program = prelude + textwrap.dedent(f"""
        import json, sys
        from IPython.core.interactiveshell import InteractiveShell
        shell = InteractiveShell.instance()
        for cell in {code_cells!r}:
            result = shell.run_cell(cell)
            result.raise_error()
        """)
    proc = subprocess.run([sys.executable, "-c", program], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_every_chapter_page_has_an_up_to_date_colab_notebook():
    chapters = [line.split("book/")[1].strip() for line in (ROOT / "_toc.yml").read_text().splitlines()
                if "file: book/ch" in line]
    assert [p.stem for p in colab_pages.pages()] == sorted(chapters)  # every chapter of the book, found
    proc = subprocess.run([sys.executable, str(SCRIPT), "--check"], capture_output=True, text=True)
    assert proc.returncode == 0, f"{proc.stdout}{proc.stderr}(run `make colab` after editing a page)"


def test_colab_notebook_is_the_page_plus_a_setup_cell(tmp_path):
    page = ROOT / "book" / "ch08_pixel_mnist.md"
    nb = nbformat.reads(colab_pages.colab_notebook(page), as_version=4)
    assert nb.cells[0].cell_type == "markdown" and nb.cells[0].source.startswith("# 8.")
    assert nb.cells[1].source == colab_pages.SETUP
    original = jupytext.read(page)
    assert [c.source for c in nb.cells[:1] + nb.cells[2:]] == [c.source for c in original.cells]
    assert all(not c.get("outputs") for c in nb.cells if c.cell_type == "code")
    assert nb.metadata["accelerator"] == "GPU"  # the GPU chapter opens on a GPU runtime
    other = nbformat.reads(colab_pages.colab_notebook(ROOT / "book" / "ch01_rnn_basics.md"), as_version=4)
    assert "accelerator" not in other.metadata


def test_check_names_stale_missing_and_orphaned_copies(tmp_path):
    book = tmp_path / "book"
    book.mkdir()
    for name in ["ch01_rnn_basics", "ch02_char_lm", "ch03_bptt"]:
        for suffix in [".md", ".ipynb"]:
            (book / f"{name}{suffix}").write_text((ROOT / "book" / f"{name}{suffix}").read_text())

    def check():
        proc = subprocess.run([sys.executable, str(SCRIPT), "--check", "--book", str(book)],
                              capture_output=True, text=True)
        return proc.returncode, proc.stdout

    assert check() == (0, "")
    page = book / "ch01_rnn_basics.md"
    page.write_text(page.read_text().replace("## ", "## Edited: ", 1))  # a page edited, its copy not
    (book / "ch02_char_lm.ipynb").unlink()  # a copy missing
    (book / "ch03_bptt.md").unlink()  # a page removed, its copy left behind
    code, out = check()
    assert code == 1
    assert "ch01_rnn_basics.ipynb is missing or older than its page" in out
    assert "ch02_char_lm.ipynb is missing or older than its page" in out
    assert "ch03_bptt.ipynb has no page ch03_bptt.md" in out
    subprocess.run([sys.executable, str(SCRIPT), "--book", str(book)], check=True, capture_output=True)
    (book / "ch03_bptt.ipynb").unlink()
    assert check() == (0, "")


def test_setup_cell_does_nothing_outside_colab(tmp_path):
    work = tmp_path / "work"
    work.mkdir()
    out = run_cells([colab_pages.SETUP, "import os, json; print(json.dumps(os.listdir('.') + [os.getcwd()]))"],
                    cwd=work, env=git_redirect(tmp_path))
    assert out == [str(work)]  # nothing cloned, folder unchanged


def test_setup_cell_fetches_the_course_in_colab(tmp_path):
    fake_colab = "import sys, types; sys.modules['google.colab'] = types.ModuleType('google.colab')\n"
    check = ("import os, json, rnncourse; print(json.dumps({'cwd': os.getcwd(), 'package': rnncourse.__file__, "
             "'results': sorted(os.listdir('results'))}))")
    out = run_cells([colab_pages.SETUP, check], cwd=tmp_path, env=git_redirect(tmp_path), prelude=fake_colab)
    clone = tmp_path / "rnncourse"
    assert out["cwd"] == str(clone)
    assert out["package"] == str(clone / "src" / "rnncourse" / "__init__.py")
    assert "pixel_mnist_cpu.json" in out["results"]
    # running it again (or after a kernel restart, back in the start folder) does not clone twice
    again = run_cells([colab_pages.SETUP, check], cwd=tmp_path, env=git_redirect(tmp_path), prelude=fake_colab)
    assert again == out


def exercise_setup_cell(name: str) -> str:
    nb = nbformat.read(ROOT / "notebooks" / name / f"{name}.ipynb", as_version=4)
    (cell,) = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "setup"]
    return cell.source


@pytest.mark.slow
def test_exercise_setup_installs_the_missing_package_from_the_repository(tmp_path):
    site = tmp_path / "site"
    site.mkdir()
    env = git_redirect(tmp_path)
    # pip writes into a fresh folder instead of this environment, builds with the setuptools here
    env.update(PIP_TARGET=str(site), PIP_NO_BUILD_ISOLATION="0", PIP_NO_INPUT="1", PYTHONPATH=str(site))
    hide_course = ("import sys\n"
                   "sys.path[:] = [p for p in sys.path if not p.endswith('src')]\n"
                   "sys.modules.pop('rnncourse', None)\n")
    check = ("import json, rnncourse.grading; print(json.dumps({'package': rnncourse.grading.__file__, "
             "'check_array': callable(check_array), 'submit': callable(submit)}))")
    out = run_cells([exercise_setup_cell("ch08_pixel_mnist"), check], cwd=tmp_path, env=env, prelude=hide_course)
    assert out["package"].startswith(str(site)), out
    assert out["check_array"] and out["submit"]


@pytest.mark.parametrize("name", sorted(p.name for p in (ROOT / "notebooks").iterdir() if p.is_dir()))
def test_every_exercise_starts_with_the_same_install_fallback(name):
    first_lines = exercise_setup_cell(name).split("\n\n")[0]
    assert first_lines == exercise_setup_cell("ch08_pixel_mnist").split("\n\n")[0]
    assert "--no-deps" in first_lines and colab_pages.REPOSITORY in first_lines
