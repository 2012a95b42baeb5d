#!/usr/bin/env python3
"""vmsight Xen lab: Xen 4.17 + a Linux dom0 + one Linux domU, all under one
QEMU/TCG process, driven in batch mode (one boot runs everything; for CI).

Python 3 standard library only; builds on tests/lab/lab.py (kernels, cpio,
the domU's initramfs with the lab workload and the standard oracle).
Everything downloaded or built is cached under ``build/lab/xen/`` and
``build/lab/`` and reused; each run gets a directory under
``build/lab/xen/run/`` (pruned after a day).

    sys.path.insert(0, os.path.join(REPO, "tests", "xen"))
    import xenlab
    r = xenlab.XenLab(dom0_cmds="vmsight ps xen:$DOMID --json > $OUT/ps.json",
                      extra_files={"build/vmsight": "/usr/bin/vmsight"}).run()
    r.oracle["processes"]   # the domU's own view (lab.parse_oracle)
    open(r.path("ps.json"))  # what the dom0 commands wrote into $OUT

What one run does
-----------------
QEMU (-cpu max,-smap,-smep, TCG) boots Xen (multiboot -kernel, the
uncompressed xen-4.17-amd64.gz of Debian's xen-hypervisor-4.17-amd64) with
dom0 = Debian's generic linux-image-6.12-amd64 (the cloud kernels lack dom0
support) and a dom0 initramfs built here: busybox, the host's Xen tools
(every ELF of /usr/lib/xen-4.17/bin, the xenstore-* utilities) with their
ldd closure, the Xen modules (xen-evtchn, xen-gntdev, xen-gntalloc,
xen-privcmd, xenfs) and virtio_blk, the caller's extra files (+ their ldd
closure), the domU kernel and initramfs, and /init (DOM0_INIT below).

dom0's /init mounts proc/sys/dev/xenfs, loads the modules, starts xenstored,
xen-init-dom0 and xenconsoled (--log=guest: the domU console goes to
/var/log/xen/console/guest-xenlab-domu.log), then `xl create`s the domU
(PV by default, or PVH: see below): the lab's standard guest (busybox +
workload + tests/lab/oracle.d, console on hvc0).  It waits until the domU
printed its whole oracle (lab.READY_MARK in the console log), runs the
caller's ``dom0_cmds`` (sh; $OUT = the output dir, $DOMID, $DOMU_NAME), runs
xentrace while the domU's workload runs, saves xl list / info /
vcpu-list / dmesg, dom0's dmesg and the domU console into $OUT, tars $OUT
onto a raw virtio disk (/dev/vda in dom0) and powers off.  The host then
reads the tar from the disk image.  Progress goes to the serial console as
``===XENLAB-<STAGE>===`` lines, which the host times.

API
---
XenLab(dom0_cmds="", extra_files=None, domu_kernel="6.12", domu_type="pv",
       domu_mem=256, domu_vcpus=1, domu_modules=lab.STANDARD_MODULES,
       domu_extra_files=None, domu_extra_init="", trace_mask=TRACE_MASK,
       trace_seconds=5, trace_pages=64, dom0_mem=768, dom0_vcpus=1, smp=2,
       mem_mb=2048, out_mb=512, name=None, cmds_timeout=600,
       domu_timeout=900, xen_args="", dom0_args="",
       domu_oracle_skip=DOMU_ORACLE_SKIP)
    dom0_cmds     shell snippet run in dom0 once the domU is ready, with
                  $OUT, $DOMID, $DOMU_NAME set and cwd $OUT; stdout+stderr
                  go to $OUT/dom0-cmds.log, its exit status to
                  result.cmds_rc.  May also be a list of snippets (each
                  its own log dom0-cmds-N.log / rc; result.cmds_rcs).
    extra_files   {host_path: guest_path} copied into dom0 (mode kept),
                  plus the ldd closure of dynamic ELF files.  host_path may
                  also be bytes (content).
    domu_kernel   "6.12" / "6.1" (the lab's cloud kernels, lab.fetch) or
                  "generic" (the 6.12 generic kernel dom0 runs).
    domu_type     "pv" or "pvh" (PVH needs HVM support: see HVM below).
    trace_mask    xentrace -e event mask (int or str); trace_seconds=0
                  skips the trace.
    domu_vcpus    1 by default: a 2-vCPU domU is several times slower under
                  TCG (PV: > 15 min without reaching the oracle under load).
    run(timeout=None) -> XenResult (timeout: whole run, default the sum of
                  the stage limits + 600 s); raises XenLabError (with the serial
                  tail, the domU console tail and .result, the partial
                  XenResult) when QEMU hangs or dies, Xen or dom0 panics,
                  the domU never became ready, or no output came back.

XenResult
    workdir       run directory (serial.log, qemu.cmd, qemu.stderr, out.img)
    out_dir       extracted $OUT; path(name) joins it
    serial        full serial console text (Xen + dom0); serial_path
    domu_console  the domU's console log text
    oracle        lab.parse_oracle(domu_console) (None + oracle_error if
                  unparsable)
    domid         the domU's domid (int)
    cmds_rc       exit status of dom0_cmds (None if not run); cmds_rcs list
    status        dict of $OUT/status (key=value lines dom0 wrote)
    timings       seconds since QEMU start, host clock, of each stage mark
                  seen on serial: dom0_up, xen_ready (tools started),
                  domu_created, domu_ready, cmds_done, trace_done, done,
                  plus: dom0_boot (= dom0_up), domu_boot (domu_ready -
                  domu_created), total (QEMU start to QEMU exit)
    trace_path    $OUT/trace.bin or None
    files()       names in out_dir

HVM / PVH
---------
QEMU's TCG emulates AMD SVM (with NPT) for -cpu max, so Xen finds HVM
support (virt_caps "pv hvm hap ...").  An HVM domU would need a device
model (qemu-system-xen) in dom0, which the lab does not ship; PVH needs none
and boots the same kernel: domu_type="pvh" (the config then works around two
TCG SVM bugs, see _domu_config).  Measurements and details:
tests/xen/README.md.  Note for readers of domU memory: a PV domU's page
tables hold machine frame numbers (MFNs), a PVH domU's hold guest frames.

CLI
---
    python3 tests/xen/xenlab.py run [--cmds SNIPPET] [--file HOST=GUEST]...
        [--domu-type pv|pvh] [--domu-kernel 6.12|6.1|generic] [--timeout S]
        [--trace-mask M] [--trace-seconds S]
    python3 tests/xen/xenlab.py build    (fetch + build everything, print paths)
"""

