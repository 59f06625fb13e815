"""The training game: engine statistics reach the episode figures."""
from __future__ import annotations

from lux.state import PLAYERS
from strategy.units import HeuristicUnitController
from train.env import LuxGame


def test_ice_transferred_counts_the_ice_robots_hand_to_factories():
    game = LuxGame(seed=3, max_episode_length=200)
    state = game.reset()
    controller = HeuristicUnitController()
    delivered = 0
    over = False
    while not over:
        actions = {p: controller.act(state, p) for p in PLAYERS}
        carried = {p: {u.unit_id: u.cargo.ice for u in state.units.get(p, {}).values()} for p in PLAYERS}
        state, over = game.step(actions)
        for p in PLAYERS:
            for uid, ice in carried[p].items():
                unit = state.units.get(p, {}).get(uid)
                if unit is not None and unit.cargo.ice < ice:
                    delivered += ice - unit.cargo.ice
    stats = game.stats()
    assert delivered > 0, "the heuristic robots should deliver ice within 200 steps"
    assert stats["ice_transferred"] == delivered
