"""Heavy roles: which heavy of a home brings ice, mines ore or guards."""
from lux.config import GameConfig
from lux.roles import GUARD, ICE, OPENING_ORE_WATER, ORE, ORE_HEAVY_METAL, ORE_UNTIL_STEP, heavy_roles, step_roles
from lux.state import GameState
from tests.helpers import boards


def _three_heavies(metal, water=200):
    """Our factory at (2, 2) holding `metal` and `water`, three heavies of ours beside it (unit_1..unit_3)."""
    heavies = {"unit_%d" % i: boards.robot((4, i + 3), "HEAVY", power=2000) for i in (1, 2, 3)}
    obs = boards.observation(boards.empty_board(16), heavies,
                             {"factory_0": boards.factory((2, 2), metal=metal, water=water)}, step=100)
    state = GameState.from_obs(obs, GameConfig(map_size=16))
    units = list(state.units["player_0"].values())
    return units, [state.factories["player_0"]["factory_0"]] * len(units)


def test_a_homes_heavies_bring_ice_then_ore_while_metal_is_short_then_guard():
    assert heavy_roles(*_three_heavies(metal=0)) == {"unit_1": ICE, "unit_2": ORE, "unit_3": GUARD}
    assert heavy_roles(*_three_heavies(metal=ORE_HEAVY_METAL))["unit_2"] == ICE  # metal enough: ice
    assert heavy_roles(*_three_heavies(metal=0, water=50))["unit_2"] == ICE  # water short: ice first
    # Late in the game no heavy mines ore: the first two bring ice.
    assert heavy_roles(*_three_heavies(metal=0), mine_ore=False) == {"unit_1": ICE, "unit_2": ICE, "unit_3": GUARD}
    assert step_roles(*_three_heavies(metal=0), step=ORE_UNTIL_STEP - 1)["unit_2"] == ORE
    assert step_roles(*_three_heavies(metal=0), step=ORE_UNTIL_STEP)["unit_2"] == ICE


def test_a_homes_only_heavy_mines_ore_for_the_second_while_water_lasts():
    def role(metal, water, ore_carried=0):
        heavy = boards.robot((4, 4), "HEAVY", power=2000, ore=ore_carried)
        obs = boards.observation(boards.empty_board(16), {"unit_1": heavy},
                                 {"factory_0": boards.factory((2, 2), metal=metal, water=water)}, step=20)
        state = GameState.from_obs(obs, GameConfig(map_size=16))
        home = state.factories["player_0"]["factory_0"]
        return heavy_roles(list(state.units["player_0"].values()), [home])["unit_1"]

    assert role(metal=10, water=OPENING_ORE_WATER) == ORE
    assert role(metal=10, water=OPENING_ORE_WATER - 1) == ICE  # water first
    assert role(metal=100, water=500) == ICE  # the second heavy is paid for
    assert role(metal=10, water=500, ore_carried=450) == ICE  # ... by the ore it carries