import atexit
import gzip
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import tarfile
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(REPO, "tests", "lab"))
import lab  # noqa: E402

XEN_CACHE = os.path.join(lab.CACHE, "xen")
XEN_VERSION = "4.17"
XEN_PKG = "xen-hypervisor-4.17-amd64"
XEN_LIBEXEC = "/usr/lib/xen-4.17/bin"
DOM0_KERNEL_META = "linux-image-6.12-amd64"
DOM0_MODULES = ("xen_evtchn", "xen_gntdev", "xen_gntalloc", "xen_privcmd", "xenfs",
                "virtio_blk")
# Without -smap,-smep dom0 crashes at its first fault under TCG.
QEMU_CPU = "max,-smap,-smep"
DOMU_NAME = "xenlab-domu"
# xentrace -e: TRC_GEN | TRC_SCHED | TRC_DOM0OP | TRC_HVM | TRC_MEM | TRC_PV
# (classes 0x001, 0x002, 0x004, 0x008, 0x010, 0x020; every subclass).
TRACE_MASK = 0x003ff000

# oracle.d snippets the domU leaves out by default: the kallsyms and module
# symbol sections are two thirds of its console output, and the Xen console
# under TCG is slow (about 3 KB/s).  domu_oracle_skip=() keeps everything.
DOMU_ORACLE_SKIP = ("10-kallsyms.sh", "21-modsyms.sh")

MARK_RE = re.compile(r"===XENLAB-([A-Z0-9-]+)(?: (.*?))?===\s*$")
XEN_PANIC_RE = re.compile(r"\(XEN\) Panic on CPU|\(XEN\) \*\*\*\* .*PANIC|"
                          r"Kernel panic - not syncing")
_STAGES = {"DOM0-UP": "dom0_up", "DOMU-CREATE": "domu_create", "XEN-READY": "xen_ready", "DOMU-CREATED": "domu_created",
           "DOMU-READY": "domu_ready", "CMDS-DONE": "cmds_done", "TRACE-DONE": "trace_done",
           "OUT-WRITTEN": "out_written", "DONE": "done"}


class XenLabError(lab.LabError):
    def __init__(self, msg, result=None):
        lab.LabError.__init__(self, msg)
        self.result = result


def log(msg):
    if os.environ.get("LAB_QUIET") != "1":
        sys.stderr.write("[xenlab] %s\n" % msg)
        sys.stderr.flush()


# --------------------------------------------------------------------------
# Fetching: the hypervisor and the dom0 kernel (Debian packages)
# --------------------------------------------------------------------------

def _resolve(meta):
    """Image package a kernel metapackage depends on (apt-cache depends)."""
    for attempt in range(2):
        r = lab._run(["apt-cache", "depends", meta])
        for line in r.stdout.splitlines():
            m = re.match(r"\s*Depends:\s*(linux-image-\S+)", line)
            if m:
                return m.group(1)
        if attempt == 0:
            lab._run(["apt-get", "update", "-q"])
    raise XenLabError("cannot resolve %s with apt-cache depends" % meta)


def _cached(prefix):
    if not os.path.isdir(XEN_CACHE):
        return []
    return sorted(os.path.join(XEN_CACHE, d) for d in os.listdir(XEN_CACHE)
                  if d.startswith(prefix) and not d.startswith(".")
                  and os.path.isdir(os.path.join(XEN_CACHE, d)))


def _fetch_pkg(pkg, cached_prefix):
    """Download + extract pkg under build/lab/xen/; offline: newest cached."""
    with lab._FileLock("fetch"):
        try:
            deb = lab.download_deb(pkg)
        except lab.LabError:
            c = _cached(cached_prefix)
            if not c:
                raise
            log("apt failed; using cached %s" % c[-1])
            return c[-1]
        return lab._extract_deb(deb, "xen")


def fetch_xen():
    """Path of the uncompressed Xen hypervisor (QEMU multiboot -kernel)."""
    root = _fetch_pkg(XEN_PKG, XEN_PKG + "_")
    gz = os.path.join(root, "boot", "xen-%s-amd64.gz" % XEN_VERSION)
    out = os.path.join(root, "boot", "xen-%s-amd64" % XEN_VERSION)
    if not os.path.exists(out):
        with gzip.open(gz, "rb") as f, open(out + ".tmp", "wb") as o:
            shutil.copyfileobj(f, o)
        os.rename(out + ".tmp", out)
    return out


