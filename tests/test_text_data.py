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
