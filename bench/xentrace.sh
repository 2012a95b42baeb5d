#!/usr/bin/env bash
# Throughput and memory of `vmsight xentrace` (records/s, MB/s, peak RSS).
#
#   bench/xentrace.sh                 real sample + a generated 2 GiB trace
#   XT_BENCH_SIZE=512M bench/xentrace.sh
#   XENALYZE=/path/to/xenalyze bench/xentrace.sh   also time xenalyze, same runs
#   VMSIGHT_BASE=/path/to/old/vmsight bench/xentrace.sh
#                                     also time an older build on the big
#                                     trace (--summary and --dump-all,
#                                     BASE_REPS alternating runs, default 3)
#                                     and print the ratio of the least CPU
#                                     times
#
# The generated trace (tools/xt_gen, seed 1, 8 pcpus, dom0 PV + 4 HVM
# guests) goes to /dev/shm when it has room, else to build/.  To show that
# memory does not grow with trace length, the same simulation is also
# generated at the sizes of XT_BENCH_RSS_SIZES (default 256M 1G, each a
# prefix of the big one) and the peak RSS of `--summary` is printed at each
# size with percentile samples off (--sample-size=0) and on (defaults),
# with the ratio largest / smallest.
# Of REPS runs (REPS_BIG for the big trace) the one with the least CPU time
# (user+sys) is reported: records/s and MB/s of CPU time, which is the
# figure to use on a shared machine, and of its wall time.  Set KEEP=1 to
# keep the generated traces.
set -eu
cd "$(dirname "$0")/.."
VMS=${VMSIGHT:-build/vmsight}
GEN=${XT_GEN:-build/tools/xt_gen}
SIZE=${XT_BENCH_SIZE:-2G}
REPS=${REPS:-3}
REPS_BIG=${REPS_BIG:-1}
XENALYZE=${XENALYZE:-}
BASE=${VMSIGHT_BASE:-}
BASE_REPS=${BASE_REPS:-3}
RSS_SIZES=${XT_BENCH_RSS_SIZES:-256M 1G}
SAMPLE=../shared/xentrace-samples/xentrace-parser-rs.bin
for b in "$VMS" "$GEN"; do
	[ -x "$b" ] || { echo "bench/xentrace.sh: $b not built (make)" >&2; exit 2; }
done