def fetch_dom0_kernel():
    """lab.Kernel of Debian's generic 6.12 kernel (dom0 capable)."""
    try:
        pkg = _resolve(DOM0_KERNEL_META)
    except XenLabError:
        c = _cached("linux-image-6.12")
        if not c:
            raise
        return lab.Kernel("6.12-generic", os.path.basename(c[-1]).split("_")[0], None, c[-1])
    root = _fetch_pkg(pkg, pkg + "_")
    return lab.Kernel("6.12-generic", pkg, None, root)


def fetch_domu_kernel(which):
    if which == "generic":
        return fetch_dom0_kernel()
    return lab.fetch(which)


# --------------------------------------------------------------------------
# dom0 initramfs
# --------------------------------------------------------------------------

def _is_dynamic_elf(path):
    try:
        with open(path, "rb") as f:
            if f.read(4) != b"\x7fELF":
                return False
    except OSError:
        return False
    return not lab._is_static_elf(path)


def ldd_closure(paths):
    """Shared libraries (as ldd names them, loader included) of the dynamic
    ELF files among paths: sorted list of absolute paths."""
    libs = set()
    for p in paths:
        if not _is_dynamic_elf(p):
            continue
        r = lab._run(["ldd", p])
        if r.returncode != 0:
            raise XenLabError("ldd %s failed: %s" % (p, r.stderr.strip() or r.stdout.strip()))
        for line in r.stdout.splitlines():
            line = line.strip()
            if "not found" in line:
                raise XenLabError("ldd %s: %s" % (p, line))
            m = re.match(r"^\S+ => (/\S+) \(0x", line) or re.match(r"^(/\S+) \(0x", line)
            if m:
                libs.add(m.group(1))
    if libs:
        # glibc dlopen()s libgcc_s for pthread_cancel / unwinding (xl needs it).
        for d in ("/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu"):
            if os.path.exists(os.path.join(d, "libgcc_s.so.1")):
                libs.add(os.path.join(d, "libgcc_s.so.1"))
                break
    return sorted(libs)


def _xen_tools():
    """Host paths of the Xen tools dom0 gets."""
    out = []
    for f in sorted(os.listdir(XEN_LIBEXEC)):
        p = os.path.join(XEN_LIBEXEC, f)
        if os.path.isfile(p) and _is_dynamic_elf(p):
            out.append(p)
    for f in sorted(os.listdir("/usr/bin")):
        p = os.path.join("/usr/bin", f)
        if f.startswith("xenstore") and os.path.isfile(p) and not os.path.islink(p):
            out.append(p)
    if not any(p.endswith("/xl") for p in out):
        raise XenLabError("no %s/xl: install xen-utils-%s (scripts/install-deps)"
                          % (XEN_LIBEXEC, XEN_VERSION))
    return out


