"""rnncourse.text_data: a deterministic corpus read from Python's own modules."""
import pytest

from rnncourse import text_data


def test_corpus_is_large_deterministic_and_printable():
    train, val = text_data.python_source_corpus()
    assert (train, val) == text_data.python_source_corpus()
    assert len(train) > 800_000 and 0.08 < len(val) / (len(train) + len(val)) < 0.12
    allowed = {"\n"} | {chr(i) for i in range(32, 127)}
    assert set(train) <= allowed and set(val) <= allowed
    assert "def " in train and "class " in val


def test_split_cuts_at_a_line_start():
    text = "".join(f"line {i}\n" for i in range(100))
    head, tail = text_data.split_text(text, 0.2)
    assert head + tail == text and head.endswith("\n")
    assert tail.startswith("line ") and 0.15 < len(tail) / len(text) < 0.25
    with pytest.raises(ValueError, match="val_fraction"):
        text_data.split_text(text, 1.0)


def test_validation_holds_the_end_of_every_module():
    train, val = text_data.python_source_corpus(("string", "heapq"))
    for name in ("string", "heapq"):
        source = text_data.module_source(name)
        head, tail = text_data.split_text(source)
        assert head in train and tail in val


def test_bad_module_names():
    with pytest.raises(ValueError, match="cannot read"):
        text_data.module_source("no_such_module_here")
    with pytest.raises(ValueError, match="cannot read"):
        text_data.module_source("sys")                  # built in: no source
    with pytest.raises(TypeError):
        text_data.module_source(3)


def test_fingerprint_tells_corpora_apart():
    train, val = "abc\n", "de\n"
    fp = text_data.corpus_sha256(train, val)
    assert len(fp) == 64 and fp == text_data.corpus_sha256(train, val)
    assert fp != text_data.corpus_sha256(train + "x", val)
    assert fp != text_data.corpus_sha256("abc\nd", "e\n")             # where the split falls counts
    assert not text_data.corpus_matches_reference(train, val)
    with pytest.raises(TypeError):
        text_data.corpus_sha256(b"abc", "de")


def test_default_corpus_matches_the_pinned_fingerprint_under_the_reference_python():
    import platform
    train, val = text_data.python_source_corpus()
    info = text_data.corpus_info(train, val)
    assert info["train_chars"] == len(train) and info["python"] == platform.python_version()
    if platform.python_version() == text_data.REFERENCE_PYTHON:
        # The book's numbers were made on this text; if this fails, the standard library changed under us.
        assert info["sha256"] == text_data.REFERENCE_SHA256 and info["is_reference"]
    else:
        assert info["is_reference"] == (info["sha256"] == text_data.REFERENCE_SHA256)
