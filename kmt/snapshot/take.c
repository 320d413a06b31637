/*
 * Taking a snapshot: the adapter's state as a struct gpusim_snapshot, with the
 * tables people read (registers, GART, allocations), the populated memory, and
 * the resume state restore.c reads back (layout in format.h). Looking changes
 * nothing: no poll, no clock, no register read with a side effect.
 */
#include <config.h>

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <gpusim/hwstate.h>
#include <gpusim/snapshot.h>
#include "kmt/core.h"
#include "kmt/snapshot/format.h"
#include "kmt/snapshot/stream.h"

/* The live allocation handles of one adapter, ascending, and their memory objects
 * in order of first appearance (shared memory appears once). */
struct walk {
	struct kmt_alloc **allocs;
	size_t nallocs;
	struct kmt_mem **mems;       /* in order */
	struct kmt_mem **sorted;     /* the same, by address, for look-ups */
	size_t nmems;
};

static int cmp_ptr(const void *a, const void *b)
{
	uintptr_t x = (uintptr_t) * (void *const *)a, y = (uintptr_t) * (void *const *)b;
	return x < y ? -1 : x > y;
}

static uint64_t mem_index(const struct walk *w, const struct kmt_mem *m)
{
	struct kmt_mem **hit = bsearch(&m, w->sorted, w->nmems, sizeof(*w->sorted), cmp_ptr);
	return hit ? (uint64_t)((*hit)->seen) : UINT64_MAX;
}

static int walk_build(struct kmt_adapter *ad, struct walk *w)
{
	memset(w, 0, sizeof(*w));
	size_t cap = 0;
	uint32_t cur = 0;
	struct kmt_alloc *a;
	while ((a = kmt_handle_iter(KMT_T_ALLOCATION, &cur))) {
		if (a->dev->ad != ad)
			continue;
		if (w->nallocs == cap) {
			cap = cap ? cap * 2 : 64;
			struct kmt_alloc **na = realloc(w->allocs, cap * sizeof(*na));
			if (!na)
				return -1;
			w->allocs = na;
		}
		w->allocs[w->nallocs++] = a;
	}
	size_t n = w->nallocs ? w->nallocs : 1;
	w->mems = malloc(n * sizeof(*w->mems));
	w->sorted = malloc(n * sizeof(*w->sorted));
	if (!w->mems || !w->sorted)
		return -1;
	/* Distinct memory objects: sort the pointers, then keep first appearances. */
	for (size_t i = 0; i < w->nallocs; i++)
		w->sorted[i] = w->allocs[i]->mem;
	qsort(w->sorted, w->nallocs, sizeof(*w->sorted), cmp_ptr);
	size_t nd = 0;
	for (size_t i = 0; i < w->nallocs; i++)
		if (!nd || w->sorted[nd - 1] != w->sorted[i])
			w->sorted[nd++] = w->sorted[i];
	w->nmems = nd;
	/* `seen` is scratch for walks under the lock: the order number for now,
	 * restored to a stamp nobody uses after the walk (see walk_free). */
	for (size_t i = 0; i < nd; i++)
		w->sorted[i]->seen = UINT32_MAX;
	uint32_t k = 0;
	for (size_t i = 0; i < w->nallocs; i++) {
		struct kmt_mem *m = w->allocs[i]->mem;
		if (m->seen == UINT32_MAX) {
			m->seen = k;
			w->mems[k++] = m;
		}
	}
	return 0;
}

static void walk_free(struct walk *w)
{
	for (size_t i = 0; i < w->nmems; i++)
		w->mems[i]->seen = 0;
	free(w->allocs);
	free(w->mems);
	free(w->sorted);
}

/* The device's state as hw/vmstate.c declares it, self-describing bytes. */
static void save_hw(struct kmt_wstream *w, const uint8_t *hs, size_t len)
{
	kmt_ws_tag(w, TAG_HW);
	kmt_ws_u64(w, len);
	kmt_ws_bytes(w, hs, len);
}

