#!/usr/bin/env python3
"""vmsight test lab: real Debian kernels booted under QEMU (TCG) with guest RAM
in a shared file, plus the guest's own view of itself as a test oracle.

Python 3 standard library only.  Everything downloaded or built is cached under
``build/lab/`` (repo-relative) and reused across runs; downloads are keyed by
the .deb file name, so a new Debian build is picked up automatically.

Import it from another suite with::

    sys.path.insert(0, os.path.join(REPO, "tests", "lab"))
    import lab

API
---
fetch(kernel="6.1") -> Kernel
    kernel in KERNELS ("6.1", "6.12").  Resolves the metapackage to today's
    image package with apt-cache, downloads (apt-get download) and extracts
    (dpkg-deb -x) it once.  Kernel fields: series, package, deb, root (the
    extracted tree), vmlinuz, release (e.g. "6.1.0-56-cloud-amd64"),
    modules_dir (<root>/lib/modules/<release>), config (path of the
    /boot/config-<release> file, may be None), system_map (may be None).

build_initramfs(extra_files=None, extra_init="") -> path of a cpio newc .gz
    busybox-static + /init + the workload (tests/lab/workload/*.c, built with
    gcc -static -pthread).  Cached by content hash.  ``extra_files`` maps
    guest paths to host paths (or bytes) to add; ``extra_init`` is a shell
    snippet /init runs after mounting filesystems and before the workload
    (e.g. insmod of modules you shipped with extra_files).

class Guest(kernel="6.1", mem_mb=512, smp=2, name=None, extra_append="",
            workdir=None, extra_files=None, extra_init="", cpu=DEFAULT_CPU,
            modules=(), ram="file")
    ram="anon": plain -m RAM inside qemu (no RAM file; ram_path is then
    unused); read it with vmsight's qemu:PID source.  ram="anon-backend":
    the same anonymous RAM as an explicit -object memory-backend-ram that
    alone sets the size (no -m), named by a separate -machine option.  Every guest has
    -device vmcoreinfo (VMCOREINFO for kdump dumps, once the guest's
    qemu_fw_cfg driver runs: pass modules=["qemu_fw_cfg"]).
    modules: names of real kernel modules (e.g. ["dummy", "nf_tables"]) to
    insmod at boot, dependencies included (read from .modinfo, .ko.xz
    decompressed on the host); they then show in oracle["modules"].
    cpu is the qemu -cpu model; the default "max,la57=off" keeps the guest on
    4-level paging (plain "max" makes Debian kernels use 5-level paging).
    start()                  launch qemu in the background (returns self)
    wait_ready(timeout=180)  block until the guest printed READY; returns the
                             boot time in seconds (also .boot_seconds).
                             Raises GuestError with the console tail on
                             panic / qemu exit / timeout.
    oracle                   parsed oracle dict (see parse_oracle)
    ram_path                 /dev/shm/vmsight-<name>-<pid>.ram; guest physical
                             address == file offset below QEMU's PCI hole;
                             larger guests continue at 4 GiB (vmsight reads
                             the split from the guest's e820 map)
    qmp_path, console_path, workdir, pid (qemu pid), kernel (Kernel)
    qmp(cmd, **args)         execute a QMP command, return its "return" value
    hmp(cmdline, cpu=None)   human monitor command, returns its text
    pause() / resume()       QMP stop / cont
    dump(path, fmt="elf")    ELF core via dump-guest-memory (paging off);
                             fmt="kdump-zlib" (or another QMP dump format)
                             for a kdump-compressed file; synchronous;
                             returns path
    registers()              [{"cpu": i, "RAX": int, ..., "CR3": int,
                               "GS": {"selector","base","limit","flags"}, ...,
                               "GS_BASE": int, "FS_BASE": int}] per vCPU
    console()                full serial console text so far
    close()                  quit qemu, delete RAM file (idempotent).  Also
                             run at exit, on SIGTERM/SIGHUP (see
                             install_signal_handlers) and, should this Python
                             process die hard, by a small reaper process.
    Context manager: ``with Guest("6.12") as g: g.start().wait_ready()``.

Libvirt(uri="qemu:///system")
    The system libvirt.  Libvirt.unavailable() -> None or why not;
    start() uses the running daemon or starts virtlogd + libvirtd itself
    (no systemd needed) and close() stops what it started.
class LibvirtGuest(libvirt, kernel="6.1", mem_mb=512, smp=2, name=None,
                   memory="anon", ...)
    The same guest as a transient libvirt domain (virsh create, TCG,
    direct kernel boot, serial console to console_path); memory "anon",
    "file" or "memfd"; .domain is its name for vmsight's libvirt:NAME.
    qmp()/hmp() through virsh qemu-monitor-command.  See the classes.

make_lime(elf_path, out_path, ranges=None) -> out_path
    convert an ELF core to a LiME file (see the function).
kdump_unflatten(src_path, out_path) -> out_path
    QEMU 7.2's kdump-* dumps are flattened streams; this writes the regular
    kdump-compressed file (as makedumpfile -R does).

parse_oracle(console_text) -> dict
    version (str), release (str, uname -r), cpus (int), online (str),
    processes (list of dicts parsed from /proc/PID/stat; keys pid, comm,
    state, ppid, pgrp, session, tty_nr, flags, utime, stime, priority, nice,
    num_threads, starttime, vsize, rss, processor, kthread (PF_KTHREAD set),
    raw (the verbatim line)), threads (same, from /proc/PID/task/TID/stat,
    plus tgid; "pid" is the tid), uids ({pid: {"uid": [r,e,s,fs],
    "gid": [r,e,s,fs]}}), cmdlines ({pid: [str]} decoded UTF-8 with
    surrogateescape), cmdlines_raw ({pid: bytes} exact /proc/PID/cmdline),
    modules (list of dicts name, size, refcount, used_by, state, addr from
    /proc/modules), ps (str),
    transient (set of pids that existed only while the oracle was printed:
    the in-guest snapshot program; see below), workload ({role: pid}),
    sections (raw {name: [lines]}).

Guest workload (started by /init; see INIT_TEMPLATE and workload/workload.c):
    30 sleepers (comm sleeper-a x8, sleeper-b x8, sleeper-c x6, sleeper-d x4,
    sleeper-e x2 running as uid/gid 1000/1000 and 1001/1001, sleeper-long-15
    (exactly 15 chars), sleeper-truncat (exec'd as sleeper-truncated-name)),
    spinner (CPU busy, state R), threads (+ worker-1..worker-4, 5 tasks),
    tree-a -> tree-b -> tree-c -> tree-d, zparent with a zombie child "zombie"
    (state Z), stopme (SIGSTOPped, state T), longcmd with LONGCMD_ARGS
    (> 1000 bytes, args with spaces, quotes, tabs, UTF-8).  PID 1 is the
    /init shell (comm "init"); after READY it blocks in the shell builtin
    "read" on a fifo, so it has no children of its own.

Transient processes: all oracle sections except stat/taskstat/status/cmdline
are produced by short-lived helpers (cat, grep, ps) that have exited before
or start after the snapshot, so they never appear in those sections.  The
four /proc sections are printed by one program, "oracle-snap", which reads
everything first and prints afterwards; its pid is the only transient one and
is listed in the "transient" section (oracle["transient"]).  Kernel threads
(kworker/...) may come and go at any time; compare user processes exactly and
kernel threads loosely.  Beware: /proc shows kernel-thread names that differ
from task_struct.comm (kworkers get "-<workqueue>" appended, 6.x prints full
kthread names longer than 15 chars, e.g. "pool_workqueue_release"); user
comms are exactly task->comm (max 15 chars).

Paging: by default the vCPU has no LA57, so guests use 4-level paging; with
cpu="max" the Debian kernels (CONFIG_X86_5LEVEL=y) switch to 5-level paging.
'info registers' shows the GS base of the current mode only: a vCPU caught
in user space (the spinner keeps one busy) shows the user GS base, and
KERNEL_GS_BASE is not printed by QEMU 7.2's HMP.
"""

import atexit
import gzip
import hashlib
import json
import os
import re
import shutil
import signal
import socket
import stat as statmod
import struct
import subprocess
import sys
import tempfile
import threading
import time
import weakref

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
LAB_SRC = os.path.dirname(os.path.abspath(__file__))
CACHE = os.path.join(REPO, "build", "lab")

KERNELS = {
    "6.1": "linux-image-cloud-amd64",
    "6.12": "linux-image-6.12-cloud-amd64",
}
DEFAULT_KERNEL = "6.1"
# -cpu max would advertise LA57, and Debian kernels then run 5-level paging.
# Default to the common 4-level case; pass cpu="max" to get 5-level paging.
DEFAULT_CPU = "max,la57=off"

READY_MARK = "===VMSIGHT-READY==="
BEGIN_RE = re.compile(r"^===VMSIGHT-ORACLE BEGIN (\S+)===$")
END_FMT = "===VMSIGHT-ORACLE END {}==="
PANIC_RE = re.compile(r"Kernel panic - not syncing|end Kernel panic")

PF_KTHREAD = 0x00200000
_KMSG_RE = re.compile(r"^\[\s*\d+\.\d+\] ")

# The long command line of the "longcmd" process, exact (argv[0] included).
LONGCMD_ARGS = (
    ["/bin/longcmd", "--title=vmsight lab long command line",
     "two  spaces", "tab\there", "single'quote", 'double"quote',
     "dollar $HOME and `backticks`", "back\\slash", "utf8: h\u00e9llo w\u00f6rld \u2713",
     "", "--empty-arg-before-this"]
    + ["arg-%02d lorem ipsum dolor sit amet, consectetur" % i for i in range(24)]
    + ["--last"])

