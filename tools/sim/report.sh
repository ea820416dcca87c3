#!/usr/bin/env bash
# Turns the CSV output of one network simulation (and optionally a second, baseline run) into PNG plots and
# a short report.md that embeds them:
#   latency_cdf.png     propagation latency CDF (time from publish to a node first having the message)
#   duplicates.png      histogram of the per-message mean number of duplicate receptions
#   bandwidth.png       bytes sent and received per node in KiB/s, each sorted
#   delivery_ratio.png  fraction of the expected deliveries reached by time t after publish (with the baseline)
#   mesh_degree.png     mesh degree over time: min, mean and max across nodes
#   scores.png          peer scores over time, as honest nodes see their peers: the mean for honest peers and
#                       for Sybils, and the lowest Sybil score (only when scores.csv has rows)
#
# Input (comma-separated, one header line, times in milliseconds, no quoting):
#   deliveries.csv  message,topic,publisher,publish_ms,node,first_ms,copies
#   expected.csv    message,topic,publisher,publish_ms,expected
#   nodes.csv       node,region,class,bytes_sent,bytes_received,mesh_degree
#   mesh.csv        time_ms,node,topic,degree
#   scores.csv      time_ms,node,peer,peer_class,score (optional; peer_class honest or sybil)
# A baseline directory needs only deliveries.csv and expected.csv.
#
# Percentiles are nearest-rank: the p-th is the smallest sample with at least p% of the samples at or below it.
# Exit status: 0 on success, 1 on a missing or malformed input file or a failed plot, 2 on a usage error.
# Needs gnuplot (Debian package gnuplot-nox, installed by tools/setup.sh), awk and sort.
set -euo pipefail
export LC_ALL=C

readonly PROG=report.sh

