"""The one move resolver: our robots never end a step on one tile; a robot waits for the one ahead to move."""
from lux.moves import Mover, TileClaims, place_movers


def test_a_robot_follows_the_one_ahead_of_it():
    # a at (0, 0) moves right onto b's tile; b at (1, 0) moves right onto a free tile. Listed a first, a still
    # gets its tile once b is known to leave.
    claims = TileClaims({(0, 0): "a", (1, 0): "b"})
    chosen = place_movers(claims, [Mover("a", (0, 0), [("R", (1, 0))]), Mover("b", (1, 0), [("R", (2, 0))])])
    assert chosen == {"b": "R", "a": "R"}
    assert claims.reserved == {(1, 0), (2, 0)}


def test_a_tile_kept_by_a_robot_that_stays_is_never_taken():
    claims = TileClaims({(0, 0): "a", (1, 0): "b"})
    claims.place("b", (1, 0), (1, 0))
    chosen = place_movers(claims, [Mover("a", (0, 0), [("R", (1, 0))], [("D", (0, 1))])])
    assert chosen == {"a": "D"}  # the side-step, tried only once the wanted step stays blocked


def test_two_movers_for_one_tile_and_a_robot_left_without_one():
    claims = TileClaims({(0, 0): "a", (2, 0): "b"})
    chosen = place_movers(claims, [Mover("a", (0, 0), [("R", (1, 0))]), Mover("b", (2, 0), [("L", (1, 0))])])
    assert chosen == {"a": "R", "b": None}  # the first claims it; the second stays and keeps its own tile
    assert claims.reserved == {(1, 0), (2, 0)}