# (link name, count, uid) for the sleepers; comm is the first 15 chars.
SLEEPERS = [("sleeper-a", 8, None), ("sleeper-b", 8, None), ("sleeper-c", 6, None),
            ("sleeper-d", 4, None), ("sleeper-e", 1, 1000), ("sleeper-e", 1, 1001),
            ("sleeper-long-15", 1, None), ("sleeper-truncated-name", 1, None)]
PERSONALITIES = sorted({s[0] for s in SLEEPERS} | {
    "stopme", "spinner", "threads", "tree-a", "tree-b", "tree-c", "tree-d",
    "zparent", "longcmd", "oracle-snap", "fdholder", "retitle"})


class LabError(Exception):
    pass


class GuestError(LabError):
    pass


def log(msg):
    if os.environ.get("LAB_QUIET") != "1":
        sys.stderr.write("[lab] %s\n" % msg)
        sys.stderr.flush()


def _run(cmd, **kw):
    kw.setdefault("stdout", subprocess.PIPE)
    kw.setdefault("stderr", subprocess.PIPE)
    kw.setdefault("text", True)
    return subprocess.run(cmd, **kw)


class _FileLock:
    """Inter-process (flock) + intra-process (threading) lock on a cache file."""
    _tlocks = {}
    _tguard = threading.Lock()

    def __init__(self, name):
        os.makedirs(CACHE, exist_ok=True)
        self.path = os.path.join(CACHE, ".lock-" + name)
        with self._tguard:
            self.tlock = self._tlocks.setdefault(self.path, threading.RLock())

    def __enter__(self):
        import fcntl
        self.tlock.acquire()
        self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        fcntl.flock(self.fd, fcntl.LOCK_EX)
        return self

    def __exit__(self, *exc):
        os.close(self.fd)
        self.tlock.release()


# --------------------------------------------------------------------------
# Kernels
# --------------------------------------------------------------------------

class Kernel:
    def __init__(self, series, package, deb, root):
        self.series, self.package, self.deb, self.root = series, package, deb, root
        boot = os.path.join(root, "boot")
        imgs = sorted(f for f in os.listdir(boot) if f.startswith("vmlinuz-"))
        if not imgs:
            raise LabError("no vmlinuz in %s" % boot)
        self.vmlinuz = os.path.join(boot, imgs[0])
        self.release = imgs[0][len("vmlinuz-"):]
        self.modules_dir = os.path.join(root, "lib", "modules", self.release)
        cfg = os.path.join(boot, "config-" + self.release)
        self.config = cfg if os.path.exists(cfg) else None
        smap = os.path.join(boot, "System.map-" + self.release)
        self.system_map = smap if os.path.exists(smap) else None

    def __repr__(self):
        return "Kernel(%s, release=%s)" % (self.series, self.release)

    def module_index(self):
        """{module_name (with '_'): path} of every .ko / .ko.xz in modules_dir."""
        if getattr(self, "_modidx", None) is None:
            idx = {}
            for dirpath, _, files in os.walk(self.modules_dir):
                for f in files:
                    m = re.match(r"^(.*)\.ko(\.xz)?$", f)
                    if m:
                        idx[m.group(1).replace("-", "_")] = os.path.join(dirpath, f)
            self._modidx = idx
        return self._modidx

    def module_bytes(self, name):
        """Uncompressed .ko contents of module `name`."""
        path = self.module_index().get(name.replace("-", "_"))
        if not path:
            raise LabError("module %s not found under %s" % (name, self.modules_dir))
        with open(path, "rb") as f:
            data = f.read()
        if path.endswith(".xz"):
            import lzma
            data = lzma.decompress(data)
        return data

    def module_closure(self, names):
        """[(name, bytes)] for names plus their dependencies, in load order."""
        order, seen = [], set()

        def visit(n):
            n = n.replace("-", "_")
            if n in seen:
                return
            seen.add(n)
            data = self.module_bytes(n)
            m = re.search(rb"(?:^|\0)depends=([^\0]*)", data)
            for dep in (m.group(1).decode().split(",") if m else []):
                if dep:
                    visit(dep)
            order.append((n, data))
        for n in names:
            visit(n)
        return order


def _resolve_image_package(meta):
    for attempt in range(2):
        r = _run(["apt-cache", "depends", meta])
        for line in r.stdout.splitlines():
            m = re.match(r"\s*Depends:\s*(linux-image-\S+)", line)
            if m:
                return m.group(1)
        if attempt == 0:
            log("apt-cache knows no %s; running apt-get update" % meta)
            _run(["apt-get", "update", "-q"])
    raise LabError("cannot resolve %s with apt-cache depends:\n%s%s" % (meta, r.stdout, r.stderr))


def _deb_filename(pkg):
    r = _run(["apt-get", "download", "--print-uris", pkg])
    for line in r.stdout.splitlines():
        parts = line.split()
        if len(parts) >= 2 and parts[1].endswith(".deb"):
            return parts[1]
    raise LabError("apt-get download --print-uris %s gave nothing:\n%s%s" % (pkg, r.stdout, r.stderr))


def download_deb(pkg):
    """Download pkg's .deb into build/lab/debs (cached by file name); return its path."""
    debs = os.path.join(CACHE, "debs")
    os.makedirs(debs, exist_ok=True)
    fname = _deb_filename(pkg)
    dest = os.path.join(debs, fname)
    if os.path.exists(dest):
        return dest
    tmp = tempfile.mkdtemp(prefix=".dl-", dir=debs)
    try:
        log("downloading %s" % fname)
        r = _run(["apt-get", "download", pkg], cwd=tmp)
        got = [f for f in os.listdir(tmp) if f.endswith(".deb")]
        if r.returncode != 0 or not got:
            raise LabError("apt-get download %s failed:\n%s%s" % (pkg, r.stdout, r.stderr))
        os.rename(os.path.join(tmp, got[0]), dest)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return dest


def _extract_deb(deb, subdir):
    base = os.path.join(CACHE, subdir)
    os.makedirs(base, exist_ok=True)
    dest = os.path.join(base, os.path.basename(deb)[:-len(".deb")])
    if os.path.isdir(dest):
        return dest
    tmp = tempfile.mkdtemp(prefix=".x-", dir=base)
    try:
        r = _run(["dpkg-deb", "-x", deb, tmp])
        if r.returncode != 0:
            raise LabError("dpkg-deb -x %s failed: %s" % (deb, r.stderr))
        os.rename(tmp, dest)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return dest


def fetch(kernel=DEFAULT_KERNEL):
    """Return a Kernel (vmlinuz, release, modules_dir...) for series "6.1" or "6.12"."""
    if kernel not in KERNELS:
        raise LabError("unknown kernel %r (choose from %s)" % (kernel, ", ".join(KERNELS)))
    with _FileLock("fetch"):
        try:
            pkg = _resolve_image_package(KERNELS[kernel])
            deb = download_deb(pkg)
        except LabError as e:
            # Offline fallback: newest cached build of that series.
            cands = _cached_kernels(kernel)
            if not cands:
                raise
            log("apt failed (%s); using cached %s" % (str(e).splitlines()[0], cands[-1]))
            root = cands[-1]
            return Kernel(kernel, os.path.basename(root).split("_")[0], None, root)
        root = _extract_deb(deb, "kernels")
        return Kernel(kernel, pkg, deb, root)


def _cached_kernels(series):
    base = os.path.join(CACHE, "kernels")
    if not os.path.isdir(base):
        return []
    pat = re.compile(r"^linux-image-%s[.-]" % re.escape(series))
    return sorted(os.path.join(base, d) for d in os.listdir(base)
                  if pat.match(d) and not d.startswith("."))


# --------------------------------------------------------------------------
# initramfs
# --------------------------------------------------------------------------

def _is_static_elf(path):
    try:
        with open(path, "rb") as f:
            hdr = f.read(64)
            if hdr[:4] != b"\x7fELF" or hdr[4] != 2:
                return False
            phoff, = struct.unpack_from("<Q", hdr, 32)
            phentsize, phnum = struct.unpack_from("<HH", hdr, 54)
            f.seek(phoff)
            ph = f.read(phentsize * phnum)
        for i in range(phnum):
            if struct.unpack_from("<I", ph, i * phentsize)[0] == 3:  # PT_INTERP
                return False
        return True
    except OSError:
        return False


def find_busybox():
    """Path of a static busybox: /bin/busybox if static, else busybox-static's .deb."""
    for p in ("/bin/busybox", "/usr/bin/busybox"):
        if _is_static_elf(p):
            return p
    with _FileLock("fetch"):
        root = _extract_deb(download_deb("busybox-static"), "pkgs")
    for p in ("bin/busybox", "usr/bin/busybox"):
        if _is_static_elf(os.path.join(root, p)):
            return os.path.join(root, p)
    raise LabError("no static busybox found (install busybox-static)")


