/*
 * The process's GPU VA space per adapter and the kernel's range in it: see
 * kmt/procva.h. The range holds one page per monitored fence page the driver
 * offers (kmt_ddi.fence_pages), at the top of the space, out of the way of
 * first-fit reservations, which start at the bottom.
 */
#include <config.h>

#include <errno.h>

#include "kmt/procva.h"

static uint32_t fence_pages(struct kmt_adapter *ad)
{
	return ad->mm->ddi->fence_pages ? ad->mm->ddi->fence_pages(ad->mm->drv) : 0;
}

static uint64_t fence_base(struct kmt_adapter *ad)
{
	return (1ull << ad->mm->mmu.va_bits) - (uint64_t)fence_pages(ad) * HW_PAGE_SIZE;
}

int kmt_va_space(struct kmt_adapter *ad, struct vidmm_va_space **out)
{
	if (ad->va) {
		*out = ad->va;
		return 0;
	}
	struct vidmm_va_space *vs;
	int rc = vidmm_va_space_create(ad->mm, &vs);
	if (rc)
		return rc;
	uint32_t n = fence_pages(ad);
	if (n)
		rc = vidmm_va_reserve_kernel(ad->mm, vs, fence_base(ad), (uint64_t)n * HW_PAGE_SIZE);
	for (uint32_t i = 0; i < n && !rc; i++) {
		uint64_t pfn;
		if (kmt_fence_page_pfn(ad, i, &pfn))
			rc = vidmm_va_map_system(ad->mm, vs, fence_base(ad) + (uint64_t)i * HW_PAGE_SIZE, pfn);
	}
	if (rc) {
		vidmm_va_space_destroy(ad->mm, vs);
		return rc;
	}
	ad->va = vs;
	*out = vs;
	return 0;
}

uint64_t kmt_fence_gpu_va(struct kmt_adapter *ad, uint32_t slot)
{
	if (!vidmm_va_supported(ad->mm) || slot == KMT_NO_SLOT || slot / KMT_FENCE_SLOTS_PER_PAGE >= fence_pages(ad))
		return 0;
	return fence_base(ad) + 8ull * slot;
}

void kmt_va_fence_page(struct kmt_adapter *ad, uint32_t index, uint64_t pfn, bool present)
{
	if (!ad->va)
		return;
	uint64_t va = fence_base(ad) + (uint64_t)index * HW_PAGE_SIZE;
	/* Failing here means the device is gone; the books still follow. */
	if (present)
		vidmm_va_map_system(ad->mm, ad->va, va, pfn);
	else
		vidmm_va_unmap_system(ad->mm, ad->va, va);
}
