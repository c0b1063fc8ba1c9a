"""Checks of the arguments every part of np_lib takes: counts, seeds, flags, latency bands.

One place for them, so that ``n=-1``, ``seed=2**70`` or ``band=(85, 75)`` get
the same clear ``ValueError`` whichever function received them, instead of a
silent wrong answer or a NumPy error from deep inside. The rule behind every
random choice in np_lib: it comes from an explicit seed (an int here, or a
``numpy.random.Generator`` the caller owns), never from global state.
"""
from __future__ import annotations

import numpy as np

#: Seeds are non-negative integers below 2**63: what torch.manual_seed, NumPy's
#: SeedSequence and an int64 JSON field all hold without wrapping round.
MAX_SEED = 2 ** 63


def _is_int(value) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


def check_count(n, what: str = "n", *, minimum: int = 0) -> int:
    """``n`` as an int ``>= minimum`` (0 by default: "no models" is a valid count), or a ValueError."""
    if not _is_int(n) or n < minimum:
        kind = {0: "a non-negative integer", 1: "a positive integer"}.get(minimum, f"an integer >= {minimum}")
        raise ValueError(f"{what} must be {kind}, got {n!r}")
    return int(n)


def check_positive(n, what: str = "n") -> int:
    """``n`` as an int ``>= 1`` (a size, a depth, a number of threads), or a ValueError."""
    return check_count(n, what, minimum=1)


def check_seed(seed, what: str = "seed") -> int:
    """``seed`` as an int in ``[0, 2**63)``, or a ValueError (floats, bools, -1 and 2**70 are refused)."""
    if not _is_int(seed) or not 0 <= seed < MAX_SEED:
        raise ValueError(f"{what} must be an integer in [0, 2**63), got {seed!r}")
    return int(seed)


def check_flag(value, what: str) -> bool:
    """``value`` as a bool: True or False (NumPy's too), or a ValueError ("yes", 1 and None are refused)."""
    if not isinstance(value, (bool, np.bool_)):
        raise ValueError(f"{what} must be True or False, got {value!r}")
    return bool(value)


def as_rng(seed) -> np.random.Generator:
    """``seed`` as a Generator: an int seed (:func:`check_seed`) or a SeedSequence seeds a new one,
    a Generator is used as is (so a caller can thread one stream through several draws)."""
    if isinstance(seed, np.random.Generator):
        return seed
    if isinstance(seed, np.random.SeedSequence):
        return np.random.default_rng(seed)
    if seed is None:
        raise ValueError("seed must be an integer or a numpy.random.Generator, got None: every random "
                         "choice in np_lib comes from an explicit seed")
    return np.random.default_rng(check_seed(seed))


def check_band(band) -> tuple[float, float]:
    """``(low, high)`` in ms with ``low < high``, or a ValueError saying why not."""
    try:
        low, high = (float(b) for b in band)
    except (TypeError, ValueError):
        raise ValueError(f"band must be a pair (low_ms, high_ms), got {band!r}") from None
    if not (np.isfinite(low) and np.isfinite(high)) or low >= high:
        raise ValueError(f"band must be two finite latencies with low < high, got ({low:g}, {high:g}) ms: "
                         f"an empty band holds no model")
    return low, high
