# Whole-system figures as the guest computes them: uptime, load average,
# per-CPU times and memory.  Oracle for vmsight's sysstat view
# (src/os/linux/sysstat.c).  The guest runs on a little before it is paused,
# so tests compare these with a tolerance.
sec uptime
cat /proc/uptime
end uptime
sec loadavg
cat /proc/loadavg
end loadavg
sec procstat
cat /proc/stat
end procstat
sec meminfo
cat /proc/meminfo
end meminfo
