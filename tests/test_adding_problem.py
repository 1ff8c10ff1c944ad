"""The adding problem generator follows Le, Jaitly & Hinton (2015)."""
import pytest
import torch

from rnncourse.adding_problem import (BASELINE_MSE, adding_batch, adding_dataset, constant_mse,
                                      marker_positions)


@pytest.mark.parametrize("batch,length", [(1, 2), (7, 11), (64, 50)])
def test_shapes_dtype_and_exactly_one_mark_in_each_half(batch, length):
    x, y = adding_batch(batch, length, torch.Generator().manual_seed(0))
    assert x.shape == (batch, length, 2) and y.shape == (batch,) and x.dtype == torch.float32
    marks = x[:, :, 1]
    assert set(marks.unique().tolist()) <= {0.0, 1.0}
    half = length // 2
    assert torch.all(marks[:, :half].sum(1) == 1) and torch.all(marks[:, half:].sum(1) == 1)


def test_target_is_the_sum_of_the_two_marked_values():
    x, y = adding_batch(32, 20, torch.Generator().manual_seed(1), dtype=torch.float64)
    for b in range(32):
        idx = torch.nonzero(x[b, :, 1]).flatten()
        assert len(idx) == 2
        assert torch.isclose(y[b], x[b, idx, 0].sum(), rtol=0, atol=1e-12)


def test_values_are_uniform_on_the_unit_interval():
    x, _ = adding_batch(2000, 50, torch.Generator().manual_seed(2), dtype=torch.float64)
    v = x[:, :, 0].flatten()
    assert v.min() >= 0 and v.max() <= 1
    assert abs(float(v.mean()) - 0.5) < 0.005 and abs(float(v.var()) - 1 / 12) < 0.002
    hist = torch.histc(v, bins=10, min=0, max=1) / v.numel()
    assert torch.all((hist - 0.1).abs() < 0.005)


def test_marker_positions_cover_each_half_uniformly():
    length, n = 10, 50_000
    pos = marker_positions(n, length, torch.Generator().manual_seed(3))
    first = torch.bincount(pos[:, 0], minlength=length)
    second = torch.bincount(pos[:, 1], minlength=length)
    assert torch.all(first[5:] == 0) and torch.all(second[:5] == 0)
    assert torch.all((first[:5] / n - 0.2).abs() < 0.01)
    assert torch.all((second[5:] / n - 0.2).abs() < 0.01)


def test_odd_length_splits_at_floor_half():
    pos = marker_positions(5000, 7, torch.Generator().manual_seed(4))
    assert pos[:, 0].max() == 2 and pos[:, 1].min() == 3 and pos[:, 1].max() == 6


def test_predicting_one_scores_the_baseline_of_one_sixth():
    assert BASELINE_MSE == pytest.approx(1 / 6)
    _, y = adding_dataset(200_000, 6, seed=5, dtype=torch.float64)
    assert constant_mse(y) == pytest.approx(BASELINE_MSE, abs=0.002)
    assert float(y.mean()) == pytest.approx(1.0, abs=0.005)
    assert constant_mse(y, 1.0) < constant_mse(y, 0.9)  # 1 is the best constant


def test_seeded_datasets_repeat_and_differ_between_seeds():
    a, b, c = adding_dataset(8, 12, 0), adding_dataset(8, 12, 0), adding_dataset(8, 12, 1)
    assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1])
    assert not torch.equal(a[0], c[0])


@pytest.mark.parametrize("batch,length,error", [(0, 5, ValueError), (3, 1, ValueError),
                                                (2.0, 5, TypeError), (2, "5", TypeError)])
def test_bad_sizes_are_rejected(batch, length, error):
    with pytest.raises(error, match="batch_size|length"):
        adding_batch(batch, length)


def test_constant_mse_needs_a_vector():
    with pytest.raises(ValueError, match="1-D"):
        constant_mse(torch.zeros(3, 1))
