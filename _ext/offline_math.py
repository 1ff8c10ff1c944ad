"""Serve MathJax 3 from the website itself, so that math renders without a network.

The MathJax files come from the PyPI package ``sphinx-mathjax-offline`` (MathJax 3.2.2), pinned in
``requirements.txt``. Only what the TeX-to-HTML renderer needs is copied into ``_static/mathjax``:
the combined ``tex-chtml.js`` component, its fonts, the TeX extensions it loads on demand and the
menu's accessibility modules (about 3 MB instead of the package's 24 MB). ``_config.yml`` points ``mathjax_path`` at it.
"""
from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path

#: Files and folders of MathJax's distribution that the site serves.
PARTS = ["tex-chtml.js", "output/chtml/fonts/woff-v2", "input/tex/extensions", "ui", "a11y"]


def mathjax_source() -> Path:
    """The MathJax distribution inside the installed ``sphinx-mathjax-offline`` package."""
    spec = importlib.util.find_spec("sphinx-mathjax-offline")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("MathJax is missing: install the pinned requirements (pip install -r requirements.txt)")
    return Path(list(spec.submodule_search_locations)[0]) / "static" / "mathjax"


def copy_mathjax(app, exception) -> None:
    if exception is not None or app.builder.format != "html":
        return
    source, target = mathjax_source(), Path(app.outdir) / "_static" / "mathjax"
    for part in PARTS:
        if (source / part).is_dir():
            shutil.copytree(source / part, target / part, dirs_exist_ok=True)
        else:
            (target / part).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source / part, target / part)


def setup(app):
    mathjax_source()  # fail early, with the fix, when the package is missing
    app.connect("build-finished", copy_mathjax)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
