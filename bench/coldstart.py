#!/usr/bin/env python3
"""Benchmark: cold start of one-shot commands, a baseline build against this one.

    bench/coldstart.py [--base BIN | --base-ref REF] [--new BIN] [--ram FILE]
                       [--kernel 6.1] [--runs 20] [--no-callgrind]

Each command runs as a new process each time (cold: nothing kept between
runs) on the same RAM file: with --ram FILE, or else the 512 MiB lab guest
of --kernel is booted, paused, and its RAM file used.  The baseline is
--base BIN, or built from git ref --base-ref (default HEAD) into a
temporary directory.  For `ps`, `info`, `lsmod`, `symbol NAME` and
`symbol 0xADDR` it reports, per build, the median CPU time (user + system,
getrusage of the child) over --runs runs, the peak RSS (ru_maxrss, the
command forked from bench/rusage_run.c, not from Python) and the
instructions callgrind counts (the figure that does not move with the
machine's load), and new/base ratios, all measured in this invocation.

Before timing, the output of a list of commands (the ones timed, their
--json forms, `type`, `check`, `pstree`, `dmesg`...) is compared byte for
byte between the two builds; any difference is printed and the exit
status is 1.
"""
import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, os.path.join(REPO, "tests", "lab"))


def build_base(ref, workdir):
    """git archive REF | tar -x, then make: the baseline binary."""
    src = os.path.join(workdir, "base")
    os.makedirs(src)
    arch = subprocess.run(["git", "-C", REPO, "archive", ref], check=True,
                          capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", src], input=arch, check=True)
    subprocess.run(["make", "-C", src, "-j2", "build/vmsight"], check=True,
                   stdout=subprocess.DEVNULL)
    return os.path.join(src, "build", "vmsight")


def build_runner(workdir):
    """bench/rusage_run.c: forks the command from a small process (Linux
    keeps peak RSS across exec, so a child forked from Python would start
    at the interpreter's size)."""
    out = os.path.join(workdir, "rusage_run")
    subprocess.run(["cc", "-O2", "-o", out, os.path.join(REPO, "bench", "rusage_run.c")],
                   check=True)
    return out


RUNNER = None


def run_once(binary, args):
    """CPU seconds (user + system) and peak RSS (KiB) of one cold run."""
    p = subprocess.run([RUNNER, binary] + args, capture_output=True, text=True, check=True)
    user, system, rss, rc = (int(x) for x in p.stdout.split())
    return (user + system) / 1e6, rss, rc


def instructions(binary, args):
    p = subprocess.run(["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null",
                        binary] + args, capture_output=True, text=True)
    for line in p.stderr.splitlines():
        if "Collected :" in line:
            return int(line.split(":")[-1])
    return 0


def output(binary, args):
    p = subprocess.run([binary] + args, capture_output=True)
    text = p.stdout + b"\n--- stderr ---\n" + p.stderr
    if args and args[0] == "check":  # its summary line says how long it took
        text = re.sub(rb", [0-9.]+ s\n", b", T s\n", text)
    return text + b"\n--- exit %d ---\n" % p.returncode


def compare(base, new, cmds):
    bad = 0
    for args in cmds:
        a, b = output(base, args), output(new, args)
        if a != b:
            bad += 1
            print("# DIFFERS: vmsight %s" % " ".join(args))
            la, lb = a.splitlines(), b.splitlines()
            for i in range(max(len(la), len(lb))):
                x = la[i] if i < len(la) else b"<none>"
                y = lb[i] if i < len(lb) else b"<none>"
                if x != y:
                    print("#   line %d: base %r" % (i + 1, x[:120]))
                    print("#   line %d: new  %r" % (i + 1, y[:120]))
                    break
    print("# output: %d of %d commands byte-identical" % (len(cmds) - bad, len(cmds)),
          flush=True)
    return bad


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--base", help="baseline vmsight binary")
    ap.add_argument("--base-ref", default="HEAD", help="git ref to build the baseline from")
    ap.add_argument("--new", default=os.path.join(REPO, "build", "vmsight"))
    ap.add_argument("--ram", help="RAM file to use instead of booting a guest")
    ap.add_argument("--kernel", default="6.1")
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--no-callgrind", action="store_true")
    a = ap.parse_args()
    if not a.no_callgrind and not shutil.which("valgrind"):
        print("# valgrind not installed (apt-get install valgrind): no instruction counts")
        a.no_callgrind = True
    if not os.path.exists(a.new):
        sys.exit("build first: make (or --new BIN)")
    work = tempfile.mkdtemp(prefix="vmsight-coldstart-")
    guest = None
    try:
        global RUNNER
        RUNNER = build_runner(work)
        base = a.base or build_base(a.base_ref, work)
        ram = a.ram
        if not ram:
            import lab
            lab.install_signal_handlers()
            guest = lab.Guest(a.kernel, mem_mb=512, name="bench-cold")
            guest.start()
            guest.wait_ready(600)
            guest.pause()
            ram = guest.ram_path
            print("# guest %s, 512 MiB, paused" % guest.oracle["release"])
        print("# base %s\n# new  %s\n# RAM  %s, %d runs each" % (base, a.new, ram, a.runs))
        p = subprocess.run([a.new, "symbol", "--json", ram, "schedule"],
                           capture_output=True, text=True)
        sched = int(json.loads(p.stdout)["address"], 16) if p.returncode == 0 else 0
        addr = "0x%x" % (sched + 0x10)
        timed = [("ps", ["ps", ram]), ("info", ["info", ram]), ("lsmod", ["lsmod", ram]),
                 ("symbol NAME", ["symbol", ram, "init_task"]),
                 ("symbol 0xADDR", ["symbol", ram, addr])]
        checked = [t[1] for t in timed] + [
            ["ps", "--json", ram], ["ps", "--threads", ram], ["info", "--json", ram],
            ["info", "-v", ram], ["lsmod", "--json", ram],
            ["symbol", ram, "_text", "linux_banner", "__per_cpu_offset", "no_such_symbol",
             "runqueues", "sys_call_table"],
            ["symbol", "--json", ram, "do_sys_open", "schedule", addr, "0x0",
             "0xffffffffffffffff"],
            ["type", ram, "task_struct"], ["type", ram, "task_struct.comm"],
            ["pstree", ram], ["dmesg", ram], ["runq", ram], ["check", ram],
            ["check", "--json", ram], ["maps", "-p", "1", ram], ["fds", "-p", "1", ram]]
        bad = compare(base, a.new, checked)
        print("%-14s %9s %9s %6s %9s %9s %6s %13s %13s %6s" %
              ("command", "base ms", "new ms", "ratio", "base KiB", "new KiB", "ratio",
               "base instr", "new instr", "ratio"))
        for name, args in timed:
            row = []
            for binary in (base, a.new):
                # One warm-up run brings the libraries into the page cache.
                run_once(binary, args)
                cpu, rss = [], []
                for _ in range(a.runs):
                    c, r, _ = run_once(binary, args)
                    cpu.append(c)
                    rss.append(r)
                ins = 0 if a.no_callgrind else instructions(binary, args)
                row.append((statistics.median(cpu) * 1000, max(rss), ins))
            (bc, br, bi), (nc, nr, ni) = row
            print("%-14s %9.2f %9.2f %6.2f %9d %9d %6.2f %13d %13d %6s" %
                  (name, bc, nc, nc / bc if bc else 0, br, nr, nr / br if br else 0,
                   bi, ni, "%.2f" % (ni / bi) if bi else "-"), flush=True)
        return 1 if bad else 0
    finally:
        if guest:
            guest.close()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
