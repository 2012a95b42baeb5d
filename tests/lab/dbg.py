"""Debian's debug package (linux-image-<release>-dbg) for a lab kernel, cached.

Shared by the suites that check vmsight against the kernel's own DWARF and
System.map (tests/symbols/suite_symbol_sources, tests/symbols/suite_isf).
The package (~300 MB) is downloaded once with `apt-get download`; only
usr/lib/debug/boot/{vmlinux,System.map}-<release> are extracted into
build/lab/dbg/<release>/ and the .deb is deleted.
"""
import os
import shutil
import subprocess
import tempfile
import time

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
DBG_CACHE = os.path.join(REPO, "build", "lab", "dbg")
DOWNLOAD_LIMIT = 600


def fetch_debug(release, limit=DOWNLOAD_LIMIT):
    """(vmlinux, System.map or None, note) from the cache, downloading once;
    raises RuntimeError with the reason when unavailable."""
    dest = os.path.join(DBG_CACHE, release)
    vml, smap = os.path.join(dest, "vmlinux"), os.path.join(dest, "System.map")
    if os.path.exists(vml):
        return vml, smap if os.path.exists(smap) else None, "cached in %s" % dest
    pkg = "linux-image-%s-dbg" % release
    r = subprocess.run(["apt-cache", "show", pkg], capture_output=True, text=True)
    if r.returncode != 0 or not r.stdout.strip():
        subprocess.run(["apt-get", "update", "-q"], capture_output=True)
        r = subprocess.run(["apt-cache", "show", pkg], capture_output=True, text=True)
        if r.returncode != 0 or not r.stdout.strip():
            raise RuntimeError("apt-cache knows no %s" % pkg)
    debs = os.path.join(REPO, "build", "lab", "debs")
    os.makedirs(debs, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix=".dl-dbg-", dir=debs)
    try:
        t0 = time.monotonic()
        try:
            r = subprocess.run(["apt-get", "download", pkg], cwd=tmp, capture_output=True,
                               text=True, timeout=limit)
        except subprocess.TimeoutExpired:
            raise RuntimeError("apt-get download %s took more than %d s" % (pkg, limit))
        dl = time.monotonic() - t0
        got = [f for f in os.listdir(tmp) if f.endswith(".deb")]
        if r.returncode != 0 or not got:
            raise RuntimeError("apt-get download %s failed: %s" % (pkg, r.stderr.strip()[-300:]))
        deb = os.path.join(tmp, got[0])
        size = os.path.getsize(deb)
        t1 = time.monotonic()
        xdir = os.path.join(tmp, "x")
        os.makedirs(xdir)
        # Only the kernel's own files: the package is mostly module debug info.
        cmd = "dpkg-deb --fsys-tarfile '%s' | tar -x -C '%s' ./usr/lib/debug/boot/" % (deb, xdir)
        r = subprocess.run(["sh", "-c", cmd], capture_output=True, text=True)
        boot = os.path.join(xdir, "usr", "lib", "debug", "boot")
        src_v = os.path.join(boot, "vmlinux-" + release)
        if r.returncode != 0 or not os.path.exists(src_v):
            raise RuntimeError("no usr/lib/debug/boot/vmlinux-%s in %s: %s" %
                               (release, got[0], r.stderr.strip()[-300:]))
        part = dest + ".part"
        shutil.rmtree(part, ignore_errors=True)
        os.makedirs(part)
        os.rename(src_v, os.path.join(part, "vmlinux"))
        src_m = os.path.join(boot, "System.map-" + release)
        if os.path.exists(src_m):
            os.rename(src_m, os.path.join(part, "System.map"))
        os.rename(part, dest)
        note = "downloaded %s (%d MB) in %.1f s, extracted in %.1f s" % (
            got[0], size >> 20, dl, time.monotonic() - t1)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return vml, smap if os.path.exists(smap) else None, note
