"""The website builds (narrative pages executed) and publishes no solution code or hidden test.

The build is the session's ``site`` fixture (tests/conftest.py), shared with the browser test.
"""
import re
from pathlib import Path

import pytest

from leaks import find_leaks, secret_lines

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.slow


def toc_files():
    import yaml

    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    files = [toc["root"]]
    for part in toc["parts"]:
        for chapter in part["chapters"]:
            files.append(chapter["file"])
            files += [s["file"] for s in chapter.get("sections", [])]
    return files


def test_every_toc_page_is_built(site):
    for name in toc_files():
        assert (site / f"{name}.html").is_file(), f"{name}.html missing from the built site"


def test_exercise_notebooks_are_published_for_download_unexecuted(site):
    for nb in (ROOT / "notebooks").glob("*/*.ipynb"):
        rel = nb.relative_to(ROOT)
        assert (site / "_sources" / rel).is_file(), f"{rel} is not downloadable from the site"
        page = (site / rel.with_suffix(".html")).read_text()
        assert "NotImplementedError" in page  # shown as the student version, not a solution
        assert "Traceback" not in page  # and not executed


def test_chapter_pages_render_math_and_figures_drawn_at_build_time(site):
    pages = sorted((site / "book").glob("ch*.html"))
    assert pages
    for page in pages:
        text = page.read_text()
        assert "\\(" in text or "\\[" in text or "math notranslate" in text, f"{page.name} has no math"
        figures = [src for src in re.findall(r'<img[^>]*src="([^"]+)"', text) if "_images/" in src]
        assert figures, f"{page.name} shows no figure drawn by its code"
        for src in figures:
            assert (page.parent / src).resolve().is_file(), f"{page.name}: missing image {src}"
        assert "Traceback" not in text, f"{page.name} shows a traceback"


def test_launch_buttons_open_notebooks_that_colab_can_read(site):
    """Colab opens .ipynb only: each chapter's button points at book/<chapter>.ipynb, which exists."""
    import yaml

    repository = yaml.safe_load((ROOT / "_config.yml").read_text())["repository"]
    owner_name = repository["url"].removeprefix("https://github.com/")
    base = f"https://colab.research.google.com/github/{owner_name}/blob/{repository['branch']}/"
    pages = [name for name in toc_files() if name.startswith(("book/ch", "notebooks/"))]
    assert len(pages) == 2 * len(list((ROOT / "solutions").glob("ch*/")))   # a page and a notebook per chapter
    for name in pages:
        links = set(re.findall(re.escape(base) + r'([^"]+)', (site / f"{name}.html").read_text()))
        assert links == {f"{name}.ipynb"}, f"{name}: Colab links {links}"
        assert (ROOT / f"{name}.ipynb").is_file(), f"{name}.ipynb is missing: run `make colab`"


def test_no_solution_code_or_hidden_test_is_published(site):
    checked = 0
    for solution in sorted((ROOT / "solutions").glob("*/*.ipynb")):
        student = ROOT / "notebooks" / solution.relative_to(ROOT / "solutions")
        secrets = secret_lines(solution, student)
        assert secrets, f"no solution lines found in {solution}: is the detector broken?"
        # the detector must find them where they are...
        assert find_leaks(secrets, solution.parent), f"detector misses the secrets of {solution}"
        # ...and they must not be on the site
        leaks = find_leaks(secrets, site)
        assert not leaks, f"solution lines of {solution.name} published: {leaks}"
        checked += 1
    assert checked >= 1
    assert not (site / "solutions").exists()