DOM0_INIT = r"""#!/bin/sh
# vmsight Xen lab dom0 /init (generated by tests/xen/xenlab.py)
export PATH=@LIBEXEC@:/bin:/sbin:/usr/bin:/usr/sbin:/usr/local/bin
export HOME=/root
T0=$(date +%s)
mark() { echo "===XENLAB-$*==="; echo "$*" >> /run/xenlab-marks; }
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
mkdir -p /dev/pts /dev/shm
mount -t devpts devpts /dev/pts
mount -t tmpfs tmpfs /tmp
mount -t tmpfs tmpfs /run
mkdir -p /run/xen /run/lock /run/xenstored /var/log/xen/console /var/lib/xen/dump \
  /var/lib/xenstored /out
[ -d /sys/kernel/debug ] && mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
hostname xenlab-dom0
dmesg -n 4
mark DOM0-UP
OUT=/out
STATUS=$OUT/status
FAILED=
st() { echo "$1=$2" >> $STATUS; }
fail() { [ -n "$FAILED" ] || FAILED="$*"; echo "===XENLAB-FAIL $*==="; st fail "$*"; }
up() { cut -d' ' -f1 /proc/uptime; }
st dom0_up $(up)

for m in @MODULES@; do
  insmod /lib/modules/$m.ko 2>>$OUT/dom0-init.log || echo "insmod $m failed" >>$OUT/dom0-init.log
done
mount -t xenfs xenfs /proc/xen || fail "mount xenfs"

# xenstored (C), dom0's xenstore entries, the console daemon
xenstored --pid-file /run/xen/xenstored.pid >>$OUT/dom0-init.log 2>&1 || fail "xenstored"
i=0; while [ ! -s /run/xen/xenstored.pid ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i+1)); done
[ -s /run/xen/xenstored.pid ] || fail "xenstored did not start"
xen-init-dom0 >>$OUT/dom0-init.log 2>&1 || fail "xen-init-dom0"
xenconsoled --log=guest --log-dir=/var/log/xen/console -o keep \
  --pid-file=/run/xen/xenconsoled.pid >>$OUT/dom0-init.log 2>&1 || fail "xenconsoled"
st xen_ready $(up)
mark XEN-READY

LOG=/var/log/xen/console/guest-@DOMU@.log
DOMID=
if [ -z "$FAILED" ]; then
  st domu_create $(up)
  mark DOMU-CREATE
  if xl create /etc/xen/@DOMU@.cfg >$OUT/xl-create.log 2>&1; then
    DOMID=$(xl domid @DOMU@)
    st domid $DOMID
    mark DOMU-CREATED domid=$DOMID
  else
    fail "xl create (see xl-create.log)"
  fi
fi
if [ -n "$DOMID" ]; then
  # Wait until the domU printed its whole oracle.
  read t0 _ < /proc/uptime; t0=${t0%.*}; miss=0; last=0
  while :; do
    read t _ < /proc/uptime; t=$((${t%.*} - t0))
    grep -q '^@READY@' $LOG 2>/dev/null && break
    if grep -q 'Kernel panic - not syncing' $LOG 2>/dev/null; then fail "domU panic"; break; fi
    # xl can fail for a moment under load: count consecutive misses.
    if xl list $DOMID >/dev/null 2>&1; then miss=0; else miss=$((miss+1)); fi
    if [ $miss -ge 5 ]; then fail "domU $DOMID is gone"; break; fi
    if [ $t -ge @DOMU_TIMEOUT@ ]; then fail "domU not ready after @DOMU_TIMEOUT@ s"; break; fi
    if [ $((t - last)) -ge 30 ]; then
      last=$t
      echo "xenlab: domU not ready after ${t}s;" \
        "console: $(wc -l < $LOG 2>/dev/null) lines, $(wc -c < $LOG 2>/dev/null) bytes"
    fi
    sleep 3
  done
fi
export OUT DOMID DOMU_NAME=@DOMU@
if [ -z "$FAILED" ]; then
  st domu_ready $(up)
  mark DOMU-READY domid=$DOMID
  # The caller's commands, each with a time limit.
  for c in /xenlab/cmds-*.sh; do
    [ -e "$c" ] || continue
    n=${c##*/cmds-}; n=${n%.sh}
    (cd $OUT && timeout -s KILL @CMDS_TIMEOUT@ sh $c) >$OUT/dom0-cmds-$n.log 2>&1
    rc=$?
    st cmds_rc_$n $rc
    mark CMDS-RC $n rc=$rc
  done
  st cmds_done $(up)
  mark CMDS-DONE
  if [ @TRACE_SECONDS@ -gt 0 ]; then
    st trace_start $(up)
    timeout -s KILL $((@TRACE_SECONDS@ + 120)) xentrace -D -S @TRACE_PAGES@ -e @TRACE_MASK@ \
      -T @TRACE_SECONDS@ $OUT/trace.bin >$OUT/xentrace.log 2>&1
    rc=$?
    st trace_rc $rc
    st trace_bytes $(wc -c < $OUT/trace.bin 2>/dev/null || echo 0)
    mark TRACE-DONE rc=$rc
  fi
fi

# Collect whatever there is, whatever happened.
xl list > $OUT/xl-list.txt 2>&1
xl list -l > $OUT/xl-list-l.json 2>&1
xl info > $OUT/xl-info.txt 2>&1
xl vcpu-list > $OUT/xl-vcpu-list.txt 2>&1
xl dmesg > $OUT/xl-dmesg.txt 2>&1
dmesg > $OUT/dom0-dmesg.txt 2>&1
ps -o pid,ppid,comm,args > $OUT/dom0-ps.txt 2>&1
cp $LOG $OUT/domu-console.log 2>/dev/null
cp /run/xenlab-marks $OUT/marks 2>/dev/null
st end $(up)
[ -n "$FAILED" ] || st ok 1
# tar onto the output disk
if [ -b /dev/vda ]; then
  (cd $OUT && tar -cf - .) | dd of=/dev/vda bs=1M conv=fsync 2>$OUT.dd.log \
    && mark OUT-WRITTEN || { cat $OUT.dd.log; fail "writing /dev/vda"; }
  sync
else
  fail "no /dev/vda"
fi
mark DONE
poweroff -f
sleep 30
echo "===XENLAB-FAIL poweroff did not stop the machine==="
while :; do sleep 3600; done
"""


def _domu_config(domu_type, kernel_path, initrd_path, mem, vcpus):
    return "\n".join([
        'name = "%s"' % DOMU_NAME,
        'type = "%s"' % domu_type,
        'kernel = "%s"' % kernel_path,
        'ramdisk = "%s"' % initrd_path,
        'cmdline = "console=hvc0 panic=-1 rdinit=/init"',
        'memory = %d' % mem,
        'maxmem = %d' % mem,
        'vcpus = %d' % vcpus,
        'on_crash = "preserve"',
        'on_poweroff = "destroy"',
        'on_reboot = "destroy"',
    ] + ([
        # QEMU's TCG SVM reports RDTSCP as an RDTSC intercept, which Xen's
        # instruction-length check rejects (the domU then hangs): keep the
        # TSC unintercepted and hide RDTSCP.  With XSAVE the domU's first
        # rt_sigreturn fails ("bad frame"), init dies: hide XSAVE (FXSAVE
        # then).
        'tsc_mode = "native"',
        'cpuid = "host,rdtscp=0,xsave=0"',
    ] if domu_type != "pv" else []) + [''])


XL_CONF = b'autoballoon="off"\nlockfile="/run/lock/xl"\n'


