/*
 * Placement, eviction and moves: the heart of the manager. Placement tries the
 * preferred segments without evicting, then evicts from them in order (victims by
 * policy), then falls back to the other allowed segments. Every move of data goes
 * through the driver's copy engine; the bytes of a GART allocation stay in their
 * system pages, so GART <-> sys is a remap, not a copy.
 */
#include <config.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "kmt/vidmm/vidmm.h"

static bool is_vram(uint32_t seg)
{
	return seg == GPUSIM_SEG_VISIBLE || seg == GPUSIM_SEG_INVISIBLE;
}

bool vidmm_busy(struct vidmm *mm, struct vidmm_alloc *a)
{
	return a->last_fence > mm->ddi->completed_fence(mm->drv, KMT_ENGINE_RENDER);
}

/* The GPU must be done with an allocation before its bytes move. */
static int wait_idle(struct vidmm *mm, struct vidmm_alloc *a)
{
	if (!vidmm_busy(mm, a))
		return 0;
	return mm->ddi->wait_fence(mm->drv, KMT_ENGINE_RENDER, a->last_fence);
}

static int get_pages(struct vidmm *mm, struct vidmm_alloc *a)
{
	uint64_t n = a->size >> HW_PAGE_SHIFT;
	if (a->pages)
		return 0;
	a->pages = malloc(n * sizeof(*a->pages));
	if (!a->pages)
		return -ENOMEM;
	for (uint64_t i = 0; i < n; i++) {
		/* Cannot fail: vidmm_alloc_init reserved one page per page of size. */
		if (hw_sysmem_alloc_reserved(mm->hw, &a->pages[i])) {
			while (i--)
				hw_sysmem_free_reserved(mm->hw, a->pages[i]);
			free(a->pages);
			a->pages = NULL;
			return -ENOMEM;
		}
	}
	return 0;
}

void vidmm_put_pages(struct vidmm *mm, struct vidmm_alloc *a)
{
	if (!a->pages)
		return;
	hw_sysmem_free_reserved_pages(mm->hw, a->pages, a->size >> HW_PAGE_SHIFT);
	free(a->pages);
	a->pages = NULL;
}

void vidmm_leave_segment(struct vidmm *mm, struct vidmm_alloc *a)
{
	struct vidmm_segment *s = &mm->seg[a->seg];
	if (a->has_data && mm->ddi->discard) /* never written: nothing there but zeros */
		mm->ddi->discard(mm->drv, a->seg, a->offset, a->size);
	mm->policy->remove(mm->policy_state, a);
	vidmm_suballoc_free(s->sa, a->block);
	s->used -= a->size;
	s->count--;
	if (a->flags & GPUSIM_ALLOC_PINNED)
		s->pinned -= a->size;
}

static void enter_segment(struct vidmm *mm, struct vidmm_alloc *a, uint32_t seg, uint32_t block, uint64_t off)
{
	struct vidmm_segment *s = &mm->seg[seg];
	a->seg = seg;
	a->block = block;
	a->offset = off;
	s->used += a->size;
	s->count++;
	if (a->flags & GPUSIM_ALLOC_PINNED)
		s->pinned += a->size;
	a->last_use = ++mm->tick;
	mm->policy->insert(mm->policy_state, a);
}

static int paging(struct vidmm *mm, const struct kmt_paging_op *op)
{
	int rc = mm->ddi->build_paging_buffer(mm->drv, op);
	if (!rc && op->type == KMT_PAGING_TRANSFER)
		rc = mm->ddi->paging_flush(mm->drv, NULL);
	return rc;
}

static int map_aperture(struct vidmm *mm, struct vidmm_alloc *a, uint64_t off)
{
	struct kmt_paging_op op = { .type = KMT_PAGING_MAP_APERTURE, .size = a->size,
				    .dst = { GPUSIM_SEG_GART, off, NULL }, .pages = a->pages,
				    .flags = a->flags };
	return paging(mm, &op);
}

int vidmm_unmap_aperture(struct vidmm *mm, uint64_t off, uint64_t size)
{
	struct kmt_paging_op op = { .type = KMT_PAGING_UNMAP_APERTURE, .size = size,
				    .dst = { GPUSIM_SEG_GART, off, NULL } };
	return paging(mm, &op);
}

