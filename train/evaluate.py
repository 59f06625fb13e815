"""Evaluate an agent against opponents over fixed seeds, both seats and both game configs, in parallel.

    python train/evaluate.py                                  # main.py vs our heuristic controller
    python train/evaluate.py --opponent /tmp/kits/python/main.py --seeds 0-19 --configs kaggle
    python train/evaluate.py --plot runs/RUN                  # learning curve PNG from a training log

An opponent is the path of any `main.py`; `heuristic` / `policy`: our own main.py with that unit controller;
`weights:PATH`: our main.py with other policy weights; or the name of a sparring partner, an independent bot set
up under `--sparring-dir` (`bot15`, `bot40`, `bot76`, `kit`; see SPARRING_PARTNERS):

    python train/evaluate.py --opponent bot40 --opponent kit --configs kaggle --seeds 0-9

A sparring partner is only played in the configs it supports (the Kaggle-only ones skip NeurIPS games).
Writes `results.json` (every game) and `results.md` (one table row per opponent and config). With `--replays`,
each game's replay JSON is kept too, as `<out>/replays/<opponent>_<config>_seed<seed>_<agent's seat>.json`
(the opponent's label with every character but letters, digits, `.`, `-` and `_` turned into `_`); read one
with `tools/replay_report.py`:

    python train/evaluate.py --opponent bot40 --configs kaggle --seeds 0-3 --replays --out runs/eval/bot40
    python tools/replay_report.py runs/eval/bot40/replays/bot40_kaggle_seed1_player_1.json --player player_1
"""
from __future__ import annotations

import argparse
import csv
import glob
import json
import math
import multiprocessing
import os
import re
import sys
import tempfile
import time
from dataclasses import dataclass
from typing import Any, Dict, Iterable, List, Optional, Sequence, Tuple

if __package__ in (None, ""):  # run as a script: make the repository root importable
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from agent import TEMPERATURE_ENV, UNIT_CONTROLLER_ENV, WEIGHTS_ENV  # noqa: E402  (the variables agent.py reads)
from train.arena import (
    GAME_CONFIGS,
    KAGGLE_TIMING,
    PLAYERS,
    RUNNER_TIMING,
    GameResult,
    agent_with_env,
    play_game,
)

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FULL_GAME_STEPS = 1000
SPARRING_DIR = "/tmp/sparring"


def sparring_setup_command(sparring_dir: str = SPARRING_DIR) -> str:
    """The command, run from the project's root, that sets the sparring partners up in `sparring_dir`."""
    return f"bash ../shared/opponents/setup.sh GITDIRS {sparring_dir}"


@dataclass(frozen=True)
class SparringPartner:
    """An independent bot, extracted into `<sparring dir>/<name>` by the shared setup script (never committed)."""

    name: str
    entry: str  # its main.py, relative to its folder
    configs: Tuple[str, ...]  # the game configs it can play
    needs: Tuple[str, ...] = ()  # other files it cannot start without (a compiled binary)

    def main_py(self, sparring_dir: str) -> str:
        return os.path.join(os.path.abspath(sparring_dir), self.name, self.entry)

    def missing(self, sparring_dir: str) -> Optional[str]:
        """Why it cannot be played from `sparring_dir`, with how to set it up; None when it can."""
        folder = os.path.join(os.path.abspath(sparring_dir), self.name)
        for relative in (self.entry,) + self.needs:
            if not os.path.isfile(os.path.join(folder, relative)):
                return (f"sparring partner {self.name}: {os.path.join(folder, relative)} not found; set it up "
                        f"from the project's root with `{sparring_setup_command(sparring_dir)}` "
                        f"(see ../shared/opponents/README.md)")
        return None


