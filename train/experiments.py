"""The paper's experiments on this trainer: a sweep of the own-reward weight w, and the separation ablation.

    python train/experiments.py run --suite ablation --seeds 1,2,3          # train every variant x seed
    python train/experiments.py report --out docs/results/experiments       # tables (Markdown) + PNG curves

`run` calls `train/run.py --preset basic` once per (variant, seed) in runs/experiments/<variant>-s<seed>, one
after the other (each run uses two cores; `--parallel N` runs N at a time on a bigger machine), and resumes a
run that has a checkpoint but did not finish, so an interrupted sweep is continued by running the same command
again. `report` reads only the runs' metrics.csv.

Measures (the paper's): env steps until 10% and until 95% of evaluation games are finished (at least one
factory of both players alive at the last step; the first evaluation at or above the share), and at the last
evaluation: ice transferred, episode length and factories alive at the end.
"""
from __future__ import annotations

import argparse
import csv
import math
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence, Tuple

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_RUNS = os.path.join(REPO_ROOT, "runs", "experiments")

# The experiments' fixed protocol on top of --preset basic: the committed runs (docs/RESULTS.md) used 4 PPO
# epochs per update and no power-pickup reward; the basic preset has since moved to 8 epochs and a power reward,
# so the protocol pins the old values to keep every seed comparable.
PROTOCOL = ["--update-epochs", "4", "--reward-power-pickup", "0"]

# variant -> train/run.py overrides (on top of --preset basic and PROTOCOL)
SUITES: Dict[str, Dict[str, List[str]]] = {
    "weights": {
        "w0.00": ["--reward-own-weight", "0"],
        "w0.25": ["--reward-own-weight", "0.25"],
        "w0.50": ["--reward-own-weight", "0.5"],
        "w0.75": ["--reward-own-weight", "0.75"],
        "w1.00": ["--reward-own-weight", "1"],
    },
    "ablation": {
        "separated": [],
        "global": ["--mode", "global"],
        "no_sep_reward": ["--separate-reward", "false"],
        "no_sep_value": ["--separate-value", "false"],
        "no_sep_logprob": ["--separate-logprob", "false"],
        "no_sep_entropy": ["--separate-entropy", "false"],
    },
    "grouping": {
        "groups_random4": ["--mode", "grouped", "--grouping", "random", "--n-groups", "4"],
        "groups_random16": ["--mode", "grouped", "--grouping", "random", "--n-groups", "16"],
        "groups_factory": ["--mode", "grouped", "--grouping", "factory"],
    },
}

# The paper's table (../shared/MAGMA_NOTES.md): variant -> (ice transferred, episode length, 10%, 95% finished by)
PAPER = {
    "separated": (44472, 1000, 28672, 49152),
    "global": (3066, 466, 102400, None),
    "no_sep_reward": (9614, 763, 53248, None),
    "no_sep_value": (30687, 994, 40960, 69632),
    "no_sep_logprob": (3673, 506, 98304, None),
    "no_sep_entropy": (41970, 1000, 28672, 53248),
    "w0.75": (33985, 1000, 28672, 57344),
    "w0.50": (24244, 992, 45056, 94208),
    "w1.00": (44472, 1000, 28672, 49152),
    "groups_random4": (29459, 1000, 36864, 77824),
    "groups_random16": (36847, 1000, 28672, 57344),
    "groups_factory": (27009, 1000, 45056, 94208),
}


# Variants that are the same training run as another, so the sweep reads (and, if missing, trains) that run:
# w = 1 is the basic preset's own weight, i.e. `separated`; w = 0 gives every unit r_team, exactly what
# `no_sep_reward` does (their seed-1 logs were identical in every learning figure before they were merged).
SAME_RUN_AS = {"w1.00": "separated", "w0.00": "no_sep_reward"}

# Rows shown beside a suite's own variants for comparison: grouping next to per-unit separation.
REFERENCE_ROWS = {"grouping": ["separated"]}


def run_dir(out: str, variant: str, seed: int) -> str:
    return os.path.join(out, "%s-s%d" % (SAME_RUN_AS.get(variant, variant), seed))


