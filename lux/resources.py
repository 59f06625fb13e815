"""Resource tiles near a factory and which robot has claimed which: the targets robots walk to.

Used by the heuristic unit controller to send each robot to its own tile, and by the policy's features to
show each robot the tile it would be sent to.
"""
from __future__ import annotations

from typing import Dict, Optional, Set, Tuple

import numpy as np

from . import actions as A
from .state import Board, Factory, Unit

Tile = Tuple[int, int]
MAX_TARGET_DISTANCE = 12  # resource tiles further than this from home are not worth the walk
RUBBLE = -1  # target kind next to the resource ids: rubble to clear
RUBBLE_DISTANCE = 4  # rubble is cleared this close to home, where lichen grows first
_UNREACHABLE = 1 << 40


class ResourceTiles:
    """Ice, ore and clearable rubble tiles near each factory, by distance to its footprint; built lazily."""

    def __init__(self, board: Board) -> None:
        clearable = (board.rubble > 0) & (board.ice == 0) & (board.ore == 0) & (board.factory_occupancy == -1)
        self._fields = {A.ICE: board.ice > 0, A.ORE: board.ore > 0, RUBBLE: clearable}
        self._tiles: Dict[int, Tuple[np.ndarray, np.ndarray]] = {}
        self._cache: Dict[Tuple[str, int], Tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
        self._claimed = np.zeros(board.rubble.shape, dtype=bool)
        self._exhausted: Set[Tuple[str, int]] = set()

    def _near(self, home: Factory, resource: int) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
        key = (home.unit_id, resource)
        if key not in self._cache:
            if resource not in self._tiles:
                self._tiles[resource] = np.nonzero(self._fields[resource])
            xs, ys = self._tiles[resource]
            d_home = np.maximum(np.abs(xs - home.pos[0]) - 1, 0) + np.maximum(np.abs(ys - home.pos[1]) - 1, 0)
            keep = d_home <= (RUBBLE_DISTANCE if resource == RUBBLE else MAX_TARGET_DISTANCE)
            self._cache[key] = (xs[keep], ys[keep], d_home[keep])
        return self._cache[key]

    def nearest(self, unit: Unit, home: Factory, resource: int) -> Optional[Tile]:
        """The tile nearest home (then nearest the robot, then first found) not yet claimed by another robot."""
        key = (home.unit_id, resource)
        if key in self._exhausted:
            return None  # claims only grow within a turn: once none is left, none will be
        xs, ys, d_home = self._near(home, resource)
        claimed = self._claimed[xs, ys]
        if claimed.all():  # also when there are no tiles at all
            self._exhausted.add(key)
            return None
        # Distances stay below 1024 on any map: one key orders by home distance, then robot distance.
        order = d_home * 1024 + np.abs(xs - int(unit.pos[0])) + np.abs(ys - int(unit.pos[1]))
        order[claimed] = _UNREACHABLE
        i = int(order.argmin())
        return int(xs[i]), int(ys[i])

    def is_free(self, tile: Tile, resource: int) -> bool:
        """Whether the tile holds this kind of target and nobody has claimed it yet."""
        return bool(self._fields[resource][tile[0], tile[1]]) and not self._claimed[tile[0], tile[1]]

    def claim(self, tile: Tile) -> None:
        """No other robot will be sent to this tile this turn."""
        self._claimed[tile[0], tile[1]] = True
