#!/usr/bin/env bash
# Runs report.sh on the hand-written simulation output in testdata/ and checks the figures are PNG files and
# the report states the figures worked out by hand for that output:
#   attack:   latencies 40 50 70 90 120 150 200 300 ms (nearest-rank p50 = 90, p99 = max = 300);
#             duplicates 0+1+2 + 0+1+0 + 0+3 = 7 over 8 deliveries = 0.875; 8 of 9 expected = 88.9%;
#             run length 4 s (last mesh sample), bytes sent 409600+81920+122880+40960 -> mean 40.0 KiB/s,
#             received 204800+163840+245760+122880 -> mean 45.0 KiB/s; last mesh sample degrees 2 3 3 3.
#             scores at 4 s: honest peers (3 + 5) / 2 = 4, Sybils (-20 - 10) / 2 = -15, lowest -20.
#   baseline: latencies 30 35 45 60 65 80 100 110 130 ms (p50 = 65, max = 130); 1 duplicate in 9 = 0.111.
# Then checks that a missing or malformed file stops it with a message naming the file and a non-zero status.
set -euo pipefail

report=tools/sim/report.sh
data=tools/sim/testdata
tmp=${TEST_TMPDIR:-$(mktemp -d)}
failed=0

fail() {
  echo "report_test: FAIL: $*"
  failed=1
}

if ! command -v gnuplot >/dev/null 2>&1; then
  echo "report_test: FAIL: gnuplot is not installed; install the Debian package gnuplot-nox (tools/setup.sh does)"
  exit 1
fi

# --- a run against its baseline ---
out=$tmp/with_baseline
if ! bash "$report" "$data/attack" --baseline "$data/baseline" --title "fixture" --out "$out" 2>"$tmp/err"; then
  cat "$tmp/err"
  fail "report.sh failed on the fixture"
fi
for png in latency_cdf duplicates bandwidth delivery_ratio mesh_degree scores; do
  f=$out/$png.png
  if [ ! -s "$f" ]; then
    fail "$png.png is missing or empty"
  elif [ "$(head -c 8 "$f" | od -An -tx1 | tr -d ' \n')" != "89504e470d0a1a0a" ]; then
    fail "$png.png is not a PNG file"
  fi
  grep -qF "]($png.png)" "$out/report.md" || fail "report.md does not embed $png.png"
done

broken() {
  rm -rf "$tmp/broken"
  cp -rL "$data/attack" "$tmp/broken"
  chmod -R u+w "$tmp/broken"
}

expect_line() {
  grep -qxF "$2" "$1" || fail "$(basename "$(dirname "$1")")/report.md lacks the line: $2"
}
md=$out/report.md
expect_line "$md" "| messages | 3 | 3 |"
expect_line "$md" "| deliveries | 8 | 9 |"
expect_line "$md" "| delivery ratio | 88.9% | 100.0% |"
expect_line "$md" "| latency p50 (ms) | 90 | 65 |"
expect_line "$md" "| latency p99 (ms) | 300 | 130 |"
expect_line "$md" "| latency max (ms) | 300 | 130 |"
expect_line "$md" "| mean duplicates per delivery | 0.875 | 0.111 |"
expect_line "$md" "| super | 1 | 100.0 | 50.0 | 100.0 | 50.0 |"
expect_line "$md" "| full | 3 | 20.0 | 43.3 | 30.0 | 60.0 |"
expect_line "$md" "| all | 4 | 40.0 | 45.0 | 100.0 | 60.0 |"
expect_line "$md" "Mesh degree across nodes and topics at 4 s: min 2, mean 2.75, max 3."
grep -qF "run length of 4 s" "$md" || fail "report.md does not state the 4 s run length"
expect_line "$md" "Scores at 4 s, as honest nodes see their peers: honest peers mean 4.000, Sybils mean -15.000 (lowest -20.000)."

# --- without scores.csv (scoring off): no scores figure, and the report says so ---
broken
rm "$tmp/broken/scores.csv"
if bash "$report" "$tmp/broken" --out "$tmp/unscored" 2>"$tmp/err"; then
  expect_line "$tmp/unscored/report.md" "No peer scores (scoring off, or no scores.csv)."
  [ ! -e "$tmp/unscored/scores.png" ] || fail "a scores figure without scores"
else
  cat "$tmp/err"
  fail "report.sh failed without scores.csv"
fi