def build_dom0_initramfs(domu_kernel, domu_initrd, domu_cfg, cmds, extra_files=None,
                         dom0_kernel=None, params=None):
    """Build (or reuse) dom0's initramfs; returns the .cpio.gz path."""
    params = dict(params or {})
    dom0_kernel = dom0_kernel or fetch_dom0_kernel()
    bb = lab.find_busybox()
    c = lab.Cpio()
    for d in ("bin", "sbin", "usr/bin", "usr/sbin", "usr/local/bin", "etc/xen", "proc", "sys",
              "dev", "tmp", "run", "root", "mnt", "out", "lib/modules", "var/lib/xen",
              "var/log/xen", "xenlab"):
        c.dir(d)
    c.symlink("var/run", "/run")
    c.symlink("var/lock", "/run/lock")
    c.chardev("dev/console", 5, 1)
    c.chardev("dev/null", 1, 3, 0o666)
    with open(bb, "rb") as f:
        c.file("bin/busybox", f.read(), 0o755)
    c.file("etc/passwd", b"root:x:0:0:root:/root:/bin/sh\n")
    c.file("etc/group", b"root:x:0:\n")
    c.file("etc/xen/xl.conf", XL_CONF)
    c.file("etc/xen/%s.cfg" % DOMU_NAME, domu_cfg.encode())

    # Host files: Xen tools, caller's files, their shared-library closure.
    host = []
    for p in _xen_tools():
        host.append((p, p))
    for hp, gp in sorted((extra_files or {}).items(), key=lambda kv: str(kv[1])):
        if isinstance(hp, (bytes, bytearray)):
            raise XenLabError("extra_files maps host path -> guest path")
        host.append((os.path.abspath(hp), gp))
    for lib in ldd_closure([hp for hp, _ in host]):
        host.append((lib, lib))
    seen = set()
    for hp, gp in host:
        gp = "/" + gp.lstrip("/")
        if gp in seen:
            continue
        seen.add(gp)
        if not os.path.isfile(hp):
            raise XenLabError("extra file %s does not exist" % hp)
        with open(hp, "rb") as f:
            c.file(gp, f.read(), os.stat(hp).st_mode & 0o777)
    for name, data in sorted((params.pop("extra_bytes", None) or {}).items()):
        c.file(name, data, 0o755)

    closure = dom0_kernel.module_closure(DOM0_MODULES)
    for n, data in closure:
        c.file("lib/modules/%s.ko" % n, data)
    mods = [n for n, _ in closure]

    with open(domu_kernel, "rb") as f:
        c.file("xenlab/domu-vmlinuz", f.read())
    with open(domu_initrd, "rb") as f:
        c.file("xenlab/domu-initrd.gz", f.read())
    for i, snippet in enumerate(cmds):
        c.file("xenlab/cmds-%d.sh" % i, snippet.encode() + b"\n", 0o755)

    init = DOM0_INIT
    subst = {"LIBEXEC": XEN_LIBEXEC, "MODULES": " ".join(mods), "DOMU": DOMU_NAME,
             "READY": lab.READY_MARK}
    subst.update({k: str(v) for k, v in params.items()})
    for k, v in subst.items():
        init = init.replace("@%s@" % k, v)
    left = re.findall(r"@[A-Z_]+@", init)
    if left:
        raise XenLabError("dom0 init: unset %s" % ", ".join(sorted(set(left))))
    c.file("init", init.encode(), 0o755)
    # Level 1: the dom0 tree is large and rebuilt whenever vmsight changes.
    return lab.finish_cpio(c, XEN_CACHE, "dom0-initramfs-", level=1, keep=8)


# --------------------------------------------------------------------------
# Running
# --------------------------------------------------------------------------

_live = set()
_live_lock = threading.Lock()


def _kill_all():
    with _live_lock:
        procs = list(_live)
    for p in procs:
        _kill(p)


def _kill(proc):
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
        except OSError:
            proc.terminate()
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except OSError:
                proc.kill()
            proc.wait()
    with _live_lock:
        _live.discard(proc)


atexit.register(_kill_all)


def install_signal_handlers():
    """SIGTERM/SIGHUP/SIGINT kill running labs' QEMU, then exit 128+sig."""
    def handler(signum, frame):
        _kill_all()
        lab._close_all()
        raise SystemExit(128 + signum)
    for s in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT):
        signal.signal(s, handler)


class XenResult:
    def __init__(self, workdir):
        self.workdir = workdir
        self.out_dir = os.path.join(workdir, "out")
        self.serial_path = os.path.join(workdir, "serial.log")
        self.serial = ""
        self.domu_console = ""
        self.oracle = None
        self.oracle_error = None
        self.domid = None
        self.cmds_rc = None
        self.cmds_rcs = []
        self.status = {}
        self.timings = {}
        self.trace_path = None
        self.ok = False

    def path(self, name):
        return os.path.join(self.out_dir, name)

    def files(self):
        if not os.path.isdir(self.out_dir):
            return []
        return sorted(os.listdir(self.out_dir))

    def read(self, name):
        with open(self.path(name), "rb") as f:
            return f.read().decode("utf-8", "replace")

    def summary(self):
        t = self.timings
        lines = ["workdir: %s" % self.workdir,
                 "out: %s (%s)" % (self.out_dir, ", ".join(self.files())),
                 "serial: %s" % self.serial_path,
                 "domid: %s  cmds rc: %s  ok: %s" % (self.domid, self.cmds_rcs, self.ok),
                 "timings: " + ", ".join("%s %.1fs" % (k, v) for k, v in sorted(
                     t.items(), key=lambda kv: kv[1]))]
        if self.trace_path:
            lines.append("trace: %s (%d bytes)" % (self.trace_path,
                                                   os.path.getsize(self.trace_path)))
        if self.oracle:
            lines.append(lab.summarize(self.oracle))
        elif self.oracle_error:
            lines.append("oracle: %s" % self.oracle_error)
        return "\n".join(lines)