usage() {
  cat >&2 <<EOF
usage: $PROG OUT_DIR [--baseline DIR] [--title TEXT] [--out DIR] [--duration-s SECONDS] [--log-x] [--topic T]
  OUT_DIR          a simulation output directory (deliveries.csv, expected.csv, nodes.csv, mesh.csv)
  --baseline DIR   a second run (e.g. without attackers) drawn beside this one
  --title TEXT     title of the report and the plots (default: the directory's name)
  --topic T        only the messages and meshes of topic T (bandwidth stays the whole run's)
  --out DIR        where to write report.md and the PNG files (default: OUT_DIR)
  --duration-s S   run length for the bandwidth figures (default: the time of the last event in the output)
  --log-x          logarithmic time axis for the latency CDF and the delivery ratio
EOF
  exit 2
}

die() {
  echo "$PROG: $*" >&2
  exit 1
}

# Quotes a string for a gnuplot script: single quotes, in which only a doubled quote is special.
gq() {
  printf "'%s'" "${1//\'/\'\'}"
}

# Checks FILE: the header must be HEADER exactly; every other non-blank line must have as many fields; the
# columns listed (1-based, space-separated) in NUMERIC must be non-negative decimal numbers and those in
# POSITIVE_INT integers of at least 1. Writes the rows without the header (and without CRs) to DEST.
load_csv() {
  local file=$1 header=$2 numeric=$3 positive_int=$4 dest=$5
  [ -f "$file" ] || die "$file: missing (expected a CSV file with the header '$header')"
  awk -F, -v file="$file" -v header="$header" -v numeric="$numeric" -v positive_int="$positive_int" '
    function fail(msg) { printf "%s: line %d: %s\n", file, FNR, msg > "/dev/stderr"; failed = 1; exit 1 }
    BEGIN {
      ncols = split(header, unused, ",")
      n = split(numeric, cols, " "); for (i = 1; i <= n; i++) is_num[cols[i]] = 1
      n = split(positive_int, cols, " "); for (i = 1; i <= n; i++) is_pos[cols[i]] = 1
    }
    { sub(/\r$/, "") }
    FNR == 1 {
      if ($0 != header) fail("the header is \"" $0 "\", expected \"" header "\"")
      next
    }
    /^[ \t]*$/ { next }
    {
      if (NF != ncols) fail(NF " fields, expected " ncols " (" header ")")
      for (c in is_num)
        if ($c !~ /^[0-9]+(\.[0-9]*)?([eE][-+]?[0-9]+)?$/) fail("field " c " is \"" $c "\", not a non-negative number")
      for (c in is_pos)
        if ($c !~ /^[0-9]+$/ || $c + 0 < 1) fail("field " c " is \"" $c "\", not an integer of at least 1")
      print
    }
    END {
      if (failed) exit 1
      if (FNR == 0) { printf "%s: empty (no header line)\n", file > "/dev/stderr"; exit 1 }
    }' "$file" >"$dest" || die "$file: malformed"
}

# Loads and validates the run in DIR under the name PREFIX in $work. With FULL=1 also nodes.csv and mesh.csv.
load_run() {
  local dir=$1 prefix=$2 full=$3
  [ -d "$dir" ] || die "$dir: not a directory"
  load_csv "$dir/deliveries.csv" "message,topic,publisher,publish_ms,node,first_ms,copies" "4 6" "7" \
    "$work/$prefix.deliveries"
  load_csv "$dir/expected.csv" "message,topic,publisher,publish_ms,expected" "4 5" "" "$work/$prefix.expected"
  if [ "$full" -eq 1 ]; then
    load_csv "$dir/nodes.csv" "node,region,class,bytes_sent,bytes_received,mesh_degree" "4 5 6" "" \
      "$work/$prefix.nodes"
    load_csv "$dir/mesh.csv" "time_ms,node,topic,degree" "1 4" "" "$work/$prefix.mesh"
    if [ -f "$dir/scores.csv" ]; then
      load_csv "$dir/scores.csv" "time_ms,node,peer,peer_class,score" "1" "" "$work/$prefix.scores"
    else
      : >"$work/$prefix.scores"
    fi
  fi
  if [ -n "$topic" ]; then
    only_topic 2 "$work/$prefix.deliveries"
    only_topic 2 "$work/$prefix.expected"
    [ "$full" -eq 0 ] || only_topic 3 "$work/$prefix.mesh"
  fi
}

# Keeps the rows of FILE whose field COLUMN is $topic.
only_topic() {
  local column=$1 file=$2
  awk -F, -v c="$column" -v t="$topic" '$c == t' "$file" >"$file.topic"
  mv "$file.topic" "$file"
}

# Computes the delivery figures of run PREFIX: $work/PREFIX.latency (sorted first_ms), PREFIX.cdf and
# PREFIX.ratio (plot data), PREFIX.dups (per-message mean duplicates) and PREFIX.summary (key=value lines).
aggregate_deliveries() {
  local prefix=$1
  cut -d, -f6 "$work/$prefix.deliveries" | sort -g >"$work/$prefix.latency"
  local expected_total
  expected_total=$(awk -F, '{ s += $5 } END { printf "%d", s }' "$work/$prefix.expected")
  # CDF over the deliveries; ratio over the expected deliveries (a step from 0 at t = 0). Both are thinned
  # to about 4,000 points (each kept point is exact; the steps between them are at most 1/4,000 low).
  awk -v te="$expected_total" -v cdf="$work/$prefix.cdf" -v ratio="$work/$prefix.ratio" '
    { n[NR] = $1 }
    END {
      if (te > 0) print 0, 0 > ratio
      if (NR > 0) print n[1], 0 > cdf
      step = NR / 4000
      for (i = 1; i <= NR; i++) {
        # Keep the last of equal times, and then only every step-th sample (and the last).
        if (i < NR && (n[i + 1] == n[i] || i - kept < step)) continue
        kept = i
        print n[i], i / NR > cdf
        if (te > 0) print n[i], i / te > ratio
      }
    }' "$work/$prefix.latency"
  touch "$work/$prefix.cdf" "$work/$prefix.ratio"
  awk -F, '{ dup[$1] += $7 - 1; cnt[$1]++ } END { for (m in dup) print dup[m] / cnt[m] }' \
    "$work/$prefix.deliveries" | sort -g >"$work/$prefix.dups"
  {
    awk -F, '{ m++ } END { print "messages=" m + 0 }' "$work/$prefix.expected"
    echo "expected=$expected_total"
    awk -F, '
      FILENAME == ARGV[1] { got[$1] = 1; next }
      !($1 in got) { none++ }
      END { print "undelivered_messages=" none + 0 }' "$work/$prefix.deliveries" "$work/$prefix.expected"
    awk -F, '{ n++; d += $7 - 1 } END {
      print "deliveries=" n + 0
      print "mean_dups=" (n > 0 ? sprintf("%.3f", d / n) : "n/a") }' "$work/$prefix.deliveries"
    awk -v te="$expected_total" '
      function rank(p,   k) { k = p * NR / 100; if (k > int(k)) k = int(k) + 1; if (k < 1) k = 1; return v[k] }
      { v[NR] = $1 }
      END {
        print "ratio=" (te > 0 ? sprintf("%.1f%%", 100 * NR / te) : "n/a")
        if (NR == 0) { print "p50=n/a"; print "p99=n/a"; print "max=n/a"; exit }
        printf "p50=%.6g\np99=%.6g\nmax=%.6g\n", rank(50), rank(99), v[NR]
      }' "$work/$prefix.latency"
  } >"$work/$prefix.summary"
}

# The value of KEY in run PREFIX's summary.
summary() {
  sed -n "s/^$2=//p" "$work/$1.summary"
}

# --- arguments -------------------------------------------------------------------------------------------

out_dir="" baseline="" title="" dest="" duration_s="" log_x=0 topic=""
while [ $# -gt 0 ]; do
  case $1 in
    --baseline) [ $# -ge 2 ] || usage; baseline=$2; shift 2 ;;
    --title) [ $# -ge 2 ] || usage; title=$2; shift 2 ;;
    --out) [ $# -ge 2 ] || usage; dest=$2; shift 2 ;;
    --duration-s) [ $# -ge 2 ] || usage; duration_s=$2; shift 2 ;;
    --log-x) log_x=1; shift ;;
    --topic) [ $# -ge 2 ] || usage; topic=$2; shift 2 ;;
    -h | --help) usage ;;
    -*) echo "$PROG: unknown option $1" >&2; usage ;;
    *) [ -z "$out_dir" ] || usage; out_dir=$1; shift ;;
  esac
