# A sample of /proc/kallsyms (every 41st line) and the count of core-kernel
# symbols (lines without a [module] tag): oracle for kallsyms recovery.
echo 0 > /proc/sys/kernel/kptr_restrict 2>/dev/null
sec kallsyms
awk 'NR % 41 == 1' /proc/kallsyms
end kallsyms
sec kallsyms_count
grep -vc '\]$' /proc/kallsyms
end kallsyms_count
# What the count above leaves out: the tag of every non-core line
# ([module], [bpf], [__builtin__kprobes], ...), counted.
sec kallsyms_tags
grep -o '\[[^]]*\]$' /proc/kallsyms | sort | uniq -c
end kallsyms_tags
