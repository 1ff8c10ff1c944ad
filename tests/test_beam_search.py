"""Beam search against the exhaustive search on a tiny vocabulary, greedy decoding, and length normalisation."""
import math

import pytest
import torch

from rnncourse.beam_search import beam_search, exhaustive_search, length_penalty, toy_decoder
from rnncourse.seq2seq import greedy_decode


def rescore(step, start, bos, tokens):
    state, last, total = start, torch.tensor([bos]), 0.0
    for token in tokens:
        log_probs, state = step(last, state)
        total += log_probs[0, token].item()
        last = torch.tensor([token])
    return total


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_a_wide_beam_finds_the_exhaustive_best(seed):
    step, start = toy_decoder(3, 4, seed)
    everything = exhaustive_search(step, start, bos=0, eos=1, max_len=3)
    assert len(everything) == 1 + 2 + 4 + 8 and math.isclose(sum(math.exp(h.log_prob) for h in everything), 1.0)
    beam = beam_search(step, start, bos=0, eos=1, beam_size=12, max_len=3)  # keeps every extension
    assert [h.tokens for h in beam] == [h.tokens for h in everything[:12]]
    assert all(math.isclose(a.log_prob, b.log_prob, rel_tol=1e-12) for a, b in zip(beam, everything))


def test_narrow_beams_return_true_log_probs_best_first():
    step, start = toy_decoder(5, 6, seed=4, sharpness=1.0)
    for k in (1, 2, 3):
        beam = beam_search(step, start, bos=0, eos=1, beam_size=k, max_len=5)
        assert len(beam) == k and len({tuple(h.tokens) for h in beam}) == k
        assert [h.log_prob for h in beam] == sorted((h.log_prob for h in beam), reverse=True)
        for h in beam:
            assert math.isclose(h.log_prob, rescore(step, start, 0, h.tokens), rel_tol=1e-12)
            assert h.tokens[-1] == 1 or len(h.tokens) == 5
            assert 1 not in h.tokens[:-1]


def test_beam_of_one_is_greedy():
    step, start = toy_decoder(5, 6, seed=5)
    greedy = greedy_decode(step, start, bos=0, eos=1, max_len=7, pad=-1)[0].tolist()
    assert beam_search(step, start, 0, 1, 1, 7)[0].tokens == [t for t in greedy if t != -1]


def test_length_normalisation_prefers_longer_outputs():
    assert length_penalty(1, 0.0) == 1.0 and math.isclose(length_penalty(7, 1.0), 2.0)
    step, start = toy_decoder(3, 4, seed=6)
    plain = exhaustive_search(step, start, 0, 1, 4)
    normalised = exhaustive_search(step, start, 0, 1, 4, alpha=1.0)
    mean_len = lambda hs: sum(len(h.tokens) for h in hs[:3]) / 3  # noqa: E731
    assert all(math.isclose(h.score, h.log_prob / length_penalty(len(h.tokens), 1.0)) for h in normalised)
    assert mean_len(normalised) >= mean_len(plain)
    wide = beam_search(step, start, 0, 1, beam_size=40, max_len=4, alpha=1.0)
    assert [h.tokens for h in wide] == [h.tokens for h in normalised[:40]]


def test_bad_arguments_are_named():
    step, start = toy_decoder(3, 4, 0)
    with pytest.raises(ValueError, match="one source"):
        beam_search(step, start.repeat(2, 1), 0, 1, 2, 3)
    with pytest.raises(ValueError, match="beam_size must be"):
        beam_search(step, start, 0, 1, 0, 3)
    with pytest.raises(ValueError, match="alpha must be"):
        beam_search(step, start, 0, 1, 2, 3, alpha=-1.0)


def test_beam_search_runs_the_encoder_decoder_through_its_tuple_state():
    from rnncourse.digit_tasks import BOS, EOS, from_text
    from rnncourse.seq2seq import Seq2Seq

    torch.manual_seed(0)
    model = Seq2Seq(embed=5, hidden=7, attention="dot").double()
    state = model.start(from_text("4071")[None], torch.tensor([4]))
    wide = exhaustive_search(model.step, state, BOS, EOS, max_len=2)
    assert [h.tokens for h in beam_search(model.step, state, BOS, EOS, beam_size=13, max_len=2)] == \
        [h.tokens for h in wide[:13]]
    greedy = greedy_decode(model.step, state, BOS, EOS, max_len=5, pad=-1)[0].tolist()
    assert beam_search(model.step, state, BOS, EOS, 1, 5)[0].tokens == [t for t in greedy if t != -1]
