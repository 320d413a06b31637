/*
 * Paging for the gsdrv driver: GART entries, and transfers through the copy
 * engine. The copy engine reaches system pages only through the aperture, so a
 * backing store is mapped chunk by chunk into a small paging window, as TTM does.
 * A read-only allocation's pages are mapped without write access.
 */
#include <config.h>

#include <errno.h>
#include <string.h>

#include <gpusim/gpusim.h>
#include "kmt/gsdrv/gsdrv.h"

uint64_t gsdrv_gpu_address(void *drv, uint32_t seg, uint64_t offset)
{
	struct gsdrv *d = drv;
	switch (seg) {
	case GPUSIM_SEG_VISIBLE: return d->reserved + offset;
	case GPUSIM_SEG_INVISIBLE: return d->cfg.visible + offset;
	case GPUSIM_SEG_VRAM2: return d->cfg.visible + d->invisible_size + offset;
	case GPUSIM_SEG_GART: return d->cfg.gart_base + offset;
	default: return UINT64_MAX;
	}
}

static uint8_t *gart_table(struct gsdrv *d)
{
	return hw_bar2_map(d->hw, GSDRV_GART_TABLE_OFF, (d->cfg.gart >> HW_PAGE_SHIFT) * 8);
}

/* `access`: HW_GART_READ and/or HW_GART_WRITE for every page mapped. */
static void gart_set(struct gsdrv *d, uint64_t page, const uint64_t *pfns, uint64_t n, uint64_t access)
{
	uint8_t *table = gart_table(d);
	for (uint64_t i = 0; i < n; i++) {
		uint64_t e = pfns ? HW_GART_ENTRY(pfns[i], HW_GART_VALID | access) : 0;
		memcpy(table + (page + i) * 8, &e, 8);
	}
	/* One register write flushes everything; cheaper than n single flushes. */
	hw_mmio_write(d->hw, HW_REG_TLB_INVALIDATE,
		      n == 1 ? (uint32_t)page : HW_TLB_INVALIDATE_ALL);
}

void gsdrv_gart_map(struct gsdrv *d, uint64_t page, const uint64_t *pfns, uint64_t n)
{
	gart_set(d, page, pfns, n, HW_GART_READ | HW_GART_WRITE);
}

void gsdrv_gart_unmap(struct gsdrv *d, uint64_t page, uint64_t n)
{
	gart_set(d, page, NULL, n, 0);
}

/* Give the valid entries of a range write access, or take it away. Returns
 * whether an entry changed: a read-only allocation is mapped read-only whole, so
 * the driver's own copy into it opens the range and closes it again after. */
static bool gart_write_access(struct gsdrv *d, uint64_t page, uint64_t n, bool on)
{
	uint8_t *table = gart_table(d);
	bool changed = false;
	for (uint64_t i = 0; i < n; i++) {
		uint64_t e;
		memcpy(&e, table + (page + i) * 8, 8);
		if (!(e & HW_GART_VALID) || !(e & HW_GART_WRITE) == !on)
			continue;
		e = on ? e | HW_GART_WRITE : e & ~HW_GART_WRITE;
		memcpy(table + (page + i) * 8, &e, 8);
		changed = true;
	}
	if (changed)
		hw_mmio_write(d->hw, HW_REG_TLB_INVALIDATE, n == 1 ? (uint32_t)page : HW_TLB_INVALIDATE_ALL);
	return changed;
}

static int emit_copy(struct gsdrv *d, uint64_t src, uint64_t dst, uint64_t bytes)
{
	uint32_t p[7];
	p[0] = HW_PKT_HEADER(HW_PKT_COPY, 0, 6);
	gsdrv_lo_hi(p + 1, src);
	gsdrv_lo_hi(p + 3, dst);
	gsdrv_lo_hi(p + 5, bytes);
	d->paging_dirty = true;
	return gsdrv_ring_emit(d, KMT_ENGINE_PAGING, p, 7);
}

int gsdrv_paging_flush(void *drv, uint64_t *fence)
{
	struct gsdrv *d = drv;
	uint64_t v = d->rings[KMT_ENGINE_PAGING].submitted;
	if (d->paging_dirty) {
		v = gsdrv_fence_emit(d, KMT_ENGINE_PAGING);
		d->paging_dirty = false;
	}
	if (fence)
		*fence = v;
	return gsdrv_wait_fence(d, KMT_ENGINE_PAGING, v);
}

/* One copy, waited for. A copy the engine skipped on a fault (a DMA error) is
 * redone: the bytes of an allocation must never be lost to a transient error,
 * and its placement only changes once its bytes have arrived. */