def build_workload():
    """Compile tests/lab/workload/*.c statically; cached by source hash."""
    srcdir = os.path.join(LAB_SRC, "workload")
    srcs = sorted(os.path.join(srcdir, f) for f in os.listdir(srcdir) if f.endswith(".c"))
    h = hashlib.sha256()
    for s in srcs:
        h.update(os.path.basename(s).encode() + b"\0")
        with open(s, "rb") as f:
            h.update(f.read())
    out = os.path.join(CACHE, "workload-%s" % h.hexdigest()[:16])
    if os.path.exists(out):
        return out
    os.makedirs(CACHE, exist_ok=True)
    cmd = ["gcc", "-static", "-pthread", "-O2", "-g0", "-Wall", "-o", out + ".tmp"] + srcs
    r = _run(cmd)
    if r.returncode != 0 and not os.path.exists("/usr/lib/x86_64-linux-gnu/libc.a"):
        log("static glibc missing; apt-get install -y libc6-dev")
        _run(["apt-get", "install", "-y", "-q", "libc6-dev"])
        r = _run(cmd)
    if r.returncode != 0:
        raise LabError("building workload failed: %s\n%s" % (" ".join(cmd), r.stderr))
    os.rename(out + ".tmp", out)
    return out


class Cpio:
    """Minimal deterministic cpio "newc" writer (no root needed for nodes)."""

    def __init__(self):
        self.buf = bytearray()
        self.ino = 1000
        self.seen = set()

    def _entry(self, name, mode, data=b"", rdev=(0, 0), nlink=1):
        name = name.lstrip("/")
        self.ino += 1
        nb = name.encode() + b"\0"
        hdr = "070701" + "".join("%08X" % v for v in (
            self.ino, mode, 0, 0, nlink, 0, len(data), 0, 0, rdev[0], rdev[1], len(nb), 0))
        self.buf += hdr.encode() + nb
        self.buf += b"\0" * (-len(self.buf) % 4)
        self.buf += data
        self.buf += b"\0" * (-len(self.buf) % 4)

    def dir(self, name):
        name = name.strip("/")
        if not name or name in self.seen:
            return
        parent = os.path.dirname(name)
        if parent:
            self.dir(parent)
        self.seen.add(name)
        self._entry(name, statmod.S_IFDIR | 0o755, nlink=2)

    def _parent(self, name):
        p = os.path.dirname(name.strip("/"))
        if p:
            self.dir(p)

    def file(self, name, data, mode=0o644):
        self._parent(name)
        self.seen.add(name.strip("/"))
        self._entry(name, statmod.S_IFREG | mode, data)

    def symlink(self, name, target):
        if name.strip("/") in self.seen:
            return
        self._parent(name)
        self.seen.add(name.strip("/"))
        self._entry(name, statmod.S_IFLNK | 0o777, target.encode())

    def chardev(self, name, major, minor, mode=0o600):
        self._parent(name)
        self.seen.add(name.strip("/"))
        self._entry(name, statmod.S_IFCHR | mode, rdev=(major, minor))

    def finish(self):
        self._entry("TRAILER!!!", 0)
        self.buf += b"\0" * (-len(self.buf) % 512)
        return bytes(self.buf)


INIT_TEMPLATE = r"""#!/bin/sh
# vmsight lab /init (generated by tests/lab/lab.py)
export PATH=/bin:/sbin:/usr/bin:/usr/sbin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
mount -t tmpfs tmpfs /tmp
mount -t tmpfs tmpfs /run
[ -d /sys/kernel/tracing ] && mount -t tracefs tracefs /sys/kernel/tracing 2>/dev/null
[ -d /sys/kernel/debug ] && mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
dmesg -n 1
hostname vmsight-lab
echo "===VMSIGHT-BOOTED==="

# ---- extra init (Guest(extra_init=...)) ----
@EXTRA_INIT@
# ---- workload ----
@SLEEPERS@
stopme &
STOPME=$!
spinner &
SPINNER=$!
threads &
THREADS=$!
tree-a &
TREE=$!
zparent &
ZPARENT=$!
longcmd &
LONGCMD=$!
fdholder &
FDHOLDER=$!
# setproctitle over argv and into this environment string (workload.c)
RETITLE_PAD=0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef retitle x &
RETITLE=$!
# Stop stopme only once it runs as itself: a SIGSTOP between fork and exec
# leaves a stopped copy of this shell instead (seen on a loaded host).
i=0
while [ $i -lt 100 ] && [ "$(cat /proc/$STOPME/comm 2>/dev/null)" != stopme ]; do
  sleep 0.1
  i=$((i+1))
done
kill -STOP $STOPME

# settle: wait (max ~20 s) until every part of the workload is in place
i=0
while [ $i -lt 100 ]; do
  ok=1
  [ "$(ls /proc/$THREADS/task 2>/dev/null | wc -l)" -ge 5 ] || ok=0
  pidof tree-d >/dev/null || ok=0
  grep -q '^State:.*T' /proc/$STOPME/status 2>/dev/null || ok=0
  [ "$(cat /proc/$STOPME/comm 2>/dev/null)" = stopme ] || ok=0
  [ "$(tr '\0' '\n' < /proc/$LONGCMD/cmdline 2>/dev/null | wc -l)" -gt 1 ] || ok=0
  grep -qs '^State:.*Z' /proc/[0-9]*/status || ok=0
  [ -e /tmp/fdholder.ready ] || ok=0
  grep -qs '^retitle:' /proc/$RETITLE/cmdline || ok=0
  [ $ok = 1 ] && break
  sleep 0.2
  i=$((i+1))
done
[ $ok = 1 ] || echo "===VMSIGHT-WARNING workload not settled==="
sleep 1

sec() { echo "===VMSIGHT-ORACLE BEGIN $1==="; }
end() { echo "===VMSIGHT-ORACLE END $1==="; }
sec version; cat /proc/version; end version
sec uname; uname -r; end uname
sec cpus; grep -c '^processor' /proc/cpuinfo; end cpus
sec online; cat /sys/devices/system/cpu/online; end online
sec modules; cat /proc/modules; end modules
sec workload
echo "init $$"
echo "stopme $STOPME"
echo "spinner $SPINNER"
echo "threads $THREADS"
echo "tree $TREE"
echo "zparent $ZPARENT"
echo "longcmd $LONGCMD"
echo "fdholder $FDHOLDER"
echo "retitle $RETITLE"
end workload
oracle-snap
sec ps; ps -o pid,ppid,comm,args; end ps
# ---- extra oracle sections (Guest(oracle_extra=...), tests/lab/oracle.d) ----
@ORACLE_EXTRA@
echo "@READY@"
# Idle forever without any child process: the read builtin blocks on a fifo.
mkfifo /run/idle
exec 3<>/run/idle
while :; do read -r _ <&3; done
"""


def _init_script(extra_init="", oracle_extra=""):
    lines = []
    for link, count, uid in SLEEPERS:
        env = "LAB_UID=%d LAB_GID=%d " % (uid, uid) if uid is not None else ""
        for _ in range(count):
            lines.append("%s%s &" % (env, link))
    s = INIT_TEMPLATE.replace("@SLEEPERS@", "\n".join(lines))
    s = s.replace("@EXTRA_INIT@", extra_init or ":")
    s = s.replace("@ORACLE_EXTRA@", oracle_extra or ":")
    return s.replace("@READY@", READY_MARK)


def build_initramfs(extra_files=None, extra_init="", oracle_extra=""):
    """Build (or reuse) the lab initramfs; returns the .cpio.gz path."""
    bb = find_busybox()
    wl = build_workload()
    c = Cpio()
    for d in ("bin", "sbin", "usr/bin", "usr/sbin", "etc", "proc", "sys", "dev", "tmp",
              "run", "root", "mnt", "lib/modules"):
        c.dir(d)
    c.chardev("dev/console", 5, 1)
    c.chardev("dev/null", 1, 3, 0o666)
    with open(bb, "rb") as f:
        c.file("bin/busybox", f.read(), 0o755)
    with open(wl, "rb") as f:
        c.file("bin/workload", f.read(), 0o755)
    for p in PERSONALITIES:
        c.symlink("bin/" + p, "workload")
    c.file("etc/longcmd.args", b"".join(a.encode() + b"\0" for a in LONGCMD_ARGS))
    c.file("etc/passwd", b"root:x:0:0:root:/root:/bin/sh\nlab1:x:1000:1000::/:/bin/sh\n"
                         b"lab2:x:1001:1001::/:/bin/sh\n")
    c.file("etc/group", b"root:x:0:\nlab1:x:1000:\nlab2:x:1001:\n")
    for name, src in sorted((extra_files or {}).items()):
        if isinstance(src, (bytes, bytearray)):
            c.file(name, bytes(src), 0o755)
        else:
            with open(src, "rb") as f:
                c.file(name, f.read(), os.stat(src).st_mode & 0o777)
    c.file("init", _init_script(extra_init, oracle_extra).encode(), 0o755)
    return finish_cpio(c, CACHE, "initramfs-")


def finish_cpio(c, cache_dir, prefix, level=6, keep=None):
    """Add busybox's applet links to Cpio @c (they do not shadow its own
    files) and write it gzipped, once, as @cache_dir/@prefix<digest>.cpio.gz;
    with @keep, older files of that prefix beyond @keep are pruned first.
    Returns the path."""
    r = _run([find_busybox(), "--list-full"])
    for app in r.stdout.split():
        c.symlink(app, "/bin/busybox")
    data = c.finish()
    digest = hashlib.sha256(data).hexdigest()[:16]
    out = os.path.join(cache_dir, "%s%s.cpio.gz" % (prefix, digest))
    if not os.path.exists(out):
        if keep:
            prune_cache(cache_dir, prefix, keep - 1)
        tmp = out + ".tmp.%d" % os.getpid()
        with open(tmp, "wb") as f:
            f.write(gzip.compress(data, level, mtime=0))
        os.rename(tmp, out)
    return out


