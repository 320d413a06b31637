/*
 * GART translation. The TLB deliberately keeps serving a cached entry after the
 * table changes until the driver invalidates it: that is the bug real hardware
 * lets drivers write, and strict mode turns it into a fault with a cause.
 */
#include <config.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "hw/hw_internal.h"

int hw_gart_init(struct hw_gart *g, uint32_t tlb_entries)
{
	memset(g, 0, sizeof(*g));
	g->tlb = malloc(sizeof(*g->tlb) * tlb_entries);
	if (!g->tlb)
		return -ENOMEM;
	g->tlb_mask = tlb_entries - 1;
	hw_gart_invalidate(g, HW_TLB_INVALIDATE_ALL);
	return 0;
}

void hw_gart_fini(struct hw_gart *g)
{
	free(g->tlb);
	g->tlb = NULL;
}

void hw_gart_invalidate(struct hw_gart *g, uint32_t page_or_all)
{
	if (page_or_all == HW_TLB_INVALIDATE_ALL) {
		for (uint32_t i = 0; i <= g->tlb_mask; i++)
			g->tlb[i] = (struct hw_gart_tlb){ UINT64_MAX, 0 };
		return;
	}
	/* An empty slot holds no stale entry: equal devices save equal state. */
	struct hw_gart_tlb *t = &g->tlb[page_or_all & g->tlb_mask];
	if (t->page == page_or_all)
		*t = (struct hw_gart_tlb){ UINT64_MAX, 0 };
}

/* The entry as the table in VRAM holds it now; 0 (invalid) outside VRAM. */
static uint64_t table_entry(const struct hw_device *dev, uint64_t page)
{
	uint64_t off = dev->gart.table + page * 8;
	if (off < dev->gart.table || off > dev->vram.size - 8)
		return 0;
	uint64_t e;
	memcpy(&e, dev->vram.base + off, sizeof(e));
	return e;
}

uint32_t hw_gart_translate(struct hw_device *dev, uint64_t page, bool write, uint64_t *pfn)
{
	struct hw_gart *g = &dev->gart;
	if (!(g->ctrl & HW_GART_CTRL_ENABLE))
		return HW_FAULT_GART_INVALID;
	struct hw_gart_tlb *t = &g->tlb[page & g->tlb_mask];
	uint64_t e;
	if (t->page == page) {
		if (!dev->peeking)
			dev->stats.tlb_hits++;
		e = t->entry;
		if ((g->ctrl & HW_GART_CTRL_STRICT) && table_entry(dev, page) != e)
			return HW_FAULT_GART_STALE;
	} else {
		e = table_entry(dev, page);
		if (!dev->peeking)
			dev->stats.tlb_misses++;
		if ((e & HW_GART_VALID) && !dev->peeking) { /* like real TLBs, never cache a miss */
			t->page = page;
			t->entry = e;
		}
	}
	if (!(e & HW_GART_VALID))
		return HW_FAULT_GART_INVALID;
	if (write && !(e & HW_GART_WRITE))
		return HW_FAULT_GART_NOWRITE;
	if (!write && !(e & HW_GART_READ))
		return HW_FAULT_GART_NOREAD;
	uint64_t p = e >> HW_GART_PFN_SHIFT;
	if (p >= dev->sysmem.pages)
		return HW_FAULT_GART_BADPFN;
	*pfn = p;
	return HW_FAULT_NONE;
}
