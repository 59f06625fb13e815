"""Play one whole game by importing an agent's main.py and calling `agent_fn` as Kaggle's interpreter does.

Run as a script in a fresh interpreter (so the agent sees only its own folder on sys.path):
    python kaggle_driver.py AGENT_DIR SEED MAP_SIZE MIN_FACTORIES MAX_FACTORIES
Kaggle hands `agent_fn` an observation whose `.obs` is the JSON text of the runner's (delta) observation,
plus `.step`, `.player`, `.remainingOverageTime`; `configuration["env_cfg"]` holds the game config.
Prints one JSON line: steps played, agent errors (exceptions or non-dict answers), invalid actions, and
the largest turn time.
"""
import dataclasses
import importlib.util
import json
import sys
import time

import luxai_s2.env
from luxai_runner.utils import to_json
from luxai_s2 import LuxAI_S2


class Struct(dict):
    """Kaggle's observation and configuration objects allow both attribute and item access."""

    __getattr__ = dict.__getitem__


def count_invalid(counter):
    original = luxai_s2.env.validate_actions

    def wrapped(env_cfg, state, actions_by_type, verbose=1):
        valid = original(env_cfg, state, actions_by_type, verbose=0)
        counter[0] += sum(len(v) for v in actions_by_type.values()) - sum(len(v) for v in valid.values())
        return valid

    luxai_s2.env.validate_actions = wrapped


def main() -> None:
    agent_dir, seed, map_size, min_f, max_f = sys.argv[1], int(sys.argv[2]), *map(int, sys.argv[3:6])
    sys.path.insert(0, agent_dir)
    spec = importlib.util.spec_from_file_location("main", agent_dir + "/main.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)

    invalid = [0]
    count_invalid(invalid)
    env = LuxAI_S2(map_size=map_size, MIN_FACTORIES=min_f, MAX_FACTORIES=max_f, verbose=0)
    env.reset(seed=seed)
    configuration = Struct(env_cfg=dataclasses.asdict(env.state.env_cfg), actTimeout=3)
    state_obs = env.state.get_compressed_obs()
    obs_json = json.dumps(to_json(state_obs))
    errors, max_turn, done = 0, 0.0, False
    while not done:
        actions = {}
        for player in ("player_0", "player_1"):
            observation = Struct(obs=obs_json, step=env.env_steps, player=player, remainingOverageTime=60, reward=0)
            start = time.perf_counter()
            try:
                action = module.agent_fn(observation, configuration)
                json.dumps(action)  # Kaggle serialises the answer
            except Exception as exc:  # an agent error is what we count, not a reason to stop
                print("agent_fn raised: %r" % exc, file=sys.stderr)
                action = None
            max_turn = max(max_turn, time.perf_counter() - start)
            if not isinstance(action, dict):
                errors += 1
                action = {}
            actions[player] = action
        new_obs, _, terminations, truncations, _ = env.step(actions)
        obs_json = json.dumps(to_json(env.state.get_change_obs(state_obs)))
        state_obs = new_obs["player_0"]
        done = all(terminations[p] or truncations[p] for p in terminations)
    print(json.dumps(dict(steps=env.state.real_env_steps, errors=errors, invalid=invalid[0], max_turn_s=max_turn,
                          factories={p: len(env.state.factories[p]) for p in env.state.factories})))


if __name__ == "__main__":
    main()
