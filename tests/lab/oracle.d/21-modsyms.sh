# Every module symbol of /proc/kallsyms ("ADDR TYPE NAME [MODULE]"), each
# followed by "C" when the core kernel has a symbol of the same name (a
# lookup by name then finds the core one), else "-": oracle for module
# symbols in vmsight symbol.  Core lines come first in /proc/kallsyms.
echo 0 > /proc/sys/kernel/kptr_restrict 2>/dev/null
sec modsyms
awk 'NF == 3 { core[$3] = 1; next } NF == 4 { print $1, $2, $3, $4, (($3 in core) ? "C" : "-") }' /proc/kallsyms
end modsyms
