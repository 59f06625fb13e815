"""Lux AI Season 2 protocol: one JSON observation line in, one JSON action line out; Kaggle's `agent_fn`.

Nothing but protocol lives here: strategy is in agent.py. Debug output goes to stderr only. A malformed
line or an error inside the agent is logged and answered with no actions (always valid); the loop ends at EOF.
"""
import json
import os
import sys
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
if HERE not in sys.path:
    sys.path.insert(0, HERE)
# An optionally vendored onnxruntime (build_submission.sh --with-onnxruntime); used only if it imports.
if os.path.isdir(os.path.join(HERE, "vendor")):
    sys.path.append(os.path.join(HERE, "vendor"))

from agent import Agent  # noqa: E402
from lux.observation import ObservationTracker  # noqa: E402

_agents = {}
_trackers = {}
_env_cfgs = {}


def _get(obj, name, default=None):
    """Kaggle passes attribute objects, the local loop passes dicts."""
    if isinstance(obj, dict):
        return obj.get(name, default)
    return getattr(obj, name, default)


def _plain(value):
    """Actions as plain JSON types (numpy integers are not serialisable)."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if hasattr(value, "tolist"):
        return _plain(value.tolist())
    return value


def agent_fn(observation, configurations):
    """Kaggle's entry point: `observation.obs` is the JSON text of the (delta) observation."""
    try:
        step = int(_get(observation, "step"))
        player = str(_get(observation, "player"))
        overage = float(_get(observation, "remainingOverageTime", 60.0) or 60.0)
        obs = _get(observation, "obs")
        if isinstance(obs, str):
            obs = json.loads(obs)
        env_cfg = _get(configurations, "env_cfg") if configurations is not None else None
        if env_cfg:
            _env_cfgs[player] = env_cfg
        if step == 0 or player not in _agents:
            _agents[player] = Agent(player, _env_cfgs.get(player) or {})
            _trackers[player] = ObservationTracker()
        full = _trackers[player].update(obs)
        agent = _agents[player]
        if step == 0 or full["real_env_steps"] < 0:
            actions = agent.early_setup(step, full, overage)
        else:
            actions = agent.act(step, full, overage)
        return _plain(actions)
    except Exception:
        print("agent_fn failed; answering with no actions:\n" + traceback.format_exc(), file=sys.stderr, flush=True)
        return {}


class _Observation(dict):
    __getattr__ = dict.get


def main():
    for line in sys.stdin:
        line = line.strip()
        if not line:
            continue
        try:
            message = json.loads(line)
            if not isinstance(message, dict):
                raise ValueError("expected a JSON object")
            info = message.get("info") or {}
            observation = _Observation(obs=message["obs"], step=message["step"], player=message["player"],
                                       remainingOverageTime=message.get("remainingOverageTime", 60.0))
            actions = agent_fn(observation, {"env_cfg": info.get("env_cfg")})
        except Exception:
            print("malformed input line; answering with no actions:\n" + traceback.format_exc(),
                  file=sys.stderr, flush=True)
            actions = {}
        sys.stdout.write(json.dumps(actions) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
