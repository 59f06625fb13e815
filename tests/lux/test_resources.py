from __future__ import annotations

from lux import actions as A
from lux.config import GameConfig
from lux.resources import MAX_TARGET_DISTANCE, RUBBLE, RUBBLE_DISTANCE, ResourceTiles, target_tiles
from lux.state import GameState
from tests.helpers import boards


def _state(ice_tiles, rubble_tiles=(), robot=(10, 10), n=24) -> GameState:
    """One factory at (5, 5), one heavy at `robot`, ice and rubble where given."""
    board = boards.empty_board(n)
    for t in ice_tiles:
        board["ice"][t] = 1
    for t in rubble_tiles:
        board["rubble"][t] = 20
    obs = boards.observation(board, {"unit_1": boards.robot(robot)}, {"factory_0": boards.factory((5, 5))})
    return GameState.from_obs(obs, GameConfig(map_size=n))


def test_nearest_orders_by_distance_to_home_then_to_the_robot_and_skips_claimed_tiles():
    # (8, 5) and (5, 8) are both 2 from the footprint; (8, 5) is nearer the robot at (10, 6). (12, 12) is further.
    state = _state([(12, 12), (5, 8), (8, 5)], robot=(10, 6))
    unit, home = state.units["player_0"]["unit_1"], state.factories["player_0"]["factory_0"]
    tiles = ResourceTiles(state.board)
    assert tiles.nearest(unit, home, A.ICE) == (8, 5)
    tiles.claim((8, 5))
    assert not tiles.is_free((8, 5), A.ICE) and tiles.is_free((5, 8), A.ICE)
    assert tiles.nearest(unit, home, A.ICE) == (5, 8)
    tiles.claim((5, 8))
    assert tiles.nearest(unit, home, A.ICE) == (12, 12)
    tiles.claim((12, 12))
    assert tiles.nearest(unit, home, A.ICE) is None
    assert tiles.nearest(unit, home, A.ORE) is None  # no ore at all


def test_tiles_too_far_from_home_are_not_targets():
    far = 6 + 1 + MAX_TARGET_DISTANCE  # footprint edge at x = 6: this tile is MAX_TARGET_DISTANCE + 1 away
    state = _state([(far, 5)])
    unit, home = state.units["player_0"]["unit_1"], state.factories["player_0"]["factory_0"]
    assert ResourceTiles(state.board).nearest(unit, home, A.ICE) is None
    state = _state([(far - 1, 5)])
    assert ResourceTiles(state.board).nearest(unit, home, A.ICE) == (far - 1, 5)


def test_rubble_targets_are_bare_rubble_close_to_home():
    # Rubble on ice is not a rubble target (digging it is mining); rubble beyond RUBBLE_DISTANCE is too far.
    far = 6 + 1 + RUBBLE_DISTANCE  # footprint edge at x = 6
    state = _state(ice_tiles=[(8, 5)], rubble_tiles=[(8, 5), (far, 5), (9, 5)])
    unit, home = state.units["player_0"]["unit_1"], state.factories["player_0"]["factory_0"]
    tiles = ResourceTiles(state.board)
    assert tiles.nearest(unit, home, RUBBLE) == (9, 5)
    tiles.claim((9, 5))
    assert tiles.nearest(unit, home, RUBBLE) is None


def test_the_enemys_lichen_near_home_is_room_to_clear_and_ours_is_not():
    # Enemy lichen (strain 1) at (8, 5), ours (strain 0) at (5, 8), both 2 from the footprint; rubble at (10, 5).
    board = boards.empty_board(24)
    board["lichen"][8, 5], board["lichen_strains"][8, 5] = 60, 1
    board["lichen"][5, 8], board["lichen_strains"][5, 8] = 60, 0
    board["rubble"][10, 5] = 20
    obs = boards.observation(board, {"unit_1": boards.robot((10, 10))}, {"factory_0": boards.factory((5, 5))})
    obs["teams"]["player_1"]["factory_strains"] = [1]
    state = GameState.from_obs(obs, GameConfig(map_size=24))
    unit, home = state.units["player_0"]["unit_1"], state.factories["player_0"]["factory_0"]
    tiles = ResourceTiles(state.board, enemy_strains=[1])
    assert tiles.nearest(unit, home, RUBBLE) == (8, 5)
    tiles.claim((8, 5))
    assert tiles.nearest(unit, home, RUBBLE) == (10, 5)  # our own lichen is never a target
    assert ResourceTiles(state.board).nearest(unit, home, RUBBLE) == (10, 5)  # without the enemy's strains
    assert target_tiles(state, "player_0", [unit])["rubble"] == [(8, 5)]  # the enemy's strains from the state


def test_with_ore_heavies_first_the_ore_heavy_claims_the_ore_nearest_home_before_any_light():
    # Ore at (8, 5) (2 from the footprint) and (12, 5) (6 from it). A light (unit_1, the lower id) and the home's
    # only heavy (unit_2), which mines ore while the home has water to spare and no second heavy is paid for.
    board = boards.empty_board(24)
    board["ore"][8, 5] = board["ore"][12, 5] = 10
    robots = {"unit_1": boards.robot((10, 10), "LIGHT"), "unit_2": boards.robot((10, 11), "HEAVY")}

    def ore_tiles(water, first=True):
        return _ore_tiles(board, robots, boards.factory((5, 5), water=water), first)

    assert ore_tiles(water=200) == {"unit_2": (8, 5), "unit_1": (12, 5)}  # the heavy mines ore: first pick
    assert ore_tiles(water=50) == {"unit_1": (8, 5), "unit_2": (12, 5)}  # it brings ice: lights pick first
    assert ore_tiles(water=200, first=False) == {"unit_1": (8, 5), "unit_2": (12, 5)}  # the default: lights first


def test_the_ore_heavys_first_pick_is_near_home_unless_home_has_power_to_spare():
    from lux.roles import FAR_ORE_POWER, HEAVY_ORE_RANGE

    far = 6 + 1 + HEAVY_ORE_RANGE  # footprint edge at x = 6: one tile beyond a heavy's reach
    board = boards.empty_board(24)
    board["ore"][far, 5] = 10
    robots = {"unit_1": boards.robot((10, 10), "LIGHT"), "unit_2": boards.robot((10, 11), "HEAVY")}

    def ore_tiles(power):
        return _ore_tiles(board, robots, boards.factory((5, 5), water=200, power=power))

    assert ore_tiles(power=1000) == {"unit_1": (far, 5), "unit_2": None}
    assert ore_tiles(power=FAR_ORE_POWER) == {"unit_2": (far, 5), "unit_1": None}


def _ore_tiles(board, robots, factory, ore_heavies_first=True):
    """Robot id -> its ore target (24x24 board, step 20, one factory of ours)."""
    obs = boards.observation(board, robots, {"factory_0": factory}, step=20)
    state = GameState.from_obs(obs, GameConfig(map_size=24))
    units = list(state.units["player_0"].values())
    found = target_tiles(state, "player_0", units, ore_heavies_first=ore_heavies_first)["ore"]
    return dict(zip([u.unit_id for u in units], found))