/* A scalar of the saved device state (the table guarantees it is there). */
static uint64_t hw_field(const uint8_t *hs, size_t len, const char *name)
{
	struct hw_state_item it;
	return hw_state_find(hs, len, name, &it) ? 0 : hw_state_item_value(&it, 0);
}

static void save_fault(struct kmt_wstream *w, const struct kmt_fault_info *f)
{
	kmt_ws_u64(w, f->gpu_address);
	kmt_ws_u32(w, f->cause);
	kmt_ws_u32(w, f->engine);
	kmt_ws_u64(w, f->time_ns);
	kmt_ws_u64(w, f->completed);
}

static void save_vidmm(struct kmt_wstream *w, struct vidmm *mm)
{
	kmt_ws_tag(w, TAG_VIDMM);
	kmt_ws_u64(w, mm->tick);
	kmt_ws_u64(w, mm->budget_local);
	kmt_ws_u64(w, mm->budget_nonlocal);
	kmt_ws_u64(w, mm->resident_local);
	kmt_ws_u64(w, mm->resident_nonlocal);
	const struct vidmm_stats *s = &mm->stats;
	kmt_ws_u64(w, s->evictions);
	kmt_ws_u64(w, s->page_ins);
	kmt_ws_u64(w, s->moves);
	kmt_ws_u64(w, s->demotions);
	kmt_ws_u64(w, s->promotions);
	kmt_ws_u64(w, s->bytes_in);
	kmt_ws_u64(w, s->bytes_out);
	kmt_ws_u64(w, s->allocations);
	kmt_ws_u64(w, s->commit_pages);
	kmt_ws_u32(w, mm->mark_gen);
	for (int i = 1; i < VIDMM_SEG_MAX; i++) {
		const struct vidmm_segment *seg = &mm->seg[i];
		kmt_ws_u32(w, seg->present);
		if (!seg->present)
			continue;
		kmt_ws_u64(w, seg->used);
		kmt_ws_u64(w, seg->pinned);
		kmt_ws_u64(w, seg->count);
		struct vidmm_suballoc_state st;
		vidmm_suballoc_get_state(seg->sa, &st);
		kmt_ws_u64(w, st.pages);
		kmt_ws_u32(w, st.fresh);
		kmt_ws_u32(w, st.spare);
		kmt_ws_u32(w, st.nspare);
		kmt_ws_u64(w, st.used);
		kmt_ws_u64(w, st.nalloc);
		kmt_ws_u64(w, st.nfree);
		kmt_ws_u64(w, st.fl_map);
		for (int f = 0; f < 64; f++)
			kmt_ws_u32(w, st.sl_map[f]);
		for (int f = 0; f < 64; f++)
			for (int l = 0; l < 32; l++)
				kmt_ws_u32(w, st.head[f][l]);
		for (uint32_t n = 0; n < st.fresh; n++) {
			const struct vidmm_suballoc_node *b = &st.nodes[n];
			kmt_ws_u64(w, b->off);
			kmt_ws_u64(w, b->len);
			kmt_ws_u32(w, b->phys_prev);
			kmt_ws_u32(w, b->phys_next);
			kmt_ws_u32(w, b->free_prev);
			/* An allocated block's list link is never read (nor set): write a
			 * fixed value so that equal states give equal bytes. */
			kmt_ws_u32(w, b->free_prev == 0xFFFFFFFEu ? 0xFFFFFFFFu : b->free_next);
		}
	}
}

struct policy_out {
	struct kmt_wstream *w;
	const struct walk *wk;
	uint64_t n;
};

static void policy_put(void *ctx, uint64_t v)
{
	struct policy_out *po = ctx;
	kmt_ws_u64(po->w, v);
	po->n++;
}

/* A vidmm_alloc is the first member of its kmt_mem. */
static uint64_t policy_index(void *ctx, const struct vidmm_alloc *a)
{
	return mem_index(((struct policy_out *)ctx)->wk,
			 (const struct kmt_mem *)((const char *)a - offsetof(struct kmt_mem, v)));
}

static struct vidmm_alloc *policy_alloc(void *ctx, uint64_t i)
{
	const struct walk *wk = ((struct policy_out *)ctx)->wk;
	return i < wk->nmems ? &wk->mems[i]->v : NULL;
}

