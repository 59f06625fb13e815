"""The Kaggle archive: built by build_submission.sh, extracted outside the repository, played from there
with onnxruntime unavailable, both through the real runner and by importing main.py as Kaggle does."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

from agent import UNIT_CONTROLLER_ENV
from train.arena import KAGGLE_TIMING, agent_with_env, play_game

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def extracted(tmp_path_factory) -> Path:
    """The archive's contents in an empty folder, beside a folder that makes `import onnxruntime` fail."""
    build = subprocess.run(["bash", "build_submission.sh"], cwd=REPO, capture_output=True, text=True)
    assert build.returncode == 0, build.stdout + build.stderr
    assert "size:" in build.stdout
    folder = tmp_path_factory.mktemp("kaggle_agent")
    with tarfile.open(REPO / "dist" / "submission.tar.gz") as archive:
        archive.extractall(folder)
    blocker = tmp_path_factory.mktemp("no_onnxruntime") / "onnxruntime"
    blocker.mkdir()
    (blocker / "__init__.py").write_text("raise ImportError('onnxruntime is not installed on this image')\n")
    return folder


def no_onnxruntime_env(extracted: Path) -> dict:
    blocker = next(extracted.parent.glob("no_onnxruntime*"))
    return dict(os.environ, PYTHONPATH=str(blocker))


def test_archive_holds_only_runtime_files(extracted: Path) -> None:
    names = {str(p.relative_to(extracted)) for p in extracted.rglob("*") if p.is_file()}
    assert "main.py" in names and "agent.py" in names
    assert any(n.startswith("lux/") for n in names) and any(n.startswith("strategy/") for n in names)
    runtime = sorted(p.name for p in (REPO / "magma_policy").glob("*.py") if p.name not in ("network.py", "export.py"))
    assert {"magma_policy/" + name for name in runtime} <= names
    # Training-only code and the repository's tooling stay out.
    for absent in ("magma_policy/network.py", "magma_policy/export.py"):
        assert absent not in names
    assert not any(n.startswith(("train/", "tests/", "tools/", ".venv/")) for n in names)


def test_archive_ships_the_trained_weights(extracted: Path) -> None:
    assert (REPO / "weights" / "policy.onnx").is_file(), "the repository ships weights/policy.onnx"
    for name in ("policy.onnx", "policy.json"):
        assert (extracted / "weights" / name).read_bytes() == (REPO / "weights" / name).read_bytes()


def test_blocked_onnxruntime_really_fails_to_import(extracted: Path) -> None:
    probe = subprocess.run([sys.executable, "-c", "import onnxruntime"], env=no_onnxruntime_env(extracted),
                           capture_output=True, text=True)
    assert probe.returncode != 0 and "not installed" in probe.stderr


@pytest.mark.slow
def test_extracted_agent_plays_a_full_game_through_the_runner(extracted: Path, monkeypatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PYTHONPATH", no_onnxruntime_env(extracted)["PYTHONPATH"])
    main = str(extracted / "main.py")
    # player_0: the bundle as Kaggle runs it (its default unit controller); player_1: the shipped policy.
    policy = agent_with_env(main, {UNIT_CONTROLLER_ENV: "policy"}, str(tmp_path / "policy"))
    result = play_game(main, policy, seed=11, config="kaggle", timing=KAGGLE_TIMING)
    for player, stats in result.players.items():
        assert stats.errors == 0, (player, stats.stderr[-2000:])
        assert stats.invalid_actions == 0, player
    assert result.steps == 1000 or min(s.factories_alive for s in result.players.values()) == 0
    default, shipped = result.players["player_0"].stderr, result.players["player_1"].stderr
    assert "loaded" not in default, default[-2000:]  # the heuristic controller needs no weights
    # The shipped weights drove player_1's robots all game, through the numpy executor (onnxruntime is blocked).
    assert "loaded (backend numpy)" in shipped, shipped[-2000:]
    assert "heuristic controller" not in shipped, shipped[-2000:]


@pytest.mark.slow
def test_extracted_main_answers_kaggle_agent_fn_for_a_whole_game(extracted: Path) -> None:
    driver = REPO / "tests" / "helpers" / "kaggle_driver.py"
    run = subprocess.run([sys.executable, str(driver), str(extracted), "5", "48", "2", "5"], cwd=extracted,
                         env=no_onnxruntime_env(extracted), capture_output=True, text=True, timeout=900)
    assert run.returncode == 0, run.stderr[-3000:]
    outcome = json.loads(run.stdout.strip().splitlines()[-1])
    assert outcome["errors"] == 0 and outcome["invalid"] == 0, outcome
    assert outcome["steps"] == 1000 or min(outcome["factories"].values()) == 0, outcome
