import json

import pytest

from tools import compare_evals


def _game(seed, config, seat, winner, ours, theirs):
    other = "player_1" if seat == "player_0" else "player_0"
    return {"seat": seat, "result": {"seed": seed, "config": config, "winner": winner,
                                     "players": {seat: ours, other: theirs}}}


def _player(alive, placed, lichen, ice=100, ore=10, invalid=0, errors=0):
    return {"factories_alive": alive, "factories_placed": placed, "lichen": lichen, "ice_delivered": ice,
            "ore_delivered": ore, "invalid_actions": invalid, "errors": errors}


RESULTS = {"games": [
    _game(0, "kaggle", "player_0", "player_0", _player(2, 2, 900), _player(1, 2, 300)),
    _game(0, "kaggle", "player_1", "player_0", _player(1, 3, 100, invalid=2), _player(3, 3, 800)),
    _game(1, "kaggle", "player_0", "player_0", _player(3, 3, 500), _player(3, 3, 400)),
    _game(0, "neurips", "player_0", "player_1", _player(4, 5, 50), _player(5, 5, 60, ore=99)),
]}


def test_rows_sum_the_agents_side_per_config():
    kaggle, neurips = compare_evals.summarise(RESULTS, "a")
    assert (kaggle["config"], kaggle["games"], kaggle["wins"]) == ("kaggle", 3, 2)
    assert kaggle["factories_alive_share"] == pytest.approx(6 / 8, abs=1e-3)  # summed over games, not averaged
    assert kaggle["opponent_factories_alive_share"] == pytest.approx(7 / 8, abs=1e-3)
    assert (kaggle["lichen"], kaggle["opponent_lichen"], kaggle["invalid_actions"]) == (500, 500, 2)
    assert (neurips["wins"], neurips["opponent_ore_delivered"]) == (0, 99)


def test_seed_filter_and_seed_lists():
    (kaggle, _) = compare_evals.summarise(RESULTS, "a", seeds=[0])
    assert (kaggle["games"], kaggle["wins"]) == (2, 1)
    assert compare_evals.parse_seeds("0-2,7") == [0, 1, 2, 7]


def test_command_line_writes_table_csv_and_plot(tmp_path, capsys):
    path = tmp_path / "results.json"
    path.write_text(json.dumps(RESULTS))
    out_csv, out_png = tmp_path / "rows.csv", tmp_path / "rows.png"
    assert compare_evals.main(["first=%s" % path, "--csv", str(out_csv), "--plot", str(out_png)]) == 0
    table = capsys.readouterr().out
    assert "| first | kaggle | 3 | 2 (0.67) |" in table
    assert out_csv.read_text().count("\n") == 3  # header and two configs
    assert out_png.stat().st_size > 1000
    with pytest.raises(SystemExit):
        compare_evals.main([str(tmp_path / "missing.json")])