# --- one run alone, an explicit duration, a log axis ---
out=$tmp/alone
if bash "$report" "$data/attack" --duration-s 8 --log-x --out "$out" 2>"$tmp/err"; then
  expect_line "$out/report.md" "| latency p50 (ms) | 90 |"
  expect_line "$out/report.md" "| all | 4 | 20.0 | 22.5 | 50.0 | 30.0 |"
  [ -s "$out/delivery_ratio.png" ] || fail "no delivery_ratio.png without a baseline"
else
  cat "$tmp/err"
  fail "report.sh failed on the fixture without a baseline"
fi

# --- one topic: the fixture's messages are all on "blocks", none on "other" ---
if bash "$report" "$data/attack" --topic blocks --out "$tmp/blocks" 2>"$tmp/err" &&
  bash "$report" "$data/attack" --topic other --out "$tmp/other" 2>>"$tmp/err"; then
  expect_line "$tmp/blocks/report.md" "| deliveries | 8 |"
  expect_line "$tmp/blocks/report.md" "| latency p50 (ms) | 90 |"
  expect_line "$tmp/blocks/report.md" "Topic: \`blocks\` only."
  expect_line "$tmp/other/report.md" "| messages | 0 |"
  expect_line "$tmp/other/report.md" "| deliveries | 0 |"
else
  cat "$tmp/err"
  fail "report.sh failed with --topic"
fi

# --- a run in which no node received anything: a report without the figures that have no data ---
broken
head -1 "$data/attack/deliveries.csv" >"$tmp/broken/deliveries.csv"
if bash "$report" "$tmp/broken" --out "$tmp/nothing" 2>"$tmp/err"; then
  expect_line "$tmp/nothing/report.md" "| deliveries | 0 |"
  expect_line "$tmp/nothing/report.md" "| delivery ratio | 0.0% |"
  expect_line "$tmp/nothing/report.md" "| messages no node received | 3 |"
  expect_line "$tmp/nothing/report.md" "| latency p50 (ms) | n/a |"
  [ ! -e "$tmp/nothing/latency_cdf.png" ] || fail "a latency CDF without deliveries"
  [ -s "$tmp/nothing/delivery_ratio.png" ] || fail "no delivery_ratio.png without deliveries"
else
  cat "$tmp/err"
  fail "report.sh failed on a run without deliveries"
fi

# --- bad input: non-zero exit and a message that names the problem ---
# expect_error STATUS PATTERN ARGS...: report.sh ARGS must exit with STATUS and print PATTERN on stderr.
expect_error() {
  local want=$1 pattern=$2 status=0
  shift 2
  bash "$report" "$@" >/dev/null 2>"$tmp/err" || status=$?
  if [ "$status" -ne "$want" ]; then
    fail "report.sh $* exited with $status, expected $want"
  elif ! grep -qF -- "$pattern" "$tmp/err"; then
    fail "report.sh $* did not say \"$pattern\"; it said: $(cat "$tmp/err")"
  fi
}

expect_error 2 "usage:"
expect_error 2 "unknown option --frobnicate" "$data/attack" --frobnicate
expect_error 1 "--duration-s must be a positive number" "$data/attack" --duration-s abc --out "$tmp/x"
expect_error 1 "nowhere: not a directory" "$tmp/nowhere" --out "$tmp/x"

broken
rm "$tmp/broken/mesh.csv"
expect_error 1 "broken/mesh.csv: missing" "$tmp/broken" --out "$tmp/x"

broken
sed -i '3s/,120,2$/,12O,2/' "$tmp/broken/deliveries.csv"
expect_error 1 "deliveries.csv: line 3: field 6 is \"12O\", not a non-negative number" "$tmp/broken" --out "$tmp/x"

broken
sed -i '4s/,3$/,0/' "$tmp/broken/deliveries.csv"
expect_error 1 "deliveries.csv: line 4: field 7 is \"0\", not an integer of at least 1" "$tmp/broken" --out "$tmp/x"

broken
sed -i '2s/,3$//' "$tmp/broken/expected.csv"
expect_error 1 "expected.csv: line 2: 4 fields, expected 5" "$tmp/broken" --out "$tmp/x"

broken
sed -i '1s/bytes_sent/sent/' "$tmp/broken/nodes.csv"
expect_error 1 "nodes.csv: line 1: the header is" "$tmp/broken" --out "$tmp/x"

broken
rm "$tmp/broken/expected.csv"
expect_error 1 "broken/expected.csv: missing" "$data/attack" --baseline "$tmp/broken" --out "$tmp/x"

[ "$failed" -eq 0 ] && echo "report_test: all checks passed"
exit "$failed"
