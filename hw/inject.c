/*
 * Faults on purpose: what a test injects to see how a driver copes with a
 * removed device, a failed DMA, an uncorrectable VRAM page or a host out of memory.
 */
#include <config.h>

#include "hw/hw_internal.h"

void hw_inject_device_removed(struct hw_device *dev)
{
	dev->removed = true;
}

bool hw_device_removed(const struct hw_device *dev)
{
	return dev->removed;
}

void hw_inject_dma_error(struct hw_device *dev)
{
	dev->dma_error_pending = true;
}

int hw_inject_vram_error(struct hw_device *dev, uint64_t vram_offset)
{
	return hw_vram_mark_bad(&dev->vram, vram_offset);
}

void hw_inject_sysmem_oom(struct hw_device *dev, uint64_t after_pages)
{
	dev->sysmem.oom_armed = true;
	dev->sysmem.oom_left = after_pages;
}

const char *hw_fault_name(uint32_t cause)
{
	static const char *const names[] = {
		[HW_FAULT_NONE] = "none", [HW_FAULT_UNMAPPED] = "unmapped",
		[HW_FAULT_GART_INVALID] = "gart-invalid", [HW_FAULT_GART_NOREAD] = "gart-noread",
		[HW_FAULT_GART_NOWRITE] = "gart-nowrite", [HW_FAULT_GART_STALE] = "gart-stale",
		[HW_FAULT_GART_BADPFN] = "gart-badpfn", [HW_FAULT_DMA] = "dma-error",
		[HW_FAULT_ECC] = "ecc", [HW_FAULT_BAD_PACKET] = "bad-packet",
		[HW_FAULT_VM_NOT_PRESENT] = "vm-not-present", [HW_FAULT_VM_READ_ONLY] = "vm-read-only",
		[HW_FAULT_VM_RANGE] = "vm-range", [HW_FAULT_VM_PT_UNREACHABLE] = "vm-pt-unreachable",
		[HW_FAULT_VM_STALE] = "vm-stale", [HW_FAULT_VM_BAD_ADDR] = "vm-bad-addr",
		[HW_FAULT_PKT_OVERRUN] = "pkt-overrun", [HW_FAULT_PKT_TOO_LONG] = "pkt-too-long",
		[HW_FAULT_PKT_WRAP] = "pkt-wrap", [HW_FAULT_PKT_OPCODE] = "pkt-opcode",
	};
	return cause < sizeof(names) / sizeof(names[0]) && names[cause] ? names[cause] : "unknown";
}

void hw_fault_raise(struct hw_device *dev, uint32_t ring, uint64_t addr, uint32_t cause)
{
	dev->stats.faults++;
	if (!dev->fault_cause) {
		dev->fault_cause = cause;
		dev->fault_addr = addr;
		dev->fault_ring = ring;
	}
	hw_irq_raise(dev, HW_IRQ_FAULT);
}