int vidmm_evict(struct vidmm *mm, struct vidmm_alloc *a, uint32_t cause)
{
	int rc;
	uint32_t from = a->seg;
	uint64_t copied = 0;
	if (from == GPUSIM_SEG_SYS)
		return 0;
	if ((a->flags & GPUSIM_ALLOC_PINNED) || a->lock_count)
		return -EBUSY;
	if ((rc = wait_idle(mm, a)))
		return rc;
	if (is_vram(from)) {
		if ((rc = get_pages(mm, a)))
			return rc;
		if (a->has_data) {
			struct kmt_paging_op op = { .type = KMT_PAGING_TRANSFER, .size = a->size,
						    .src = { from, a->offset, NULL },
						    .dst = { GPUSIM_SEG_SYS, 0, a->pages } };
			if ((rc = paging(mm, &op))) {
				vidmm_put_pages(mm, a); /* it stays in VRAM, with its bytes */
				return rc;
			}
			mm->stats.bytes_out += a->size;
			copied = a->size;
		}
	} else if ((rc = vidmm_unmap_aperture(mm, a->offset, a->size))) {
		return rc;
	}
	vidmm_leave_segment(mm, a);
	a->seg = GPUSIM_SEG_SYS;
	mm->stats.evictions++;
	vidmm_emit_paging(mm, GPUSIM_EV_EVICT, cause, a, from, copied);
	return 0;
}

/* Bring `a` into `seg` at the block just taken there. */
static int move_into(struct vidmm *mm, struct vidmm_alloc *a, uint32_t seg, uint32_t block, uint64_t off,
		     uint32_t cause)
{
	int rc;
	uint32_t from = a->seg;
	uint32_t ev = GPUSIM_EV_PLACE;
	uint64_t copied = 0;
	if (from != GPUSIM_SEG_SYS && (rc = wait_idle(mm, a)))
		return rc;
	if (seg == GPUSIM_SEG_GART) {
		if ((rc = get_pages(mm, a)) || (rc = map_aperture(mm, a, off))) {
			if (is_vram(from))
				vidmm_put_pages(mm, a); /* VRAM keeps its own bytes */
			return rc;
		}
		if (is_vram(from)) {
			if (a->has_data) {
				struct kmt_paging_op op = { .type = KMT_PAGING_TRANSFER, .size = a->size,
							    .src = { from, a->offset, NULL },
							    .dst = { seg, off, NULL } };
				if ((rc = paging(mm, &op))) {
					/* The range just mapped, not the one it still has in VRAM. */
					vidmm_unmap_aperture(mm, off, a->size);
					vidmm_put_pages(mm, a);
					return rc;
				}
				mm->stats.bytes_out += a->size;
				copied = a->size;
			}
			ev = GPUSIM_EV_MOVE;
		} else if (a->has_data) {
			ev = GPUSIM_EV_PAGE_IN; /* the pages were the backing store: no copy */
		}
	} else {
		if (a->has_data) {
			struct kmt_paging_op op = { .type = KMT_PAGING_TRANSFER, .size = a->size,
						    .dst = { seg, off, NULL } };
			if (from == GPUSIM_SEG_SYS)
				op.src = (struct kmt_mem_loc){ GPUSIM_SEG_SYS, 0, a->pages };
			else
				op.src = (struct kmt_mem_loc){ from, a->offset, NULL };
			if ((rc = paging(mm, &op)))
				return rc;
			mm->stats.bytes_in += a->size;
			copied = a->size;
		}
		if (from == GPUSIM_SEG_GART)
			vidmm_unmap_aperture(mm, a->offset, a->size);
		ev = from == GPUSIM_SEG_SYS ? (a->has_data ? GPUSIM_EV_PAGE_IN : GPUSIM_EV_PLACE) : GPUSIM_EV_MOVE;
	}
	if (from != GPUSIM_SEG_SYS)
		vidmm_leave_segment(mm, a);
	if (is_vram(seg))
		vidmm_put_pages(mm, a); /* VRAM holds the bytes now */
	enter_segment(mm, a, seg, block, off);
	if (ev == GPUSIM_EV_MOVE)
		mm->stats.moves++;
	else if (ev == GPUSIM_EV_PAGE_IN)
		mm->stats.page_ins++;
	vidmm_emit_paging(mm, ev, cause, a, from, copied);
	return 0;
}

static bool evictable(const struct vidmm *mm, const struct vidmm_alloc *v, bool only_unreferenced)
{
	return v->mark != mm->mark_gen && !(v->flags & GPUSIM_ALLOC_PINNED) && !v->lock_count &&
	       !(only_unreferenced && v->resident_count);
}

/* Could `size` fit in seg once everything that may move has left? Only pinned
 * memory is counted (in O(1)): locked, referenced or working-set allocations are
 * found by make_room as it goes, and are rare enough not to cost a scan of the
 * segment on every placement under pressure. */
static bool could_fit(struct vidmm *mm, uint32_t seg, uint64_t size)
{
	struct vidmm_segment *s = &mm->seg[seg];
	return size <= s->desc.size && s->pinned + size <= s->desc.size;
}

