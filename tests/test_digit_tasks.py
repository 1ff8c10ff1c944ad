"""The digit-reversal task: targets are the reversed sources, inputs are the targets shifted by one."""
import pytest
import torch

from rnncourse.digit_tasks import BOS, DIGIT0, EOS, PAD, VOCAB, from_text, reverse_task, to_text


def test_targets_reverse_the_source_and_end_with_eos():
    b = reverse_task(50, 1, 7, torch.Generator().manual_seed(0))
    assert b["src"].shape == (50, 7) and b["tgt_in"].shape == b["tgt_out"].shape == (50, 8)
    assert set(b["lengths"].tolist()) <= set(range(1, 8)) and len(set(b["lengths"].tolist())) > 3
    for src, n, tin, tout in zip(b["src"], b["lengths"].tolist(), b["tgt_in"], b["tgt_out"]):
        assert to_text(tout) == to_text(src)[::-1] and len(to_text(src)) == n
        assert tout[n] == EOS and torch.all(tout[n + 1:] == PAD) and torch.all(src[n:] == PAD)
        assert torch.all(src[:n] >= DIGIT0) and torch.all(src[:n] < VOCAB)
        assert tin[0] == BOS and torch.equal(tin[1:n + 1], tout[:n]) and torch.all(tin[n + 1:] == PAD)


def test_same_generator_seed_same_batch():
    a = reverse_task(4, 2, 5, torch.Generator().manual_seed(3))
    b = reverse_task(4, 2, 5, torch.Generator().manual_seed(3))
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_text_round_trip_and_bad_input():
    assert to_text(from_text("4071")) == "4071" and to_text([DIGIT0 + 2, EOS, DIGIT0]) == "2"
    with pytest.raises(ValueError, match="digits 0-9"):
        from_text("12a")
    with pytest.raises(ValueError, match="min_len <= max_len"):
        reverse_task(3, 5, 2, torch.Generator())
    with pytest.raises(ValueError, match="batch must be"):
        reverse_task(0, 1, 2, torch.Generator())
