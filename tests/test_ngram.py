"""rnncourse.ngram: interpolated Kneser-Ney, checked against hand-computed values and by its invariants."""
import numpy as np
import pytest

from rnncourse.ngram import KneserNey


def test_every_conditional_distribution_sums_to_one():
    rng = np.random.default_rng(0)
    ids = rng.integers(0, 5, 400)
    ids[::7] = 4                                             # some structure, some unseen contexts
    for order in (1, 2, 3, 4):
        model = KneserNey(ids, vocab_size=6, order=order)    # id 5 never occurs
        for context in ([], [4], [0, 1], [5, 5, 5], [1, 2, 3, 4], list(ids[10:20])):
            p = model.distribution(np.array(context, dtype=np.int64))
            assert p.shape == (6,) and np.all(p > 0)
            assert abs(p.sum() - 1.0) < 1e-12, (order, context)


def test_bigram_probability_matches_the_formula_by_hand():
    # text "abab" + "aab" over ids a=0, b=1, c=2 (c never seen)
    ids = np.array([0, 1, 0, 1, 0, 0, 1])
    model = KneserNey(ids, vocab_size=3, order=2)
    # bigrams: ab x3, ba x2, aa x1 -> counts of count 1 and 2: n1 = 1 (aa), n2 = 1 (ba): D2 = 1/3
    D2 = 1 / 3
    # unigram continuation counts: distinct left neighbours of a: {b, a} = 2, of b: {a} = 1
    # n1 = 1 (b), n2 = 1 (a): D1 = 1/3; total 3, 2 types; P0 = 1/3
    D1 = 1 / 3
    p1 = {w: max(c - D1, 0) / 3 + D1 * 2 / 3 * (1 / 3) for w, c in [(0, 2), (1, 1), (2, 0)]}
    # context a: c(aa) = 1, c(ab) = 3, total 4, 2 types
    expect = {w: max(c - D2, 0) / 4 + D2 * 2 / 4 * p1[w] for w, c in [(0, 1), (1, 3), (2, 0)]}
    got = model.distribution(np.array([0]))
    np.testing.assert_allclose(got, [expect[0], expect[1], expect[2]], rtol=1e-12)
    # an unseen context (c) passes the unigram estimate on unchanged
    np.testing.assert_allclose(model.distribution(np.array([2])), [p1[0], p1[1], p1[2]], rtol=1e-12)
    # probs() of a stream agrees with distribution() of each prefix
    stream = np.array([1, 0, 1, 2, 0])
    p = model.probs(stream)
    for t in range(1, len(stream)):
        assert p[t] == pytest.approx(model.distribution(stream[:t])[stream[t]], rel=1e-12)
    assert p[0] == pytest.approx(p1[1], rel=1e-12)              # no context at the start


def test_longer_contexts_help_on_structured_text():
    words = ["def ", "self", "return ", "lambda", "print(", "import "]
    rng = np.random.default_rng(1)
    text = "".join(words[i] for i in rng.integers(0, len(words), 3000))
    chars = sorted(set(text))
    ids = np.array([chars.index(ch) for ch in text])
    train, test = ids[:15000], ids[15000:]
    bpc = [KneserNey(train, len(chars), order).bits_per_char(test) for order in (1, 2, 3, 5)]
    floor = np.log2(len(words)) / np.mean([len(w) for w in words])   # one free choice per word
    assert bpc[0] > bpc[1] > bpc[2] and bpc[0] > 3 * floor
    assert abs(bpc[3] - floor) < 0.05 and abs(bpc[2] - floor) < 0.05    # a word is fixed by its first characters


def test_bad_input_is_refused_with_what_was_expected():
    with pytest.raises(ValueError, match="order"):
        KneserNey(np.array([0, 1, 0]), 2, order=0)
    with pytest.raises(ValueError, match=r"\[0, 2\)"):
        KneserNey(np.array([0, 1, 2]), 2, order=2)
    with pytest.raises(ValueError, match="1-D array of integer ids"):
        KneserNey(np.array([0.0, 1.0]), 2, order=1)
    with pytest.raises(ValueError, match="at least 3"):
        KneserNey(np.array([0, 1]), 2, order=3)
    with pytest.raises(ValueError, match="vocab_size"):
        KneserNey(np.array([0, 1]), 1, order=1)
    model = KneserNey(np.array([0, 1, 0, 1]), 2, order=2)
    with pytest.raises(ValueError, match=r"\[0, 2\)"):
        model.probs(np.array([0, 3]))
