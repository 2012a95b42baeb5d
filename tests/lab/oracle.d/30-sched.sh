# The guest scheduler's own view of its runqueues (per CPU: nr_running,
# curr, the cfs/rt queues with each task's vruntime and prio): oracle for
# vmsight runq.  /proc/sched_debug moved to debugfs in 5.13.
sec sched_debug
if [ -r /proc/sched_debug ]; then
  cat /proc/sched_debug
elif [ -r /sys/kernel/debug/sched/debug ]; then
  cat /sys/kernel/debug/sched/debug
fi
end sched_debug