/* A page table's memory: where it is, and what the manager keeps of it. */
static int save_table(void *ctx, const struct vidmm_alloc *v, uint32_t level, uint32_t slot)
{
	struct kmt_wstream *w = ctx;
	kmt_ws_u32(w, level);
	kmt_ws_u32(w, slot);
	kmt_ws_u32(w, v->seg);
	kmt_ws_u32(w, v->block);
	kmt_ws_u64(w, v->offset);
	kmt_ws_u64(w, v->size);
	kmt_ws_u64(w, v->align);
	kmt_ws_u32(w, v->flags);
	kmt_ws_u32(w, v->priority);
	kmt_ws_u32(w, v->has_data);
	kmt_ws_u64(w, v->last_fence);
	kmt_ws_u64(w, v->last_use);
	kmt_ws_u32(w, v->pl.n);
	kmt_ws_u32(w, v->pl.npref);
	for (int k = 0; k < KMT_PLACE_MAX; k++)
		kmt_ws_u32(w, v->pl.seg[k]);
	return 0;
}

static uint32_t space_index(const struct vidmm *mm, const struct vidmm_va_space *vs)
{
	uint32_t i = 0;
	for (const struct vidmm_va_space *x = mm->va_spaces; x && x != vs; x = x->next)
		i++;
	return i;
}

static void save_mapping(struct kmt_wstream *w, const struct vidmm *mm, const struct vidmm_va_mapping *m,
			 uint64_t mem)
{
	kmt_ws_u32(w, space_index(mm, m->vs));
	kmt_ws_u64(w, m->node.start);
	kmt_ws_u64(w, m->node.size);
	kmt_ws_u64(w, mem);
	kmt_ws_u64(w, m->alloc_offset);
	kmt_ws_u64(w, m->pfn);
	kmt_ws_u32(w, m->read_only);
}

/* The GPU VA spaces (format.h, version 6). Mappings of allocations come in the
 * order of each allocation's list, since moving an allocation rewrites its
 * mappings in that order and the paging work (ring bytes, time) follows it;
 * the kernel's mappings of system pages follow, in address order. */
static void save_va(struct kmt_wstream *w, struct kmt_adapter *ad, const struct walk *wk)
{
	struct vidmm *mm = ad->mm;
	kmt_ws_tag(w, TAG_VA);
	kmt_ws_u32(w, mm->next_asid);
	uint32_t nspaces = 0;
	for (struct vidmm_va_space *vs = mm->va_spaces; vs; vs = vs->next)
		nspaces++;
	kmt_ws_u64(w, nspaces);
	kmt_ws_u32(w, ad->va ? space_index(mm, ad->va) : UINT32_MAX);
	uint64_t nkernel = 0;
	for (struct vidmm_va_space *vs = mm->va_spaces; vs; vs = vs->next) {
		kmt_ws_u32(w, vs->asid);
		kmt_ws_u64(w, vs->fence);
		kmt_ws_u64(w, vs->tables);
		vidmm_va_walk_tables(mm, vs, save_table, w);
		kmt_ws_u64(w, vs->reserved.count);
		for (struct vidmm_va_node *n = vidmm_va_tree_ceil(&vs->reserved, 0); n;
		     n = vidmm_va_tree_next(&vs->reserved, n)) {
			const struct vidmm_va_reservation *r = (const struct vidmm_va_reservation *)n;
			kmt_ws_u64(w, n->start);
			kmt_ws_u64(w, n->size);
			kmt_ws_u32(w, r->type);
			kmt_ws_u32(w, r->kernel);
		}
		for (struct vidmm_va_node *n = vidmm_va_tree_ceil(&vs->mapped, 0); n;
		     n = vidmm_va_tree_next(&vs->mapped, n))
			nkernel += !((const struct vidmm_va_mapping *)n)->alloc;
	}
	uint64_t nmaps = nkernel;
	for (size_t i = 0; i < wk->nmems; i++)
		for (const struct vidmm_va_mapping *m = wk->mems[i]->v.va_maps; m; m = m->alloc_next)
			nmaps++;
	kmt_ws_u64(w, nmaps);
	for (size_t i = 0; i < wk->nmems; i++)
		for (const struct vidmm_va_mapping *m = wk->mems[i]->v.va_maps; m; m = m->alloc_next)
			save_mapping(w, mm, m, i);
	for (struct vidmm_va_space *vs = mm->va_spaces; vs; vs = vs->next)
		for (struct vidmm_va_node *n = vidmm_va_tree_ceil(&vs->mapped, 0); n;
		     n = vidmm_va_tree_next(&vs->mapped, n))
			if (!((const struct vidmm_va_mapping *)n)->alloc)
				save_mapping(w, mm, (const struct vidmm_va_mapping *)n, UINT64_MAX);
}

