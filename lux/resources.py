"""Resource tiles near a factory and which robot has claimed which: the targets robots walk to.

Used by the heuristic unit controller to send each robot to its own tile, and by the policy's features to
show each robot the tile it would be sent to.
"""
from __future__ import annotations

from typing import Dict, List, Mapping, Optional, Sequence, Set, Tuple

import numpy as np

from . import actions as A
from .homes import home_factories
from .state import Board, Factory, GameState, Unit, footprint_gap, id_number

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
            d_home = footprint_gap(xs, ys, int(home.pos[0]), int(home.pos[1]))
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


# Kinds of target tile every robot is given: (name, what ResourceTiles claims, whether heavies claim before lights).
TARGET_KINDS = (("ice", A.ICE, True), ("ore", A.ORE, False), ("rubble", RUBBLE, False))


def target_tiles(state: GameState, player: str, units: Sequence[Unit],
                 homes: Optional[Mapping[str, str]] = None) -> Dict[str, List[Optional[Tile]]]:
    """Per robot (in `units` order): "home", the nearest tile of its home factory, and its claimed tile of each
    TARGET_KINDS kind near that home (None where none is left, or everywhere when we have no factory).

    `homes`: robot id -> home factory id (`lux.homes.RobotHomes`); a robot not in it, or whose home is gone,
    is at home at its nearest factory. Each kind is claimed in its own pass, in a fixed order whatever the order
    of `units` (heavies first for ice, lights first for ore and rubble, by id number within each), so a robot
    keeps its tiles from one turn to the next while it walks home and back. The heuristic controller sends its
    robots to these tiles and the policy's features point at them.
    """
    out: Dict[str, List[Optional[Tile]]] = {"home": [None] * len(units)}
    out.update({name: [None] * len(units) for name, _, _ in TARGET_KINDS})
    if not state.factories.get(player) or not units:
        return out
    home_facs = home_factories(state, player, units, homes)
    pos = np.array([u.pos for u in units], dtype=np.int64).reshape(-1, 2)
    centres = np.array([f.pos for f in home_facs], dtype=np.int64)
    nearest = np.clip(pos, centres - 1, centres + 1)
    out["home"] = [(int(x), int(y)) for x, y in nearest]
    for name, resource, heavy_first in TARGET_KINDS:
        out[name] = _claimed_targets(state.board, units, home_facs, resource, heavy_first)
    return out


def _claimed_targets(board: Board, units: Sequence[Unit], homes: Sequence[Factory], resource: int,
                     heavy_first: bool) -> List[Optional[Tile]]:
    """Each robot's tile of `resource` (None when none is left), claimed in turn: heavies first when
    `heavy_first`, else lights first, by id number within each kind."""
    tiles = ResourceTiles(board)
    order = sorted(range(len(units)), key=lambda i: (units[i].is_heavy != heavy_first, id_number(units[i].unit_id)))
    found: List[Optional[Tile]] = [None] * len(units)
    for i in order:
        unit, home = units[i], homes[i]
        here = (int(unit.pos[0]), int(unit.pos[1]))
        if resource != RUBBLE and tiles.is_free(here, resource) and home.distance_to(unit.pos) <= MAX_TARGET_DISTANCE:
            tile = here
        else:
            tile = tiles.nearest(unit, home, resource)
        if tile is not None:
            tiles.claim(tile)
            found[i] = tile
    return found
