"""Which tiles a factory's watering reaches, following the engine's rule, to know the water it costs.

The rule: a flood fill from the 12 tiles just outside the factory's 3x3 footprint, over tiles free of rubble,
resources and factories. It spreads out of a tile into an empty neighbour when the tile holds at least
MIN_LICHEN_TO_SPREAD lichen, and between tiles that both hold our strain. A reached tile grows lichen when no
neighbour holds another strain or another factory, and always when it already holds our strain.
The fill runs on plain Python lists prepared once per board: indexing numpy arrays element by element is
several times slower, and this runs for every factory every step.
"""
from __future__ import annotations

from collections import deque
from typing import List, Set, Tuple

import numpy as np

from .actions import DIRECTION_STEPS
from .state import Board, Factory

# Offsets of the seed tiles from the factory centre.
_SEEDS = [(0, -2), (-1, -2), (1, -2), (0, 2), (-1, 2), (1, 2), (2, 0), (2, -1), (2, 1), (-2, 0), (-2, -1), (-2, 1)]
_STEPS = DIRECTION_STEPS[1:]  # the four moves


class WateringMap:
    """One board's lichen rule inputs, prepared once and shared by every factory's fill."""

    def __init__(self, board: Board, min_lichen_to_spread: int) -> None:
        self.width, self.height = (int(n) for n in board.lichen.shape)
        self.min_lichen_to_spread = int(min_lichen_to_spread)
        occupancy = board.factory_occupancy
        forbidden = (board.rubble > 0) | (occupancy != -1) | (board.ice > 0) | (board.ore > 0)
        self._forbidden: List[bool] = forbidden.ravel().tolist()
        self._lichen: List[int] = board.lichen.ravel().tolist()
        self._strains: List[int] = board.lichen_strains.ravel().tolist()
        self._occupancy: List[int] = occupancy.ravel().tolist()

    def growth_tiles(self, factory: Factory) -> Set[Tuple[int, int]]:
        """Tiles one watering of this factory would grow lichen on."""
        w, h = self.width, self.height
        forbidden, lichen, strains, occupancy = self._forbidden, self._lichen, self._strains, self._occupancy
        strain = int(factory.strain_id)
        cx, cy = int(factory.pos[0]), int(factory.pos[1])
        seeds = [(cx + dx, cy + dy) for dx, dy in _SEEDS]
        frontier = deque(seeds)
        seen = set(seeds)
        grow: Set[Tuple[int, int]] = set()
        while frontier:
            x, y = frontier.popleft()
            if not (0 <= x < w and 0 <= y < h):
                continue
            i = x * h + y
            if forbidden[i]:
                continue
            own = strains[i] == strain
            spreads_to_empty = lichen[i] >= self.min_lichen_to_spread
            can_grow = True
            for dx, dy in _STEPS:
                nx, ny = x + dx, y + dy
                if not (0 <= nx < w and 0 <= ny < h):
                    continue
                j = nx * h + ny
                adj_strain, adj_factory = strains[j], occupancy[j]
                if (adj_strain != -1 and adj_strain != strain) or (adj_factory != -1 and adj_factory != strain):
                    can_grow = False
                if (nx, ny) in seen:
                    continue
                if (adj_strain == -1 and spreads_to_empty) or (adj_strain == strain and own):
                    seen.add((nx, ny))
                    frontier.append((nx, ny))
            if can_grow or own:
                grow.add((x, y))
        return grow

    def cost(self, factory: Factory, cost_factor: int) -> int:
        """Water one watering action would cost this factory now: ceil(tiles / cost_factor)."""
        return int(np.ceil(len(self.growth_tiles(factory)) / float(cost_factor)))


def lichen_growth_tiles(board: Board, factory: Factory, min_lichen_to_spread: int) -> Set[Tuple[int, int]]:
    """Tiles watering would grow on (see the module docstring for the rule)."""
    return WateringMap(board, min_lichen_to_spread).growth_tiles(factory)


def watering_cost(board: Board, factory: Factory, min_lichen_to_spread: int, cost_factor: int) -> int:
    """Water one watering action would cost this factory now."""
    return WateringMap(board, min_lichen_to_spread).cost(factory, cost_factor)
