#!/usr/bin/env python3
"""Benchmark: `vmsight isf` (a Volatility 3 symbol table from guest memory).

    bench/isf.py [--runs 5] [--kernel 6.1 --kernel 6.12] [--source PATH ...]

Boots the standard lab guest of each kernel (tests/lab), pauses it and
writes an ELF dump to /dev/shm; or measures the SOURCEs given.  Each run is
a new process (cold).  Reports the median wall time, CPU time (user+sys)
and peak RSS of `vmsight isf -o FILE.json` and `-o FILE.json.xz`, and as
the baseline in the same run `vmsight info` (discovery alone, which isf
needs too): the ratio isf / info is the table's own cost.  The aim is
under 1 s and 100 MB; dwarf2json on the same kernel's debug package takes
about 2 minutes and 3.7 GB (measured by hand when issue 19 was filed, not
here: this benchmark does not run dwarf2json).
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

VMS = os.environ.get("VMSIGHT", os.path.join(REPO, "build", "vmsight"))


def measure(args, runs):
    walls, cpus, rss = [], [], []
    for _ in range(runs):
        t0 = time.perf_counter()
        p = subprocess.Popen([VMS] + args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        _, status, ru = os.wait4(p.pid, 0)
        p.stderr.close()
        if status != 0:
            sys.exit("vmsight %s failed (status %d)" % (" ".join(args), status))
        walls.append(time.perf_counter() - t0)
        cpus.append(ru.ru_utime + ru.ru_stime)
        rss.append(ru.ru_maxrss)
    return statistics.median(walls), statistics.median(cpus), max(rss) / 1024.0


def bench_source(label, src, runs):
    out = "/dev/shm/vmsight-bench-isf-%d.json" % os.getpid()
    rows = []
    try:
        base = measure(["info", src], runs)
        rows.append(("info (baseline)", base, None))
        for name, path in (("isf -o .json", out), ("isf -o .json.xz", out + ".xz")):
            m = measure(["isf", "-o", path, src], runs)
            rows.append((name, m, os.path.getsize(path)))
        for name, (wall, cpu, rss), size in rows:
            extra = "" if size is None else "  %5.1f MB file, wall %.1fx info" % (
                size / 1e6, wall / base[0])
            print("%-22s %-16s wall %6.3f s  cpu %6.3f s  peak RSS %6.1f MB%s" % (
                label, name, wall, cpu, rss, extra), flush=True)
    finally:
        for p in (out, out + ".xz"):
            if os.path.exists(p):
                os.unlink(p)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--kernel", action="append")
    ap.add_argument("--source", action="append", help="measure this SOURCE instead of booting")
    a = ap.parse_args()
    if not os.path.exists(VMS):
        sys.exit("build first: make")
    print("# %s, median of %d cold runs; dwarf2json reference (not run here): "
          "~120 s, ~3.7 GB per kernel" % (VMS, a.runs), flush=True)
    if a.source:
        for s in a.source:
            bench_source(os.path.basename(os.path.dirname(s)) + "/" + os.path.basename(s),
                         s, a.runs)
        return
    lab.install_signal_handlers()
    for k in a.kernel or ["6.1", "6.12"]:
        g = lab.standard_guest(k)
        dump = "/dev/shm/vmsight-bench-isf-%s-%d.elf" % (k, os.getpid())
        try:
            g.dump(dump)
            bench_source("%s RAM file" % k, g.ram_path, a.runs)
            bench_source("%s ELF dump" % k, dump, a.runs)
        finally:
            if os.path.exists(dump):
                os.unlink(dump)


if __name__ == "__main__":
    main()