def prune_cache(d, prefix, keep):
    """Delete all but the @keep newest files of @d whose names start with @prefix."""
    fs = sorted((os.path.join(d, f) for f in os.listdir(d) if f.startswith(prefix)),
                key=lambda p: os.stat(p).st_mtime)
    for p in fs[:-keep] if keep else fs:
        try:
            os.unlink(p)
        except OSError:
            pass


def guest_initramfs(kernel, modules=(), extra_files=None, extra_init="", oracle_extra=""):
    """build_initramfs plus @modules of @kernel (and what they depend on),
    insmod'ed by /init before @extra_init."""
    files, init = dict(extra_files or {}), extra_init or ""
    if modules:
        loads = []
        for n, data in kernel.module_closure(modules):
            files["lib/modules/%s.ko" % n] = data
            loads.append("insmod /lib/modules/%s.ko || echo \"insmod %s failed\"" % (n, n))
        init = "\n".join(loads + [init])
    return build_initramfs(files, init, oracle_extra)


# --------------------------------------------------------------------------
# Oracle parsing
# --------------------------------------------------------------------------

_STAT_FIELDS = ["state", "ppid", "pgrp", "session", "tty_nr", "tpgid", "flags", "minflt",
                "cminflt", "majflt", "cmajflt", "utime", "stime", "cutime", "cstime",
                "priority", "nice", "num_threads", "itrealvalue", "starttime", "vsize", "rss"]


def parse_stat_line(line):
    """Parse one /proc/PID/stat line into a dict (comm may contain spaces/parens)."""
    lp = line.index(" (")
    rp = line.rindex(")")
    pid = int(line[:lp])
    comm = line[lp + 2:rp]
    rest = line[rp + 2:].split()
    d = {"pid": pid, "comm": comm, "raw": line}
    for i, k in enumerate(_STAT_FIELDS):
        if i < len(rest):
            d[k] = rest[i] if k == "state" else int(rest[i])
    d["processor"] = int(rest[36]) if len(rest) > 36 else None
    d["kthread"] = bool(d.get("flags", 0) & PF_KTHREAD)
    return d


def sections(text):
    """Split console text into {name: [lines]} for every complete oracle section."""
    out, cur, buf = {}, None, []
    for line in text.replace("\r", "").split("\n"):
        if cur is None:
            m = BEGIN_RE.match(line)
            if m:
                cur, buf = m.group(1), []
        elif line == END_FMT.format(cur):
            out[cur] = buf
            cur = None
        elif not _KMSG_RE.match(line):  # a kernel message that slipped in
            buf.append(line)
    return out


def parse_oracle(text):
    s = sections(text)
    missing = [n for n in ("version", "uname", "cpus", "online", "stat", "taskstat",
                           "status", "cmdline", "modules", "ps", "transient", "workload")
               if n not in s]
    if missing:
        raise LabError("oracle sections missing: %s" % ", ".join(missing))
    o = {"sections": s}
    o["version"] = "\n".join(s["version"]).strip()
    o["release"] = "\n".join(s["uname"]).strip()
    o["cpus"] = int(s["cpus"][0])
    o["online"] = s["online"][0].strip()
    o["processes"] = [parse_stat_line(l) for l in s["stat"] if l.strip()]
    threads = []
    for l in s["taskstat"]:
        if l.strip():
            tgid, rest = l.split(" ", 1)
            d = parse_stat_line(rest)
            d["tgid"] = int(tgid)
            threads.append(d)
    o["threads"] = threads
    uids = {}
    for l in s["status"]:
        m = re.match(r"(\d+) Uid: ([\d ]+?) Gid: ([\d ]+)$", l)
        if m:
            uids[int(m.group(1))] = {"uid": [int(x) for x in m.group(2).split()],
                                     "gid": [int(x) for x in m.group(3).split()]}
    o["uids"] = uids
    raw, cmd = {}, {}
    for l in s["cmdline"]:
        if not l.strip():
            continue
        pid, _, hx = l.partition(" ")
        b = bytes.fromhex(hx.strip())
        raw[int(pid)] = b
        parts = b.split(b"\0")
        if parts and parts[-1] == b"":
            parts.pop()
        cmd[int(pid)] = [p.decode("utf-8", "surrogateescape") for p in parts]
    o["cmdlines_raw"], o["cmdlines"] = raw, cmd
    mods = []
    for l in s["modules"]:
        f = l.split()
        if len(f) >= 6:
            mods.append({"name": f[0], "size": int(f[1]), "refcount": f[2],
                         "used_by": [x for x in f[3].split(",") if x and x != "-"],
                         "state": f[4], "addr": int(f[5], 16)})
    o["modules"] = mods
    o["ps"] = "\n".join(s["ps"])
    o["transient"] = {int(l.split()[0]) for l in s["transient"] if l.strip()}
    o["workload"] = {l.split()[0]: int(l.split()[1]) for l in s["workload"] if l.strip()}
    return o


# --------------------------------------------------------------------------
# QMP
# --------------------------------------------------------------------------

class QMP:
    """Minimal QMP client: greeting, qmp_capabilities, execute; events are queued."""

    def __init__(self, path, timeout=30):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        self.sock.connect(path)
        self.rf = self.sock.makefile("rb")
        self.events = []
        self.lock = threading.Lock()
        self.next_id = 1
        greeting = self._read()
        if "QMP" not in greeting:
            raise LabError("unexpected QMP greeting: %r" % greeting)
        self.execute("qmp_capabilities")

    def _read(self):
        line = self.rf.readline()
        if not line:
            raise LabError("QMP connection closed")
        return json.loads(line)

    def execute(self, cmd, timeout=600, **args):
        with self.lock:
            cid = "lab-%d" % self.next_id
            self.next_id += 1
            msg = {"execute": cmd, "id": cid}
            if args:
                msg["arguments"] = args
            self.sock.settimeout(timeout)
            self.sock.sendall(json.dumps(msg).encode() + b"\n")
            while True:
                r = self._read()
                if "event" in r:
                    self.events.append(r)
                    continue
                if r.get("id") != cid:
                    continue
                if "error" in r:
                    raise LabError("QMP %s failed: %s" % (cmd, r["error"]))
                return r.get("return")

    def close(self):
        try:
            self.rf.close()
            self.sock.close()
        except OSError:
            pass


# --------------------------------------------------------------------------
# Guest
# --------------------------------------------------------------------------

_live_guests = weakref.WeakSet()
_seq_lock = threading.Lock()
_seq = [0]

# Runs as a separate process per guest.  It holds the read end of a pipe whose
# write end only the lab process has: EOF means the lab process is gone (even
# after SIGKILL), so kill qemu and delete the RAM file.  It also cleans up if
# qemu dies on its own.
_REAPER = r"""
import os, select, signal, sys, time
for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
    signal.signal(s, signal.SIG_IGN)
qpid, ram = int(sys.argv[1]), sys.argv[2]
def alive():
    try:
        with open("/proc/%d/cmdline" % qpid, "rb") as f:
            return ram.encode() in f.read()
    except OSError:
        return False
while True:
    r, _, _ = select.select([0], [], [], 1.0)
    if r and not os.read(0, 4096):
        break
    if not alive():
        break
if alive():
    os.kill(qpid, signal.SIGTERM)
    for _ in range(50):
        if not alive():
            break
        time.sleep(0.1)
    if alive():
        os.kill(qpid, signal.SIGKILL)
try:
    os.unlink(ram)
except OSError:
    pass
"""


