/*
 * The manager's life cycle and bookkeeping: segments from the driver, creating
 * and destroying allocations (commit charge first, then placement), usage and
 * budgets, events, and the invariant check the property tests lean on.
 */
#include <config.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kmt/vidmm/vidmm.h"

int vidmm_create(struct hw_device *hw, const struct kmt_ddi *ddi, const struct kmt_driver_options *opt,
		 const char *policy, struct vidmm **out)
{
	struct kmt_segment_desc segs[KMT_MAX_SEGMENTS];
	uint32_t nsegs = 0;
	const struct vidmm_policy_ops *pol = vidmm_policy_find(policy);
	if (!pol)
		return -EINVAL;
	struct vidmm *mm = calloc(1, sizeof(*mm));
	if (!mm)
		return -ENOMEM;
	mm->hw = hw;
	mm->ddi = ddi;
	mm->policy = pol;
	int rc = ddi->start(hw, opt, &mm->drv, segs, &nsegs);
	if (rc) {
		free(mm);
		return rc;
	}
	/* A driver without a GPU MMU leaves GPU virtual addresses unsupported. */
	mm->has_mmu = ddi->mmu_caps && ddi->read_pte && !ddi->mmu_caps(mm->drv, &mm->mmu);
	mm->policy_state = pol->create();
	if (!mm->policy_state) {
		vidmm_destroy(mm);
		return -ENOMEM;
	}
	for (uint32_t i = 0; i < nsegs; i++) {
		uint32_t id = segs[i].id;
		if (id == 0 || id >= VIDMM_SEG_MAX || id == VIDMM_SYS || mm->seg[id].present || !segs[i].size) {
			vidmm_destroy(mm); /* a driver bug: ids are unique, sys is not one */
			return -EINVAL;
		}
		struct vidmm_segment *s = &mm->seg[id];
		s->id = segs[i].id;
		s->desc = segs[i];
		s->present = true;
		if ((rc = vidmm_suballoc_create(segs[i].size, HW_PAGE_SIZE, &s->sa))) {
			vidmm_destroy(mm);
			return rc;
		}
		if (s->desc.vram)
			mm->budget_local += s->desc.size;
		else
			mm->budget_nonlocal += s->desc.size;
	}
	*out = mm;
	return 0;
}

void vidmm_destroy(struct vidmm *mm)
{
	if (!mm)
		return;
	while (mm->va_spaces)
		vidmm_va_space_destroy(mm, mm->va_spaces);
	for (int i = 1; i < VIDMM_SEG_MAX; i++)
		vidmm_suballoc_destroy(mm->seg[i].sa);
	if (mm->policy_state)
		mm->policy->destroy(mm->policy_state);
	if (mm->drv)
		mm->ddi->stop(mm->drv);
	free(mm);
}

void vidmm_set_listener(struct vidmm *mm, vidmm_emit_fn fn, void *ctx, bool listening)
{
	mm->emit = fn;
	mm->emit_ctx = ctx;
	mm->listening = listening && fn;
}

void vidmm_emit(struct vidmm *mm, uint32_t type, uint32_t cause, const struct vidmm_alloc *a,
		uint32_t from)
{
	vidmm_emit_paging(mm, type, cause, a, from, 0);
}

void vidmm_emit_paging(struct vidmm *mm, uint32_t type, uint32_t cause, const struct vidmm_alloc *a,
		       uint32_t from, uint64_t copied)
{
	if (!mm->listening || (a && (a->flags & VIDMM_ALLOC_KERNEL) &&
			       (type == GPUSIM_EV_CREATE || type == GPUSIM_EV_DESTROY)))
		return;
	struct gpusim_event ev = {
		.type = type,
		.cause = cause,
		.time_ns = mm->ddi->now(mm->drv),
		.device = a ? a->device : 0,
		.allocation = a ? a->handle : 0,
		.segment = a ? a->seg : 0,
		.from_segment = from,
		.offset = a ? a->offset : 0,
		.size = a ? a->size : 0,
		.value = copied,
		.priority = a ? a->priority : 0,
		.preferred = a && a->pl.n ? a->pl.seg[0] : 0,
	};
	mm->emit(mm->emit_ctx, &ev);
}