done
[ -n "$out_dir" ] || usage
if [ -n "$duration_s" ] && ! awk -v d="$duration_s" 'BEGIN { exit !(d ~ /^[0-9]+(\.[0-9]*)?$/ && d + 0 > 0) }'; then
  die "--duration-s must be a positive number of seconds, not '$duration_s'"
fi
[ -n "$title" ] || title=$(basename "$(cd "$out_dir" 2>/dev/null && pwd || echo "$out_dir")")
[ -n "$dest" ] || dest=$out_dir

command -v gnuplot >/dev/null 2>&1 ||
  die "gnuplot not found: install the Debian package gnuplot-nox (tools/setup.sh installs it)"

work=$(mktemp -d "${TMPDIR:-/tmp}/sim-report.XXXXXX")
trap 'rm -rf "$work"' EXIT

# --- load and aggregate ----------------------------------------------------------------------------------

load_run "$out_dir" run 1
aggregate_deliveries run
if [ -n "$baseline" ]; then
  load_run "$baseline" base 0
  aggregate_deliveries base
fi

# Both runs' curves run on to the same end (a little past the last delivery of either), so that where each
# one ends up stays visible; a logarithmic axis cannot show t = 0.
x_end=$(cat "$work"/*.latency | awk '$1 > m { m = $1 } END { print (m > 0 ? m * 1.05 : 1) }')
for f in "$work"/*.cdf "$work"/*.ratio; do
  [ -s "$f" ] || continue
  awk -v x_end="$x_end" -v log_x="$log_x" '
    !log_x || $1 > 0 { print }
    { y = $2 }
    END { print x_end, y }' "$f" >"$f.tmp"
  mv "$f.tmp" "$f"
done

# Run length: given, or the last event in the output (a delivery, a publish or a mesh sample), whole seconds.
if [ -z "$duration_s" ]; then
  duration_s=$(awk -F, '
    FILENAME ~ /deliveries$/ { t = $4 + $6 }
    FILENAME ~ /expected$/ { t = $4 }
    FILENAME ~ /mesh$/ { t = $1 }
    t > last { last = t }
    END { s = int(last / 1000); if (s * 1000 < last) s++; if (s < 1) s = 1; print s }' \
    "$work/run.deliveries" "$work/run.expected" "$work/run.mesh")
  duration_note="the time of the last event in the output, rounded up to whole seconds"
else
  duration_note="given with --duration-s"
fi

# Bandwidth per node (KiB/s), each direction sorted; per-class means and maxima for the report.
awk -F, -v d="$duration_s" '{ print $4 / 1024 / d }' "$work/run.nodes" | sort -g | awk '{ print NR, $1 }' \
  >"$work/sent.dat"
awk -F, -v d="$duration_s" '{ print $5 / 1024 / d }' "$work/run.nodes" | sort -g | awk '{ print NR, $1 }' \
  >"$work/received.dat"
bandwidth_rows=$(awk -F, -v d="$duration_s" '
  function row(name, n, s, r, ms, mr) {
    printf "| %s | %d | %.1f | %.1f | %.1f | %.1f |\n", name, n, s / n / 1024 / d, r / n / 1024 / d,
      ms / 1024 / d, mr / 1024 / d
  }
  {
    if (!($3 in n)) order[++classes] = $3
    n[$3]++; s[$3] += $4; r[$3] += $5
    if ($4 > ms[$3]) ms[$3] = $4
    if ($5 > mr[$3]) mr[$3] = $5
    N++; S += $4; R += $5
    if ($4 > MS) MS = $4
    if ($5 > MR) MR = $5
  }
  END {
    for (i = 1; i <= classes; i++) row(order[i], n[order[i]], s[order[i]], r[order[i]], ms[order[i]], mr[order[i]])
    if (N > 0) row("all", N, S, R, MS, MR)
  }' "$work/run.nodes")

# Mesh degree per sample time: min, mean and max across (node, topic) rows.
awk -F, '
  !($1 in n) { lo[$1] = $4; hi[$1] = $4 }
  { n[$1]++; sum[$1] += $4; if ($4 < lo[$1]) lo[$1] = $4; if ($4 > hi[$1]) hi[$1] = $4 }
  END { for (t in n) print t / 1000, lo[t], sum[t] / n[t], hi[t] }' "$work/run.mesh" | sort -g >"$work/mesh.dat"
mesh_top=$(awk '$4 > m { m = $4 } END { print m + 1 }' "$work/mesh.dat")
mesh_last=$(awk 'END { if (NR > 0) printf "at %.6g s: min %d, mean %.2f, max %d", $1, $2, $3, $4 }' "$work/mesh.dat")

# Peer scores per sample time, from the honest nodes' rows: mean for honest peers, mean for Sybils, lowest
# Sybil ("NaN" where there is none).
awk -F, 'NR == FNR { if ($3 == "sybil") sybil_node[$1] = 1; next }
  !($2 in sybil_node) {
    t = $1 / 1000; seen[t] = 1
    if ($4 == "sybil") { sn[t]++; ss[t] += $5; if (!(t in lo) || $5 < lo[t]) lo[t] = $5 }
    else { hn[t]++; hs[t] += $5 }
  }
  END {
    for (t in seen) {
      printf "%s %s %s %s\n", t, hn[t] ? sprintf("%.3f", hs[t] / hn[t]) : "NaN",
        sn[t] ? sprintf("%.3f", ss[t] / sn[t]) : "NaN", (t in lo) ? sprintf("%.3f", lo[t]) : "NaN"
    }
  }' "$work/run.nodes" "$work/run.scores" | sort -g >"$work/scores.dat"
scores_last=$(awk 'END { if (NR > 0) printf "at %.6g s, as honest nodes see their peers: honest peers mean %s, Sybils mean %s (lowest %s)", $1, $2, $3, $4 }' "$work/scores.dat")

# Duplicates histogram: ten bins from the smallest to the largest per-message mean (the largest in the last).
read -r dups_lo dups_bin < <(awk 'NR == 1 { lo = $1 } { hi = $1 }
  END { w = (hi - lo) / 10; if (w <= 0) w = (lo > 0 ? lo / 10 : 0.1); print lo + 0, w }' "$work/run.dups")

# --- plots -----------------------------------------------------------------------------------------------

mkdir -p "$dest" || die "$dest: cannot create the output directory"
terminal="pngcairo size 900,560 noenhanced font ',11'"
gnuplot -e "set terminal pngcairo" >/dev/null 2>&1 || terminal="png size 900,560 noenhanced"

has_data() { [ -s "$1" ]; }
base_label="baseline"
figures=()

{
  echo "set terminal $terminal"
  echo "set grid"
  echo "set key below"

  if has_data "$work/run.cdf"; then
    figures+=("latency_cdf.png|Propagation latency CDF: the time from publish to a node first having the message")
    echo "set output $(gq "$dest/latency_cdf.png")"
    echo "set title $(gq "$title: propagation latency CDF")"
    echo "set xlabel 'time after publish (ms)'"
    echo "set ylabel 'fraction of deliveries'"
    echo "set yrange [0:1]"
    [ "$log_x" -eq 0 ] || echo "set logscale x"
    # This run's p50 and p99, marked by dotted lines.
    for p in p50 p99; do
      echo "set arrow from $(summary run $p), graph 0 to $(summary run $p), graph 1 nohead dt 3 lc rgb 'gray40'"
      echo "set label $(gq "$p") at $(summary run $p), graph 0.04 left offset 0.5,0 tc rgb 'gray40'"
    done
    plot="plot $(gq "$work/run.cdf") using 1:2 with steps lw 2 title 'this run'"
    if [ -n "$baseline" ] && has_data "$work/base.cdf"; then
      plot+=", $(gq "$work/base.cdf") using 1:2 with steps lw 2 title $(gq "$base_label")"
    fi
    echo "$plot"
    echo "unset logscale x; unset arrow; unset label; set autoscale"
  fi

  if has_data "$work/run.dups"; then
    figures+=("duplicates.png|Duplicates per message: histogram of each message's mean of copies - 1 over the nodes that received it")
    echo "set output $(gq "$dest/duplicates.png")"
    echo "set title $(gq "$title: duplicates per message (mean $(summary run mean_dups) per delivery)")"
    echo "set xlabel 'mean duplicate receptions per receiving node'"
    echo "set ylabel 'messages'"
    echo "set yrange [0:*]"
    echo "set style fill solid 0.5"
    echo "set boxwidth $dups_bin"
    echo "bin(x) = $dups_lo + $dups_bin * (floor((x - $dups_lo) / $dups_bin) < 10 ? floor((x - $dups_lo) / $dups_bin) + 0.5 : 9.5)"
    echo "set offsets $dups_bin, $dups_bin, 0, 0"
    echo "set arrow 1 from $(summary run mean_dups), graph 0 to $(summary run mean_dups), graph 1 nohead lw 2 dt 2 front"
    echo "plot $(gq "$work/run.dups") using (bin(\$1)):(1.0) smooth frequency with boxes title 'messages', \\"
    echo "  NaN with lines lw 2 dt 2 lc rgb 'black' title 'mean per delivery'"
    echo "unset arrow 1; set offsets 0, 0, 0, 0; set autoscale"
  fi

  if has_data "$work/sent.dat"; then
    figures+=("bandwidth.png|Bandwidth per node over $duration_s s, sent and received, each sorted")
    echo "set output $(gq "$dest/bandwidth.png")"
    echo "set title $(gq "$title: bandwidth per node over $duration_s s")"
    echo "set xlabel 'node (sorted by the plotted value)'"
    echo "set ylabel 'KiB/s'"
    echo "set yrange [0:*]"
    echo "plot $(gq "$work/sent.dat") using 1:2 with linespoints title 'sent', \\"
    echo "  $(gq "$work/received.dat") using 1:2 with linespoints title 'received'"
    echo "set autoscale"
  fi

  if has_data "$work/run.ratio"; then
    figures+=("delivery_ratio.png|Delivery ratio: fraction of the expected deliveries reached by time t after publish")
    echo "set output $(gq "$dest/delivery_ratio.png")"
    if [ -n "$baseline" ]; then
      echo "set title $(gq "$title: delivery ratio, this run vs baseline")"
    else
      echo "set title $(gq "$title: delivery ratio")"
    fi
    echo "set xlabel 'time after publish (ms)'"
    echo "set ylabel 'fraction of expected deliveries'"
    echo "set yrange [0:1.05]"
    if [ "$log_x" -eq 1 ]; then
      echo "set logscale x"
    fi
    plot="plot $(gq "$work/run.ratio") using 1:2 with steps lw 2 title 'this run'"
    if [ -n "$baseline" ] && has_data "$work/base.ratio"; then
      plot+=", $(gq "$work/base.ratio") using 1:2 with steps lw 2 title $(gq "$base_label")"
    fi
    echo "$plot"
    echo "unset logscale x; set autoscale"
  fi

  if has_data "$work/mesh.dat"; then
    figures+=("mesh_degree.png|Mesh degree over time: min, mean and max across nodes and topics")
    echo "set output $(gq "$dest/mesh_degree.png")"
    echo "set title $(gq "$title: mesh degree")"
    echo "set xlabel 'simulated time (s)'"
    echo "set ylabel 'mesh degree'"
    echo "set yrange [0:$mesh_top]"
    echo "plot $(gq "$work/mesh.dat") using 1:2 with lines title 'min', \\"
    echo "  '' using 1:3 with lines lw 2 title 'mean', '' using 1:4 with lines title 'max'"
  fi

  if has_data "$work/scores.dat"; then
    figures+=("scores.png|Peer scores over time, as honest nodes see their peers: mean for honest peers and for Sybils, and the lowest Sybil score")
    echo "set output $(gq "$dest/scores.png")"
    echo "set title $(gq "$title: peer scores")"
    echo "set xlabel 'simulated time (s)'"
    echo "set ylabel 'score'"
    echo "set autoscale y"
    echo "set datafile missing 'NaN'"
    echo "plot $(gq "$work/scores.dat") using 1:2 with linespoints lw 2 title 'honest peers (mean)', \\"
    echo "  '' using 1:3 with linespoints lw 2 title 'Sybils (mean)', '' using 1:4 with lines title 'lowest Sybil'"
  fi
} >"$work/plots.gp"

gnuplot "$work/plots.gp" 2>"$work/gnuplot.err" || {
  cat "$work/gnuplot.err" >&2
  cp "$work/plots.gp" "$dest/plots.gp" && die "gnuplot failed (script kept at $dest/plots.gp)"
  die "gnuplot failed"
}

# --- report ----------------------------------------------------------------------------------------------

{
  echo "# $title"
  echo
  echo "Simulation output: \`$out_dir\`."
  [ -z "$baseline" ] || echo "Baseline: \`$baseline\`."
  [ -z "$topic" ] || echo "Topic: \`$topic\` only."
  echo
  echo "## Summary"
  echo
  if [ -n "$baseline" ]; then
    echo "| metric | this run | baseline |"
    echo "|---|---|---|"
  else
    echo "| metric | this run |"
    echo "|---|---|"
  fi
  for key in "messages|messages" "expected|expected deliveries" "deliveries|deliveries" \
    "ratio|delivery ratio" "undelivered_messages|messages no node received" "p50|latency p50 (ms)" \
    "p99|latency p99 (ms)" "max|latency max (ms)" "mean_dups|mean duplicates per delivery"; do
    line="| ${key#*|} | $(summary run "${key%%|*}") |"
    [ -z "$baseline" ] || line+=" $(summary base "${key%%|*}") |"
    echo "$line"
  done
  echo
  echo "Latency is the time from publish to a node first having the message, over every delivery to a node"
  echo "other than the publisher; percentiles are nearest-rank. A duplicate is a reception after the first."
  echo
  echo "## Bandwidth"
  echo
  echo "Over a run length of $duration_s s ($duration_note), in KiB/s:"
  echo
  echo "| class | nodes | mean sent | mean received | max sent | max received |"
  echo "|---|---|---|---|---|---|"
  [ -z "$bandwidth_rows" ] || echo "$bandwidth_rows"
  echo
  echo "## Mesh"
  echo
  if [ -n "$mesh_last" ]; then
    echo "Mesh degree across nodes and topics $mesh_last."
  else
    echo "No mesh samples."
  fi
  echo
  echo "## Scores"
  echo
  if [ -n "$scores_last" ]; then
    echo "Scores $scores_last."
  else
    echo "No peer scores (scoring off, or no scores.csv)."
  fi
  echo
  echo "## Figures"
  echo
  n=0
  for f in "${figures[@]}"; do
    n=$((n + 1))
    echo "$n. ${f#*|} (\`${f%%|*}\`)"
  done
  for f in "${figures[@]}"; do
    echo
    echo "![${f#*|}](${f%%|*})"
  done
  possible=5
  has_data "$work/scores.dat" && possible=6
  if [ ${#figures[@]} -lt "$possible" ]; then
    echo
    echo "Figures without data were left out."
  fi
} >"$dest/report.md"

echo "$PROG: wrote $dest/report.md and ${#figures[@]} figures" >&2
