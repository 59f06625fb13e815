"""`make match`: one full game of our agent with the shipped policy against our agent with the heuristic unit
controller.

    python tools/match.py                      # Kaggle game (48x48, 2-5 factories), seed 0
    python tools/match.py --config neurips --seed 7
    python tools/match.py --opponent path/to/other/main.py

Plays through the official runner (subprocess agents, the real protocol), writes replays/match.html (open it in
a browser) and replays/match.json, and prints the outcome.
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
from typing import Optional, Sequence

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if REPO_ROOT not in sys.path:
    sys.path.insert(0, REPO_ROOT)

from agent import UNIT_CONTROLLER_ENV  # noqa: E402  (the variable agent.py reads)
from train.arena import (  # noqa: E402
    GAME_CONFIGS,
    KAGGLE_TIMING,
    PLAYERS,
    RUNNER_TIMING,
    GameResult,
    agent_with_env,
    play_game,
)


def describe(result: GameResult, names: Sequence[str]) -> str:
    """Human-readable outcome of one game; `names` label player_0 and player_1."""
    if result.winner is None:
        verdict = "draw"
    else:
        verdict = f"winner: {result.winner} ({names[PLAYERS.index(result.winner)]})"
    lines = [f"{result.config} game, seed {result.seed}, {result.steps} steps played, {verdict}"]
    for player, name in zip(PLAYERS, names):
        s = result.players[player]
        lines.append(
            f"  {player} ({name}): lichen {s.lichen}, factories alive {s.factories_alive}, "
            f"ice/ore delivered {s.ice_delivered}/{s.ore_delivered}, errors {s.errors}, "
            f"invalid actions {s.invalid_actions}, turn time mean {s.turn_time_mean_s * 1000:.0f} ms "
            f"max {s.turn_time_max_s * 1000:.0f} ms" + (f", ended by: {s.failure}" if s.failure else "")
        )
    if result.replay_paths:
        lines.append("replays: " + ", ".join(os.path.relpath(p, os.getcwd()) for p in result.replay_paths))
    return "\n".join(lines)


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--config", default="kaggle", choices=sorted(GAME_CONFIGS))
    parser.add_argument("--agent", default=os.path.join(REPO_ROOT, "main.py"), help="player_0's main.py")
    parser.add_argument("--opponent", default=None,
                        help="player_1's main.py (default: our agent with the heuristic unit controller)")
    parser.add_argument("--out", default=os.path.join(REPO_ROOT, "replays", "match"),
                        help="replay path without extension; .html and .json are written")
    parser.add_argument("--kaggle-timing", action="store_true",
                        help="Kaggle's 3 s a turn + 60 s overage instead of the runner's 9 s + 600 s")
    parser.add_argument("--show-stderr", action="store_true", help="print the agents' stderr after the game")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="lux_match_") as scratch:
        agent = args.agent
        if args.opponent is None:
            # player_0 plays the shipped policy (its robots fall back to the heuristic controller without weights).
            agent = agent_with_env(args.agent, {UNIT_CONTROLLER_ENV: "auto"}, os.path.join(scratch, "policy"))
            opponent = agent_with_env(args.agent, {UNIT_CONTROLLER_ENV: "heuristic"}, scratch)
            weights = os.path.join(os.path.dirname(os.path.abspath(args.agent)), "weights", "policy.onnx")
            ours = "trained policy" if os.path.exists(weights) else "no weights yet: heuristic controller"
            names = (ours, "heuristic controller")
        else:
            opponent = args.opponent
            names = (os.path.relpath(args.agent), os.path.relpath(opponent))
        replays = [args.out + ".html", args.out + ".json"]
        timing = KAGGLE_TIMING if args.kaggle_timing else RUNNER_TIMING
        result = play_game(agent, opponent, seed=args.seed, config=args.config, replay_paths=replays,
                           timing=timing)
    print(describe(result, names))
    for player in PLAYERS:
        stats = result.players[player]
        if stats.stderr and (args.show_stderr or stats.errors):
            print(f"--- {player} stderr (last lines) ---\n" + "\n".join(stats.stderr.splitlines()[-30:]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
