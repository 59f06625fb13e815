"""Make the `luxai-s2` runner work on Python >= 3.11, idempotently.

luxai-s2 3.0.1 (the last release) has two lines in `luxai_runner/episode.py` that break on 3.11:
1. a dataclass field with an unhashable default instance (`ReplayConfig()`), rejected at import;
2. `asyncio.wait` over bare coroutines, a TypeError since 3.11.
This script rewrites both, says what it did, and then imports the module and checks the fix took.
"""
from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

PATCHES = [
    (
        "    replay_options: ReplayConfig = ReplayConfig()\n",
        "    replay_options: ReplayConfig = dataclasses.field(default_factory=ReplayConfig)\n",
    ),
    (
        "        await asyncio.wait(start_tasks, return_when=asyncio.ALL_COMPLETED)\n",
        "        await asyncio.gather(*start_tasks)\n",
    ),
]


def episode_file() -> Path:
    spec = importlib.util.find_spec("luxai_runner")
    if spec is None or not spec.submodule_search_locations:
        sys.exit("luxai_runner is not installed in this interpreter; run `make setup` first.")
    return Path(list(spec.submodule_search_locations)[0]) / "episode.py"


def main() -> None:
    path = episode_file()
    text = path.read_text()
    for broken, fixed in PATCHES:
        if fixed in text:
            print(f"luxai_runner already patched: {fixed.strip()}")
        elif broken in text:
            text = text.replace(broken, fixed)
            print(f"luxai_runner patched: {broken.strip()} -> {fixed.strip()}")
        else:
            sys.exit(f"unexpected content in {path}: cannot find the line to patch:\n{broken}")
    path.write_text(text)
    # Check in a fresh interpreter that the module imports and that the runner's start-up is fixed.
    check = (
        "import luxai_runner.episode as e, inspect; src = inspect.getsource(e.Episode.run); "
        "assert 'asyncio.gather(*start_tasks)' in src; e.EpisodeConfig(players=['a', 'b'], env_cls=None)"
    )
    subprocess.run([sys.executable, "-c", check], check=True)
    print(f"luxai_runner patch verified in {path}")


if __name__ == "__main__":
    main()
