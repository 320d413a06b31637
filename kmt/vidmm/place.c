/*
 * Placement, eviction and moves: the heart of the manager. An allocation's
 * placement (the driver's, as data) is tried in order: its preferred segments
 * with room, then made room in by pushing others *down their own placements*
 * (demotion, a copy-engine move; system memory only for what fits nowhere else in
 * its placement), then the fallback segments. The manager never knows which
 * segment is which: it reads what each can do (kmt_segment_desc). Every move of
 * data goes through the driver's copy engine; an aperture segment's bytes stay in
 * the allocation's system pages, so aperture <-> sys is a remap, not a copy.
 */
#include <config.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "kmt/vidmm/vidmm.h"

/* How a segment-to-segment move is reported. */
enum move_kind { MOVE_PLAIN, MOVE_DEMOTE, MOVE_PROMOTE };

static bool in_seg(uint32_t seg)
{
	return seg != VIDMM_SYS && seg != GPUSIM_SEG_NONE;
}

/* A segment that holds its allocations' bytes itself (VRAM), as opposed to an
 * aperture onto their system pages. */
static bool holds_bytes(const struct vidmm *mm, uint32_t seg)
{
	return in_seg(seg) && !mm->seg[seg].desc.aperture;
}

static bool local(const struct vidmm *mm, uint32_t seg)
{
	return in_seg(seg) && mm->seg[seg].desc.vram;
}

/* Position of seg in a's placement, or pl.n when it is not there. */
static uint32_t rank(const struct vidmm_alloc *a, uint32_t seg)
{
	for (uint32_t i = 0; i < a->pl.n; i++)
		if (a->pl.seg[i] == seg)
			return i;
	return a->pl.n;
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
	vidmm_va_alloc_leaving(mm, a); /* no VA reaches the range once it is given back */
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
	vidmm_va_alloc_entered(mm, a);
}

static int paging(struct vidmm *mm, const struct kmt_paging_op *op)
{
	int rc = mm->ddi->build_paging_buffer(mm->drv, op);
	if (!rc && op->type == KMT_PAGING_TRANSFER)
		rc = mm->ddi->paging_flush(mm->drv, NULL);
	return rc;
}

static int map_aperture(struct vidmm *mm, struct vidmm_alloc *a, uint32_t seg, uint64_t off)
{
	struct kmt_paging_op op = { .type = KMT_PAGING_MAP_APERTURE, .size = a->size,
				    .dst = { seg, off, NULL }, .pages = a->pages,
				    .flags = a->flags };
	return paging(mm, &op);
}

int vidmm_unmap_aperture(struct vidmm *mm, uint32_t seg, uint64_t off, uint64_t size)
{
	struct kmt_paging_op op = { .type = KMT_PAGING_UNMAP_APERTURE, .size = size,
				    .dst = { seg, off, NULL } };
	return paging(mm, &op);
}

/* Account a copy of a's bytes from `from` to `to` (segment ids or VIDMM_SYS):
 * bytes_in and bytes_out count what crosses the bus; a copy between two local
 * segments never does. */
static void count_copy(struct vidmm *mm, uint32_t from, uint32_t to, uint64_t bytes)
{
	bool src_local = local(mm, from), dst_local = local(mm, to);
	if (src_local && !dst_local)
		mm->stats.bytes_out += bytes;
	else if (!src_local && dst_local)
		mm->stats.bytes_in += bytes;
}

