"""A text corpus that ships with Python: the source code of standard-library modules.

Nothing is downloaded; the text is read from the modules installed with the
interpreter, so it is the same on every run of a given Python version.  The default
modules give about 1.1 million characters of plain Python (code, comments, docstrings).
Characters outside printable ASCII (a handful of accented letters in comments) become
``"?"`` so that the vocabulary stays small (about 95 characters).

The validation text is the last ``val_fraction`` of every module, cut at a line start, so
training and validation cover the same mix of modules without sharing a line.
"""
from __future__ import annotations

import importlib
import inspect

MODULES = (
    "argparse", "textwrap", "dataclasses", "difflib", "fractions", "heapq", "functools",
    "enum", "calendar", "string", "shlex", "statistics", "random", "pathlib", "json.decoder",
    "json.encoder", "csv", "configparser", "pprint", "logging", "collections", "tokenize",
    "gettext", "contextlib", "queue", "ipaddress", "datetime",
)


def _printable(ch: str) -> bool:
    return ch == "\n" or 32 <= ord(ch) < 127


def module_source(name: str) -> str:
    """Source text of the pure-Python module ``name``, non-printable characters replaced by '?'."""
    if not isinstance(name, str):
        raise TypeError(f"module name must be a str, got {type(name).__name__}")
    try:
        text = inspect.getsource(importlib.import_module(name))
    except (ImportError, TypeError, OSError) as err:
        raise ValueError(f"cannot read the source of module {name!r}: {err}") from None
    text = text.replace("\t", "    ")
    return "".join(ch if _printable(ch) else "?" for ch in text)


def split_text(text: str, val_fraction: float = 0.1) -> tuple[str, str]:
    """Split ``text`` into (head, tail) with the tail about ``val_fraction`` long, cut at a line start."""
    if not 0 < val_fraction < 1:
        raise ValueError(f"val_fraction must lie strictly between 0 and 1, got {val_fraction}")
    cut = int(len(text) * (1 - val_fraction))
    newline = text.find("\n", cut)
    cut = len(text) if newline < 0 else newline + 1
    return text[:cut], text[cut:]


def python_source_corpus(modules=MODULES, val_fraction: float = 0.1) -> tuple[str, str]:
    """(train_text, val_text): every module split by ``split_text``, heads and tails concatenated in order."""
    if not modules:
        raise ValueError("modules must name at least one module")
    heads, tails = [], []
    for name in modules:
        head, tail = split_text(module_source(name), val_fraction)
        heads.append(head)
        tails.append(tail)
    return "".join(heads), "".join(tails)
