"""Resource tiles near a factory and which robot has claimed which: the targets robots walk to.

Used by the heuristic unit controller to send each robot to its own tile, and by the policy's features to
show each robot the tile it would be sent to.
"""
from __future__ import annotations

import weakref
from typing import Any, Dict, List, Mapping, Optional, Sequence, Set, Tuple

import numpy as np

from . import actions as A
from .homes import home_factories
from .roles import ORE, ore_reach_of_heavy, step_roles
from .state import Board, Factory, GameState, Unit, footprint_gap, id_number, opponent

Tile = Tuple[int, int]
MAX_TARGET_DISTANCE = 12  # resource tiles further than this from home are not worth the walk
# Target kind next to the resource ids: room for lichen to clear, rubble and the enemy's lichen. Lichen does not
# grow onto a tile next to another strain: against the 15th-place bot, whose factories were placed beside ours and
# whose lichen grew up to them, one of our factories held 1,000 water and one lichen tile for 300 steps.
RUBBLE = -1
RUBBLE_DISTANCE = 7  # room is cleared this close to home, where lichen grows (nearest first)
_UNREACHABLE = 1 << 40


class ResourceTiles:
    """Ice, ore and clearable rubble tiles near each factory, by distance to its footprint, and the tiles claimed
    so far in one pass. The tiles near each factory are computed once per board (`_BoardTiles`) and shared by
    every pass, kind and player of that state."""

    def __init__(self, board: Board, enemy_strains: Sequence[int] = ()) -> None:
        self._board = _board_tiles(board)
        self._enemy_strains = tuple(sorted(int(s) for s in enemy_strains))  # their lichen is room to clear
        self._claimed: Set[Tile] = set()
        self._exhausted: Set[Tuple[str, int]] = set()

    def nearest(self, unit: Unit, home: Factory, resource: int) -> Optional[Tile]:
        """The tile nearest home (then nearest the robot, then first in the board's row-major order) not yet
        claimed by another robot."""
        return self.nearest_to(int(unit.pos[0]), int(unit.pos[1]), home, resource)

    def nearest_to(self, ux: int, uy: int, home: Factory, resource: int) -> Optional[Tile]:
        """`nearest` for a robot at (ux, uy)."""
        key = (home.unit_id, resource)
        if key in self._exhausted:
            return None  # claims only grow within a turn: once none is left, none will be
        claimed = self._claimed
        best: Optional[Tile] = None
        best_gap = best_home = 0
        # Candidates come sorted by their distance to home (row-major within one distance): the first distance
        # with an unclaimed tile decides, and within it the tile nearest the robot, the first of equals.
        for d_home, x, y in self._board.near(home, resource, self._enemy_strains):
            if best is not None and d_home > best_home:
                break
            if (x, y) in claimed:
                continue
            gap = abs(x - ux) + abs(y - uy)
            if best is None or gap < best_gap:
                best, best_gap, best_home = (x, y), gap, d_home
        if best is None:  # also when there are no tiles at all
            self._exhausted.add(key)
        return best

    def is_free(self, tile: Tile, resource: int) -> bool:
        """Whether the tile holds this kind of target and nobody has claimed it yet."""
        field = self._board.field(resource, self._enemy_strains)
        return bool(field.item(tile[0], tile[1])) and (tile[0], tile[1]) not in self._claimed

    def claim(self, tile: Tile) -> None:
        """No other robot will be sent to this tile this turn."""
        self._claimed.add((int(tile[0]), int(tile[1])))


Near = Tuple[int, int, int]  # (distance to the factory's footprint, x, y)
NearKey = Tuple[Any, ...]  # (factory id, its x, its y, resource[, the enemy's strains for RUBBLE])
FieldKey = Tuple[Any, ...]  # (resource[, the enemy's strains for RUBBLE])


