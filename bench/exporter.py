#!/usr/bin/env python3
"""Benchmark: vmsight exporter with 1 and 3 guests.

    bench/exporter.py [--seconds 20] [--ram FILE --ram FILE --ram FILE]

Boots three 6.1 lab guests (tests/lab) and leaves them running, or reads the
RAM files given with --ram (e.g. paused standard guests).  For 1 guest, then
3, it starts the exporter on 127.0.0.1 (collection every second, the
rootkit checks every 5 s), waits until every guest is up (cold discovery
excluded: it is reported on its own), then for --seconds scrapes /metrics
every 0.2 s and reports:
- collection time per guest (vmsight_scrape_duration_seconds of each new
  collection: what reading a guest costs; the aim of issue #14 is at most
  50 ms per guest), and the CPU the exporter used per guest collection;
- the scrape latency (HTTP GET /metrics, whole body): it serves cached
  figures, so it should not grow with the guests' cost;
- the rootkit check run per guest (vmsight_check_duration_seconds), the
  first one (it loads the module symbols) and a later one;
- the cold discovery per guest (vmsight_guest_discovery_seconds).
"""
import argparse
import http.client
import os
import re
import statistics
import subprocess
import sys
import time

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, os.path.join(REPO, "tests", "lab"))
import lab  # noqa: E402

VMS = os.environ.get("VMSIGHT", os.path.join(REPO, "build", "vmsight"))
SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$')
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def parse(text):
    out = []
    for line in text.splitlines():
        m = SAMPLE.match(line)
        if m:
            out.append((m.group(1), dict(LABEL.findall(m.group(2) or "")), float(m.group(3))))
    return out


def per_guest(samples, name):
    return {l["guest"]: v for n, l, v in samples if n == name and "guest" in l}


def pct(v, p):
    v = sorted(v)
    return v[min(len(v) - 1, int(round(p / 100.0 * (len(v) - 1))))] if v else float("nan")


def run(rams, seconds, workdir):
    err = open(os.path.join(workdir, "exporter-%d.err" % len(rams)), "w+")
    p = subprocess.Popen([VMS, "exporter", "--web.listen-address", "127.0.0.1:0",
                          "--collect.interval", "1", "--check.interval", "5"] + rams,
                         stdout=subprocess.DEVNULL, stderr=err)
    try:
        port = None
        for _ in range(100):
            err.seek(0)
            m = re.search(r"listening on http://127\.0\.0\.1:(\d+)/", err.read())
            if m:
                port = int(m.group(1))
                break
            time.sleep(0.1)
        if not port:
            sys.exit("the exporter did not start")

        def scrape():
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            t0 = time.perf_counter()
            c.request("GET", "/metrics")
            body = c.getresponse().read()
            dt = time.perf_counter() - t0
            c.close()
            return dt, parse(body.decode()), len(body)
        end = time.monotonic() + 120
        while time.monotonic() < end:
            _, s, _ = scrape()
            up = per_guest(s, "vmsight_guest_up")
            if len(up) == len(rams) and all(up.values()) and per_guest(s, "vmsight_check_duration_seconds"):
                break
            time.sleep(0.5)
        else:
            sys.exit("guests not up after 120 s: %r" % up)
        discovery = per_guest(s, "vmsight_guest_discovery_seconds")
        first_check = list(per_guest(s, "vmsight_check_duration_seconds").values())
        time.sleep(2)
        _, s0, _ = scrape()
        cpu0 = [v for n, l, v in s0 if n == "process_cpu_seconds_total"][0]
        coll0 = sum(per_guest(s0, "vmsight_guest_collections_total").values())
        last = per_guest(s0, "vmsight_guest_collections_total")
        durations, checks, lat, size = [], [], [], 0
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            dt, s, size = scrape()
            lat.append(dt)
            cnt = per_guest(s, "vmsight_guest_collections_total")
            dur = per_guest(s, "vmsight_scrape_duration_seconds")
            for g, c in cnt.items():
                if c != last.get(g):
                    durations.append(dur[g])
            last = cnt
            checks = list(per_guest(s, "vmsight_check_duration_seconds").values())
            time.sleep(0.2)
        cpu1 = [v for n, l, v in s if n == "process_cpu_seconds_total"][0]
        coll1 = sum(per_guest(s, "vmsight_guest_collections_total").values())
        # the scrapes' own CPU is in there too: an upper bound per collection
        cpu_per = (cpu1 - cpu0) / max(1, coll1 - coll0)
        return {
            "guests": len(rams), "collections": len(durations),
            "coll_ms": [x * 1e3 for x in durations], "cpu_ms": cpu_per * 1e3,
            "lat_ms": [x * 1e3 for x in lat], "bytes": size,
            "check_ms": [x * 1e3 for x in checks],
            "first_check_ms": [x * 1e3 for x in first_check],
            "discovery_ms": [x * 1e3 for x in discovery.values()],
        }
    finally:
        p.terminate()
        p.wait(timeout=30)
        err.close()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=20)
    ap.add_argument("--ram", action="append", default=[],
                    help="a guest RAM file to read (three of them), instead of booting guests")
    a = ap.parse_args()
    if not os.path.exists(VMS):
        sys.exit("build first: make (or VMSIGHT=path/to/vmsight)")
    workdir = os.path.join("/tmp", "vmsight-bench-exporter-%d" % os.getpid())
    os.makedirs(workdir)
    guests = []
    try:
        if a.ram:
            rams = a.ram
            if len(rams) != 3:
                sys.exit("give three --ram files")
            print("guests: %s" % ", ".join(rams))
        else:
            lab.install_signal_handlers()
            guests = [lab.Guest("6.1", name="bench-exp-%d" % i) for i in range(3)]
            for g in guests:
                g.start()
            for g in guests:
                g.wait_ready(600)
            rams = [g.ram_path for g in guests]
            print("guests: three 6.1 lab guests, running")
        print("%-7s %12s %12s %12s %10s %14s %10s %10s" % (
            "guests", "collect ms", "collect p95", "CPU ms/coll", "scrape ms", "scrape p95 ms",
            "KiB", "check ms"))
        for n in (1, 3):
            r = run(rams[:n], a.seconds, workdir)
            print("%-7d %12.1f %12.1f %12.1f %10.2f %14.2f %10.1f %10.1f" % (
                n, statistics.median(r["coll_ms"]), pct(r["coll_ms"], 95), r["cpu_ms"],
                statistics.median(r["lat_ms"]), pct(r["lat_ms"], 95), r["bytes"] / 1024,
                statistics.median(r["check_ms"])))
            print("        (%d collections, %d scrapes; cold discovery %s ms; first check run, "
                  "module symbols loaded, %s ms)" % (
                      r["collections"], len(r["lat_ms"]),
                      "/".join("%.0f" % x for x in r["discovery_ms"]),
                      "/".join("%.0f" % x for x in r["first_check_ms"])))
        print("aim: at most 50 ms per guest collection (issue #14)")
    finally:
        for g in guests:
            g.close()


if __name__ == "__main__":
    main()