# All but the starter kit were written for the Kaggle 2023 map (48x48) and fail on the 64x64 NeurIPS one.
SPARRING_PARTNERS: Dict[str, SparringPartner] = {p.name: p for p in (
    SparringPartner("bot15", "main_quiet.py", ("kaggle",)),  # slow: up to ~1 s a turn late in a game
    SparringPartner("bot40", "main_stdio.py", ("kaggle",), needs=("build/agent.out",)),
    SparringPartner("bot76", os.path.join("src", "main.py"), ("kaggle",)),
    SparringPartner("kit", os.path.join("kits", "python", "main.py"), ("kaggle", "neurips")),
)}
# Metric columns a training log may hold, plotted in this order when present.
CURVE_METRICS = ("eval/finished_rate", "eval/episode_length", "eval/ice_transferred", "eval/factories_alive",
                 "charts/episode_length", "game/ice_transferred", "game/factories_alive", "eval/lichen",
                 "game/learner_result", "game/learner_lichen_share")


def wilson_interval(successes: int, n: int, z: float = 1.96) -> Tuple[float, float]:
    """95% Wilson score interval of a binomial proportion (stays inside [0, 1], sane at 0 and n)."""
    if n <= 0:
        return (0.0, 1.0)
    if not 0 <= successes <= n:
        raise ValueError(f"successes must be in [0, {n}], got {successes}")
    p = successes / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return (max(0.0, centre - half), min(1.0, centre + half))


def parse_seeds(text: str) -> List[int]:
    """'0-4,10' -> [0, 1, 2, 3, 4, 10]."""
    seeds: List[int] = []
    for part in text.split(","):
        part = part.strip()
        if not part:
            continue
        if "-" in part:
            lo, hi = part.split("-", 1)
            if int(hi) < int(lo):
                raise ValueError(f"empty seed range {part!r}")
            seeds.extend(range(int(lo), int(hi) + 1))
        else:
            seeds.append(int(part))
    if not seeds:
        raise ValueError(f"no seeds in {text!r}")
    return seeds


@dataclass
class Matchup:
    """Aggregate, from the evaluated agent's seat, of the games against one opponent in one config."""

    opponent: str
    config: str
    games: int
    wins: int
    draws: int
    losses: int
    win_rate: float
    win_ci: Tuple[float, float]
    full_games: int  # games that reached step 1000
    steps_mean: float
    lichen_mean: float
    opponent_lichen_mean: float
    factories_alive_mean: float
    factories_alive_share: float  # mean over games of our factories alive at the end / factories placed
    opponent_factories_alive_mean: float
    robots_alive_mean: float
    opponent_robots_alive_mean: float
    games_with_factory: int  # games that ended with at least one of our factories standing
    ice_delivered_mean: float
    ore_delivered_mean: float
    errors: int
    invalid_actions: int
    turn_time_mean_s: float
    turn_time_max_s: float


def _mean(values: Sequence[float]) -> float:
    return float(sum(values) / len(values)) if values else 0.0


def summarise(games: Iterable[Tuple[str, str, GameResult]]) -> List[Matchup]:
    """Group (opponent label, agent seat, result) triples by opponent and config, seen from the agent's seat."""
    groups: Dict[Tuple[str, str], List[Tuple[str, GameResult]]] = {}
    for label, seat, result in games:
        if seat not in PLAYERS:
            raise ValueError(f"unknown seat {seat!r}")
        groups.setdefault((label, result.config), []).append((seat, result))
    rows = []
    for (label, config), played in sorted(groups.items()):
        mine = [r.players[seat] for seat, r in played]
        theirs = [r.players[PLAYERS[1 - PLAYERS.index(seat)]] for seat, r in played]
        wins = sum(1 for seat, r in played if r.winner == seat)
        draws = sum(1 for _, r in played if r.winner is None)
        n = len(played)
        rows.append(Matchup(
            opponent=label, config=config, games=n, wins=wins, draws=draws, losses=n - wins - draws,
            win_rate=wins / n, win_ci=wilson_interval(wins, n),
            full_games=sum(1 for _, r in played if r.steps >= FULL_GAME_STEPS),
            steps_mean=_mean([r.steps for _, r in played]),
            lichen_mean=_mean([p.lichen for p in mine]), opponent_lichen_mean=_mean([p.lichen for p in theirs]),
            factories_alive_mean=_mean([p.factories_alive for p in mine]),
            factories_alive_share=_mean([p.factories_alive / max(p.factories_placed, 1) for p in mine]),
            opponent_factories_alive_mean=_mean([p.factories_alive for p in theirs]),
            robots_alive_mean=_mean([p.robots_alive for p in mine]),
            opponent_robots_alive_mean=_mean([p.robots_alive for p in theirs]),
            games_with_factory=sum(1 for p in mine if p.factories_alive > 0),
            ice_delivered_mean=_mean([p.ice_delivered for p in mine]),
            ore_delivered_mean=_mean([p.ore_delivered for p in mine]),
            errors=sum(p.errors for p in mine), invalid_actions=sum(p.invalid_actions for p in mine),
            turn_time_mean_s=_mean([p.turn_time_mean_s for p in mine]),
            turn_time_max_s=max(p.turn_time_max_s for p in mine),
        ))
    return rows


