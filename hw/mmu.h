/*
 * The GPU MMU (WDDM 2 GpuMmu style): per ring an address space given by a root
 * page table in GPU memory and an ASID, a TLB per engine, VA faults. Packets of a
 * ring in VA mode reach memory only through hw_mmu_resolve.
 */
#ifndef HW_MMU_H
#define HW_MMU_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <gpusim/hw.h>

struct hw_device;

struct hw_mmu_tlb_entry {
	uint64_t vpn;  /* va >> 12, or va >> 16 for a large page */
	uint64_t pte;  /* the leaf entry as it was when cached */
	/* Widths chosen so that the entry has no padding: the state table saves
	 * every byte of it (hw/vmstate.c), and its types are 32 and 64 bits. */
	uint64_t gen;  /* the entry is live while this equals its TLB's gen */
	uint32_t asid;
	uint32_t large; /* 0 or 1 */
};

/* Direct mapped: a 4 KiB page by va >> 12, a 64 KiB page by va >> 16 (hashed, mmu.c). */
struct hw_mmu_tlb {
	struct hw_mmu_tlb_entry *e;
	uint32_t mask;
	uint32_t gen;  /* bumped to drop every entry at once (never 0) */
};

/* A ring's address-space registers (VM_CTRL, VM_ROOT, VM_ASID). */
struct hw_mmu_ctx {
	uint32_t ctrl;
	uint32_t asid;
	uint64_t root;
};

/* A virtual range resolved to host memory: runs in address order. */
struct hw_mmu_run {
	uint8_t *host;
	uint64_t len;
};
struct hw_mmu_span {
	struct hw_mmu_run *run;
	size_t n, cap;
	bool sys;      /* some run is system memory: the traffic crosses PCIe */
};

struct hw_mmu {
	struct hw_mmu_ctx ctx[HW_NUM_RINGS];
	struct hw_mmu_tlb tlb[HW_NUM_RINGS];
	/* VM_FAULT_*: the first fault on a virtual address since VM_FAULT_CAUSE was cleared. */
	uint64_t fault_va;
	uint32_t fault_cause, fault_ring, fault_asid, fault_info;
	struct hw_mmu_stats stats;
	/* Page-table entries read by the current packet's walks, for its cost. */
	uint64_t walk_vram, walk_pcie;
	/* Scratch for the packet being executed (0 source, 1 destination, 2 the
	 * scheduler's look at a WAIT): not device state. */
	struct hw_mmu_span span[3];
};

int hw_mmu_init(struct hw_mmu *m, const struct hw_config *cfg);
void hw_mmu_fini(struct hw_mmu *m);
/* RESET: contexts, TLBs and VM fault registers to 0 (counters stay). */
void hw_mmu_reset(struct hw_mmu *m);

bool hw_mmu_enabled(const struct hw_device *dev, unsigned ring);
uint32_t hw_mmu_ring_reg_read(struct hw_device *dev, unsigned ring, uint32_t reg);
void hw_mmu_ring_reg_write(struct hw_device *dev, unsigned ring, uint32_t reg, uint32_t v);
void hw_mmu_set_context(struct hw_device *dev, unsigned ring, uint64_t root, uint32_t asid,
			uint32_t ctrl);
/* Drop TLB entries of one ring (ring < HW_NUM_RINGS) or of every engine (ring ==
 * HW_NUM_RINGS): with HW_PKT_TLBINV_ALL everything, with HW_PKT_TLBINV_ASID every
 * page of asid, else the pages [va, va + pages * 4 KiB) of asid. */
void hw_mmu_invalidate(struct hw_device *dev, unsigned ring, uint32_t flags, uint32_t asid,
		       uint64_t va, uint64_t pages);

/* Translate [va, va+len) in the ring's address space page by page into s, merging
 * pages that are contiguous in host memory. 0, or the cause with *fault_va the
 * first byte that cannot be accessed. Fills the TLB unless the device is peeking. */
uint32_t hw_mmu_resolve(struct hw_device *dev, unsigned ring, uint64_t va, uint64_t len,
			bool write, struct hw_mmu_span *s, uint64_t *fault_va);
/* Simulated ns of the page-table reads since the counters were last taken. */
uint64_t hw_mmu_take_walk_cost(struct hw_device *dev);
/* Latch VM_FAULT_* (first fault wins until VM_FAULT_CAUSE is cleared). */
void hw_mmu_fault_latch(struct hw_device *dev, unsigned ring, uint64_t va, uint32_t cause,
			bool write);

#endif
