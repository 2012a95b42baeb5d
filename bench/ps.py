#!/usr/bin/env python3
"""Benchmark: cold `vmsight ps` on a 512 MiB and a 4 GiB guest.

    bench/ps.py [--runs 7] [--kernel 6.1]

Boots both lab guests (tests/lab), pauses them, writes an ELF dump of each to
/dev/shm, and runs `vmsight ps` as a new process each time (cold: nothing is
cached between runs) on the live RAM file and on the dump.  Reports the median
wall time and peak RSS, and the 4 GiB / 512 MiB ratio for each, measured in
this invocation.  The goal is a ratio of about 1: the cost of a process list
must follow what is asked, not the size of guest RAM.
"""
import argparse
import shutil
import os
import resource
import statistics
import subprocess
import sys
import time

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, os.path.join(REPO, "tests", "lab"))
import lab  # noqa: E402

VMS = os.path.join(REPO, "build", "vmsight")


def measure(args, runs):
    walls, rss = [], []
    for _ in range(runs):
        t0 = time.perf_counter()
        p = subprocess.Popen([VMS] + args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        _, ru = os.wait4(p.pid, 0)[1:]
        walls.append(time.perf_counter() - t0)
        rss.append(ru.ru_maxrss)
        p.returncode = 0
    return statistics.median(walls), max(rss)


def instructions(args):
    """Instructions executed (callgrind): repeatable whatever the load."""
    p = subprocess.run(["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null",
                        VMS] + args, capture_output=True, text=True)
    for line in p.stderr.splitlines():
        if "Collected :" in line:
            return int(line.split(":")[-1])
    return 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--kernel", default="6.1")
    a = ap.parse_args()
    if not os.path.exists(VMS):
        sys.exit("build first: make")
    lab.install_signal_handlers()
    sizes = [512, 4096]
    guests = [lab.Guest(a.kernel, mem_mb=m, name="bench-%d" % m) for m in sizes]
    dumps = []
    try:
        for g in guests:
            g.start()
        for g in guests:
            secs = g.wait_ready(400)
            g.pause()
            d = "/dev/shm/vmsight-bench-%d-%d.elf" % (g.mem_mb, os.getpid())
            t0 = time.perf_counter()
            g.dump(d)
            dumps.append(d)
            print("# %d MiB guest (%s) ready in %.1fs, dump %.1fs" %
                  (g.mem_mb, g.oracle["release"], secs, time.perf_counter() - t0),
                  flush=True)
        rows = {}
        for g, d in zip(guests, dumps):
            for kind, src in (("live", g.ram_path), ("dump", d)):
                p = subprocess.run([VMS, "ps", src], stdout=subprocess.DEVNULL,
                                   stderr=subprocess.PIPE, text=True)
                if p.returncode != 0:
                    if os.environ.get("BENCH_KEEP_FAILED"):
                        shutil.copyfile(src, "/dev/shm/failed.ram")
                    sys.exit("vmsight ps %s failed (%d): %s" % (src, p.returncode, p.stderr))
                rows[(g.mem_mb, kind)] = measure(["ps", src], a.runs)
        insns = {}
        if shutil.which("valgrind"):
            for g, d in zip(guests, dumps):
                for kind, src in (("live", g.ram_path), ("dump", d)):
                    insns[(g.mem_mb, kind)] = instructions(["ps", src])
        print("%-6s %-5s %12s %14s %16s" % ("guest", "src", "wall (ms)", "peak RSS (MiB)",
                                            "instructions"))
        for (mb, kind), (w, r) in sorted(rows.items()):
            print("%-6s %-5s %12.1f %14.1f %16d" % ("%dM" % mb, kind, w * 1000, r / 1024,
                                                  insns.get((mb, kind), 0)))
        for kind in ("live", "dump"):
            w1, r1 = rows[(512, kind)]
            w2, r2 = rows[(4096, kind)]
            i1, i2 = insns.get((512, kind), 0), insns.get((4096, kind), 0)
            print("ratio 4G/512M %-5s wall %.2f  rss %.2f  instructions %s" %
                  (kind, w2 / w1, r2 / r1, "%.3f" % (i2 / i1) if i1 else "n/a"))
    finally:
        for g in guests:
            g.close()
        for d in dumps:
            if os.path.exists(d):
                os.unlink(d)


if __name__ == "__main__":
    main()
