"""The ladder: its report from a hand-written JSON, resuming, per-game writes, agent versions, skipped partners,
a real game."""
from __future__ import annotations

import json
import os
import re
import subprocess

import pytest

from tools import ladder
from tools.ladder import (
    GAME_FIELDS,
    Task,
    agent_version_of,
    game_key,
    load_games,
    pairs,
    plan,
    report,
    run_ladder,
    summarise,
    versions_newest_first,
)

V = "abc1234"  # the agent version of the hand-written games
RECORDED = "2026-01-02T03:04:05+00:00"


def _game(opponent="bot40", config="kaggle", seed=0, seat="player_0", controller="policy", result="win",
          lichen=1000, opponent_lichen=500, robots=10, robot_lost=None, factory_lost=None, agent_version=V,
          recorded=RECORDED, **extra):
    game = dict(opponent=opponent, config=config, seed=seed, seat=seat, controller=controller,
                agent_version=agent_version, result=result, agent_errors=0, agent_invalid_actions=0, lichen=lichen,
                opponent_lichen=opponent_lichen, factories_alive=2, opponent_factories_alive=3, robots_alive=robots,
                opponent_robots_alive=20, last_robot_lost_step=robot_lost, last_factory_lost_step=factory_lost,
                max_turn_s=0.5, mean_turn_s=0.1, steps=1000, recorded=recorded)
    game.update(extra)
    return {name: game[name] for name in GAME_FIELDS}


HAND_WRITTEN = [
    _game(seed=0, seat="player_0", result="win", lichen=1000, robots=10),
    _game(seed=0, seat="player_1", result="loss", lichen=200, robots=0, robot_lost=640, max_turn_s=1.5),
    _game(seed=1, seat="player_0", result="draw", lichen=0, robots=4, agent_invalid_actions=3),
    _game(seed=1, seat="player_1", result="loss", lichen=600, robots=2, factory_lost=800, steps=800),
    # the same seeds and seats with the heuristic controller: the first pair won only by the policy
    _game(seed=0, seat="player_0", controller="heuristic", result="loss", lichen=300),
    _game(seed=0, seat="player_1", controller="heuristic", result="win", lichen=900),
    _game(opponent="kit", config="neurips", result="win", lichen=50),  # no heuristic twin: not paired
]


def test_the_report_from_a_hand_written_json_counts_each_group(tmp_path):
    path = tmp_path / "ladder.json"
    path.write_text(json.dumps({"games": HAND_WRITTEN}))
    assert ladder.main(["--report-only", "--out", str(path)]) == 0
    text = (tmp_path / "ladder.md").read_text()
    summary_part = text.split("## Summary")[1].split("## Policy")[0]
    summary = [line for line in summary_part.splitlines() if line.startswith(f"| {V} | bot40 | kaggle | policy |")]
    # 1 win of 4: Wilson 95% interval 0.046-0.699 (centre (0.25 + 0.4802) / 1.9604, half 0.3269)
    assert summary == [f"| {V} | bot40 | kaggle | policy | 4 | 1/1/2 | 0.25 (0.05-0.70) | 450 (500) | 2.0 (3.0) "
                       "| 4.0 (20.0) | 1/4 | 1/4 | 0 | 3 | 0.100 / 1.500 |"]
    assert f"| {V} | bot40 | kaggle | heuristic | 2 | 1/0/1 | 0.50 (0.09-0.91) |" in text
    assert f"| {V} | kit | neurips | policy | 1 | 1/0/0 | 1.00 (0.21-1.00) |" in text
    # paired: 2 pairs; the policy won seed 0 as player_0, the heuristic seed 0 as player_1
    assert f"| {V} | bot40 | kaggle | 2 | 1/0/1 | 1/0/1 | 1 | 1 | 600 / 600 |" in text
    assert f"| {V} | bot40 | kaggle | 0 | player_1 | loss / win | 200 / 900 | 500 / 500 | 0 / 10 |" in text
    assert f"| {V} | kit | neurips | 1 |" not in text
    # the games table: one row per game, steps lost shown, '-' for never
    assert (f"| {V} | bot40 | kaggle | policy | 0 | player_1 | loss | 1000 | 200 (500) | 2 (3) | 0 (20) | 640 | - |"
            in text)
    assert (f"| {V} | bot40 | kaggle | policy | 1 | player_1 | loss | 800 | 600 (500) | 2 (3) | 2 (20) | - | 800 |"
            in text)
    assert f"- `{V}` (newest): 7 games, last game recorded {RECORDED}." in text  # the header names the version
    game_rows = [line for line in text.split("## Games")[1].splitlines() if line.startswith(f"| {V} |")]
    assert len(game_rows) == len(HAND_WRITTEN)
    for block in text.split("\n\n"):  # every table: as many cells in each row as in its header
        rows = [line for line in block.splitlines() if line.startswith("|")]
        assert len({line.count("|") for line in rows}) <= 1, block


