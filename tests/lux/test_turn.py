"""The per-turn board view: factory tiles, move costs, where our robots go, and who wins a collision where."""
from lux import actions as A
from lux.config import GameConfig
from lux.state import GameState
from lux.turn import view_of
from tests.helpers import boards
from tests.helpers.boards import enemy_robot as enemy


def _state(units, enemy_units=None, rubble=None, factories=None):
    board = boards.empty_board(12)
    for tile, amount in (rubble or {}).items():
        board["rubble"][tile] = amount
    factories = {"factory_0": boards.factory((2, 2))} if factories is None else factories
    obs = boards.observation(board, units, factories, enemy_units=enemy_units)
    return GameState.from_obs(obs, GameConfig(map_size=12))


def test_the_view_is_made_once_per_state_and_player():
    state = _state({"unit_1": boards.robot((6, 6))})
    assert view_of(state, "player_0") is view_of(state, "player_0")
    assert view_of(state, "player_1") is not view_of(state, "player_0")


def test_factory_tiles_centres_and_distances():
    view = view_of(_state({}), "player_0")
    assert view.own_factory_tiles.sum() == 9 and view.own_factory_tiles[1:4, 1:4].all()
    assert view.own_centres == {(2, 2)}
    assert view.factory_at[(3, 1)].unit_id == "factory_0"
    assert view.dist_own_factory()[5, 3] == 2  # from (3, 3), the footprint's corner
    assert not view.enemy_factory_tiles.any()


def test_move_costs_follow_the_rubble():
    view = view_of(_state({}, rubble={(5, 5): 40}), "player_0")
    assert view.move_cost("HEAVY")[5, 5] == 20 + 40 and view.move_cost("HEAVY")[0, 0] == 20
    assert view.move_cost("LIGHT")[5, 5] == 1 + 2  # floor(1 + 0.05 * 40)


def test_next_tiles_hold_the_tile_and_the_queued_move():
    state = _state({"unit_1": boards.robot((6, 6), queue=[A.move(A.RIGHT)]), "unit_2": boards.robot((8, 8))})
    view = view_of(state, "player_0")
    assert view.next_tiles(view.own_units) == {(6, 6), (7, 6), (8, 8)}
    assert view.next_tiles(view.own_units, {"unit_2": [A.move(A.UP)]}) == {(6, 6), (7, 6), (8, 8), (8, 7)}


def test_a_light_standing_still_loses_to_any_enemy_that_can_move_onto_it():
    ours = boards.robot((6, 6), "LIGHT", power=150)
    view = view_of(_state({"unit_1": ours}, {"unit_9": enemy((7, 6), "LIGHT", power=3)}), "player_0")
    unit = view.own_units[0]
    assert view.loses_collision(unit, (6, 6), moving=False)
    # Moving onto a tile the enemy light can also reach: the one with more power after the move wins.
    assert view.enemy_reach.moved_power["LIGHT"][7, 7] == 2
    assert not view.loses_collision(unit, (7, 7), moving=True)  # 149 after our move against 2
    assert not view.loses_collision(unit, (5, 6), moving=True)  # out of its reach
    weak = boards.robot((6, 6), "LIGHT", power=2)
    view = view_of(_state({"unit_1": weak}, {"unit_9": enemy((7, 6), "LIGHT", power=100)}), "player_0")
    assert view.loses_collision(view.own_units[0], (7, 7), moving=True)  # 1 against 99
    assert view.is_safe(unit, (5, 6)) and not view.is_safe(unit, (6, 6))


def test_an_enemy_without_the_power_to_move_is_no_threat():
    view = view_of(_state({"unit_1": boards.robot((6, 6), "LIGHT")}, {"unit_9": enemy((7, 6), "LIGHT", 0)}),
                   "player_0")
    assert not view.loses_collision(view.own_units[0], (6, 6), moving=False)


def test_heavies_beat_lights_and_power_decides_between_movers():
    view = view_of(_state({"unit_1": boards.robot((6, 6), "HEAVY", power=500)},
                          {"unit_9": enemy((8, 6), "HEAVY", power=400), "unit_8": enemy((6, 4), "LIGHT")}),
                   "player_0")
    heavy = view.own_units[0]
    assert not view.loses_collision(heavy, (6, 5), moving=True)  # only a light can get there
    assert not view.loses_collision(heavy, (7, 6), moving=True)  # 480 after our move against 380 after theirs
    assert not view.loses_collision(heavy, (6, 6), moving=False)  # no enemy heavy can reach us here
    view = view_of(_state({"unit_1": boards.robot((7, 7), "HEAVY", power=300)},
                          {"unit_9": enemy((8, 6), "HEAVY", power=400)}), "player_0")
    heavy = view.own_units[0]
    assert view.loses_collision(heavy, (7, 6), moving=True)  # 280 against 380
    assert not view.loses_collision(heavy, (7, 7), moving=False)  # two steps away


def test_our_factory_is_safe_and_dodges_lead_there():
    ours = boards.robot((4, 2), "LIGHT", power=150)  # next to the factory's tile (3, 2)
    view = view_of(_state({"unit_1": ours}, {"unit_9": enemy((5, 2), "LIGHT")}), "player_0")
    unit = view.own_units[0]
    dodges = view.dodges(unit, (4, 2))
    assert dodges[0] == (A.LEFT, (3, 2))  # onto our factory, where no enemy robot can follow
    assert all(view.is_safe(unit, tile) for _, tile in dodges)
    assert view.dodges(unit, (4, 1)) is None  # out of the enemy's reach
    # Moving onto a threatened tile while its own tile is safe: it stays.
    view = view_of(_state({"unit_1": boards.robot((8, 8), "LIGHT")}, {"unit_9": enemy((10, 8), "HEAVY")}),
                   "player_0")
    assert view.dodges(view.own_units[0], (9, 8))[0] == (A.CENTER, (8, 8))


def test_a_copy_of_a_state_gets_its_own_view():
    import dataclasses

    state = _state({"unit_1": boards.robot((6, 6))})
    first = view_of(state, "player_0")
    moved = dataclasses.replace(state, units={"player_0": {}, "player_1": {}})
    assert view_of(moved, "player_0") is not first and view_of(moved, "player_0").own_units == []