static void save_objects(struct kmt_wstream *w, struct kmt_adapter *ad, const struct walk *wk)
{
	kmt_ws_tag(w, TAG_ADAPTER);
	kmt_ws_u32(w, ad->removed);
	kmt_ws_u64(w, ad->faults);
	kmt_ws_u64(w, ad->submits);
	kmt_ws_u64(w, ad->fence_seen);
	kmt_ws_u32(w, ad->has_fault);
	save_fault(w, &ad->last_fault);
	uint64_t nblame = 0, fence;
	D3DKMT_HANDLE dev;
	for (uint32_t i = 0; i < KMT_BLAME_SLOTS; i++)
		nblame += kmt_blame_get(ad, i, &fence, &dev);
	kmt_ws_u64(w, nblame);
	for (uint32_t i = 0; i < KMT_BLAME_SLOTS; i++)
		if (kmt_blame_get(ad, i, &fence, &dev)) {
			kmt_ws_u64(w, fence);
			kmt_ws_u32(w, dev);
		}

	uint64_t n = 0;
	for (struct kmt_device *d = ad->devices; d; d = d->next)
		n++;
	kmt_ws_tag(w, TAG_DEVICES);
	kmt_ws_u64(w, n);
	for (struct kmt_device *d = ad->devices; d; d = d->next) {
		kmt_ws_u32(w, d->handle);
		kmt_ws_u64(w, d->resident_bytes[0]);
		kmt_ws_u64(w, d->resident_bytes[1]);
		kmt_ws_u32(w, d->faulted);
		save_fault(w, &d->fault);
	}

	n = 0;
	for (struct kmt_device *d = ad->devices; d; d = d->next)
		for (struct kmt_sync *s = d->syncs; s; s = s->next)
			n++;
	kmt_ws_tag(w, TAG_SYNCS);
	kmt_ws_u64(w, n);
	for (struct kmt_device *d = ad->devices; d; d = d->next)
		for (struct kmt_sync *s = d->syncs; s; s = s->next) {
			kmt_ws_u32(w, s->handle);
			kmt_ws_u32(w, d->handle);
			kmt_ws_u32(w, (uint32_t)s->type);
			kmt_ws_u64(w, s->value);
			kmt_ws_u32(w, s->cpu_value != NULL);
			kmt_ws_u64(w, s->cpu_value ? *s->cpu_value : 0);
			kmt_ws_u64(w, s->pending_value);
			kmt_ws_u64(w, s->pending_fence);
			kmt_ws_u32(w, s->flags);
			kmt_ws_u32(w, s->slot);
			kmt_ws_u64(w, s->gpu_queued);
		}

	/* The fence pages' bytes are system memory (saved with it) and their GART
	 * entries device memory: the page numbers are what ties them together. */
	kmt_ws_tag(w, TAG_PAGING);
	n = 0;
	uint64_t pfn;
	for (uint32_t i = 0; i < ad->nfence_pages; i++)
		n += kmt_fence_page_pfn(ad, i, &pfn);
	kmt_ws_u64(w, n);
	for (uint32_t i = 0; i < ad->nfence_pages; i++)
		if (kmt_fence_page_pfn(ad, i, &pfn)) {
			kmt_ws_u32(w, i);
			kmt_ws_u64(w, pfn);
		}
	n = 0;
	for (struct kmt_device *d = ad->devices; d; d = d->next)
		for (struct kmt_pagingqueue *q = d->pqs; q; q = q->next)
			n++;
	kmt_ws_u64(w, n);
	for (struct kmt_device *d = ad->devices; d; d = d->next)
		for (struct kmt_pagingqueue *q = d->pqs; q; q = q->next) {
			kmt_ws_u32(w, q->handle);
			kmt_ws_u32(w, d->handle);
			kmt_ws_u32(w, q->fence->handle);
			kmt_ws_u32(w, (uint32_t)q->priority);
			kmt_ws_u64(w, q->last);
		}

	n = 0;
	for (struct kmt_device *d = ad->devices; d; d = d->next)
		for (struct kmt_context *c = d->contexts; c; c = c->next)
			n++;
	kmt_ws_tag(w, TAG_CONTEXTS);
	kmt_ws_u64(w, n);
	for (struct kmt_device *d = ad->devices; d; d = d->next)
		for (struct kmt_context *c = d->contexts; c; c = c->next) {
			kmt_ws_u32(w, c->handle);
			kmt_ws_u32(w, d->handle);
			kmt_ws_u32(w, c->cmdbuf != NULL);
			kmt_ws_u64(w, c->last_fence);
		}

	n = 0;
	for (struct kmt_device *d = ad->devices; d; d = d->next)
		for (struct kmt_resource *r = d->resources; r; r = r->next)
			n++;
	kmt_ws_tag(w, TAG_RESOURCES);
	kmt_ws_u64(w, n);
	for (struct kmt_device *d = ad->devices; d; d = d->next)
		for (struct kmt_resource *r = d->resources; r; r = r->next) {
			kmt_ws_u32(w, r->handle);
			kmt_ws_u32(w, d->handle);
			kmt_ws_u32(w, r->shared);
			kmt_ws_u32(w, r->share);
			kmt_ws_u32(w, r->origin ? r->origin->handle : 0);
			kmt_ws_u64(w, r->runtime_size);
			kmt_ws_bytes(w, r->runtime_data, r->runtime_size);
			kmt_ws_u64(w, r->driver_size);
			kmt_ws_bytes(w, r->driver_data, r->driver_size);
			kmt_ws_u64(w, r->nallocs);
			for (struct kmt_alloc *a = r->allocs; a; a = a->res_next)
				kmt_ws_u32(w, a->handle);
		}

	kmt_ws_tag(w, TAG_MEMS);
	kmt_ws_u64(w, wk->nmems);
	for (size_t i = 0; i < wk->nmems; i++) {
		const struct kmt_mem *m = wk->mems[i];
		const struct vidmm_alloc *v = &m->v;
		const struct kmt_alloc *owner = v->owner;
		kmt_ws_u32(w, m->refs);
		/* The handle whose struct embeds the memory, 0 when that handle is gone
		 * and the struct only holds the memory for the others. */
		kmt_ws_u32(w, owner->handle && kmt_handle_get(owner->handle, KMT_T_ALLOCATION) == owner
				      ? owner->handle : 0);
		const struct gpusim_alloc_desc *p = &m->priv;
		kmt_ws_u32(w, p->version);
		kmt_ws_u32(w, p->flags);
		kmt_ws_u64(w, p->size);
		kmt_ws_u64(w, p->alignment);
		for (int k = 0; k < 3; k++)
			kmt_ws_u32(w, p->preferred[k]);
		kmt_ws_u32(w, p->allowed);
		kmt_ws_u32(w, p->priority);

		kmt_ws_u32(w, v->seg);
		kmt_ws_u32(w, v->block);
		kmt_ws_u64(w, v->size);
		kmt_ws_u32(w, v->flags);
		kmt_ws_u32(w, v->lock_count);
		kmt_ws_u32(w, v->resident_count);
		kmt_ws_u32(w, v->mark);
		kmt_ws_u64(w, v->last_fence);
		kmt_ws_u64(w, v->offset);
		kmt_ws_u64(w, v->align);
		kmt_ws_u32(w, v->priority);
		kmt_ws_u32(w, v->pl.n);
		kmt_ws_u32(w, v->pl.npref);
		for (int k = 0; k < KMT_PLACE_MAX; k++)
			kmt_ws_u32(w, v->pl.seg[k]);
		kmt_ws_u32(w, v->has_data);
		kmt_ws_u64(w, v->last_use);
		kmt_ws_u32(w, v->handle);
		kmt_ws_u32(w, v->device);
		kmt_ws_u32(w, v->pages != NULL);
		if (v->pages)
			for (uint64_t k = 0; k < v->size >> HW_PAGE_SHIFT; k++)
				kmt_ws_u64(w, v->pages[k]);
	}

	kmt_ws_tag(w, TAG_ALLOCS);
	kmt_ws_u64(w, wk->nallocs);
	for (size_t i = 0; i < wk->nallocs; i++) {
		const struct kmt_alloc *a = wk->allocs[i];
		kmt_ws_u32(w, a->handle);
		kmt_ws_u32(w, a->dev->handle);
		kmt_ws_u64(w, mem_index(wk, a->mem));
		kmt_ws_u32(w, a->res ? a->res->handle : 0);
		kmt_ws_u32(w, a->resident);
		kmt_ws_u32(w, a->locks);
	}

	save_va(w, ad, wk);

	/* The policy writes its own state as words, their count first. */
	kmt_ws_tag(w, TAG_POLICY);
	struct vidmm *mm = ad->mm;
	size_t at = w->len;
	struct policy_out po = { w, wk, 0 };
	struct vidmm_policy_io io = { .ctx = &po, .alloc = policy_alloc, .nallocs = wk->nmems,
				      .put = policy_put, .index = policy_index };
	kmt_ws_u64(w, 0);
	mm->policy->save(mm->policy_state, &io);
	if (!w->nomem)
		for (int k = 0; k < 8; k++)
			w->buf[at + k] = (uint8_t)(po.n >> (8 * k));
	kmt_ws_tag(w, TAG_END);
}

