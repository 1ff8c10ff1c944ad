"""Pixel sequences: raster order, one permutation shared by train and test, the digits split."""
import numpy as np
import pytest
import torch

from rnncourse.pixel_data import (images_to_sequences, load_digits_split, load_pixel_task, make_permutation,
                                  permute_pixels)


def test_sequences_are_batch_first_raster_order_and_scaled():
    images = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
    seq = images_to_sequences(images, 255)
    assert seq.shape == (2, 12, 1) and seq.dtype == torch.float32
    for b in range(2):
        for r in range(3):
            for c in range(4):
                assert seq[b, r * 4 + c, 0].item() == pytest.approx(images[b, r, c] / 255)


def test_sequences_accept_tensors_and_reject_bad_input():
    images = torch.rand(3, 5, 5, dtype=torch.float64) * 16
    torch.testing.assert_close(images_to_sequences(images, 16.0)[:, :, 0], (images / 16).reshape(3, 25).float())
    with pytest.raises(ValueError, match=r"\(batch, rows, cols\)"):
        images_to_sequences(np.zeros((4, 64)), 16)
    with pytest.raises(TypeError, match="numpy array or torch tensor"):
        images_to_sequences([[[1]]], 16)
    with pytest.raises(ValueError, match="positive"):
        images_to_sequences(np.zeros((1, 2, 2)), 0)


def test_permutation_is_fixed_by_the_seed():
    p = make_permutation(784, seed=3)
    assert p.dtype == torch.int64 and torch.equal(torch.sort(p).values, torch.arange(784))
    assert torch.equal(p, make_permutation(784, seed=3))
    assert not torch.equal(p, make_permutation(784, seed=4))
    torch.manual_seed(0)
    a = make_permutation(64, 1)
    torch.manual_seed(99)
    assert torch.equal(a, make_permutation(64, 1))  # global RNG state plays no part
    with pytest.raises(ValueError):
        make_permutation(0, 1)


def test_permute_pixels_moves_time_steps_and_is_invertible():
    x = torch.randn(4, 10, 2)
    perm = make_permutation(10, 0)
    out = permute_pixels(x, perm)
    for t in range(10):
        torch.testing.assert_close(out[:, t], x[:, perm[t]])
    inverse = torch.argsort(perm)
    torch.testing.assert_close(permute_pixels(out, inverse), x)
    with pytest.raises(ValueError, match="exactly once"):
        permute_pixels(x, torch.zeros(10, dtype=torch.int64))
    with pytest.raises(ValueError, match="shape"):
        permute_pixels(x, torch.arange(9))


def test_digits_split_is_deterministic_stratified_and_disjoint():
    x_tr, y_tr, x_te, y_te = load_digits_split(seed=0)
    assert x_tr.shape == (1437, 8, 8) and x_te.shape == (360, 8, 8)
    assert y_tr.dtype == np.int64 and set(np.unique(y_te)) == set(range(10))
    counts = np.bincount(y_te, minlength=10)
    assert counts.min() >= 35 and counts.max() <= 37
    again = load_digits_split(seed=0)
    np.testing.assert_array_equal(again[2], x_te)
    other = load_digits_split(seed=1)
    assert not np.array_equal(other[2], x_te)
    flat_train = {row.tobytes() for row in x_tr.reshape(len(x_tr), -1)}
    overlap = sum(row.tobytes() in flat_train for row in x_te.reshape(len(x_te), -1))
    assert overlap <= 2  # the data set has a couple of exact duplicate images, nothing more


def test_permuted_task_applies_one_permutation_to_both_splits():
    plain = load_pixel_task("digits", permuted=False)
    perm = load_pixel_task("digits", permuted=True, perm_seed=5)
    assert plain.perm is None and plain.seq_len == 64 and plain.x_train.shape == (1437, 64, 1)
    assert torch.equal(perm.perm, make_permutation(64, 5))
    torch.testing.assert_close(perm.x_train, plain.x_train[:, perm.perm])
    torch.testing.assert_close(perm.x_test, plain.x_test[:, perm.perm])
    assert torch.equal(perm.y_test, plain.y_test)
    raw = load_pixel_task("digits", standardize=False)
    assert float(raw.x_train.max()) == 1.0 and float(raw.x_train.min()) == 0.0
    assert "64-step" in perm.describe() and "permuted" in perm.describe()


def test_limits_and_bad_dataset():
    task = load_pixel_task("digits", train_limit=10, test_limit=7)
    assert len(task.x_train) == 10 and len(task.y_test) == 7
    with pytest.raises(ValueError, match="'digits' or 'mnist'"):
        load_pixel_task("cifar")


def test_mnist_task_from_idx_files(tmp_path):
    from rnncourse.mnist import write_idx

    rng = np.random.default_rng(0)
    write_idx(tmp_path / "train-images-idx3-ubyte.gz", rng.integers(0, 256, (6, 28, 28), dtype=np.uint8))
    write_idx(tmp_path / "train-labels-idx1-ubyte.gz", rng.integers(0, 10, 6).astype(np.uint8))
    write_idx(tmp_path / "t10k-images-idx3-ubyte.gz", np.full((2, 28, 28), 255, dtype=np.uint8))
    write_idx(tmp_path / "t10k-labels-idx1-ubyte.gz", np.array([3, 7], dtype=np.uint8))
    task = load_pixel_task("mnist", permuted=True, data_dir=tmp_path, standardize=False)
    assert task.x_train.shape == (6, 784, 1) and task.seq_len == 784
    assert torch.all(task.x_test == 1.0) and task.y_test.tolist() == [3, 7]


def test_standardisation_uses_the_training_statistics_for_both_splits():
    raw = load_pixel_task("digits", standardize=False)
    std = load_pixel_task("digits", permuted=True)
    assert std.mean == pytest.approx(float(raw.x_train.mean())) and std.std == pytest.approx(float(raw.x_train.std()))
    assert abs(float(std.x_train.mean())) < 1e-5 and float(std.x_train.std()) == pytest.approx(1.0, abs=1e-5)
    torch.testing.assert_close(std.x_test, (raw.x_test[:, std.perm] - std.mean) / std.std)
    assert "standardised" in std.describe() and "standardised" not in raw.describe()
