#include "names_exit.inc"

const char *const xt_runstate_name[RS_MAX] = {
	"running", "runnable", "blocked", "offline", "lost", "queued", "init",
};
const char *const xt_runnable_name[RN_MAX] = {
	"wake", "preempt", "other", "invalid",
};
const char *const xt_domain_runstate_name[DS_MAX] = {
	"blocked", "partial run", "full run", "partial contention",
	"concurrency_hazard", "full_contention", "lost",
};
const char *const xt_toplevel_name[TL_MAX] = {
	"gen", "sched", "dom0op", "hvm", "mem", "pv", "shadow", "hw",
};
const char *const xt_hvm_vol_name[HV_MAX] = {
	"vmentry", "vmexit", "handler", "emul",
};
const char *const xt_handler_name[XT_HANDLER_MAX] = {
	"(no handler)", "pf_xen", "pf_inject", "inj_exc", "inj_virq",
	"reinj_virq", "io_read", "io_write", "cr_read", "cr_write", "dr_read",
	"dr_write", "msr_read", "msr_write", "cpuid", "intr", "nmi", "smi",
	"vmcall", "hlt", "invlpg", "mce", "io_assist", "mmio_assist", "clts",
	"lmsw", "rdtsc", NULL, NULL, NULL, NULL, NULL, "intr_window", "npf",
	"realmode_emulate", "trap", "trap_debug", "vlapic", "xcr_read",
	"xcr_write",
};
/* Hypercall numbers from xen/include/public/xen.h.  xenalyze's table
 * stops at 37 (kexec_op) and indexes past it (its bug #4); ours names
 * every number up to 63 that Xen defines. */
const char *const xt_hypercall_name[XT_HYPERCALL_MAX] = {
	"set_trap_table", "mmu_update", "set_gdt", "stack_switch",
	"set_callbacks", "fpu_taskswitch", "sched_op(compat)", "platform_op",
	"set_debugreg", "get_debugreg", "update_descriptor", NULL,
	"memory_op", "multicall", "update_va_mapping", "set_timer_op",
	"evtchn_op(compat)", "xen_version", "console_io",
	"physdev_op(compat)", "grant_table_op", "vm_assist",
	"update_va_mapping_otherdomain", "iret", "vcpu_op",
	"set_segment_base", "mmuext_op", "acm_op", "nmi_op", "sched_op",
	"callback_op", "xenoprof_op", "evtchn_op", "physdev_op", "hvm_op",
	"sysctl", "domctl", "kexec_op", "tmem_op", "argo_op", "xenpmu_op",
	"dm_op", "hypfs_op", NULL, NULL, NULL, NULL, NULL,
	"arch_0", "arch_1", "arch_2", "arch_3", "arch_4", "arch_5", "arch_6",
	"arch_7",
};
const char *const xt_extint_name[256] = {
	[0xff] = "SPURIOS_APIC", [0xfe] = "ERROR_APIC",
	[0xfd] = "INVALIDATE_TLB", [0xfc] = "EVENT_CHECK",
	[0xfb] = "CALL_FUNCTION", [0xfa] = "THERMAL_APIC",
	[0xf9] = "LOCAL_TIMER",
};
const char *const xt_gi_case_name[4] = {
	NULL, "wake to halt alone", "wake to halt any  ", "intr to halt      ",
};
const char *const xt_pv_name[PVE_MAX] = {
	[PVE_HYPERCALL] = "hypercall", [PVE_TRAP] = "trap",
	[PVE_PAGE_FAULT] = "page_fault",
	[PVE_FORCED_INVALID_OP] = "forced_invalid_op",
	[PVE_EMULATE_PRIVOP] = "emulate privop",
	[PVE_EMULATE_4GB] = "emulate 4g",
	[PVE_MATH_STATE_RESTORE] = "math state restore",
	[PVE_PAGING_FIXUP] = "paging fixup",
	[PVE_GDT_LDT_MAPPING_FAULT] = "gdt/ldt mapping fault",
	[PVE_PTWR_EMULATION] = "ptwr",
	[PVE_PTWR_EMULATION_PAE] = "ptwr(pae)",
	[PVE_HYPERCALL_V2] = "hypercall",
	[PVE_HYPERCALL_SUBCALL] = "hypercall (subcall)",
};

const char *xt_exit_name(int svm, unsigned reason)
{
	if (svm)
		return reason < 1025 ? svm_names[reason] : NULL;
	return reason < 76 ? vmx_names[reason] : NULL;
}

unsigned xt_exit_named_max(int svm)
{
	return svm ? 1025 : 56;
}

const char *const xt_hss_name[HSS_MAX] = {
	"emulate", "unsync", "fixup", "mmio", "propagate", "cr3", "vmcall",
	"intr", "hlt", "other",
};

const char *const xt_mem_name[MEM_MAX] = {
	[MEM_GRANT_MAP] = "grant-map",
	[MEM_GRANT_UNMAP] = "grant-unmap",
	[MEM_GRANT_TRANSFER] = "grant-transfer",
	[MEM_SET_P2M] = "set-p2m",
	[MEM_DECREASE_RESERVATION] = "decrease-reservation",
	[MEM_POD_POPULATE] = "pod-populate",
	[MEM_POD_ZERO_RECLAIM] = "pod-zero-reclaim",
	[MEM_POD_SPLINTER] = "pod-superpage-splinter",
};

const char *const xt_pod_ctx_name[POD_CTX_MAX] = { "unknown", "fault", "balloon" };
