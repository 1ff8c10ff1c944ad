"""A text corpus that ships with Python: the source code of standard-library modules.

Nothing is downloaded; the text is read from the modules installed with the
interpreter, so it is the same on every run of a given Python version, and it changes
with the version (modules are edited between releases, even between bug-fix releases).
``corpus_sha256`` fingerprints a corpus; ``REFERENCE_SHA256`` is the fingerprint of the
default corpus under ``REFERENCE_PYTHON``, the interpreter that made the book's numbers
(a test checks it there), so a reader can tell whether they train on the same text.  The default
modules give about 1.1 million characters of plain Python (code, comments, docstrings).
Characters outside printable ASCII (a handful of accented letters in comments) become
``"?"`` so that the vocabulary stays small (about 95 characters).

The validation text is the last ``val_fraction`` of every module, cut at a line start, so
training and validation cover the same mix of modules without sharing a line.
"""
from __future__ import annotations

import hashlib
import importlib
import inspect
import platform

MODULES = (
    "argparse", "textwrap", "dataclasses", "difflib", "fractions", "heapq", "functools",
    "enum", "calendar", "string", "shlex", "statistics", "random", "pathlib", "json.decoder",
    "json.encoder", "csv", "configparser", "pprint", "logging", "collections", "tokenize",
    "gettext", "contextlib", "queue", "ipaddress", "datetime",
)

REFERENCE_PYTHON = "3.11.7"
REFERENCE_SHA256 = "fd65768f92963f2996569053a8f792d8f8bfe1f04cc1b076932da23028c39d08"


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


def corpus_sha256(train_text: str, val_text: str) -> str:
    """SHA-256 (hex) of a (train_text, val_text) pair; a NUL byte separates the two parts."""
    if not isinstance(train_text, str) or not isinstance(val_text, str):
        raise TypeError("train_text and val_text must both be str")
    return hashlib.sha256((train_text + "\x00" + val_text).encode("utf-8")).hexdigest()


def corpus_matches_reference(train_text: str, val_text: str) -> bool:
    """True when the pair is the default corpus the book's numbers were made with (``REFERENCE_SHA256``)."""
    return corpus_sha256(train_text, val_text) == REFERENCE_SHA256


def corpus_info(train_text: str, val_text: str) -> dict:
    """What results files record about the corpus: Python version, sizes, fingerprint, reference or not."""
    return {"python": platform.python_version(), "train_chars": len(train_text), "val_chars": len(val_text),
            "sha256": corpus_sha256(train_text, val_text),
            "is_reference": corpus_matches_reference(train_text, val_text)}
