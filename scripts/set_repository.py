"""One setting names the course's public repository: ``repository.url`` in ``_config.yml``.

    python scripts/set_repository.py                       # write the configured URL everywhere
    python scripts/set_repository.py https://github.com/me/rnncourse   # set it first, then the same
    python scripts/set_repository.py --check               # exit 1, naming each place that disagrees

The URL drives the website's launch buttons (Jupyter Book reads ``_config.yml`` itself) and is
copied into the files that cannot read it: the install line of every exercise's setup cell
(``solutions/`` and the student versions in ``notebooks/``), the clone line of the Colab copies
of the chapter pages (``book/*.ipynb``, written by ``scripts/colab_pages.py``) and ``README.md``.
Only the URL is replaced in those files, nothing else changes.
"""
from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
#: A repository URL that Colab and Binder can open.
URL_FORM = re.compile(r"https://github\.com/[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+")
_URL = r"(https?://[^\s\"'\\)<>\]]+)"
#: (files, pattern whose group 1 is the repository URL), relative to the repository root.
PLACES = [
    ("solutions/*/*.ipynb", re.compile(r"%pip install [^\n]*?git\+" + _URL)),
    ("notebooks/*/*.ipynb", re.compile(r"%pip install [^\n]*?git\+" + _URL)),
    ("book/*.ipynb", re.compile(r"!git clone [^\n]*?" + _URL)),
    ("README.md", re.compile(r"(https://github\.com/[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+)")),
]


def configured_url(root: Path = ROOT) -> str:
    """The repository URL set in ``root/_config.yml``."""
    return yaml.safe_load((root / "_config.yml").read_text())["repository"]["url"]


def check_url(url: str) -> str:
    """``url`` without a trailing slash or ``.git``; a ValueError unless it is ``https://github.com/<owner>/<name>``."""
    url = url.strip().rstrip("/").removesuffix(".git")
    if not URL_FORM.fullmatch(url):
        raise ValueError(f"expected a GitHub repository URL such as https://github.com/<owner>/<name>, got {url!r} "
                         "(Colab and Binder open GitHub repositories)")
    return url


def write_config_url(url: str, root: Path = ROOT) -> None:
    """Set ``repository.url`` in ``root/_config.yml``, leaving the rest of the file as it is."""
    path = root / "_config.yml"
    text, count = re.subn(r"(?m)^(repository:\s*\n(?:[ \t]+.*\n)*?[ \t]+url:[ \t]*).*$", lambda m: m.group(1) + url,
                          path.read_text(), count=1)
    if count != 1:
        raise ValueError(f"{path} has no `repository:` section with a `url:` line")
    path.write_text(text)
    assert configured_url(root) == url


def occurrences(root: Path = ROOT) -> list[tuple[Path, str]]:
    """Every (file, repository URL) that the files of ``PLACES`` hold, one entry per occurrence."""
    found = []
    for pattern, regex in PLACES:
        for path in sorted(root.glob(pattern)):
            found += [(path, m.group(1)) for m in regex.finditer(path.read_text())]
    return found


def disagreements(root: Path = ROOT) -> list[str]:
    """One line per place whose URL is not the configured one, and per place that lost its URL."""
    url = configured_url(root)
    problems = [f"{path.relative_to(root)}: {found} (configured: {url})" for path, found in occurrences(root)
                if found != url]
    holders = {path for path, _ in occurrences(root)}
    for pattern, _ in PLACES:
        for path in sorted(root.glob(pattern)):
            if path not in holders:
                problems.append(f"{path.relative_to(root)}: no repository URL found where one was expected")
    return problems


def propagate(root: Path = ROOT) -> list[Path]:
    """Write the configured URL into every place of ``PLACES``; return the files changed."""
    url = check_url(configured_url(root))
    changed = []
    for pattern, regex in PLACES:
        for path in sorted(root.glob(pattern)):
            text = path.read_text()
            new = regex.sub(lambda m: m.group(0)[: m.start(1) - m.start(0)] + url, text)
            if new != text:
                path.write_text(new)
                changed.append(path)
    return changed


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("url", nargs="?", help="new repository URL (default: keep the one in _config.yml)")
    parser.add_argument("--check", action="store_true", help="only report the places that disagree with _config.yml")
    parser.add_argument("--root", type=Path, default=ROOT, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.check:
        if args.url:
            parser.error("--check compares with _config.yml: give no URL")
        problems = disagreements(args.root)
        for line in problems:
            print(line)
        return 1 if problems else 0
    try:
        if args.url:
            write_config_url(check_url(args.url), args.root)
        changed = propagate(args.root)
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    for path in changed:
        print(f"wrote {path.relative_to(args.root)}")
    print(f"repository: {configured_url(args.root)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
