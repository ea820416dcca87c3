#!/usr/bin/env bash
# Installs what is missing (tools/setup.sh), then runs every CI gate listed in BUILD.ci and ends the Bazel
# server. Exits non-zero when any gate fails. The last line reads "ci: N passed, M failed".
set -uo pipefail
cd "$(dirname "$0")/.."
top=$(pwd)

bash tools/setup.sh || { echo "ci: set-up failed"; exit 1; }

BAZEL_FLAGS=(--color=no --curses=no)
passed=0
failed=0
failed_gates=()
log_dir=$(mktemp -d)

# Counts the test targets in a `bazel test --test_summary=short` log.
count_results() {
  local log=$1
  local p f
  p=$(grep -cE '^//[^ ]+ +(\(cached\) )?PASSED' "$log")
  f=$(grep -cE '^//[^ ]+ +(\(cached\) )?(FAILED|TIMEOUT|NO STATUS|FLAKY|INCOMPLETE|REMOTE FAILURE|FAILED TO BUILD)' "$log")
  passed=$((passed + p))
  failed=$((failed + f))
  echo "  $p passed, $f failed"
}

bazel_test() {
  local log="$log_dir/$CURRENT_GATE.log"
  bazel test "${BAZEL_FLAGS[@]}" --test_summary=short "$@" 2>&1 | tee "$log" | grep -vE '^(\[|INFO: From|Analyzing|Loading)' 
  local rc=${PIPESTATUS[0]}
  count_results "$log"
  # A build failure leaves no per-target lines; count it so it cannot pass silently.
  if [ "$rc" -ne 0 ] && ! grep -qE '^//.* (FAILED|TIMEOUT|NO STATUS)' "$log"; then
    failed=$((failed + 1))
  fi
  return "$rc"
}

fuzz() {
  local seconds=$1
  local targets
  targets=$(bazel query "${BAZEL_FLAGS[@]}" 'attr(tags, fuzz_target, tests(//...))' 2>/dev/null) || return 1
  if [ -z "$targets" ]; then
    echo "  no fuzz targets found"
    failed=$((failed + 1))
    return 1
  fi
  # shellcheck disable=SC2086
  bazel build "${BAZEL_FLAGS[@]}" --config=fuzz $targets 2>&1 | tail -n 3 || return 1
  [ "${PIPESTATUS[0]}" -eq 0 ] || { failed=$((failed + 1)); return 1; }
  local bin_dir
  bin_dir=$(bazel info "${BAZEL_FLAGS[@]}" --config=fuzz bazel-bin 2>/dev/null)
  # One fuzzer per core at a time (each is single-threaded); each leaves its exit status in its folder.
  local cores running=0 t pkg name work runs=()
  cores=$(nproc 2>/dev/null || echo 1)
  for t in $targets; do
    pkg=${t#//}
    pkg=${pkg%%:*}
    name=${t##*:}
    work="$log_dir/fuzz-$name"
    runs+=("$t $pkg $name $work")
    mkdir -p "$work/new"
    # New inputs go to a scratch folder; the checked-in corpus is only read.
    ("$bin_dir/$pkg/$name" -max_total_time="$seconds" -print_final_stats=1 -artifact_prefix="$work/" \
        "$work/new" "$top/$pkg/${name}_corpus" >"$work/log" 2>&1
      echo $? >"$work/status") &
    running=$((running + 1))
    if [ "$running" -ge "$cores" ]; then
      wait -n
      running=$((running - 1))
    fi
  done
  wait
  local rc=0 run
  for run in "${runs[@]}"; do
    read -r t pkg name work <<<"$run"
    if [ "$(cat "$work/status" 2>/dev/null)" = 0 ]; then
      echo "  $t: $(grep -E '^stat::number_of_executed_units' "$work/log" | awk '{print $2}') runs, no failure"
      passed=$((passed + 1))
    else
      echo "  $t: FAILED; the input that failed is kept in $work (add it to ${pkg}/${name}_corpus):"
      tail -n 30 "$work/log"
      failed=$((failed + 1))
      rc=1
    fi
  done
  return "$rc"
}

# Builds the //targets among the arguments (default config); the other arguments are left in `files`.
build_targets() {
  local targets=()
  files=()
  for arg in "$@"; do
    case "$arg" in
      //*) targets+=("$arg") ;;
      *) files+=("$arg") ;;
    esac
  done
  bazel build "${BAZEL_FLAGS[@]}" "${targets[@]}" 2>&1 | tail -n 2
  [ "${PIPESTATUS[0]}" -eq 0 ] || { failed=$((failed + 1)); return 1; }
}

# Counts the TAP results in $1 (the test command exited with $2): each test counts.
count_tap() {
  local log=$1 rc=$2 p f
  grep -E '^(not )?ok ' "$log" | sed 's/^/  /'
  p=$(grep -E '^# pass ' "$log" | awk '{print $3}')
  f=$(grep -E '^# fail ' "$log" | awk '{print $3}')
  passed=$((passed + ${p:-0}))
  failed=$((failed + ${f:-0}))
  if [ "$rc" -ne 0 ]; then
    [ "${f:-0}" -gt 0 ] || failed=$((failed + 1))
    grep -vE '^(ok|# )' "$log" | tail -n 60
  fi
  return "$rc"
}

# Builds the given Bazel targets, then runs node's test runner on the given test files with
# LIBP2P_BAZEL_BIN pointing at the built programs.
node_test() {
  build_targets "$@" || return 1
  local log="$log_dir/$CURRENT_GATE.log"
  LIBP2P_BAZEL_BIN=$(bazel info "${BAZEL_FLAGS[@]}" bazel-bin 2>/dev/null) \
    node --test --test-reporter=tap "${files[@]}" >"$log" 2>&1
  count_tap "$log" $?
}

# Builds the given Bazel targets, then runs mocha in the given folder (its .mocharc.json names the specs;
# its lockfile pins mocha) with LIBP2P_BAZEL_BIN pointing at the built programs.
mocha_test() {
  build_targets "$@" || return 1
  local log="$log_dir/$CURRENT_GATE.log"
  (cd "$top/${files[0]}" && LIBP2P_BAZEL_BIN=$(bazel info "${BAZEL_FLAGS[@]}" bazel-bin 2>/dev/null) \
    npx --no-install mocha --reporter tap) >"$log" 2>&1
  count_tap "$log" $?
}

run() {
  if "$@"; then passed=$((passed + 1)); else failed=$((failed + 1)); return 1; fi
}

gate() {
  CURRENT_GATE=$1
  local kind=$2
  shift 2
  echo "=== gate $CURRENT_GATE ($kind $*)"
  local start=$SECONDS
  if "$kind" "$@"; then
    echo "=== gate $CURRENT_GATE passed in $((SECONDS - start)) s"
  else
    echo "=== gate $CURRENT_GATE FAILED in $((SECONDS - start)) s"
    failed_gates+=("$CURRENT_GATE")
  fi
}

# shellcheck source=../BUILD.ci
source "$top/BUILD.ci"

bazel shutdown >/dev/null 2>&1 || true
if [ "${#failed_gates[@]}" -gt 0 ]; then
  echo "failed gates: ${failed_gates[*]}"
  echo "ci: $passed passed, $failed failed"
  exit 1
fi
echo "ci: $passed passed, $failed failed"
