"""Answers to the opponent: interceptors for robots on our lichen, late raids on the enemy's lichen."""
from lux.config import GameConfig
from lux.state import GameState
from lux.tactics import RAID_FROM_STEP, beats, interceptors, lichen_intruders, raid_tiles
from lux.turn import view_of
from tests.helpers import boards
from tests.helpers.boards import enemy_robot as enemy


def _state(units, enemy_units, step=10, our_lichen=(), their_lichen=()):
    board = boards.empty_board(16)
    for tile in our_lichen:
        board["lichen"][tile], board["lichen_strains"][tile] = 50, 0
    for tile in their_lichen:
        board["lichen"][tile], board["lichen_strains"][tile] = 50, 7
    obs = boards.observation(board, units, {"factory_0": boards.factory((2, 2))}, step=step, enemy_units=enemy_units)
    return GameState.from_obs(obs, GameConfig(map_size=16))


def test_intruders_are_enemy_robots_on_our_lichen_or_next_to_our_factory():
    state = _state({}, {"unit_7": enemy((6, 6)), "unit_8": enemy((4, 2)), "unit_9": enemy((12, 12))},
                   our_lichen=[(6, 6)])
    assert [u.unit_id for u in lichen_intruders(view_of(state, "player_0"))] == ["unit_7", "unit_8"]


def test_who_beats_whom():
    state = _state({"h": boards.robot((5, 5), "HEAVY", 100), "l": boards.robot((5, 6), "LIGHT", 100)},
                   {"e": enemy((6, 6), "LIGHT", 50), "f": enemy((6, 7), "HEAVY", 3000)})
    ours, theirs = state.units["player_0"], state.units["player_1"]
    assert beats(ours["h"], theirs["e"]) and beats(ours["l"], theirs["e"])
    assert not beats(ours["l"], theirs["f"]) and not beats(ours["h"], theirs["f"])


def test_the_nearest_robot_that_wins_goes_for_the_intruder():
    state = _state({"unit_1": boards.robot((6, 9), "LIGHT", 150), "unit_2": boards.robot((6, 8), "LIGHT", 20),
                    "unit_3": boards.robot((15, 15), "LIGHT", 150)},
                   {"unit_9": enemy((6, 6), "LIGHT", 30)}, our_lichen=[(6, 6)])
    view = view_of(state, "player_0")
    # unit_2 is nearer but has too little power to win; unit_3 is out of range.
    assert interceptors(view, view.own_units) == {"unit_1": (6, 6)}


def test_raids_start_late_and_take_one_tile_a_light():
    lights = {"unit_1": boards.robot((10, 10), "LIGHT", 150), "unit_2": boards.robot((10, 11), "LIGHT", 150)}
    early = _state(lights, {}, step=RAID_FROM_STEP - 1, their_lichen=[(12, 12), (13, 13)])
    assert raid_tiles(view_of(early, "player_0"), view_of(early, "player_0").own_units) == {}
    late = _state(lights, {}, step=RAID_FROM_STEP, their_lichen=[(12, 12), (13, 13)])
    view = view_of(late, "player_0")
    got = raid_tiles(view, view.own_units)
    assert sorted(got.values()) == [(12, 12), (13, 13)]


def test_a_hunter_keeps_the_power_to_come_home():
    # A heavy three tiles from an intruder next to our factory (footprint x 1-3, y 1-3): the way there and home
    # is 3 + 1 moves at 22, plus two new queues and three digs it keeps (20 + 180).
    def sent(power):
        state = _state({"unit_1": boards.robot((7, 2), "HEAVY", power)}, {"unit_9": enemy((4, 2), "LIGHT", 10)},
                       our_lichen=[(4, 2)])
        view = view_of(state, "player_0")
        return interceptors(view, view.own_units)

    assert sent(4 * 22 + 200) == {"unit_1": (4, 2)}
    assert sent(4 * 22 + 199) == {}