class Guest:
    def __init__(self, kernel=DEFAULT_KERNEL, mem_mb=512, smp=2, name=None, extra_append="",
                 workdir=None, extra_files=None, extra_init="", cpu=DEFAULT_CPU,
                 modules=(), oracle_extra="", ram="file"):
        if kernel not in KERNELS:
            raise LabError("unknown kernel %r" % kernel)
        with _seq_lock:
            _seq[0] += 1
            seq = _seq[0]
        self.series = kernel
        self.mem_mb, self.smp = int(mem_mb), int(smp)
        self.name = name or "%s-%d" % (kernel, seq)
        if not re.match(r"^[A-Za-z0-9._-]+$", self.name):
            raise LabError("guest name must match [A-Za-z0-9._-]+")
        self.extra_append = extra_append
        self.cpu = cpu
        self.extra_files, self.extra_init = extra_files, extra_init
        self.oracle_extra = oracle_extra
        self.modules = list(modules)
        if ram not in ("file", "anon", "anon-backend"):
            raise LabError("ram must be 'file', 'anon' or 'anon-backend'")
        # "anon": plain -m RAM (anonymous memory inside qemu, no RAM file).
        # "anon-backend": anonymous too, but as QEMU's explicit
        # memory-backend-ram object that alone gives the size (no -m), named
        # by a -machine option of its own (QEMU merges repeated -machine).
        self.ram = ram
        self.ram_path = "/dev/shm/vmsight-%s-%d.ram" % (self.name, os.getpid())
        self._own_workdir = workdir is None
        self.workdir = workdir
        self.kernel = None
        self.initramfs = None
        self.proc = None
        self.reaper = None
        self._qmp = None
        self._oracle = None
        self.started_at = None
        self.boot_seconds = None
        self.closed = False

    # -- lifecycle ---------------------------------------------------------
    @property
    def pid(self):
        return self.proc.pid if self.proc else None

    @property
    def console_path(self):
        return os.path.join(self.workdir, "console.log")

    @property
    def qmp_path(self):
        return os.path.join(self.workdir, "qmp.sock")

    def qemu_cmdline(self):
        append = "console=ttyS0 panic=-1 rdinit=/init " + (self.extra_append or "")
        return [
            "qemu-system-x86_64", "-name", "vmsight-%s,debug-threads=on" % self.name,
            "-accel", "tcg,thread=multi",
            "-cpu", self.cpu, "-smp", str(self.smp),
        ] + ([] if self.ram == "anon-backend" else ["-m", "%dM" % self.mem_mb]) + ([
            "-machine", "pc,memory-backend=mem",
            "-object", "memory-backend-file,id=mem,size=%dM,mem-path=%s,share=on"
                       % (self.mem_mb, self.ram_path),
        ] if self.ram == "file" else [
            "-machine", "memory-backend=mem", "-machine", "pc",
            "-object", "memory-backend-ram,id=mem,size=%dM" % self.mem_mb,
            "-pidfile", self.ram_path + ".pid",
        ] if self.ram == "anon-backend" else [
            # No RAM file; the pid file keeps ram_path in the command line,
            # which the reaper looks for.
            "-machine", "pc", "-pidfile", self.ram_path + ".pid",
        ]) + [
            # VMCOREINFO for kdump-format dumps (harmless otherwise).
            "-device", "vmcoreinfo",
            "-kernel", self.kernel.vmlinuz, "-initrd", self.initramfs,
            "-append", append.strip(),
            "-nodefaults", "-display", "none", "-vga", "none", "-monitor", "none",
            "-serial", "file:" + self.console_path,
            "-qmp", "unix:%s,server=on,wait=off" % self.qmp_path,
            "-no-reboot",
        ]

    def _make_workdir(self):
        if self.workdir is None:
            run = os.path.join(CACHE, "run")
            os.makedirs(run, exist_ok=True)
            _prune_old_runs(run)
            self.workdir = tempfile.mkdtemp(prefix="%s-" % self.name, dir=run)
        else:
            os.makedirs(self.workdir, exist_ok=True)

    def start(self):
        if self.proc:
            raise LabError("guest already started")
        self.kernel = fetch(self.series)
        self.initramfs = guest_initramfs(self.kernel, self.modules, self.extra_files,
                                         self.extra_init, self.oracle_extra)
        self._make_workdir()
        for p in (self.console_path, self.qmp_path, self.ram_path):
            if os.path.exists(p):
                os.unlink(p)
        _install_atexit()
        _live_guests.add(self)
        cmd = self.qemu_cmdline()
        with open(os.path.join(self.workdir, "qemu.cmd"), "w") as f:
            f.write(" ".join(_shquote(a) for a in cmd) + "\n")
        self._qemu_err = open(os.path.join(self.workdir, "qemu.stderr"), "wb")
        self.started_at = time.monotonic()
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=self._qemu_err,
                                     stderr=self._qemu_err, start_new_session=True)
        self.reaper = subprocess.Popen([sys.executable, "-c", _REAPER, str(self.proc.pid),
                                        self.ram_path], stdin=subprocess.PIPE,
                                       start_new_session=True)
        log("%s: qemu pid %d, kernel %s, RAM %s" % (self.name, self.proc.pid,
                                                   self.kernel.release, self.ram_path))
        return self

    def console(self):
        try:
            with open(self.console_path, "rb") as f:
                return f.read().decode("utf-8", "replace").replace("\r", "")
        except OSError:
            return ""

    def console_tail(self, n=40):
        return "\n".join(self.console().rstrip("\n").split("\n")[-n:])

    def _qemu_stderr(self):
        try:
            with open(os.path.join(self.workdir, "qemu.stderr"), "rb") as f:
                return f.read().decode("utf-8", "replace")[-2000:]
        except OSError:
            return ""

    def _fail(self, why):
        msg = ("guest %s (%s): %s\n--- console tail (%s) ---\n%s\n--- end console ---"
               % (self.name, self.kernel.release if self.kernel else self.series, why,
                  self.console_path, self.console_tail()))
        err = self._qemu_stderr().strip()
        if err:
            msg += "\n--- qemu stderr ---\n" + err
        return GuestError(msg)

    def wait_ready(self, timeout=180):
        """Wait for READY; return seconds from qemu start to READY."""
        if not self.proc:
            raise LabError("guest not started")
        deadline = time.monotonic() + timeout
        while True:
            text = self.console()
            if READY_MARK in text:
                break
            if PANIC_RE.search(text):
                time.sleep(0.5)
                raise self._fail("kernel panic")
            if self.proc.poll() is not None:
                raise self._fail("qemu exited with status %s" % self.proc.returncode)
            if time.monotonic() > deadline:
                raise self._fail("timeout after %ds waiting for %s" % (timeout, READY_MARK))
            time.sleep(0.1)
        self.boot_seconds = time.monotonic() - self.started_at
        try:
            self._oracle = parse_oracle(text)
        except (LabError, ValueError) as e:
            raise self._fail("oracle unparsable: %s" % e)
        log("%s: READY after %.1fs" % (self.name, self.boot_seconds))
        return self.boot_seconds

    @property
    def oracle(self):
        if self._oracle is None:
            self._oracle = parse_oracle(self.console())
        return self._oracle

    # -- QMP ---------------------------------------------------------------
    def _connect(self, timeout=30):
        if self._qmp:
            return self._qmp
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise self._fail("qemu exited (status %s)" % self.proc.returncode)
            try:
                self._qmp = QMP(self.qmp_path)
                return self._qmp
            except (OSError, LabError) as e:
                last = e
                time.sleep(0.1)
        raise self._fail("cannot connect to QMP %s: %s" % (self.qmp_path, last))

    def qmp(self, cmd, **args):
        """Execute a QMP command; returns its "return" value."""
        return self._connect().execute(cmd, **args)

    def hmp(self, cmdline, cpu=None):
        args = {"command-line": cmdline}
        if cpu is not None:
            args["cpu-index"] = int(cpu)
        return self.qmp("human-monitor-command", **args)

    def pause(self):
        self.qmp("stop")

    def resume(self):
        self.qmp("cont")

    def running(self):
        return self.qmp("query-status").get("running", False)

    def dump(self, path, fmt="elf"):
        """Write a dump of guest memory (dump-guest-memory, paging off).
        fmt: "elf" (ELF core) or a QMP DumpGuestMemoryFormat such as
        "kdump-zlib" (makedumpfile's kdump-compressed format)."""
        path = os.path.abspath(path)
        args = {} if fmt == "elf" else {"format": fmt}
        self.qmp("dump-guest-memory", paging=False, protocol="file:" + path, **args)
        # Synchronous without detach; poll anyway in case qemu detached it.
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline:
            st = self.qmp("query-dump")
            if st.get("status") in ("completed", "none"):
                break
            if st.get("status") == "failed":
                raise self._fail("dump-guest-memory failed")
            time.sleep(0.2)
        return path

    def registers(self):
        """Parsed 'info registers' of every vCPU."""
        cpus = self.qmp("query-cpus-fast")
        out = []
        for c in sorted(cpus, key=lambda c: c["cpu-index"]):
            d = parse_registers(self.hmp("info registers", cpu=c["cpu-index"]))
            d["cpu"] = c["cpu-index"]
            d["thread_id"] = c.get("thread-id")
            out.append(d)
        return out

    def close(self):
        if self.closed:
            return
        self.closed = True
        try:
            if self.proc and self.proc.poll() is None:
                try:
                    if self._qmp:
                        self._qmp.execute("quit", timeout=5)
                    else:
                        QMP(self.qmp_path, timeout=3).execute("quit", timeout=5)
                except Exception:
                    pass
                try:
                    self.proc.wait(5)
                except subprocess.TimeoutExpired:
                    self.proc.terminate()
                    try:
                        self.proc.wait(5)
                    except subprocess.TimeoutExpired:
                        self.proc.kill()
                        self.proc.wait()
        finally:
            if self._qmp:
                self._qmp.close()
                self._qmp = None
            try:
                os.unlink(self.ram_path)
            except OSError:
                pass
            if self.ram in ("anon", "anon-backend"):
                try:
                    os.unlink(self.ram_path + ".pid")
                except OSError:
                    pass
            try:
                os.unlink(self.qmp_path)
            except (OSError, TypeError):
                pass
            if self.reaper:
                try:
                    self.reaper.stdin.close()
                    self.reaper.wait(10)
                except Exception:
                    pass
            if getattr(self, "_qemu_err", None):
                self._qemu_err.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __repr__(self):
        return "Guest(%s, kernel=%s, pid=%s)" % (self.name, self.series, self.pid)


def parse_registers(text):
    """Parse qemu's x86 'info registers' text into a dict."""
    d = {}
    for m in re.finditer(r"\b([A-Z][A-Z0-9]*) ?=([0-9a-fA-F]{1,16})\b", text):
        if not re.match(r"(YMM|XMM|ZMM|FPR|DPL)", m.group(1)):
            d[m.group(1)] = int(m.group(2), 16)
    for m in re.finditer(r"^(ES|CS|SS|DS|FS|GS|LDT|TR)\s*=\s*([0-9a-f]+)\s+([0-9a-f]+)\s+"
                         r"([0-9a-f]+)\s+([0-9a-f]+)", text, re.M):
        d[m.group(1)] = {"selector": int(m.group(2), 16), "base": int(m.group(3), 16),
                         "limit": int(m.group(4), 16), "flags": int(m.group(5), 16)}
    for m in re.finditer(r"^(GDT|IDT)\s*=\s*([0-9a-f]+)\s+([0-9a-f]+)", text, re.M):
        d[m.group(1)] = {"base": int(m.group(2), 16), "limit": int(m.group(3), 16)}
    for seg in ("FS", "GS"):
        if seg in d and isinstance(d[seg], dict):
            d[seg + "_BASE"] = d[seg]["base"]
    d["text"] = text
    return d


