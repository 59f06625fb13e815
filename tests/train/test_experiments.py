"""The experiment runner's bookkeeping: commands per run, and the paper's measures read from metrics.csv."""
from __future__ import annotations

import csv
import os
import sys

import pytest

from train import experiments


def write_metrics(directory, rows):
    os.makedirs(directory, exist_ok=True)
    names = sorted({k for r in rows for k in r})
    with open(os.path.join(directory, "metrics.csv"), "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=names)
        writer.writeheader()
        writer.writerows(rows)


def curve(finished_by_step):
    rows = []
    for step, rate in finished_by_step:
        # a row without an evaluation
        rows.append({"global_step": step - 1024, "losses/loss": 0.1, "losses/explained_variance": rate})
        rows.append({"global_step": step, "eval/finished_rate": rate, "eval/episode_length": 200 + 800 * rate,
                     "eval/ice_transferred": 1000 * rate, "eval/factories_alive": 4 * rate})
    return rows


def test_steps_to_a_share_is_the_first_evaluation_at_or_above_it(tmp_path):
    write_metrics(tmp_path / "separated-s1", curve([(4096, 0.0), (8192, 0.1), (12288, 0.5), (16384, 1.0)]))
    s = experiments.summarise_run("separated", 1, str(tmp_path / "separated-s1"))
    assert (s.to10, s.to95) == (8192, 16384)
    assert (s.ice, s.length, s.factories, s.steps) == (1000, 1000, 4, 16384)
    assert s.value_fit == (0.0 + 0.1 + 0.5 + 1.0) / 4  # explained variance, over the last (up to 6) updates


def test_speedup_counts_a_never_reaching_baseline_at_its_budget_as_a_lower_bound(tmp_path):
    for seed, to10 in ((1, 8192), (2, 4096)):
        write_metrics(tmp_path / ("separated-s%d" % seed), curve([(4096, 0.0 if to10 > 4096 else 0.2),
                                                                 (8192, 0.2), (16384, 1.0)]))
    write_metrics(tmp_path / "global-s1", curve([(4096, 0.0), (12288, 0.1), (16384, 0.2)]))
    write_metrics(tmp_path / "global-s2", curve([(4096, 0.0), (16384, 0.0)]))
    runs = experiments.collect(str(tmp_path), ["ablation"], [1, 2])
    assert set(runs) == {"separated", "global"}
    # to 10%: global 12288 and (never -> budget 16384), mean 14336; separated mean 6144 -> >= 2.33x
    assert experiments.speedup(runs, "to10").startswith(">=2.33x")
    table = experiments.markdown(runs)
    assert "never (0/2)" in table  # global never reached 95%
    assert "| separated | 2 |" in table


def test_speedup_is_not_stated_when_a_separated_seed_never_got_there(tmp_path):
    write_metrics(tmp_path / "separated-s1", curve([(4096, 0.5), (8192, 1.0)]))
    write_metrics(tmp_path / "separated-s2", curve([(4096, 0.5), (8192, 0.5)]))
    for seed in (1, 2):
        write_metrics(tmp_path / ("global-s%d" % seed), curve([(4096, 0.0), (8192, 0.0)]))
    runs = experiments.collect(str(tmp_path), ["ablation"], [1, 2])
    assert experiments.speedup(runs, "to95") == "n/a (separated reached it in 1 of 2 seeds)"
    assert experiments.speedup(runs, "to10").startswith(">=")  # both separated seeds reached 10%


def test_a_run_with_a_checkpoint_is_resumed_not_restarted(tmp_path):
    fresh = experiments.train_command(str(tmp_path / "w0.50-s1"), ["--reward-own-weight", "0.5"], 1, [])
    assert "--preset" in fresh and "0.5" in fresh and "--resume" not in fresh
    # The protocol of the committed runs is pinned, whatever the basic preset says today.
    assert fresh[fresh.index("--update-epochs") + 1] == "4"
    assert fresh[fresh.index("--reward-power-pickup") + 1] == "0"
    (tmp_path / "w0.50-s1").mkdir()
    (tmp_path / "w0.50-s1" / "checkpoint_0000003.pt").write_bytes(b"")
    again = experiments.train_command(str(tmp_path / "w0.50-s1"), ["--reward-own-weight", "0.5"], 1, [])
    assert again[again.index("--resume") + 1] == str(tmp_path / "w0.50-s1")
    # Extra options reach a resumed run too (a run started on a GPU machine continues on the CPU).
    moved = experiments.train_command(str(tmp_path / "w0.50-s1"), ["--reward-own-weight", "0.5"], 1,
                                      ["--device", "cpu"])
    assert moved[-2:] == ["--device", "cpu"] and "--reward-own-weight" not in moved


def test_run_all_runs_every_pending_run_and_reports_failures(tmp_path, monkeypatch):
    monkeypatch.setitem(experiments.SUITES, "tiny", {"ok": [], "bad": []})

    def command(directory, overrides, seed, extra):
        code = 1 if os.path.basename(directory).startswith("bad") else 0
        marker = directory + ".ran"
        return [sys.executable, "-c", "open(%r, 'w').close(); raise SystemExit(%d)" % (marker, code)]

    monkeypatch.setattr(experiments, "train_command", command)
    with pytest.raises(SystemExit, match="2 run"):
        experiments.run_all(["tiny"], [1, 2], str(tmp_path), [], total_steps=100, parallel=3)
    assert sorted(p.name for p in tmp_path.glob("*.ran")) == ["bad-s1.ran", "bad-s2.ran", "ok-s1.ran", "ok-s2.ran"]
    # A finished run is not started again.
    write_metrics(tmp_path / "ok-s1", [{"global_step": 100}])
    (tmp_path / "ok-s2.ran").unlink()
    (tmp_path / "ok-s1.ran").unlink()
    monkeypatch.setitem(experiments.SUITES, "tiny", {"ok": []})
    experiments.run_all(["tiny"], [1, 2], str(tmp_path), [], total_steps=100, parallel=1)
    assert not (tmp_path / "ok-s1.ran").exists() and (tmp_path / "ok-s2.ran").exists()


def test_the_sweeps_w_1_point_is_the_separated_run_and_grouping_shows_it_for_comparison(tmp_path, monkeypatch):
    write_metrics(tmp_path / "separated-s1", curve([(4096, 0.0), (8192, 0.5)]))
    write_metrics(tmp_path / "w0.50-s1", curve([(4096, 0.0), (8192, 0.1)]))
    runs = experiments.collect(str(tmp_path), ["weights"], [1])
    assert set(runs) == {"w0.50", "w1.00"}  # w0.00 is the no_sep_reward run, absent here
    assert experiments.run_dir("out", "w0.00", 3) == os.path.join("out", "no_sep_reward-s3")
    assert runs["w1.00"][0].to10 == 8192 and runs["w1.00"][0].ice == 500
    assert "| w1.00 (= separated) | 1 |" in experiments.markdown(runs)
    assert "Speed-up" not in experiments.markdown(runs)  # no global run in this suite
    grouping = experiments.collect(str(tmp_path), ["grouping"], [1])
    assert list(grouping) == ["separated"]  # no grouping runs yet: only the reference row

    # Training the sweep does not train the separated run a second time.
    started = []
    monkeypatch.setattr(experiments, "train_command",
                        lambda d, o, s, e: started.append(d) or [sys.executable, "-c", ""])
    experiments.run_all(["weights", "ablation"], [2], str(tmp_path), [], total_steps=100,
                        only=["w1.00", "separated"])
    assert started == [str(tmp_path / "separated-s2")]


def test_report_writes_a_table_and_the_four_curves_per_suite(tmp_path):
    for variant in ("separated", "global"):
        write_metrics(tmp_path / "runs" / ("%s-s1" % variant), curve([(4096, 0.0), (8192, 0.5)]))
    text = experiments.report(str(tmp_path / "runs"), ["ablation", "grouping"], [1], str(tmp_path / "out"))
    assert "| separated | 1 |" in text and "| global | 1 |" in text
    assert "no runs" not in text  # grouping shows its reference row, separated
    assert (tmp_path / "out" / "tables.md").read_text() == text
    for suite in ("ablation", "grouping"):
        assert (tmp_path / "out" / ("%s.png" % suite)).stat().st_size > 10_000
    summary = experiments.summarise_run("global", 1, str(tmp_path / "runs" / "global-s1"))
    assert [len(point) for point in summary.curve] == [1 + len(experiments.CURVE_MEASURES)] * 2
    assert summary.curve[-1][3:] == (500.0, 2.0)  # ice transferred, factories alive at the last evaluation


def test_report_fills_the_tables_of_a_results_document_and_keeps_its_prose(tmp_path):
    write_metrics(tmp_path / "runs" / "separated-s1", curve([(4096, 0.0), (8192, 0.5)]))
    doc = tmp_path / "RESULTS.md"
    doc.write_text("# Results\nprose before\n<!-- table:ablation -->\nold table\n"
                   "<!-- /table:ablation -->\nprose after\n")
    experiments.report(str(tmp_path / "runs"), ["ablation"], [1], str(tmp_path / "out"), str(doc))
    text = doc.read_text()
    assert "old table" not in text and "| separated | 1 |" in text
    assert text.startswith("# Results\nprose before\n") and text.endswith("<!-- /table:ablation -->\nprose after\n")
    assert "| separated, seed 1 | 0.00 | 0.50 | 600, 500 |" in experiments.report(
        str(tmp_path / "runs"), ["ablation"], [1], str(tmp_path / "out"))  # per-seed table in tables.md
    once = text
    experiments.report(str(tmp_path / "runs"), ["ablation"], [1], str(tmp_path / "out"), str(doc))
    assert doc.read_text() == once  # regenerating changes nothing
    doc.write_text("no markers here\n")
    with pytest.raises(ValueError, match="table:ablation"):
        experiments.report(str(tmp_path / "runs"), ["ablation"], [1], str(tmp_path / "out"), str(doc))
