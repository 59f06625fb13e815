"""Observation encoding for the unit policy, always from one player's view ("own" vs "enemy").

Map planes, `map_planes[c, x, y]` (float32, C x W x H, indexed [x, y] like the board):

| # | name | meaning | scaling |
|---|------|---------|---------|
| 0 | ice | ice on the tile | 0/1 |
| 1 | ore | ore on the tile | 0/1 |
| 2 | rubble | rubble | / MAX_RUBBLE |
| 3 | own_lichen | lichen of our strains | / MAX_LICHEN_PER_TILE |
| 4 | enemy_lichen | lichen of the enemy's strains | / MAX_LICHEN_PER_TILE |
| 5 | own_factory | tile covered by one of our factories | 0/1 |
| 6 | enemy_factory | tile covered by an enemy factory | 0/1 |
| 7 | own_light | our light robot here | 0/1 |
| 8 | own_heavy | our heavy robot here | 0/1 |
| 9 | enemy_light | enemy light robot here | 0/1 |
| 10 | enemy_heavy | enemy heavy robot here | 0/1 |
| 11 | robot_power | power of the robot here (either team) | / its BATTERY_CAPACITY |
| 12 | robot_ice | ice cargo of the robot here | / its CARGO_SPACE |
| 13 | robot_ore | ore cargo of the robot here | / its CARGO_SPACE |
| 14 | factory_water | water of the factory covering the tile | / 1000 (either team) |
| 15 | factory_metal | metal of the factory covering the tile | / 1000 |
| 16 | factory_ice_ore | ice + ore waiting in that factory | / 1000 |
| 17 | factory_power | power of that factory | / 5000 |
| 18 | dist_own_factory | Manhattan distance to our nearest factory tile | / map size, 1 when none |
| 19 | dist_ice | Manhattan distance to the nearest ice tile | / map size, 1 when none |
| 20 | on_map | 1 on every tile (marks the border for zero-padded convolutions) | 1 |
| 21 | day | 1 by day, 0 by night (global, tiled) | 0/1 |
| 22 | step | real step (global, tiled) | / 1000 (the full game) |

Global vector `global_features[g]` (float32):

| # | name | meaning | scaling |
|---|------|---------|---------|
| 0 | step | real step | / 1000 (the full game) |
| 1 | day | day (1) or night (0) | 0/1 |
| 2 | cycle_phase | position within the day/night cycle | step % CYCLE_LENGTH / CYCLE_LENGTH |
| 3 | own_factories | our factories | / MAX_FACTORIES |
| 4 | enemy_factories | enemy factories | / MAX_FACTORIES |
| 5 | own_lights | our light robots | / 50 |
| 6 | own_heavies | our heavy robots | / 20 |
| 7 | enemy_lights | enemy light robots | / 50 |
| 8 | enemy_heavies | enemy heavy robots | / 20 |
| 9 | own_water | water in our factories | / 1000 |
| 10 | enemy_water | water in enemy factories | / 1000 |
| 11 | own_metal | metal in our factories | / 1000 |
| 12 | enemy_metal | metal in enemy factories | / 1000 |
| 13 | own_lichen | our lichen, summed over tiles | / 10000 |
| 14 | enemy_lichen | enemy lichen, summed over tiles | / 10000 |
| 15 | map_size | board width | / 64 |

Unit features `unit_features[i, u]` (float32), one row per own robot in `unit_ids` order (sorted by id number):

| # | name | meaning | scaling |
|---|------|---------|---------|
| 0 | heavy | heavy robot | 0/1 |
| 1 | power | power | / BATTERY_CAPACITY |
| 2 | ice | ice cargo | / CARGO_SPACE |
| 3 | ore | ore cargo | / CARGO_SPACE |
| 4 | on_ice | standing on ice | 0/1 |
| 5 | on_ore | standing on ore | 0/1 |
| 6 | on_own_factory | standing on our factory | 0/1 |
| 7 | next_to_own_factory | an own factory tile is 4-adjacent | 0/1 |
| 8 | rubble_here | rubble under the robot | / MAX_RUBBLE |
| 9 | dist_own_factory | distance to our nearest factory tile | / map size |
| 10 | home_water | water of the robot's home factory (see below) | / 1000 |
| 11 | home_power | power of its home factory | / 5000 |
| 12 | can_requeue | power >= the cost of a new action queue | 0/1 |
| 13 | queue_empty | the action queue is empty | 0/1 |
| 14 | queue_move | the queue's next action is a move | 0/1 |
| 15 | queue_dig | ... a dig | 0/1 |
| 16 | queue_transfer | ... a transfer | 0/1 |
| 17 | queue_pickup | ... a pickup | 0/1 |
| 18-21 | home_up, home_right, home_down, home_left | the step toward its home factory's nearest tile | see below |
| 22-25 | ice_up, ice_right, ice_down, ice_left | the step toward this robot's ice tile | see below |
| 26 | ice_dist | distance to that tile | / 16, at most 1 (also when there is none) |
| 27 | has_ice_target | an ice tile is left for this robot | 0/1 |
| 28-33 | ore_up ... has_ore_target | the same for its ore tile | |
| 34-39 | rubble_up ... has_rubble_target | the same for its tile of rubble to clear | |
| 40 | home_metal | metal of its home factory | / a heavy's METAL_COST, at most 1 |

Steps toward a tile: 1 for the move `lux.actions.direction_to` takes (along x first when |dx| >= |dy|, the
heuristic controller's choice), 0.5 for the other move that also brings the robot closer, 0 otherwise (all 0 on
the tile or without one). Direction bits rather than raw offsets: each feeds the matching move's logit directly.

A robot's home is the factory that built it while that factory stands (`lux.homes.RobotHomes`, passed to
`encode` by whoever follows the game turn by turn), else its nearest own factory: the factory the heuristic
controller has it deliver to, whose water decides whether a light mines ice or ore.

Target tiles say where a robot could go without the policy having to find it on the map
(`lux.resources.target_tiles`, the tiles the heuristic controller sends its robots to): each robot claims one ice
and one ore tile within MAX_TARGET_DISTANCE of its home, and one tile of rubble (not on a resource) within
RUBBLE_DISTANCE of it, nearest home first. Heavies claim ice first, lights ore and rubble first,
each in id order; a robot already on a free ice or ore tile keeps it. Without them the policy sees where ice is
but not which tile another robot is already heading for.

`action_mask` is `actions.action_masks` for the same robots, `targets` the target tiles the features and the GO
actions share.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, List, Mapping, Optional, Tuple

import numpy as np

from lux import actions as lux_actions
from lux.distances import cached_distance_map
from lux.homes import home_factories
from lux.resources import TARGET_KINDS, target_tiles
from lux.rules import is_day
from lux.state import GameState, Unit, id_number
from lux.turn import view_of

from .actions import action_masks, pad_border, step_directions, tile_offsets

MAP_CHANNELS = (
    "ice", "ore", "rubble", "own_lichen", "enemy_lichen", "own_factory", "enemy_factory",
    "own_light", "own_heavy", "enemy_light", "enemy_heavy", "robot_power", "robot_ice", "robot_ore",
    "factory_water", "factory_metal", "factory_ice_ore", "factory_power", "dist_own_factory", "dist_ice",
    "on_map", "day", "step",
)
GLOBAL_FEATURES = (
    "step", "day", "cycle_phase", "own_factories", "enemy_factories", "own_lights", "own_heavies",
    "enemy_lights", "enemy_heavies", "own_water", "enemy_water", "own_metal", "enemy_metal", "own_lichen",
    "enemy_lichen", "map_size",
)
UNIT_FEATURES = (
    "heavy", "power", "ice", "ore", "on_ice", "on_ore", "on_own_factory", "next_to_own_factory", "rubble_here",
    "dist_own_factory", "home_water", "home_power", "can_requeue", "queue_empty", "queue_move", "queue_dig",
    "queue_transfer", "queue_pickup", "home_up", "home_right", "home_down", "home_left",
    "ice_up", "ice_right", "ice_down", "ice_left", "ice_dist", "has_ice_target",
    "ore_up", "ore_right", "ore_down", "ore_left", "ore_dist", "has_ore_target",
    "rubble_up", "rubble_right", "rubble_down", "rubble_left", "rubble_dist", "has_rubble_target",
    "home_metal",
)
N_MAP_CHANNELS = len(MAP_CHANNELS)
N_GLOBAL_FEATURES = len(GLOBAL_FEATURES)
N_UNIT_FEATURES = len(UNIT_FEATURES)

RESOURCE_SCALE = 1000.0
FACTORY_POWER_SCALE = 5000.0
LICHEN_TOTAL_SCALE = 10000.0
LIGHT_COUNT_SCALE = 50.0
HEAVY_COUNT_SCALE = 20.0
MAP_SIZE_SCALE = 64.0
# Steps scale by the full game's length, not the env's: training games may be cut short.
GAME_LENGTH = 1000.0
TARGET_DISTANCE_SCALE = 16.0  # distances to target tiles; further ones read as 1
_CH = {name: i for i, name in enumerate(MAP_CHANNELS)}
_QUEUE_TYPES = {lux_actions.MOVE: 14, lux_actions.DIG: 15, lux_actions.TRANSFER: 16, lux_actions.PICKUP: 17}


@dataclass
class Features:
    """One player's encoded view of one step (see the module docstring for every entry)."""

    map_planes: np.ndarray  # float32 [C, W, H]
    global_features: np.ndarray  # float32 [G]
    unit_ids: List[str]
    unit_pos: np.ndarray  # int64 [N, 2] (x, y)
    unit_features: np.ndarray  # float32 [N, U]
    action_mask: np.ndarray  # bool [N, A]
    targets: Dict[str, List[Optional[Tuple[int, int]]]]  # lux.resources.target_tiles for unit_ids (GO actions)