static int copy_sync(struct gsdrv *d, uint64_t src, uint64_t dst, uint64_t bytes)
{
	for (unsigned attempt = 0; attempt < GSDRV_PAGING_TRIES; attempt++) {
		uint64_t faults = d->paging_faults;
		int rc = emit_copy(d, src, dst, bytes);
		if (!rc)
			rc = gsdrv_paging_flush(d, NULL);
		if (rc)
			return rc;
		if (d->paging_faults == faults)
			return 0;
	}
	return -EIO;
}

/* sys <-> GPU memory through the window, one window-full at a time. */
static int transfer_sys(struct gsdrv *d, const uint64_t *pages, uint64_t gpu, uint64_t size, bool to_sys)
{
	uint64_t win_gpu = d->cfg.gart_base + (d->window_page << HW_PAGE_SHIFT);
	for (uint64_t done = 0; done < size;) {
		uint64_t n = (size - done) >> HW_PAGE_SHIFT;
		if (n > d->window_pages)
			n = d->window_pages;
		int rc = gsdrv_paging_flush(d, NULL); /* the window's previous user is done */
		if (rc)
			return rc;
		gsdrv_gart_map(d, d->window_page, pages + (done >> HW_PAGE_SHIFT), n);
		uint64_t bytes = n << HW_PAGE_SHIFT;
		rc = to_sys ? copy_sync(d, gpu + done, win_gpu, bytes) : copy_sync(d, win_gpu, gpu + done, bytes);
		if (rc)
			return rc;
		done += bytes;
	}
	return 0;
}

static int transfer(struct gsdrv *d, const struct kmt_paging_op *op)
{
	if (op->src.seg == GPUSIM_SEG_SYS && op->dst.seg == GPUSIM_SEG_SYS)
		return -EINVAL;
	if (op->src.seg == GPUSIM_SEG_SYS)
		return transfer_sys(d, op->src.pages, gsdrv_gpu_address(d, op->dst.seg, op->dst.offset),
				    op->size, false);
	if (op->dst.seg == GPUSIM_SEG_SYS)
		return transfer_sys(d, op->dst.pages, gsdrv_gpu_address(d, op->src.seg, op->src.offset),
				    op->size, true);
	if (op->dst.seg == GPUSIM_SEG_GART) {
		/* Into a range just mapped, perhaps read-only: the kernel may write it. */
		uint64_t page = op->dst.offset >> HW_PAGE_SHIFT, n = op->size >> HW_PAGE_SHIFT;
		bool opened = gart_write_access(d, page, n, true);
		int rc = copy_sync(d, gsdrv_gpu_address(d, op->src.seg, op->src.offset),
				   gsdrv_gpu_address(d, op->dst.seg, op->dst.offset), op->size);
		if (opened)
			gart_write_access(d, page, n, false);
		return rc;
	}
	return copy_sync(d, gsdrv_gpu_address(d, op->src.seg, op->src.offset),
			 gsdrv_gpu_address(d, op->dst.seg, op->dst.offset), op->size);
}

int gsdrv_build_paging_buffer(void *drv, const struct kmt_paging_op *op)
{
	struct gsdrv *d = drv;
	if (hw_device_removed(d->hw))
		return -ENODEV;
	switch (op->type) {
	case KMT_PAGING_MAP_APERTURE:
		gart_set(d, op->dst.offset >> HW_PAGE_SHIFT, op->pages, op->size >> HW_PAGE_SHIFT,
			 (op->flags & GPUSIM_ALLOC_READ_ONLY) ? HW_GART_READ : HW_GART_READ | HW_GART_WRITE);
		return 0;
	case KMT_PAGING_UNMAP_APERTURE:
		gsdrv_gart_unmap(d, op->dst.offset >> HW_PAGE_SHIFT, op->size >> HW_PAGE_SHIFT);
		return 0;
	case KMT_PAGING_UPDATE_PAGE_TABLE:
		return gsdrv_update_page_table(d, op);
	case KMT_PAGING_FLUSH_TLB:
		return gsdrv_flush_tlb(d, op);
	case KMT_PAGING_SIGNAL_FENCE:
		return gsdrv_signal_fence(d, op->fence_gpu, op->value);
	case KMT_PAGING_TRANSFER: {
		int rc = transfer(d, op);
		/* A transfer through the window that failed part-way has written some
		 * window-fulls: the caller gives the destination back, and what is given
		 * back must read as zero, not as half an allocation. (A system-page
		 * destination is zeroed when its pages are freed.) */
		if (rc)
			gsdrv_discard(d, op->dst.seg, op->dst.offset, op->size);
		return rc;
	}
	default:
		return -EINVAL;
	}
}
