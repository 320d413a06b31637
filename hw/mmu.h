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

/*
 * Each engine's TLB caches lines, not pages: a walk ends by reading the 64-byte
 * line of the leaf table that holds the page's entry (one memory transaction,
 * HW_MMU_LINE_PTES entries), and the TLB keeps the whole line. So one walk serves
 * the 8 pages of an aligned group (8 x 4 KiB, or 8 x 64 KiB), and pages whose
 * entries are physically contiguous are translated, and copied, as one run.
 *
 * Lines sit in sets of HW_MMU_TLB_WAYS ways, kept in order of use (way 0 the most
 * recent): a fill replaces a dead way, else the least recently used. A line holds
 * only entries that were VALID when read (a miss is never cached); a page of the
 * line whose entry was not is a miss, whose walk adds the entries the line lacks
 * and leaves the ones it has, stale or not, alone.
 */
#define HW_MMU_LINE_PTES 8u
#define HW_MMU_LINE_SHIFT 3 /* log2(HW_MMU_LINE_PTES) */
#define HW_MMU_TLB_WAYS 4u

struct hw_mmu_tlb_line {
	/* The group: va >> 15 for 4 KiB pages, va >> 19 for 64 KiB pages. Widths
	 * chosen so that the line has no padding: the state table saves every byte
	 * of it (hw/vmstate.c). */
	uint64_t vline;
	uint32_t gen;   /* the line is live while this equals its TLB's gen */
	uint32_t asid;
	uint32_t large; /* 0 or 1 */
	uint32_t valid; /* bit j: the line caches the entry of page 8 * vline + j */
};

struct hw_mmu_tlb {
	struct hw_mmu_tlb_line *line; /* sets * ways, set by set */
	uint64_t *pte;  /* HW_MMU_LINE_PTES per line: the leaf entries as they were read */
	uint32_t sets, ways; /* the configuration's: vm_tlb / 8 lines */
	uint32_t gen;   /* bumped to drop every line at once (never 0) */
};

/* A line serves lookups while it is of its TLB's generation and caches an entry. */
static inline bool hw_mmu_line_live(const struct hw_mmu_tlb *t, const struct hw_mmu_tlb_line *l)
{
	return l->gen == t->gen && l->valid;
}

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

/* Translate [va, va+len) in the ring's address space into s: one step per run of
 * pages that a TLB line maps contiguously, runs contiguous in host memory merged
 * (so a COPY moves each with one memmove). 0, or the cause with *fault_va the
 * first byte that cannot be accessed. Fills the TLB unless the device is peeking. */
uint32_t hw_mmu_resolve(struct hw_device *dev, unsigned ring, uint64_t va, uint64_t len,
			bool write, struct hw_mmu_span *s, uint64_t *fault_va);
/* The set of a TLB that caches line vline (hw/vmstate.c checks where lines sit). */
uint32_t hw_mmu_tlb_set(const struct hw_mmu_tlb *t, uint64_t vline);
/* Simulated ns of the page-table reads since the counters were last taken. */
uint64_t hw_mmu_take_walk_cost(struct hw_device *dev);
/* Latch VM_FAULT_* (first fault wins until VM_FAULT_CAUSE is cleared). */
void hw_mmu_fault_latch(struct hw_device *dev, unsigned ring, uint64_t va, uint32_t cause,
			bool write);

#endif