class _BoardTiles:
    """One board's target tiles of each kind near each factory: (distance to its footprint, x, y), sorted by that
    distance, the board's row-major order within one distance. Built lazily, kept on the board."""

    def __init__(self, board: Board) -> None:
        self.board = board
        self._fields: Dict[FieldKey, np.ndarray] = {}
        self._tiles: Dict[FieldKey, Tuple[np.ndarray, np.ndarray]] = {}
        self._near: Dict[NearKey, List[Near]] = {}
        self._static: Dict[int, Dict[NearKey, List[Near]]] = {}

    @staticmethod
    def _field_key(resource: int, enemy_strains: Tuple[int, ...]) -> FieldKey:
        return (resource, enemy_strains) if resource == RUBBLE else (resource,)

    def field(self, resource: int, enemy_strains: Tuple[int, ...] = ()) -> np.ndarray:
        key = self._field_key(resource, enemy_strains)
        if key not in self._fields:
            board = self.board
            if resource == RUBBLE:
                room = board.rubble > 0
                if enemy_strains:
                    room = room | ((board.lichen > 0) & np.isin(board.lichen_strains, enemy_strains))
                self._fields[key] = room & (board.ice == 0) & (board.ore == 0) & (board.factory_occupancy == -1)
            else:
                self._fields[key] = (board.ice if resource == A.ICE else board.ore) > 0
        return self._fields[key]

    def near(self, home: Factory, resource: int, enemy_strains: Tuple[int, ...] = ()) -> List[Near]:
        cx, cy = int(home.pos[0]), int(home.pos[1])
        key = (home.unit_id, cx, cy) + self._field_key(resource, enemy_strains)
        if resource != RUBBLE:
            # Ice and ore never change during a game: the lists of the game's earlier boards are reused.
            if resource not in self._static:
                self._static[resource] = _static_near(resource, self.field(resource))
            memo = self._static[resource]
            if key not in memo:
                memo[key] = self._compute(cx, cy, resource)
            return memo[key]
        if key not in self._near:
            self._near[key] = self._compute(cx, cy, resource, enemy_strains)
        return self._near[key]

    def _compute(self, cx: int, cy: int, resource: int, enemy_strains: Tuple[int, ...] = ()) -> List[Near]:
        key = self._field_key(resource, enemy_strains)
        if key not in self._tiles:
            self._tiles[key] = np.nonzero(self.field(resource, enemy_strains))
        xs, ys = self._tiles[key]
        d_home = footprint_gap(xs, ys, cx, cy)
        keep = np.flatnonzero(d_home <= (RUBBLE_DISTANCE if resource == RUBBLE else MAX_TARGET_DISTANCE))
        keep = keep[np.argsort(d_home[keep], kind="stable")]
        return list(zip(d_home[keep].tolist(), xs[keep].tolist(), ys[keep].tolist()))


# Per (resource, field): the near lists of every factory seen on boards with that ice (or ore) field. A game's
# boards share one; an env worker runs several games at once, so several are kept.
# The lists depend only on the field and the factory's position, so a field is found by its contents.
_STATIC_FIELDS: Dict[Tuple[int, int], Tuple[np.ndarray, Dict[NearKey, List[Near]]]] = {}


def _static_near(resource: int, field: np.ndarray) -> Dict[NearKey, List[Near]]:
    key = (resource, hash(field.tobytes()))
    entry = _STATIC_FIELDS.get(key)
    if entry is None or not np.array_equal(entry[0], field):
        if len(_STATIC_FIELDS) >= _RECENT_LIMIT:
            _STATIC_FIELDS.clear()
        entry = _STATIC_FIELDS[key] = (field.copy(), {})
    return entry[1]


# The _BoardTiles of the boards seen last, by id (a weak reference tells a board from a later one at the same
# address); kept out of the board itself, so that states pickle (checkpoints, worker pipes) without it.
_RECENT_BOARDS: Dict[int, Tuple[Any, _BoardTiles]] = {}
_RECENT_LIMIT = 64


def _board_tiles(board: Board) -> _BoardTiles:
    """The board's _BoardTiles (one per board object: a state's board does not change)."""
    entry = _RECENT_BOARDS.get(id(board))
    if entry is not None and entry[0]() is board:
        return entry[1]
    if len(_RECENT_BOARDS) >= _RECENT_LIMIT:
        _RECENT_BOARDS.clear()
    tiles = _BoardTiles(board)
    _RECENT_BOARDS[id(board)] = (weakref.ref(board), tiles)
    return tiles


# Kinds of target tile every robot is given: (name, what ResourceTiles claims, whether heavies claim before lights).
# Lights claim ore first: a light needs ten times the digs of a heavy for the same ore, but a walking heavy
# burns a factory's power. The ore heavies' first pick (`target_tiles(..., ore_heavies_first=True)`) is off by
# default: docs/results/opponent_play.md, "Heavies mining ore".
TARGET_KINDS = (("ice", A.ICE, True), ("ore", A.ORE, False), ("rubble", RUBBLE, False))