/* ---- the tables for people ------------------------------------------------ */

struct ranges {
	struct gpusim_snapshot_range *r;
	uint64_t n, cap;
	struct hw_device *hw;
	int space;
};

static int add_range(void *opaque, uint64_t off, uint64_t len)
{
	struct ranges *rs = opaque;
	if (rs->n == rs->cap) {
		uint64_t ncap = rs->cap ? rs->cap * 2 : 16;
		struct gpusim_snapshot_range *nr = realloc(rs->r, ncap * sizeof(*nr));
		if (!nr)
			return -1;
		rs->r = nr;
		rs->cap = ncap;
	}
	struct gpusim_snapshot_range *r = &rs->r[rs->n++];
	r->size = len;
	if (rs->space) {
		r->addr = GPUSIM_SYSMEM_BUS_BASE + off;
		r->data = hw_debug_sysmem(rs->hw, off >> HW_PAGE_SHIFT, len >> HW_PAGE_SHIFT);
	} else {
		r->addr = off;
		r->data = hw_debug_vram(rs->hw, off, len);
	}
	return 0;
}

static int fill_gart(struct gpusim_snapshot *s, struct hw_device *hw, uint64_t table)
{
	const struct hw_config *c = hw_device_config(hw);
	uint64_t pages = c->gart >> HW_PAGE_SHIFT;
	const uint64_t *t = hw_debug_vram(hw, table, pages * 8);
	uint64_t n = 0;
	if (!t)
		return 0;
	for (uint64_t i = 0; i < pages; i++)
		n += (t[i] & HW_GART_VALID) != 0;
	s->gart = malloc((n ? n : 1) * sizeof(*s->gart));
	if (!s->gart)
		return -1;
	for (uint64_t i = 0; i < pages; i++)
		if (t[i] & HW_GART_VALID)
			s->gart[s->ngart++] = (struct gpusim_snapshot_gart){ i, t[i] };
	return 0;
}

