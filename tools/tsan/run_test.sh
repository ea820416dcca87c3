#!/bin/sh
# Runs a test under --config=tsan (the .bazelrc's --run_under): adds the suppressions file, which comes
# beside this script in the test's runfiles, to the TSAN_OPTIONS that the .bazelrc sets, then runs the test.
suppressions="$(dirname "$0")/suppressions.txt"
if [ ! -r "$suppressions" ]; then
  echo "run_test: cannot read $suppressions" >&2
  exit 1
fi
export TSAN_OPTIONS="${TSAN_OPTIONS:+$TSAN_OPTIONS:}suppressions=$suppressions"
exec "$@"
