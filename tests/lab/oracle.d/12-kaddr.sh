# Where the kernel image is, as the guest itself says: _text in
# /proc/kallsyms (virtual) and "Kernel code" in /proc/iomem (physical).
# Oracle for vmsight info's text_vaddr/text_paddr and KASLR offsets.
sec kaddr
grep -E ' [tT] _text$' /proc/kallsyms
grep 'Kernel code' /proc/iomem
end kaddr
# linux_banner's address as the guest's /proc/kallsyms gives it: oracle
# for vmsight rd of an address (its bytes are /proc/version's text).
sec kbanner
grep -E ' [dDrR] linux_banner$' /proc/kallsyms
end kbanner
