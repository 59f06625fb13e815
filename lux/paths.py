"""Walks toward a tile.

Two kinds: the x-first walk of `lux.actions.direction_to` (the moves queued after a first step and the side-steps
around a blocked one), which the policy's action codec and features use; and the least-power walk
(`walk_costs`, `steps_downhill`, `walk_ahead`), which the heuristic controller uses: it goes round rubble and
always gets nearer its goal.
"""
from __future__ import annotations

from typing import List, Optional, Sequence, Tuple

import numpy as np
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra

from . import actions as A
from .rules import move_power
from .state import Board, Unit

Tile = Tuple[int, int]
WALK_AHEAD = 4  # moves queued after the first step; re-checked every turn, so a few are enough
DIRECTION_STEPS_4 = A.DIRECTION_STEPS[1:]  # up, right, down, left


def side_steps(direction: int) -> Tuple[int, ...]:
    """The two directions across a blocked step (left then right of a vertical one, up then down of a horizontal
    one); none for CENTER. The controller and the codec try them in this order."""
    if direction in (A.UP, A.DOWN):
        return (A.LEFT, A.RIGHT)
    if direction in (A.LEFT, A.RIGHT):
        return (A.UP, A.DOWN)
    return ()


def moves_after_first_step(board: Board, unit: Unit, first: int, goal: Optional[Tile], limit: int = WALK_AHEAD,
                           keep_power: int = 0) -> List[A.UnitAction]:
    """Moves from the tile after `first` toward `goal`, one per action: at most `limit`, and only as many as the
    robot pays for after a new queue, the first step and `keep_power` (a queued move without the power for it is
    rejected by the engine)."""
    if goal is None:
        return []
    dx0, dy0 = (int(v) for v in A.DIRECTION_DELTAS[first])
    x, y = int(unit.pos[0]) + dx0, int(unit.pos[1]) + dy0
    w, h = board.rubble.shape
    if not (0 <= x < w and 0 <= y < h):
        return []
    power = unit.power - unit.cfg.ACTION_QUEUE_POWER_COST - keep_power - move_power(unit.cfg, int(board.rubble[x, y]))
    steps: List[A.UnitAction] = []
    while len(steps) < limit:
        d = A.direction_to((x, y), goal)
        if d == A.CENTER:
            break
        dx, dy = (int(v) for v in A.DIRECTION_DELTAS[d])
        x, y = x + dx, y + dy
        power -= move_power(unit.cfg, int(board.rubble[x, y]))
        if power < 0:
            break
        steps.append(A.move(d))
    return steps


# -- walks by least power ------------------------------------------------------------------------------------
# The x-first walk above ignores rubble and, when its step is blocked, side-steps away from the goal as readily
# as toward it; a heavy sent home that way stepped back and forth between two tiles until its power was gone,
# and its factory ran dry. The walks below follow the least-power way instead: every step lowers the power still
# needed to arrive, so a walker cannot go round in circles.


def walk_costs(move_cost: np.ndarray, blocked: np.ndarray, goals: Sequence[Tile]) -> np.ndarray:
    """float [W, H]: the least power a robot pays to walk from each tile onto the nearest of `goals` (0 on a goal,
    inf where none can be reached), a move onto a tile costing `move_cost` there; `blocked` tiles cannot be
    entered (a goal always can)."""
    w, h = move_cost.shape
    if not goals:
        return np.full((w, h), np.inf)
    open_ = ~np.asarray(blocked, dtype=bool).copy()
    for x, y in goals:
        open_[x, y] = True
    index = np.arange(w * h).reshape(w, h)
    # Reversed edges: entering v from its neighbour u costs move_cost[v], stored as v -> u, so that one search
    # from the goals gives every tile's cost of walking to them.
    rows, cols, data = [], [], []
    for dx, dy in DIRECTION_STEPS_4:
        vx = slice(max(-dx, 0), w - max(dx, 0))
        vy = slice(max(-dy, 0), h - max(dy, 0))
        ux = slice(max(dx, 0), w - max(-dx, 0))
        uy = slice(max(dy, 0), h - max(-dy, 0))
        keep = open_[vx, vy]
        rows.append(index[vx, vy][keep])
        cols.append(index[ux, uy][keep])
        data.append(move_cost[vx, vy][keep].astype(np.float64))
    graph = csr_matrix((np.concatenate(data), (np.concatenate(rows), np.concatenate(cols))), shape=(w * h, w * h))
    sources = sorted({x * h + y for x, y in goals})
    return dijkstra(graph, directed=True, indices=sources, min_only=True).reshape(w, h)


def steps_downhill(costs: np.ndarray, move_cost: np.ndarray, here: Tile) -> List[Tuple[int, Tile]]:
    """The moves from `here` onto tiles from which the walk costs less (`costs`: `walk_costs`), cheapest way to
    the goal first: (direction, tile). Empty on a goal or where no goal can be reached."""
    return _steps(costs, move_cost, here, level=False)


def steps_level(costs: np.ndarray, move_cost: np.ndarray, here: Tile) -> List[Tuple[int, Tile]]:
    """The moves from `here` onto tiles from which the walk costs as much (`costs`: `walk_costs`), cheapest way to
    the goal first: the way round a walker's blocked downhill steps (a robot standing on the one tile next to its
    goal)."""
    return _steps(costs, move_cost, here, level=True)


def _steps(costs: np.ndarray, move_cost: np.ndarray, here: Tile, level: bool) -> List[Tuple[int, Tile]]:
    w, h = costs.shape
    x, y = here
    if not np.isfinite(costs[x, y]):
        return []
    found = []
    for d in (A.UP, A.RIGHT, A.DOWN, A.LEFT):
        dx, dy = A.DIRECTION_STEPS[d]
        tx, ty = x + dx, y + dy
        if not (0 <= tx < w and 0 <= ty < h):
            continue
        if (costs[tx, ty] == costs[x, y]) if level else (costs[tx, ty] < costs[x, y]):
            found.append((float(move_cost[tx, ty] + costs[tx, ty]), d, (tx, ty)))
    return [(d, tile) for _, d, tile in sorted(found)]


def walk_ahead(costs: np.ndarray, move_cost: np.ndarray, start: Tile, power: int, limit: int = WALK_AHEAD
               ) -> List[A.UnitAction]:
    """Moves on from `start` along the least-power way (`costs`: `walk_costs`), at most `limit` and only those
    `power` pays for."""
    steps: List[A.UnitAction] = []
    here = start
    while len(steps) < limit:
        options = steps_downhill(costs, move_cost, here)
        if not options:
            break
        d, tile = options[0]
        power -= int(move_cost[tile[0], tile[1]])
        if power < 0:
            break
        steps.append(A.move(d))
        here = tile
    return steps
