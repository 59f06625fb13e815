#!/usr/bin/env bash
# Build dist/submission.tar.gz for Kaggle: main.py at the top level and only what the agent needs at run time.
#
# Kaggle's Lux S2 image runs Python 3.7 with numpy 1.21 and no onnxruntime, so every file is checked with
# vermin for Python 3.7 compatibility, and the build fails on a violation.
#
#   bash build_submission.sh                      numpy executor only (the safe default)
#   bash build_submission.sh --with-onnxruntime   also vendor onnxruntime 1.14.1 (the last cp37 wheel) into
#                                                 vendor/; the agent uses it only if it imports cleanly
set -euo pipefail
cd "$(dirname "$0")"

WITH_ORT=0
for arg in "$@"; do
  case "$arg" in
    --with-onnxruntime) WITH_ORT=1 ;;
    -h|--help) sed -n '2,9p' "$0"; exit 0 ;;
    *) echo "unknown option: $arg (see --help)" >&2; exit 2 ;;
  esac
done

PY=${PYTHON:-.venv/bin/python}
VERMIN=${VERMIN:-.venv/bin/vermin}
[ -x "$PY" ] || { echo "no $PY: run 'make setup' first" >&2; exit 1; }
[ -x "$VERMIN" ] || { echo "no $VERMIN: run 'make setup' first" >&2; exit 1; }
[ -f weights/policy.onnx ] || echo "warning: weights/policy.onnx is missing; the agent will play with its heuristic unit controller" >&2

STAGE=$(mktemp -d)
trap 'rm -rf "$STAGE"' EXIT
mkdir -p "$STAGE/magma_policy" dist

# Run-time files only: the torch network and the exporter stay behind.
cp main.py agent.py "$STAGE/"
cp -r lux strategy "$STAGE/"
shopt -s nullglob
for f in magma_policy/*.py; do
  case "$(basename "$f")" in
    network.py|export.py) ;;
    *) cp "$f" "$STAGE/magma_policy/" ;;
  esac
done
if [ -d weights ]; then
  mkdir -p "$STAGE/weights"
  find weights -maxdepth 1 -type f \( -name '*.onnx' -o -name '*.json' \) -exec cp {} "$STAGE/weights/" \;
fi
find "$STAGE" -name '__pycache__' -prune -exec rm -rf {} +

echo "== vermin: checking that every file runs on Python 3.7"
"$VERMIN" -t=3.7- --no-tips --violations -q --no-parse-comments "$STAGE" \
  || { echo "vermin found code that needs a Python newer than 3.7 (see above); the build stops." >&2; exit 1; }
"$PY" - "$STAGE" <<'PYCHECK'
# The runtime must not import torch, onnxruntime (unguarded) or luxai_s2: Kaggle's agent image lacks them.
import ast, pathlib, sys
banned = {"torch", "luxai_s2", "luxai_runner", "gym", "gymnasium"}
bad = []
for path in pathlib.Path(sys.argv[1]).rglob("*.py"):
    for node in ast.walk(ast.parse(path.read_text())):
        names = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        bad += ["%s imports %s" % (path.name, n) for n in names if n.split(".")[0] in banned]
if bad:
    sys.exit("run-time files import packages Kaggle's image lacks:\n" + "\n".join(bad))
PYCHECK

if [ "$WITH_ORT" = 1 ]; then
  echo "== vendoring onnxruntime 1.14.1 (cp37, manylinux) into vendor/"
  WHEELS=$(mktemp -d)
  "$PY" -m pip download --quiet --disable-pip-version-check --no-deps --only-binary=:all: \
    --python-version 3.7 --implementation cp --abi cp37m --platform manylinux_2_17_x86_64 \
    --platform manylinux2014_x86_64 -d "$WHEELS" onnxruntime==1.14.1
  mkdir -p "$STAGE/vendor"
  "$PY" -m zipfile -e "$WHEELS"/onnxruntime-1.14.1-*.whl "$STAGE/vendor/"
  rm -rf "$STAGE"/vendor/*.dist-info "$STAGE"/vendor/onnxruntime/{tools,transformers,quantization,datasets} "$WHEELS"
fi

tar -czf dist/submission.tar.gz -C "$STAGE" .
echo "== dist/submission.tar.gz"
tar -tzf dist/submission.tar.gz | grep -v '/$' | sort | grep -v '^./vendor/' || true
[ "$WITH_ORT" = 1 ] && echo "./vendor/onnxruntime/... ($(tar -tzf dist/submission.tar.gz | grep -c '^./vendor/') entries)"
SIZE=$(du -k dist/submission.tar.gz | cut -f1)
echo "size: ${SIZE} KiB"