int vidmm_group(const struct vidmm *mm, const struct vidmm_alloc *a)
{
	return a->pl.n && mm->seg[a->pl.seg[0]].desc.vram ? 0 : 1;
}

uint64_t vidmm_usage(const struct vidmm *mm, int group)
{
	uint64_t used = 0;
	for (uint32_t s = 1; s < VIDMM_SEG_MAX; s++)
		if (mm->seg[s].present && mm->seg[s].desc.vram == !group)
			used += mm->seg[s].used;
	return used;
}

uint64_t vidmm_gpu_address(struct vidmm *mm, const struct vidmm_alloc *a)
{
	if (a->seg == VIDMM_SYS)
		return 0;
	return mm->ddi->gpu_address(mm->drv, a->seg, a->offset);
}

int vidmm_alloc_check(const struct vidmm *mm, const struct kmt_alloc_desc *d)
{
	/* The driver's placement, checked against what the segments can do: a
	 * driver that names a segment twice, one it does not have, or one whose
	 * base cannot give the alignment has a bug the manager will not hide. */
	const struct kmt_placement *pl = &d->placement;
	if (!pl->n || pl->n > KMT_PLACE_MAX || !pl->npref || pl->npref > pl->n)
		return -EINVAL;
	uint32_t seen = 0;
	bool fits = false;
	for (uint32_t i = 0; i < pl->n; i++) {
		uint32_t s = pl->seg[i];
		if (s == 0 || s >= VIDMM_SEG_MAX || !mm->seg[s].present || (seen & (1u << s)) ||
		    mm->seg[s].desc.base_align < d->align)
			return -EINVAL;
		seen |= 1u << s;
		/* Not fitting its segments even when they are empty is where
		 * virtualization fails. */
		fits |= d->size <= mm->seg[s].desc.size;
	}
	return fits ? 0 : -ENOSPC;
}

int vidmm_alloc_init(struct vidmm *mm, struct vidmm_alloc *a, const struct kmt_alloc_desc *d)
{
	uint32_t handle = a->handle, device = a->device;
	void *owner = a->owner;
	memset(a, 0, sizeof(*a));
	a->handle = handle;
	a->device = device;
	a->owner = owner;
	a->size = d->size;
	a->align = d->align;
	a->flags = d->flags;
	a->priority = d->priority ? d->priority : 0x78000000u; /* D3DDDI_ALLOCATIONPRIORITY_NORMAL */
	a->seg = VIDMM_SYS;

	int rc = vidmm_alloc_check(mm, d);
	if (rc)
		return rc;
	a->pl = d->placement;
	/* Commit charge: the backing store exists before anything can need it, so an
	 * eviction never fails for lack of memory. */
	uint64_t pages = a->size >> HW_PAGE_SHIFT;
	if (hw_sysmem_reserve(mm->hw, pages))
		return -ENOMEM;
	mm->mark_gen++;
	/* What a caller asked to keep resident stays: only a Render may push it out. */
	rc = vidmm_place(mm, a, true, GPUSIM_CAUSE_CREATE);
	if (rc == -ENOSPC && !(a->flags & GPUSIM_ALLOC_PINNED))
		rc = 0; /* it lives in its backing store until first use */
	if (rc) {
		vidmm_put_pages(mm, a);
		hw_sysmem_unreserve(mm->hw, pages);
		return rc;
	}
	mm->stats.allocations++;
	mm->stats.commit_pages += pages;
	vidmm_emit(mm, GPUSIM_EV_CREATE, GPUSIM_CAUSE_CREATE, a, GPUSIM_SEG_NONE);
	return 0;
}

