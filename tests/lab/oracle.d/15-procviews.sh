# Per-process views from /proc, for every user process: maps, open files
# (readlink of each fd) and the environment (hex).  Oracle for vmsight
# maps / fds / environ.  PID 1 changes after this (it opens the idle fifo),
# so tests skip it.
sec procviews
for d in /proc/[0-9]*; do
	p=${d#/proc/}
	# /proc files report size 0: read the command line to spot kernel threads.
	[ -n "$(tr '\0' ' ' < $d/cmdline 2>/dev/null)" ] || continue
	echo "pid $p"
	echo "maps"
	cat $d/maps
	echo "fds"
	for f in $d/fd/*; do
		[ -e "$f" ] || [ -L "$f" ] || continue
		echo "${f##*/} $(readlink $f)"
	done
	echo "environ $(od -An -v -tx1 $d/environ | tr -d ' \n')"
done
end procviews