def unit_order(state: GameState, player: str) -> List[Unit]:
    """Our robots in a fixed order: by the number in their id (unit_7 before unit_12)."""
    units = state.units.get(player, {})
    return [units[k] for k in sorted(units, key=id_number)]


def encode(state: GameState, player: str, homes: Optional[Mapping[str, str]] = None) -> Features:
    """Encode `state` from `player`'s view. `homes`: robot id -> home factory id (`lux.homes.RobotHomes`, kept
    by whoever plays the whole game); without it each robot's home is its nearest factory. Raises ValueError
    for an unknown player."""
    if player not in ("player_0", "player_1"):
        raise ValueError("player must be 'player_0' or 'player_1', got %r" % (player,))
    cfg = state.cfg
    board = state.board
    w, h = board.rubble.shape
    view = view_of(state, player)
    enemy = view.enemy
    step = max(int(state.real_env_steps), 0)
    day = 1.0 if is_day(cfg, step) else 0.0
    planes = np.zeros((N_MAP_CHANNELS, w, h), dtype=np.float32)
    planes[_CH["ice"]] = board.ice > 0
    planes[_CH["ore"]] = board.ore > 0
    planes[_CH["rubble"]] = board.rubble / float(cfg.MAX_RUBBLE)

    own_lichen_tiles = view.own_lichen()
    lichen = board.lichen / float(cfg.MAX_LICHEN_PER_TILE)
    enemy_lichen_tiles = (board.lichen_strains >= 0) & ~own_lichen_tiles
    planes[_CH["own_lichen"]] = np.where(own_lichen_tiles, lichen, 0.0)
    planes[_CH["enemy_lichen"]] = np.where(enemy_lichen_tiles, lichen, 0.0)

    glob = np.zeros(N_GLOBAL_FEATURES, dtype=np.float32)
    planes[_CH["own_factory"]] = view.own_factory_tiles
    planes[_CH["enemy_factory"]] = view.enemy_factory_tiles
    for fac in view.own_factories + view.enemy_factories:
        xs, ys = fac.footprint()
        planes[_CH["factory_water"], xs, ys] = fac.cargo.water / RESOURCE_SCALE
        planes[_CH["factory_metal"], xs, ys] = fac.cargo.metal / RESOURCE_SCALE
        planes[_CH["factory_ice_ore"], xs, ys] = (fac.cargo.ice + fac.cargo.ore) / RESOURCE_SCALE
        planes[_CH["factory_power"], xs, ys] = fac.power / FACTORY_POWER_SCALE
    for side, offset in ((player, 0), (enemy, 1)):
        facs = list(state.factories.get(side, {}).values())
        glob[3 + offset] = len(facs) / float(cfg.MAX_FACTORIES)
        glob[9 + offset] = sum(f.cargo.water for f in facs) / RESOURCE_SCALE
        glob[11 + offset] = sum(f.cargo.metal for f in facs) / RESOURCE_SCALE
    glob[13] = board.lichen[own_lichen_tiles].sum() / LICHEN_TOTAL_SCALE
    glob[14] = board.lichen[enemy_lichen_tiles].sum() / LICHEN_TOTAL_SCALE

    for side, light_plane, heavy_plane, offset in ((player, "own_light", "own_heavy", 0),
                                                   (enemy, "enemy_light", "enemy_heavy", 2)):
        units = list(state.units.get(side, {}).values())
        if not units:
            continue
        pos = np.array([u.pos for u in units], dtype=np.int64).reshape(-1, 2)
        heavy = np.array([u.is_heavy for u in units], dtype=bool)
        battery = np.array([u.cfg.BATTERY_CAPACITY for u in units], dtype=np.float32)
        space = np.array([u.cfg.CARGO_SPACE for u in units], dtype=np.float32)
        xs, ys = pos[:, 0], pos[:, 1]
        planes[_CH[light_plane], xs[~heavy], ys[~heavy]] = 1.0
        planes[_CH[heavy_plane], xs[heavy], ys[heavy]] = 1.0
        planes[_CH["robot_power"], xs, ys] = np.array([u.power for u in units], dtype=np.float32) / battery
        planes[_CH["robot_ice"], xs, ys] = np.array([u.cargo.ice for u in units], dtype=np.float32) / space
        planes[_CH["robot_ore"], xs, ys] = np.array([u.cargo.ore for u in units], dtype=np.float32) / space
        glob[5 + offset] = (~heavy).sum() / LIGHT_COUNT_SCALE
        glob[6 + offset] = heavy.sum() / HEAVY_COUNT_SCALE

    size = float(max(w, h))
    dist_factory = np.minimum(view.dist_own_factory() / size, 1.0)
    planes[_CH["dist_own_factory"]] = dist_factory
    planes[_CH["dist_ice"]] = np.minimum(cached_distance_map(board.ice > 0) / size, 1.0)
    planes[_CH["on_map"]] = 1.0
    planes[_CH["day"]] = day
    planes[_CH["step"]] = step / GAME_LENGTH

    glob[0] = step / GAME_LENGTH
    glob[1] = day
    glob[2] = (step % cfg.CYCLE_LENGTH) / float(cfg.CYCLE_LENGTH)
    glob[15] = w / MAP_SIZE_SCALE

    units = unit_order(state, player)
    targets = target_tiles(state, player, units, homes)
    unit_pos, unit_feats = _unit_features(state, player, units, planes, dist_factory, targets, homes)
    return Features(
        map_planes=planes, global_features=glob, unit_ids=[u.unit_id for u in units], unit_pos=unit_pos,
        unit_features=unit_feats, action_mask=action_masks(state, player, units, targets), targets=targets,
    )