int vidmm_evict(struct vidmm *mm, struct vidmm_alloc *a, uint32_t cause)
{
	int rc;
	uint32_t from = a->seg;
	uint64_t copied = 0;
	if (from == VIDMM_SYS)
		return 0;
	if ((a->flags & GPUSIM_ALLOC_PINNED) || a->lock_count)
		return -EBUSY;
	if ((rc = wait_idle(mm, a)))
		return rc;
	if (holds_bytes(mm, from)) {
		if ((rc = get_pages(mm, a)))
			return rc;
		if (a->has_data) {
			struct kmt_paging_op op = { .type = KMT_PAGING_TRANSFER, .size = a->size,
						    .src = { from, a->offset, NULL },
						    .dst = { VIDMM_SYS, 0, a->pages } };
			if ((rc = paging(mm, &op))) {
				vidmm_put_pages(mm, a); /* it stays where it is, with its bytes */
				return rc;
			}
			count_copy(mm, from, VIDMM_SYS, a->size);
			copied = a->size;
		}
	} else if ((rc = vidmm_unmap_aperture(mm, from, a->offset, a->size))) {
		return rc;
	}
	vidmm_leave_segment(mm, a);
	a->seg = VIDMM_SYS;
	mm->stats.evictions++;
	vidmm_emit_paging(mm, GPUSIM_EV_EVICT, cause, a, from, copied);
	return 0;
}

/* Bring `a` into `seg` at the block just taken there. */
static int move_into(struct vidmm *mm, struct vidmm_alloc *a, uint32_t seg, uint32_t block, uint64_t off,
		     uint32_t cause, enum move_kind kind)
{
	int rc;
	uint32_t from = a->seg;
	uint64_t copied = 0;
	if (from != VIDMM_SYS && (rc = wait_idle(mm, a)))
		return rc;
	if (!holds_bytes(mm, seg)) {
		/* Into an aperture: its pages are the bytes. From sys they already
		 * are; from VRAM they are copied through the new mapping. */
		if ((rc = get_pages(mm, a)) || (rc = map_aperture(mm, a, seg, off))) {
			if (holds_bytes(mm, from))
				vidmm_put_pages(mm, a); /* VRAM keeps its own bytes */
			return rc;
		}
		if (holds_bytes(mm, from) && a->has_data) {
			struct kmt_paging_op op = { .type = KMT_PAGING_TRANSFER, .size = a->size,
						    .src = { from, a->offset, NULL },
						    .dst = { seg, off, NULL } };
			if ((rc = paging(mm, &op))) {
				/* The range just mapped, not the one it still has. */
				vidmm_unmap_aperture(mm, seg, off, a->size);
				vidmm_put_pages(mm, a);
				return rc;
			}
			count_copy(mm, from, seg, a->size);
			copied = a->size;
		}
	} else if (a->has_data) {
		struct kmt_paging_op op = { .type = KMT_PAGING_TRANSFER, .size = a->size,
					    .dst = { seg, off, NULL } };
		if (holds_bytes(mm, from))
			op.src = (struct kmt_mem_loc){ from, a->offset, NULL };
		else
			op.src = (struct kmt_mem_loc){ VIDMM_SYS, 0, a->pages };
		if ((rc = paging(mm, &op)))
			return rc;
		count_copy(mm, from, seg, a->size);
		copied = a->size;
	}
	if (in_seg(from) && !holds_bytes(mm, from))
		vidmm_unmap_aperture(mm, from, a->offset, a->size);
	if (from != VIDMM_SYS)
		vidmm_leave_segment(mm, a);
	if (holds_bytes(mm, seg))
		vidmm_put_pages(mm, a); /* the segment holds the bytes now */
	enter_segment(mm, a, seg, block, off);

	uint32_t ev;
	if (from == VIDMM_SYS) {
		ev = a->has_data ? GPUSIM_EV_PAGE_IN : GPUSIM_EV_PLACE;
		if (a->has_data)
			mm->stats.page_ins++;
	} else if (kind == MOVE_DEMOTE) {
		ev = GPUSIM_EV_DEMOTE;
		mm->stats.demotions++;
	} else if (kind == MOVE_PROMOTE) {
		ev = GPUSIM_EV_PROMOTE;
		mm->stats.promotions++;
	} else {
		ev = GPUSIM_EV_MOVE;
		mm->stats.moves++;
	}
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

static bool seg_usable(const struct vidmm *mm, const struct vidmm_alloc *a, uint32_t seg)
{
	return in_seg(seg) && seg < VIDMM_SEG_MAX && mm->seg[seg].present &&
	       a->size <= mm->seg[seg].desc.size;
}

/* Take a block for a in seg if there is room now, and move it there. */
static int move_if_room(struct vidmm *mm, struct vidmm_alloc *a, uint32_t seg, uint32_t cause,
			enum move_kind kind)
{
	uint32_t block;
	uint64_t off;
	if (!seg_usable(mm, a, seg) || seg == a->seg)
		return -ENOSPC;
	/* The sub-allocator's -ENOSPC is exact and decided before anything else,
	 * so no separate can_alloc (a second search) is needed. */
	int rc = vidmm_suballoc_alloc(mm->seg[seg].sa, a->size, a->align, &block, &off);
	if (rc)
		return rc == -ENOMEM ? -ENOMEM : -ENOSPC;
	rc = move_into(mm, a, seg, block, off, cause, kind);
	if (rc)
		vidmm_suballoc_free(mm->seg[seg].sa, block);
	return rc;
}

/* Push victim v out of `seg` (TTM's evict_flags, with the placement as the
 * answer): to the first other segment of its own placement that has room now,
 * so a CPU-visible copy goes back to the VRAM the CPU cannot see before anything
 * crosses the bus; to its backing store only when nothing in its placement has
 * room. Nothing is evicted to make that room: pressure never cascades. */
static int push_out(struct vidmm *mm, struct vidmm_alloc *v, uint32_t seg)
{
	for (uint32_t i = 0; i < v->pl.n; i++) {
		uint32_t t = v->pl.seg[i];
		if (t == seg)
			continue;
		int rc = move_if_room(mm, v, t, GPUSIM_CAUSE_PRESSURE, MOVE_DEMOTE);
		if (rc != -ENOSPC)
			return rc;
	}
	return vidmm_evict(mm, v, GPUSIM_CAUSE_PRESSURE);
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
		int rc = push_out(mm, v, seg);
		if (rc)
			return rc;
		v = after;
	}
	return 0;
}