def variants_of(suites: Sequence[str], only: Optional[Sequence[str]] = None) -> Dict[str, List[str]]:
    """The suites' variants (all, or those named in `only`)."""
    out: Dict[str, List[str]] = {}
    for suite in suites:
        if suite not in SUITES:
            raise ValueError("unknown suite %r (choose from %s)" % (suite, ", ".join(SUITES)))
        out.update(SUITES[suite])
    if only:
        unknown = sorted(set(only) - set(out))
        if unknown:
            raise ValueError("unknown variant(s) %s (the suites have %s)" % (", ".join(unknown), ", ".join(out)))
        out = {k: v for k, v in out.items() if k in only}
    return out


def train_command(directory: str, overrides: List[str], seed: int, extra: List[str]) -> List[str]:
    """The train/run.py command of one run: a fresh start, or --resume when a checkpoint is there.

    `extra` is passed on a resume too (e.g. `--device cpu` for a run started on a GPU machine); the variant's
    overrides are not, since the run's config.json already holds them.
    """
    script = os.path.join(REPO_ROOT, "train", "run.py")
    has_checkpoint = os.path.isdir(directory) and any(n.startswith("checkpoint_") for n in os.listdir(directory))
    if has_checkpoint:
        return [sys.executable, script, "--resume", directory, "--no-progress", "--export-onnx", "false"] + extra
    return ([sys.executable, script, "--preset", "basic", "--run-dir", directory, "--seed", str(seed),
             "--no-progress", "--export-onnx", "false"] + PROTOCOL + overrides + extra)


def finished(directory: str, total_steps: Optional[int]) -> bool:
    rows = read_rows(os.path.join(directory, "metrics.csv"))
    return bool(rows) and total_steps is not None and rows[-1]["global_step"] >= total_steps


def run_all(suites: Sequence[str], seeds: Sequence[int], out: str, extra: List[str],
            total_steps: Optional[int], parallel: int = 1, only: Optional[Sequence[str]] = None) -> None:
    """Every (variant, seed) run not finished yet, `parallel` at a time (each uses the preset's workers)."""
    pending: List[Tuple[str, List[str]]] = []
    for variant, overrides in variants_of(suites, only).items():
        for seed in seeds:
            directory = run_dir(out, variant, seed)
            if finished(directory, total_steps):
                print("done already: %s" % directory, flush=True)
                continue
            if all(directory != d for d, _ in pending):  # w1.00 and separated are one run
                pending.append((directory, train_command(directory, overrides, seed, extra)))
    os.makedirs(out, exist_ok=True)
    running: List[Tuple[str, subprocess.Popen, object]] = []
    failed = []
    while pending or running:
        while pending and len(running) < max(parallel, 1):
            directory, command = pending.pop(0)
            print("$ " + " ".join(command), flush=True)
            log = open(directory + ".log", "a")
            running.append((directory, subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT,
                                                        cwd=REPO_ROOT), log))
        done = [item for item in running if item[1].poll() is not None]
        if not done:
            time.sleep(1.0)  # any run may end first; its slot is refilled at once
            continue
        directory, proc, log = done[0]
        running.remove(done[0])
        log.close()
        if proc.returncode != 0:
            failed.append(directory)
            print("run %s failed with exit code %d: see %s.log" % (directory, proc.returncode, directory), flush=True)
    if failed:
        raise SystemExit("%d run(s) failed: %s" % (len(failed), ", ".join(failed)))


# -- report ----------------------------------------------------------------------------------------------------


def read_rows(path: str) -> List[Dict[str, float]]:
    if not os.path.exists(path):
        return []
    with open(path, newline="") as handle:
        return [{k: float(v) for k, v in row.items() if v not in ("", None)} for row in csv.DictReader(handle)]


# The evaluation measures drawn per run (metrics.csv column, axis label); the finished share comes first.
CURVE_MEASURES = [("eval/finished_rate", "finished evaluation games (share)"),
                  ("eval/episode_length", "evaluation episode length"),
                  ("eval/ice_transferred", "ice transferred per game"),
                  ("eval/factories_alive", "factories alive at the end (both players)")]


