"""Walks toward a tile: the moves a robot queues after its first step and the side-steps around a blocked one,
shared by the heuristic controller and the policy's action codec so that both walk the same way (along x first,
as `lux.actions.direction_to`)."""
from __future__ import annotations

from typing import List, Optional, Tuple

from . import actions as A
from .rules import move_power
from .state import Board, Unit

Tile = Tuple[int, int]
WALK_AHEAD = 4  # moves queued after the first step; re-checked every turn, so a few are enough


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
