"""Small rule helpers from the specs: day/night, movement and digging power, watering cost, where robots go."""
from __future__ import annotations

import math
from typing import Dict, List, Optional, Sequence, Set, Tuple

from .config import GameConfig, RobotConfig


def is_day(cfg: GameConfig, real_env_step: int) -> bool:
    """Robots charge by day: the first DAY_LENGTH steps of each CYCLE_LENGTH."""
    return real_env_step % cfg.CYCLE_LENGTH < cfg.DAY_LENGTH


def move_power(robot: RobotConfig, rubble_at_target: int) -> int:
    """Power a move costs: floor(MOVE_COST + RUBBLE_MOVEMENT_COST * rubble on the target tile)."""
    return int(math.floor(robot.MOVE_COST + robot.RUBBLE_MOVEMENT_COST * rubble_at_target))


def watering_cost(cfg: GameConfig, growable_lichen_tiles: int) -> int:
    """Water a factory pays to water lichen: ceil(tiles it would water / factor) (the engine's formula)."""
    return int(math.ceil(growable_lichen_tiles / cfg.LICHEN_WATERING_COST_FACTOR))


def steps_left(cfg: GameConfig, real_env_step: int) -> int:
    return cfg.max_episode_length - real_env_step


def robot_tiles_this_step(units: Sequence, new_queues: Optional[Dict[str, List[List[int]]]] = None
                          ) -> Set[Tuple[int, int]]:
    """Tiles our robots may stand on after this step: each robot's tile, plus the tile its next move leads to
    (the new queue's head where one is sent this turn, else the current queue's head). Both are kept because
    a move the robot cannot pay for leaves it where it is."""
    new_queues = new_queues or {}
    deltas = {1: (0, -1), 2: (1, 0), 3: (0, 1), 4: (-1, 0)}  # UP, RIGHT, DOWN, LEFT
    tiles: Set[Tuple[int, int]] = set()
    for unit in units:
        x, y = int(unit.pos[0]), int(unit.pos[1])
        tiles.add((x, y))
        queue = new_queues.get(unit.unit_id, unit.action_queue)
        if queue and int(queue[0][0]) == 0 and int(queue[0][1]) in deltas:  # a move
            dx, dy = deltas[int(queue[0][1])]
            tiles.add((x + dx, y + dy))
    return tiles


FAILED_SCORE = -1000  # the engine's final reward of a player that failed (errored, sent a rejected action, or
# lost every factory)


def decide_winner(scores: Dict[str, float]) -> Optional[str]:
    """The engine's rule: the higher final reward wins (lichen; FAILED_SCORE for a failed player); equal is a
    draw (None)."""
    (a_name, a), (b_name, b) = sorted(scores.items())
    if a == b:
        return None
    return a_name if a > b else b_name