void vidmm_alloc_prefetch(const struct vidmm *mm, const struct vidmm_alloc *a)
{
	/*
	 * With a million allocations each of these is a cache miss, and the fini
	 * reaches them only after some two hundred instructions of bookkeeping
	 * that wait on the allocation's own lines: fetched now, they arrive soon
	 * after those lines instead of one miss after another. (perf at L = 10^6:
	 * the queue unlink went from 13% of the samples to 3%.) The queue links are
	 * the ones queue.c unlinks through (pol_prev/pol_next); a policy that uses
	 * them otherwise only makes this hint useless, as prefetches never fault.
	 */
	if (a->seg != VIDMM_SYS && a->seg < VIDMM_SEG_MAX)
		vidmm_suballoc_prefetch(mm->seg[a->seg].sa, a->block);
	if (a->pol_prev)
		__builtin_prefetch(&a->pol_prev->pol_next, 1);
	if (a->pol_next)
		__builtin_prefetch(&a->pol_next->pol_prev, 1);
}

void vidmm_alloc_fini(struct vidmm *mm, struct vidmm_alloc *a)
{
	uint64_t pages = a->size >> HW_PAGE_SHIFT;
	if (vidmm_busy(mm, a))
		mm->ddi->wait_fence(mm->drv, KMT_ENGINE_RENDER, a->last_fence);
	vidmm_va_alloc_gone(mm, a);
	while (a->lock_count)
		vidmm_unlock(mm, a);
	uint32_t from = a->seg;
	if (a->seg != VIDMM_SYS) {
		if (mm->seg[a->seg].desc.aperture)
			vidmm_unmap_aperture(mm, a->seg, a->offset, a->size);
		vidmm_leave_segment(mm, a);
	}
	vidmm_put_pages(mm, a);
	hw_sysmem_unreserve(mm->hw, pages);
	mm->stats.allocations--;
	mm->stats.commit_pages -= pages;
	a->seg = GPUSIM_SEG_NONE;
	vidmm_emit(mm, GPUSIM_EV_DESTROY, GPUSIM_CAUSE_DESTROY, a, from);
}

static int fail(char *err, size_t len, const char *fmt, unsigned long long x, unsigned long long y)
{
	if (err && len)
		snprintf(err, len, fmt, x, y);
	return -EFAULT;
}

/* The caller's allocations, then the kernel's own (the page tables). */
struct check_walk {
	vidmm_alloc_iter next;
	void *ctx;
	struct vidmm_alloc **kernel;
	uint64_t nkernel, cap, at;
	bool oom;
};

static int collect_table(void *ctx, struct vidmm_alloc *a)
{
	struct check_walk *w = ctx;
	if (w->nkernel == w->cap) {
		uint64_t cap = w->cap ? 2 * w->cap : 16;
		struct vidmm_alloc **k = realloc(w->kernel, cap * sizeof(*k));
		if (!k) {
			w->oom = true;
			return -ENOMEM;
		}
		w->kernel = k;
		w->cap = cap;
	}
	w->kernel[w->nkernel++] = a;
	return 0;
}

static int check_next(void *ctx, struct vidmm_alloc **out)
{
	struct check_walk *w = ctx;
	if (w->next) {
		int rc = w->next(w->ctx, out);
		if (rc || *out)
			return rc;
		w->next = NULL;
	}
	*out = w->at < w->nkernel ? w->kernel[w->at++] : NULL;
	return 0;
}

static int check_books(struct vidmm *mm, vidmm_alloc_iter next, void *ctx, char *err, size_t errlen);

int vidmm_check(struct vidmm *mm, vidmm_alloc_iter next, void *ctx, char *err, size_t errlen)
{
	struct check_walk w = { .next = next, .ctx = ctx };
	vidmm_va_each_table(mm, collect_table, &w);
	int rc = w.oom ? -ENOMEM : check_books(mm, check_next, &w, err, errlen);
	free(w.kernel);
	for (struct vidmm_va_space *vs = mm->va_spaces; vs && !rc; vs = vs->next)
		rc = vidmm_va_check(mm, vs, err, errlen);
	return rc;
}

