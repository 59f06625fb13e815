"""Typed view of a full observation: board, robots (units), factories, teams and cargo.

Positions are `np.ndarray([x, y])`; board arrays are indexed `[x, y]`, as the engine sends them.
Player names are "player_0" and "player_1".
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, Iterable, List, Tuple, Union

import numpy as np

from .config import GameConfig, RobotConfig

PLAYERS = ("player_0", "player_1")


def id_number(unit_id: str) -> Tuple[int, str]:
    """Sort key of a robot id by its number (unit_7 before unit_12); ids without one sort last."""
    tail = unit_id.rsplit("_", 1)[-1]
    return (int(tail), unit_id) if tail.isdigit() else (1 << 62, unit_id)


def opponent(player: str) -> str:
    return "player_1" if player == "player_0" else "player_0"


Coordinate = Union[int, np.ndarray]


def footprint_gap(x: Coordinate, y: Coordinate, cx: Coordinate, cy: Coordinate) -> Coordinate:
    """Manhattan distance from (x, y) to the 3x3 footprint of a factory centred on (cx, cy), 0 on it.

    Works on ints and on broadcast numpy arrays alike: every distance to a factory in the project is this one.
    """
    return np.maximum(np.abs(x - cx) - 1, 0) + np.maximum(np.abs(y - cy) - 1, 0)


@dataclass
class Cargo:
    ice: int = 0
    ore: int = 0
    water: int = 0
    metal: int = 0

    @classmethod
    def from_dict(cls, d: Dict[str, Any]) -> Cargo:
        return cls(int(d.get("ice", 0)), int(d.get("ore", 0)), int(d.get("water", 0)), int(d.get("metal", 0)))

    @property
    def total(self) -> int:
        return self.ice + self.ore + self.water + self.metal


@dataclass
class Unit:
    """A robot (light or heavy)."""

    unit_id: str
    team_id: int
    unit_type: str  # "LIGHT" or "HEAVY"
    pos: np.ndarray
    power: int
    cargo: Cargo
    action_queue: List[List[int]]
    cfg: RobotConfig

    @property
    def is_heavy(self) -> bool:
        return self.unit_type == "HEAVY"


@dataclass
class Factory:
    """A 3x3 factory; `pos` is its centre tile."""

    unit_id: str
    team_id: int
    strain_id: int
    pos: np.ndarray
    power: int
    cargo: Cargo

    def occupies(self, pos: np.ndarray) -> bool:
        return abs(int(pos[0]) - int(self.pos[0])) <= 1 and abs(int(pos[1]) - int(self.pos[1])) <= 1

    def footprint(self) -> Tuple[slice, slice]:
        """Index of the factory's 3x3 footprint into a board array (`board[f.footprint()]`), clipped to the map."""
        x, y = int(self.pos[0]), int(self.pos[1])
        return slice(max(x - 1, 0), x + 2), slice(max(y - 1, 0), y + 2)

    def footprint_tiles(self) -> List[Tuple[int, int]]:
        """The footprint's nine tiles (a factory never stands at the edge, so all are on the map)."""
        x, y = int(self.pos[0]), int(self.pos[1])
        return [(x + dx, y + dy) for dx in (-1, 0, 1) for dy in (-1, 0, 1)]

    def distance_to(self, pos: np.ndarray) -> int:
        """Manhattan distance from pos to the nearest tile of the factory's footprint (0 on it)."""
        return int(footprint_gap(int(pos[0]), int(pos[1]), int(self.pos[0]), int(self.pos[1])))

    def nearest_tile(self, pos: np.ndarray) -> np.ndarray:
        """The footprint tile nearest to pos (pos itself on the footprint)."""
        return np.clip(pos, self.pos - 1, self.pos + 1)


@dataclass
class Team:
    team_id: int
    faction: str
    water: int
    metal: int
    factories_to_place: int
    factory_strains: List[int]
    place_first: bool
    bid: int

    @classmethod
    def from_dict(cls, d: Dict[str, Any]) -> Team:
        return cls(
            int(d.get("team_id", 0)), str(d.get("faction", "")), int(d.get("water", 0)), int(d.get("metal", 0)),
            int(d.get("factories_to_place", 0)), [int(s) for s in d.get("factory_strains", [])],
            bool(d.get("place_first", False)), int(d.get("bid", 0)),
        )