static int make_room(struct vidmm *mm, uint32_t seg, uint64_t size, uint64_t align,
		     bool only_unreferenced)
{
	struct vidmm_segment *s = &mm->seg[seg];
	if (!could_fit(mm, seg, size))
		return -ENOSPC;
	/* One walk down the policy's order: what is skipped once (pinned, locked,
	 * wanted) stays skipped, so many unevictable allocations at the head of the
	 * order cost one pass, not one pass per eviction. */
	struct vidmm_alloc *v = mm->policy->next(mm->policy_state, seg, NULL);
	while (!vidmm_suballoc_can_alloc(s->sa, size, align)) {
		while (v && !evictable(mm, v, only_unreferenced))
			v = mm->policy->next(mm->policy_state, seg, v);
		if (!v)
			return -ENOSPC;
		struct vidmm_alloc *after = mm->policy->next(mm->policy_state, seg, v);
		int rc = vidmm_evict(mm, v, GPUSIM_CAUSE_PRESSURE);
		if (rc)
			return rc;
		v = after;
	}
	return 0;
}

static bool seg_usable(struct vidmm *mm, const struct vidmm_alloc *a, uint32_t seg)
{
	return seg >= 1 && seg <= GPUSIM_SEG_COUNT && mm->seg[seg].present &&
	       (a->allowed & GPUSIM_SEG_BIT(seg)) && a->size <= mm->seg[seg].desc.size;
}

static int try_seg(struct vidmm *mm, struct vidmm_alloc *a, uint32_t seg, bool evict,
		   bool only_unreferenced, uint32_t cause)
{
	uint32_t block;
	uint64_t off;
	if (!seg_usable(mm, a, seg) || seg == a->seg)
		return -ENOSPC;
	if (evict) {
		int rc = make_room(mm, seg, a->size, a->align, only_unreferenced);
		if (rc)
			return rc;
	}
	int rc = vidmm_suballoc_alloc(mm->seg[seg].sa, a->size, a->align, &block, &off);
	if (rc)
		return rc == -ENOMEM ? -ENOMEM : -ENOSPC;
	rc = move_into(mm, a, seg, block, off, cause);
	if (rc)
		vidmm_suballoc_free(mm->seg[seg].sa, block);
	return rc;
}

int vidmm_place(struct vidmm *mm, struct vidmm_alloc *a, const uint32_t *order, uint32_t n,
		bool only_unreferenced, uint32_t cause)
{
	int rc;
	uint32_t mark_save = a->mark;
	a->mark = mm->mark_gen; /* never its own victim */
	/* 1: preferred segments with room; 2: preferred segments, evicting. */
	for (int pass = 0; pass < 2; pass++)
		for (uint32_t i = 0; i < n; i++)
			if ((rc = try_seg(mm, a, order[i], pass == 1, only_unreferenced, cause)) != -ENOSPC)
				goto out;
	/* 3: the other allowed segments, first with room, then evicting. */
	static const uint32_t all[] = { GPUSIM_SEG_VISIBLE, GPUSIM_SEG_INVISIBLE, GPUSIM_SEG_GART };
	for (int pass = 0; pass < 2; pass++)
		for (uint32_t i = 0; i < 3; i++) {
			bool listed = false;
			for (uint32_t j = 0; j < n; j++)
				listed |= order[j] == all[i];
			if (!listed && (rc = try_seg(mm, a, all[i], pass == 1, only_unreferenced, cause)) != -ENOSPC)
				goto out;
		}
	rc = -ENOSPC;
out:
	a->mark = mark_save;
	return rc;
}

