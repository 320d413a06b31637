/*
 * Register names for people: hw_reg_name turns a BAR0 offset into the name
 * hw/REGISTERS.md gives it, so tools that print registers (gpusim inspect) speak
 * the hardware team's language instead of bare offsets.
 */
#include <config.h>

#include <gpusim/hw.h>

/* Inside a ring's block, by offset / 4; every ring has the same layout. */
#define RING_REGS(n)                                                                              \
	{ "RING" #n ".BASE_LO", "RING" #n ".BASE_HI", "RING" #n ".SIZE", "RING" #n ".RPTR",      \
	  "RING" #n ".WPTR", "RING" #n ".DOORBELL", "RING" #n ".CTRL", "RING" #n ".STATUS",     \
	  "RING" #n ".FENCE_LO", "RING" #n ".FENCE_HI", NULL, "RING" #n ".VM_CTRL",             \
	  "RING" #n ".VM_ROOT_LO", "RING" #n ".VM_ROOT_HI", "RING" #n ".VM_ASID",              \
	  "RING" #n ".VM_INVALIDATE" }

static const char *const ring_regs[][HW_RING_VM_INVALIDATE / 4 + 1] = { RING_REGS(0),
									  RING_REGS(1) };

/* The string literals carry the ring number, so the table must have a row per ring. */
_Static_assert(sizeof(ring_regs) / sizeof(ring_regs[0]) == HW_NUM_RINGS, "a name row per ring");

const char *hw_reg_name(uint32_t offset)
{
	if (offset & 3)
		return NULL;
	if (offset >= HW_REG_RING0 && offset < HW_REG_RING(HW_NUM_RINGS, 0)) {
		uint32_t in = (offset - HW_REG_RING0) % HW_RING_STRIDE;
		if (in > HW_RING_VM_INVALIDATE)
			return NULL;
		return ring_regs[(offset - HW_REG_RING0) / HW_RING_STRIDE][in / 4];
	}
	switch (offset) {
	case HW_REG_ID: return "ID";
	case HW_REG_REV: return "REV";
	case HW_REG_VRAM_SIZE_LO: return "VRAM_SIZE_LO";
	case HW_REG_VRAM_SIZE_HI: return "VRAM_SIZE_HI";
	case HW_REG_VISIBLE_SIZE_LO: return "VISIBLE_SIZE_LO";
	case HW_REG_VISIBLE_SIZE_HI: return "VISIBLE_SIZE_HI";
	case HW_REG_GART_SIZE_LO: return "GART_SIZE_LO";
	case HW_REG_GART_SIZE_HI: return "GART_SIZE_HI";
	case HW_REG_GART_BASE_LO: return "GART_BASE_LO";
	case HW_REG_GART_BASE_HI: return "GART_BASE_HI";
	case HW_REG_SYSMEM_SIZE_LO: return "SYSMEM_SIZE_LO";
	case HW_REG_SYSMEM_SIZE_HI: return "SYSMEM_SIZE_HI";
	case HW_REG_GART_CTRL: return "GART_CTRL";
	case HW_REG_GART_TABLE_LO: return "GART_TABLE_LO";
	case HW_REG_GART_TABLE_HI: return "GART_TABLE_HI";
	case HW_REG_TLB_INVALIDATE: return "TLB_INVALIDATE";
	case HW_REG_IRQ_STATUS: return "IRQ_STATUS";
	case HW_REG_IRQ_MASK: return "IRQ_MASK";
	case HW_REG_FAULT_ADDR_LO: return "FAULT_ADDR_LO";
	case HW_REG_FAULT_ADDR_HI: return "FAULT_ADDR_HI";
	case HW_REG_FAULT_CAUSE: return "FAULT_CAUSE";
	case HW_REG_FAULT_RING: return "FAULT_RING";
	case HW_REG_CLOCK_LO: return "CLOCK_LO";
	case HW_REG_CLOCK_HI: return "CLOCK_HI";
	case HW_REG_RESET: return "RESET";
	case HW_REG_STATUS: return "STATUS";
	case HW_REG_VM_FAULT_ADDR_LO: return "VM_FAULT_ADDR_LO";
	case HW_REG_VM_FAULT_ADDR_HI: return "VM_FAULT_ADDR_HI";
	case HW_REG_VM_FAULT_CAUSE: return "VM_FAULT_CAUSE";
	case HW_REG_VM_FAULT_RING: return "VM_FAULT_RING";
	case HW_REG_VM_FAULT_ASID: return "VM_FAULT_ASID";
	case HW_REG_VM_FAULT_INFO: return "VM_FAULT_INFO";
	case HW_REG_VM_VA_BITS: return "VM_VA_BITS";
	}
	return NULL;
}