static int try_seg(struct vidmm *mm, struct vidmm_alloc *a, uint32_t seg, bool evict,
		   bool only_unreferenced, uint32_t cause)
{
	if (!seg_usable(mm, a, seg) || seg == a->seg)
		return -ENOSPC;
	if (evict) {
		int rc = make_room(mm, seg, a->size, a->align, only_unreferenced);
		if (rc)
			return rc;
	}
	return move_if_room(mm, a, seg, cause, MOVE_PLAIN);
}

/* Segments first..last-1 of a's placement: those with room, then those made
 * room in. */
static int place_range(struct vidmm *mm, struct vidmm_alloc *a, uint32_t first, uint32_t last,
		       bool only_unreferenced, uint32_t cause)
{
	for (int pass = 0; pass < 2; pass++)
		for (uint32_t i = first; i < last; i++) {
			int rc = try_seg(mm, a, a->pl.seg[i], pass == 1, only_unreferenced, cause);
			if (rc != -ENOSPC)
				return rc;
		}
	return -ENOSPC;
}

int vidmm_place(struct vidmm *mm, struct vidmm_alloc *a, bool only_unreferenced, uint32_t cause)
{
	uint32_t mark_save = a->mark;
	a->mark = mm->mark_gen; /* never its own victim */
	int rc = place_range(mm, a, 0, a->pl.npref, only_unreferenced, cause);
	if (rc == -ENOSPC)
		rc = place_range(mm, a, a->pl.npref, a->pl.n, only_unreferenced, cause);
	a->mark = mark_save;
	return rc;
}

/* An allocation used by the GPU away from its preferred segments (moved for a
 * CPU lock, or pushed down under pressure) goes back up when there is room:
 * taking free room evicts nothing, of higher priority or any other. */