def markdown_table(rows: Sequence[Matchup]) -> str:
    header = ("| opponent | config | games | W/D/L | win rate (95% CI) | reached 1000 | with a factory at the end "
              "| steps | lichen (opp.) | factories alive (share of placed; opp.) | robots alive (opp.) "
              "| ice / ore delivered | errors "
              "| invalid actions | turn mean / max (s) |")
    lines = [header, "|" + "---|" * (header.count("|") - 1)]
    for r in rows:
        lines.append(
            f"| {r.opponent} | {r.config} | {r.games} | {r.wins}/{r.draws}/{r.losses} "
            f"| {r.win_rate:.2f} ({r.win_ci[0]:.2f}-{r.win_ci[1]:.2f}) | {r.full_games}/{r.games} "
            f"| {r.games_with_factory}/{r.games} | {r.steps_mean:.0f} "
            f"| {r.lichen_mean:.0f} ({r.opponent_lichen_mean:.0f}) "
            f"| {r.factories_alive_mean:.1f} ({r.factories_alive_share:.2f}; {r.opponent_factories_alive_mean:.1f}) "
            f"| {r.robots_alive_mean:.1f} ({r.opponent_robots_alive_mean:.1f}) "
            f"| {r.ice_delivered_mean:.0f} / {r.ore_delivered_mean:.0f} "
            f"| {r.errors} | {r.invalid_actions} | {r.turn_time_mean_s:.3f} / {r.turn_time_max_s:.3f} |"
        )
    return "\n".join(lines) + "\n"


def with_weights(agent: str, weights: Optional[str], folder: str, temperature: Optional[float] = None) -> str:
    """Our agent playing the policy in `weights` (None: its own), sampling at `temperature` (None: the agent's
    default). The weights are loaded here first: an agent whose policy does not load plays with the heuristic
    controller instead, and its games would be reported as the policy's.
    Raises FileNotFoundError, or the loader's SchemaMismatch / ValueError."""
    from magma_policy.runtime import check_temperature, load_policy

    env = {}
    if weights is not None:
        if not os.path.isfile(weights):
            raise FileNotFoundError(f"weights not found: {weights}")
        load_policy(weights)
        env.update({WEIGHTS_ENV: os.path.abspath(weights), UNIT_CONTROLLER_ENV: "policy"})
    if temperature is not None:
        env[TEMPERATURE_ENV] = repr(check_temperature(temperature, "the agent's temperature"))
    return agent_with_env(agent, env, folder) if env else agent


def resolve_opponent(spec: str, agent: str, scratch: str, sparring_dir: str = SPARRING_DIR) -> Tuple[str, str]:
    """(label, main.py path) of an opponent given as a path, as a unit controller of our own agent, as
    `weights:PATH` (our agent with other policy weights) or as a sparring partner's name.
    Raises FileNotFoundError (with how to set a missing sparring partner up)."""
    if spec in SPARRING_PARTNERS:
        partner = SPARRING_PARTNERS[spec]
        reason = partner.missing(sparring_dir)
        if reason:
            raise FileNotFoundError(reason)
        return spec, partner.main_py(sparring_dir)
    if spec in ("heuristic", "policy"):
        folder = os.path.join(scratch, f"controller_{spec}")
        return f"{spec} controller", agent_with_env(agent, {UNIT_CONTROLLER_ENV: spec}, folder)
    if spec.startswith("weights:"):
        weights = spec[len("weights:"):]
        folder = os.path.join(scratch, "weights_%d" % abs(hash(weights)))
        return f"policy {os.path.relpath(os.path.abspath(weights), REPO_ROOT)}", with_weights(agent, weights, folder)
    if not os.path.isfile(spec):
        raise FileNotFoundError(f"opponent not found: {spec} (a main.py path, 'heuristic', 'policy', "
                                f"'weights:PATH' or a sparring partner: {', '.join(SPARRING_PARTNERS)})")
    folder = os.path.dirname(os.path.abspath(spec))
    label = os.path.join(os.path.basename(os.path.dirname(folder)), os.path.basename(folder))
    return label, os.path.abspath(spec)


