#!/usr/bin/env python3
"""Benchmark: CPU cost of one `vmsight top` refresh.

    bench/top.py [--runs 50] [--tasks 1000]

Boots three 6.1 lab guests (tests/lab), one of them with TASKS extra sleeping
processes, and leaves them running.  Then, in this invocation:
- bench/top_refresh (warm, in-process): CPU per refresh for each guest, in
  process and thread mode, beside the plain task walk (`ps` warm) as the
  baseline ratio;
- `vmsight top --all -b -n N -d 0.05` as a user runs it: the CPU time of
  N refreshes minus that of one (discovery and start-up), per refresh, for
  the three guests together.
The aim (issue #13): at most 5 ms per guest refresh.
"""
import argparse
import os
import resource
import subprocess
import sys

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, os.path.join(REPO, "tests", "lab"))
import lab  # noqa: E402

VMS = os.path.join(REPO, "build", "vmsight")
REFRESH = os.path.join(REPO, "build", "bench", "top_refresh")


def child_cpu(args):
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=50)
    ap.add_argument("--tasks", type=int, default=1000)
    a = ap.parse_args()
    if not (os.path.exists(VMS) and os.path.exists(REFRESH)):
        sys.exit("build first: make && make bench")
    lab.install_signal_handlers()
    many = lab.standard_config("6.1")
    many["name"] = "bench-top-%d" % a.tasks
    many["oracle_extra"] += "\ni=0; while [ $i -lt %d ]; do sleep 1000000 & i=$((i+1)); done\n" % a.tasks
    guests = [lab.Guest(**many)] + [lab.Guest("6.1", name="bench-top-%d" % i) for i in (1, 2)]
    try:
        for g in guests:
            g.start()
        for g in guests:
            g.wait_ready(600)
        srcs = [g.ram_path for g in guests]
        print("guests: %s (%d extra sleepers in the first)" % (", ".join(g.name for g in guests),
                                                             a.tasks))
        for mode in ([], ["-H"]):
            out = subprocess.run([REFRESH, str(a.runs)] + mode + srcs, capture_output=True,
                                 text=True, check=True).stdout
            print("warm, %s mode, %d refreshes each:" % ("thread" if mode else "process",
                                                        a.runs))
            for line in out.splitlines():
                print("   " + line)
        n = 21
        # --all takes every QEMU on the host, the bench's own three and any other.
        found = subprocess.run([VMS, "top", "--all", "--json", "-b", "-n", "1"], capture_output=True,
                               text=True).stdout.count("\n")
        one = min(child_cpu([VMS, "top", "--all", "-b", "-n", "1"]) for _ in range(3))
        many_cpu = min(child_cpu([VMS, "top", "--all", "-b", "-n", str(n), "-d", "0.05"])
                       for _ in range(3))
        per = (many_cpu - one) / (n - 1)
        print("vmsight top --all -b (%d guests on this host): %.1f ms CPU per refresh (%.1f ms "
              "per guest); start-up and discovery %.0f ms" % (found, per * 1e3,
                                                              per * 1e3 / max(found, 1), one * 1e3))
    finally:
        for g in guests:
            g.close()


if __name__ == "__main__":
    main()