def target_tiles(state: GameState, player: str, units: Sequence[Unit],
                 homes: Optional[Mapping[str, str]] = None,
                 ore_heavies_first: bool = False) -> Dict[str, List[Optional[Tile]]]:
    """Per robot (in `units` order): "home", the nearest tile of its home factory, and its claimed tile of each
    TARGET_KINDS kind near that home (None where none is left, or everywhere when we have no factory).

    `homes`: robot id -> home factory id (`lux.homes.RobotHomes`); a robot not in it, or whose home is gone,
    is at home at its nearest factory. Each kind is claimed in its own pass, in a fixed order whatever the order
    of `units` (heavies first for ice, lights first for ore and rubble, by id number within each), so a robot
    keeps its tiles from one turn to the next while it walks home and back. With `ore_heavies_first`, the heavies
    that mine ore (`lux.roles`) claim the ore within their reach before everyone. The heuristic controller sends
    its robots to these tiles and the policy's features point at them.
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
    numbers = [id_number(u.unit_id) for u in units]
    orders = {first: sorted(range(len(units)), key=lambda i: (units[i].is_heavy != first, numbers[i]))
              for first in (True, False)}
    ore_reach: Dict[int, int] = {}  # the ore heavies' first pick: how far from home each takes one before lights
    if ore_heavies_first:
        roles = step_roles(units, home_facs, state.real_env_steps, state.cfg.ORE_METAL_RATIO)
        ore_reach = {i: ore_reach_of_heavy(home_facs[i]) for i in orders[True] if roles.get(units[i].unit_id) == ORE}
    here = [(int(x), int(y)) for x, y in pos.tolist()]
    enemy = state.teams.get(opponent(player))
    enemy_strains = enemy.factory_strains if enemy is not None else ()
    for name, resource, heavy_first in TARGET_KINDS:
        out[name] = _claimed_targets(state.board, units, home_facs, resource, heavy_first, orders[heavy_first], here,
                                     enemy_strains, first_picks=ore_reach if resource == A.ORE else None)
    return out


def _claimed_targets(board: Board, units: Sequence[Unit], homes: Sequence[Factory], resource: int,
                     heavy_first: bool, order: Optional[Sequence[int]] = None,
                     positions: Optional[Sequence[Tile]] = None,
                     enemy_strains: Sequence[int] = (),
                     first_picks: Optional[Mapping[int, int]] = None) -> List[Optional[Tile]]:
    """Each robot's tile of `resource` (None when none is left), claimed in turn: heavies first when
    `heavy_first`, else lights first, by id number within each kind (`order`: that order, `positions`: the robots'
    tiles as ints, when the caller has them; `enemy_strains`: whose lichen is room to clear). `first_picks`:
    robot index -> the distance from home within which it claims before all the others (in that mapping's
    order); beyond it, it claims in its turn."""
    tiles = ResourceTiles(board, enemy_strains)
    if order is None:
        order = sorted(range(len(units)), key=lambda i: (units[i].is_heavy != heavy_first, id_number(units[i].unit_id)))
    if positions is None:
        positions = [(int(u.pos[0]), int(u.pos[1])) for u in units]
    centres = {}
    found: List[Optional[Tile]] = [None] * len(units)
    for i, reach in (first_picks or {}).items():
        here = positions[i]
        if tiles.is_free(here, resource) and homes[i].distance_to(np.array(here)) <= reach:
            tile: Optional[Tile] = here
        else:
            tile = tiles.nearest_to(here[0], here[1], homes[i], resource)
        if tile is not None and homes[i].distance_to(np.array(tile)) <= reach:
            tiles.claim(tile)
            found[i] = tile
    for i in order:
        if found[i] is not None:
            continue
        home = homes[i]
        here = positions[i]
        centre = centres.get(home.unit_id)
        if centre is None:
            centre = centres[home.unit_id] = (int(home.pos[0]), int(home.pos[1]))
        gap = max(abs(here[0] - centre[0]) - 1, 0) + max(abs(here[1] - centre[1]) - 1, 0)
        if resource != RUBBLE and gap <= MAX_TARGET_DISTANCE and tiles.is_free(here, resource):
            tile = here
        else:
            tile = tiles.nearest_to(here[0], here[1], home, resource)
        if tile is not None:
            tiles.claim(tile)
            found[i] = tile
    return found
