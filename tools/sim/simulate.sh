#!/usr/bin/env bash
# One command from a scenario to its report: builds the simulator (-c opt, or the compilation mode in
# $SIM_COMPILATION_MODE), runs it with the given flags and turns its output into the plots and report.md of
# tools/sim/report.sh, in the same folder.
#
#   tools/sim/simulate.sh --out DIR [simulator flags...] [--report-flags 'REPORT FLAGS']
#
# Every flag but --report-flags goes to the simulator (tools/sim/README.md lists them; --out is required).
# --report-flags passes a string of flags to report.sh (e.g. '--topic beacon_block --baseline /tmp/base').
# Exit status: the simulator's when it fails (1 for a failed --check), else report.sh's; 2 on a usage error.
set -euo pipefail
cd "$(dirname "$0")/../.."

sim_flags=()
report_flags=""
out=""
while [ $# -gt 0 ]; do
  case "$1" in
    --report-flags)
      [ $# -ge 2 ] || { echo "simulate.sh: --report-flags needs a value" >&2; exit 2; }
      report_flags=$2
      shift 2
      ;;
    --out)
      [ $# -ge 2 ] || { echo "simulate.sh: --out needs a folder" >&2; exit 2; }
      out=$2
      sim_flags+=("$1" "$2")
      shift 2
      ;;
    *)
      sim_flags+=("$1")
      shift
      ;;
  esac
done
[ -n "$out" ] || { echo "usage: simulate.sh --out DIR [simulator flags...] [--report-flags 'FLAGS']" >&2; exit 2; }

mode=${SIM_COMPILATION_MODE:-opt}
bazel build -c "$mode" --color=no --curses=no //tools/sim:simulator 2>&1 | tail -n 1 >&2
simulator="$(bazel info -c "$mode" --color=no bazel-bin 2>/dev/null)/tools/sim/simulator"
status=0
# Transparent huge pages for the simulator's heap, unless the caller set glibc's tunables: a run chases
# pointers through hundreds of MiB of nodes' state, and 2 MiB pages spare it most TLB misses
# (tools/sim/README.md, "Speed and memory").
GLIBC_TUNABLES=${GLIBC_TUNABLES:-glibc.malloc.hugetlb=1} "$simulator" "${sim_flags[@]}" || status=$?
# A failed check still leaves its output: report it, then exit with the check's status.
[ -f "$out/deliveries.csv" ] || exit "$status"
# shellcheck disable=SC2086
bash tools/sim/report.sh "$out" $report_flags
exit "$status"