def _unit_features(state: GameState, player: str, units: List[Unit], planes: np.ndarray,
                   dist_factory: np.ndarray, targets: Dict[str, List[Optional[Tuple[int, int]]]],
                   homes: Optional[Mapping[str, str]]) -> Tuple[np.ndarray, np.ndarray]:
    n = len(units)
    feats = np.zeros((n, N_UNIT_FEATURES), dtype=np.float32)
    pos = np.array([u.pos for u in units], dtype=np.int64).reshape(n, 2)
    if n == 0:
        return pos, feats
    board = state.board
    xs, ys = pos[:, 0], pos[:, 1]
    battery = np.array([u.cfg.BATTERY_CAPACITY for u in units], dtype=np.float32)
    space = np.array([u.cfg.CARGO_SPACE for u in units], dtype=np.float32)
    power = np.array([u.power for u in units], dtype=np.float32)
    feats[:, 0] = [u.is_heavy for u in units]
    feats[:, 1] = power / battery
    feats[:, 2] = np.array([u.cargo.ice for u in units], dtype=np.float32) / space
    feats[:, 3] = np.array([u.cargo.ore for u in units], dtype=np.float32) / space
    feats[:, 4] = board.ice[xs, ys] > 0
    feats[:, 5] = board.ore[xs, ys] > 0
    own_factory = view_of(state, player).own_factory_tiles
    feats[:, 6] = own_factory[xs, ys]
    padded = pad_border(own_factory, False)
    feats[:, 7] = padded[xs, ys + 1] | padded[xs + 2, ys + 1] | padded[xs + 1, ys] | padded[xs + 1, ys + 2]
    feats[:, 8] = board.rubble[xs, ys] / float(state.cfg.MAX_RUBBLE)
    feats[:, 9] = dist_factory[xs, ys]
    # A robot without a tile of a kind (or without any factory) reads as far from one as the scale goes.
    feats[:, [UNIT_FEATURES.index(name + "_dist") for name, _, _ in TARGET_KINDS]] = 1.0
    if state.factories.get(player):
        home = home_factories(state, player, units, homes)
        feats[:, 10] = np.array([f.cargo.water for f in home], dtype=np.float32) / RESOURCE_SCALE
        feats[:, 11] = np.array([f.power for f in home], dtype=np.float32) / FACTORY_POWER_SCALE
        # Scaled by a heavy's price, not by 1000: whether home can pay for a heavy decides what its robots are
        # for (a heuristic light clears rubble from that much on, strategy.units.RUBBLE_METAL).
        heavy_price = float(state.cfg.ROBOTS["HEAVY"].METAL_COST)
        metal = np.array([f.cargo.metal for f in home], dtype=np.float32)
        feats[:, UNIT_FEATURES.index("home_metal")] = np.minimum(metal / heavy_price, 1.0)
        home_col, column = UNIT_FEATURES.index("home_up"), UNIT_FEATURES.index("ice_up")
        dx, dy, _ = tile_offsets(pos, targets["home"])
        feats[:, home_col:home_col + 4] = _steps_toward_all(dx, dy)
        for name, _, _ in TARGET_KINDS:
            dx, dy, has = tile_offsets(pos, targets[name])
            feats[:, column:column + 4] = _steps_toward_all(dx, dy)
            gap = (np.abs(dx) + np.abs(dy)).astype(np.float32)
            feats[:, column + 4] = np.where(has, np.minimum(gap / TARGET_DISTANCE_SCALE, 1.0), 1.0)
            feats[:, column + 5] = has
            column += 6
    feats[:, 12] = power >= np.array([u.cfg.ACTION_QUEUE_POWER_COST for u in units], dtype=np.float32)
    for i, u in enumerate(units):
        if not u.action_queue:
            feats[i, 13] = 1.0
        else:
            column = _QUEUE_TYPES.get(int(u.action_queue[0][0]))
            if column is not None:
                feats[i, column] = 1.0
    return pos, feats


