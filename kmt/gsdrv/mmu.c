/*
 * The GPU MMU half of the gsdrv driver (DxgkDdiBuildPagingBuffer's UPDATEPAGETABLE
 * and FLUSHTLB, and the MMU's shape): page-table entries are written by the copy
 * engine with WRITE_DATA packets on the paging ring, so they land in order with
 * the transfers around them, never by the CPU through BAR2 (a table may sit in
 * VRAM the CPU cannot reach).
 *
 * The entry format is the driver's business: the manager hands it struct kmt_pte
 * and gsdrv encodes the device's (<gpusim/hw.h>: HW_PDE for directories, HW_PTE for
 * 4 KiB leaves; the manager uses no 64 KiB pages). After the entries, a
 * TLB_INVALIDATE packet of the address space's ASID on the same ring drops what
 * every engine cached. Each lands before the call returns, redone if a fault
 * made the engine skip it (emit_landed).
 */
#include <config.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "kmt/gsdrv/gsdrv.h"

#define LEVEL_BITS 9u
#define TABLE_BYTES (HW_VM_ENTRIES * 8u)

int gsdrv_mmu_caps(void *drv, struct kmt_mmu_caps *out)
{
	struct gsdrv *d = drv;
	*out = (struct kmt_mmu_caps){ .va_bits = d->cfg.va_bits, .levels = HW_VM_LEVELS,
				      .level_bits = LEVEL_BITS, .table_bytes = TABLE_BYTES };
	return 0;
}

static uint64_t encode(const struct kmt_pte *p)
{
	if (!(p->flags & KMT_PTE_VALID))
		return 0;
	if (p->flags & KMT_PTE_TABLE)
		return HW_PDE(p->address, HW_PDE_VALID);
	uint64_t flags = HW_PTE_VALID | ((p->flags & KMT_PTE_READ_ONLY) ? HW_PTE_READ_ONLY : 0);
	if (p->flags & KMT_PTE_SYSTEM)
		return HW_PTE_SYS(p->address >> HW_PAGE_SHIFT, flags);
	return HW_PTE_LOCAL(p->address, flags);
}

/* An entry does not say whether it is a directory: `dir` tells (the level). */
static void decode(uint64_t e, bool dir, struct kmt_pte *p)
{
	p->address = e & HW_VM_ADDR_MASK;
	p->flags = 0;
	if (!(e & HW_PTE_VALID)) {
		p->address = 0;
		return;
	}
	if (dir) {
		p->flags = KMT_PTE_VALID | KMT_PTE_TABLE;
		return;
	}
	p->flags = KMT_PTE_VALID | ((e & HW_PTE_READ_ONLY) ? KMT_PTE_READ_ONLY : 0) |
		   ((e & HW_PTE_SYSTEM) ? KMT_PTE_SYSTEM : 0);
}

/* Page-table entries and TLB flushes must land: an entry the books no longer
 * have, left valid in a table or a TLB, lets the GPU reach memory that is no
 * longer the allocation's (the API fuzzer found an unmap whose WRITE_DATA a DMA
 * error skipped: it answered STATUS_SUCCESS with 16 entries still valid). As a
 * copy is (copy_sync in paging.c), each is waited for and written again when the
 * engine skipped it on a fault; writing an entry or dropping TLB entries twice
 * is harmless. */
static int emit_landed(struct gsdrv *d, const uint32_t *p, uint32_t n)
{
	for (unsigned attempt = 0; attempt < GSDRV_PAGING_TRIES; attempt++) {
		uint64_t faults = d->paging_faults;
		d->paging_dirty = true;
		int rc = gsdrv_ring_emit(d, KMT_ENGINE_PAGING, p, n);
		if (!rc)
			rc = gsdrv_paging_flush(d, NULL);
		if (rc)
			return rc;
		if (d->paging_faults == faults)
			return 0;
	}
	return -EIO;
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
		if ((rc = emit_landed(d, p, 6)))
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
	rc = emit_landed(d, p, n);
	free(p);
	return rc;
}

int gsdrv_flush_tlb(struct gsdrv *d, const struct kmt_paging_op *op)
{
	uint32_t p[5];
	p[0] = HW_PKT_HEADER(HW_PKT_TLB_INVALIDATE, HW_PKT_TLBINV_ASID, 4);
	p[1] = op->asid & HW_VM_ASID_MASK;
	p[2] = p[3] = p[4] = 0;
	return emit_landed(d, p, 5);
}

int gsdrv_read_pte(void *drv, uint32_t seg, uint64_t offset, uint32_t index, bool dir, struct kmt_pte *out)
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
	decode(v, dir, out);
	return 0;
}
