/*
 * The GART: translation of aperture pages to system pages through a table of
 * 64-bit entries in VRAM, cached by a direct-mapped TLB the driver must flush.
 */
#ifndef HW_GART_H
#define HW_GART_H

#include <stdbool.h>
#include <stdint.h>

struct hw_device;

struct hw_gart_tlb {
	uint64_t page;  /* aperture page cached here, UINT64_MAX when empty */
	uint64_t entry; /* the table entry as it was when cached */
};

struct hw_gart {
	uint32_t ctrl;
	uint64_t table; /* VRAM offset */
	struct hw_gart_tlb *tlb;
	uint32_t tlb_mask;
};

int hw_gart_init(struct hw_gart *g, uint32_t tlb_entries);
void hw_gart_fini(struct hw_gart *g);
void hw_gart_invalidate(struct hw_gart *g, uint32_t page_or_all);
/* Translate aperture page `page`; returns 0 and the pfn, or an HW_FAULT_* cause. */
uint32_t hw_gart_translate(struct hw_device *dev, uint64_t page, bool write, uint64_t *pfn);

#endif