def _shquote(a):
    return a if re.match(r"^[A-Za-z0-9_./:=,+-]+$", a) else "'" + a.replace("'", "'\\''") + "'"


def _prune_old_runs(run, max_age=86400):
    now = time.time()
    for d in os.listdir(run):
        p = os.path.join(run, d)
        try:
            if now - os.stat(p).st_mtime > max_age:
                shutil.rmtree(p, ignore_errors=True)
        except OSError:
            pass


_atexit_done = [False]


def _close_all():
    for g in list(_live_guests):
        try:
            g.close()
        except Exception:
            pass


def _install_atexit():
    if not _atexit_done[0]:
        _atexit_done[0] = True
        atexit.register(_close_all)


def install_signal_handlers(exit_code=None):
    """Make SIGTERM/SIGHUP/SIGINT close all guests, then raise SystemExit
    (status exit_code, default 128+signal) in the main thread."""
    def handler(signum, frame):
        _close_all()
        raise SystemExit(128 + signum if exit_code is None else exit_code)
    for s in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT):
        signal.signal(s, handler)


# --------------------------------------------------------------------------
# ELF core inspection (used by the suite; handy for others)
# --------------------------------------------------------------------------

def elf_core_info(path):
    """Return {"type": e_type, "loads": [(paddr, vaddr, offset, filesz, memsz)],
    "notes": count} of an ELF64 file."""
    with open(path, "rb") as f:
        h = f.read(64)
        if h[:4] != b"\x7fELF" or h[4] != 2:
            raise LabError("%s is not an ELF64 file" % path)
        e_type, = struct.unpack_from("<H", h, 16)
        phoff, = struct.unpack_from("<Q", h, 32)
        phentsize, phnum = struct.unpack_from("<HH", h, 54)
        if phnum == 0xffff:  # extended numbering: real count in section 0's sh_info
            shoff, = struct.unpack_from("<Q", h, 40)
            f.seek(shoff)
            phnum, = struct.unpack_from("<I", f.read(64), 44)
        f.seek(phoff)
        ph = f.read(phentsize * phnum)
    loads, notes = [], 0
    for i in range(phnum):
        p_type, _, p_off, p_vaddr, p_paddr, p_filesz, p_memsz = struct.unpack_from(
            "<IIQQQQQ", ph, i * phentsize)
        if p_type == 1:
            loads.append((p_paddr, p_vaddr, p_off, p_filesz, p_memsz))
        elif p_type == 4:
            notes += 1
    return {"type": e_type, "loads": loads, "notes": notes}


LIME_MAGIC = 0x4C694D45


def make_lime(elf_path, out_path, ranges=None):
    """Convert an ELF core (Guest.dump) to a LiME file: one 32-byte header
    (magic "EMiL", version 1, s_addr, e_addr inclusive, 8 reserved bytes) and
    the bytes of each PT_LOAD.  The LiME kernel module itself would have to
    be built for each guest kernel; the format is what matters to a reader.
    ranges: optional [(paddr, size)] to write instead (tests use it to make
    bad files); they must lie inside the ELF's PT_LOADs."""
    loads = [(p, off, sz) for p, _, off, sz, _ in elf_core_info(elf_path)["loads"] if sz]
    if ranges is None:
        ranges = [(p, sz) for p, _, sz in loads]
    with open(elf_path, "rb") as src, open(out_path, "wb") as out:
        for paddr, size in ranges:
            out.write(struct.pack("<IIQQ8x", LIME_MAGIC, 1, paddr, paddr + size - 1))
            left, pa = size, paddr
            while left:
                seg = [l for l in loads if l[0] <= pa < l[0] + l[2]]
                if not seg:
                    raise LabError("make_lime: 0x%x is not in %s" % (pa, elf_path))
                p, off, sz = seg[0]
                n = min(left, p + sz - pa, 8 << 20)
                src.seek(off + pa - p)
                out.write(src.read(n))
                pa += n
                left -= n
    return out_path


def kdump_unflatten(src_path, out_path):
    """Rearrange a flattened makedumpfile stream (what QEMU 7.2 writes for
    dump-guest-memory format=kdump-*) into the regular kdump-compressed
    file, like `makedumpfile -R out < src`: after a 4 KiB header, records
    of (big-endian int64 offset, int64 size) + data; offset < 0 ends it."""
    with open(src_path, "rb") as f, open(out_path, "wb") as out:
        head = f.read(4096)
        if not head.startswith(b"makedumpfile\0"):
            raise LabError("%s is not a flattened makedumpfile stream" % src_path)
        while True:
            h = f.read(16)
            if len(h) < 16:
                raise LabError("%s: flattened stream cut short" % src_path)
            off, size = struct.unpack(">qq", h)
            if off < 0:
                break
            out.seek(off)
            while size > 0:
                b = f.read(min(size, 8 << 20))
                if not b:
                    raise LabError("%s: flattened record cut short" % src_path)
                out.write(b)
                size -= len(b)
    return out_path


# --------------------------------------------------------------------------
# CLI
# --------------------------------------------------------------------------

def summarize(o):
    user = [p for p in o["processes"] if not p["kthread"]]
    by_comm = {}
    for p in user:
        by_comm[p["comm"]] = by_comm.get(p["comm"], 0) + 1
    lines = ["version: %s" % o["version"],
             "release: %s  cpus: %d  online: %s  modules: %d" % (
                 o["release"], o["cpus"], o["online"], len(o["modules"])),
             "processes: %d (%d user, %d kernel threads), tasks: %d, transient pids: %s" % (
                 len(o["processes"]), len(user), len(o["processes"]) - len(user),
                 len(o["threads"]), ",".join(map(str, sorted(o["transient"])))),
             "user comms: " + ", ".join("%s%s" % (c, "x%d" % n if n > 1 else "")
                                        for c, n in sorted(by_comm.items()))]
    return "\n".join(lines)



# ---------------------------------------------------------------------------
# Standard guests and the pool shared by every suite of one test run.
#
# A "standard" guest of a kernel series is booted with STANDARD_MODULES loaded
# and every snippet of tests/lab/oracle.d/*.sh (sorted) run after the process
# snapshot, so that it prints every oracle section any suite needs.  tests/run
# boots one per series before the suites (`lab.py pool`) and exports
# VMSIGHT_LAB_POOL; standard_guest() then attaches to it instead of booting.
# Suites must leave a shared guest as they found it: paused, unmodified.
# ---------------------------------------------------------------------------
STANDARD_MODULES = ("dummy", "nf_tables")
# 6.12 runs with 5-level paging (-cpu max) and 6.1 with 4-level, so that
# both paging modes are exercised on real guests.
STANDARD_CPU = {"6.1": DEFAULT_CPU, "6.12": "max"}
ORACLE_D = os.path.join(os.path.dirname(os.path.abspath(__file__)), "oracle.d")


def standard_oracle_extra(skip=()):
    """The oracle.d snippets, less the file names in @skip."""
    parts = []
    if os.path.isdir(ORACLE_D):
        for f in sorted(os.listdir(ORACLE_D)):
            if f.endswith(".sh") and f not in skip:
                with open(os.path.join(ORACLE_D, f)) as fh:
                    parts.append("# --- oracle.d/%s ---\n%s" % (f, fh.read()))
    return "\n".join(parts)


def standard_config(kernel):
    return dict(kernel=kernel, cpu=STANDARD_CPU.get(kernel, DEFAULT_CPU),
                modules=STANDARD_MODULES, oracle_extra=standard_oracle_extra(),
                name="std-%s" % kernel)


class SharedGuest(Guest):
    """A standard guest booted by the pool (another process): same API as
    Guest, but close() only disconnects; the pool owns the VM."""

    def __init__(self, kernel, state):
        Guest.__init__(self, kernel=kernel, name=state["name"], cpu=state["cpu"],
                       modules=STANDARD_MODULES, workdir=state["workdir"])
        self.ram_path = state["ram"]
        self._shared_pid = state["pid"]
        self.boot_seconds = state.get("boot_seconds")
        self.kernel = fetch(kernel)
        self.shared = True

    @property
    def pid(self):
        return self._shared_pid

    def start(self):
        return self

    def wait_ready(self, timeout=180):
        return self.boot_seconds or 0.0

    def _connect(self, timeout=30):
        if not self._qmp:
            self._qmp = QMP(self.qmp_path)
        return self._qmp

    def close(self):
        if self.closed:
            return
        self.closed = True
        if self._qmp:
            try:
                self._qmp.close()
            except Exception:
                pass
            self._qmp = None


_standard = {}


def standard_guest(kernel):
    """The standard guest of @kernel, paused and READY: from the pool of this
    test run when there is one, else booted now (and closed at exit)."""
    if kernel in _standard:
        return _standard[kernel]
    state_file = os.environ.get("VMSIGHT_LAB_POOL")
    g = None
    if state_file and os.path.exists(state_file):
        with open(state_file) as f:
            state = json.load(f)
        if kernel in state and os.path.exists(state[kernel]["ram"]):
            g = SharedGuest(kernel, state[kernel])
            g.pause()
    if g is None:
        g = Guest(**standard_config(kernel))
        g.start()
        g.wait_ready(300)
        g.pause()
    _standard[kernel] = g
    return g


# --------------------------------------------------------------------------
# libvirt: lab guests as transient domains of the system libvirt daemon
# --------------------------------------------------------------------------

