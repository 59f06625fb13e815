"""Which tiles a factory's watering reaches, following the engine's rule, to know the water it costs."""
from __future__ import annotations

from collections import deque
from typing import Set, Tuple

import numpy as np

from .state import Board, Factory

# Tiles just outside the 3x3 footprint where lichen growth starts (the engine's 12 seeds).
_SEEDS = [(0, -2), (-1, -2), (1, -2), (0, 2), (-1, 2), (1, 2), (2, 0), (2, -1), (2, 1), (-2, 0), (-2, -1), (-2, 1)]
_STEPS = ((0, -1), (1, 0), (0, 1), (-1, 0))


def lichen_growth_tiles(board: Board, factory: Factory, min_lichen_to_spread: int) -> Set[Tuple[int, int]]:
    """Tiles watering would grow on: a flood fill from the seeds over tiles free of rubble, resources and
    factories, spreading out of tiles that hold at least `min_lichen_to_spread` or through own-strain lichen,
    and growing only where no other strain or factory touches the tile."""
    strain = factory.strain_id
    lichen, strains, occupancy = board.lichen, board.lichen_strains, board.factory_occupancy
    forbidden = (board.rubble > 0) | (occupancy != -1) | (board.ice > 0) | (board.ore > 0)
    w, h = lichen.shape
    seeds = [(int(factory.pos[0]) + dx, int(factory.pos[1]) + dy) for dx, dy in _SEEDS]
    frontier = deque(seeds)
    seen = set(seeds)
    grow: Set[Tuple[int, int]] = set()
    while frontier:
        x, y = frontier.popleft()
        if not (0 <= x < w and 0 <= y < h) or forbidden[x, y]:
            continue
        can_grow = True
        for dx, dy in _STEPS:
            nx, ny = x + dx, y + dy
            if not (0 <= nx < w and 0 <= ny < h):
                continue
            adj_strain, adj_factory = strains[nx, ny], occupancy[nx, ny]
            if (adj_strain != -1 and adj_strain != strain) or (adj_factory != -1 and adj_factory != strain):
                can_grow = False
            if (nx, ny) in seen:
                continue
            if (adj_strain == -1 and lichen[x, y] >= min_lichen_to_spread) or (
                adj_strain == strain and strains[x, y] == strain
            ):
                seen.add((nx, ny))
                frontier.append((nx, ny))
        if can_grow or strains[x, y] == strain:
            grow.add((x, y))
    return grow


def watering_cost(board: Board, factory: Factory, min_lichen_to_spread: int, cost_factor: int) -> int:
    """Water one watering action would cost this factory now."""
    tiles = len(lichen_growth_tiles(board, factory, min_lichen_to_spread))
    return int(np.ceil(tiles / float(cost_factor)))