def _tail(text, n=40):
    return "\n".join(text.rstrip("\n").split("\n")[-n:])


class XenLab:
    def __init__(self, dom0_cmds="", extra_files=None, domu_kernel="6.12", domu_type="pv",
                 domu_mem=256, domu_vcpus=1, domu_modules=lab.STANDARD_MODULES,
                 domu_extra_files=None, domu_extra_init="", trace_mask=TRACE_MASK,
                 trace_seconds=5, trace_pages=64, dom0_mem=768, dom0_vcpus=1, smp=2,
                 mem_mb=2048, out_mb=512, name=None, cmds_timeout=600, domu_timeout=900,
                 xen_args="", dom0_args="", domu_oracle_skip=DOMU_ORACLE_SKIP):
        if domu_type not in ("pv", "pvh"):
            raise XenLabError("domu_type must be 'pv' or 'pvh'")
        if domu_kernel not in ("generic",) + tuple(lab.KERNELS):
            raise XenLabError("domu_kernel must be generic or one of %s" % ", ".join(lab.KERNELS))
        self.domu_oracle_skip = tuple(domu_oracle_skip or ())
        if isinstance(dom0_cmds, str):
            self.cmds = [dom0_cmds] if dom0_cmds.strip() else []
        else:
            self.cmds = list(dom0_cmds)
        self.extra_files = dict(extra_files or {})
        self.domu_kernel, self.domu_type = domu_kernel, domu_type
        self.domu_mem, self.domu_vcpus = int(domu_mem), int(domu_vcpus)
        self.domu_modules = list(domu_modules or ())
        self.domu_extra_files = domu_extra_files
        self.domu_extra_init = domu_extra_init
        self.trace_mask = trace_mask if isinstance(trace_mask, str) else "0x%08x" % trace_mask
        if not re.match(r"^(0x[0-9a-fA-F]+|[0-9]+)$", self.trace_mask):
            raise XenLabError("trace_mask must be a number")
        self.trace_seconds, self.trace_pages = int(trace_seconds), int(trace_pages)
        self.dom0_mem, self.dom0_vcpus, self.smp = int(dom0_mem), int(dom0_vcpus), int(smp)
        self.mem_mb, self.out_mb = int(mem_mb), int(out_mb)
        self.name = name or "xen-%s" % domu_type
        if not re.match(r"^[A-Za-z0-9._-]+$", self.name):
            raise XenLabError("name must match [A-Za-z0-9._-]+")
        self.cmds_timeout, self.domu_timeout = int(cmds_timeout), int(domu_timeout)
        self.xen_args, self.dom0_args = xen_args, dom0_args
        self.proc = None

    # -- building ----------------------------------------------------------
    def build(self):
        """Fetch and build every piece; returns {name: path}."""
        xen = fetch_xen()
        dom0k = fetch_dom0_kernel()
        domuk = fetch_domu_kernel(self.domu_kernel)
        domu_initrd = lab.guest_initramfs(domuk, self.domu_modules, self.domu_extra_files,
                                          self.domu_extra_init,
                                          lab.standard_oracle_extra(self.domu_oracle_skip))
        cfg = _domu_config(self.domu_type, "/xenlab/domu-vmlinuz", "/xenlab/domu-initrd.gz",
                           self.domu_mem, self.domu_vcpus)
        params = {"DOMU_TIMEOUT": self.domu_timeout, "CMDS_TIMEOUT": self.cmds_timeout,
                  "TRACE_SECONDS": self.trace_seconds, "TRACE_PAGES": self.trace_pages,
                  "TRACE_MASK": self.trace_mask}
        dom0_initrd = build_dom0_initramfs(domuk.vmlinuz, domu_initrd, cfg, self.cmds,
                                           self.extra_files, dom0k, params)
        self.pieces = {"xen": xen, "dom0_kernel": dom0k.vmlinuz, "dom0_initrd": dom0_initrd,
                       "domu_kernel": domuk.vmlinuz, "domu_initrd": domu_initrd,
                       "domu_release": domuk.release, "dom0_release": dom0k.release}
        return self.pieces

    def qemu_cmdline(self, workdir):
        xen_args = ("console=com1 com1=115200,8n1 loglvl=all guest_loglvl=all "
                    "dom0_mem=%dM,max:%dM dom0_max_vcpus=%d %s"
                    % (self.dom0_mem, self.dom0_mem, self.dom0_vcpus, self.xen_args)).strip()
        dom0_args = ("console=hvc0 earlyprintk=xen rdinit=/init panic=-1 %s"
                     % self.dom0_args).strip()
        if "," in dom0_args or "," in self.pieces["dom0_kernel"] + self.pieces["dom0_initrd"]:
            # QEMU splits -initrd at commas ("," escapes as ",,").
            dom0_args = dom0_args.replace(",", ",,")
        mods = "%s %s,%s" % (self.pieces["dom0_kernel"], dom0_args, self.pieces["dom0_initrd"])
        return [
            "qemu-system-x86_64", "-name", "vmsight-" + self.name,
            "-accel", "tcg,thread=multi", "-cpu", QEMU_CPU,
            "-smp", str(self.smp), "-m", "%dM" % self.mem_mb, "-machine", "pc",
            "-kernel", self.pieces["xen"], "-append", xen_args, "-initrd", mods,
            "-drive", "file=%s,format=raw,if=virtio" % os.path.join(workdir, "out.img"),
            "-nodefaults", "-display", "none", "-vga", "none", "-monitor", "none",
            "-serial", "file:" + os.path.join(workdir, "serial.log"),
            "-pidfile", os.path.join(workdir, "qemu.pid"),
            "-no-reboot",
        ]

    # -- running -----------------------------------------------------------
    def default_timeout(self):
        """Host-side limit for the whole run: every dom0 stage limit plus
        room for booting Xen and dom0 and writing the outputs."""
        return (600 + self.domu_timeout + self.cmds_timeout * len(self.cmds)
                + (self.trace_seconds + 120 if self.trace_seconds > 0 else 0))

    def run(self, timeout=None):
        """Boot, run everything, collect; returns a XenResult.  timeout:
        seconds for the whole run (default: default_timeout())."""
        if timeout is None:
            timeout = self.default_timeout()
        t_build = time.monotonic()
        self.build()
        log("built in %.1fs: dom0 %s, domU %s (%s)" % (
            time.monotonic() - t_build, self.pieces["dom0_release"],
            self.pieces["domu_release"], self.domu_type))
        run = os.path.join(XEN_CACHE, "run")
        os.makedirs(run, exist_ok=True)
        lab._prune_old_runs(run)
        workdir = tempfile.mkdtemp(prefix="%s-" % self.name, dir=run)
        res = XenResult(workdir)
        img = os.path.join(workdir, "out.img")
        with open(img, "wb") as f:
            f.truncate(self.out_mb << 20)
        cmd = self.qemu_cmdline(workdir)
        with open(os.path.join(workdir, "qemu.cmd"), "w") as f:
            f.write(" ".join(lab._shquote(a) for a in cmd) + "\n")
        errf = open(os.path.join(workdir, "qemu.stderr"), "wb")
        t0 = time.monotonic()
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=errf, stderr=errf,
                                     start_new_session=True)
        with _live_lock:
            _live.add(self.proc)
        # Kills qemu should this Python process die hard (lab.py's reaper
        # looks for its second argument in qemu's command line).
        reaper = subprocess.Popen([sys.executable, "-c", lab._REAPER, str(self.proc.pid),
                                   os.path.join(workdir, "qemu.pid")],
                                  stdin=subprocess.PIPE, start_new_session=True)
        log("%s: qemu pid %d, workdir %s" % (self.name, self.proc.pid, workdir))
        why = None
        try:
            why = self._watch(res, t0, timeout)
        finally:
            _kill(self.proc)
            res.timings["total"] = time.monotonic() - t0
            errf.close()
            try:
                reaper.stdin.close()
                reaper.wait(10)
            except Exception:
                pass
        res.serial = self._serial(res)
        self._collect(res)
        if why is None and not res.ok:
            why = "dom0 reported a failure: %s" % res.status.get("fail", "(no status)")
        if why is None and res.oracle is None:
            why = "domU oracle unparsable: %s" % res.oracle_error
        if why:
            raise XenLabError(self._failmsg(res, why), res)
        log("%s: done in %.1fs (dom0 up %.1fs, domU ready %.1fs after create)" % (
            self.name, res.timings["total"], res.timings.get("dom0_up", -1),
            res.timings.get("domu_boot", -1)))
        return res

    def _serial(self, res):
        try:
            with open(res.serial_path, "rb") as f:
                return f.read().decode("utf-8", "replace").replace("\r", "")
        except OSError:
            return ""

    def _watch(self, res, t0, timeout):
        """Follow the serial console until DONE and QEMU's exit; returns
        None or why it failed."""
        deadline = t0 + timeout
        pos, buf, done_at = 0, "", None
        stage = "Xen boot"
        while True:
            try:
                with open(res.serial_path, "rb") as f:
                    f.seek(pos)
                    chunk = f.read()
            except OSError:
                chunk = b""
            now = time.monotonic() - t0
            if chunk:
                pos += len(chunk)
                buf += chunk.decode("utf-8", "replace").replace("\r", "")
                lines = buf.split("\n")
                buf = lines.pop()
                for line in lines:
                    m = MARK_RE.search(line)
                    if m:
                        key = _STAGES.get(m.group(1))
                        if key and key not in res.timings:
                            res.timings[key] = now
                            log("%s: %s at %.1fs%s" % (self.name, key, now,
                                                      " " + m.group(2) if m.group(2) else ""))
                        stage = "after " + m.group(1)
                        if m.group(1) == "DONE":
                            done_at = time.monotonic()
                        if m.group(1) == "FAIL":
                            log("%s: dom0 reports failure: %s" % (self.name, m.group(2)))
                    elif XEN_PANIC_RE.search(line):
                        time.sleep(1)
                        return "panic (%s)" % line.strip()
            if self.proc.poll() is not None:
                if done_at is None:
                    return "qemu exited with status %s during %s" % (self.proc.returncode, stage)
                return None
            if done_at is not None and time.monotonic() - done_at > 60:
                log("%s: dom0 done but qemu still running after 60s; killing it" % self.name)
                return None
            if time.monotonic() > deadline:
                return "timeout after %ds (%s)" % (timeout, stage)
            time.sleep(0.2)

    def _collect(self, res):
        img = os.path.join(res.workdir, "out.img")
        try:
            with open(img, "rb") as f:
                head = f.read(512)
            if head.strip(b"\0"):
                with tarfile.open(img, "r:") as t:
                    kw = {"filter": "data"} if hasattr(tarfile, "data_filter") else {}
                    t.extractall(res.out_dir, **kw)
                os.unlink(img)
        except (OSError, tarfile.TarError) as e:
            log("%s: cannot read the output disk: %s" % (self.name, e))
        st = {}
        if os.path.exists(res.path("status")):
            for line in open(res.path("status"), errors="replace"):
                k, _, v = line.rstrip("\n").partition("=")
                st[k] = v
        res.status = st
        res.ok = st.get("ok") == "1"
        if st.get("domid", "").isdigit():
            res.domid = int(st["domid"])
        rcs = sorted((int(k[len("cmds_rc_"):]), int(v)) for k, v in st.items()
                     if k.startswith("cmds_rc_") and v.lstrip("-").isdigit())
        res.cmds_rcs = [v for _, v in rcs]
        res.cmds_rc = res.cmds_rcs[0] if res.cmds_rcs else None
        for i in range(len(self.cmds)):
            src = res.path("dom0-cmds-%d.log" % i)
            if i == 0 and os.path.exists(src):
                shutil.copyfile(src, res.path("dom0-cmds.log"))
        if os.path.exists(res.path("trace.bin")):
            res.trace_path = res.path("trace.bin")
        try:
            with open(res.path("domu-console.log"), "rb") as f:
                res.domu_console = f.read().decode("utf-8", "replace").replace("\r", "")
        except OSError:
            pass
        if res.domu_console:
            try:
                res.oracle = lab.parse_oracle(res.domu_console)
            except (lab.LabError, ValueError) as e:
                res.oracle_error = str(e)
        else:
            res.oracle_error = "no domU console log"
        t = res.timings
        if "dom0_up" in t:
            t["dom0_boot"] = t["dom0_up"]
        if "domu_ready" in t and "domu_created" in t:
            t["domu_boot"] = t["domu_ready"] - t["domu_created"]

    def _failmsg(self, res, why):
        msg = ("xen lab %s: %s\n--- serial tail (%s) ---\n%s\n--- end serial ---"
               % (self.name, why, res.serial_path, _tail(res.serial)))
        if res.domu_console:
            msg += "\n--- domU console tail ---\n%s\n--- end domU console ---" % _tail(
                res.domu_console, 25)
        for name in ("xl-create.log", "dom0-init.log"):
            if os.path.exists(res.path(name)):
                txt = res.read(name).strip()
                if txt:
                    msg += "\n--- %s ---\n%s" % (name, _tail(txt, 15))
        try:
            with open(os.path.join(res.workdir, "qemu.stderr"), errors="replace") as f:
                err = f.read().strip()
            if err:
                msg += "\n--- qemu stderr ---\n" + err[-2000:]
        except OSError:
            pass
        return msg


