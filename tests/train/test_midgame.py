"""Mid-game starts: a recorded game (a short one played through the official runner here) replayed to step k
gives the engine the recorded game's state, so its next observation is the recorded one."""
from __future__ import annotations

import json
import os

import numpy as np
import pytest

from lux.observation import ObservationTracker
from train.config import TrainConfig
from train.env import KAGGLE_GAME, LuxGame, make_engine
from train.midgame import MidgameStarts, engine_actions, read_replay, replay_to

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
GAME_STEPS = 12


@pytest.fixture(scope="module")
def replay(tmp_path_factory) -> str:
    """Our agent against itself with the heuristic controller (the agent's default), 12 real steps."""
    from train.arena import play_game

    folder = tmp_path_factory.mktemp("replays")
    path = str(folder / "game.json")
    result = play_game(os.path.join(ROOT, "main.py"), os.path.join(ROOT, "main.py"), seed=3, config="kaggle",
                       replay_paths=[path], max_episode_length=GAME_STEPS)
    assert result.steps == GAME_STEPS and all(p.errors == 0 for p in result.players.values())
    return path


def plain(obs):
    """A full observation as plain JSON values (numpy arrays as lists), without valid_spawns_mask: after the
    placements the runner's deltas leave it out, so the rebuilt observation keeps the setup phase's mask."""
    out = json.loads(json.dumps(obs, default=lambda a: a.tolist() if isinstance(a, np.ndarray) else int(a)))
    out["board"].pop("valid_spawns_mask", None)
    return out


def recorded_observations(path: str):
    with open(path) as f:
        observations = json.load(f)["observations"]
    tracker = ObservationTracker()
    return [plain(tracker.update(o)) for o in observations]


def test_a_replay_is_read_with_its_seed_config_and_setup(replay):
    game = read_replay(replay)
    assert (game.seed, game.game, game.real_steps) == (3, "kaggle", GAME_STEPS)
    with open(replay) as f:
        steps = [o["real_env_steps"] for o in json.load(f)["observations"]]
    assert steps[game.setup_steps] == 0 and all(s < 0 for s in steps[1:game.setup_steps])


@pytest.mark.parametrize("k", [0, 5, GAME_STEPS - 1])
def test_the_next_observation_after_a_mid_game_start_is_the_recorded_one(replay, k):
    game = read_replay(replay)
    recorded = recorded_observations(replay)
    engine = make_engine(KAGGLE_GAME, 1000)
    at_k = replay_to(engine, game, k)
    assert plain(ObservationTracker().update(at_k["player_0"])) == recorded[game.setup_steps + k]
    engine.step(engine_actions(game.actions[game.setup_steps + k]))
    assert plain(ObservationTracker().update(engine.state.get_obs())) == recorded[game.setup_steps + k + 1]


def test_a_training_game_starts_at_a_recorded_state_with_the_configured_share(replay):
    folder = os.path.dirname(replay)
    game = LuxGame(seed=0, max_episode_length=100, midgame=MidgameStarts(folder, share=1.0))
    state = game.reset()
    assert 0 <= game.start_step < GAME_STEPS and state.real_env_steps == game.start_step
    recorded = recorded_observations(replay)[read_replay(replay).setup_steps + game.start_step]
    assert sorted(state.units["player_0"]) == sorted(recorded["units"]["player_0"])
    assert np.array_equal(state.board.rubble, np.array(recorded["board"]["rubble"]))
    state, _ = game.step({})  # the game goes on from there with strategy/'s factories
    assert state.real_env_steps == game.start_step + 1 and game.stats()["start_step"] == game.start_step
    never = LuxGame(seed=0, max_episode_length=100, midgame=MidgameStarts(folder, share=0.0))
    assert never.reset().real_env_steps == 0 and never.start_step == 0


def test_mid_game_starts_need_a_folder_of_replays(tmp_path):
    with pytest.raises(ValueError, match="midgame_share > 0 needs"):
        TrainConfig(midgame_share=0.5).validate()
    with pytest.raises(ValueError, match=r"midgame_share must be in \[0, 1\]"):
        TrainConfig(midgame_share=1.5, midgame_dir=str(tmp_path)).validate()
    with pytest.raises(FileNotFoundError, match="no replay JSON"):
        MidgameStarts(str(tmp_path), 0.5)


def test_training_envs_start_mid_game_and_survive_a_snapshot(replay):
    from train.workers import InProcessEnvPool, build_runners

    cfg = TrainConfig(num_envs=2, max_episode_length=16, opponent="heuristic", midgame_dir=os.path.dirname(replay),
                      midgame_share=1.0).validate()
    pool = InProcessEnvPool(build_runners(cfg, range(cfg.num_envs)))
    obs = pool.reset()
    starts = [r.game.start_step for r in pool.runners]
    assert all(0 <= s < GAME_STEPS for s in starts)
    copy = InProcessEnvPool([])
    copy.restore(pool.snapshot())  # the recorded games are not part of a runner's pickle
    assert [r.game.start_step for r in copy.runners] == starts
    episodes = []
    for _ in range(16):
        results = pool.step([[np.zeros(len(o.keys), dtype=np.int64) for o in env_obs] for env_obs in obs])
        obs = [res.obs for res in results]
        episodes += [res.episode for res in results if res.ended]
        if len(episodes) >= 2:
            break
    assert sorted(ep["start_step"] for ep in episodes[:2]) == sorted(starts)
