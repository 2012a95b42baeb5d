# Where the kernel image is, as the guest itself says: _text in
# /proc/kallsyms (virtual) and "Kernel code" in /proc/iomem (physical).
# Oracle for vmsight info's text_vaddr/text_paddr and KASLR offsets.
sec kaddr
grep -E ' [tT] _text$' /proc/kallsyms
grep 'Kernel code' /proc/iomem
end kaddr
