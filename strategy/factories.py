"""Factory actions: build robots when affordable, water lichen only when the water stock allows it."""
from __future__ import annotations

from typing import Dict, List, Optional

from lux.actions import BUILD_HEAVY, BUILD_LIGHT, WATER_LICHEN
from lux.lichen import WateringMap
from lux.state import GameState
from lux.turn import view_of

HEAVIES_PER_FACTORY = 1  # always rebuilt first
LIGHTS_PER_FACTORY = 4  # the workforce: rebuilt before anything else is saved for
# Beyond that: more heavies per factory (they mine ore for the next robots, then ice: water for lichen; and they
# beat any light on our lichen), then more lights, up to these.
MAX_HEAVIES_PER_FACTORY = 4
MAX_LIGHTS_PER_FACTORY = 15
POWER_RESERVE = 100  # left in the factory after building a light, for robots to pick up
WATER_RESERVE = 150  # water kept in stock before any watering (150 steps of upkeep)
ENDGAME_STEPS = 100  # near the end, any water beyond the remaining upkeep can go to lichen


def factory_actions(state: GameState, player: str, allow_watering: bool = True,
                    unit_queues: Optional[Dict[str, List[List[int]]]] = None) -> Dict[str, int]:
    """One action per factory that should act this step (others are left out).

    `unit_queues`: the robot queues sent this step, so that no robot is built onto a centre a robot is moving
    onto (the engine builds before it moves robots, and the two would collide).
    """
    cfg = state.cfg
    heavy, light = cfg.ROBOTS["HEAVY"], cfg.ROBOTS["LIGHT"]
    factories = state.factories.get(player, {})
    units = state.units.get(player, {}).values()
    occupied = view_of(state, player).next_tiles(units, unit_queues)
    n_heavy = sum(u.is_heavy for u in units)
    n_light = sum(not u.is_heavy for u in units)
    steps_left = cfg.max_episode_length - state.real_env_steps
    actions: Dict[str, int] = {}
    watering: Optional[WateringMap] = None  # built on first need
    n = len(factories)
    for fid, f in factories.items():
        # A robot on the centre, or moving onto it, would collide with the new one.
        centre_free = (int(f.pos[0]), int(f.pos[1])) not in occupied
        can_heavy = centre_free and f.cargo.metal >= heavy.METAL_COST and f.power >= heavy.POWER_COST
        can_light = centre_free and f.cargo.metal >= light.METAL_COST and \
            f.power >= light.POWER_COST + POWER_RESERVE
        # Lost robots are replaced first; then metal is saved for a second heavy, then spent on more lights.
        if can_heavy and (n_heavy < HEAVIES_PER_FACTORY * n or
                          (n_light >= LIGHTS_PER_FACTORY * n and n_heavy < MAX_HEAVIES_PER_FACTORY * n)):
            actions[fid] = BUILD_HEAVY
            n_heavy += 1
            continue
        saving_for_heavy = n_heavy < MAX_HEAVIES_PER_FACTORY * n and f.cargo.metal < heavy.METAL_COST
        if can_light and (n_light < LIGHTS_PER_FACTORY * n or
                          (not saving_for_heavy and n_light < MAX_LIGHTS_PER_FACTORY * n)):
            actions[fid] = BUILD_LIGHT
            n_light += 1
            continue
        if allow_watering and state.real_env_steps >= 0:
            # The engine takes upkeep after watering: keep enough for the upkeep still to come.
            upkeep = cfg.FACTORY_WATER_CONSUMPTION * (steps_left + 1)
            reserve = min(WATER_RESERVE, upkeep) if steps_left > ENDGAME_STEPS else upkeep
            if f.cargo.water - 1 <= reserve:
                continue  # even the cheapest watering would dip into the reserve
            if watering is None:
                watering = WateringMap(state.board, cfg.MIN_LICHEN_TO_SPREAD)
            cost = watering.cost(f, cfg.LICHEN_WATERING_COST_FACTOR)
            if cost > 0 and f.cargo.water - cost > reserve:
                actions[fid] = WATER_LICHEN
    return actions