def test_summary_rows_follow_the_opponents_order_and_refuse_an_unknown_result():
    rows = summarise([_game(opponent="heuristic"), _game(opponent="bot15"), _game(opponent="kit")])
    assert [r.opponent for r in rows] == ["bot15", "kit", "heuristic"]
    with pytest.raises(ValueError, match="unknown result"):
        summarise([_game(result="won")])
    assert "## Policy against heuristic controller" not in report([_game()])


def test_plan_pairs_controllers_and_keeps_neurips_to_the_opponents_that_play_it():
    tasks = plan(["bot15", "heuristic", "kit"], ["kaggle", "neurips"], [3], ["policy", "heuristic"], V)
    assert tasks[:2] == [Task("kit", "kaggle", 3, "player_0", "policy", V),
                         Task("kit", "kaggle", 3, "player_0", "heuristic", V)]
    assert [t.opponent for t in tasks if t.config == "neurips"] == ["kit"] * 4 + ["heuristic"] * 4
    assert tasks[-1].opponent == "bot15" and len(tasks) == 4 * 2 + 4 * 2 + 4  # the slow bot last
    done = {tasks[0].key(), tasks[5].key()}
    assert plan(["bot15", "heuristic", "kit"], ["kaggle", "neurips"], [3], ["policy", "heuristic"], V, done) == \
        [t for i, t in enumerate(tasks) if i not in (0, 5)]
    # the same games done by another version are still to play
    assert plan(["bot15", "heuristic", "kit"], ["kaggle", "neurips"], [3], ["policy", "heuristic"], "other",
                done) == [Task(*t.key()[:5], "other") for t in tasks]


def fake_play(job):
    """Plays nothing: a win with the seed as lichen, so a test can tell which games were played."""
    task = job[0]
    return task, _game(task.opponent, task.config, task.seed, task.seat, task.controller, lichen=task.seed,
                       agent_version=task.agent_version), []


def test_resume_plays_only_the_games_missing_from_the_json(tmp_path):
    path = tmp_path / "ladder.json"
    kept = _game("heuristic", seed=1, seat="player_1", lichen=12345)
    path.write_text(json.dumps({"games": [kept]}))
    played = []

    def play(job):
        played.append(job[0])
        return fake_play(job)

    games = run_ladder(str(path), ["heuristic"], ["kaggle"], [0, 1], ["policy"], play=play, log=lambda _: None,
                       agent_version=V)
    assert sorted((t.seed, t.seat) for t in played) == [(0, "player_0"), (0, "player_1"), (1, "player_0")]
    assert len(games) == 4 and kept in games  # the recorded game is kept as it was, not replayed
    assert load_games(str(path)) == sorted(games, key=lambda g: (g["seed"], g["seat"]))
    assert set(json.loads(path.read_text())) == {"games"}
    assert f"| {V} | heuristic | kaggle | policy | 4 | 4/0/0 |" in (tmp_path / "ladder.md").read_text()
    played.clear()
    run_ladder(str(path), ["heuristic"], ["kaggle"], [0, 1], ["policy"], play=play, log=lambda _: None,
               agent_version=V)
    assert played == []  # nothing left to play


