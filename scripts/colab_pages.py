"""Write the Colab copy of every chapter page: book/<chapter>.md -> book/<chapter>.ipynb.

    python scripts/colab_pages.py           # (re)write the notebooks
    python scripts/colab_pages.py --check   # exit 1, naming them, if any is missing or stale

The chapter pages are MyST Markdown notebooks, which Colab cannot open. The book's launch
buttons link to ``book/<chapter>.ipynb`` when that file exists next to the page, so this script
converts each page with jupytext and puts one setup cell after the title: opened in Colab, it clones
the course repository and puts its package on the path (the pages read ``results/``, so they
need the whole repository, not only the package). Anywhere else the cell does nothing.
The notebooks are not part of the website build (``_config.yml`` excludes ``book/*.ipynb``) and
carry no outputs; the Markdown page stays the only file to edit.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import jupytext
import nbformat
import yaml

ROOT = Path(__file__).resolve().parents[1]
REPOSITORY = yaml.safe_load((ROOT / "_config.yml").read_text())["repository"]["url"]  # the launch buttons' too

SETUP = f"""\
# Opened in Colab? Fetch the course (its package and committed results) first; elsewhere this does nothing.
import os, sys
if "google.colab" in sys.modules and not os.path.isdir("results"):
    if not os.path.isdir("rnncourse"):
        !git clone --quiet --depth 1 {REPOSITORY}
    %cd rnncourse
    sys.path.insert(0, os.path.abspath("src"))"""

#: Pages that are worth opening on a GPU runtime: Colab starts them with one.
GPU_PAGES = {"ch08_pixel_mnist"}


def pages(book: Path = ROOT / "book") -> list[Path]:
    """The chapter pages: MyST notebooks ``ch*.md`` in ``book`` (the landing page and the references are left out)."""
    return sorted(p for p in book.glob("ch*.md") if "```{code-cell}" in p.read_text())


def colab_notebook(page: Path) -> str:
    """The Colab notebook of ``page`` as JSON text: the setup cell, then the page's cells, no outputs."""
    nb = jupytext.read(page)
    nb.metadata.pop("jupytext", None)
    setup = nbformat.v4.new_code_cell(SETUP, metadata={"tags": ["remove-cell"]})
    nb.cells.insert(1 if nb.cells and nb.cells[0].cell_type == "markdown" else 0, setup)  # after the title
    if page.stem in GPU_PAGES:
        nb.metadata["accelerator"] = "GPU"
        nb.metadata["colab"] = {"gpuType": "T4"}
    for index, cell in enumerate(nb.cells):
        cell.id = f"{page.stem}-{index}"  # stable ids: the file changes only when the page does
    nbformat.validate(nb)
    return nbformat.writes(nb) + "\n"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="only check that the notebooks are up to date")
    parser.add_argument("--book", type=Path, default=ROOT / "book", help="folder of the pages (default book/)")
    args = parser.parse_args(argv)
    stale = []
    for page in pages(args.book):
        target = page.with_suffix(".ipynb")
        text = colab_notebook(page)
        if target.is_file() and target.read_text() == text:
            continue
        stale.append(target)
        if not args.check:
            target.write_text(text)
    orphans = [p for p in args.book.glob("*.ipynb") if not p.with_suffix(".md").is_file()]
    if args.check and (stale or orphans):
        for path in stale:
            print(f"{path} is missing or older than its page: run `make colab`")
        for path in orphans:
            print(f"{path} has no page {path.with_suffix('.md').name}: delete it")
        return 1
    for path in stale:
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