bytes_of() { python3 -c "
import sys; s=sys.argv[1]; m={'K':1<<10,'M':1<<20,'G':1<<30}
print(int(float(s[:-1])*m[s[-1].upper()]) if s[-1].upper() in m else int(s))" "$1"; }
want=$(bytes_of "$SIZE")
dir=build/bench-xentrace
if [ "$(df -B1 --output=avail /dev/shm 2>/dev/null | tail -1)" -gt $((want * 3 / 2)) ] 2>/dev/null; then
	dir=/dev/shm/vmsight-bench-xentrace.$$
fi
mkdir -p "$dir"
tmp=$(mktemp)
cleanup() { rm -f "$tmp"; [ -n "${KEEP:-}" ] || rm -rf "$dir"; }
trap cleanup EXIT

# records in a trace (excluding cpu_change), from the generator's JSON or
# by walking the sample
recs_of_json() { python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['records'])" "$1"; }
recs_walk() { python3 - "$1" <<'PY'
import struct,sys
d=open(sys.argv[1],'rb').read(); o=0; n=0
while o+12<=len(d):
    ws=struct.unpack_from('<I',d,o+8)[0]; o+=12; e=o+ws
    while o<e:
        h=struct.unpack_from('<I',d,o)[0]; o+=4+8*(h>>31)+4*((h>>28)&7); n+=1
print(n)
PY
}

# measure REPS FILE CMD...: the run with the least CPU time (user+sys);
# sets $best (its wall time) $cpu $rss
measure() {
	local reps=$1 f=$2; shift 2
	best=0; cpu=999999; rss=0
	for ((i = 0; i < reps; i++)); do
		/usr/bin/time -f "%e %U %S %M" -o "$tmp" "$@" "$f" >/dev/null 2>&1 || true
		read -r e u s m < "$tmp"
		c=$(python3 -c "print(round($u+$s,2))")
		if python3 -c "import sys; sys.exit(0 if $c < $cpu else 1)"; then
			best=$e; cpu=$c; rss=$m
		fi
	done
}

report() { # LABEL TRACE MODE RECORDS BYTES
	python3 -c "
import sys
lab,t,mode,n,b,w,c,r=sys.argv[1:]; n=int(n); b=int(b); w=max(float(w),0.001); c=max(float(c),0.001)
print('%-9s %-22s %-10s cpu %6.2f s = %6.2f Mrec/s %5.0f MB/s  (wall %6.2f s = %6.2f Mrec/s)  peak RSS %6d kB' %
      (lab, t, mode, c, n/c/1e6, b/c/1e6, w, n/w/1e6, int(r)))" "$@" "$best" "$cpu" "$rss"
}

declare -A T_VMS T_XA RSS_VMS RSS_XA
run_trace() { # NAME FILE RECORDS REPS
	local name=$1 f=$2 n=$3 reps=$4 bytes
	bytes=$(stat -c %s "$f")
	for mode in --summary --dump-all; do
		measure "$reps" "$f" "$VMS" xentrace "$mode"
		report vmsight "$name" "$mode" "$n" "$bytes"
		T_VMS[$name$mode]=$cpu
		RSS_VMS[$name$mode]=$rss
		if [ -n "$XENALYZE" ]; then
			measure "$reps" "$f" "$XENALYZE" "$mode"
			report xenalyze "$name" "$mode" "$n" "$bytes"
			T_XA[$name$mode]=$cpu
			RSS_XA[$name$mode]=$rss
			python3 -c "print('          vmsight is %.1fx as fast as xenalyze in CPU time (%s, %s)' % ($cpu / max(${T_VMS[$name$mode]}, 0.001), '$name', '$mode'))"
		fi
	done
}

if [ -f "$SAMPLE" ]; then
	run_trace sample-3.9MB "$SAMPLE" "$(recs_walk "$SAMPLE")" "$REPS"
fi

full=$dir/gen-full.bin
echo "generating $SIZE in $dir ..."
s0=$(date +%s.%N)
"$GEN" -s "$want" -S 1 -j "$full.json" -o "$full"
python3 -c "
import json; j=json.load(open('$full.json'))
print('xt_gen: %d bytes, %d records, %d windows, %d wrap records, %d lost records, %.1f s' %
      (j['bytes'], j['records'], j['windows'], j['wrap_records'], j['lost_records'], $(date +%s.%N) - $s0))"
nf=$(recs_of_json "$full.json")
run_trace "gen-$SIZE" "$full" "$nf" "$REPS_BIG"

if [ -n "$BASE" ]; then
	# older build against this one, alternating, same trace; the least
	# CPU time of each
	bytes=$(stat -c %s "$full")
	for mode in --summary --dump-all; do
		cb=999999; cn=999999
		for ((r = 0; r < BASE_REPS; r++)); do
			measure 1 "$full" "$BASE" xentrace "$mode"
			report base "gen-$SIZE" "$mode" "$nf" "$bytes"
			cb=$(python3 -c "print(min($cb, $cpu))")
			measure 1 "$full" "$VMS" xentrace "$mode"
			report vmsight "gen-$SIZE" "$mode" "$nf" "$bytes"
			cn=$(python3 -c "print(min($cn, $cpu))")
		done
		python3 -c "print('          %s least CPU time: base %.2f s (%.2f Mrec/s), this build %.2f s (%.2f Mrec/s), ratio %.2f' % ('$mode', $cb, $nf / $cb / 1e6, $cn, $nf / $cn / 1e6, $cb / max($cn, 0.001)))"
	done
fi

# memory against trace length: --summary peak RSS at each size, samples off
# and on
declare -a rss0 rss1 names
for sz in $RSS_SIZES; do
	f=$dir/gen-$sz.bin
	"$GEN" -s "$(bytes_of "$sz")" -S 1 -j "$f.json" -o "$f"
	measure 1 "$f" "$VMS" xentrace --summary --sample-size=0; rss0+=("$rss")
	measure 1 "$f" "$VMS" xentrace --summary; rss1+=("$rss")
	names+=("$sz")
	rm -f "$f" "$f.json"
done
measure 1 "$full" "$VMS" xentrace --summary --sample-size=0; rss0+=("$rss")
rss1+=("${RSS_VMS[gen-$SIZE--summary]}")
names+=("$SIZE")
for ((i = 0; i < ${#names[@]}; i++)); do
	printf 'RSS --summary  %-6s  --sample-size=0 %8d kB   samples on %8d kB\n' "${names[i]}" "${rss0[i]}" "${rss1[i]}"
done
last=$((${#names[@]} - 1))
python3 -c "print('RSS ratio %s / %s: --sample-size=0 %.2f, samples on %.2f' % ('${names[last]}', '${names[0]}', ${rss0[last]} / ${rss0[0]}, ${rss1[last]} / ${rss1[0]}))"
if [ -n "$XENALYZE" ]; then
	echo "xenalyze --summary peak RSS on gen-$SIZE: ${RSS_XA[gen-$SIZE--summary]} kB"
fi
