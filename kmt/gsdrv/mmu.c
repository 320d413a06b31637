/*
 * The GPU MMU half of the gsdrv driver (DxgkDdiBuildPagingBuffer's UPDATEPAGETABLE
 * and FLUSHTLB, and the MMU's shape): page-table entries are written by the copy
 * engine with WRITE_DATA packets on the paging ring, so they land in order with
 * the transfers around them, never by the CPU through BAR2 (a table may sit in
 * VRAM the CPU cannot reach).
 *
 * The entry format is the driver's business: the manager hands it struct kmt_pte.
 * It follows the device's GPU MMU (hw/REGISTERS.md on branch wt-mmu) once that is
 * merged; until then it is this driver's own, 8 bytes little endian: bit 0 valid,
 * bit 1 read-only, bit 2 system page, bit 3 next-level table, bits 12-51 address.
 */
#include <config.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "kmt/gsdrv/gsdrv.h"

#define PTE_VALID 0x1ull
#define PTE_READ_ONLY 0x2ull
#define PTE_SYSTEM 0x4ull
#define PTE_TABLE 0x8ull
#define PTE_ADDR_MASK 0x000ffffffffff000ull

#define LEVELS 4u
#define LEVEL_BITS 9u
#define TABLE_BYTES 4096u

int gsdrv_mmu_caps(void *drv, struct kmt_mmu_caps *out)
{
	(void)drv;
	*out = (struct kmt_mmu_caps){ .va_bits = 12 + LEVELS * LEVEL_BITS, .levels = LEVELS,
				      .level_bits = LEVEL_BITS, .table_bytes = TABLE_BYTES };
	return 0;
}

static uint64_t encode(const struct kmt_pte *p)
{
	if (!(p->flags & KMT_PTE_VALID))
		return 0;
	uint64_t e = (p->address & PTE_ADDR_MASK) | PTE_VALID;
	if (p->flags & KMT_PTE_READ_ONLY)
		e |= PTE_READ_ONLY;
	if (p->flags & KMT_PTE_SYSTEM)
		e |= PTE_SYSTEM;
	if (p->flags & KMT_PTE_TABLE)
		e |= PTE_TABLE;
	return e;
}

static void decode(uint64_t e, struct kmt_pte *p)
{
	p->address = e & PTE_ADDR_MASK;
	p->flags = 0;
	if (!(e & PTE_VALID)) {
		p->address = 0;
		return;
	}
	p->flags = KMT_PTE_VALID | ((e & PTE_READ_ONLY) ? KMT_PTE_READ_ONLY : 0) |
		   ((e & PTE_SYSTEM) ? KMT_PTE_SYSTEM : 0) | ((e & PTE_TABLE) ? KMT_PTE_TABLE : 0);
}

int gsdrv_update_page_table(struct gsdrv *d, const struct kmt_paging_op *op)
{
	uint64_t table = gsdrv_gpu_address(d, op->dst.seg, op->dst.offset);
	int rc;
	if (table == UINT64_MAX || op->first_entry > TABLE_BYTES / 8 ||
	    op->nentries > TABLE_BYTES / 8 - op->first_entry)
		return -EINVAL;
	if (op->clear_table) {
		uint32_t p[6];
		p[0] = HW_PKT_HEADER(HW_PKT_FILL, 0, 5);
		gsdrv_lo_hi(p + 1, table);
		gsdrv_lo_hi(p + 3, TABLE_BYTES);
		p[5] = 0;
		d->paging_dirty = true;
		if ((rc = gsdrv_ring_emit(d, KMT_ENGINE_PAGING, p, 6)))
			return rc;
	}
	if (!op->nentries)
		return 0;
	uint32_t n = 3 + 2 * op->nentries;
	uint32_t *p = malloc(n * sizeof(*p));
	if (!p)
		return -ENOMEM;
	p[0] = HW_PKT_HEADER(HW_PKT_WRITE_DATA, 0, n - 1);
	gsdrv_lo_hi(p + 1, table + 8ull * op->first_entry);
	for (uint32_t i = 0; i < op->nentries; i++)
		gsdrv_lo_hi(p + 3 + 2 * i, encode(&op->ptes[i]));
	d->paging_dirty = true;
	rc = gsdrv_ring_emit(d, KMT_ENGINE_PAGING, p, n);
	free(p);
	return rc;
}

int gsdrv_flush_tlb(struct gsdrv *d, const struct kmt_paging_op *op)
{
	/* The device has no GPU MMU yet, hence no TLB of translations to drop. */
	(void)d;
	(void)op;
	return 0;
}

int gsdrv_read_pte(void *drv, uint32_t seg, uint64_t offset, uint32_t index, struct kmt_pte *out)
{
	struct gsdrv *d = drv;
	uint64_t table = gsdrv_gpu_address(d, seg, offset);
	if (table == UINT64_MAX || index >= TABLE_BYTES / 8)
		return -EINVAL;
	const uint8_t *e = hw_debug_vram(d->hw, table + 8ull * index, 8);
	if (!e)
		return -EINVAL;
	uint64_t v;
	memcpy(&v, e, 8);
	decode(v, out);
	return 0;
}
