/*
 * Monitored fence pages for the gsdrv driver: kernel-owned system pages mapped
 * into a slice of the aperture that the memory manager never sees, so that the
 * engines can write fence values the CPU reads from the same page. A signal on
 * the paging ring is a FENCE packet after the copies queued before it.
 */
#include <config.h>

#include <errno.h>

#include "kmt/gsdrv/gsdrv.h"

uint32_t gsdrv_fence_pages(void *drv)
{
	struct gsdrv *d = drv;
	return d->fence_pages;
}

uint64_t gsdrv_fence_page_gpu(void *drv, uint32_t index)
{
	struct gsdrv *d = drv;
	return d->cfg.gart_base + ((d->fence_page + index) << HW_PAGE_SHIFT);
}

int gsdrv_map_fence_page(void *drv, uint32_t index, uint64_t pfn, uint64_t *gpu)
{
	struct gsdrv *d = drv;
	if (index >= d->fence_pages)
		return -ENOSPC;
	if (hw_device_removed(d->hw))
		return -ENODEV;
	gsdrv_gart_map(d, d->fence_page + index, &pfn, 1);
	*gpu = gsdrv_fence_page_gpu(d, index);
	return 0;
}

void gsdrv_unmap_fence_page(void *drv, uint32_t index)
{
	struct gsdrv *d = drv;
	/* A removed device's BAR2 is gone, and nothing runs on it any more. */
	if (index < d->fence_pages && !hw_device_removed(d->hw))
		gsdrv_gart_unmap(d, d->fence_page + index, 1);
}

int gsdrv_signal_fence(struct gsdrv *d, uint64_t gpu, uint64_t value)
{
	uint32_t p[5];
	/* No interrupt: the kernel learns the value from memory when it looks. */
	p[0] = HW_PKT_HEADER(HW_PKT_FENCE, 0, 4);
	gsdrv_lo_hi(p + 1, gpu);
	gsdrv_lo_hi(p + 3, value);
	int rc = gsdrv_ring_emit(d, KMT_ENGINE_PAGING, p, 5);
	if (rc)
		return rc;
	/* The engine's own fence follows, so the ring's FENCE register and the
	 * driver's completed count keep meaning the paging sequence. */
	gsdrv_fence_emit(d, KMT_ENGINE_PAGING);
	d->paging_dirty = false;
	return 0;
}
