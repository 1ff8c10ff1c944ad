"""The grader's trusted table of properties: predicates over the data a student's code produced.

A test cell that cannot compare an answer with the solution's (random draws whose
order the instructions leave open, a loss curve, whether a function raised) calls
``check_property(key, data, name_of_property, ...)`` from ``rnncourse.grading``:
the student's raw data (named arrays) is recorded, and one predicate of
``PROPERTIES`` judges it.  Locally the predicate runs in the student's kernel, so
that the message arrives at once; at grading time it runs only outside the kernel,
on the recorded arrays, with the property and parameters that the *solution's* run
recorded.  No verdict computed inside the kernel ever counts.

Each predicate takes ``data`` (field name -> numpy array) and keyword parameters
and returns ``None`` when the property holds, else what is wrong, said the way a
public test says it.  Data of the wrong form raises ``Malformed`` (a failure too).
"""
from __future__ import annotations

import re

import numpy as np


class Malformed(Exception):
    """The recorded data does not have the form the property reads."""


def numbers(data: dict, name: str, ndim: int | None = None) -> np.ndarray:
    """Field ``name`` as finite float64 numbers (bool and integers allowed)."""
    if name not in data:
        raise Malformed(f"no field {name!r} was recorded")
    arr = np.asarray(data[name])
    if arr.dtype.kind not in "biuf":
        raise Malformed(f"{name} must hold numbers, got dtype {arr.dtype}")
    if ndim is not None and arr.ndim != ndim:
        raise Malformed(f"{name} must have {ndim} dimension(s), got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise Malformed(f"{name} contains NaN or infinity")
    return arr.astype(np.float64)


def text(data: dict, name: str) -> list[str]:
    """Field ``name`` as a list of strings (a single string gives a list of one)."""
    if name not in data:
        raise Malformed(f"no field {name!r} was recorded")
    arr = np.asarray(data[name])
    if arr.size and arr.dtype.kind != "U":
        raise Malformed(f"{name} must hold text, got dtype {arr.dtype}")
    return [str(s) for s in arr.ravel()]


# --- general properties ----------------------------------------------------------------------------------

def same_arrays(data: dict) -> str | None:
    """Every field equals the first exactly (same shape, same values): the same seed gives the same data."""
    names = list(data)
    if len(names) < 2:
        raise Malformed("needs at least two fields")
    first = np.asarray(data[names[0]])
    for name in names[1:]:
        other = np.asarray(data[name])
        if other.shape != first.shape:
            return f"{name} has shape {other.shape}, {names[0]} has {first.shape}"
        if not np.array_equal(other, first):
            return f"{name} differs from {names[0]} in {int(np.sum(other != first))} of {first.size} entries"
    return None


def close_arrays(data: dict, rtol: float = 1e-7, atol: float = 1e-9) -> str | None:
    """Every field is close to the first (``numpy.isclose`` with ``rtol``, ``atol``): two ways of
    computing one thing agree."""
    names = list(data)
    if len(names) < 2:
        raise Malformed("needs at least two fields")
    first = numbers(data, names[0])
    for name in names[1:]:
        other = numbers(data, name)
        if other.shape != first.shape:
            return f"{name} has shape {other.shape}, {names[0]} has {first.shape}"
        close = np.isclose(other, first, rtol=rtol, atol=atol)
        if not np.all(close):
            where = tuple(int(i) for i in np.argwhere(~close)[0])
            return (f"{name} and {names[0]} differ in {int((~close).sum())} of {first.size} entries; first at "
                    f"index {where}: {other[where]!r} vs {first[where]!r}")
    return None


def arrays_differ(data: dict, atol: float = 1e-12) -> str | None:
    """The second field differs from the first by more than ``atol`` somewhere: a change of input shows."""
    names = list(data)
    if len(names) != 2:
        raise Malformed("needs exactly two fields")
    first, second = numbers(data, names[0]), numbers(data, names[1])
    if first.shape != second.shape:
        return None
    if np.all(np.abs(first - second) <= atol):
        return f"{names[1]} equals {names[0]}: the change made no difference"
    return None


def all_zero(data: dict) -> str | None:
    """Every entry of every field is zero (or False)."""
    for name in data:
        values = numbers(data, name)
        if np.any(values != 0):
            return f"{name} has {int(np.sum(values != 0))} of {values.size} entries that are not zero (or not False)"
    return None


def decreased(data: dict, factor: float = 1.0) -> str | None:
    """Field ``losses`` (one dimension): the last entry is below ``factor`` times the first."""
    losses = numbers(data, "losses", ndim=1)
    if len(losses) < 2:
        raise Malformed("losses needs at least two entries")
    if not losses[-1] < factor * losses[0]:
        return (f"the loss went from {losses[0]:.4g} to {losses[-1]:.4g}; it should end below "
                f"{factor:g} times the first")
    return None


def at_least(data: dict, minimum: float = 0.0) -> str | None:
    """Field ``value`` (a number) is at least ``minimum``."""
    value = numbers(data, "value")
    if value.size != 1:
        raise Malformed(f"value must be one number, got shape {value.shape}")
    if not float(value) >= minimum:
        return f"got {float(value):.4g}, expected at least {minimum:g}"
    return None


def at_most(data: dict, maximum: float = 0.0) -> str | None:
    """Field ``value`` (a number) is at most ``maximum``."""
    value = numbers(data, "value")
    if value.size != 1:
        raise Malformed(f"value must be one number, got shape {value.shape}")
    if not float(value) <= maximum:
        return f"got {float(value):.4g}, expected at most {maximum:g}"
    return None


def draw_frequencies(data: dict, p: list | None = None, atol: float = 0.04) -> str | None:
    """Field ``draws`` (integers in [0, len(p))): the frequency of each value is within ``atol`` of ``p``."""
    if not p:
        raise Malformed("needs the distribution p")
    draws = numbers(data, "draws", ndim=1)
    if draws.size == 0:
        return "no draws were recorded"
    if np.any(draws != np.round(draws)) or draws.min() < 0 or draws.max() >= len(p):
        return f"the draws must be integers in 0 .. {len(p) - 1}"
    freq = np.bincount(draws.astype(np.int64), minlength=len(p)) / draws.size
    worst = int(np.argmax(np.abs(freq - np.asarray(p, dtype=np.float64))))
    if abs(freq[worst] - p[worst]) > atol:
        return (f"value {worst} was drawn with frequency {freq[worst]:.3f}, but its probability is {p[worst]:.3f} "
                f"(frequencies {np.round(freq, 3).tolist()})")
    return None


def raises(data: dict, exception: str = "Exception", mentions: str | None = None) -> str | None:
    """Field ``raised`` lists the class names of the exception that a call raised (its MRO; empty when
    it returned): ``exception`` must be among them.  With ``mentions`` (a regular expression), field
    ``message`` must contain a match."""
    raised = text(data, "raised")
    if not raised:
        return f"nothing was raised: expected {exception}"
    if exception not in raised:
        return f"raised {raised[0]}, expected {exception}"
    if mentions is not None:
        message = " ".join(text(data, "message"))[:2000]
        if re.search(mentions, message) is None:
            return f"the message {message[:200]!r} does not name what is wrong"
    return None


# --- chapter 7: the adding problem ------------------------------------------------------------------------

def _adding_x(data: dict) -> np.ndarray:
    x = numbers(data, "x", ndim=3)
    if x.shape[2] != 2 or x.shape[1] < 2:
        raise Malformed(f"x must have shape (batch, length >= 2, 2), got {x.shape}")
    return x


def adding_marks_one_per_half(data: dict) -> str | None:
    """Channel 1 of x holds only 0 and 1, with exactly one 1 in steps [0, T//2) and one in [T//2, T)."""
    marks = _adding_x(data)[:, :, 1]
    half = marks.shape[1] // 2
    if not np.all((marks == 0) | (marks == 1)):
        return "the marks channel holds values other than 0 and 1"
    first, second = marks[:, :half].sum(axis=1), marks[:, half:].sum(axis=1)
    bad = np.flatnonzero((first != 1) | (second != 1))
    if bad.size:
        return (f"{bad.size} of {len(marks)} sequences do not have exactly one mark in each half; first is "
                f"row {bad[0]} with {int(first[bad[0]])} mark(s) in steps 0..{half - 1} and "
                f"{int(second[bad[0]])} in steps {half}..{marks.shape[1] - 1}")
    return None


def adding_values_in_unit_interval(data: dict) -> str | None:
    values = _adding_x(data)[:, :, 0]
    if values.min() < 0 or values.max() > 1:
        return f"values range over [{values.min():.3g}, {values.max():.3g}], not within [0, 1]"
    return None


def adding_targets_are_marked_sums(data: dict, rtol: float = 1e-7, atol: float = 1e-9) -> str | None:
    """y is the sum of the two marked values of each sequence (computed here from the recorded x)."""
    x = _adding_x(data)
    y = numbers(data, "y", ndim=1)
    if y.shape != (x.shape[0],):
        return f"y must have shape ({x.shape[0]},), got {y.shape}"
    return close_arrays({"y": y, "sum_of_marked_values": (x[:, :, 0] * x[:, :, 1]).sum(axis=1)}, rtol, atol)


def _chi_square_p(counts: np.ndarray) -> float:
    """p-value of counts against the uniform distribution (Pearson's chi-square test)."""
    from scipy.stats import chi2
    expected = counts.sum() / len(counts)
    stat = float(((counts - expected) ** 2 / expected).sum())
    return float(chi2.sf(stat, len(counts) - 1))


def adding_uniform_positions(data: dict, min_p: float = 1e-6) -> str | None:
    """The marked steps are uniform within each half (chi-square test, p above ``min_p``)."""
    problem = adding_marks_one_per_half(data)
    if problem:
        return problem
    marks = _adding_x(data)[:, :, 1]
    half = marks.shape[1] // 2
    for which, block in (("first", marks[:, :half]), ("second", marks[:, half:])):
        if block.shape[1] > 1:
            p = _chi_square_p(block.sum(axis=0))
            if p < min_p:
                return f"the marks in the {which} half are not uniform over its steps (chi-square p = {p:.2g})"
    return None


def adding_uniform_values(data: dict, sigmas: float = 6.0) -> str | None:
    """Values have the mean 1/2 and variance 1/12 of U[0, 1] within ``sigmas`` standard errors."""
    problem = adding_values_in_unit_interval(data)
    if problem:
        return problem
    values = _adding_x(data)[:, :, 0].ravel()
    n = values.size
    mean_err, var_err = np.sqrt(1 / 12 / n), np.sqrt((1 / 80 - 1 / 144) / n)
    if abs(values.mean() - 0.5) > sigmas * mean_err:
        return f"the values have mean {values.mean():.4f}; uniform values on [0, 1] have mean 0.5"
    if abs(values.var() - 1 / 12) > sigmas * var_err:
        return f"the values have variance {values.var():.4f}; uniform values on [0, 1] have 1/12 = 0.0833"
    return None


def adding_baseline(data: dict, sigmas: float = 6.0) -> str | None:
    """Predicting 1 scores the mean squared error 1/6 (Var(a) + Var(b)) within ``sigmas`` standard errors."""
    y = numbers(data, "y", ndim=1)
    errors = (y - 1.0) ** 2
    tolerance = sigmas * np.sqrt((1 / 15 - 1 / 36) / max(len(y), 1))
    if abs(errors.mean() - 1 / 6) > tolerance:
        return f"predicting 1 scores {errors.mean():.4f}; for the adding problem it must be 1/6 = 0.1667"
    return None


# --- chapter 10: the LRU's eigenvalues --------------------------------------------------------------------

def _lru_polar(data: dict) -> tuple[np.ndarray, np.ndarray]:
    """Magnitudes exp(-exp(nu_log)) and phases exp(theta_log) of the recorded one-dimensional fields."""
    nu_log, theta_log = numbers(data, "nu_log", ndim=1), numbers(data, "theta_log", ndim=1)
    if nu_log.shape != theta_log.shape:
        raise Malformed(f"nu_log and theta_log must have the same shape, got {nu_log.shape} and {theta_log.shape}")
    return np.exp(-np.exp(nu_log)), np.exp(theta_log)


def lru_ring(data: dict, r_min: float = 0.0, r_max: float = 1.0, max_phase: float = 2 * np.pi,
             rtol: float = 1e-7, atol: float = 1e-9) -> str | None:
    """Every eigenvalue exp(-exp(nu_log) + i exp(theta_log)) has its magnitude in [r_min, r_max] and
    its phase in [0, max_phase]; gamma_log = log sqrt(1 - |lambda|^2) (the LRU's normalisation)."""
    r, theta = _lru_polar(data)
    gamma_log = numbers(data, "gamma_log", ndim=1)
    slack = 1e-12
    if r.min() < r_min - slack or r.max() > r_max + slack:
        return f"magnitudes exp(-exp(nu_log)) lie in [{r.min():.4g}, {r.max():.4g}]; they must lie in [{r_min:g}, {r_max:g}]"
    if theta.min() < -slack or theta.max() > max_phase + slack:
        return f"phases exp(theta_log) lie in [{theta.min():.4g}, {theta.max():.4g}]; they must lie in [0, {max_phase:.4g}]"
    if gamma_log.shape != r.shape or not np.allclose(gamma_log, 0.5 * np.log1p(-r ** 2), rtol=rtol, atol=atol):
        return "gamma_log is not log(sqrt(1 - |lambda|^2)) of the same eigenvalues"
    return None


def lru_uniform_ring(data: dict, r_min: float = 0.0, r_max: float = 1.0, max_phase: float = 2 * np.pi,
                     sigmas: float = 6.0) -> str | None:
    """On a large sample: |lambda|^2 uniform on [r_min^2, r_max^2] (uniform on the ring's area) and the
    phase uniform on [0, max_phase], by their means and variances within ``sigmas`` standard errors."""
    r, theta = _lru_polar(data)
    n = len(r)
    for what, u in (("|lambda|^2", (r ** 2 - r_min ** 2) / (r_max ** 2 - r_min ** 2)), ("the phase", theta / max_phase)):
        if abs(u.mean() - 0.5) > sigmas * np.sqrt(1 / 12 / n) or abs(u.var() - 1 / 12) > sigmas * np.sqrt(1 / 180 / n):
            return (f"{what} is not uniform on its range: rescaled to [0, 1] it has mean {u.mean():.4f} and variance "
                    f"{u.var():.4f} instead of 0.5 and 0.0833")
    return None


PROPERTIES = {
    "same_arrays": same_arrays,
    "close_arrays": close_arrays,
    "arrays_differ": arrays_differ,
    "all_zero": all_zero,
    "decreased": decreased,
    "at_least": at_least,
    "raises": raises,
    "draw_frequencies": draw_frequencies,
    "adding_marks_one_per_half": adding_marks_one_per_half,
    "adding_values_in_unit_interval": adding_values_in_unit_interval,
    "adding_targets_are_marked_sums": adding_targets_are_marked_sums,
    "adding_uniform_positions": adding_uniform_positions,
    "adding_uniform_values": adding_uniform_values,
    "adding_baseline": adding_baseline,
    "at_most": at_most,
    "lru_ring": lru_ring,
    "lru_uniform_ring": lru_uniform_ring,
}


def property_problem(prop: str, data: dict, params: dict) -> str | None:
    """None when property ``prop`` holds for ``data`` (name -> array) with ``params``, else what is wrong.

    Never raises for bad data or parameters: data of the wrong form is a failed property."""
    function = PROPERTIES.get(prop)
    if function is None:
        return f"unknown property {prop!r}"
    try:
        return function({k: np.asarray(v) for k, v in data.items()}, **params)
    except Malformed as error:
        return f"the recorded data does not have the expected form: {error}"
    except (TypeError, ValueError, IndexError) as error:
        return f"the recorded data does not have the expected form ({type(error).__name__})"