def opponent_configs(spec: str) -> Tuple[str, ...]:
    """The game configs an opponent can play: a sparring partner's own list; every config otherwise."""
    partner = SPARRING_PARTNERS.get(spec)
    return partner.configs if partner is not None else tuple(GAME_CONFIGS)


def replay_path(replay_dir: str, label: str, config: str, seed: int, seat: str) -> str:
    """Where the replay of one game is kept: `<opponent label>_<config>_seed<seed>_<agent's seat>.json`, the
    label with every character but letters, digits, `.`, `-` and `_` turned into `_`."""
    name = re.sub(r"[^A-Za-z0-9._-]", "_", label)
    return os.path.join(replay_dir, f"{name}_{config}_seed{seed}_{seat}.json")


Task = Tuple[str, str, str, str, int, str, Tuple[float, float], Optional[str]]


def _play(task: Task) -> Tuple[str, str, Dict[str, Any], Optional[str]]:
    label, seat, agent, opponent, seed, config, timing, replay = task
    pair = (agent, opponent) if seat == PLAYERS[0] else (opponent, agent)
    result = play_game(pair[0], pair[1], seed=seed, config=config, timing=timing,
                       replay_paths=[replay] if replay else ())
    return label, seat, result.to_dict(with_stderr=result.players[seat].errors > 0), replay


def _result_from_dict(data: Dict[str, Any]) -> GameResult:
    from train.arena import PlayerStats

    players = {p: PlayerStats(**s) for p, s in data["players"].items()}
    return GameResult(**dict(data, players=players))


