"""The arena's bookkeeping: winner rule, rejected-action counting, errors, Wilson interval, aggregation."""
from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from train.arena import (
    ArenaEnv,
    GameResult,
    PlayerStats,
    agent_with_env,
    count_rejected,
    counting_invalid_actions,
    play_game,
)
from train.evaluate import markdown_table, parse_seeds, plot_learning_curve, read_curves, summarise, wilson_interval

# A protocol-speaking agent: bids 0, places one factory with METAL metal and WATER water, then asks that
# factory to build a light robot (or do FACTORY_ACTION) on the first BUILD_TURNS real steps. With no metal
# every build is invalid; a FACTORY_ACTION outside 0-2 is malformed; with PLACE false it places nothing. Each
# answer is padded with PAD spaces (valid JSON still).
SCRIPTED_AGENT = textwrap.dedent('''
    import json
    import sys

    METAL, WATER, BUILD_TURNS, CRASH_AT = {metal}, {water}, {build_turns}, {crash_at}
    FACTORY_ACTION, PLACE, PAD = {factory_action}, {place}, {pad}
    placed = not PLACE
    while True:
        line = sys.stdin.readline()
        if not line:
            break
        msg = json.loads(line)
        obs, me, step = msg["obs"], msg["player"], msg["step"]
        if step == CRASH_AT:
            print("scripted crash at step %d" % step, file=sys.stderr)
            sys.exit(1)
        if step == 0:
            out = dict(faction="AlphaStrike", bid=0)
        elif obs["real_env_steps"] < 0:
            placed = placed or len(obs["factories"][me]) > 0
            mask = obs["board"]["valid_spawns_mask"]
            free = [[x, y] for x in range(len(mask)) for y in range(len(mask)) if mask[x][y]]
            out = {{}} if placed else dict(spawn=free[len(free) // 2], metal=METAL, water=WATER)
        else:
            build = obs["real_env_steps"] < BUILD_TURNS
            out = {{fid: FACTORY_ACTION for fid in obs["factories"][me]}} if build else {{}}
        print(json.dumps(out) + " " * PAD, flush=True)
''')


def scripted_agent(folder, metal=150, water=150, build_turns=1, crash_at=-1, factory_action=0, place=True,
                   pad=0) -> str:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "main.py"
    path.write_text(SCRIPTED_AGENT.format(metal=metal, water=water, build_turns=build_turns, crash_at=crash_at,
                                          factory_action=factory_action, place=place, pad=pad))
    return str(path)


