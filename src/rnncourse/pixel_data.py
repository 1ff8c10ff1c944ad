"""Images as pixel sequences: the input of the pixel-by-pixel MNIST task.

A grey image of ``rows x cols`` pixels is read in raster order (row by row, left
to right) and fed to a recurrent net one pixel per time step:

    images (batch, rows, cols)  ->  sequences (batch, rows * cols, 1)

so MNIST becomes 784-step sequences and scikit-learn's 8x8 digits 64-step ones.
The *permuted* task shuffles the time axis with one fixed permutation, drawn
once from a seed and applied identically to every training and test image; it
destroys the local structure of the raster scan and spreads dependencies over
the whole sequence.

Pixels are scaled to [0, 1] and then, by default, standardised with the training
set's mean and standard deviation (two numbers, applied to both splits).  With
raw non-negative inputs, a ReLU unit whose input weight is negative receives only
negative drive, outputs 0 and gets no gradient: with an identity recurrence and
zero bias it is dead from the first step.  Centred inputs have both signs.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

DIGITS_MAX = 16.0   # scikit-learn's digits hold integer intensities 0..16
MNIST_MAX = 255.0   # MNIST holds bytes 0..255


def images_to_sequences(images, max_value: float) -> torch.Tensor:
    """Turn images into batch-first pixel sequences scaled to [0, 1].

    images: (batch, rows, cols) array or tensor of intensities in [0, max_value].
    Returns a float32 tensor of shape (batch, rows * cols, 1): time step
    ``t = r * cols + c`` holds pixel ``(r, c)`` divided by ``max_value``.
    """
    if isinstance(images, np.ndarray):
        images = torch.from_numpy(images)
    if not isinstance(images, torch.Tensor):
        raise TypeError(f"images must be a numpy array or torch tensor, got {type(images).__name__}")
    if images.ndim != 3:
        raise ValueError(f"images must have shape (batch, rows, cols), got {tuple(images.shape)}")
    if not max_value > 0:
        raise ValueError(f"max_value must be positive, got {max_value}")
    batch, rows, cols = images.shape
    return (images.to(torch.float32) / float(max_value)).reshape(batch, rows * cols, 1)


def make_permutation(length: int, seed: int) -> torch.Tensor:
    """One fixed permutation of ``range(length)``: ``torch.randperm`` with a generator seeded by ``seed``."""
    if isinstance(length, bool) or not isinstance(length, int) or length < 1:
        raise ValueError(f"length must be a positive int, got {length!r}")
    generator = torch.Generator().manual_seed(int(seed))
    return torch.randperm(length, generator=generator)


def permute_pixels(sequences: torch.Tensor, perm: torch.Tensor) -> torch.Tensor:
    """Reorder the time axis: ``out[:, t] = sequences[:, perm[t]]``.

    sequences: (batch, time, features); perm: (time,) int64, a permutation of
    ``range(time)``.  Use the *same* ``perm`` for the training and the test set.
    """
    if not isinstance(sequences, torch.Tensor) or sequences.ndim != 3:
        raise ValueError("sequences must be a tensor of shape (batch, time, features), got "
                         f"{getattr(sequences, 'shape', type(sequences).__name__)}")
    perm = torch.as_tensor(perm)
    time = sequences.shape[1]
    if perm.shape != (time,) or perm.dtype != torch.int64:
        raise ValueError(f"perm must be an int64 tensor of shape ({time},), got {perm.dtype} {tuple(perm.shape)}")
    if not torch.equal(torch.sort(perm).values, torch.arange(time)):
        raise ValueError(f"perm must contain each of 0..{time - 1} exactly once")
    return sequences[:, perm.to(sequences.device), :]


def load_digits_split(test_size: int = 360, seed: int = 0):
    """scikit-learn's 1797 handwritten 8x8 digits, split into train and test by a fixed seed.

    Returns ``(train_images, train_labels, test_images, test_labels)``: images
    (n, 8, 8) float64 intensities 0..16, labels (n,) int64.  The split is
    stratified (every digit in the same proportion in both parts) and depends on
    ``seed`` only.
    """
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    digits = load_digits()
    x_train, x_test, y_train, y_test = train_test_split(
        digits.images, digits.target.astype(np.int64), test_size=test_size,
        random_state=seed, stratify=digits.target)
    return x_train, y_train, x_test, y_test


@dataclass
class PixelTask:
    """Training and test sequences of one pixel task, ready for a recurrent net.

    x_*: (n, time, 1) float32, y_*: (n,) int64, perm: (time,) or None.
    """

    name: str
    x_train: torch.Tensor
    y_train: torch.Tensor
    x_test: torch.Tensor
    y_test: torch.Tensor
    perm: torch.Tensor | None
    mean: float = 0.0
    std: float = 1.0

    @property
    def seq_len(self) -> int:
        return self.x_train.shape[1]

    def describe(self) -> str:
        kind = "permuted pixels" if self.perm is not None else "pixels in raster order"
        scaling = "" if (self.mean, self.std) == (0.0, 1.0) else f", standardised (mean {self.mean:.3f}, std {self.std:.3f})"
        return (f"{self.name}: {len(self.x_train)} training / {len(self.x_test)} test images as "
                f"{self.seq_len}-step sequences of {kind}{scaling}")


def load_pixel_task(dataset: str = "digits", permuted: bool = False, perm_seed: int = 0,
                    data_dir=None, train_limit: int | None = None, test_limit: int | None = None,
                    split_seed: int = 0, standardize: bool = True) -> PixelTask:
    """Load ``"digits"`` (scikit-learn, no download) or ``"mnist"`` (IDX files) as a pixel task.

    ``permuted=True`` applies ``make_permutation(seq_len, perm_seed)`` to both
    splits.  ``train_limit``/``test_limit`` keep the first n images of each split
    (for quick runs and tests).  ``standardize=True`` subtracts the training
    pixels' mean and divides by their standard deviation, in both splits.
    """
    if dataset == "digits":
        x_train, y_train, x_test, y_test = load_digits_split(seed=split_seed)
        max_value = DIGITS_MAX
    elif dataset == "mnist":
        from rnncourse.mnist import load_mnist

        x_train, y_train, x_test, y_test = load_mnist(data_dir)
        max_value = MNIST_MAX
    else:
        raise ValueError(f"dataset must be 'digits' or 'mnist', got {dataset!r}")
    for limit in (train_limit, test_limit):
        if limit is not None and limit < 1:
            raise ValueError(f"limits must be positive, got {limit}")
    x_train, y_train = x_train[:train_limit], y_train[:train_limit]
    x_test, y_test = x_test[:test_limit], y_test[:test_limit]
    seq_train = images_to_sequences(x_train, max_value)
    seq_test = images_to_sequences(x_test, max_value)
    mean, std = 0.0, 1.0
    if standardize:
        mean, std = float(seq_train.mean()), float(seq_train.std())
        seq_train, seq_test = (seq_train - mean) / std, (seq_test - mean) / std
    perm = None
    if permuted:
        perm = make_permutation(seq_train.shape[1], perm_seed)
        seq_train, seq_test = permute_pixels(seq_train, perm), permute_pixels(seq_test, perm)
    return PixelTask(name=dataset, x_train=seq_train, y_train=torch.as_tensor(y_train, dtype=torch.int64),
                     x_test=seq_test, y_test=torch.as_tensor(y_test, dtype=torch.int64), perm=perm,
                     mean=mean, std=std)