@dataclass
class RunSummary:
    variant: str
    seed: int
    steps: float  # env steps trained
    to10: Optional[float]  # env steps until >= 10% finished (None: never)
    to95: Optional[float]
    ice: float  # last evaluation: ice transferred per game
    length: float  # last evaluation: episode length
    factories: float  # last evaluation: factories alive at the end (both players)
    value_fit: float  # mean explained variance of the value over the last VALUE_FIT_UPDATES updates
    curve: List[Tuple[float, ...]]  # per evaluation: (step,) + one value per CURVE_MEASURES entry


def steps_to(curve: List[Tuple[float, ...]], share: float) -> Optional[float]:
    for step, rate, *_ in curve:
        if rate >= share - 1e-9:
            return step
    return None


VALUE_FIT_UPDATES = 6


def value_fit(rows: List[Dict[str, float]]) -> float:
    """How well the critic predicts the returns at the end of a run: `losses/explained_variance` (1 - Var(G - V) /
    Var(G) over the rollout's active entries) averaged over the last VALUE_FIT_UPDATES updates."""
    values = [r["losses/explained_variance"] for r in rows if "losses/explained_variance" in r]
    values = [v for v in values[-VALUE_FIT_UPDATES:] if not math.isnan(v)]
    return sum(values) / len(values) if values else float("nan")


def summarise_run(variant: str, seed: int, directory: str) -> Optional[RunSummary]:
    rows = read_rows(os.path.join(directory, "metrics.csv"))
    evals = [r for r in rows if "eval/finished_rate" in r]
    if not evals:
        return None
    curve = [(r["global_step"],) + tuple(r.get(key, float("nan")) for key, _ in CURVE_MEASURES) for r in evals]
    last = evals[-1]
    return RunSummary(variant, seed, rows[-1]["global_step"], steps_to(curve, 0.10), steps_to(curve, 0.95),
                      last.get("eval/ice_transferred", float("nan")), last.get("eval/episode_length", float("nan")),
                      last.get("eval/factories_alive", float("nan")), value_fit(rows), curve)


def collect(out: str, suites: Sequence[str], seeds: Sequence[int]) -> Dict[str, List[RunSummary]]:
    found: Dict[str, List[RunSummary]] = {}
    reference = [v for suite in suites for v in REFERENCE_ROWS.get(suite, [])]
    for variant in list(dict.fromkeys(reference + list(variants_of(suites)))):
        for seed in seeds:
            summary = summarise_run(variant, seed, run_dir(out, variant, seed))
            if summary is not None:
                found.setdefault(variant, []).append(summary)
    return found


def mean_sd(values: Sequence[float]) -> str:
    if not values:
        return "-"
    m = sum(values) / len(values)
    sd = math.sqrt(sum((v - m) ** 2 for v in values) / (len(values) - 1)) if len(values) > 1 else 0.0
    return "%.0f ± %.0f" % (m, sd) if abs(m) >= 100 else "%.2f ± %.2f" % (m, sd)


def reach(runs: Sequence[RunSummary], attr: str) -> str:
    """Mean ± sd over the seeds that reached the share, with how many did."""
    values = [getattr(r, attr) for r in runs if getattr(r, attr) is not None]
    if not values:
        return "never (0/%d)" % len(runs)
    return "%s (%d/%d)" % (mean_sd(values), len(values), len(runs))


def speedup(runs: Dict[str, List[RunSummary]], attr: str, base: str = "global", fast: str = "separated") -> str:
    """Ratio of mean env steps base / separated; a base that never got there counts at its full budget (a lower
    bound, written '>=')."""
    if base not in runs or fast not in runs:
        return "-"
    fast_values = [getattr(r, attr) for r in runs[fast] if getattr(r, attr) is not None]
    if len(fast_values) < len(runs[fast]):
        return "n/a (%s reached it in %d of %d seeds)" % (fast, len(fast_values), len(runs[fast]))
    base_values = [getattr(r, attr) if getattr(r, attr) is not None else r.steps for r in runs[base]]
    bound = any(getattr(r, attr) is None for r in runs[base])
    ratios = [b / f for b in base_values for f in fast_values]
    m = sum(base_values) / len(base_values) / (sum(fast_values) / len(fast_values))
    return "%s%.2fx (pairwise %.2f-%.2f)" % (">=" if bound else "", m, min(ratios), max(ratios))


