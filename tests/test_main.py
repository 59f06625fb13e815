"""main.py speaks the protocol: malformed lines are answered with no actions and never end the loop."""
import json
import subprocess
import sys
from pathlib import Path

import main

REPO = Path(__file__).resolve().parents[1]


def test_malformed_lines_are_answered_until_eof():
    lines = ["not json", "[1, 2]", json.dumps({"step": 0}), json.dumps({"obs": {}, "step": 3, "player": "player_0"})]
    run = subprocess.run([sys.executable, str(REPO / "main.py")], input="\n".join(lines) + "\n",
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == 0
    answers = run.stdout.strip().splitlines()
    assert answers == ["{}"] * len(lines)
    assert "malformed" in run.stderr or "failed" in run.stderr


def test_agent_fn_survives_a_broken_observation():
    class Obs:
        obs = "{\"board\": 5}"
        step = 0
        player = "player_1"
        remainingOverageTime = 60

    assert main.agent_fn(Obs(), {"env_cfg": None}) == {}


def test_plain_turns_numpy_values_into_json_types():
    import numpy as np

    out = main._plain({"unit_1": [np.array([0, 1, 0, 0, 0, 1])], "factory_2": np.int64(1)})
    assert json.loads(json.dumps(out)) == {"unit_1": [[0, 1, 0, 0, 0, 1]], "factory_2": 1}