static int promote(struct vidmm *mm, struct vidmm_alloc *a, uint32_t cause)
{
	uint32_t r = rank(a, a->seg), top = r < a->pl.npref ? r : a->pl.npref;
	if (a->lock_count || (a->flags & GPUSIM_ALLOC_PINNED))
		return 0; /* a locked allocation's bytes may not move */
	for (uint32_t i = 0; i < top; i++) {
		int rc = move_if_room(mm, a, a->pl.seg[i], cause, MOVE_PROMOTE);
		if (rc != -ENOSPC)
			return rc;
	}
	return 0;
}

static uint32_t placement_mask(const struct vidmm_alloc *a)
{
	uint32_t m = 0;
	for (uint32_t i = 0; i < a->pl.n; i++)
		m |= 1u << a->pl.seg[i];
	return m;
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
		segs |= placement_mask(a);
		bool fits = false;
		for (uint32_t k = 0; k < a->pl.n; k++)
			fits |= seg_usable(mm, a, a->pl.seg[k]);
		if (!fits)
			return -ENOSPC;
	}
	for (uint32_t s = 1; s < VIDMM_SEG_MAX; s++)
		if (mm->seg[s].present && (segs & (1u << s)))
			cap += mm->seg[s].desc.size;
	if (need > cap)
		return -ENOSPC;

	for (uint32_t i = 0; i < n; i++) {
		struct vidmm_alloc *a = set[i];
		int rc;
		if (a->seg != VIDMM_SYS) {
			a->last_use = ++mm->tick;
			mm->policy->touch(mm->policy_state, a);
			if ((rc = promote(mm, a, cause)))
				return rc;
			continue;
		}
		if (a->lock_count) {
			/* Locked bytes may not move: only binding its pages into an
			 * aperture keeps the CPU's mapping valid, so an aperture segment
			 * of its placement and nothing else (VRAM would copy them away). */
			rc = -ENOSPC;
			for (int pass = 0; pass < 2 && rc == -ENOSPC; pass++)
				for (uint32_t k = 0; k < a->pl.n && rc == -ENOSPC; k++)
					if (!holds_bytes(mm, a->pl.seg[k]))
						rc = try_seg(mm, a, a->pl.seg[k], pass == 1, only_unreferenced, cause);
			if (rc == -ENOSPC)
				rc = -EBUSY;
		} else {
			rc = vidmm_place(mm, a, only_unreferenced, cause);
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
	if (a->seg != VIDMM_SYS)
		mm->policy->touch(mm->policy_state, a);
}

void vidmm_set_priority(struct vidmm *mm, struct vidmm_alloc *a, uint32_t priority)
{
	a->priority = priority;
	if (a->seg != VIDMM_SYS)
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
	if (in_seg(a->seg) && !mm->seg[a->seg].desc.cpu_visible) {
		if (a->flags & GPUSIM_ALLOC_PINNED)
			return -EACCES; /* out of the CPU's reach and not allowed to move */
		/* The CPU cannot reach it: bring it to a segment of its placement the
		 * CPU can map (with room, else made room in), else out to its backing
		 * store. */
		mm->mark_gen++;
		rc = -ENOSPC;
		for (uint32_t i = 0; i < a->pl.n && rc == -ENOSPC; i++) {
			uint32_t t = a->pl.seg[i];
			if (!seg_usable(mm, a, t) || !mm->seg[t].desc.cpu_visible)
				continue;
			rc = try_seg(mm, a, t, false, true, GPUSIM_CAUSE_LOCK);
			if (rc == -ENOSPC)
				rc = try_seg(mm, a, t, true, true, GPUSIM_CAUSE_LOCK);
		}
		if (rc == -ENOSPC)
			rc = vidmm_evict(mm, a, GPUSIM_CAUSE_LOCK);
		if (rc)
			return rc;
	}
	void *p;
	bool vmapped = false;
	if (holds_bytes(mm, a->seg)) {
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