@dataclass
class Board:
    rubble: np.ndarray
    ice: np.ndarray
    ore: np.ndarray
    lichen: np.ndarray
    lichen_strains: np.ndarray
    valid_spawns_mask: np.ndarray
    factories_per_team: int
    # Derived: strain id of the factory covering each tile, -1 where none (as the engine's occupancy map).
    factory_occupancy: np.ndarray

    @property
    def size(self) -> int:
        return int(self.rubble.shape[0])

    def in_bounds(self, pos: np.ndarray) -> bool:
        return 0 <= int(pos[0]) < self.rubble.shape[0] and 0 <= int(pos[1]) < self.rubble.shape[1]

    def lichen_tiles_of(self, strains: Iterable[int]) -> np.ndarray:
        """bool [W, H]: tiles whose lichen belongs to one of `strains` (a team's factories, dead ones too)."""
        wanted = [int(s) for s in strains if int(s) >= 0]
        if not wanted:
            return np.zeros(self.lichen_strains.shape, dtype=bool)
        # A lookup table indexed by strain + 1 (-1 marks no lichen): one gather instead of np.isin's sort.
        table = np.zeros(max(int(self.lichen_strains.max()), max(wanted)) + 2, dtype=bool)
        table[np.asarray(wanted) + 1] = True
        return table[self.lichen_strains + 1]


@dataclass
class GameState:
    """Everything one player knows at one step (the game is fully observable)."""

    cfg: GameConfig
    real_env_steps: int
    board: Board
    units: Dict[str, Dict[str, Unit]]
    factories: Dict[str, Dict[str, Factory]]
    teams: Dict[str, Team]
    # lux.turn.view_of's memory: each player's TurnView of this state, made once. A state is one turn's
    # observation and is not changed after it is built.
    # (init=False: a copy made with dataclasses.replace starts with no views of its own.)
    views: Dict[str, Any] = field(default_factory=dict, init=False, repr=False, compare=False)

    @classmethod
    def from_obs(cls, obs: Dict[str, Any], cfg: GameConfig) -> GameState:
        """Build from a full observation (engine dict or one rebuilt by ObservationTracker)."""
        b = obs["board"]
        rubble = np.asarray(b["rubble"])
        units: Dict[str, Dict[str, Unit]] = {p: {} for p in PLAYERS}
        for player, by_id in obs.get("units", {}).items():
            for uid, u in by_id.items():
                units[player][uid] = Unit(
                    unit_id=uid, team_id=int(u["team_id"]), unit_type=str(u["unit_type"]),
                    pos=np.asarray(u["pos"], dtype=np.int64), power=int(u["power"]),
                    cargo=Cargo.from_dict(u["cargo"]), action_queue=[list(a) for a in u.get("action_queue", [])],
                    cfg=cfg.ROBOTS[str(u["unit_type"])],
                )
        factories: Dict[str, Dict[str, Factory]] = {p: {} for p in PLAYERS}
        occupancy = np.full(rubble.shape, -1, dtype=np.int64)
        for player, by_id in obs.get("factories", {}).items():
            for fid, f in by_id.items():
                pos = np.asarray(f["pos"], dtype=np.int64)
                fac = Factory(
                    unit_id=fid, team_id=int(f["team_id"]), strain_id=int(f["strain_id"]), pos=pos,
                    power=int(f["power"]), cargo=Cargo.from_dict(f["cargo"]),
                )
                factories[player][fid] = fac
                occupancy[fac.footprint()] = fac.strain_id
        board = Board(
            rubble=rubble, ice=np.asarray(b["ice"]), ore=np.asarray(b["ore"]), lichen=np.asarray(b["lichen"]),
            lichen_strains=np.asarray(b["lichen_strains"]),
            valid_spawns_mask=np.asarray(b.get("valid_spawns_mask", np.zeros(rubble.shape, dtype=bool)), dtype=bool),
            factories_per_team=int(b.get("factories_per_team", 0)), factory_occupancy=occupancy,
        )
        teams = {p: Team.from_dict(t) for p, t in obs.get("teams", {}).items()}
        return cls(cfg=cfg, real_env_steps=int(obs.get("real_env_steps", 0)), board=board,
                   units=units, factories=factories, teams=teams)
