"""Whole units of a discrete product: rounding that keeps a total exact.

A planner's family total of 120 chairs spread over three SKUs in proportion to 1 : 1 : 1.5 is 34.29, 34.29 and
51.43 chairs; nobody makes 0.29 of a chair. Largest-remainder (Hamilton) rounding gives 34, 34 and 52: each share
rounded down, then the units still missing go one each to the largest remainders, so the SKUs add up to the
family's 120 exactly.
"""

from __future__ import annotations

import math

import numpy as np


def half_up(x: float) -> int:
    """x rounded to the nearest whole number, halves up (2.5 -> 3; Python's round() gives 2)."""
    return int(math.floor(x + 0.5))


def largest_remainder(total: int, weights) -> np.ndarray:
    """``total`` whole units split in proportion to ``weights`` (non-negative), summing exactly to ``total``.

    All weights 0 (or none positive): an equal split. Ties in the remainders go to the earlier position.
    Example: 120 over weights (1, 1, 1.5) -> shares 34.29, 34.29, 51.43 -> floors 34, 34, 51 (119), the
    largest remainder (0.43) gets the missing unit -> 34, 34, 52.
    """
    w = np.clip(np.asarray(weights, dtype=float), 0.0, None)
    n = w.size
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    total = int(total)
    if w.sum() <= 0:
        w = np.ones(n)
    shares = total * w / w.sum()
    floors = np.floor(shares + 1e-9).astype(np.int64)
    missing = total - int(floors.sum())
    if missing > 0:
        order = np.argsort(-(shares - floors), kind="stable")
        floors[order[:missing]] += 1
    elif missing < 0:  # only by floating error at the 1e-9 guard
        order = np.argsort(shares - floors, kind="stable")
        floors[order[:-missing]] -= 1
    return floors
