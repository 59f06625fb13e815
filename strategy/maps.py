"""Map measures shared by the heuristics: distance transforms and windowed sums, numpy only."""
from __future__ import annotations

import numpy as np

from lux.distances import manhattan_distance_map

FAR = 10_000


def manhattan_distance(targets: np.ndarray) -> np.ndarray:
    """Manhattan distance (int64) from every tile to the nearest True tile of `targets`; FAR when there is none."""
    dist = manhattan_distance_map(targets.astype(bool))
    return np.where(np.isinf(dist), FAR, dist).astype(np.int64)


def window_min(values: np.ndarray, radius: int) -> np.ndarray:
    """Minimum over the (2r+1)x(2r+1) square around each tile (edges padded with the maximum)."""
    padded = np.pad(values, radius, mode="constant", constant_values=values.max())
    out = np.full(values.shape, values.max(), dtype=values.dtype)
    size = 2 * radius + 1
    for dx in range(size):
        for dy in range(size):
            out = np.minimum(out, padded[dx: dx + values.shape[0], dy: dy + values.shape[1]])
    return out


def window_sum(values: np.ndarray, radius: int) -> np.ndarray:
    """Sum over the (2r+1)x(2r+1) square around each tile (zero outside the map), via a summed-area table."""
    padded = np.pad(values.astype(np.float64), radius + 1, mode="constant")
    table = padded.cumsum(0).cumsum(1)
    size = 2 * radius + 1
    w, h = values.shape
    return (table[size: size + w, size: size + h] - table[:w, size: size + h]
            - table[size: size + w, :h] + table[:w, :h])


def footprint_distance(targets: np.ndarray) -> np.ndarray:
    """For a factory centred on each tile: Manhattan distance from its 3x3 footprint to the nearest target."""
    return window_min(manhattan_distance(targets), 1)