def test_each_game_is_written_as_it_finishes_so_an_interruption_keeps_the_finished_ones(tmp_path):
    path = tmp_path / "ladder.json"
    played = []

    def play(job):
        if len(played) == 2:
            raise KeyboardInterrupt
        played.append(job[0])
        return fake_play(job)

    with pytest.raises(KeyboardInterrupt):
        run_ladder(str(path), ["heuristic"], ["kaggle"], [0, 1], ["policy"], play=play, log=lambda _: None,
                   agent_version=V)
    assert [game_key(g) for g in load_games(str(path))] == [t.key() for t in played]
    assert not os.path.exists(str(path) + ".partial")


def test_a_game_that_fails_is_logged_and_left_for_the_next_run(tmp_path):
    path = tmp_path / "ladder.json"
    lines = []

    def play(job):
        task = job[0]
        if task.seat == "player_1":
            return task, None, ["game failed: RuntimeError: runner"]
        return fake_play(job)

    run_ladder(str(path), ["heuristic"], ["kaggle"], [0], ["policy"], play=play, log=lines.append, agent_version=V)
    assert [g["seat"] for g in load_games(str(path))] == ["player_0"]
    assert any("not recorded" in line for line in lines) and any("RuntimeError: runner" in line for line in lines)


def test_missing_sparring_partners_are_skipped_with_the_setup_command(tmp_path):
    sparring = tmp_path / "sparring"
    (sparring / "bot40").mkdir(parents=True)
    (sparring / "bot40" / "main_stdio.py").write_text("")  # no build/agent.out: cannot start
    (sparring / "bot76" / "src").mkdir(parents=True)
    (sparring / "bot76" / "src" / "main.py").write_text("")
    lines = []
    games = run_ladder(str(tmp_path / "ladder.json"), ["bot15", "bot40", "bot76", "heuristic"], ["kaggle", "neurips"],
                       [0], ["policy"], sparring_dir=str(sparring), play=fake_play, log=lines.append)
    assert sorted({g["opponent"] for g in games}) == ["bot76", "heuristic"]
    assert {(g["opponent"], g["config"]) for g in games} == {("bot76", "kaggle"), ("heuristic", "kaggle"),
                                                             ("heuristic", "neurips")}
    skipped = [line for line in lines if line.startswith("skipping")]
    assert len(skipped) == 2 and all(f"setup.sh GITDIRS {sparring}" in line for line in skipped), skipped
    assert "build/agent.out" in skipped[1]
    assert any("bot76 plays only kaggle: no neurips games" in line for line in lines)
    with pytest.raises(FileNotFoundError, match="none of the opponents"):
        run_ladder(str(tmp_path / "ladder.json"), ["bot15"], ["kaggle"], [0], ["policy"], sparring_dir=str(sparring),
                   play=fake_play, log=lambda _: None)


def test_bad_requests_are_refused(tmp_path, capsys):
    with pytest.raises(ValueError, match="workers"):
        run_ladder(str(tmp_path / "l.json"), ["heuristic"], ["kaggle"], [0], ["policy"], workers=3, play=fake_play)
    with pytest.raises(SystemExit):
        ladder.main(["--workers", "3", "--out", str(tmp_path / "l.json")])
    assert "--workers must be 1-2" in capsys.readouterr().err
    (tmp_path / "other.json").write_text(json.dumps({"summary": []}))
    with pytest.raises(SystemExit):
        ladder.main(["--report-only", "--out", str(tmp_path / "other.json")])
    assert "not a ladder JSON" in capsys.readouterr().err


def test_a_game_of_another_version_is_replayed_and_kept_while_one_of_the_same_version_is_skipped(tmp_path):
    path = tmp_path / "ladder.json"
    old = [_game("heuristic", seed=0, seat=seat, lichen=777, agent_version="old1234",
                 recorded="2026-01-01T00:00:00+00:00") for seat in ("player_0", "player_1")]
    same = _game("heuristic", seed=0, seat="player_1", lichen=12345, agent_version="new5678")
    path.write_text(json.dumps({"games": old + [same]}))
    played = []

    def play(job):
        played.append(job[0])
        return fake_play(job)

    games = run_ladder(str(path), ["heuristic"], ["kaggle"], [0], ["policy"], play=play, log=lambda _: None,
                       agent_version="new5678")
    assert played == [Task("heuristic", "kaggle", 0, "player_0", "policy", "new5678")]
    assert len(games) == 4 and all(g in games for g in old + [same])  # the older version's games stay
    assert sorted(game_key(g) for g in load_games(str(path))) == sorted(game_key(g) for g in games)
    text = (tmp_path / "ladder.md").read_text()
    summary_part = text.split("## Summary")[1].split("## Games")[0]
    summary = [line for line in summary_part.splitlines() if line.startswith("| ")][1:]  # less the header
    # one row per version, the one recorded last first
    assert [line.split(" | ")[0] for line in summary] == ["| new5678", "| old1234"]
    assert "| new5678 | heuristic | kaggle | policy | 2 | 2/0/0 |" in text
    assert "| old1234 | heuristic | kaggle | policy | 2 | 2/0/0 |" in text
    assert "- `new5678` (newest): 2 games" in text and "- `old1234`: 2 games" in text


