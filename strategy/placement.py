"""Factory placement: score every valid spawn and split the water and metal over the factories."""
from __future__ import annotations

from typing import Dict

import numpy as np

from lux.state import GameState, opponent

from .maps import footprint_distance, manhattan_distance, window_sum

# Weights of the spawn score. Ice next to the factory decides survival (a factory burns 1 water a step), so it
# dominates; ore feeds robot building (its heavies mine it: ore out of their reach, ORE_REACH, is worth nothing,
# and factories placed that way kept 10 metal for a whole game); open flat ground around the factory is room for
# lichen; a factory next to the opponent's gets its robots harassed.
ICE_WEIGHT = 10.0
ORE_WEIGHT = 2.0
ORE_REACH = 14  # ore distances are capped here: lux.resources.MAX_TARGET_DISTANCE plus a step
RUBBLE_WEIGHT = 0.02
LICHEN_ROOM_WEIGHT = 0.05
ENEMY_NEAR_PENALTY = 5.0
CLAIM_RADIUS = 3  # ice this close to a placed factory's footprint is counted as that factory's


def my_turn_to_place(state: GameState, player: str, step: int) -> bool:
    """Players alternate placements after the bid; the winner of the bid (place_first) places on odd steps."""
    team = state.teams.get(player)
    if team is None or team.factories_to_place <= 0:
        return False
    return step % 2 == (1 if team.place_first else 0)


def spawn_scores(state: GameState, player: str) -> np.ndarray:
    """Score of a factory centred on each tile; -inf where placement is not allowed."""
    board = state.board
    ice_dist = footprint_distance(unclaimed(board.ice > 0, board.factory_occupancy != -1)).astype(np.float64)
    ore_dist = np.minimum(footprint_distance(board.ore > 0), ORE_REACH).astype(np.float64)
    rubble_near = window_sum(board.rubble, 3)
    open_ground = (board.rubble == 0) & (board.ice == 0) & (board.ore == 0)
    lichen_room = window_sum(open_ground, 4)
    score = -ICE_WEIGHT * np.minimum(ice_dist, 20) - ORE_WEIGHT * ore_dist
    score += -RUBBLE_WEIGHT * rubble_near + LICHEN_ROOM_WEIGHT * lichen_room
    enemy = np.zeros(board.rubble.shape, dtype=bool)
    for f in state.factories.get(opponent(player), {}).values():
        enemy[f.pos[0], f.pos[1]] = True
    if enemy.any():
        enemy_dist = manhattan_distance(enemy)
        score -= ENEMY_NEAR_PENALTY * np.clip(12 - enemy_dist, 0, None)
    return np.where(board.valid_spawns_mask, score, -np.inf)


def unclaimed(resource: np.ndarray, factory_tiles: np.ndarray) -> np.ndarray:
    """Resource tiles not already within reach of a placed factory (its miners would take them).

    Falls back to all tiles when every one is claimed, so scores still prefer resources over none.
    """
    if not factory_tiles.any():
        return resource
    free = resource & (manhattan_distance(factory_tiles) > CLAIM_RADIUS)
    return free if free.any() else resource


def place_factory(state: GameState, player: str) -> Dict:
    """Best-scored valid spawn, with an even share of what is left of the team's water and metal."""
    team = state.teams.get(player)
    if team is None or team.factories_to_place <= 0:
        return {}
    scores = spawn_scores(state, player)
    if not np.isfinite(scores).any():
        return {}
    x, y = np.unravel_index(int(np.argmax(scores)), scores.shape)
    share = max(team.factories_to_place, 1)
    return {"spawn": [int(x), int(y)], "metal": int(team.metal // share), "water": int(team.water // share)}
