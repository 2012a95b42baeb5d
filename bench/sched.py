#!/usr/bin/env python3
"""Experiment: does guest-aware vCPU scheduling speed up a named job?

    bench/sched.py [--pairs 5] [--block 15] [--actuator cgroup1] [--no-demote]

Three 2-vCPU TCG guests (tests/lab, Debian 6.1) share this machine's cores:
- guest "job": a CPU-bound job "bench-job" pinned to its CPU 0 that prints a
  line per unit of work (timestamped by the host as the lines reach the
  serial console file, not by the guest clock), and a background spinner
  "bg-spin" on its CPU 1;
- guests "bg1", "bg2": a "bg-spin" spinner on each vCPU.
Blocks of --block seconds alternate the policy off, per-vCPU (`vmsight sched
--boost bench-job --demote bg-spin`) and VM-level (the same with --per-vm),
in a rotating order, --pairs times, in one run.  Per block: the job's rate
(units/s), each guest's CPU in cores (sum of its vCPU threads'
/proc/PID/task/TID/schedstat run time over the block), and vmsight sched's
own CPU.  Prints a table of medians and the ratios policy / off.
"""
import argparse
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, os.path.join(REPO, "tests", "lab"))
import lab  # noqa: E402

VMS = os.path.join(REPO, "build", "vmsight")
CLK = os.sysconf("SC_CLK_TCK")

LOAD_C = r"""
#define _GNU_SOURCE
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
/* benchload job|spin CPU: pinned; job prints a line per unit of work. */
int main(int argc, char **argv)
{
    if (argc != 3)
        return 2;
    cpu_set_t s;
    CPU_ZERO(&s);
    CPU_SET(atoi(argv[2]), &s);
    sched_setaffinity(0, sizeof(s), &s);
    if (!strcmp(argv[1], "spin")) {
        prctl(PR_SET_NAME, "bg-spin");
        for (volatile unsigned long x = 0;; x++)
            ;
    }
    prctl(PR_SET_NAME, "bench-job");
    for (unsigned long n = 1;; n++) {
        for (volatile unsigned long i = 0; i < 3000000; i++)
            ;
        printf("JOB %lu\n", n);
        fflush(stdout);
    }
}
"""


def build(workdir):
    src, out = os.path.join(workdir, "benchload.c"), os.path.join(workdir, "benchload")
    with open(src, "w") as f:
        f.write(LOAD_C)
    subprocess.run(["gcc", "-static", "-O1", "-o", out, src], check=True)
    return out


def guest(name, extra, binary):
    cfg = lab.standard_config("6.1")
    cfg["name"] = name
    cfg["extra_files"] = {"bin/benchload": binary}
    cfg["oracle_extra"] = cfg["oracle_extra"] + "\n" + extra + "\n"
    return lab.Guest(**cfg)


class JobWatch(threading.Thread):
    """Host-timestamps each JOB line as it reaches the console file."""

    def __init__(self, path):
        super().__init__(daemon=True)
        self.path, self.events, self.stop = path, [], False

    def run(self):
        with open(self.path, "rb") as f:
            f.seek(0, 2)
            buf = b""
            while not self.stop:
                chunk = f.read()
                now = time.monotonic()
                if not chunk:
                    time.sleep(0.02)
                    continue
                buf += chunk
                *lines, buf = buf.split(b"\n")
                for ln in lines:
                    if re.match(rb"^JOB \d+\r?$", ln):
                        self.events.append(now)

    def count(self, t0, t1):
        return sum(1 for t in self.events if t0 <= t < t1)


def vcpu_threads(pid):
    out = {}
    for tid in os.listdir("/proc/%d/task" % pid):
        try:
            with open("/proc/%d/task/%s/comm" % (pid, tid)) as f:
                m = re.match(r"^CPU (\d+)/", f.read())
        except OSError:
            continue
        if m:
            out[int(m.group(1))] = int(tid)
    return out


def run_ns(pid, tid):
    with open("/proc/%d/task/%d/schedstat" % (pid, tid)) as f:
        return int(f.read().split()[0])


