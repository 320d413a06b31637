/*
 * BAR0: the register file. Reads and writes dispatch by offset, as a QEMU device
 * model does; 64-bit values are LO/HI pairs and reading CLOCK_LO latches HI so a
 * driver reads a consistent time. A removed device answers all ones.
 */
#include <config.h>

#include "hw/hw_internal.h"
#include "hw/cp.h"

static void device_reset(struct hw_device *dev)
{
	for (unsigned i = 0; i < HW_NUM_RINGS; i++)
		hw_ring_reset(dev, i);
	dev->gart.ctrl = 0;
	dev->gart.table = 0;
	hw_gart_invalidate(&dev->gart, HW_TLB_INVALIDATE_ALL);
	dev->irq.status = 0;
	dev->irq.mask = 0;
	dev->fault_addr = 0;
	dev->fault_cause = 0;
	dev->fault_ring = 0;
	hw_mmu_reset(&dev->mmu);
}

static bool any_work(struct hw_device *dev)
{
	return hw_next_event(dev, NULL);
}

uint32_t hw_mmio_read(struct hw_device *dev, uint32_t off)
{
	const struct hw_config *c = &dev->cfg;
	if (dev->removed)
		return 0xffffffffu;
	if (off >= HW_REG_RING0 && off < HW_REG_RING0 + HW_NUM_RINGS * HW_RING_STRIDE)
		return hw_ring_reg_read(dev, (off - HW_REG_RING0) / HW_RING_STRIDE,
					(off - HW_REG_RING0) % HW_RING_STRIDE);
	switch (off) {
	case HW_REG_ID: return HW_DEVICE_ID;
	case HW_REG_REV: return HW_DEVICE_REV;
	case HW_REG_VRAM_SIZE_LO: return (uint32_t)c->vram;
	case HW_REG_VRAM_SIZE_HI: return (uint32_t)(c->vram >> 32);
	case HW_REG_VISIBLE_SIZE_LO: return (uint32_t)c->visible;
	case HW_REG_VISIBLE_SIZE_HI: return (uint32_t)(c->visible >> 32);
	case HW_REG_GART_SIZE_LO: return (uint32_t)c->gart;
	case HW_REG_GART_SIZE_HI: return (uint32_t)(c->gart >> 32);
	case HW_REG_GART_BASE_LO: return (uint32_t)c->gart_base;
	case HW_REG_GART_BASE_HI: return (uint32_t)(c->gart_base >> 32);
	case HW_REG_SYSMEM_SIZE_LO: return (uint32_t)c->sysmem;
	case HW_REG_SYSMEM_SIZE_HI: return (uint32_t)(c->sysmem >> 32);
	case HW_REG_GART_CTRL: return dev->gart.ctrl;
	case HW_REG_GART_TABLE_LO: return (uint32_t)dev->gart.table;
	case HW_REG_GART_TABLE_HI: return (uint32_t)(dev->gart.table >> 32);
	case HW_REG_IRQ_STATUS: return dev->irq.status;
	case HW_REG_IRQ_MASK: return dev->irq.mask;
	case HW_REG_FAULT_ADDR_LO: return (uint32_t)dev->fault_addr;
	case HW_REG_FAULT_ADDR_HI: return (uint32_t)(dev->fault_addr >> 32);
	case HW_REG_FAULT_CAUSE: return dev->fault_cause;
	case HW_REG_FAULT_RING: return dev->fault_ring;
	case HW_REG_CLOCK_LO:
		dev->clock_hi_latch = (uint32_t)(dev->now >> 32);
		return (uint32_t)dev->now;
	case HW_REG_CLOCK_HI: return dev->clock_hi_latch;
	case HW_REG_STATUS: return any_work(dev) ? 0 : HW_STATUS_IDLE;
	case HW_REG_VM_FAULT_ADDR_LO: return (uint32_t)dev->mmu.fault_va;
	case HW_REG_VM_FAULT_ADDR_HI: return (uint32_t)(dev->mmu.fault_va >> 32);
	case HW_REG_VM_FAULT_CAUSE: return dev->mmu.fault_cause;
	case HW_REG_VM_FAULT_RING: return dev->mmu.fault_ring;
	case HW_REG_VM_FAULT_ASID: return dev->mmu.fault_asid;
	case HW_REG_VM_FAULT_INFO: return dev->mmu.fault_info;
	case HW_REG_VM_VA_BITS: return c->va_bits;
	default: return 0;
	}
}

void hw_mmio_write(struct hw_device *dev, uint32_t off, uint32_t v)
{
	if (dev->removed)
		return;
	if (off >= HW_REG_RING0 && off < HW_REG_RING0 + HW_NUM_RINGS * HW_RING_STRIDE) {
		hw_ring_reg_write(dev, (off - HW_REG_RING0) / HW_RING_STRIDE,
				  (off - HW_REG_RING0) % HW_RING_STRIDE, v);
		return;
	}
	switch (off) {
	case HW_REG_GART_CTRL:
		dev->gart.ctrl = v & (HW_GART_CTRL_ENABLE | HW_GART_CTRL_STRICT);
		break;
	case HW_REG_GART_TABLE_LO:
		dev->gart.table = (dev->gart.table & ~0xffffffffull) | (v & ~(uint32_t)(HW_PAGE_SIZE - 1));
		break;
	case HW_REG_GART_TABLE_HI:
		dev->gart.table = (dev->gart.table & 0xffffffffull) | (uint64_t)v << 32;
		break;
	case HW_REG_TLB_INVALIDATE:
		hw_gart_invalidate(&dev->gart, v);
		break;
	case HW_REG_IRQ_STATUS:
		dev->irq.status &= ~v;
		break;
	case HW_REG_IRQ_MASK:
		dev->irq.mask = v;
		break;
	case HW_REG_FAULT_CAUSE:
		if (v == 0) {
			dev->fault_cause = 0;
			dev->fault_addr = 0;
			dev->fault_ring = 0;
		}
		break;
	case HW_REG_VM_FAULT_CAUSE:
		if (v == 0) {
			dev->mmu.fault_cause = 0;
			dev->mmu.fault_va = 0;
			dev->mmu.fault_ring = dev->mmu.fault_asid = dev->mmu.fault_info = 0;
		}
		break;
	case HW_REG_RESET:
		if (v == HW_RESET_MAGIC)
			device_reset(dev);
		break;
	default: break;
	}
}
