"""Env workers: subprocess and in-process pools agree; rewards line up with the units acted on."""
from __future__ import annotations

import numpy as np
import pytest

from tests.train import stub_policy
from train.config import TrainConfig
from train.workers import InProcessEnvPool, SubprocessEnvPool, build_runners


@pytest.fixture(autouse=True)
def stub(monkeypatch):
    stub_policy.install(monkeypatch)


def cfg(**kw):
    values = dict(num_envs=3, num_steps=4, max_episode_length=6, num_workers=2, seed=5)
    values.update(kw)
    return TrainConfig(**values).validate()


def play(pool, steps, rng):
    obs = pool.reset()
    trace = []
    for _ in range(steps):
        actions = [[rng.integers(0, 6, size=len(o.keys)) for o in env_obs] for env_obs in obs]
        results = pool.step(actions)
        for env_obs, res in zip(obs, results):
            assert [len(r) for r in res.rewards] == [len(o.keys) for o in env_obs]
        trace.append([(res.ended, [r.tolist() for r in res.rewards], [o.keys.tolist() for o in res.obs])
                      for res in results])
        obs = [res.obs for res in results]
    return trace


def test_subprocess_pool_matches_in_process():
    c = cfg()
    local = play(InProcessEnvPool(build_runners(c, range(c.num_envs))), 8, np.random.default_rng(0))
    pool = SubprocessEnvPool(build_runners(c, range(c.num_envs)), 2)
    try:
        remote = play(pool, 8, np.random.default_rng(0))
    finally:
        pool.close()
    assert local == remote
    # Games of 6 steps end (and restart) inside 8 steps.
    assert any(ended for step in local for ended, _, _ in step)


def test_snapshot_restore_continues_identically():
    c = cfg(num_workers=1)
    pool = InProcessEnvPool(build_runners(c, range(2)))
    obs = pool.reset()
    blob = pool.snapshot()
    actions = [[np.zeros(len(o.keys), dtype=np.int64) for o in env_obs] for env_obs in obs]
    first = pool.step(actions)
    pool.restore(blob)
    second = pool.step(actions)
    for a, b in zip(first, second):
        assert [r.tolist() for r in a.rewards] == [r.tolist() for r in b.rewards]
        for oa, ob in zip(a.obs, b.obs):
            np.testing.assert_array_equal(oa.map_planes, ob.map_planes)


def test_heuristic_opponent_has_one_learning_seat_alternating():
    c = cfg(opponent="heuristic", max_episode_length=2)
    runner = build_runners(c, [0])[0]
    seats = []
    runner.reset()
    for _ in range(3):
        seats.append(tuple(runner.seats))
        res = runner.step([np.zeros(len(runner.unit_ids[runner.seats[0]]), dtype=np.int64)])
        while not res.ended:
            res = runner.step([np.zeros(len(runner.unit_ids[runner.seats[0]]), dtype=np.int64)])
    assert seats == [("player_0",), ("player_1",), ("player_0",)]


def test_wrong_action_count_is_a_clear_error():
    runner = build_runners(cfg(), [0])[0]
    obs = runner.reset()
    with pytest.raises(ValueError, match="actions for"):
        runner.step([np.zeros(len(obs[0].keys) + 1, dtype=np.int64), np.zeros(len(obs[1].keys), dtype=np.int64)])


def test_separated_keys_follow_units_and_global_mode_has_one_key():
    runner = build_runners(cfg(max_episode_length=20), [0])[0]
    obs = runner.reset()
    for _ in range(3):  # factories build robots on the first steps
        obs = runner.step([np.zeros(len(o.keys), dtype=np.int64) for o in obs]).obs
    ids = list(runner.unit_ids["player_0"])
    assert len(ids) >= 2 and len(set(obs[0].keys.tolist())) == len(ids)
    nxt = runner.step([np.zeros(len(o.keys), dtype=np.int64) for o in obs]).obs
    now = dict(zip(runner.unit_ids["player_0"], nxt[0].keys.tolist()))
    kept = [(u, k) for u, k in zip(ids, obs[0].keys.tolist()) if u in now]
    assert kept and all(now[u] == k for u, k in kept)
    glob = build_runners(cfg(mode="global", max_episode_length=20), [0])[0]
    obs = glob.reset()
    for _ in range(3):
        obs = glob.step([np.zeros(len(o.keys), dtype=np.int64) for o in obs]).obs
    assert len(obs[0].keys) >= 2 and set(obs[0].keys.tolist()) == {0}


def test_global_mode_gives_every_unit_the_team_reward():
    runner = build_runners(cfg(mode="global", max_episode_length=30, reward_death=-1.0), [0])[0]
    obs = runner.reset()
    checked = 0
    for _ in range(12):
        res = runner.step([np.random.default_rng(1).integers(0, 6, size=len(o.keys)) for o in obs])
        for r in res.rewards:
            if len(r) > 1:
                assert np.all(r == r[0])
                checked += 1
        obs = res.obs
    assert checked > 0


def test_dead_worker_is_a_clear_error():
    c = cfg()
    pool = SubprocessEnvPool(build_runners(c, range(2)), 2)
    try:
        pool.reset()
        pool.procs[1].kill()
        pool.procs[1].join()
        with pytest.raises(RuntimeError, match="env worker 1 exited unexpectedly"):
            pool.step([[np.zeros(0, dtype=np.int64)] * 2] * 2)
    finally:
        pool.close()


def _set_lichen(state, player, amount, corner):
    """Put `amount` lichen of the player's first strain on one corner tile (replacing all lichen there)."""
    strain = state.teams[player].factory_strains[0]
    state.board.lichen_strains[corner] = strain
    state.board.lichen[corner] = amount


def test_games_against_the_heuristic_report_the_learning_seats_result():
    runner = build_runners(cfg(opponent="heuristic", max_episode_length=2), [0])[0]
    runner.reset()
    res = runner.step([np.zeros(len(runner.unit_ids[runner.seats[0]]), dtype=np.int64)])
    while not res.ended:
        res = runner.step([np.zeros(len(runner.unit_ids[runner.seats[0]]), dtype=np.int64)])
    assert res.episode["learner_result"] in (0.0, 0.5, 1.0)
    assert 0.0 <= res.episode["learner_lichen_share"] <= 1.0

    state = runner.game.state
    me, other = runner.learn_seat, "player_1" if runner.learn_seat == "player_0" else "player_0"
    state.board.lichen[:] = 0
    state.board.lichen_strains[:] = -1
    assert runner._learner_result(state) == {"learner_result": 0.5, "learner_lichen_share": 0.5}
    _set_lichen(state, me, 30, (0, 0))
    _set_lichen(state, other, 10, (0, 1))
    assert runner._learner_result(state) == {"learner_result": 1.0, "learner_lichen_share": 0.75}
    _set_lichen(state, other, 50, (0, 1))
    assert runner._learner_result(state)["learner_result"] == 0.0
    # Without a factory the learner loses, whatever its lichen.
    _set_lichen(state, other, 10, (0, 1))
    state.factories[me] = {}
    assert runner._learner_result(state)["learner_result"] == 0.0


def test_self_play_games_have_no_learner_result():
    runner = build_runners(cfg(opponent="selfplay", max_episode_length=2), [0])[0]
    runner.reset()
    res = None
    while res is None or not res.ended:
        res = runner.step([np.zeros(len(runner.unit_ids[p]), dtype=np.int64) for p in runner.seats])
    assert "learner_result" not in res.episode and "ice_transferred" in res.episode
