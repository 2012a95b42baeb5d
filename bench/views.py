#!/usr/bin/env python3
"""Benchmark: cost of each view on the 512 MiB guest, cold and warm.

    bench/views.py [--runs 5] [--kernel 6.1]

Cold: a fresh `vmsight` process per run (discovery included), median wall
time and peak RSS.  Warm: the library view alone after one discovery
(build/bench/views_warm), mean per call.  Both measured in this invocation;
`info` is the baseline every cold figure contains.
"""
import argparse
import os
import statistics
import subprocess
import sys
import time

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, os.path.join(REPO, "tests", "lab"))
import lab  # noqa: E402

VMS = os.path.join(REPO, "build", "vmsight")
WARM = os.path.join(REPO, "build", "bench", "views_warm")
VIEWS = [["info"], ["ps"], ["ps", "--threads"], ["pstree"], ["cmdline"], ["environ"],
         ["maps"], ["fds"], ["lsmod"], ["dmesg"], ["runq"], ["symbol", "@", "schedule"]]


def cold(args, src, runs):
    walls, rss = [], 0
    for _ in range(runs):
        a = [src if x == "@" else x for x in args]
        if "@" not in args:
            a = a + [src]
        t0 = time.perf_counter()
        p = subprocess.Popen([VMS] + a, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        _, status, ru = os.wait4(p.pid, 0)
        walls.append(time.perf_counter() - t0)
        rss = max(rss, ru.ru_maxrss)
    return statistics.median(walls), rss


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--kernel", default="6.1")
    a = ap.parse_args()
    subprocess.run(["make", "-s", "-C", REPO, "all", "bench"], check=True)
    g = lab.standard_guest(a.kernel)
    src = g.ram_path
    print("# %s, %d MiB, live RAM file %s" % (g.oracle["release"], g.mem_mb, src))
    print("%-14s %10s %10s" % ("view", "cold ms", "RSS MiB"))
    for v in VIEWS:
        w, r = cold(v, src, a.runs)
        print("%-14s %10.1f %10.1f" % (" ".join(x for x in v if x != "@"), w * 1000, r / 1024),
              flush=True)
    print(subprocess.run([WARM, src, "10"], capture_output=True, text=True).stdout, end="")
    g.close()


if __name__ == "__main__":
    main()
