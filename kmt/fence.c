/*
 * Monitored fence storage. Windows keeps a monitored fence's value in memory that
 * the GPU writes and the process reads without a call; here that memory is a
 * kernel-owned system page of the simulated machine, 512 values to a page. The
 * driver gives each page a GPU address (gsdrv maps it into a slice of the
 * aperture the memory manager never sees), the kernel writes through its direct
 * map, and the caller gets a read-only mapping of the same page, so a write by
 * any of the three is seen by the others at once. A page is taken when a slot is
 * first needed and given back with its last slot.
 */
#include <config.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "kmt/core.h"
#include "kmt/procva.h"

struct kmt_fence_page {
	bool present;
	uint64_t pfn;
	uint64_t *kernel;                /* the direct map */
	uint64_t *user;                  /* a read-only alias */
	uint64_t gpu;
	uint32_t used;
	uint64_t bits[KMT_FENCE_SLOTS_PER_PAGE / 64];
};

static int pages_init(struct kmt_adapter *ad)
{
	if (ad->fence_pages)
		return 0;
	uint32_t n = ad->mm->ddi->fence_pages ? ad->mm->ddi->fence_pages(ad->mm->drv) : 0;
	if (!n)
		return -ENOSPC;
	ad->fence_pages = calloc(n, sizeof(*ad->fence_pages));
	if (!ad->fence_pages)
		return -ENOMEM;
	ad->nfence_pages = n;
	return 0;
}

/* Kernel and user views of page p, which holds system page pfn at GPU address gpu. */
static int page_attach(struct kmt_adapter *ad, struct kmt_fence_page *p, uint64_t pfn, uint64_t gpu)
{
	uint64_t *user = hw_sysmem_vmap(ad->hw, &pfn, 1);
	if (!user)
		return -ENOMEM;
	/* The caller may look, not touch: a store is a fault, as on Windows. */
	if (mprotect(user, HW_PAGE_SIZE, PROT_READ)) {
		hw_sysmem_vunmap(user, 1);
		return -ENOMEM;
	}
	p->present = true;
	p->pfn = pfn;
	p->kernel = hw_sysmem_page(ad->hw, pfn);
	p->user = user;
	p->gpu = gpu;
	p->used = 0;
	memset(p->bits, 0, sizeof(p->bits));
	return 0;
}

static int page_new(struct kmt_adapter *ad, uint32_t index)
{
	struct kmt_fence_page *p = &ad->fence_pages[index];
	uint64_t pfn, gpu;
	int rc = hw_sysmem_alloc(ad->hw, &pfn);
	if (rc)
		return rc;
	if ((rc = ad->mm->ddi->map_fence_page(ad->mm->drv, index, pfn, &gpu))) {
		hw_sysmem_free(ad->hw, pfn);
		return rc;
	}
	if ((rc = page_attach(ad, p, pfn, gpu))) {
		ad->mm->ddi->unmap_fence_page(ad->mm->drv, index);
		hw_sysmem_free(ad->hw, pfn);
		return rc;
	}
	/* GPU virtual addresses reach it too, once a VA space exists. */
	kmt_va_fence_page(ad, index, pfn, true);
	return 0;
}

static void page_release(struct kmt_adapter *ad, uint32_t index)
{
	struct kmt_fence_page *p = &ad->fence_pages[index];
	kmt_va_fence_page(ad, index, 0, false);
	ad->mm->ddi->unmap_fence_page(ad->mm->drv, index);
	hw_sysmem_vunmap(p->user, 1);
	hw_sysmem_free(ad->hw, p->pfn); /* zeroed: the next fence here starts clean */
	memset(p, 0, sizeof(*p));
}

static void slot_mark(struct kmt_fence_page *p, uint32_t i)
{
	p->bits[i / 64] |= 1ull << (i % 64);
	p->used++;
}

int kmt_fence_slot_alloc(struct kmt_adapter *ad, uint32_t *slot)
{
	int rc = pages_init(ad);
	if (rc)
		return rc;
	/* Fill pages in order, so that a run of fences shares as few as possible. */
	uint32_t free_index = UINT32_MAX;
	for (uint32_t pi = 0; pi < ad->nfence_pages; pi++) {
		struct kmt_fence_page *p = &ad->fence_pages[pi];
		if (!p->present) {
			if (free_index == UINT32_MAX)
				free_index = pi;
			continue;
		}
		if (p->used == KMT_FENCE_SLOTS_PER_PAGE)
			continue;
		for (uint32_t w = 0; w < KMT_FENCE_SLOTS_PER_PAGE / 64; w++)
			if (~p->bits[w]) {
				uint32_t i = w * 64 + (uint32_t)__builtin_ctzll(~p->bits[w]);
				slot_mark(p, i);
				p->kernel[i] = 0;
				*slot = pi * KMT_FENCE_SLOTS_PER_PAGE + i;
				return 0;
			}
	}
	if (free_index == UINT32_MAX)
		return -ENOSPC;
	if ((rc = page_new(ad, free_index)))
		return rc;
	slot_mark(&ad->fence_pages[free_index], 0);
	*slot = free_index * KMT_FENCE_SLOTS_PER_PAGE;
	return 0;
}

