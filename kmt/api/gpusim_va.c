/*
 * gpusim_va_query: what a GPU virtual address maps, for tools and scenarios that
 * must state it (the D3DKMT API has no such question: a driver knows what it
 * mapped). It reads the memory manager's books, which are exact at every call
 * boundary since paging is synchronous, and never the page tables or the TLB:
 * those may lag behind a queued update, and walking them would be a side effect
 * on the statistics.
 */
#include <config.h>

#include "kmt/core.h"

NTSTATUS gpusim_va_query(LUID luid, uint64_t va, D3DKMT_HANDLE *allocation, uint64_t *offset,
			 uint32_t *flags)
{
	D3DKMT_HANDLE h = 0;
	uint64_t off = 0;
	uint32_t fl = 0;
	NTSTATUS st = STATUS_INVALID_PARAMETER;

	KMT_ENTER();
	struct kmt_adapter *ad = kmt_adapter_by_luid(luid);
	if (!ad)
		goto out;
	const struct vidmm_va_space *vs = ad->va;
	/* Before the space exists (it is made on first use, and making it here would
	 * allocate page tables) the limit is the MMU's; without an MMU nothing is
	 * ever mapped, and every 64-bit address is simply unmapped. */
	uint64_t limit = vs ? vs->limit : ad->mm->has_mmu ? 1ull << ad->mm->mmu.va_bits : 0;
	if (limit && va >= limit)
		goto out;
	st = STATUS_SUCCESS;
	if (!vs)
		goto out;
	if (vidmm_va_tree_find(&vs->reserved, va))
		fl |= GPUSIM_VA_RESERVED;
	const struct vidmm_va_mapping *m = vidmm_va_lookup(vs, va);
	if (!m)
		goto out;
	fl |= GPUSIM_VA_MAPPED;
	if (m->read_only)
		fl |= GPUSIM_VA_READ_ONLY;
	if (!m->alloc) {
		fl |= GPUSIM_VA_KERNEL | GPUSIM_VA_PRESENT;
		goto out;
	}
	const struct kmt_alloc *owner = m->alloc->owner;
	h = owner ? owner->handle : 0;
	off = m->alloc_offset + (va - m->node.start);
	if (m->alloc->seg != VIDMM_SYS && m->alloc->seg != GPUSIM_SEG_NONE)
		fl |= GPUSIM_VA_PRESENT;
out:
	kmt_unlock();
	if (allocation)
		*allocation = h;
	if (offset)
		*offset = off;
	if (flags)
		*flags = fl;
	return st;
}
