"""Factory actions: robots are built only onto a free centre, and watering never starves a factory."""
import numpy as np
import pytest

from lux import actions as A
from lux.actions import BUILD_HEAVY, BUILD_LIGHT, WATER_LICHEN
from lux.config import GameConfig
from lux.state import GameState
from strategy import factories as F
from strategy.factories import factory_actions
from tests.game import KAGGLE, play

N = 16
CENTRE = (8, 8)


def make_state(water=0, metal=0, power=0, step=10, units=None, max_episode_length=1000):
    cfg = GameConfig.from_dict({"max_episode_length": max_episode_length})
    zeros = np.zeros((N, N), dtype=np.int64)
    factory = {"unit_id": "factory_0", "team_id": 0, "strain_id": 0, "pos": list(CENTRE), "power": power,
               "cargo": {"ice": 0, "ore": 0, "water": water, "metal": metal}}
    obs = {"board": dict(rubble=zeros, ice=zeros, ore=zeros, lichen=zeros, lichen_strains=zeros - 1,
                         factories_per_team=1),
           "units": {"player_0": units or {}, "player_1": {}},
           "factories": {"player_0": {"factory_0": factory}, "player_1": {}},
           "teams": {}, "real_env_steps": step}
    return GameState.from_obs(obs, cfg)


def light_at(pos, uid="unit_5"):
    return {uid: {"unit_id": uid, "team_id": 0, "unit_type": "LIGHT", "pos": list(pos), "power": 50,
                  "cargo": {"ice": 0, "ore": 0, "water": 0, "metal": 0}, "action_queue": []}}


def test_builds_a_heavy_first_then_lights():
    assert factory_actions(make_state(metal=200, power=1000), "player_0") == {"factory_0": BUILD_HEAVY}
    heavy = light_at((0, 0))
    heavy["unit_5"]["unit_type"] = "HEAVY"
    state = make_state(metal=200, power=1000, units=heavy)
    assert factory_actions(state, "player_0") == {"factory_0": BUILD_LIGHT}


def test_never_builds_onto_a_robot_on_the_centre():
    # The engine would put the new robot on the same tile: both would be destroyed in the collision.
    assert factory_actions(make_state(metal=200, power=1000, units=light_at(CENTRE)), "player_0") == {}
    beside = light_at((CENTRE[0] + 1, CENTRE[1]))
    assert factory_actions(make_state(metal=200, power=1000, units=beside), "player_0") == {"factory_0": BUILD_HEAVY}


def test_never_builds_onto_a_robot_moving_onto_the_centre():
    above = light_at((CENTRE[0], CENTRE[1] - 1))  # on the factory's top edge, one move from the centre
    state = make_state(metal=200, power=1000, units=above)
    assert factory_actions(state, "player_0") == {"factory_0": BUILD_HEAVY}
    down = {"unit_5": [A.move(A.DOWN)]}
    assert factory_actions(state, "player_0", unit_queues=down) == {}
    # A queued move it already has counts too; a move away does not.
    above["unit_5"]["action_queue"] = [A.move(A.DOWN)]
    assert factory_actions(make_state(metal=200, power=1000, units=above), "player_0") == {}
    assert factory_actions(state, "player_0", unit_queues={"unit_5": [A.move(A.UP)]}) == {"factory_0": BUILD_HEAVY}


def test_keeps_power_for_robots_when_building_lights():
    heavy = light_at((0, 0))
    heavy["unit_5"]["unit_type"] = "HEAVY"
    light_cost = GameConfig().ROBOTS["LIGHT"].POWER_COST
    state = make_state(metal=200, power=light_cost, units=heavy)
    assert factory_actions(state, "player_0") == {}


@pytest.mark.parametrize("water, waters", [(F.WATER_RESERVE, False), (F.WATER_RESERVE + 50, True)])
def test_mid_game_watering_keeps_a_reserve(water, waters):
    # An empty board around the factory: watering reaches the 12 tiles next to it, costing 2 water.
    acts = factory_actions(make_state(water=water), "player_0")
    assert (acts.get("factory_0") == WATER_LICHEN) is waters
    assert "factory_0" not in factory_actions(make_state(water=water + 50), "player_0", allow_watering=False)


@pytest.mark.parametrize("water, waters", [(7, False), (8, False), (9, True)])
def test_last_steps_water_only_what_the_remaining_upkeep_spares(water, waters):
    # 5 steps left: 6 more water of upkeep (this step's included); watering costs 2.
    state = make_state(water=water, step=995)
    assert (factory_actions(state, "player_0").get("factory_0") == WATER_LICHEN) is waters


def test_watering_in_the_last_steps_never_starves_a_factory_in_the_engine():
    """Real engine: with little water left near the end, factories water what they can and all survive."""
    steps, squeeze_at = 120, 95
    watered = []
    alive = {}

    def count(env, states, actions):
        if states["player_0"].real_env_steps > squeeze_at:
            watered.extend(a for p in actions.values() for a in p.values() if isinstance(a, int) and a == WATER_LICHEN)

    env = None
    for env, step in play(seed=5, game=KAGGLE, steps=steps, on_step=count):
        if step == squeeze_at:
            # Leave every factory just over the upkeep to the end, and stop ice income so the margin is real.
            env.state.board.map.ice[:] = 0
            for player, factories in env.state.factories.items():
                for factory in factories.values():
                    factory.cargo.water = (steps - step) + 12
                    factory.cargo.ice = 0
                for unit in env.state.units[player].values():
                    unit.cargo.ice = 0
                alive[player] = set(factories)
    assert env is not None and env.state.real_env_steps == steps
    assert watered, "no factory watered: the test did not exercise the rule"
    for player, ids in alive.items():
        assert set(env.state.factories[player]) == ids
        assert all(f.cargo.water >= 0 for f in env.state.factories[player].values())


def robots(lights, heavies):
    out = {}
    for i in range(lights + heavies):
        uid = "unit_%d" % (10 + i)
        out.update(light_at((0, i), uid))
        if i >= lights:
            out[uid]["unit_type"] = "HEAVY"
    return out


def test_lost_robots_are_rebuilt_then_metal_is_saved_for_a_second_heavy_then_spent_on_lights():
    # Below the workforce (LIGHTS_PER_FACTORY lights): a light whenever one can be paid.
    few = robots(F.LIGHTS_PER_FACTORY - 1, 1)
    assert factory_actions(make_state(metal=20, power=1000, units=few), "player_0") == {"factory_0": BUILD_LIGHT}
    # A full workforce and one heavy: metal is saved for the second heavy, which is built once it is there.
    full = robots(F.LIGHTS_PER_FACTORY, 1)
    assert factory_actions(make_state(metal=60, power=1000, units=full), "player_0") == {}
    assert factory_actions(make_state(metal=100, power=1000, units=full), "player_0") == {"factory_0": BUILD_HEAVY}
    # With the heavies there, more lights, up to MAX_LIGHTS_PER_FACTORY.
    two_heavies = robots(F.LIGHTS_PER_FACTORY, F.MAX_HEAVIES_PER_FACTORY)
    assert factory_actions(make_state(metal=20, power=1000, units=two_heavies), "player_0") == {
        "factory_0": BUILD_LIGHT}
    crowded = robots(F.MAX_LIGHTS_PER_FACTORY, F.MAX_HEAVIES_PER_FACTORY)
    assert factory_actions(make_state(metal=500, power=5000, units=crowded), "player_0") == {}
