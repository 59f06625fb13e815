"""Small rule helpers from the specs: day/night, movement power, who wins a game."""
from __future__ import annotations

from typing import Dict, Optional, Union

import numpy as np

from .config import GameConfig, RobotConfig


def is_day(cfg: GameConfig, real_env_step: int) -> bool:
    """Robots charge by day: the first DAY_LENGTH steps of each CYCLE_LENGTH."""
    return real_env_step % cfg.CYCLE_LENGTH < cfg.DAY_LENGTH


def move_power(robot: RobotConfig, rubble_at_target: Union[int, np.ndarray]) -> Union[int, np.ndarray]:
    """Power a move costs: floor(MOVE_COST + RUBBLE_MOVEMENT_COST * rubble on the target tile); an int for one
    tile, int64 for an array of rubble (a whole board at once)."""
    cost = np.floor(robot.MOVE_COST + robot.RUBBLE_MOVEMENT_COST * np.asarray(rubble_at_target, dtype=np.float64))
    return int(cost) if cost.ndim == 0 else cost.astype(np.int64)


FAILED_SCORE = -1000  # the engine's final reward of a player that failed (errored, sent a rejected action, or
# lost every factory)


def decide_winner(scores: Dict[str, float]) -> Optional[str]:
    """The engine's rule: the higher final reward wins (lichen; FAILED_SCORE for a failed player); equal is a
    draw (None)."""
    (a_name, a), (b_name, b) = sorted(scores.items())
    if a == b:
        return None
    return a_name if a > b else b_name