def evaluate(agent: str, opponents: Sequence[str], seeds: Sequence[int], configs: Sequence[str],
             workers: int, out_dir: str, seats: Sequence[str] = PLAYERS,
             timing: Tuple[float, float] = RUNNER_TIMING, log=print, agent_weights: Optional[str] = None,
             agent_temperature: Optional[float] = None, sparring_dir: str = SPARRING_DIR,
             replays: bool = False) -> List[Matchup]:
    """Play every (opponent, config, seed, seat) game, write results.json and results.md, return the table.

    `seats` are the agent's seats; both by default, so that neither side profits from placing first.
    `agent_weights`: the agent plays the policy in this file (forced: no silent fallback to the heuristic).
    `agent_temperature`: its robots sample at this temperature (0: the most likely action; None: the policy's
    own play temperature).
    `sparring_dir`: where sparring partners named in `opponents` are set up; each plays only the configs it
    supports (opponent_configs).
    `replays`: keep every game's replay JSON under `<out_dir>/replays` (replay_path); each game's record in
    results.json names its replay.
    """
    for config in configs:
        if config not in GAME_CONFIGS:
            raise ValueError(f"unknown game config {config!r}; choose from {sorted(GAME_CONFIGS)}")
    agent = os.path.abspath(agent)
    os.makedirs(out_dir, exist_ok=True)
    scratch = tempfile.mkdtemp(prefix="lux_eval_")
    played = with_weights(agent, agent_weights, os.path.join(scratch, "agent"), agent_temperature)
    resolved = [resolve_opponent(spec, agent, scratch, sparring_dir) for spec in opponents]
    replay_dir = os.path.join(out_dir, "replays")
    if replays:
        os.makedirs(replay_dir, exist_ok=True)
    tasks: List[Task] = []
    for spec, (label, path) in zip(opponents, resolved):
        playable = [c for c in configs if c in opponent_configs(spec)]
        if len(playable) < len(configs):
            log(f"{label} plays only {', '.join(opponent_configs(spec))}: skipping "
                f"{', '.join(c for c in configs if c not in playable)}")
        tasks += [(label, seat, played, path, seed, config, timing,
                   replay_path(replay_dir, label, config, seed, seat) if replays else None)
                  for config in playable for seed in seeds for seat in seats]
    if not tasks:
        raise ValueError("no game to play: no opponent supports the configs asked for")
    workers = max(1, min(workers, len(tasks)))
    log(f"{len(tasks)} games on {workers} workers -> {out_dir}")
    start = time.time()
    records = []
    with multiprocessing.get_context("spawn").Pool(workers) as pool:
        for done, (label, seat, data, replay) in enumerate(pool.imap_unordered(_play, tasks), 1):
            record = dict(opponent=label, seat=seat, result=data)
            if replay:
                record["replay"] = os.path.relpath(replay, out_dir)
            records.append(record)
            mine = data["players"][seat]
            outcome = "win" if data["winner"] == seat else ("draw" if data["winner"] is None else "loss")
            log(f"[{done}/{len(tasks)}] {data['config']} seed {data['seed']} vs {label} as {seat}: {outcome}, "
                f"steps {data['steps']}, lichen {mine['lichen']}, errors {mine['errors']}, "
                f"invalid {mine['invalid_actions']} ({time.time() - start:.0f}s)")
    rows = summarise((r["opponent"], r["seat"], _result_from_dict(r["result"])) for r in records)
    command = " ".join([os.path.relpath(sys.executable, REPO_ROOT)] + sys.argv) if sys.argv else ""
    with open(os.path.join(out_dir, "results.json"), "w") as handle:
        json.dump(dict(agent=agent, agent_weights=agent_weights, agent_temperature=agent_temperature,
                       opponents=dict(resolved), seeds=list(seeds), configs=list(configs),
                       summary=[r.__dict__ for r in rows], games=records), handle, indent=1)
    with open(os.path.join(out_dir, "results.md"), "w") as handle:
        seat_text = "both seats" if len(seats) == 2 else f"agent as {seats[0]}"
        weights_text = ""
        if agent_weights:
            weights_text = f" with weights `{os.path.relpath(os.path.abspath(agent_weights), REPO_ROOT)}`"
        if agent_temperature is not None:
            weights_text += f", robots sampling at temperature {agent_temperature:g}"
        handle.write(f"Agent: `{os.path.relpath(agent, REPO_ROOT)}`{weights_text}; seeds {list(seeds)}, "
                     f"{seat_text}.\n\n")
        if command:
            handle.write(f"Command: `{command}`\n\n")
        handle.write(markdown_table(rows))
    return rows


def find_log(run_dir: str) -> str:
    """The training log CSV of a run folder (a file given directly is used as is)."""
    if os.path.isfile(run_dir):
        return run_dir
    candidates = sorted(glob.glob(os.path.join(run_dir, "*.csv")))
    if not candidates:
        raise FileNotFoundError(f"no CSV log in {run_dir}")
    preferred = [c for c in candidates if os.path.basename(c) in ("metrics.csv", "log.csv", "progress.csv")]
    return (preferred or candidates)[0]


def read_curves(csv_path: str) -> Dict[str, Tuple[List[float], List[float]]]:
    """metric -> (global_step values, metric values), skipping empty cells; CURVE_METRICS first if present."""
    with open(csv_path, newline="") as handle:
        reader = csv.DictReader(handle)
        if reader.fieldnames is None or "global_step" not in reader.fieldnames:
            raise ValueError(f"{csv_path} has no global_step column")
        rows = list(reader)
        names = [m for m in CURVE_METRICS if m in reader.fieldnames]
        if not names:
            names = [f for f in reader.fieldnames if f != "global_step"]
    curves = {}
    for name in names:
        xs, ys = [], []
        for row in rows:
            try:
                x, y = float(row["global_step"]), float(row[name])
            except (TypeError, ValueError):
                continue
            xs.append(x)
            ys.append(y)
        if xs:
            curves[name] = (xs, ys)
    return curves