LIBVIRT_URI = "qemu:///system"
LIBVIRT_QEMU_RUN = "/run/libvirt/qemu"        # <domain>.pid, as libvirt:NAME reads it
LIBVIRT_QEMU_LOG = "/var/log/libvirt/qemu"    # <domain>.log: QEMU's command line, errors
# Daemons this module starts exit on their own after this long without
# clients or running domains (a safety net should the lab process die hard).
LIBVIRT_IDLE_TIMEOUT = 120

# Runs as a separate process: it learns the domains and daemon pids from its
# stdin ("domain NAME", "undomain NAME", "pid N", "unpid N") and, on EOF while
# any are left (the lab process died without close()), destroys the domains
# and stops the daemons.
_LIBVIRT_REAPER = r"""
import os, signal, subprocess, sys
for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
    signal.signal(s, signal.SIG_IGN)
uri, doms, pids = sys.argv[1], [], []
for line in sys.stdin:
    kind, _, arg = line.strip().partition(" ")
    if kind == "domain":
        doms.append(arg)
    elif kind == "undomain" and arg in doms:
        doms.remove(arg)
    elif kind == "pid":
        pids.append(int(arg))
    elif kind == "unpid" and int(arg) in pids:
        pids.remove(int(arg))
for d in doms:
    try:
        subprocess.run(["virsh", "-q", "-c", uri, "destroy", d], timeout=60,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    except Exception:
        pass
for p in reversed(pids):
    try:
        os.kill(p, signal.SIGTERM)
    except OSError:
        pass
"""


def _unix_socket_alive(path):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(2)
    try:
        s.connect(path)
        return True
    except OSError:
        return False
    finally:
        s.close()


def _sbin(name):
    p = shutil.which(name)
    if p:
        return p
    for d in ("/usr/sbin", "/sbin"):
        if os.access(os.path.join(d, name), os.X_OK):
            return os.path.join(d, name)
    return None


class Libvirt:
    """The system libvirt (qemu:///system), to run lab guests as domains.

    unavailable()  None when libvirt can be used here, else why not (no
                   virsh; no daemon running and no libvirtd binary; not root).
    start(timeout=90)
                   use the daemon that answers on qemu:///system, or start
                   virtlogd and libvirtd as children of this process (no
                   systemd needed; they run with --timeout, so they also end
                   on their own once idle); returns self.  Raises LabError
                   with the daemon's log tail when it does not come up.
    owned          True when start() started the daemons
    virsh(*args, check=True, timeout=120) -> CompletedProcess
    close()        destroy the domains of this process still running, stop
                   the daemons start() started (idempotent; also at exit).
    """

    def __init__(self, uri=LIBVIRT_URI):
        self.uri = uri
        self.owned = False
        self.procs = []
        self.domains = set()
        self.workdir = None
        self.reaper = None
        self.closed = False

    @staticmethod
    def unavailable():
        if not shutil.which("virsh"):
            return "no virsh (Debian libvirt-clients)"
        if _unix_socket_alive("/run/libvirt/libvirt-sock") or \
                _unix_socket_alive("/run/libvirt/virtqemud-sock"):
            return None
        if not _sbin("libvirtd"):
            return "no libvirt daemon running and no libvirtd binary (Debian libvirt-daemon-system)"
        if os.geteuid() != 0:
            return "starting the system libvirtd needs root"
        if not _sbin("virtlogd"):
            return "no virtlogd binary (Debian libvirt-daemon-system)"
        return None

    def virsh(self, *args, check=True, timeout=120):
        r = _run(["virsh", "-q", "-c", self.uri] + list(args), timeout=timeout)
        if check and r.returncode != 0:
            raise LabError("virsh %s: %s" % (" ".join(args[:2]), (r.stderr or r.stdout).strip()))
        return r

    def _ping(self):
        try:
            return self.virsh("uri", check=False, timeout=30).returncode == 0
        except subprocess.TimeoutExpired:
            return False

    def _tell(self, msg):
        if self.reaper and self.reaper.poll() is None:
            try:
                self.reaper.stdin.write((msg + "\n").encode())
                self.reaper.stdin.flush()
            except OSError:
                pass

    def log_tail(self, n=15):
        out = []
        for p in self.procs:
            try:
                with open(p._lab_log, "rb") as f:
                    lines = f.read().decode("utf-8", "replace").splitlines()
                out.append("--- %s ---\n%s" % (os.path.basename(p._lab_log),
                                               "\n".join(lines[-n:])))
            except OSError:
                pass
        return "\n".join(out)

    def start(self, timeout=90):
        why = self.unavailable()
        if why:
            raise LabError("libvirt: " + why)
        _install_atexit()
        _live_guests.add(self)
        if self._ping():
            return self
        run = os.path.join(CACHE, "run")
        os.makedirs(run, exist_ok=True)
        self.workdir = tempfile.mkdtemp(prefix="libvirt-", dir=run)
        self.reaper = subprocess.Popen([sys.executable, "-c", _LIBVIRT_REAPER, self.uri],
                                       stdin=subprocess.PIPE, start_new_session=True)
        self.owned = True
        daemons = []
        if not _unix_socket_alive("/run/libvirt/virtlogd-sock"):
            daemons.append("virtlogd")
        daemons.append("libvirtd")
        for d in daemons:
            logf = os.path.join(self.workdir, d + ".log")
            with open(logf, "wb") as lf:
                p = subprocess.Popen([_sbin(d), "--timeout", str(LIBVIRT_IDLE_TIMEOUT)],
                                     stdin=subprocess.DEVNULL, stdout=lf, stderr=lf,
                                     start_new_session=True)
            p._lab_log = logf
            self.procs.append(p)
            self._tell("pid %d" % p.pid)
            log("libvirt: started %s (pid %d, log %s)" % (d, p.pid, logf))
        deadline = time.monotonic() + timeout
        while not self._ping():
            dead = [p for p in self.procs if p.poll() is not None]
            if dead or time.monotonic() > deadline:
                why = ("%s exited with status %s" % (os.path.basename(dead[0].args[0]),
                                                     dead[0].returncode)
                       if dead else "no answer on %s after %ds" % (self.uri, timeout))
                tail = self.log_tail()
                self.close()
                raise LabError("libvirt: %s\n%s" % (why, tail))
            time.sleep(0.3)
        return self

    def track(self, domain):
        self.domains.add(domain)
        self._tell("domain " + domain)

    def untrack(self, domain):
        self.domains.discard(domain)
        self._tell("undomain " + domain)

    def close(self):
        if self.closed:
            return
        self.closed = True
        for d in list(self.domains):
            try:
                self.virsh("destroy", d, check=False, timeout=60)
            except Exception:
                pass
            self.untrack(d)
        for p in reversed(self.procs):
            if p.poll() is None:
                p.terminate()
                try:
                    p.wait(20)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()
            self._tell("unpid %d" % p.pid)
        if self.reaper:
            try:
                self.reaper.stdin.close()
                self.reaper.wait(10)
            except Exception:
                pass


class _DomainProcess:
    """Enough of Popen for Guest.wait_ready(): QEMU is libvirtd's child."""

    def __init__(self, pid):
        self.pid = pid
        self.returncode = None

    def poll(self):
        if self.returncode is None and not os.path.exists("/proc/%d" % self.pid):
            self.returncode = "unknown (QEMU %d is gone; see its libvirt log)" % self.pid
        return self.returncode