# --------------------------------------------------------------------------
# CLI
# --------------------------------------------------------------------------

def main(argv=None):
    import argparse
    ap = argparse.ArgumentParser(prog="xenlab.py", description="vmsight Xen test lab")
    sub = ap.add_subparsers(dest="cmd", required=True)
    for name in ("run", "build"):
        p = sub.add_parser(name)
        p.add_argument("--cmds", default="", help="dom0 shell snippet ($OUT, $DOMID)")
        p.add_argument("--file", action="append", default=[], metavar="HOST=GUEST",
                       help="copy a host file (and its ldd closure) into dom0")
        p.add_argument("--domu-type", default="pv", choices=("pv", "pvh"))
        p.add_argument("--domu-kernel", default="6.12",
                       choices=("generic",) + tuple(sorted(lab.KERNELS)))
        p.add_argument("--domu-vcpus", type=int, default=1)
        p.add_argument("--trace-mask", default="0x%08x" % TRACE_MASK)
        p.add_argument("--trace-seconds", type=int, default=5)
        p.add_argument("--dom0-vcpus", type=int, default=1)
        p.add_argument("--domu-timeout", type=int, default=900,
                       help="dom0 waits this long for the domU's oracle")
        p.add_argument("--timeout", type=int, default=None,
                       help="seconds for the whole run (default: the sum of the stage limits)")
    a = ap.parse_args(argv)
    files = {}
    for spec in a.file:
        hp, sep, gp = spec.partition("=")
        if not sep:
            ap.error("--file wants HOST=GUEST")
        files[hp] = gp
    xl = XenLab(dom0_cmds=a.cmds, extra_files=files, domu_type=a.domu_type,
                domu_kernel=a.domu_kernel, domu_vcpus=a.domu_vcpus,
                trace_mask=a.trace_mask, trace_seconds=a.trace_seconds,
                dom0_vcpus=a.dom0_vcpus, domu_timeout=a.domu_timeout)
    if a.cmd == "build":
        for k, v in sorted(xl.build().items()):
            print("%s: %s" % (k, v))
        return 0
    install_signal_handlers()
    try:
        r = xl.run(timeout=a.timeout)
    except XenLabError as e:
        print(str(e), file=sys.stderr)
        if e.result is not None:
            print("workdir: %s" % e.result.workdir, file=sys.stderr)
        return 1
    print(r.summary())
    return 0


if __name__ == "__main__":
    sys.exit(main())
