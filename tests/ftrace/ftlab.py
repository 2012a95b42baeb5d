"""Guests for the ftrace suite (tests/ftrace/suite_ftrace): their kernel
command lines and oracle snippets.  Run directly to keep one up for
development: python3 ftlab.py graph|function 6.1 STATE.json"""
import json
import os
import sys
import time

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(REPO, "tests", "lab"))
import lab  # noqa: E402

T = "/sys/kernel/tracing"
# A fixed small workload between a cleared buffer and tracing_on=0; then the
# guest's own trace file between oracle markers.
WORKLOAD = r"""
T=/sys/kernel/tracing
echo 0 > $T/tracing_on
@PRE@
echo > $T/trace
echo 1 > $T/tracing_on
@ON@
for i in @LOOP@; do cat /proc/version > /dev/null; done
@MID@
echo 0 > $T/tracing_on
@OFF@
sec ftrace; cat $T/trace; end ftrace
sec ftrace_stats; for c in $T/per_cpu/cpu*; do echo "${c##*/}"; cat $c/stats; done; end ftrace_stats
@POST@
"""
# After the oracle: numbered trace_marker writes in a loop, for --follow
# (recorded only once the host resumes recording).
# A named trace instance (INSTANCE) with its own events, recording while the
# global workload runs; its trace file is the oracle for --instance.  The
# events are chosen for their print_fmt: __print_symbolic (softirq_entry),
# %ps (module_request's call_site: opening a character device of an
# unregistered major makes the kernel request "char-major-60-0"), %03d
# (sched_wakeup), __get_str, plain integers.
INSTANCE = "vmsight_inst"
INSTANCE_EVENTS = ("sched/sched_process_fork", "sched/sched_wakeup", "signal/signal_generate",
                   "irq/softirq_entry", "module/module_request")
INSTANCE_PRE = r"""I=$T/instances/@INST@
mkdir $I && echo 0 > $I/tracing_on
for e in @EVENTS@; do echo 1 > $I/events/$e/enable; done
echo > $I/trace
mknod /tmp/vmsight-c60 c 60 0"""
INSTANCE_ON = r"""echo 1 > $I/tracing_on"""
INSTANCE_MID = r"""cat /tmp/vmsight-c60 2>/dev/null; sleep 0.1"""
# Then a trace_pipe reader consumes the first events of the busier CPU
# (one read of 1024 bytes: about a dozen lines, the last one possibly cut),
# which leaves a reader page partly read; the instance's trace file
# afterwards is the oracle for the host.
INSTANCE_OFF = r"""echo 0 > $I/tracing_on
sec ftrace_instance; cat $I/trace; end ftrace_instance
c0=$(grep -c '\[000\]' $I/trace); c1=$(grep -c '\[001\]' $I/trace); cpu=0
[ "$c1" -gt "$c0" ] && cpu=1
sec ftrace_instance_consumed
timeout 5 dd if=$I/per_cpu/cpu$cpu/trace_pipe bs=1024 count=1 2>/dev/null; echo
end ftrace_instance_consumed
sec ftrace_instance_left; cat $I/trace; end ftrace_instance_left"""
MARKER_LOOP = r"""( i=0; while :; do echo "vmsmark $i" > $T/trace_marker 2>/dev/null && i=$((i+1)); sleep 0.01; done ) &"""

CONFIGS = {
    # function_graph, two levels below do_sys_openat2
    "graph": dict(append="ftrace=function_graph ftrace_graph_filter=do_sys_openat2 "
                         "ftrace_graph_max_depth=2 trace_buf_size=64k",
                  # enough calls to fill several pages of one CPU (the
                  # hostile page-cycle test needs two)
                  pre="", mid="", loop=" ".join(str(i) for i in range(1, 26)), modules=()),
    # the function tracer on a few functions, a module function, and
    # scheduler events
    "function": dict(append="ftrace=function ftrace_filter=do_sys_openat2,__x64_sys_getppid "
                            "trace_buf_size=64k "
                            "trace_event=sched:sched_process_exec,sched:sched_process_exit,"
                            "sched:sched_switch",
                     pre="echo dummy_get_stats64 >> $T/set_ftrace_filter 2>/dev/null\n" +
                         INSTANCE_PRE,
                     on=INSTANCE_ON,
                     mid="ip link show dummy0 > /dev/null; ip link show dummy0 > /dev/null\n" +
                         INSTANCE_MID,
                     off=INSTANCE_OFF,
                     loop="1 2 3", modules=("dummy",), post=MARKER_LOOP),
}


def guest(kind, kernel, name=None):
    c = CONFIGS[kind]
    snippet = WORKLOAD.replace("@PRE@", c["pre"] or ":").replace("@MID@", c["mid"] or ":")
    snippet = snippet.replace("@LOOP@", c["loop"]).replace("@POST@", c.get("post") or ":")
    snippet = snippet.replace("@ON@", c.get("on") or ":").replace("@OFF@", c.get("off") or ":")
    snippet = snippet.replace("@INST@", INSTANCE).replace("@EVENTS@", " ".join(INSTANCE_EVENTS))
    return lab.Guest(kernel, name=name or "ft-%s-%s" % (kind, kernel),
                     extra_append=c["append"], oracle_extra=snippet,
                     modules=list(c["modules"]))


if __name__ == "__main__":
    lab.install_signal_handlers()
    kind, kernel, state = sys.argv[1], sys.argv[2], sys.argv[3]
    with guest(kind, kernel) as g:
        g.start()
        g.wait_ready(900)
        with open(state, "w") as f:
            json.dump({"ram": g.ram_path, "pid": g.pid, "qmp": g.qmp_path,
                       "oracle": g.oracle["sections"], "console": g.console_path}, f)
        print("READY", g.ram_path, flush=True)
        while g.proc.poll() is None:
            time.sleep(1)
