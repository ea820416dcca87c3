#!/usr/bin/env bash
# Builds the consumer example (a Bazel workspace of its own that depends on libp2p_pubsub as an external
# repository) and smoke-tests it: two chat processes on loopback, B dialing A; a line typed into each one must
# come out of the other as "<author peer id>: <line>", and both must exit 0 at the end of their input.
# Exits 0 on success, non-zero with the reason otherwise. Always ends this workspace's Bazel server.
set -uo pipefail
cd "$(dirname "$0")"

BAZEL_FLAGS=(--color=no --curses=no)
TOPIC=consumer-example
TIMEOUT_S=20
work=$(mktemp -d)
pid_a=
pid_b=

cleanup() {
  exec 3>&- 4>&-
  [ -n "$pid_a" ] && kill "$pid_a" 2>/dev/null
  [ -n "$pid_b" ] && kill "$pid_b" 2>/dev/null
  wait 2>/dev/null
  rm -rf "$work"
  bazel shutdown >/dev/null 2>&1  # This workspace's server only; it would otherwise idle for hours.
}
trap cleanup EXIT

fail() {
  echo "example: FAILED: $*"
  for side in a b; do
    for stream in out err; do
      [ -s "$work/$side.$stream" ] && { echo "--- chat $side std$stream:"; cat "$work/$side.$stream"; }
    done
  done
  exit 1
}

echo "example: bazel build //:chat (in examples/consumer)"
if ! bazel build "${BAZEL_FLAGS[@]}" //:chat >"$work/build.log" 2>&1; then
  tail -n 60 "$work/build.log"
  fail "bazel build //:chat"
fi
tail -n 3 "$work/build.log"
chat="$(bazel info "${BAZEL_FLAGS[@]}" bazel-bin 2>/dev/null)/chat"
[ -x "$chat" ] || fail "no binary at $chat"

deadline=$((SECONDS + TIMEOUT_S))
# Polls until `file` has a line matching `regex` (extended) and sets `match` to the first one; fails when
# `pid` exits first or the deadline passes.
match=
wait_for() {
  local file=$1 regex=$2 pid=$3 what=$4
  while :; do
    match=$(grep -m 1 -E "$regex" "$file" 2>/dev/null) && return 0
    kill -0 "$pid" 2>/dev/null || fail "chat exited while waiting for $what"
    [ "$SECONDS" -lt "$deadline" ] || fail "no $what within ${TIMEOUT_S} s"
    sleep 0.1
  done
}
# Waits for `pid` to exit (bounded) and checks that it exited 0.
wait_exit() {
  local pid=$1 name=$2 rc
  while kill -0 "$pid" 2>/dev/null; do
    [ "$SECONDS" -lt "$deadline" ] || fail "chat $name did not exit at the end of its input"
    sleep 0.1
  done
  wait "$pid"
  rc=$?
  [ "$rc" -eq 0 ] || fail "chat $name exited with $rc"
}

# Each chat reads a fifo that this script holds open (fd 3 and 4), so closing it is the end of input.
mkfifo "$work/a.in" "$work/b.in"
"$chat" --listen /ip4/127.0.0.1/tcp/0 --topic "$TOPIC" <"$work/a.in" >"$work/a.out" 2>"$work/a.err" &
pid_a=$!
exec 3>"$work/a.in"
wait_for "$work/a.err" '^listening on /' "$pid_a" "listen address of A"
addr_a=${match#listening on }
id_a=${addr_a##*/p2p/}
echo "example: A listens on $addr_a"

"$chat" --listen /ip4/127.0.0.1/tcp/0 --dial "$addr_a" --topic "$TOPIC" \
  <"$work/b.in" >"$work/b.out" 2>"$work/b.err" &
pid_b=$!
exec 4>"$work/b.in"
wait_for "$work/b.err" '^listening on /' "$pid_b" "listen address of B"
id_b=${match##*/p2p/}
echo "example: B ($id_b) dials A"

# Publish only once the other side's subscription is known: floodsub sends to subscribed peers only.
wait_for "$work/b.err" "^peer $id_a joined $TOPIC\$" "$pid_b" "A's subscription at B"
wait_for "$work/a.err" "^peer $id_b joined $TOPIC\$" "$pid_a" "B's subscription at A"
echo "hello from B" >&4
wait_for "$work/a.out" "^$id_b: hello from B\$" "$pid_a" "B's message at A"
echo "example: A received \"$match\""
echo "hello from A" >&3
wait_for "$work/b.out" "^$id_a: hello from A\$" "$pid_b" "A's message at B"
echo "example: B received \"$match\""

exec 3>&- 4>&-
wait_exit "$pid_b" B
pid_b=
wait_exit "$pid_a" A
pid_a=
echo "example: passed (both chats exited 0 at the end of their input)"
