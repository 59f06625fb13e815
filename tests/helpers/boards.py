"""Hand-made observations for tests: an empty board, our robots and factories placed on it (player_0)."""
from __future__ import annotations

from typing import Any, Dict, Optional, Sequence, Tuple

import numpy as np

Obs = Dict[str, Any]


def empty_board(size: int) -> Dict[str, Any]:
    """No rubble, resources or lichen; nowhere to spawn."""
    z = np.zeros((size, size), dtype=np.int64)
    return {"rubble": z.copy(), "ice": z.copy(), "ore": z.copy(), "lichen": z.copy(),
            "lichen_strains": z.copy() - 1, "valid_spawns_mask": np.zeros((size, size), bool),
            "factories_per_team": 1}


def robot(pos: Tuple[int, int], unit_type: str = "HEAVY", power: int = 1000, ice: int = 0, ore: int = 0,
          queue: Sequence[Sequence[int]] = ()) -> Dict[str, Any]:
    return {"team_id": 0, "unit_type": unit_type, "pos": list(pos), "power": power,
            "cargo": {"ice": ice, "ore": ore, "water": 0, "metal": 0}, "action_queue": [list(q) for q in queue]}


def enemy_robot(pos: Tuple[int, int], unit_type: str = "LIGHT", power: int = 100) -> Dict[str, Any]:
    """A robot of player_1 (for `observation`'s enemy_units)."""
    r = robot(pos, unit_type, power=power)
    r["team_id"] = 1
    return r


def factory(pos: Tuple[int, int], power: int = 1000, water: int = 100, metal: int = 0) -> Dict[str, Any]:
    return {"team_id": 0, "strain_id": 0, "pos": list(pos), "power": power,
            "cargo": {"ice": 0, "ore": 0, "water": water, "metal": metal}}


def observation(board: Dict[str, Any], units: Dict[str, Dict[str, Any]], factories: Dict[str, Dict[str, Any]],
                step: int = 10, enemy_units: Optional[Dict[str, Dict[str, Any]]] = None) -> Obs:
    """player_0 owns `units` and `factories` (strain 0); player_1 owns `enemy_units` only."""
    return {"board": board, "units": {"player_0": units, "player_1": enemy_units or {}},
            "factories": {"player_0": factories, "player_1": {}},
            "teams": {"player_0": {"team_id": 0, "factory_strains": [0]}, "player_1": {"team_id": 1}},
            "real_env_steps": step}