def paper_cell(value: Optional[float]) -> str:
    return "never" if value is None else "%d" % value


def markdown(runs: Dict[str, List[RunSummary]]) -> str:
    lines = ["| variant | seeds | env steps | 10% finished by | 95% finished by | ice transferred | episode length "
             "| factories alive | value expl. variance | paper: ice / length / 10% / 95% |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for variant, rs in runs.items():
        paper = PAPER.get(variant)
        paper_text = " / ".join(paper_cell(v) for v in paper) if paper else "-"
        name = "%s (= %s)" % (variant, SAME_RUN_AS[variant]) if variant in SAME_RUN_AS else variant
        lines.append("| %s | %d | %s | %s | %s | %s | %s | %s | %s | %s |" % (
            name, len(rs), mean_sd([r.steps for r in rs]), reach(rs, "to10"), reach(rs, "to95"),
            mean_sd([r.ice for r in rs]), mean_sd([r.length for r in rs]), mean_sd([r.factories for r in rs]),
            mean_sd([r.value_fit for r in rs]), paper_text))
    if "separated" not in runs or "global" not in runs:
        return "\n".join(lines) + "\n"
    lines.append("")
    lines.append("Speed-up of `separated` over `global` (mean env steps, global / separated): to 10%% finished %s; "
                 "to 95%% finished %s. The paper: global never reached 95%%; to 10%% 102,400 / 28,672 = 3.6x."
                 % (speedup(runs, "to10"), speedup(runs, "to95")))
    return "\n".join(lines) + "\n"


def seed_table(runs: Dict[str, List[RunSummary]]) -> str:
    """Per run: the finished share at each evaluation, and the last evaluation's episode length and ice."""
    steps = sorted({point[0] for rs in runs.values() for r in rs for point in r.curve})
    lines = ["| run | %s | last: episode length, ice transferred |" % " | ".join(f"{int(s):,}" for s in steps),
             "|---|%s---|" % ("---|" * len(steps))]
    for variant, rs in runs.items():
        for r in rs:
            share = {point[0]: point[1] for point in r.curve}
            cells = ["%.2f" % share[s] if s in share else "-" for s in steps]
            lines.append("| %s, seed %d | %s | %.0f, %s |" % (variant, r.seed, " | ".join(cells), r.length,
                                                            f"{r.ice:,.0f}"))
    return "\n".join(lines) + "\n"


def plot(runs: Dict[str, List[RunSummary]], path: str, title: str) -> str:
    """The paper's curves (its Figure 7: finished share, episode length, ice transferred, factories alive)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, 2, figsize=(11, 7.5))
    for variant, rs in runs.items():
        steps = sorted({point[0] for r in rs for point in r.curve})
        color = None
        for index, ax in enumerate(axes.flat, start=1):
            per_step = [[c[index] for r in rs for c in r.curve if c[0] == s] for s in steps]
            means = [sum(v) / len(v) for v in per_step]
            line, = ax.plot(steps, means, marker=".", label=variant, color=color)
            color = line.get_color()
            ax.fill_between(steps, [min(v) for v in per_step], [max(v) for v in per_step], alpha=0.15, color=color)
    for ax, (_, label) in zip(axes.flat, CURVE_MEASURES):
        ax.set_ylabel(label)
        ax.set_xlabel("env steps")
        ax.grid(alpha=0.3)
    axes[0, 0].legend(fontsize=8)
    fig.suptitle(title + " (mean over seeds; band: min-max)")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def report(out_runs: str, suites: Sequence[str], seeds: Sequence[int], out: str,
           results_doc: Optional[str] = None) -> str:
    """tables.md and one PNG per suite in `out`; with `results_doc`, also the tables inside that document."""
    os.makedirs(out, exist_ok=True)
    parts, tables = [], {}
    for suite in suites:
        runs = collect(out_runs, [suite], seeds)
        if not runs:
            parts.append("## %s\n\nno runs with evaluations in %s\n" % (suite, out_runs))
            continue
        png = plot(runs, os.path.join(out, "%s.png" % suite), suite)
        tables[suite] = markdown(runs)
        tables[suite + "-seeds"] = seed_table(runs)
        parts.append("## %s\n\n%s\n%s\n![%s](%s)\n" % (suite, tables[suite], tables[suite + "-seeds"], suite,
                                                       os.path.basename(png)))
    text = "\n".join(parts)
    with open(os.path.join(out, "tables.md"), "w") as handle:
        handle.write(text)
    if results_doc is not None:
        fill_tables(results_doc, tables)
    return text


def fill_tables(path: str, tables: Dict[str, str]) -> None:
    """Replace the text between `<!-- table:SUITE -->` and `<!-- /table:SUITE -->` in a Markdown document with
    that suite's table; the prose around the markers is left as written."""
    with open(path) as handle:
        text = handle.read()
    for suite, table in tables.items():
        if suite.endswith("-seeds") and "<!-- table:%s -->" % suite not in text:
            continue  # the per-seed tables are optional in a document
        start, end = "<!-- table:%s -->" % suite, "<!-- /table:%s -->" % suite
        if text.count(start) != 1 or text.count(end) != 1 or text.index(start) > text.index(end):
            raise ValueError("%s needs one %s ... %s pair for the %s table" % (path, start, end, suite))
        head, rest = text.split(start)
        text = head + start + "\n" + table + end + rest.split(end, 1)[1]
    with open(path, "w") as handle:
        handle.write(text)


def parse_seeds(text: str) -> List[int]:
    try:
        return [int(s) for s in text.split(",") if s.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError("expected comma-separated seeds, got %r" % text) from None


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    for name in ("run", "report"):
        p = sub.add_parser(name)
        p.add_argument("--suite", nargs="+", default=["ablation"], choices=sorted(SUITES))
        p.add_argument("--seeds", type=parse_seeds, default=[1, 2, 3])
        p.add_argument("--runs", default=DEFAULT_RUNS, help="folder of the runs (default runs/experiments)")
    run_p = sub.choices["run"]
    run_p.add_argument("--total-timesteps", type=int, default=None, help="budget per run (default: the preset's)")
    run_p.add_argument("--only", type=lambda t: [v for v in t.split(",") if v], default=None,
                       help="only these variants, e.g. separated,global")
    run_p.add_argument("--parallel", type=int, default=1,
                       help="runs at a time (each uses --num-workers env processes; e.g. 7 on a 16-core machine)")
    run_p.add_argument("extra", nargs=argparse.REMAINDER, help="more train/run.py options, after --")
    sub.choices["report"].add_argument("--out", default=os.path.join(REPO_ROOT, "docs", "results", "experiments"))
    sub.choices["report"].add_argument("--results-doc", default=None,
                                       help="also write the tables into this Markdown file, between its "
                                            "<!-- table:SUITE --> and <!-- /table:SUITE --> markers")
    args = parser.parse_args(argv)
    if args.command == "run":
        extra = [a for a in args.extra if a != "--"]
        total = args.total_timesteps
        if total is not None:
            extra += ["--total-timesteps", str(total)]
        else:
            from train.config import PRESETS

            total = int(PRESETS["basic"]["total_timesteps"])
        run_all(args.suite, args.seeds, args.runs, extra, total, args.parallel, args.only)
        return 0
    print(report(args.runs, args.suite, args.seeds, args.out, args.results_doc))
    return 0


if __name__ == "__main__":
    if __package__ in (None, ""):
        sys.path.insert(0, REPO_ROOT)
    sys.exit(main())