static int check_books(struct vidmm *mm, vidmm_alloc_iter next, void *ctx, char *err, size_t errlen)
{
	uint64_t used[VIDMM_SEG_MAX] = { 0 }, count[VIDMM_SEG_MAX] = { 0 };
	uint64_t pinned[VIDMM_SEG_MAX] = { 0 };
	uint64_t commit = 0, held = 0, n = 0, resident[2] = { 0, 0 };
	struct vidmm_alloc *a;
	for (int s = 1; s < VIDMM_SEG_MAX; s++) {
		if (!mm->seg[s].present)
			continue;
		int rc = vidmm_suballoc_check(mm->seg[s].sa, err, errlen);
		if (rc)
			return rc;
	}
	while (next(ctx, &a) == 0 && a) {
		n++;
		commit += a->size >> HW_PAGE_SHIFT;
		if (a->pages)
			held += a->size >> HW_PAGE_SHIFT;
		/* The budget counts memory some handle made resident, once. */
		if (a->resident_count)
			resident[vidmm_group(mm, a)] += a->size;
		if (a->seg == VIDMM_SYS)
			continue;
		if (a->seg < 1 || a->seg >= VIDMM_SEG_MAX || !mm->seg[a->seg].present)
			return fail(err, errlen, "allocation %llu in unknown segment %llu", a->handle, a->seg);
		struct vidmm_segment *s = &mm->seg[a->seg];
		if (vidmm_suballoc_offset(s->sa, a->block) != a->offset ||
		    vidmm_suballoc_size(s->sa, a->block) != a->size)
			return fail(err, errlen, "allocation %llu: block disagrees with offset %llu",
				    a->handle, a->offset);
		if (a->offset % a->align)
			return fail(err, errlen, "allocation %llu misaligned at %llu", a->handle, a->offset);
		/* VRAM holds its own bytes; an aperture maps the backing pages. */
		if (mm->seg[a->seg].desc.aperture != (a->pages != NULL))
			return fail(err, errlen, "allocation %llu in segment %llu holds the wrong pages",
				    a->handle, a->seg);
		used[a->seg] += a->size;
		count[a->seg]++;
		if (a->flags & GPUSIM_ALLOC_PINNED)
			pinned[a->seg] += a->size;
	}
	for (int s = 1; s < VIDMM_SEG_MAX; s++) {
		struct vidmm_suballoc_stats st;
		if (!mm->seg[s].present)
			continue;
		vidmm_suballoc_get_stats(mm->seg[s].sa, &st);
		if (used[s] != mm->seg[s].used || st.used != used[s] || count[s] != mm->seg[s].count ||
		    st.allocations != count[s] || pinned[s] != mm->seg[s].pinned)
			return fail(err, errlen, "segment %llu: allocations add up to %llu bytes, books disagree",
				    (unsigned long long)s, used[s]);
	}
	if (n != mm->stats.allocations || commit != mm->stats.commit_pages)
		return fail(err, errlen, "%llu allocations, but the books count %llu", n, mm->stats.allocations);
	/* The budget MakeResident is refused against: every byte of it must belong
	 * to a live allocation some handle keeps resident, or it is lost for good. */
	if (resident[0] != mm->resident_local)
		return fail(err, errlen, "resident allocations add up to %llu local bytes, the budget counts %llu",
			    resident[0], mm->resident_local);
	if (resident[1] != mm->resident_nonlocal)
		return fail(err, errlen, "resident allocations add up to %llu non-local bytes, the budget counts %llu",
			    resident[1], mm->resident_nonlocal);
	if (hw_sysmem_pages_reserved(mm->hw) + held != commit)
		return fail(err, errlen, "commit charge %llu pages, but reserved + held = %llu", commit,
			    hw_sysmem_pages_reserved(mm->hw) + held);
	return 0;
}