int vidmm_make_resident(struct vidmm *mm, struct vidmm_alloc **set, uint32_t n,
			bool only_unreferenced, uint32_t cause)
{
	/* Quick refusal before evicting anything: the set must fit the segments its
	 * members may use, counted together. */
	uint64_t need = 0, cap = 0;
	uint32_t segs = 0;
	mm->mark_gen++;
	for (uint32_t i = 0; i < n; i++) {
		struct vidmm_alloc *a = set[i];
		if (a->mark == mm->mark_gen)
			continue; /* listed twice */
		a->mark = mm->mark_gen;
		need += a->size;
		segs |= a->allowed;
		bool fits = false;
		for (uint32_t s = 1; s <= GPUSIM_SEG_COUNT; s++)
			fits |= seg_usable(mm, a, s);
		if (!fits)
			return -ENOSPC;
	}
	for (uint32_t s = 1; s <= GPUSIM_SEG_COUNT; s++)
		if (mm->seg[s].present && (segs & GPUSIM_SEG_BIT(s)))
			cap += mm->seg[s].desc.size;
	if (need > cap)
		return -ENOSPC;

	for (uint32_t i = 0; i < n; i++) {
		struct vidmm_alloc *a = set[i];
		if (a->seg != GPUSIM_SEG_SYS) {
			a->last_use = ++mm->tick;
			mm->policy->touch(mm->policy_state, a);
			continue;
		}
		int rc;
		if (a->lock_count) {
			/* Locked bytes may not move: only binding its pages into the
			 * aperture keeps the CPU's mapping valid, so the GART and nothing
			 * else (no fallback to VRAM, which would copy them away). */
			rc = -EBUSY;
			if (a->allowed & GPUSIM_SEG_BIT(GPUSIM_SEG_GART)) {
				rc = try_seg(mm, a, GPUSIM_SEG_GART, false, only_unreferenced, cause);
				if (rc == -ENOSPC)
					rc = try_seg(mm, a, GPUSIM_SEG_GART, true, only_unreferenced, cause);
				if (rc == -ENOSPC)
					rc = -EBUSY;
			}
		} else {
			rc = vidmm_place(mm, a, a->preferred, a->npref, only_unreferenced, cause);
		}
		if (rc)
			return rc;
	}
	return 0;
}

void vidmm_touch(struct vidmm *mm, struct vidmm_alloc *a, uint64_t fence)
{
	if (fence > a->last_fence)
		a->last_fence = fence;
	a->has_data = true; /* the GPU may have written it */
	a->last_use = ++mm->tick;
	if (a->seg != GPUSIM_SEG_SYS)
		mm->policy->touch(mm->policy_state, a);
}

void vidmm_set_priority(struct vidmm *mm, struct vidmm_alloc *a, uint32_t priority)
{
	a->priority = priority;
	if (a->seg != GPUSIM_SEG_SYS)
		mm->policy->insert(mm->policy_state, a); /* re-files it in its new bucket */
}

int vidmm_lock(struct vidmm *mm, struct vidmm_alloc *a, bool nowait, void **ptr)
{
	int rc;
	if (vidmm_busy(mm, a)) {
		if (nowait)
			return -EBUSY;
		if ((rc = wait_idle(mm, a)))
			return rc;
	}
	if (a->lock_count) {
		a->lock_count++;
		*ptr = a->lock_ptr;
		return 0;
	}
	if (a->seg == GPUSIM_SEG_INVISIBLE && (a->flags & GPUSIM_ALLOC_PINNED))
		return -EACCES; /* out of the CPU's reach and not allowed to move */
	if (a->seg == GPUSIM_SEG_INVISIBLE) {
		/* The CPU cannot reach it: bring it behind BAR2, else to the GART, else
		 * out to its backing store. */
		mm->mark_gen++;
		static const uint32_t order[] = { GPUSIM_SEG_VISIBLE, GPUSIM_SEG_GART };
		rc = -ENOSPC;
		for (uint32_t i = 0; i < 2 && rc == -ENOSPC; i++) {
			rc = try_seg(mm, a, order[i], false, true, GPUSIM_CAUSE_LOCK);
			if (rc == -ENOSPC)
				rc = try_seg(mm, a, order[i], true, true, GPUSIM_CAUSE_LOCK);
		}
		if (rc == -ENOSPC)
			rc = vidmm_evict(mm, a, GPUSIM_CAUSE_LOCK);
		if (rc)
			return rc;
	}
	void *p;
	bool vmapped = false;
	if (a->seg == GPUSIM_SEG_VISIBLE) {
		p = mm->ddi->map_cpu(mm->drv, a->seg, a->offset, a->size);
	} else {
		if ((rc = get_pages(mm, a)))
			return rc;
		p = hw_sysmem_vmap(mm->hw, a->pages, a->size >> HW_PAGE_SHIFT);
		vmapped = true;
	}
	if (!p)
		return -ENOMEM;
	a->lock_ptr = p;
	a->lock_vmapped = vmapped;
	a->lock_count = 1;
	a->has_data = true;
	*ptr = p;
	vidmm_emit(mm, GPUSIM_EV_LOCK, GPUSIM_CAUSE_NONE, a, a->seg);
	return 0;
}

int vidmm_unlock(struct vidmm *mm, struct vidmm_alloc *a)
{
	if (!a->lock_count)
		return -EINVAL;
	if (--a->lock_count)
		return 0;
	if (a->lock_vmapped)
		hw_sysmem_vunmap(a->lock_ptr, a->size >> HW_PAGE_SHIFT);
	a->lock_ptr = NULL;
	a->lock_vmapped = false;
	vidmm_emit(mm, GPUSIM_EV_UNLOCK, GPUSIM_CAUSE_NONE, a, a->seg);
	return 0;
}