static int fill_tables(struct gpusim_snapshot *s, struct kmt_adapter *ad, const struct walk *wk,
		       uint64_t gart_table)
{
	uint32_t n = hw_debug_registers(ad->hw, NULL, NULL, 0);
	uint32_t *offs = malloc(n * sizeof(*offs)), *vals = malloc(n * sizeof(*vals));
	s->regs = malloc(n * sizeof(*s->regs));
	if (!offs || !vals || !s->regs) {
		free(offs);
		free(vals);
		return -1;
	}
	hw_debug_registers(ad->hw, offs, vals, n);
	for (uint32_t i = 0; i < n; i++)
		s->regs[i] = (struct gpusim_snapshot_reg){ offs[i], vals[i] };
	s->nregs = n;
	free(offs);
	free(vals);

	if (fill_gart(s, ad->hw, gart_table))
		return -1;

	s->allocs = calloc(wk->nallocs ? wk->nallocs : 1, sizeof(*s->allocs));
	if (!s->allocs)
		return -1;
	for (size_t i = 0; i < wk->nallocs; i++) {
		const struct kmt_alloc *a = wk->allocs[i];
		const struct vidmm_alloc *v = &a->mem->v;
		struct gpusim_snapshot_alloc *row = &s->allocs[i];
		row->handle = a->handle;
		row->device = a->dev->handle;
		row->size = v->size;
		row->segment = v->seg;
		row->priority = v->priority;
		row->offset = v->seg == GPUSIM_SEG_SYS ? 0 : v->offset;
		row->gpu_address = vidmm_gpu_address(ad->mm, v);
		row->flags = v->flags;
		row->lock_count = a->locks;
		row->residency_count = v->resident_count;
	}
	s->nallocs = wk->nallocs;

	struct ranges rs = { .hw = ad->hw };
	for (rs.space = 0; rs.space < 2; rs.space++)
		if (hw_debug_populated(ad->hw, rs.space, add_range, &rs)) {
			free(rs.r);
			return -1;
		}
	s->ranges = rs.r;
	s->nranges = rs.n;
	return 0;
}

