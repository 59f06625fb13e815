"""Small rule helpers from the specs: day/night, movement and digging power, watering cost."""
from __future__ import annotations

import math

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