def plot_learning_curve(run_dir: str, out_path: Optional[str] = None) -> str:
    """Draw every metric found in the run's CSV log against global_step into one PNG; return its path."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    log_path = find_log(run_dir)
    curves = read_curves(log_path)
    if not curves:
        raise ValueError(f"{log_path} has no numeric metric columns")
    fig, axes = plt.subplots(len(curves), 1, figsize=(7, 2.4 * len(curves)), sharex=True, squeeze=False)
    for ax, (name, (xs, ys)) in zip(axes[:, 0], curves.items()):
        ax.plot(xs, ys, marker="." if len(xs) < 50 else None)
        ax.set_ylabel(name, fontsize=8)
        ax.grid(alpha=0.3)
    axes[-1, 0].set_xlabel("global_step")
    fig.suptitle(os.path.basename(os.path.normpath(run_dir)))
    fig.tight_layout()
    out_path = out_path or os.path.join(os.path.dirname(log_path), "learning_curve.png")
    fig.savefig(out_path, dpi=100)
    plt.close(fig)
    return out_path


def main(argv: Optional[Sequence[str]] = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--agent", default=os.path.join(REPO_ROOT, "main.py"), help="main.py under evaluation")
    parser.add_argument("--agent-weights", default=None,
                        help="the agent plays the policy in this ONNX file (its unit controller forced to the policy)")
    parser.add_argument("--agent-temperature", type=float, default=None,
                        help="the agent's robots sample from softmax(logits / T); 0 takes the most likely action "
                             "(default: the temperature the policy was trained to be played at, from its metadata)")
    parser.add_argument("--opponent", action="append", default=None,
                        help="main.py path, 'heuristic'/'policy' (our agent with that unit controller), "
                             "'weights:PATH' (our agent with those policy weights), or a sparring partner "
                             f"({', '.join(SPARRING_PARTNERS)}, set up under --sparring-dir); repeatable")
    parser.add_argument("--sparring-dir", default=SPARRING_DIR,
                        help=f"where the sparring partners are set up (`{sparring_setup_command()}`)")
    parser.add_argument("--seeds", default="0-3", help="seed list, e.g. '0-19' or '1,5,9' (each played in both seats)")
    parser.add_argument("--configs", nargs="+", default=list(GAME_CONFIGS), choices=sorted(GAME_CONFIGS))
    parser.add_argument("--seats", nargs="+", default=list(PLAYERS), choices=PLAYERS,
                        help="the agent's seats (one seat is enough for self-play)")
    parser.add_argument("--kaggle-timing", action="store_true",
                        help="Kaggle's 3 s a turn + 60 s overage instead of the runner's 9 s + 600 s")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="parallel games")
    parser.add_argument("--out", default=None, help="output folder (default runs/eval/<time>)")
    parser.add_argument("--replays", action="store_true",
                        help="keep every game's replay JSON under <out>/replays, named <opponent>_<config>_seed<seed>"
                             "_<seat>.json (<seat>: the agent's; in the opponent's label every character but "
                             "letters, digits, '.', '-' and '_' becomes '_'); read one with tools/replay_report.py")
    parser.add_argument("--plot", metavar="RUN_DIR", help="only draw the learning curve of a training run")
    args = parser.parse_args(argv)
    if args.plot:
        print(plot_learning_curve(args.plot))
        return
    out = args.out or os.path.join(REPO_ROOT, "runs", "eval", time.strftime("%Y%m%d-%H%M%S"))
    try:
        rows = evaluate(args.agent, args.opponent or ["heuristic"], parse_seeds(args.seeds), args.configs,
                        max(1, args.workers), out, seats=args.seats,
                        timing=KAGGLE_TIMING if args.kaggle_timing else RUNNER_TIMING,
                        agent_weights=args.agent_weights, agent_temperature=args.agent_temperature,
                        sparring_dir=args.sparring_dir, replays=args.replays)
    except (FileNotFoundError, ValueError) as exc:  # missing agent or weights, weights for other features
        parser.error(str(exc))
    print(markdown_table(rows))


if __name__ == "__main__":
    main()
