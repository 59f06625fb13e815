import re

from lux import actions as A
from tests.strategy.test_units import light_home_state
from tools import target_agreement as ta


def _light_step(metal: int):
    from magma_policy.features import target_tiles, unit_order
    from strategy.units import HeuristicUnitController

    state = light_home_state(metal)
    controller = HeuristicUnitController()
    plans = controller.plan(state, "player_0")
    units = unit_order(state, "player_0")
    return state, controller, plans, units, target_tiles(state, "player_0", units)


def test_intentions_name_the_goal_and_the_wanted_step():
    _, controller, _, _, _ = _light_step(100)  # the light walks down to the rubble at (6, 12)
    assert controller.intentions() == ({"unit_5": (6, 12)}, {"unit_5": A.DOWN})
    _, controller, _, _, _ = _light_step(0)  # ... or right to the ore at (9, 8)
    assert controller.intentions() == ({"unit_5": (9, 8)}, {"unit_5": A.RIGHT})


def test_a_walk_to_the_feature_tile_counts_as_agreeing():
    state, controller, plans, units, targets = _light_step(100)
    out = ta.Agreement()
    ta.tally(state.board, units, targets, *controller.intentions(), plans, out)
    assert out.walks == {("light", "rubble"): 1} and out.same_tile == {("light", "rubble"): 1}
    assert (out.moves, out.along_a_feature, out.changed_by_collisions) == (1, 1, 0)


def test_another_tile_a_missing_step_and_a_changed_plan_are_counted_apart():
    state, controller, plans, units, targets = _light_step(100)
    goals, wanted = controller.intentions()
    out = ta.Agreement()
    elsewhere = dict(targets, rubble=[(2, 2)])  # a feature tile up and to the left: not where it walks
    stay = {"unit_5": A.recharge(150)}  # as if collision resolution had made it wait
    ta.tally(state.board, units, elsewhere, goals, wanted, stay, out)
    assert out.walks == {("light", "rubble"): 1} and out.same_tile[("light", "rubble")] == 0
    assert targets["home"][0] == (5, 8) and targets["ore"][0] == (9, 8)  # first steps LEFT and RIGHT
    assert out.along_a_feature == 0  # it wants DOWN; the features' first steps are LEFT, RIGHT and UP
    assert out.changed_by_collisions == 1
    nothing = {k: [None] for k in ta.KINDS}
    none_out = ta.Agreement()
    ta.tally(state.board, units, nothing, goals, wanted, plans, none_out)
    assert (none_out.moves, none_out.along_a_feature, none_out.same_tile[("light", "rubble")]) == (1, 0, 0)


def test_command_line_reports_a_short_game(capsys):
    assert ta.main(["--seeds", "0", "--configs", "kaggle", "--max-steps", "60", "--every", "2"]) == 0
    out = capsys.readouterr().out
    found = re.search(r"moves wanted: (\d+); along the first step toward a feature tile: (\d+)", out)
    assert found and 0 < int(found.group(2)) <= int(found.group(1))
    assert "| heavy | ice |" in out or "| light | ore |" in out