def test_games_are_paired_only_within_one_version_and_versions_order_by_their_last_record():
    policy_old = _game(agent_version="old", recorded="2026-01-01T00:00:00+00:00")
    heuristic_new = _game(controller="heuristic", agent_version="new", recorded="2026-02-01T00:00:00+00:00")
    assert pairs([policy_old, heuristic_new]) == []
    policy_new = _game(agent_version="new", recorded="2026-01-15T00:00:00+00:00")
    assert pairs([policy_old, heuristic_new, policy_new]) == [(policy_new, heuristic_new)]
    assert versions_newest_first([policy_old, heuristic_new, policy_new]) == ["new", "old"]
    # a version with a record time comes before the ones recorded without it
    assert versions_newest_first([_game(agent_version="untimed", recorded=None), policy_old]) == ["old", "untimed"]
    rows = summarise([policy_old, heuristic_new, policy_new])
    assert [(r.agent_version, r.controller) for r in rows] == [("new", "policy"), ("new", "heuristic"),
                                                               ("old", "policy")]


def test_records_without_a_version_load_as_unknown(tmp_path):
    legacy = {name: value for name, value in _game().items() if name not in ("agent_version", "recorded")}
    path = tmp_path / "ladder.json"
    path.write_text(json.dumps({"games": [legacy]}))
    (game,) = load_games(str(path))
    assert tuple(game) == GAME_FIELDS and game["agent_version"] == "unknown" and game["recorded"] is None
    assert "- `unknown` (newest): 1 games, recorded before record times were kept." in report([game])
    path.write_text(json.dumps({"games": [{k: v for k, v in legacy.items() if k != "lichen"}]}))
    with pytest.raises(ValueError, match="lacks lichen"):
        load_games(str(path))


def _git(repo, *args):
    subprocess.run(["git", "-C", str(repo), "-c", "user.name=ladder", "-c", "user.email=ladder@example.com",
                    "-c", "commit.gpgsign=false", *args], check=True, capture_output=True)


def test_the_version_is_the_agents_commit_with_dirty_for_uncommitted_changes(tmp_path, monkeypatch):
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))  # no repository above tmp_path counts
    repo = tmp_path / "agent"
    repo.mkdir()
    main_py = repo / "main.py"
    main_py.write_text("print('v1')\n")
    (repo / "ladder.json").write_text('{"games": []}\n')
    _git(repo, "init", "-q")
    _git(repo, "add", "main.py", "ladder.json")
    _git(repo, "commit", "-q", "-m", "agent")
    commit = subprocess.run(["git", "-C", str(repo), "rev-parse", "--short", "HEAD"], capture_output=True,
                            text=True, check=True).stdout.strip()
    assert agent_version_of(str(main_py)) == commit
    (repo / "notes.txt").write_text("untracked files do not count\n")
    assert agent_version_of(str(main_py)) == commit
    # the ladder's own outputs, rewritten by every run, do not make the agent dirty when they are ignored
    (repo / "ladder.json").write_text('{"games": [1]}\n')
    assert agent_version_of(str(main_py), ignore=[str(repo / "ladder.json")]) == commit
    assert agent_version_of(str(main_py)) == commit + "+dirty"
    main_py.write_text("print('v2')\n")
    assert agent_version_of(str(main_py), ignore=[str(repo / "ladder.json")]) == commit + "+dirty"
    # the version run_ladder records when none is given
    games = run_ladder(str(tmp_path / "out" / "ladder.json"), ["heuristic"], ["kaggle"], [0], ["policy"],
                       agent=str(main_py), play=fake_play, log=lambda _: None)
    assert {g["agent_version"] for g in games} == {commit + "+dirty"}


