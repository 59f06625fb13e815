"""Game configuration as sent in the first observation (`info["env_cfg"]`).

The Kaggle 2023 game (48x48 map, 2-5 factories a team) and the NeurIPS 2023 game (64x64, 4-10) differ only
in these values, so nothing else in the code may assume a map size or factory count.
"""
from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any, Dict


@dataclass(frozen=True)
class RobotConfig:
    """Per-robot-type constants (LIGHT or HEAVY)."""

    METAL_COST: int
    POWER_COST: int
    CARGO_SPACE: int
    BATTERY_CAPACITY: int
    CHARGE: int
    INIT_POWER: int
    MOVE_COST: int
    RUBBLE_MOVEMENT_COST: float
    DIG_COST: int
    DIG_RUBBLE_REMOVED: int
    DIG_RESOURCE_GAIN: int
    DIG_LICHEN_REMOVED: int
    SELF_DESTRUCT_COST: int
    RUBBLE_AFTER_DESTRUCTION: int
    ACTION_QUEUE_POWER_COST: int


@dataclass(frozen=True)
class GameConfig:
    """The subset of the engine's EnvConfig the agent and the policy rely on (defaults: NeurIPS 2023 game)."""

    max_episode_length: int = 1000
    map_size: int = 64
    max_transfer_amount: int = 3000
    MIN_FACTORIES: int = 4
    MAX_FACTORIES: int = 10
    CYCLE_LENGTH: int = 50
    DAY_LENGTH: int = 30
    UNIT_ACTION_QUEUE_SIZE: int = 20
    MAX_RUBBLE: int = 100
    FACTORY_RUBBLE_AFTER_DESTRUCTION: int = 50
    INIT_WATER_METAL_PER_FACTORY: int = 150
    INIT_POWER_PER_FACTORY: int = 1000
    MIN_LICHEN_TO_SPREAD: int = 20
    LICHEN_LOST_WITHOUT_WATER: int = 1
    LICHEN_GAINED_WITH_WATER: int = 1
    MAX_LICHEN_PER_TILE: int = 100
    POWER_PER_CONNECTED_LICHEN_TILE: int = 1
    LICHEN_WATERING_COST_FACTOR: int = 10
    BIDDING_SYSTEM: bool = True
    FACTORY_PROCESSING_RATE_WATER: int = 100
    ICE_WATER_RATIO: int = 4
    FACTORY_PROCESSING_RATE_METAL: int = 50
    ORE_METAL_RATIO: int = 5
    FACTORY_CHARGE: int = 50
    FACTORY_WATER_CONSUMPTION: int = 1
    POWER_LOSS_FACTOR: float = 0.5
    ROBOTS: Dict[str, RobotConfig] = field(default_factory=lambda: dict(LIGHT=LIGHT_DEFAULT, HEAVY=HEAVY_DEFAULT))

    @classmethod
    def from_dict(cls, data: Dict[str, Any]) -> GameConfig:
        """Build from the `env_cfg` dict of the first observation; unknown keys are ignored."""
        if not isinstance(data, dict):
            raise ValueError("env_cfg must be a dict, got %s" % type(data).__name__)
        names = {f.name for f in fields(cls)}
        kwargs = {k: v for k, v in data.items() if k in names and k != "ROBOTS"}
        robots = data.get("ROBOTS")
        if robots is not None:
            robot_names = {f.name for f in fields(RobotConfig)}
            kwargs["ROBOTS"] = {
                kind: RobotConfig(**{k: v for k, v in robots[kind].items() if k in robot_names})
                for kind in ("LIGHT", "HEAVY")
            }
        return cls(**kwargs)

    @classmethod
    def kaggle(cls) -> GameConfig:
        """The Kaggle 2023 competition game."""
        return cls(map_size=48, MIN_FACTORIES=2, MAX_FACTORIES=5)


LIGHT_DEFAULT = RobotConfig(
    METAL_COST=10, POWER_COST=50, CARGO_SPACE=100, BATTERY_CAPACITY=150, CHARGE=1, INIT_POWER=50,
    MOVE_COST=1, RUBBLE_MOVEMENT_COST=0.05, DIG_COST=5, DIG_RUBBLE_REMOVED=2, DIG_RESOURCE_GAIN=2,
    DIG_LICHEN_REMOVED=10, SELF_DESTRUCT_COST=10, RUBBLE_AFTER_DESTRUCTION=1, ACTION_QUEUE_POWER_COST=1,
)
HEAVY_DEFAULT = RobotConfig(
    METAL_COST=100, POWER_COST=500, CARGO_SPACE=1000, BATTERY_CAPACITY=3000, CHARGE=10, INIT_POWER=500,
    MOVE_COST=20, RUBBLE_MOVEMENT_COST=1, DIG_COST=60, DIG_RUBBLE_REMOVED=20, DIG_RESOURCE_GAIN=20,
    DIG_LICHEN_REMOVED=100, SELF_DESTRUCT_COST=100, RUBBLE_AFTER_DESTRUCTION=10, ACTION_QUEUE_POWER_COST=10,
)
