"""Rebuild the full observation from the protocol's delta observations.

The runner sends the whole observation on the first turn. After that, `board.ice` and `board.ore` are
left out (they never change), `valid_spawns_mask` is left out once the game proper starts, and
`rubble`, `lichen` and `lichen_strains` arrive as sparse dicts `{"x,y": value}` of the tiles that changed.
Units, factories and teams always arrive whole.
"""
from __future__ import annotations

from typing import Any, Dict, Optional

import numpy as np

SPARSE_BOARD_KEYS = ("rubble", "lichen", "lichen_strains")
STATIC_BOARD_KEYS = ("ice", "ore", "valid_spawns_mask")


class ObservationTracker:
    """Keeps the current full observation (board arrays as numpy, indexed [x, y]) of one game."""

    def __init__(self) -> None:
        self.full: Optional[Dict[str, Any]] = None

    def update(self, obs: Dict[str, Any]) -> Dict[str, Any]:
        """Merge one (full or delta) observation and return the full observation."""
        if not isinstance(obs, dict) or "board" not in obs:
            raise ValueError("observation has no 'board' field")
        board_in = obs["board"]
        if self.full is None:
            board = {}
            for key in SPARSE_BOARD_KEYS + ("ice", "ore"):
                if isinstance(board_in.get(key), dict) or key not in board_in:
                    raise ValueError("first observation must hold the whole board; '%s' is missing or sparse"
                                     % key)
                board[key] = np.array(board_in[key], dtype=np.int64)
            spawns = board_in.get("valid_spawns_mask", np.zeros_like(board["ice"]))
            board["valid_spawns_mask"] = np.array(spawns, dtype=bool)
        else:
            board = self.full["board"]
            for key in SPARSE_BOARD_KEYS:
                value = board_in.get(key)
                if isinstance(value, dict):
                    for xy, v in value.items():
                        x, y = xy.split(",")
                        board[key][int(x), int(y)] = v
                elif value is not None:
                    board[key] = np.array(value, dtype=np.int64)
            for key in STATIC_BOARD_KEYS:
                if key in board_in and not isinstance(board_in[key], dict):
                    board[key] = np.array(board_in[key], dtype=bool if key == "valid_spawns_mask" else np.int64)
        previous = self.full["board"]["factories_per_team"] if self.full is not None else 0
        board["factories_per_team"] = board_in.get("factories_per_team", previous)
        full = {
            "units": obs.get("units", {}),
            "factories": obs.get("factories", {}),
            "teams": obs.get("teams", {}),
            "board": board,
            "real_env_steps": int(obs.get("real_env_steps", 0)),
            "global_id": obs.get("global_id", 0),
        }
        self.full = full
        return full