def proc_cpu(pid):
    with open("/proc/%d/stat" % pid) as f:
        s = f.read()
    r = s[s.rindex(")") + 2:].split()
    return (int(r[11]) + int(r[12])) / CLK


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--pairs", type=int, default=5)
    ap.add_argument("--block", type=float, default=15)
    ap.add_argument("--warmup", type=float, default=2)
    ap.add_argument("--actuator", default="cgroup1")
    ap.add_argument("--no-demote", action="store_true",
                    help="boost the job only: leave the spinners at their setting (the "
                    "other guests then keep the second core among themselves)")
    a = ap.parse_args()
    lab.install_signal_handlers()
    work = tempfile.mkdtemp(prefix="vmsight-bench-sched-")
    binary = build(work)
    gs = {"job": guest("bench-job", "benchload job 0 > /dev/console &\nbenchload spin 1 &", binary),
          "bg1": guest("bench-bg1", "benchload spin 0 &\nbenchload spin 1 &", binary),
          "bg2": guest("bench-bg2", "benchload spin 0 &\nbenchload spin 1 &", binary)}
    state = os.path.join(work, "sched.state")
    results = {m: [] for m in ("off", "vcpu", "vm")}
    try:
        for g in gs.values():
            g.start()
        for g in gs.values():
            g.wait_ready(600)
        threads = {k: vcpu_threads(g.pid) for k, g in gs.items()}
        watch = JobWatch(gs["job"].console_path)
        watch.start()
        time.sleep(3)
        print("guests up; vCPU threads: %s" % threads, flush=True)
        order = ["off", "vcpu", "vm"]
        for pair in range(a.pairs):
            for mode in order[pair % 3:] + order[:pair % 3]:
                p = None
                if mode != "off":
                    args = [VMS, "sched", "--boost", "bench-job"] + \
                        ([] if a.no_demote else ["--demote", "bg-spin"]) + [
                            "--actuator", a.actuator, "--state", state,
                            "--log", os.path.join(work, "sched-%d-%s.jsonl" % (pair, mode))]
                    if mode == "vm":
                        args.append("--per-vm")
                    p = subprocess.Popen(args + [g.ram_path for g in gs.values()],
                                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                         text=True)
                time.sleep(a.warmup)
                t0 = time.monotonic()
                r0 = {k: {v: run_ns(gs[k].pid, t) for v, t in th.items()}
                      for k, th in threads.items()}
                c0 = proc_cpu(p.pid) if p else 0
                time.sleep(a.block)
                t1 = time.monotonic()
                r1 = {k: {v: run_ns(gs[k].pid, t) for v, t in th.items()}
                      for k, th in threads.items()}
                c1 = proc_cpu(p.pid) if p else 0
                summary = ""
                if p:
                    p.send_signal(signal.SIGTERM)
                    _, err = p.communicate(timeout=60)
                    summary = err.strip().splitlines()[-1] if err.strip() else ""
                    if p.returncode != 0:
                        print("sched exited %d: %s" % (p.returncode, err[-500:]), flush=True)
                span = t1 - t0
                rec = {
                    "rate": watch.count(t0, t1) / span,
                    "job_vcpu": (r1["job"][0] - r0["job"][0]) / 1e9 / span,
                    "cores": {k: sum(r1[k][v] - r0[k][v] for v in r0[k]) / 1e9 / span
                              for k in r0},
                    "sched_cpu": (c1 - c0) / span,
                }
                results[mode].append(rec)
                print("pair %d %-4s job %.2f units/s, job vCPU %.2f core, guests %s, sched %.3f "
                      "core %s" % (pair, mode, rec["rate"], rec["job_vcpu"],
                                   {k: round(v, 2) for k, v in rec["cores"].items()},
                                   rec["sched_cpu"], summary), flush=True)
                time.sleep(1)
        watch.stop = True
    finally:
        if os.path.exists(state):
            subprocess.run([VMS, "sched", "--restore", "--state", state])
        for g in gs.values():
            g.close()

    def med(mode, f):
        return statistics.median(f(r) for r in results[mode])

    off = med("off", lambda r: r["rate"])
    print()
    print("%-8s %10s %8s %10s %10s %10s %10s %10s" % ("policy", "job/s", "ratio", "job vCPU",
                                                      "job guest", "bg1", "bg2", "sched CPU"))
    for mode in ("off", "vcpu", "vm"):
        rate = med(mode, lambda r: r["rate"])
        print("%-8s %10.2f %8.2f %10.2f %10.2f %10.2f %10.2f %10.3f" % (
            {"off": "off", "vcpu": "per-vCPU", "vm": "per-VM"}[mode], rate,
            rate / off if off else 0, med(mode, lambda r: r["job_vcpu"]),
            med(mode, lambda r: r["cores"]["job"]), med(mode, lambda r: r["cores"]["bg1"]),
            med(mode, lambda r: r["cores"]["bg2"]), med(mode, lambda r: r["sched_cpu"])))
    print("(medians of %d blocks of %.0f s each; cores from the vCPU threads' schedstat; "
          "job/s from host-timestamped console lines)" % (a.pairs, a.block))


if __name__ == "__main__":
    main()