static struct kmt_fence_page *page_of(struct kmt_adapter *ad, uint32_t slot)
{
	uint32_t pi = slot / KMT_FENCE_SLOTS_PER_PAGE;
	if (slot == KMT_NO_SLOT || pi >= ad->nfence_pages || !ad->fence_pages[pi].present)
		return NULL;
	return &ad->fence_pages[pi];
}

void kmt_fence_slot_free(struct kmt_adapter *ad, uint32_t slot)
{
	struct kmt_fence_page *p = page_of(ad, slot);
	uint32_t i = slot % KMT_FENCE_SLOTS_PER_PAGE;
	if (!p || !(p->bits[i / 64] & (1ull << (i % 64))))
		return;
	p->bits[i / 64] &= ~(1ull << (i % 64));
	p->kernel[i] = 0;
	if (--p->used == 0)
		page_release(ad, slot / KMT_FENCE_SLOTS_PER_PAGE);
}

uint64_t *kmt_fence_kernel(struct kmt_adapter *ad, uint32_t slot)
{
	struct kmt_fence_page *p = page_of(ad, slot);
	return p ? &p->kernel[slot % KMT_FENCE_SLOTS_PER_PAGE] : NULL;
}

const uint64_t *kmt_fence_user(struct kmt_adapter *ad, uint32_t slot)
{
	struct kmt_fence_page *p = page_of(ad, slot);
	return p ? &p->user[slot % KMT_FENCE_SLOTS_PER_PAGE] : NULL;
}

int kmt_fence_storage(struct kmt_adapter *ad, uint32_t slot, struct kmt_fence_storage *out)
{
	struct kmt_fence_page *p = page_of(ad, slot);
	if (!p)
		return -EINVAL;
	out->pfn = p->pfn;
	out->offset = (slot % KMT_FENCE_SLOTS_PER_PAGE) * 8u;
	out->gpu = p->gpu + out->offset;
	return 0;
}

bool kmt_fence_page_pfn(struct kmt_adapter *ad, uint32_t index, uint64_t *pfn)
{
	if (index >= ad->nfence_pages || !ad->fence_pages[index].present)
		return false;
	*pfn = ad->fence_pages[index].pfn;
	return true;
}

int kmt_fence_page_restore(struct kmt_adapter *ad, uint32_t index, uint64_t pfn)
{
	int rc = pages_init(ad);
	if (rc)
		return rc;
	if (index >= ad->nfence_pages || ad->fence_pages[index].present || !hw_sysmem_page(ad->hw, pfn))
		return -EINVAL;
	return page_attach(ad, &ad->fence_pages[index], pfn, ad->mm->ddi->fence_page_gpu(ad->mm->drv, index));
}

int kmt_fence_slot_take(struct kmt_adapter *ad, uint32_t slot)
{
	struct kmt_fence_page *p = page_of(ad, slot);
	uint32_t i = slot % KMT_FENCE_SLOTS_PER_PAGE;
	if (!p || (p->bits[i / 64] & (1ull << (i % 64))))
		return -EINVAL;
	slot_mark(p, i);
	return 0;
}

void kmt_fence_fini(struct kmt_adapter *ad)
{
	/* The device and its memory go with the adapter: only the aliases remain. */
	for (uint32_t i = 0; i < ad->nfence_pages; i++)
		if (ad->fence_pages[i].present)
			hw_sysmem_vunmap(ad->fence_pages[i].user, 1);
	free(ad->fence_pages);
	ad->fence_pages = NULL;
	ad->nfence_pages = 0;
}

uint64_t kmt_sync_value(const struct kmt_sync *s)
{
	return s->cpu_value ? __atomic_load_n(s->cpu_value, __ATOMIC_ACQUIRE) : s->value;
}

void kmt_sync_set(struct kmt_sync *s, uint64_t value)
{
	s->value = value;
	if (s->cpu_value) {
		__atomic_store_n(s->cpu_value, value, __ATOMIC_RELEASE);
		/* An engine may be stalled in a WAIT on this value. */
		const struct kmt_ddi *ddi = s->dev->ad->mm->ddi;
		if (ddi->memory_written)
			ddi->memory_written(s->dev->ad->mm->drv);
	}
}

void kmt_fence_poll(struct kmt_adapter *ad)
{
	/* Values only the GPU writes (paging fences) are learnt here, by looking:
	 * the event's time is when the kernel saw the value, not when it landed. */
	for (struct kmt_device *d = ad->devices; d; d = d->next)
		for (struct kmt_sync *s = d->syncs; s; s = s->next) {
			if (!s->cpu_value)
				continue;
			uint64_t v = kmt_sync_value(s);
			if (v == s->value)
				continue;
			s->value = v;
			if (ad->nlisteners) {
				struct gpusim_event ev = {
					.type = GPUSIM_EV_SIGNAL, .cause = GPUSIM_CAUSE_GPU,
					.time_ns = hw_clock_now(ad->hw), .device = d->handle,
					.allocation = s->handle, .value = v,
				};
				kmt_emit(ad, &ev);
			}
		}
	kmt_cpu_wait_poll(ad);
}
