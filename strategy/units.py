"""The heuristic unit controller: miners that dig next to home, deliver, recharge, and never collide.

It is the fallback when no trained policy is available and the baseline opponent in training and evaluation.
Heavies mine ice for their home factory; lights mine ore (ice when home water runs low). A robot goes home
to deliver when its cargo is full or its power only just covers the way back plus a margin, and picks up
power there. Our own robots never move into the same tile, nor into a tile where one of ours stays.
Queues cost power to replace, so a robot's queue is only replaced when its next action would change.
"""
from __future__ import annotations

from typing import Dict, List, Optional, Set, Tuple

import numpy as np

from lux import actions as A
from lux.rules import move_power
from lux.state import Board, Factory, GameState, Unit, opponent

Tile = Tuple[int, int]
LOW_WATER = 100  # below this, lights mine ice too


class HeuristicUnitController:
    """Stateless between games; `act` may be called every turn of one game."""

    def act(self, state: GameState, player: str) -> Dict[str, List[List[int]]]:
        units = list(state.units.get(player, {}).values())
        factories = list(state.factories.get(player, {}).values())
        if not units or not factories:
            return {}
        board = state.board
        enemy_factory = np.zeros(board.rubble.shape, dtype=bool)
        for f in state.factories.get(opponent(player), {}).values():
            enemy_factory[max(f.pos[0] - 1, 0): f.pos[0] + 2, max(f.pos[1] - 1, 0): f.pos[1] + 2] = True

        plans: Dict[str, List[int]] = {}
        self._goals: Dict[str, Tile] = {}
        targeted: Set[Tile] = set()
        for unit in sorted(units, key=lambda u: (not u.is_heavy, u.unit_id)):
            plans[unit.unit_id] = self._plan(state, unit, factories, targeted)

        # Collision-free resolution: robots that stay reserve their tiles first, then movers claim targets.
        reserved: Set[Tile] = set()
        current = {u.unit_id: (int(u.pos[0]), int(u.pos[1])) for u in units}
        movers = []
        for unit in units:
            action = plans[unit.unit_id]
            if action[0] == A.MOVE and action[1] != A.CENTER:
                movers.append(unit)
            else:
                reserved.add(current[unit.unit_id])
        occupied_now = set(current.values())
        # Factory centres are where new robots appear: never walk onto them.
        occupied_now |= {(int(f.pos[0]), int(f.pos[1])) for f in factories}
        for unit in movers:
            here = current[unit.unit_id]
            options = self._move_options(state, unit, plans[unit.unit_id][1], enemy_factory)
            chosen = None
            for direction in options:
                dx, dy = A.DIRECTION_DELTAS[direction]
                nxt = (here[0] + int(dx), here[1] + int(dy))
                # A tile another robot of ours stands on now is only safe once we know it leaves: avoid it.
                if nxt not in reserved and nxt not in occupied_now:
                    chosen = direction
                    reserved.add(nxt)
                    break
            if chosen is None:
                plans[unit.unit_id] = [A.RECHARGE, 0, 0, unit.cfg.BATTERY_CAPACITY, 0, 1]
                reserved.add(here)
            else:
                plans[unit.unit_id] = A.move(chosen)
        return self._queues(board, units, plans, self._goals)

    # -- planning ---------------------------------------------------------------------------------------------

    def _plan(self, state: GameState, unit: Unit, factories: List[Factory], targeted: Set[Tile]) -> List[int]:
        """The next action for one robot (moves give only the wanted direction; collisions are resolved later)."""
        cfg = unit.cfg
        home = min(factories, key=lambda f: f.distance_to(unit.pos))
        here = (int(unit.pos[0]), int(unit.pos[1]))
        on_home = home.occupies(unit.pos)
        dist_home = home.distance_to(unit.pos)
        resource = A.ICE if unit.is_heavy or home.cargo.water < LOW_WATER else A.ORE
        carried = unit.cargo.ice + unit.cargo.ore
        # Power to walk home on flat ground, plus a margin of a few digs.
        power_to_return = dist_home * (cfg.MOVE_COST + 2) + 3 * cfg.DIG_COST + cfg.ACTION_QUEUE_POWER_COST

        if on_home or dist_home == 0:
            if carried > 0:
                res = A.ICE if unit.cargo.ice >= unit.cargo.ore else A.ORE
                amount = unit.cargo.ice if res == A.ICE else unit.cargo.ore
                return A.transfer(A.CENTER, res, amount)
            want = cfg.BATTERY_CAPACITY - unit.power
            reserve = 50 if unit.is_heavy else 0
            if want > cfg.BATTERY_CAPACITY // 4 and home.power - reserve > cfg.DIG_COST * 3:
                return A.pickup(A.POWER, min(want, home.power - reserve))
        if dist_home == 1 and carried > 0 and (carried >= cfg.CARGO_SPACE or unit.power < power_to_return * 2):
            res = A.ICE if unit.cargo.ice >= unit.cargo.ore else A.ORE
            amount = unit.cargo.ice if res == A.ICE else unit.cargo.ore
            return A.transfer(self._direction_to_factory(unit.pos, home), res, amount)
        if carried >= cfg.CARGO_SPACE or unit.power < power_to_return:
            if dist_home == 0:
                return A.recharge(cfg.BATTERY_CAPACITY)
            goal = self._nearest_footprint_tile(unit.pos, home)
            self._goals[unit.unit_id] = (int(goal[0]), int(goal[1]))
            return A.move(A.direction_to(unit.pos, goal))

        target = self._resource_target(state, unit, home, resource, targeted)
        if target is None:
            return A.recharge(cfg.BATTERY_CAPACITY) if not on_home else [A.RECHARGE, 0, 0, cfg.BATTERY_CAPACITY, 0, 1]
        targeted.add(target)
        if target == here:
            if unit.power >= cfg.DIG_COST + cfg.ACTION_QUEUE_POWER_COST:
                return A.dig()
            return A.recharge(cfg.BATTERY_CAPACITY)
        self._goals[unit.unit_id] = target
        return A.move(A.direction_to(unit.pos, np.array(target)))

    @staticmethod
    def _resource_target(state: GameState, unit: Unit, home: Factory, resource: int, targeted: Set[Tile]
                         ) -> Optional[Tile]:
        """The nearest tile of the resource to home not yet claimed by another of our robots."""
        field = state.board.ice if resource == A.ICE else state.board.ore
        xs, ys = np.nonzero(field > 0)
        if len(xs) == 0:
            return None
        d_home = np.maximum(np.abs(xs - home.pos[0]) - 1, 0) + np.maximum(np.abs(ys - home.pos[1]) - 1, 0)
        d_unit = np.abs(xs - unit.pos[0]) + np.abs(ys - unit.pos[1])
        for i in np.lexsort((d_unit, d_home)):
            tile = (int(xs[i]), int(ys[i]))
            if tile not in targeted and d_home[i] <= 12:
                return tile
        return None

    @staticmethod
    def _nearest_footprint_tile(pos: np.ndarray, factory: Factory) -> np.ndarray:
        return np.clip(pos, factory.pos - 1, factory.pos + 1)

    @classmethod
    def _direction_to_factory(cls, pos: np.ndarray, factory: Factory) -> int:
        return A.direction_to(pos, cls._nearest_footprint_tile(pos, factory))

    @staticmethod
    def _move_options(state: GameState, unit: Unit, wanted: int, enemy_factory: np.ndarray) -> List[int]:
        """Directions to try: the wanted one, then side-steps; none off the map, into an enemy factory, or
        costing more power than the robot has."""
        board = state.board
        ordered = [wanted]
        # Side-steps around a blocked tile, perpendicular to the wanted direction.
        if wanted in (A.UP, A.DOWN):
            ordered += [A.LEFT, A.RIGHT]
        elif wanted in (A.LEFT, A.RIGHT):
            ordered += [A.UP, A.DOWN]
        legal = []
        for d in ordered:
            nxt = unit.pos + A.DIRECTION_DELTAS[d]
            if not board.in_bounds(nxt) or enemy_factory[nxt[0], nxt[1]]:
                continue
            cost = move_power(unit.cfg, int(board.rubble[nxt[0], nxt[1]])) + unit.cfg.ACTION_QUEUE_POWER_COST
            if unit.power < cost:
                continue
            legal.append(d)
        return legal

    # -- queues -----------------------------------------------------------------------------------------------

    @staticmethod
    def _queues(board: Board, units: List[Unit], plans: Dict[str, List[int]], goals: Dict[str, Tile]
                ) -> Dict[str, List[List[int]]]:
        """Only robots whose next action changes get a new queue (replacing one costs power).

        A queue runs ahead where the plan is known: digging repeats, and a move is followed by the next steps
        toward its goal. Only the first step was checked for collisions; the rest is re-checked every turn,
        and the queue is replaced as soon as its next step differs from the plan.
        """
        out: Dict[str, List[List[int]]] = {}
        for unit in units:
            action = plans[unit.unit_id]
            head = unit.action_queue[0] if unit.action_queue else None
            if head is not None and list(map(int, head[:3])) == action[:3] and action[0] in (A.DIG, A.RECHARGE, A.MOVE):
                continue
            if head is None and action[0] == A.RECHARGE:
                continue  # an empty queue already idles
            if unit.power < unit.cfg.ACTION_QUEUE_POWER_COST:
                continue
            if action[0] == A.DIG:
                queue = [A.dig(n=unit.cfg.CARGO_SPACE)]  # keep digging until told otherwise
            elif action[0] == A.MOVE:
                queue = [action] + _path_after_first_step(board, unit, action[1], goals.get(unit.unit_id))
            else:
                queue = [action]
            out[unit.unit_id] = queue
        return out


def _path_after_first_step(board: Board, unit: Unit, first: int, goal: Optional[Tile], limit: int = 4
                           ) -> List[List[int]]:
    """Straight-line moves from the tile after `first` toward `goal`: at most `limit`, and only as many as the
    robot's power pays for (a queued move without the power for it is an invalid action)."""
    if goal is None:
        return []
    at = unit.pos + A.DIRECTION_DELTAS[first]
    power = unit.power - unit.cfg.ACTION_QUEUE_POWER_COST - move_power(unit.cfg, int(board.rubble[at[0], at[1]]))
    steps: List[List[int]] = []
    while len(steps) < limit:
        d = A.direction_to(at, np.array(goal))
        if d == A.CENTER:
            break
        nxt = at + A.DIRECTION_DELTAS[d]
        power -= move_power(unit.cfg, int(board.rubble[nxt[0], nxt[1]]))
        if power < 0:
            break
        steps.append(A.move(d))
        at = nxt
    return steps