def test_outside_git_the_version_is_unknown_and_can_be_given(tmp_path, monkeypatch):
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))
    main_py = tmp_path / "copy" / "main.py"
    main_py.parent.mkdir()
    main_py.write_text("")
    assert agent_version_of(str(main_py)) == "unknown"
    seen = {}

    def fake_run_ladder(*args, **kwargs):
        seen.update(kwargs)
        return []

    monkeypatch.setattr(ladder, "run_ladder", fake_run_ladder)
    assert ladder.main(["--agent", str(main_py), "--agent-version", "copy-2", "--out",
                        str(tmp_path / "l.json")]) == 0
    assert seen["agent_version"] == "copy-2"


def _check_recorded(games, opponent, steps):
    assert len(games) == 2 and {g["seat"] for g in games} == {"player_0", "player_1"}
    for game in games:
        assert tuple(game) == GAME_FIELDS
        # this repository's commit (it may move while the test runs: only the form is checked)
        assert re.fullmatch(r"[0-9a-f]{7,40}(\+dirty)?|unknown", game["agent_version"]), game["agent_version"]
        assert game["recorded"].endswith("+00:00")
        assert (game["opponent"], game["config"], game["seed"], game["controller"]) == (opponent, "kaggle", 0,
                                                                                         "policy")
        assert game["result"] in ("win", "draw", "loss") and game["steps"] == steps
        assert game["agent_errors"] == 0 and game["agent_invalid_actions"] == 0
        assert game["factories_alive"] >= 2 and game["opponent_factories_alive"] >= 2  # nobody dries up so soon
        assert game["robots_alive"] >= 1 and game["opponent_robots_alive"] >= 1
        assert game["last_robot_lost_step"] is None and game["last_factory_lost_step"] is None
        assert game["lichen"] >= 0 and game["opponent_lichen"] >= 0
        assert 0 < game["mean_turn_s"] <= game["max_turn_s"] < 9


def test_a_short_game_against_our_heuristic_controller_is_recorded_with_every_field(tmp_path):
    path = tmp_path / "ladder.json"
    games = run_ladder(str(path), ["heuristic"], ["kaggle"], [0], ["policy"], max_episode_length=6,
                       log=lambda _: None)
    _check_recorded(games, "heuristic", steps=6)
    assert load_games(str(path)) == games
    assert all(g["lichen"] > 0 and g["opponent_lichen"] > 0 for g in games)  # both water lichen from the start


KIT = os.path.join(ladder.SPARRING_DIR, "kit", "kits", "python", "main.py")


@pytest.mark.skipif(not os.path.isfile(KIT), reason="the starter kit is not set up under /tmp/sparring")
def test_a_short_game_against_the_kit_is_recorded_with_every_field(tmp_path):
    games = run_ladder(str(tmp_path / "ladder.json"), ["kit"], ["kaggle"], [0], ["policy"], max_episode_length=6,
                       log=lambda _: None)
    _check_recorded(games, "kit", steps=6)


def test_each_game_gets_its_own_replay_path_when_replays_are_asked_for(tmp_path):
    jobs = []

    def play(job):
        jobs.append(job)
        return fake_play(job)

    replays = tmp_path / "replays"
    run_ladder(str(tmp_path / "ladder.json"), ["heuristic"], ["kaggle"], [0], ["policy"], play=play,
               log=lambda _: None, agent_version="abc+dirty", replay_dir=str(replays))
    paths = {job[0].seat: job[4] for job in jobs}
    assert replays.is_dir()
    assert paths == {seat: str(replays / f"heuristic_kaggle_seed0_{seat}_policy_abc_dirty.json")
                     for seat in ("player_0", "player_1")}
    jobs.clear()
    run_ladder(str(tmp_path / "other.json"), ["heuristic"], ["kaggle"], [0], ["policy"], play=play,
               log=lambda _: None, agent_version=V)
    assert [job[4] for job in jobs] == [None, None]
