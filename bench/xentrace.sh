#!/usr/bin/env bash
# Throughput of `vmsight xentrace` (records/s, MB/s, peak RSS).
# Usage: bench/xentrace.sh [TRACE...]   (default: the 3.9 MB real sample)
# TODO: a generator for a multi-GB trace (tools/xt_gen.c) is not written yet.
set -eu
cd "$(dirname "$0")/.."
VMS=${VMSIGHT:-build/vmsight}
traces=("$@")
[ ${#traces[@]} -gt 0 ] || traces=(../shared/xentrace-samples/xentrace-parser-rs.bin)
recs() { python3 - "$1" <<'PY'
import struct,sys
d=open(sys.argv[1],'rb').read(); o=0; n=0
while o+12<=len(d):
    ws=struct.unpack_from('<I',d,o+8)[0]; o+=12; e=o+ws
    while o<e:
        h=struct.unpack_from('<I',d,o)[0]; o+=4+8*(h>>31)+4*((h>>28)&7); n+=1
print(n)
PY
}
for t in "${traces[@]}"; do
	n=$(recs "$t"); bytes=$(stat -c %s "$t")
	for mode in --summary --dump-all; do
		best=999999
		for i in 1 2 3; do
			/usr/bin/time -f "%e %M" -o /tmp/xt-bench.$$ "$VMS" xentrace $mode "$t" >/dev/null
			read -r secs rss < /tmp/xt-bench.$$
			best=$(python3 -c "print(min($best,$secs))")
		done
		python3 -c "s=max($best,0.001); print('%-50s %-10s %8.2f Mrec/s %8.1f MB/s  peak RSS %d kB  (%.3f s)' % ('$t','$mode',$n/s/1e6,$bytes/s/1e6,$rss,s))"
	done
done
rm -f /tmp/xt-bench.$$
