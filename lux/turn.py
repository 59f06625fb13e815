"""The board as one player sees it this turn, computed once and read by everyone who decides or learns.

The heuristic unit controller, the policy's action masks and codec, the features, the rewards and the factory
heuristics all read their board facts from a `TurnView`: whose factory covers which tile, where our robots
stand and where their queues take them, what a move costs, how far our factories are, and which enemy robots
can reach a tile next step and whether they would win a collision there. So training, play and the teacher
cannot drift apart. `view_of(state, player)` makes the view once per state and player and hands out the same
one afterwards.

Collisions (luxai_s2 `_handle_movement_actions`), for robots that end a step on one tile: when heavies moved
there, the one with the most power survives (power after its move; a tie destroys all); when one heavy moved
there, it survives and every other robot is destroyed, a heavy that stood still included; when no heavy moved
there, a heavy that stood still survives; otherwise among lights the same rules hold. Enemy robots cannot enter
our factory's tiles, so a robot on our factory is safe.
"""
from __future__ import annotations

from typing import Dict, Iterable, List, Optional, Set, Tuple

import numpy as np

from . import actions as A
from .distances import cached_distance_map
from .paths import walk_costs
from .rules import move_power
from .state import Factory, GameState, Unit, opponent

Tile = Tuple[int, int]
DELTAS = A.DIRECTION_STEPS
NO_ROBOT = -1  # in the reach maps: no enemy robot of that weight can be there


class EnemyReach:
    """Where enemy robots can stand after the next step and with how much power, per weight.

    `moved_power[kind][x, y]`: the most power an enemy robot of that kind ("LIGHT", "HEAVY") can have after
    moving onto the tile this step (it stands next to it and has the power for the move), NO_ROBOT where none
    can. `standing[kind][x, y]`: an enemy robot of that kind stands there now (it may stay).
    """

    def __init__(self, view: TurnView) -> None:
        shape = (view.width, view.height)
        self.moved_power = {kind: np.full(shape, NO_ROBOT, dtype=np.int64) for kind in ("LIGHT", "HEAVY")}
        self.standing = {kind: np.zeros(shape, dtype=bool) for kind in ("LIGHT", "HEAVY")}
        for unit in view.enemy_units:
            kind = unit.unit_type
            x, y = int(unit.pos[0]), int(unit.pos[1])
            self.standing[kind][x, y] = True
            costs = view.move_cost(kind)
            for dx, dy in DELTAS[1:]:
                tx, ty = x + dx, y + dy
                if not view.in_bounds(tx, ty) or view.own_factory_tiles[tx, ty]:
                    continue
                left = unit.power - int(costs[tx, ty])
                if left >= 0 and left > self.moved_power[kind][tx, ty]:
                    self.moved_power[kind][tx, ty] = left

    def can_arrive(self, kind: str) -> np.ndarray:
        """bool [W, H]: an enemy robot of this kind can move onto the tile this step."""
        return self.moved_power[kind] > NO_ROBOT