def _env_in_game(seed=0) -> ArenaEnv:
    """A Kaggle-size ArenaEnv past bidding and placement, one factory each (player_0's has no metal)."""
    env = ArenaEnv(map_size=48, MIN_FACTORIES=2, MAX_FACTORIES=5, verbose=0)
    env.reset(seed=seed)
    env.step({p: dict(faction="AlphaStrike", bid=0) for p in ("player_0", "player_1")})
    while env.state.real_env_steps < 0:
        mask = env.state.board.valid_spawns_mask
        spawn = np.argwhere(mask)[len(np.argwhere(mask)) // 2]
        metal = 0 if env.state.env_steps % 2 == 1 else 150  # player_0 places first (tied bids)
        placed = {p: len(env.state.factories[p]) > 0 for p in ("player_0", "player_1")}
        env.step({p: {} if placed[p] else dict(spawn=spawn, metal=metal, water=150) for p in placed})
    return env


def test_rejected_factory_builds_are_counted_per_player():
    env = _env_in_game()
    poor = next(iter(env.state.factories["player_0"]))
    rich = next(iter(env.state.factories["player_1"]))
    assert env.state.factories["player_0"][poor].cargo.metal == 0
    with counting_invalid_actions():
        for _ in range(3):
            env.step({"player_0": {poor: 0}, "player_1": {}})  # build light: needs 10 metal
        env.step({"player_0": {}, "player_1": {rich: 0}})  # affordable: not rejected
    assert env.tally.invalid["player_0"] == 3
    assert env.tally.invalid["player_1"] == 0
    assert len(env.state.units["player_1"]) == 1


def test_dig_on_a_factory_is_rejected_each_step_it_stays_queued():
    env = _env_in_game(seed=1)
    rich = next(iter(env.state.factories["player_1"]))
    with counting_invalid_actions():
        env.step({"player_0": {}, "player_1": {rich: 0}})
        unit_id = next(iter(env.state.units["player_1"]))  # built on the factory's centre tile
        assert env.tally.invalid["player_1"] == 0
        env.step({"player_0": {}, "player_1": {unit_id: np.array([[3, 0, 0, 0, 0, 1]])}})  # dig here
        env.step({"player_0": {}, "player_1": {}})  # the rejected dig is not consumed: tried again
    assert env.tally.invalid["player_1"] == 2
    assert env.tally.invalid["player_0"] == 0


def test_the_step_a_side_lost_its_last_robot_is_the_last_time_its_count_fell_to_zero():
    env = _env_in_game(seed=1)
    rich = next(iter(env.state.factories["player_1"]))
    env.step({"player_0": {}, "player_1": {rich: 0}})  # build a light
    assert env.tally.robots["player_1"] == 1
    losses = []
    for _ in range(2):
        (unit,) = env.state.units["player_1"].values()
        env.destroy_unit(unit)  # as a collision would (which also takes it off the board's map)
        env.state.board.units_map[env.state.board.pos_hash(unit.pos)].remove(unit)
        env.step({"player_0": {}, "player_1": {}})
        losses.append(int(env.state.real_env_steps))
        assert env.tally.last_robot_lost["player_1"] == losses[-1]
        env.step({"player_0": {}, "player_1": {rich: 0}})  # another one
        env.step({"player_0": {}, "player_1": {}})
    assert losses == [2, 5]
    assert env.tally.last_robot_lost["player_1"] == 5  # the second loss, though a robot stands again
    assert len(env.tally.robot_ids["player_1"]) == 3 and env.tally.robots["player_1"] == 1  # built 3, 1 alive
    assert "player_0" not in env.tally.last_robot_lost  # it never had a robot


def test_an_answer_longer_than_the_runners_line_limit_is_read(tmp_path):
    # The runner reads answers with a 128 KiB line limit; a longer one would count as an agent error.
    chatty = scripted_agent(tmp_path / "chatty", pad=300_000)
    steady = scripted_agent(tmp_path / "steady")
    result = play_game(chatty, steady, seed=0, config="kaggle", max_episode_length=3)
    assert result.players["player_0"].errors == 0 and result.players["player_0"].failure is None
    assert result.steps == 3


def test_count_rejected_compares_actions_in_and_out():
    class Team:
        def __init__(self, agent):
            self.agent = agent

    class Entity:
        def __init__(self, agent):
            self.team = Team(agent)

    a, b, c = object(), object(), object()
    before = {"move": [(Entity("player_0"), a), (Entity("player_1"), b)], "dig": [(Entity("player_0"), c)]}
    after = {"move": [before["move"][1]]}
    assert count_rejected(before, after) == {"player_0": 2}


def test_play_game_counts_invalid_actions_through_the_runner(tmp_path):
    poor = scripted_agent(tmp_path / "poor", metal=0, water=30, build_turns=5)
    rich = scripted_agent(tmp_path / "rich", metal=150, water=60, build_turns=1)
    result = play_game(poor, rich, seed=2, config="kaggle", replay_paths=[str(tmp_path / "r.json")])
    p0, p1 = result.players["player_0"], result.players["player_1"]
    assert p0.invalid_actions == 5 and p1.invalid_actions == 0
    assert len(p0.rejected_examples) == 5 and p1.rejected_examples == []
    assert all(": factory_build of factory_0 at (" in line for line in p0.rejected_examples), p0.rejected_examples
    assert p0.errors == 0 and p1.errors == 0
    # No ice: the 30-water factory dries up first and its owner loses.
    assert p0.failure == "lost all factories" and p0.factories_alive == 0
    assert result.winner == "player_1" and p1.factories_alive == 1
    assert p0.factories_placed == p1.factories_placed == 1  # a lost factory still counts as placed
    assert result.steps == 31
    assert p0.turns == p1.turns > result.steps and p0.turn_time_max_s >= p0.turn_time_mean_s > 0
    # The dried-up factory was the last: lost at the game's last step. Only the rich side built a robot.
    assert (p0.last_factory_lost_step, p1.last_factory_lost_step) == (31, None)
    assert (p0.robots_alive, p0.robots_built, p1.robots_alive, p1.robots_built) == (0, 0, 1, 1)
    assert p0.last_robot_lost_step is None and p1.last_robot_lost_step is None
    replay = json.loads((tmp_path / "r.json").read_text())
    assert len(replay["observations"]) == p0.turns + 1


def test_play_game_reports_a_crashing_agent_and_its_stderr(tmp_path):
    crashing = scripted_agent(tmp_path / "crash", crash_at=3)
    steady = scripted_agent(tmp_path / "steady")
    result = play_game(steady, crashing, seed=0, config="kaggle")
    assert result.players["player_1"].errors == 1
    assert result.players["player_1"].failure == "agent error"
    assert "scripted crash at step 3" in result.players["player_1"].stderr
    assert result.players["player_0"].errors == 0
    assert result.winner == "player_0"


def test_play_game_reports_a_malformed_action_and_a_missing_factory(tmp_path):
    # validate_action_space=True: the engine rejects the whole turn of an out-of-range factory action.
    malformed = scripted_agent(tmp_path / "malformed", factory_action=9)
    steady = scripted_agent(tmp_path / "steady")
    result = play_game(malformed, steady, seed=4, config="neurips")
    assert result.players["player_0"].failure == "rejected action"
    assert result.players["player_0"].invalid_actions == 1 and result.players["player_0"].errors == 0
    assert result.winner == "player_1" and result.steps == 1
    idle = scripted_agent(tmp_path / "idle", place=False)
    result = play_game(steady, idle, seed=4, config="kaggle")
    assert result.players["player_1"].failure == "placed no factory"
    assert result.winner == "player_0" and result.steps == 1  # judged at the first real step


def test_agent_with_env_runs_the_agent_with_the_variable(tmp_path):
    probe = tmp_path / "probe"
    probe.mkdir()
    (probe / "main.py").write_text("import os\nprint(os.environ.get('LUX_UNIT_CONTROLLER'), os.getcwd())\n")
    wrapper = agent_with_env(str(probe / "main.py"), {"LUX_UNIT_CONTROLLER": "heuristic"}, str(tmp_path / "w"))
    out = subprocess.run([sys.executable, wrapper], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["heuristic", str(probe)]


def test_play_game_rejects_bad_input(tmp_path):
    agent = scripted_agent(tmp_path / "a")
    with pytest.raises(ValueError, match="unknown game config"):
        play_game(agent, agent, seed=0, config="huge")
    with pytest.raises(FileNotFoundError):
        play_game(agent, str(tmp_path / "missing" / "main.py"), seed=0)
    with pytest.raises(ValueError, match=".html or .json"):
        play_game(agent, agent, seed=0, replay_paths=[str(tmp_path / "r.txt")])


def test_wilson_interval_matches_hand_computation():
    # 7 wins of 10, z = 1.96: centre (0.7 + 0.19208) / 1.38416, half 1.96 * sqrt(0.021 + 0.0096040) / 1.38416
    lo, hi = wilson_interval(7, 10)
    assert lo == pytest.approx(0.39677, abs=1e-4)
    assert hi == pytest.approx(0.89222, abs=1e-4)
    assert wilson_interval(0, 20)[0] == 0.0 and 0.16 < wilson_interval(0, 20)[1] < 0.17
    assert wilson_interval(20, 20)[1] == pytest.approx(1.0)
    with pytest.raises(ValueError):
        wilson_interval(11, 10)


def _result(seed, winner, lichen, steps=1000, config="kaggle", alive=(1, 2)) -> GameResult:
    def stats(i):
        return PlayerStats(agent=f"a{i}", score=lichen[i], lichen=lichen[i], factories_alive=alive[i],
                           ice_delivered=100 * (i + 1), ore_delivered=0, errors=0, invalid_actions=i, failure=None,
                           turns=steps + 9, first_turn_s=0.5, turn_time_mean_s=0.01 * (i + 1),
                           turn_time_max_s=0.1 * (i + 1), factories_placed=2)

    return GameResult(seed=seed, config=config, steps=steps, winner=winner,
                      players={"player_0": stats(0), "player_1": stats(1)}, wall_s=1.0)


def test_summarise_reads_each_game_from_the_agents_seat():
    games = [
        ("opp", "player_0", _result(0, "player_0", (300, 100))),
        ("opp", "player_1", _result(0, "player_1", (100, 500))),
        ("opp", "player_0", _result(1, None, (200, 200), steps=640)),
        ("opp", "player_1", _result(1, "player_0", (50, 10), alive=(3, 0))),
    ]
    (row,) = summarise(games)
    assert (row.games, row.wins, row.draws, row.losses) == (4, 2, 1, 1)
    assert row.win_ci == pytest.approx(wilson_interval(2, 4))
    assert row.full_games == 3
    assert row.lichen_mean == pytest.approx((300 + 500 + 200 + 10) / 4)
    assert row.opponent_lichen_mean == pytest.approx((100 + 100 + 200 + 50) / 4)
    assert row.factories_alive_mean == pytest.approx((1 + 2 + 1 + 0) / 4)
    assert row.factories_alive_share == pytest.approx((1 + 2 + 1 + 0) / 2 / 4)  # two placed in every game
    assert row.games_with_factory == 3  # as player_1 in the last game, none was left
    assert row.invalid_actions == 2
    assert row.turn_time_max_s == pytest.approx(0.2)
    table = markdown_table([row])
    assert "| opp | kaggle | 4 | 2/1/1 |" in table
    assert len({line.count("|") for line in table.strip().splitlines()}) == 1


def test_parse_seeds():
    assert parse_seeds("0-3,7") == [0, 1, 2, 3, 7]
    with pytest.raises(ValueError):
        parse_seeds("5-2")


def test_read_curves_keeps_known_metrics_and_skips_blanks(tmp_path):
    log = tmp_path / "metrics.csv"
    log.write_text("global_step,eval/finished_rate,losses/pg,charts/episode_length\n"
                   "100,,0.5,40\n200,0.25,0.4,80\n")
    curves = read_curves(str(log))
    assert list(curves) == ["eval/finished_rate", "charts/episode_length"]
    assert curves["eval/finished_rate"] == ([200.0], [0.25])
    assert curves["charts/episode_length"] == ([100.0, 200.0], [40.0, 80.0])


def test_plot_learning_curve_writes_a_png_next_to_the_log(tmp_path):
    (tmp_path / "metrics.csv").write_text("global_step,eval/factories_alive\n0,1.0\n500,2.5\n")
    out = plot_learning_curve(str(tmp_path))
    assert out == str(tmp_path / "learning_curve.png")
    assert (tmp_path / "learning_curve.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    (tmp_path / "metrics.csv").write_text("step,x\n1,2\n")
    with pytest.raises(ValueError, match="global_step"):
        plot_learning_curve(str(tmp_path))


def test_engine_validation_is_restored_after_counting():
    import luxai_s2.env as engine_env

    original = engine_env.validate_actions
    with counting_invalid_actions():
        assert engine_env.validate_actions is not original
    assert engine_env.validate_actions is original


def test_weights_for_other_features_are_refused_before_any_game(tmp_path, capsys):
    import shutil

    from train.evaluate import REPO_ROOT
    from train.evaluate import main as evaluate_main

    weights = tmp_path / "policy.onnx"
    shutil.copy(f"{REPO_ROOT}/weights/policy.onnx", weights)
    with open(f"{REPO_ROOT}/weights/policy.json") as f:
        meta = json.load(f)
    meta["unit_features"] = meta["unit_features"][:-1]  # exported for a feature set this code does not compute
    (tmp_path / "policy.json").write_text(json.dumps(meta))
    with pytest.raises(SystemExit):
        evaluate_main(["--agent-weights", str(weights), "--seeds", "0", "--configs", "kaggle",
                       "--out", str(tmp_path / "eval")])
    assert "does not match this code" in capsys.readouterr().err
    assert not (tmp_path / "eval" / "results.json").exists()  # no game was played


def test_the_agents_temperature_reaches_its_environment_and_a_negative_one_is_refused(tmp_path, capsys):
    from train.evaluate import REPO_ROOT, TEMPERATURE_ENV, WEIGHTS_ENV, with_weights
    from train.evaluate import main as evaluate_main

    agent = f"{REPO_ROOT}/main.py"
    assert with_weights(agent, None, str(tmp_path / "plain")) == agent  # nothing to set: the agent itself
    wrapper = with_weights(agent, f"{REPO_ROOT}/weights/policy.onnx", str(tmp_path / "hot"), temperature=0.5)
    source = open(wrapper).read()
    assert f"'{TEMPERATURE_ENV}': '0.5'" in source and WEIGHTS_ENV in source
    with pytest.raises(SystemExit):
        evaluate_main(["--agent-temperature", "-1", "--seeds", "0", "--configs", "kaggle",
                       "--out", str(tmp_path / "eval")])
    assert "the agent's temperature must be a number >= 0, got -1.0" in capsys.readouterr().err
    assert not (tmp_path / "eval" / "results.json").exists()
