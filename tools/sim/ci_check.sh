#!/usr/bin/env bash
# The simulation gate: runs each CI scenario twice with one seed and checks that the two runs wrote
# byte-identical CSV files, that every measured message reached every subscriber within the scenario's bound
# (the simulator's --check), and that the report tool turns the output into its figures.
# Usage: tools/sim/ci_check.sh [OUT_DIR]. Exits 0 when every check holds.
set -euo pipefail
cd "$(dirname "$0")/../.."

BAZEL_FLAGS=(--color=no --curses=no)
out=${1:-$(mktemp -d)}
mkdir -p "$out"
bazel build "${BAZEL_FLAGS[@]}" //tools/sim:simulator 2>&1 | tail -n 1
simulator="$(bazel info "${BAZEL_FLAGS[@]}" bazel-bin 2>/dev/null)/tools/sim/simulator"

# name, then the simulator's flags.
scenarios=(
  "blob-100 --scenario blob --nodes 100 --seed 1"
  "ethereum-100 --scenario ethereum --nodes 100 --seed 1 --duration-s 60 --jitter-ms 5"
)
status=0
for entry in "${scenarios[@]}"; do
  read -r name flags <<<"$entry"
  for run in 1 2; do
    # shellcheck disable=SC2086
    if ! "$simulator" $flags --out "$out/$name-$run" --check >"$out/$name-$run.txt" 2>"$out/$name-$run.err"; then
      echo "  $name run $run: FAILED"
      cat "$out/$name-$run.txt" "$out/$name-$run.err" | tail -n 20
      status=1
      continue 2
    fi
  done
  echo "  $name: $(sed -n 2p "$out/$name-1.txt")"
  for f in deliveries.csv expected.csv nodes.csv mesh.csv; do
    if ! cmp -s "$out/$name-1/$f" "$out/$name-2/$f"; then
      echo "  $name: FAILED: the two runs wrote different $f"
      diff "$out/$name-1/$f" "$out/$name-2/$f" | head -n 10
      status=1
    fi
  done
  if ! bash tools/sim/report.sh "$out/$name-1" --title "$name" >/dev/null 2>"$out/$name-report.err"; then
    echo "  $name: FAILED: report.sh: $(cat "$out/$name-report.err")"
    status=1
  fi
done
[ "$status" -eq 0 ] && echo "  every scenario: delivered within its bound, identical twice, reported"
exit "$status"