class TurnView:
    """One player's board facts for one turn (see the module docstring). Build it with `view_of`."""

    def __init__(self, state: GameState, player: str) -> None:
        self.state = state
        self.player = player
        self.enemy = opponent(player)
        board = state.board
        self.width, self.height = (int(n) for n in board.rubble.shape)
        self.own_factories: List[Factory] = list(state.factories.get(player, {}).values())
        self.enemy_factories: List[Factory] = list(state.factories.get(self.enemy, {}).values())
        self.own_factory_tiles = np.zeros((self.width, self.height), dtype=bool)
        self.enemy_factory_tiles = np.zeros_like(self.own_factory_tiles)
        self.factory_at: Dict[Tile, Factory] = {}  # our factory covering each of our factory tiles
        for f in self.own_factories:
            self.own_factory_tiles[f.footprint()] = True
            for tile in f.footprint_tiles():
                self.factory_at[tile] = f
        for f in self.enemy_factories:
            self.enemy_factory_tiles[f.footprint()] = True
        # Where new robots appear: our robots never walk onto them (a robot built there would collide).
        self.own_centres: Set[Tile] = {(int(f.pos[0]), int(f.pos[1])) for f in self.own_factories}
        strains = {f.strain_id for f in self.own_factories}
        if player in state.teams:
            strains.update(state.teams[player].factory_strains)  # lichen of a dead factory is still ours
        self.own_strains: Set[int] = strains
        self.own_units: List[Unit] = list(state.units.get(player, {}).values())
        self.enemy_units: List[Unit] = list(state.units.get(self.enemy, {}).values())
        self.own_robot_at: Dict[Tile, str] = {(int(u.pos[0]), int(u.pos[1])): u.unit_id for u in self.own_units}
        self._move_cost: Dict[str, np.ndarray] = {}
        self._walk_costs: Dict[Tuple[str, Tuple[Tile, ...]], np.ndarray] = {}
        self._own_lichen: Optional[np.ndarray] = None
        self._enemy_reach: Optional[EnemyReach] = None

    # -- geometry ---------------------------------------------------------------------------------------------

    def in_bounds(self, x: int, y: int) -> bool:
        return 0 <= x < self.width and 0 <= y < self.height

    def move_cost(self, unit_type: str) -> np.ndarray:
        """int64 [W, H]: the power a robot of this type ("LIGHT"/"HEAVY") pays to move onto each tile."""
        found = self._move_cost.get(unit_type)
        if found is None:
            found = move_power(self.state.cfg.ROBOTS[unit_type], self.state.board.rubble)
            self._move_cost[unit_type] = found
        return found

    def move_cost_at(self, unit: Unit, x: int, y: int) -> int:
        return int(self.move_cost(unit.unit_type)[x, y])

    def walk_costs(self, unit_type: str, goals: Tuple[Tile, ...]) -> np.ndarray:
        """float [W, H]: the least power a robot of this type pays to walk from each tile onto the nearest of
        `goals` (`lux.paths.walk_costs`), never through an enemy factory or one of our factory centres (where new
        robots appear) unless it is a goal. Computed once per turn for each type and goal set."""
        key = (unit_type, goals)
        found = self._walk_costs.get(key)
        if found is None:
            blocked = self.enemy_factory_tiles.copy()
            for x, y in self.own_centres:
                blocked[x, y] = True
            found = walk_costs(self.move_cost(unit_type), blocked, goals)
            self._walk_costs[key] = found
        return found

    def dist_own_factory(self) -> np.ndarray:
        """float [W, H]: Manhattan distance to our nearest factory tile (inf when we have none)."""
        return cached_distance_map(self.own_factory_tiles)

    def dist_enemy_factory(self) -> np.ndarray:
        """float [W, H]: Manhattan distance to the enemy's nearest factory tile (inf when it has none)."""
        return cached_distance_map(self.enemy_factory_tiles)

    def own_lichen(self) -> np.ndarray:
        """bool [W, H]: tiles holding lichen of our strains (dead factories' included)."""
        if self._own_lichen is None:
            self._own_lichen = self.state.board.lichen_tiles_of(self.own_strains)
        return self._own_lichen

    def step_target(self, unit: Unit, direction: int) -> Optional[Tile]:
        """The tile a move in `direction` leads to, None when the engine would reject the move: off the map or
        onto an enemy factory. (Power is the caller's to check: it depends on whether the queue is replaced.)"""
        dx, dy = DELTAS[direction]
        x, y = int(unit.pos[0]) + dx, int(unit.pos[1]) + dy
        if not self.in_bounds(x, y) or self.enemy_factory_tiles[x, y]:
            return None
        return x, y

    def next_tiles(self, units: Iterable[Unit], new_queues: Optional[Dict[str, List[List[int]]]] = None
                   ) -> Set[Tile]:
        """Tiles these robots may stand on after this step: each robot's tile, plus the tile its next move leads
        to (the new queue's head where one is sent this turn, else the current queue's head). Both are kept
        because a move the robot cannot pay for leaves it where it is."""
        new_queues = new_queues or {}
        tiles: Set[Tile] = set()
        for unit in units:
            x, y = int(unit.pos[0]), int(unit.pos[1])
            tiles.add((x, y))
            queue = new_queues.get(unit.unit_id, unit.action_queue)
            if queue and int(queue[0][0]) == A.MOVE and A.UP <= int(queue[0][1]) <= A.LEFT:
                dx, dy = DELTAS[int(queue[0][1])]
                tiles.add((x + dx, y + dy))
        return tiles

    # -- the opponent -----------------------------------------------------------------------------------------

    @property
    def enemy_reach(self) -> EnemyReach:
        if self._enemy_reach is None:
            self._enemy_reach = EnemyReach(self)
        return self._enemy_reach

    def loses_collision(self, unit: Unit, tile: Tile, moving: bool) -> bool:
        """Whether an enemy robot can end the next step on `tile` and destroy `unit` there, `unit` having moved
        onto it (`moving`, with its power after the move) or stayed. Our factory tiles are always safe.

        Ties count as lost (both robots are destroyed). Enemy robots standing on the tile are assumed to stay
        or to move on, whichever is worse for us.
        """
        x, y = tile
        if self.own_factory_tiles[x, y]:
            return False
        reach = self.enemy_reach
        heavy_in = int(reach.moved_power["HEAVY"][x, y])
        if unit.is_heavy:
            if heavy_in == NO_ROBOT:
                return False
            if not moving:
                return True  # a heavy that moves in destroys a heavy that stood still
            mine = unit.power - self.move_cost_at(unit, x, y)
            return heavy_in >= mine
        # A light: any heavy that moves in or stays there destroys it.
        if heavy_in != NO_ROBOT or reach.standing["HEAVY"][x, y]:
            return True
        light_in = int(reach.moved_power["LIGHT"][x, y])
        if light_in == NO_ROBOT:
            return False
        if not moving:
            return True
        mine = unit.power - self.move_cost_at(unit, x, y)
        return light_in >= mine

    def is_safe(self, unit: Unit, tile: Tile) -> bool:
        """Whether `unit` may end this step on `tile` (by moving there, or by staying when it stands on it)."""
        here = (int(unit.pos[0]), int(unit.pos[1]))
        return not self.loses_collision(unit, tile, moving=tile != here)

    def escapes(self, unit: Unit) -> List[Tuple[int, Tile]]:
        """Safe moves out of danger, best first: (direction, tile) for each move the robot can pay for with a
        new queue, onto the map, off enemy factories and our factory centres, ending on a safe tile. Our
        factory tiles come first (nothing can follow a robot there), then tiles nearer our factories."""
        found = []
        dist = self.dist_own_factory()
        for d in (A.UP, A.RIGHT, A.DOWN, A.LEFT):
            tile = self.step_target(unit, d)
            if tile is None or tile in self.own_centres:
                continue
            if unit.power < self.move_cost_at(unit, tile[0], tile[1]) + unit.cfg.ACTION_QUEUE_POWER_COST:
                continue
            if self.loses_collision(unit, tile, moving=True):
                continue
            found.append((float(dist[tile[0], tile[1]]), d, tile))
        return [(d, tile) for _, d, tile in sorted(found)]

    def dodges(self, unit: Unit, tile: Tile) -> Optional[List[Tuple[int, Tile]]]:
        """None when the robot may end the step on `tile`; else the safe alternatives, best first, as
        (direction, tile): staying (CENTER) when its own tile is safe, then `escapes`. Empty when nothing is
        safe. The one safety rule of the heuristic controller and the policy's codec."""
        if self.is_safe(unit, tile):
            return None
        here = (int(unit.pos[0]), int(unit.pos[1]))
        out = [(A.CENTER, here)] if tile != here and self.is_safe(unit, here) else []
        return out + self.escapes(unit)


def view_of(state: GameState, player: str) -> TurnView:
    """The player's TurnView of this state, made on first use and shared afterwards."""
    found = state.views.get(player)
    if found is None:
        found = TurnView(state, player)
        state.views[player] = found
    return found
