/*
 * The device's state, shared by the files of hw/. Each part (VRAM, system memory,
 * GART, GPU MMU, command processor, clock, interrupts) keeps its own sub-struct here and
 * its functions in a file of its own; nothing outside hw/ includes this header.
 */
#ifndef HW_INTERNAL_H
#define HW_INTERNAL_H

#include <gpusim/hw.h>

#include "hw/vram.h"
#include "hw/sysmem.h"
#include "hw/gart.h"
#include "hw/irq.h"
#include "hw/cp.h"
#include "hw/mmu.h"

struct hw_device {
	struct hw_config cfg;
	struct hw_vram vram;
	struct hw_sysmem sysmem;
	struct hw_gart gart;
	struct hw_irq irq;
	struct hw_ring rings[HW_NUM_RINGS];
	struct hw_mmu mmu;      /* GPU virtual memory: contexts, TLBs, VM faults */

	uint64_t now;           /* simulated ns */
	uint32_t clock_hi_latch;/* HI half latched by a read of CLOCK_LO */

	/* First fault since FAULT_CAUSE was last cleared. */
	uint64_t fault_addr;
	uint32_t fault_cause;
	uint32_t fault_ring;

	bool removed;
	bool dma_error_pending;
	bool in_run;            /* guards hw_run_* against re-entry from a handler */
	bool peeking;           /* looking without touching: no TLB fills, no stats */
	struct hw_stats stats;
};

/* Record a fault (first one wins until FAULT_CAUSE is cleared) and raise IRQ. */
void hw_fault_raise(struct hw_device *dev, uint32_t ring, uint64_t addr, uint32_t cause);

#endif
