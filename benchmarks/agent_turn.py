"""One agent turn of the trained policy on one core: encode + inference + decode, printed as a table.

Real boards (48 and 64) after factory placement, with ~50 or ~200 synthetic robots of ours and a few enemy
robots on free tiles; the policy in --weights, or an untrained network exported to a temporary folder. For
each runtime (onnxruntime, numpy executor): p50 and p99 of PolicyRuntime.act, and the start-up time of
load_policy; the same for the features and masks alone ("(encode)" rows; the trainer's workers run them too).
Then the network's size: parameters, MFLOP per forward on a 48x48 map, and torch forward+backward for a batch
of 64 maps.
Usage: python benchmarks/agent_turn.py [--turns 60] [--weights weights/policy.onnx]
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from functools import partial

# One core for the agent's numpy; set before numpy loads its BLAS.
for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(var, "1")
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import dataclasses  # noqa: E402

import numpy as np  # noqa: E402

from lux.config import GameConfig  # noqa: E402
from lux.state import Cargo, GameState, Unit  # noqa: E402


def placed_board(map_size: int, seed: int) -> GameState:
    """A real board after bidding and placement (each factory on the first valid spawn with most ice nearby)."""
    from luxai_s2 import LuxAI_S2

    game = dict(map_size=48, MIN_FACTORIES=2, MAX_FACTORIES=5) if map_size == 48 else {}
    env = LuxAI_S2(verbose=0, validate_action_space=False, **game)
    obs, _ = env.reset(seed=seed)
    cfg = GameConfig.from_dict(dataclasses.asdict(env.state.env_cfg))
    obs, *_ = env.step({p: {"faction": "AlphaStrike", "bid": 0} for p in env.agents})
    step = 1
    while env.state.real_env_steps < 0:
        actions = {}
        for p in env.agents:
            s = GameState.from_obs(obs[p], cfg)
            team = s.teams[p]
            if team.factories_to_place > 0 and team.place_first == (step % 2 == 1):
                spawns = np.argwhere(s.board.valid_spawns_mask)
                ice = np.pad(s.board.ice > 0, 3)
                best = spawns[int(np.argmax([ice[x: x + 7, y: y + 7].sum() for x, y in spawns]))]
                actions[p] = {"spawn": [int(best[0]), int(best[1])], "metal": 150, "water": 150}
            else:
                actions[p] = {}
        obs, *_ = env.step(actions)
        step += 1
    return GameState.from_obs(obs["player_0"], cfg)


def with_robots(state: GameState, n_own: int, n_enemy: int, seed: int) -> GameState:
    """The state with synthetic robots on distinct free tiles (not on factories), some heavy, some busy."""
    rng = np.random.RandomState(seed)
    free = np.argwhere(state.board.factory_occupancy < 0)
    tiles = free[rng.choice(len(free), n_own + n_enemy, replace=False)]
    units = {"player_0": {}, "player_1": {}}
    for i, pos in enumerate(tiles):
        player = "player_0" if i < n_own else "player_1"
        kind = "HEAVY" if rng.rand() < 0.3 else "LIGHT"
        cfg = state.cfg.ROBOTS[kind]
        queue = [[3, 0, 0, 0, 0, 5]] if rng.rand() < 0.3 else []
        units[player]["unit_%d" % (i + 10)] = Unit(
            unit_id="unit_%d" % (i + 10), team_id=int(player[-1]), unit_type=kind, pos=pos.astype(np.int64),
            power=int(rng.randint(0, cfg.BATTERY_CAPACITY)), cargo=Cargo(ice=int(rng.randint(0, cfg.CARGO_SPACE))),
            action_queue=queue, cfg=cfg)
    return dataclasses.replace(state, units=units, real_env_steps=120)


def time_calls(call, turns: int):
    """p50 and p99 in ms of `call()` over `turns` calls, after one warm-up call (a game's first turn also fills
    the features' distance-map cache)."""
    call()
    times = []
    for _ in range(turns):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return np.percentile(times, 50) * 1000, np.percentile(times, 99) * 1000


def network_figures() -> None:
    import torch

    from magma_policy.network import PolicyNet, count_parameters

    torch.set_num_threads(2)
    net = PolicyNet().eval()
    flops = [0]

    def count(module, inputs, output):
        if isinstance(module, torch.nn.Conv2d):
            k = module.kernel_size[0] * module.kernel_size[1] * module.in_channels // module.groups
            flops[0] += 2 * output.numel() * k
        elif isinstance(module, torch.nn.Linear):
            flops[0] += 2 * output.numel() * module.in_features

    hooks = [m.register_forward_hook(count) for m in net.modules() if isinstance(m, (torch.nn.Conv2d,))]
    from magma_policy.actions import N_ACTIONS
    from magma_policy.features import N_GLOBAL_FEATURES, N_MAP_CHANNELS, N_UNIT_FEATURES

    def batch(b: int, units_per_map: int):
        n = b * units_per_map
        return (torch.rand(b, N_MAP_CHANNELS, 48, 48), torch.rand(b, N_GLOBAL_FEATURES),
                torch.arange(b).repeat_interleave(units_per_map), torch.randint(0, 48, (n, 2)),
                torch.rand(n, N_UNIT_FEATURES), torch.ones(n, N_ACTIONS, dtype=torch.bool))

    with torch.no_grad():
        net(*batch(1, 0))
    for h in hooks:
        h.remove()
    args = batch(64, 20)
    times = []
    for _ in range(6):
        net.zero_grad()
        start = time.perf_counter()
        logits, value, gvalue = net(*args)
        (logits.clamp(min=-10).mean() + value.mean() + gvalue.mean()).backward()
        times.append(time.perf_counter() - start)
    print("\nnetwork (channels=%d, blocks=%d): %d parameters, %.1f MFLOP (conv trunk) per forward on 48x48"
          % (net.cfg.channels, net.cfg.blocks, count_parameters(net), flops[0] / 1e6))
    print("torch forward+backward, batch of 64 maps 48x48 (20 robots each), 2 threads: median %.0f ms"
          % (np.median(times[1:]) * 1000))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--turns", type=int, default=60)
    parser.add_argument("--no-torch", action="store_true", help="skip the network figures (needs torch)")
    parser.add_argument("--weights", default=None,
                        help="time this policy (e.g. weights/policy.onnx) instead of an untrained default-size one")
    args = parser.parse_args()

    from magma_policy.features import encode
    from magma_policy.runtime import load_policy

    if args.weights:
        path = args.weights
    else:
        tmp = tempfile.mkdtemp()
        path = os.path.join(tmp, "policy.onnx")
        import subprocess

        # Export in a child process, so torch is never loaded in the process that times the agent.
        code = "from magma_policy.export import export_untrained; export_untrained(%r)" % path
        subprocess.run([sys.executable, "-c", code], check=True, stderr=subprocess.DEVNULL,
                       cwd=os.path.dirname(os.path.dirname(__file__)) or ".")
    print("weights: %s" % (args.weights or "an untrained network of the default size"))

    backends = []
    try:
        import onnxruntime  # noqa: F401

        backends.append("onnxruntime")
    except ImportError:
        pass
    backends.append("numpy")
    runtimes = {}
    print("load_policy start-up:")
    for backend in backends:
        start = time.perf_counter()
        runtimes[backend] = load_policy(path, backend=backend)
        print("  %-12s %.1f ms" % (backend, (time.perf_counter() - start) * 1000))

    print("\none agent turn (encode + inference + decode), %d turns each, one core:" % args.turns)
    print("%-5s %-7s %-12s %9s %9s" % ("map", "robots", "runtime", "p50 ms", "p99 ms"))
    for size in (48, 64):
        board = placed_board(size, seed=1)
        for n in (50, 200):
            state = with_robots(board, n, 20, seed=n)
            for backend in backends:
                p50, p99 = time_calls(partial(runtimes[backend].act, state, "player_0"), args.turns)
                print("%-5d %-7d %-12s %9.1f %9.1f" % (size, n, backend, p50, p99))
            p50, p99 = time_calls(partial(encode, state, "player_0"), args.turns)
            print("%-5d %-7d %-12s %9.2f %9.2f" % (size, n, "(encode)", p50, p99))
    if not args.no_torch:
        network_figures()


if __name__ == "__main__":
    main()