# Position of each move direction among the four step features.
_STEP_COLUMN = {lux_actions.UP: 0, lux_actions.RIGHT: 1, lux_actions.DOWN: 2, lux_actions.LEFT: 3}
_COLUMN_OF_DIRECTION = np.array([_STEP_COLUMN.get(d, -1) for d in range(5)], dtype=np.int64)  # by direction


def _steps_toward_all(dx: np.ndarray, dy: np.ndarray) -> np.ndarray:
    """`_steps_toward` of every robot at once, from its offsets to its tile [N] (0, 0: on it or without one)."""
    n = len(dx)
    out = np.zeros((n, 4), dtype=np.float32)
    rows = np.arange(n)
    moving_x, moving_y = dx != 0, dy != 0
    # The closer moves along x and along y: 0.5 each; direction_to's move: 1.
    out[rows[moving_x], _COLUMN_OF_DIRECTION[np.where(dx > 0, lux_actions.RIGHT, lux_actions.LEFT)][moving_x]] = 0.5
    out[rows[moving_y], _COLUMN_OF_DIRECTION[np.where(dy > 0, lux_actions.DOWN, lux_actions.UP)][moving_y]] = 0.5
    moving = moving_x | moving_y
    out[rows[moving], _COLUMN_OF_DIRECTION[step_directions(dx, dy)[moving]]] = 1.0
    return out


def _steps_toward(tile: Optional[Tuple[int, int]], pos: np.ndarray) -> np.ndarray:
    """[up, right, down, left]: 1 for direction_to's move toward `tile`, 0.5 for the other closer move."""
    out = np.zeros(4, dtype=np.float32)
    if tile is None:
        return out
    dx, dy = tile[0] - int(pos[0]), tile[1] - int(pos[1])
    if dx:
        out[_STEP_COLUMN[lux_actions.RIGHT if dx > 0 else lux_actions.LEFT]] = 0.5
    if dy:
        out[_STEP_COLUMN[lux_actions.DOWN if dy > 0 else lux_actions.UP]] = 0.5
    if dx or dy:
        out[_STEP_COLUMN[lux_actions.direction_to(pos, np.array(tile))]] = 1.0
    return out