class LibvirtGuest(Guest):
    """A lab guest run as a transient domain of @libvirt (a started Libvirt):
    `virsh create` of a domain XML with the same kernel, initramfs, oracle
    and workload as Guest, type 'qemu' (TCG), direct kernel boot, the serial
    console routed to console_path (a file).  Same API as Guest, except:
    memory      "anon" (libvirt's default: memory-backend-ram), "file"
                (<memoryBacking><source type='file'/><access mode='shared'/>:
                a file under /var/lib/libvirt/qemu/ram) or "memfd"
    domain      the domain name, vmsight-<name>-<lab pid>; QEMU's pid is in
                /run/libvirt/qemu/<domain>.pid (pid, pid_file)
    qmp()/hmp() go through `virsh qemu-monitor-command`: libvirt holds the
                QMP monitor (qmp_path does not exist); pause()/resume() are
                virsh suspend/resume.  There is no RAM file (ram == "anon").
    close()     virsh destroy; keeps libvirt's QEMU log as workdir/libvirt.log
    QEMU runs as root (static DAC label, relabel='no'), so libvirt changes
    no file's owner.
    """

    def __init__(self, libvirt, kernel=DEFAULT_KERNEL, mem_mb=512, smp=2, name=None,
                 memory="anon", extra_append="", workdir=None, extra_files=None,
                 extra_init="", cpu=DEFAULT_CPU, modules=(), oracle_extra=""):
        Guest.__init__(self, kernel=kernel, mem_mb=mem_mb, smp=smp, name=name,
                       extra_append=extra_append, workdir=workdir, extra_files=extra_files,
                       extra_init=extra_init, cpu=cpu, modules=modules,
                       oracle_extra=oracle_extra, ram="anon")
        if memory not in ("anon", "file", "memfd"):
            raise LabError("memory must be 'anon', 'file' or 'memfd'")
        self.libvirt = libvirt
        self.memory = memory
        self.domain = "vmsight-%s-%d" % (self.name, os.getpid())
        self.pid_file = os.path.join(LIBVIRT_QEMU_RUN, self.domain + ".pid")

    @property
    def pid(self):
        return self.proc.pid if self.proc else None

    @property
    def libvirt_log(self):
        return os.path.join(LIBVIRT_QEMU_LOG, self.domain + ".log")

    def _cpu_xml(self):
        parts = self.cpu.split(",")
        feats = []
        for f in parts[1:]:
            k, _, v = f.partition("=")
            pol = "disable" if v in ("off", "false") else "require"
            feats.append("<feature policy='%s' name=%s/>" % (pol, _xmlattr(k)))
        if parts[0] == "max":
            head = "<cpu mode='maximum' check='none'>"
        else:
            head = ("<cpu mode='custom' match='exact' check='none'><model fallback='forbid'>"
                    "%s</model>" % _xmltext(parts[0]))
        return head + "".join(feats) + "</cpu>"

    def domain_xml(self):
        append = "console=ttyS0 panic=-1 rdinit=/init " + (self.extra_append or "")
        backing = {"anon": "",
                   "file": "<memoryBacking><source type='file'/><access mode='shared'/>"
                           "</memoryBacking>",
                   "memfd": "<memoryBacking><source type='memfd'/><access mode='shared'/>"
                            "</memoryBacking>"}[self.memory]
        return """<domain type='qemu'>
  <name>%s</name>
  <memory unit='MiB'>%d</memory>
  <vcpu>%d</vcpu>
  %s
  <os>
    <type arch='x86_64' machine='pc'>hvm</type>
    <kernel>%s</kernel>
    <initrd>%s</initrd>
    <cmdline>%s</cmdline>
  </os>
  <features><acpi/><apic/><vmcoreinfo state='on'/></features>
  %s
  <clock offset='utc'/>
  <on_poweroff>destroy</on_poweroff>
  <on_reboot>destroy</on_reboot>
  <on_crash>destroy</on_crash>
  <devices>
    <emulator>%s</emulator>
    <controller type='usb' model='none'/>
    <serial type='file'><source path=%s/><target port='0'/></serial>
    <memballoon model='none'/>
  </devices>
  <seclabel type='static' model='dac' relabel='no'><label>+0:+0</label></seclabel>
</domain>
""" % (_xmltext(self.domain), self.mem_mb, self.smp, backing,
       _xmltext(self.kernel.vmlinuz), _xmltext(self.initramfs), _xmltext(append.strip()),
       self._cpu_xml(), _xmltext(shutil.which("qemu-system-x86_64") or
                                 "/usr/bin/qemu-system-x86_64"),
       _xmlattr(self.console_path))

    def start(self):
        if self.proc:
            raise LabError("guest already started")
        self.kernel = fetch(self.series)
        self.initramfs = guest_initramfs(self.kernel, self.modules, self.extra_files,
                                         self.extra_init, self.oracle_extra)
        self._make_workdir()
        if os.path.exists(self.console_path):
            os.unlink(self.console_path)
        _install_atexit()
        _live_guests.add(self)
        xml_path = os.path.join(self.workdir, "domain.xml")
        with open(xml_path, "w") as f:
            f.write(self.domain_xml())
        self.libvirt.track(self.domain)
        self.started_at = time.monotonic()
        r = self.libvirt.virsh("create", xml_path, check=False)
        if r.returncode != 0:
            self.libvirt.untrack(self.domain)
            self.closed = True
            raise GuestError("guest %s: virsh create %s failed: %s" %
                             (self.name, xml_path, (r.stderr or r.stdout).strip()))
        pid = None
        deadline = time.monotonic() + 30
        while pid is None and time.monotonic() < deadline:
            try:
                with open(self.pid_file) as f:
                    pid = int(f.read().strip())
            except (OSError, ValueError):
                time.sleep(0.1)
        if pid is None:
            raise self._fail("no pid in %s after virsh create" % self.pid_file)
        self.proc = _DomainProcess(pid)
        log("%s: libvirt domain %s, qemu pid %d, kernel %s, memory %s" %
            (self.name, self.domain, pid, self.kernel.release, self.memory))
        return self

    def _qemu_stderr(self):
        try:
            with open(self.libvirt_log, "rb") as f:
                return f.read().decode("utf-8", "replace")[-2000:]
        except OSError:
            return ""

    def _connect(self, timeout=30):
        raise LabError("libvirt holds %s's QMP monitor: use qmp()" % self.domain)

    def qmp(self, cmd, **args):
        msg = {"execute": cmd}
        if args:
            msg["arguments"] = args
        r = self.libvirt.virsh("qemu-monitor-command", self.domain, json.dumps(msg),
                               timeout=600)
        reply = json.loads(r.stdout)
        if "error" in reply:
            raise LabError("QMP %s failed: %s" % (cmd, reply["error"]))
        return reply.get("return")

    def pause(self):
        self.libvirt.virsh("suspend", self.domain)

    def resume(self):
        self.libvirt.virsh("resume", self.domain)

    def close(self):
        if self.closed:
            return
        self.closed = True
        try:
            if self.proc and self.proc.poll() is None:
                try:
                    self.libvirt.virsh("destroy", self.domain, check=False, timeout=60)
                except Exception:
                    pass
                deadline = time.monotonic() + 10
                while self.proc.poll() is None and time.monotonic() < deadline:
                    time.sleep(0.1)
        finally:
            self.libvirt.untrack(self.domain)
            try:
                if self.workdir:
                    shutil.copyfile(self.libvirt_log, os.path.join(self.workdir, "libvirt.log"))
                os.unlink(self.libvirt_log)
            except OSError:
                pass


def _xmltext(s):
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _xmlattr(s):
    return "'%s'" % _xmltext(s).replace("'", "&apos;")


def run_pool(kernels, state_file, timeout=300):
    """Boot the standard guests in parallel, pause them, write @state_file,
    then wait for a signal and shut them down."""
    install_signal_handlers(exit_code=0)
    guests = []
    try:
        for k in kernels:
            g = Guest(**standard_config(k))
            guests.append(g)
            g.start()
        state = {}
        for g in guests:
            secs = g.wait_ready(timeout)
            g.pause()
            # QMP serves one client at a time: leave the socket to the suites.
            g._qmp.close()
            g._qmp = None
            state[g.series] = {"name": g.name, "ram": g.ram_path, "workdir": g.workdir,
                               "pid": g.pid, "cpu": g.cpu, "boot_seconds": secs}
        tmp = state_file + ".tmp"
        with open(tmp, "w") as f:
            json.dump(state, f)
        os.replace(tmp, state_file)
        log("pool ready: %s" % ", ".join("%s %.1fs" % (k, v["boot_seconds"])
                                         for k, v in state.items()))
        while all(g.proc.poll() is None for g in guests):
            time.sleep(1)
    finally:
        for g in guests:
            g.close()
        try:
            os.unlink(state_file)
        except OSError:
            pass


def main(argv=None):
    import argparse
    ap = argparse.ArgumentParser(prog="lab.py", description="vmsight QEMU test lab")
    sub = ap.add_subparsers(dest="cmd", required=True)
    f = sub.add_parser("fetch", help="download/extract a Debian kernel")
    f.add_argument("--kernel", default=DEFAULT_KERNEL, choices=sorted(KERNELS))
    sub.add_parser("initramfs", help="build the initramfs, print its path")
    b = sub.add_parser("boot", help="boot a guest, wait READY, pause, print the oracle")
    b.add_argument("--kernel", default=DEFAULT_KERNEL, choices=sorted(KERNELS))
    b.add_argument("--mem", type=int, default=512, help="MiB (default 512)")
    b.add_argument("--smp", type=int, default=2)
    b.add_argument("--name")
    b.add_argument("--append", default="", help="extra kernel command line")
    b.add_argument("--cpu", default=DEFAULT_CPU, help="qemu -cpu model (default %(default)s)")
    b.add_argument("--dump", help="write an ELF core dump here")
    b.add_argument("--keep", action="store_true", help="stay running (paused) until killed")
    b.add_argument("--timeout", type=int, default=180)
    pl = sub.add_parser("pool", help="boot the standard guests, write their state, wait")
    pl.add_argument("--kernels", default="6.1,6.12")
    pl.add_argument("--state", required=True)
    pl.add_argument("--timeout", type=int, default=300)
    a = ap.parse_args(argv)

    if a.cmd == "pool":
        run_pool(a.kernels.split(","), os.path.abspath(a.state), a.timeout)
        return 0

    if a.cmd == "fetch":
        k = fetch(a.kernel)
        print("package: %s" % k.package)
        print("release: %s" % k.release)
        print("vmlinuz: %s" % k.vmlinuz)
        print("modules: %s" % k.modules_dir)
        return 0
    if a.cmd == "initramfs":
        print(build_initramfs())
        return 0

    install_signal_handlers()
    with Guest(a.kernel, mem_mb=a.mem, smp=a.smp, name=a.name, extra_append=a.append,
               cpu=a.cpu) as g:
        g.start()
        secs = g.wait_ready(a.timeout)
        g.pause()
        print("kernel: %s (%s)" % (g.kernel.release, g.kernel.vmlinuz))
        print("boot: %.1fs to READY" % secs)
        print("RAM=%s" % g.ram_path)
        print("console: %s" % g.console_path)
        print(summarize(g.oracle))
        if a.dump:
            t = time.monotonic()
            g.dump(a.dump)
            print("DUMP=%s (%.1fs)" % (os.path.abspath(a.dump), time.monotonic() - t))
        if a.keep:
            print("QMP=%s" % g.qmp_path)
            print("qemu pid %d paused; Ctrl-C / SIGTERM to stop" % g.pid)
            sys.stdout.flush()
            while g.proc.poll() is None:
                time.sleep(1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
