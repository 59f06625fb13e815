from lux.rules import FAILED_SCORE, decide_winner


def test_decide_winner_follows_engine_scores():
    assert decide_winner({"player_0": 120, "player_1": 80}) == "player_0"
    assert decide_winner({"player_0": FAILED_SCORE, "player_1": 0}) == "player_1"
    assert decide_winner({"player_0": 55, "player_1": 55}) is None
    assert decide_winner({"player_0": FAILED_SCORE, "player_1": FAILED_SCORE}) is None