NTSTATUS gpusim_snapshot_take(LUID luid, struct gpusim_snapshot **out)
{
	if (!out)
		return STATUS_INVALID_PARAMETER;
	KMT_ENTER();
	struct kmt_adapter *ad = kmt_adapter_by_luid(luid);
	if (!ad) {
		kmt_unlock();
		return STATUS_INVALID_PARAMETER;
	}
	NTSTATUS st = STATUS_NO_MEMORY;
	struct gpusim_snapshot *s = calloc(1, sizeof(*s));
	struct walk wk;
	uint8_t *hs = NULL;
	size_t hs_len = 0;
	struct kmt_wstream w = { 0 };
	bool have_walk = false;
	if (!s)
		goto out;
	if (walk_build(ad, &wk))
		goto out_walk;
	have_walk = true;
	if (hw_device_save_state(ad->hw, &hs, &hs_len))
		goto out_walk;
	s->version = GPUSIM_SNAPSHOT_VERSION;
	s->cfg = ad->cfg;
	s->time_ns = hw_field(hs, hs_len, "clock.now");
	kmt_adapter_stats(ad, &s->stats);
	if (fill_tables(s, ad, &wk, hw_field(hs, hs_len, "gart.table")))
		goto out_walk;

	kmt_ws_tag(&w, TAG_MAGIC);
	kmt_ws_u32(&w, KMT_STATE_VERSION);
	save_hw(&w, hs, hs_len);
	ad->mm->ddi->save_state(ad->mm->drv, &w);
	save_vidmm(&w, ad->mm);
	save_objects(&w, ad, &wk);
	if (w.nomem)
		goto out_walk;
	s->state = w.buf;
	s->state_size = w.len;
	w.buf = NULL;
	*out = s;
	s = NULL;
	st = STATUS_SUCCESS;
out_walk:
	if (have_walk)
		walk_free(&wk);
	else
		free(wk.allocs), free(wk.mems), free(wk.sorted);
	free(hs);
	free(w.buf);
	gpusim_snapshot_free(s);
out:
	kmt_unlock();
	return st;
}

void gpusim_snapshot_free(struct gpusim_snapshot *s)
{
	if (!s)
		return;
	free(s->regs);
	free(s->gart);
	free(s->allocs);
	free(s->events);
	free(s->ranges);
	free((void *)s->state);
	free(s);
}
