# The kernel log as the guest's busybox dmesg prints it, plain and raw
# (dmesg -r: "<facility*8+level>" prefixes): oracle for vmsight dmesg.  Each
# line is prefixed with "| " so that it is not mistaken for a kernel message
# that slipped into the console output.
sec dmesg
dmesg | sed 's/^/| /'
end dmesg
sec dmesg_raw
dmesg -r | sed 's/^/| /'
end dmesg_raw
