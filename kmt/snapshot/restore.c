/*
 * Restoring a snapshot into a new adapter: memory, device state, driver books,
 * memory manager and every kernel object, renamed with fresh handles. Everything
 * read is checked before anything is built, so a damaged or hostile snapshot is
 * refused with a sentence and leaves nothing behind.
 */
#include <config.h>

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gpusim/hwstate.h>
#include <gpusim/snapshot.h>
#include "kmt/core.h"
#include "kmt/procva.h"
#include "kmt/snapshot/format.h"
#include "kmt/snapshot/stream.h"

/* ---- records as read ------------------------------------------------------- */

struct dev_rec {
	D3DKMT_HANDLE h;
	uint64_t resident_bytes[2];
	uint32_t faulted;
	struct kmt_fault_info fault;
	struct kmt_device *obj;
};

struct sync_rec {
	D3DKMT_HANDLE h, dev;
	uint32_t type, has_cpu, flags, slot;
	uint64_t value, cpu, pending_value, pending_fence, gpu_queued;
	struct kmt_sync *obj;
};

struct fpage_rec {
	uint32_t index;
	uint64_t pfn;
};

struct pq_rec {
	D3DKMT_HANDLE h, dev, sync;
	uint32_t priority;
	uint64_t last;
	struct kmt_pagingqueue *obj;
};

struct ctx_rec {
	D3DKMT_HANDLE h, dev;
	uint32_t legacy;
	uint64_t last_fence;
	struct kmt_context *obj;
};

struct res_rec {
	D3DKMT_HANDLE h, dev, share, origin;
	uint32_t shared;
	const void *runtime, *driver;
	uint64_t runtime_size, driver_size;
	uint64_t nallocs;
	const uint8_t *alloc_handles;   /* nallocs little-endian u32 */
	uint64_t allocs_seen;           /* allocations naming it, counted from the records */
	struct kmt_resource *obj;
};

struct mem_rec {
	uint32_t refs;
	D3DKMT_HANDLE owner;            /* 0: held by a struct whose handle is gone */
	struct gpusim_alloc_desc priv;
	struct vidmm_alloc v;           /* the fields read; links and pointers unset */
	uint32_t has_pages;
	const uint8_t *pages;           /* size / 4K little-endian u64 */
	uint32_t users, locks, resident;/* from the allocation records: handles, locks,
					 * handles made resident */
	struct kmt_alloc *holder;       /* the struct that embeds the memory */
};

struct alc_rec {
	D3DKMT_HANDLE h, dev, res;
	uint64_t mem;
	uint32_t resident, locks;
	bool listed;                    /* in its resource's allocation list already */
	struct kmt_alloc *obj;
};

/* GPU VA spaces (format.h, version 6). */
struct vtab_rec {
	uint32_t level, slot;
	struct vidmm_alloc v;           /* the fields read */
};

struct vspace_rec {
	uint32_t asid;
	uint64_t fence, ntables, first_table, nres, first_res, nkernel;
	struct vidmm_va_space *obj;
};

struct vres_rec {
	uint64_t start, size;
	uint32_t type, kernel;
};

struct vmap_rec {
	uint32_t space, ro;
	uint64_t start, size, mem, offset, pfn;
	struct vidmm_va_mapping *obj;
};

/* Old handle -> object, sorted by old handle. */
struct hmap {
	D3DKMT_HANDLE old, new_h;
	uint32_t type;                  /* enum kmt_type */
	void *rec;                      /* the record */
};

struct rs {
	struct kmt_adapter *ad;
	struct kmt_rstream r;
	char *err;
	size_t errlen;
	const uint8_t *hs;              /* the device's state (<gpusim/hwstate.h>) */
	size_t hs_len;
	struct hw_state_item sys_free;  /* from it, once the device took it */
	uint64_t sys_next_fresh;
	uint32_t blame_n;
	uint64_t *blame_fence;
	D3DKMT_HANDLE *blame_dev;
	struct dev_rec *devs;
	uint64_t ndevs;
	struct sync_rec *syncs;
	uint64_t nsyncs;
	struct fpage_rec *fpages;
	uint64_t nfpages;
	struct pq_rec *pqs;
	uint64_t npqs;
	struct ctx_rec *ctxs;
	uint64_t nctxs;
	struct res_rec *ress;
	uint64_t nress;
	struct mem_rec *mems;
	uint64_t nmems;
	struct alc_rec *allocs;
	uint64_t nallocs;
	uint32_t next_asid, nvspaces, proc_space;
	struct vspace_rec *vspaces;
	struct vtab_rec *vtabs;
	uint64_t nvtabs;
	struct vres_rec *vress;
	uint64_t nvress;
	struct vmap_rec *vmaps;
	uint64_t nvmaps;
	const uint8_t *policy;          /* the eviction policy's words, little-endian */
	uint64_t npolicy;
	struct hmap *map;
	size_t nmap;
	/* adapter fields */
	uint32_t removed, has_fault;
	uint64_t faults, submits, fence_seen;
	struct kmt_fault_info last_fault;
	bool nomem;
};

static int fail(struct rs *s, const char *fmt, ...)
{
	if (s->err && s->errlen) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(s->err, s->errlen, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

static int cut(struct rs *s)
{
	return fail(s, "the resume state is damaged or cut short (in its %s section)",
		    s->r.where ? s->r.where : "first");
}

static void *alloc_array(struct rs *s, uint64_t n, size_t size)
{
	void *p = calloc(n ? (size_t)n : 1, size);
	if (!p)
		s->nomem = true;
	return p;
}

static uint64_t le64(const uint8_t *p, uint64_t i)
{
	uint64_t v = 0;
	for (int k = 0; k < 8; k++)
		v |= (uint64_t)p[8 * i + k] << (8 * k);
	return v;
}

static uint32_t le32(const uint8_t *p, uint64_t i)
{
	return (uint32_t)p[4 * i] | (uint32_t)p[4 * i + 1] << 8 | (uint32_t)p[4 * i + 2] << 16 |
	       (uint32_t)p[4 * i + 3] << 24;
}

/* ---- reading ------------------------------------------------------------------- */

static void read_fault(struct kmt_rstream *r, struct kmt_fault_info *f)
{
	f->gpu_address = kmt_rs_u64(r);
	f->cause = kmt_rs_u32(r);
	f->engine = kmt_rs_u32(r);
	f->time_ns = kmt_rs_u64(r);
	f->completed = kmt_rs_u64(r);
}

static int read_hw(struct rs *s)
{
	struct kmt_rstream *r = &s->r;
	if (!kmt_rs_tag(r, TAG_HW, "device"))
		return cut(s);
	uint64_t n = kmt_rs_count(r, 1);
	s->hs = kmt_rs_bytes(r, (size_t)n);
	s->hs_len = (size_t)n;
	return r->bad ? cut(s) : 0;
}

/* What the checks of the records need from the device's state, which the device
 * has accepted (so these fields are there and well formed). */
static int read_hw_books(struct rs *s)
{
	struct hw_state_item fresh;
	if (hw_state_find(s->hs, s->hs_len, "sysmem.free", &s->sys_free) ||
	    hw_state_find(s->hs, s->hs_len, "sysmem.next_fresh", &fresh))
		return fail(s, "the device state lacks its system-page books");
	s->sys_next_fresh = hw_state_item_value(&fresh, 0);
	return 0;
}

static int read_vidmm(struct rs *s)
{
	struct kmt_rstream *r = &s->r;
	struct vidmm *mm = s->ad->mm;
	if (!kmt_rs_tag(r, TAG_VIDMM, "memory manager"))
		return cut(s);
	mm->tick = kmt_rs_u64(r);
	mm->budget_local = kmt_rs_u64(r);
	mm->budget_nonlocal = kmt_rs_u64(r);
	mm->resident_local = kmt_rs_u64(r);
	mm->resident_nonlocal = kmt_rs_u64(r);
	struct vidmm_stats *st = &mm->stats;
	st->evictions = kmt_rs_u64(r);
	st->page_ins = kmt_rs_u64(r);
	st->moves = kmt_rs_u64(r);
	st->demotions = kmt_rs_u64(r);
	st->promotions = kmt_rs_u64(r);
	st->bytes_in = kmt_rs_u64(r);
	st->bytes_out = kmt_rs_u64(r);
	st->allocations = kmt_rs_u64(r);
	st->commit_pages = kmt_rs_u64(r);
	mm->mark_gen = kmt_rs_u32(r);
	for (int i = 1; i < VIDMM_SEG_MAX; i++) {
		struct vidmm_segment *seg = &mm->seg[i];
		uint32_t present = kmt_rs_u32(r);
		if (r->bad)
			return cut(s);
		if (present != seg->present)
			return fail(s, "segment %s is %s in the snapshot but %s in its configuration",
				    gpusim_segment_name((uint32_t)i), present ? "present" : "absent",
				    seg->present ? "present" : "absent");
		if (!present)
			continue;
		seg->used = kmt_rs_u64(r);
		seg->pinned = kmt_rs_u64(r);
		seg->count = kmt_rs_u64(r);
		struct vidmm_suballoc_state ss;
		ss.pages = kmt_rs_u64(r);
		ss.fresh = kmt_rs_u32(r);
		ss.spare = kmt_rs_u32(r);
		ss.nspare = kmt_rs_u32(r);
		ss.used = kmt_rs_u64(r);
		ss.nalloc = kmt_rs_u64(r);
		ss.nfree = kmt_rs_u64(r);
		ss.fl_map = kmt_rs_u64(r);
		for (int f = 0; f < 64; f++)
			ss.sl_map[f] = kmt_rs_u32(r);
		for (int f = 0; f < 64; f++)
			for (int l = 0; l < 32; l++)
				ss.head[f][l] = kmt_rs_u32(r);
		if (r->bad || ss.fresh == 0 || ss.fresh > r->left / 32)
			return cut(s);
		struct vidmm_suballoc_node *nodes = alloc_array(s, ss.fresh, sizeof(*nodes));
		if (!nodes)
			return -ENOMEM;
		for (uint32_t n = 0; n < ss.fresh; n++) {
			nodes[n].off = kmt_rs_u64(r);
			nodes[n].len = kmt_rs_u64(r);
			nodes[n].phys_prev = kmt_rs_u32(r);
			nodes[n].phys_next = kmt_rs_u32(r);
			nodes[n].free_prev = kmt_rs_u32(r);
			nodes[n].free_next = kmt_rs_u32(r);
		}
		ss.nodes = nodes;
		struct vidmm_suballoc *sa;
		char why[200];
		int rc = vidmm_suballoc_from_state(&ss, seg->desc.size, HW_PAGE_SIZE, &sa, why, sizeof(why));
		free(nodes);
		if (rc == -ENOMEM)
			return rc;
		if (rc)
			return fail(s, "the %s segment's sub-allocator: %s",
				    gpusim_segment_name((uint32_t)i), why);
		vidmm_suballoc_destroy(seg->sa);
		seg->sa = sa;
	}
	return r->bad ? cut(s) : 0;
}

/* Grow an array read piece by piece (the tables and reservations of every
 * space in one): the counts were bounded by what is left of the stream. */
static void *grow(struct rs *s, void *p, uint64_t n, uint64_t more, size_t size)
{
	void *q = realloc(p, (size_t)(n + more ? n + more : 1) * size);
	if (!q) {
		free(p);
		s->nomem = true;
	}
	return q;
}

static int read_va(struct rs *s)
{
	struct kmt_rstream *r = &s->r;
	if (!kmt_rs_tag(r, TAG_VA, "GPU virtual address spaces"))
		return cut(s);
	s->next_asid = kmt_rs_u32(r);
	uint64_t nsp = kmt_rs_count(r, 28);
	s->proc_space = kmt_rs_u32(r);
	if (r->bad)
		return cut(s);
	s->nvspaces = (uint32_t)nsp;
	if (!(s->vspaces = alloc_array(s, nsp, sizeof(*s->vspaces))))
		return -ENOMEM;
	for (uint64_t i = 0; i < nsp; i++) {
		struct vspace_rec *v = &s->vspaces[i];
		v->asid = kmt_rs_u32(r);
		v->fence = kmt_rs_u64(r);
		v->ntables = kmt_rs_count(r, 104);
		if (r->bad)
			return cut(s);
		v->first_table = s->nvtabs;
		if (!(s->vtabs = grow(s, s->vtabs, s->nvtabs, v->ntables, sizeof(*s->vtabs))))
			return -ENOMEM;
		for (uint64_t k = 0; k < v->ntables; k++) {
			struct vtab_rec *t = &s->vtabs[s->nvtabs++];
			memset(t, 0, sizeof(*t));
			t->level = kmt_rs_u32(r);
			t->slot = kmt_rs_u32(r);
			t->v.seg = kmt_rs_u32(r);
			t->v.block = kmt_rs_u32(r);
			t->v.offset = kmt_rs_u64(r);
			t->v.size = kmt_rs_u64(r);
			t->v.align = kmt_rs_u64(r);
			t->v.flags = kmt_rs_u32(r);
			t->v.priority = kmt_rs_u32(r);
			uint32_t has_data = kmt_rs_u32(r);
			t->v.has_data = has_data != 0;
			t->v.last_fence = kmt_rs_u64(r);
			t->v.last_use = kmt_rs_u64(r);
			uint32_t pn = kmt_rs_u32(r), npref = kmt_rs_u32(r);
			bool wide = pn > KMT_PLACE_MAX || npref > KMT_PLACE_MAX || has_data > 1;
			t->v.pl.n = (uint8_t)pn;
			t->v.pl.npref = (uint8_t)npref;
			for (int j = 0; j < KMT_PLACE_MAX; j++) {
				uint32_t g = kmt_rs_u32(r);
				wide |= g >= VIDMM_SEG_MAX;
				t->v.pl.seg[j] = (uint8_t)g;
			}
			if (wide)
				t->v.pl.n = 0; /* refused by check_va */
		}
		v->nres = kmt_rs_count(r, 24);
		if (r->bad)
			return cut(s);
		v->first_res = s->nvress;
		if (!(s->vress = grow(s, s->vress, s->nvress, v->nres, sizeof(*s->vress))))
			return -ENOMEM;
		for (uint64_t k = 0; k < v->nres; k++) {
			struct vres_rec *x = &s->vress[s->nvress++];
			x->start = kmt_rs_u64(r);
			x->size = kmt_rs_u64(r);
			x->type = kmt_rs_u32(r);
			x->kernel = kmt_rs_u32(r);
		}
	}
	if (!(s->nvmaps = kmt_rs_count(r, 48), !r->bad))
		return cut(s);
	if (!(s->vmaps = alloc_array(s, s->nvmaps, sizeof(*s->vmaps))))
		return -ENOMEM;
	for (uint64_t i = 0; i < s->nvmaps; i++) {
		struct vmap_rec *m = &s->vmaps[i];
		m->space = kmt_rs_u32(r);
		m->start = kmt_rs_u64(r);
		m->size = kmt_rs_u64(r);
		m->mem = kmt_rs_u64(r);
		m->offset = kmt_rs_u64(r);
		m->pfn = kmt_rs_u64(r);
		m->ro = kmt_rs_u32(r);
	}
	return r->bad ? cut(s) : 0;
}

static int read_objects(struct rs *s)
{
	struct kmt_rstream *r = &s->r;
	if (!kmt_rs_tag(r, TAG_ADAPTER, "adapter"))
		return cut(s);
	s->removed = kmt_rs_u32(r);
	s->faults = kmt_rs_u64(r);
	s->submits = kmt_rs_u64(r);
	s->fence_seen = kmt_rs_u64(r);
	s->has_fault = kmt_rs_u32(r);
	read_fault(r, &s->last_fault);
	uint64_t nb = kmt_rs_count(r, 12);
	if (r->bad || nb > KMT_BLAME_SLOTS)
		return cut(s);
	s->blame_n = (uint32_t)nb;
	s->blame_fence = alloc_array(s, nb, sizeof(uint64_t));
	s->blame_dev = alloc_array(s, nb, sizeof(D3DKMT_HANDLE));
	if (!s->blame_fence || !s->blame_dev)
		return -ENOMEM;
	for (uint64_t i = 0; i < nb; i++) {
		s->blame_fence[i] = kmt_rs_u64(r);
		s->blame_dev[i] = kmt_rs_u32(r);
	}

	if (!kmt_rs_tag(r, TAG_DEVICES, "devices") || !(s->ndevs = kmt_rs_count(r, 44), !r->bad))
		return cut(s);
	if (!(s->devs = alloc_array(s, s->ndevs, sizeof(*s->devs))))
		return -ENOMEM;
	for (uint64_t i = 0; i < s->ndevs; i++) {
		struct dev_rec *d = &s->devs[i];
		d->h = kmt_rs_u32(r);
		d->resident_bytes[0] = kmt_rs_u64(r);
		d->resident_bytes[1] = kmt_rs_u64(r);
		d->faulted = kmt_rs_u32(r);
		read_fault(r, &d->fault);
	}

	if (!kmt_rs_tag(r, TAG_SYNCS, "sync objects") || !(s->nsyncs = kmt_rs_count(r, 64), !r->bad))
		return cut(s);
	if (!(s->syncs = alloc_array(s, s->nsyncs, sizeof(*s->syncs))))
		return -ENOMEM;
	for (uint64_t i = 0; i < s->nsyncs; i++) {
		struct sync_rec *y = &s->syncs[i];
		y->h = kmt_rs_u32(r);
		y->dev = kmt_rs_u32(r);
		y->type = kmt_rs_u32(r);
		y->value = kmt_rs_u64(r);
		y->has_cpu = kmt_rs_u32(r);
		y->cpu = kmt_rs_u64(r);
		y->pending_value = kmt_rs_u64(r);
		y->pending_fence = kmt_rs_u64(r);
		y->flags = kmt_rs_u32(r);
		y->slot = kmt_rs_u32(r);
		y->gpu_queued = kmt_rs_u64(r);
	}

	if (!kmt_rs_tag(r, TAG_PAGING, "paging queues") || !(s->nfpages = kmt_rs_count(r, 12), !r->bad))
		return cut(s);
	if (!(s->fpages = alloc_array(s, s->nfpages, sizeof(*s->fpages))))
		return -ENOMEM;
	for (uint64_t i = 0; i < s->nfpages; i++) {
		s->fpages[i].index = kmt_rs_u32(r);
		s->fpages[i].pfn = kmt_rs_u64(r);
	}
	if (!(s->npqs = kmt_rs_count(r, 24), !r->bad))
		return cut(s);
	if (!(s->pqs = alloc_array(s, s->npqs, sizeof(*s->pqs))))
		return -ENOMEM;
	for (uint64_t i = 0; i < s->npqs; i++) {
		struct pq_rec *q = &s->pqs[i];
		q->h = kmt_rs_u32(r);
		q->dev = kmt_rs_u32(r);
		q->sync = kmt_rs_u32(r);
		q->priority = kmt_rs_u32(r);
		q->last = kmt_rs_u64(r);
	}

	if (!kmt_rs_tag(r, TAG_CONTEXTS, "contexts") || !(s->nctxs = kmt_rs_count(r, 20), !r->bad))
		return cut(s);
	if (!(s->ctxs = alloc_array(s, s->nctxs, sizeof(*s->ctxs))))
		return -ENOMEM;
	for (uint64_t i = 0; i < s->nctxs; i++) {
		struct ctx_rec *c = &s->ctxs[i];
		c->h = kmt_rs_u32(r);
		c->dev = kmt_rs_u32(r);
		c->legacy = kmt_rs_u32(r);
		c->last_fence = kmt_rs_u64(r);
	}

	if (!kmt_rs_tag(r, TAG_RESOURCES, "resources") || !(s->nress = kmt_rs_count(r, 44), !r->bad))
		return cut(s);
	if (!(s->ress = alloc_array(s, s->nress, sizeof(*s->ress))))
		return -ENOMEM;
	for (uint64_t i = 0; i < s->nress; i++) {
		struct res_rec *x = &s->ress[i];
		x->h = kmt_rs_u32(r);
		x->dev = kmt_rs_u32(r);
		x->shared = kmt_rs_u32(r);
		x->share = kmt_rs_u32(r);
		x->origin = kmt_rs_u32(r);
		x->runtime_size = kmt_rs_count(r, 1);
		x->runtime = kmt_rs_bytes(r, (size_t)x->runtime_size);
		x->driver_size = kmt_rs_count(r, 1);
		x->driver = kmt_rs_bytes(r, (size_t)x->driver_size);
		x->nallocs = kmt_rs_count(r, 4);
		x->alloc_handles = kmt_rs_bytes(r, (size_t)x->nallocs * 4);
		if (r->bad || x->runtime_size > UINT32_MAX || x->driver_size > UINT32_MAX)
			return cut(s);
	}

	if (!kmt_rs_tag(r, TAG_MEMS, "memory objects") || !(s->nmems = kmt_rs_count(r, 140), !r->bad))
		return cut(s);
	if (!(s->mems = alloc_array(s, s->nmems, sizeof(*s->mems))))
		return -ENOMEM;
	for (uint64_t i = 0; i < s->nmems; i++) {
		struct mem_rec *m = &s->mems[i];
		struct vidmm_alloc *v = &m->v;
		m->refs = kmt_rs_u32(r);
		m->owner = kmt_rs_u32(r);
		m->priv.version = kmt_rs_u32(r);
		m->priv.flags = kmt_rs_u32(r);
		m->priv.size = kmt_rs_u64(r);
		m->priv.alignment = kmt_rs_u64(r);
		for (int k = 0; k < 3; k++)
			m->priv.preferred[k] = kmt_rs_u32(r);
		m->priv.allowed = kmt_rs_u32(r);
		m->priv.priority = kmt_rs_u32(r);
		v->seg = kmt_rs_u32(r);
		v->block = kmt_rs_u32(r);
		v->size = kmt_rs_u64(r);
		v->flags = kmt_rs_u32(r);
		v->lock_count = kmt_rs_u32(r);
		v->resident_count = kmt_rs_u32(r);
		v->mark = kmt_rs_u32(r);
		v->last_fence = kmt_rs_u64(r);
		v->offset = kmt_rs_u64(r);
		v->align = kmt_rs_u64(r);
		v->priority = kmt_rs_u32(r);
		uint32_t pn = kmt_rs_u32(r), npref = kmt_rs_u32(r);
		bool wide = pn > KMT_PLACE_MAX || npref > KMT_PLACE_MAX;
		v->pl.n = (uint8_t)pn;
		v->pl.npref = (uint8_t)npref;
		for (int k = 0; k < KMT_PLACE_MAX; k++) {
			uint32_t g = kmt_rs_u32(r);
			wide |= g >= VIDMM_SEG_MAX;
			v->pl.seg[k] = (uint8_t)g;
		}
		if (wide)
			v->pl.n = 0; /* refused by check_records */
		uint32_t has_data = kmt_rs_u32(r);
		v->has_data = has_data != 0;
		v->last_use = kmt_rs_u64(r);
		v->handle = kmt_rs_u32(r);
		v->device = kmt_rs_u32(r);
		m->has_pages = kmt_rs_u32(r);
		if (r->bad || has_data > 1 || m->has_pages > 1 || v->size == 0 || v->size % HW_PAGE_SIZE)
			return r->bad ? cut(s) : fail(s, "memory object %llu is malformed", (unsigned long long)i);
		if (m->has_pages) {
			uint64_t n = v->size >> HW_PAGE_SHIFT;
			if (n > r->left / 8)
				return cut(s);
			m->pages = kmt_rs_bytes(r, (size_t)n * 8);
		}
	}

	if (!kmt_rs_tag(r, TAG_ALLOCS, "allocations") || !(s->nallocs = kmt_rs_count(r, 28), !r->bad))
		return cut(s);
	if (!(s->allocs = alloc_array(s, s->nallocs, sizeof(*s->allocs))))
		return -ENOMEM;
	for (uint64_t i = 0; i < s->nallocs; i++) {
		struct alc_rec *a = &s->allocs[i];
		a->h = kmt_rs_u32(r);
		a->dev = kmt_rs_u32(r);
		a->mem = kmt_rs_u64(r);
		a->res = kmt_rs_u32(r);
		a->resident = kmt_rs_u32(r);
		a->locks = kmt_rs_u32(r);
	}

	int rc = read_va(s);
	if (rc)
		return rc;

	if (!kmt_rs_tag(r, TAG_POLICY, "eviction policy") || !(s->npolicy = kmt_rs_count(r, 8), !r->bad))
		return cut(s);
	s->policy = kmt_rs_bytes(r, (size_t)s->npolicy * 8);
	if (!kmt_rs_tag(r, TAG_END, "end") || r->left)
		return cut(s);
	return 0;
}

/* ---- cross-checks ------------------------------------------------------------------ */

static int cmp_hmap(const void *a, const void *b)
{
	D3DKMT_HANDLE x = ((const struct hmap *)a)->old, y = ((const struct hmap *)b)->old;
	return x < y ? -1 : x > y;
}

static struct hmap *lookup(const struct rs *s, D3DKMT_HANDLE old)
{
	struct hmap key = { .old = old };
	return old ? bsearch(&key, s->map, s->nmap, sizeof(*s->map), cmp_hmap) : NULL;
}

/* The record of an old handle of this type, NULL when there is none. */
static void *find(const struct rs *s, D3DKMT_HANDLE old, uint32_t type)
{
	struct hmap *hit = lookup(s, old);
	return hit && hit->type == type ? hit->rec : NULL;
}

static int build_map(struct rs *s)
{
	uint64_t n = s->ndevs + s->nsyncs + s->npqs + s->nctxs + s->nress + s->nallocs;
	for (uint64_t i = 0; i < s->nress; i++)
		n += s->ress[i].share != 0;
	if (!(s->map = alloc_array(s, n, sizeof(*s->map))))
		return -ENOMEM;
	size_t k = 0;
#define ADD(h_, t_, r_) s->map[k++] = (struct hmap){ .old = (h_), .type = (t_), .rec = (r_) }
	for (uint64_t i = 0; i < s->ndevs; i++)
		ADD(s->devs[i].h, KMT_T_DEVICE, &s->devs[i]);
	for (uint64_t i = 0; i < s->nsyncs; i++)
		ADD(s->syncs[i].h, KMT_T_SYNC, &s->syncs[i]);
	for (uint64_t i = 0; i < s->npqs; i++)
		ADD(s->pqs[i].h, KMT_T_PAGINGQUEUE, &s->pqs[i]);
	for (uint64_t i = 0; i < s->nctxs; i++)
		ADD(s->ctxs[i].h, KMT_T_CONTEXT, &s->ctxs[i]);
	for (uint64_t i = 0; i < s->nress; i++) {
		ADD(s->ress[i].h, KMT_T_RESOURCE, &s->ress[i]);
		if (s->ress[i].share)
			ADD(s->ress[i].share, KMT_T_SHARE, &s->ress[i]);
	}
	for (uint64_t i = 0; i < s->nallocs; i++)
		ADD(s->allocs[i].h, KMT_T_ALLOCATION, &s->allocs[i]);
#undef ADD
	s->nmap = k;
	qsort(s->map, s->nmap, sizeof(*s->map), cmp_hmap);
	for (size_t i = 0; i < s->nmap; i++)
		if (!s->map[i].old || (i && s->map[i].old == s->map[i - 1].old))
			return fail(s, "handle 0x%x is zero or names two objects", s->map[i].old);
	return 0;
}

/* A placement the manager could have been given: 1..KMT_PLACE_MAX segments of
 * this adapter, each once, whose bases honour the alignment, unused slots 0. */
static bool bad_placement(const struct vidmm *mm, const struct vidmm_alloc *v)
{
	const struct kmt_placement *pl = &v->pl;
	uint32_t seen = 0;
	if (!pl->n || pl->n > KMT_PLACE_MAX || !pl->npref || pl->npref > pl->n)
		return true;
	for (uint32_t k = 0; k < KMT_PLACE_MAX; k++) {
		uint32_t g = pl->seg[k];
		if (k >= pl->n) {
			if (g)
				return true;
			continue;
		}
		if (g == 0 || g >= VIDMM_SEG_MAX || !mm->seg[g].present || (seen & (1u << g)) ||
		    mm->seg[g].desc.base_align < v->align)
			return true;
		seen |= 1u << g;
	}
	return false;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

/* ---- the eviction policy's state ---------------------------------------------------- */

/* The policy reads its words and names allocations by index: the records while
 * checking, the built objects when applying. */
struct policy_in {
	struct rs *s;
	uint64_t next;
	bool built;
};

static uint64_t policy_get(void *ctx)
{
	struct policy_in *in = ctx;
	if (in->next >= in->s->npolicy) {
		in->next = UINT64_MAX;
		return 0;
	}
	return le64(in->s->policy, in->next++);
}

static struct vidmm_alloc *policy_alloc(void *ctx, uint64_t i)
{
	struct policy_in *in = ctx;
	if (i >= in->s->nmems)
		return NULL;
	return in->built ? &in->s->mems[i].holder->own.v : &in->s->mems[i].v;
}

static int load_policy(struct rs *s, bool apply)
{
	struct vidmm *mm = s->ad->mm;
	struct policy_in in = { s, 0, apply };
	char why[200] = "";
	struct vidmm_policy_io io = { .ctx = &in, .get = policy_get, .alloc = policy_alloc,
				      .nallocs = s->nmems, .apply = apply, .err = why, .errlen = sizeof(why) };
	int rc = mm->policy->load(mm->policy_state, &io);
	if (rc == -ENOMEM)
		return rc;
	if (!rc && (in.next == UINT64_MAX || in.next != s->npolicy))
		return fail(s, "the %s policy's state is %s", mm->policy->name,
			    in.next == UINT64_MAX ? "cut short" : "longer than it reads");
	if (rc)
		return fail(s, "the %s policy's state: %s", mm->policy->name, why);
	return 0;
}

/* The VA records on their own: the spaces' identities, each page table's memory
 * (a kernel allocation where its segment's books put it; its block joins
 * `blocks`, so that no block is owned twice), the kernel's range and its pages.
 * The trees are checked as they are built (build_va), the entries against the
 * placements by vidmm_check. */
static int check_va(struct rs *s, uint64_t *blocks, uint64_t *nblocks)
{
	struct vidmm *mm = s->ad->mm;
	if (s->nvspaces && !mm->has_mmu)
		return fail(s, "the snapshot has GPU VA spaces but its driver has no GPU MMU");
	/* libkmt is one process: one space per adapter, made on first use. */
	if (s->nvspaces > 1 || s->proc_space != (s->nvspaces ? 0 : UINT32_MAX))
		return fail(s, "the snapshot has %u GPU VA spaces (the process's: %u); an adapter has at most one",
			    s->nvspaces, s->proc_space);
	for (uint32_t i = 0; i < s->nvspaces; i++) {
		const struct vspace_rec *v = &s->vspaces[i];
		if (!v->asid || v->asid > s->next_asid)
			return fail(s, "GPU VA space %u has ASID %u, which was never handed out", i, v->asid);
	}
	for (uint64_t i = 0; i < s->nvtabs; i++) {
		const struct vidmm_alloc *v = &s->vtabs[i].v;
		if (v->flags != (GPUSIM_ALLOC_PINNED | VIDMM_ALLOC_KERNEL) || v->size != mm->mmu.table_bytes ||
		    v->align != HW_PAGE_SIZE || bad_placement(mm, v) || v->seg < 1 || v->seg >= VIDMM_SEG_MAX ||
		    !mm->seg[v->seg].present || !mm->seg[v->seg].desc.vram ||
		    vidmm_suballoc_offset(mm->seg[v->seg].sa, v->block) != v->offset ||
		    vidmm_suballoc_size(mm->seg[v->seg].sa, v->block) != v->size)
			return fail(s, "page table %llu is not a pinned kernel allocation where its segment's books "
				    "place it", (unsigned long long)i);
		blocks[(*nblocks)++] = (uint64_t)v->seg << 32 | v->block;
	}
	uint64_t base = kmt_fence_gpu_va(s->ad, 0), limit = mm->has_mmu ? 1ull << mm->mmu.va_bits : 0;
	for (uint32_t i = 0; i < s->nvspaces; i++) {
		const struct vspace_rec *v = &s->vspaces[i];
		uint32_t nkernel = 0;
		for (uint64_t k = v->first_res; k < v->first_res + v->nres; k++) {
			const struct vres_rec *x = &s->vress[k];
			if (x->kernel > 1 || (x->kernel && (x->start != base || !base || x->size != limit - base)) ||
			    (!x->kernel && x->type != D3DDDIGPUVIRTUALADDRESS_RESERVE_NO_ACCESS &&
			     x->type != D3DDDIGPUVIRTUALADDRESS_RESERVE_ZERO))
				return fail(s, "GPU VA reservation at 0x%llx is malformed or is not the kernel's range",
					    (unsigned long long)x->start);
			nkernel += x->kernel;
		}
		if (nkernel != (base != 0))
			return fail(s, "GPU VA space %u lacks the kernel's range for monitored fences", i);
	}
	for (uint64_t i = 0; i < s->nvmaps; i++) {
		struct vmap_rec *m = &s->vmaps[i];
		if (m->space >= s->nvspaces || m->ro > 1 || (m->mem != UINT64_MAX && m->mem >= s->nmems))
			return fail(s, "GPU VA mapping at 0x%llx names no space or memory object",
				    (unsigned long long)m->start);
		if (m->mem != UINT64_MAX)
			continue;
		/* A kernel page maps the monitored fence page of its index. */
		bool found = false;
		for (uint64_t k = 0; k < s->nfpages && !found && m->start >= base; k++)
			found = s->fpages[k].index == (m->start - base) / HW_PAGE_SIZE && s->fpages[k].pfn == m->pfn;
		if (!found)
			return fail(s, "GPU VA 0x%llx maps system page %llu, which is not that monitored fence page",
				    (unsigned long long)m->start, (unsigned long long)m->pfn);
		s->vspaces[m->space].nkernel++;
	}
	for (uint32_t i = 0; i < s->nvspaces; i++)
		if (s->vspaces[i].nkernel != s->nfpages)
			return fail(s, "GPU VA space %u maps %llu monitored fence pages of %llu", i,
				    (unsigned long long)s->vspaces[i].nkernel, (unsigned long long)s->nfpages);
	return 0;
}

static int check_records(struct rs *s)
{
	struct vidmm *mm = s->ad->mm;
	for (uint64_t i = 0; i < s->ndevs; i++)
		if (s->devs[i].faulted > 1 || s->devs[i].fault.engine >= KMT_ENGINES)
			return fail(s, "device 0x%x has a malformed fault record", s->devs[i].h);
	for (uint64_t i = 0; i < s->nsyncs; i++) {
		const struct sync_rec *y = &s->syncs[i];
		if (!find(s, y->dev, KMT_T_DEVICE))
			return fail(s, "sync object 0x%x names no device", y->h);
		if ((y->type != D3DDDI_FENCE && y->type != D3DDDI_MONITORED_FENCE) ||
		    y->has_cpu != (y->type == D3DDDI_MONITORED_FENCE))
			return fail(s, "sync object 0x%x has type %u", y->h, y->type);
		/* Each monitored fence in a slot of a saved page, no slot twice. */
		bool paged = false;
		for (uint64_t k = 0; k < s->nfpages && !paged; k++)
			paged = s->fpages[k].index == y->slot / KMT_FENCE_SLOTS_PER_PAGE;
		if (y->has_cpu ? !paged : y->slot != KMT_NO_SLOT)
			return fail(s, "sync object 0x%x has no place for its value", y->h);
		for (uint64_t k = 0; k < i && y->has_cpu; k++)
			if (s->syncs[k].has_cpu && s->syncs[k].slot == y->slot)
				return fail(s, "sync objects 0x%x and 0x%x share their value", s->syncs[k].h, y->h);
	}
	for (uint64_t i = 0; i < s->nfpages; i++)
		for (uint64_t k = 0; k < i; k++)
			if (s->fpages[k].index == s->fpages[i].index || s->fpages[k].pfn == s->fpages[i].pfn)
				return fail(s, "two monitored fence pages share a place");
	for (uint64_t i = 0; i < s->npqs; i++) {
		const struct pq_rec *q = &s->pqs[i];
		const struct sync_rec *y = find(s, q->sync, KMT_T_SYNC);
		int32_t pri = (int32_t)q->priority;
		if (!find(s, q->dev, KMT_T_DEVICE) || !y || y->dev != q->dev || !y->has_cpu || pri < -1 || pri > 1)
			return fail(s, "paging queue 0x%x is malformed or names no device or fence", q->h);
		for (uint64_t k = 0; k < i; k++)
			if (s->pqs[k].sync == q->sync)
				return fail(s, "paging queues 0x%x and 0x%x share a fence", s->pqs[k].h, q->h);
	}
	for (uint64_t i = 0; i < s->nctxs; i++)
		if (!find(s, s->ctxs[i].dev, KMT_T_DEVICE) || s->ctxs[i].legacy > 1)
			return fail(s, "context 0x%x is malformed or names no device", s->ctxs[i].h);
	for (uint64_t i = 0; i < s->nallocs; i++) {
		struct alc_rec *a = &s->allocs[i];
		if (!find(s, a->dev, KMT_T_DEVICE) || a->mem >= s->nmems)
			return fail(s, "allocation 0x%x names no device or memory", a->h);
		struct res_rec *x = a->res ? find(s, a->res, KMT_T_RESOURCE) : NULL;
		if (a->res && (!x || x->dev != a->dev))
			return fail(s, "allocation 0x%x names a resource that is not its device's", a->h);
		if (x)
			x->allocs_seen++;
		struct mem_rec *m = &s->mems[a->mem];
		m->users++;
		m->locks += a->locks;
		m->resident += a->resident != 0; /* the manager counts handles, not calls */
		if (m->users == 0 || m->locks < a->locks)
			return fail(s, "allocation counters overflow");
	}
	/* A snapshot may hold a resource per allocation: nothing here may scan all
	 * records per resource (allocs_seen was counted above, listed is marked here). */
	for (uint64_t i = 0; i < s->nress; i++) {
		const struct res_rec *x = &s->ress[i];
		const struct res_rec *o = x->origin ? find(s, x->origin, KMT_T_RESOURCE) : NULL;
		if (!find(s, x->dev, KMT_T_DEVICE) || x->shared > 1 || (x->share && !x->shared) ||
		    (x->origin && (!o || o == x)))
			return fail(s, "resource 0x%x is malformed", x->h);
		if (x->allocs_seen != x->nallocs)
			return fail(s, "resource 0x%x's counts disagree with the objects", x->h);
		for (uint64_t k = 0; k < x->nallocs; k++) {
			struct alc_rec *a = find(s, le32(x->alloc_handles, k), KMT_T_ALLOCATION);
			if (!a || a->res != x->h)
				return fail(s, "resource 0x%x lists an allocation that is not its own", x->h);
			/* Only its own resource may list an allocation, so a second
			 * listing is a duplicate in this list. */
			if (a->listed)
				return fail(s, "resource 0x%x lists an allocation twice", x->h);
			a->listed = true;
		}
	}

	/* Memory: placement agrees with the sub-allocators, each block and each system
	 * page has one owner, and the counters agree with the handles. */
	uint64_t sys_pages = hw_device_config(s->ad->hw)->sysmem >> HW_PAGE_SHIFT;
	uint8_t *owned = alloc_array(s, (sys_pages + 7) / 8, 1);
	uint64_t *blocks = alloc_array(s, s->nmems + s->nvtabs, sizeof(uint64_t));
	if (!owned || !blocks) {
		free(owned);
		free(blocks);
		return -ENOMEM;
	}
	for (uint64_t i = 0; i < s->sys_free.count; i++) {
		uint64_t p = hw_state_item_value(&s->sys_free, i);
		owned[p / 8] |= (uint8_t)(1u << (p % 8)); /* not to be held */
	}
	for (uint64_t i = 0; i < s->nfpages; i++) {
		uint64_t p = s->fpages[i].pfn;
		if (p >= s->sys_next_fresh || (owned[p / 8] & (1u << (p % 8)))) {
			free(owned);
			free(blocks);
			return fail(s, "monitored fence page %llu is a free system page", (unsigned long long)p);
		}
		owned[p / 8] |= (uint8_t)(1u << (p % 8));
	}
	uint64_t nblocks = 0;
	int rc = 0;
	for (uint64_t i = 0; i < s->nmems && !rc; i++) {
		struct mem_rec *m = &s->mems[i];
		const struct vidmm_alloc *v = &m->v;
		bool owner_ok = !m->owner;
		if (m->owner) {
			const struct alc_rec *a = find(s, m->owner, KMT_T_ALLOCATION);
			owner_ok = a && a->mem == i;
		}
		if (!m->users || m->refs != m->users || !owner_ok) {
			rc = fail(s, "memory object %llu has %u references but %u handles", (unsigned long long)i,
				  m->refs, m->users);
			break;
		}
		if (m->priv.version != GPUSIM_ALLOC_DESC_VERSION || (v->flags & ~GPUSIM_ALLOC_FLAGS_ALL) ||
		    !v->align || (v->align & (v->align - 1)) || v->align < HW_PAGE_SIZE ||
		    bad_placement(mm, v)) {
			rc = fail(s, "memory object %llu (allocation 0x%x) is malformed", (unsigned long long)i,
				  v->handle);
			break;
		}
		if (v->lock_count != m->locks || v->resident_count != m->resident) {
			rc = fail(s, "allocation 0x%x: %u locks and %u handles made resident, its handles "
				  "say %u and %u", v->handle, v->lock_count, v->resident_count, m->locks,
				  m->resident);
			break;
		}
		if (v->seg != GPUSIM_SEG_SYS) {
			if (v->seg < 1 || v->seg >= VIDMM_SEG_MAX || !mm->seg[v->seg].present ||
			    vidmm_suballoc_offset(mm->seg[v->seg].sa, v->block) != v->offset ||
			    vidmm_suballoc_size(mm->seg[v->seg].sa, v->block) != v->size) {
				rc = fail(s, "allocation 0x%x is not where its segment's books place it", v->handle);
				break;
			}
			blocks[nblocks++] = (uint64_t)v->seg << 32 | v->block;
		}
		/* An aperture maps the pages; a lock maps them too unless its segment
		 * holds the bytes behind BAR2 (the CPU reaches nothing else). */
		bool aperture = v->seg == GPUSIM_SEG_SYS || mm->seg[v->seg].desc.aperture;
		if ((v->seg != GPUSIM_SEG_SYS && aperture && !m->has_pages) ||
		    (v->lock_count && ((!aperture && !mm->seg[v->seg].desc.cpu_visible) ||
				       (aperture && !m->has_pages)))) {
			rc = fail(s, "allocation 0x%x lacks the system pages its place needs", v->handle);
			break;
		}
		for (uint64_t k = 0; m->has_pages && k < v->size >> HW_PAGE_SHIFT; k++) {
			uint64_t p = le64(m->pages, k);
			if (p >= s->sys_next_fresh || (owned[p / 8] & (1u << (p % 8)))) {
				rc = fail(s, "allocation 0x%x holds system page %llu, which is free or held twice",
					  v->handle, (unsigned long long)p);
				break;
			}
			owned[p / 8] |= (uint8_t)(1u << (p % 8));
		}
	}
	if (!rc)
		rc = check_va(s, blocks, &nblocks);
	if (!rc) {
		qsort(blocks, nblocks, sizeof(*blocks), cmp_u64);
		for (uint64_t i = 1; i < nblocks; i++)
			if (blocks[i] == blocks[i - 1])
				rc = fail(s, "two allocations claim one block of the %s segment",
					  gpusim_segment_name((uint32_t)(blocks[i] >> 32)));
	}
	free(owned);
	free(blocks);
	if (rc)
		return rc;

	if ((rc = load_policy(s, false)))
		return rc;
	if (s->removed > 1 || s->has_fault > 1)
		return fail(s, "the adapter's flags hold invalid values");
	return 0;
}

/* ---- building ------------------------------------------------------------------- */

static D3DKMT_HANDLE new_handle(const struct rs *s, D3DKMT_HANDLE old)
{
	struct hmap *hit = lookup(s, old);
	return hit ? hit->new_h : 0;
}

static void append_dev(struct kmt_adapter *ad, struct kmt_device *d)
{
	struct kmt_device **pp = &ad->devices;
	while (*pp)
		pp = &(*pp)->next;
	*pp = d;
}

/* Objects are made first, handles second (ascending old handle, always fresh
 * slots), links third: every step after the first can only fail for memory. */
static int build(struct rs *s)
{
	struct kmt_adapter *ad = s->ad;
	for (uint64_t i = 0; i < s->ndevs; i++)
		if (!(s->devs[i].obj = calloc(1, sizeof(struct kmt_device))))
			return -ENOMEM;
	for (uint64_t i = 0; i < s->nsyncs; i++)
		if (!(s->syncs[i].obj = calloc(1, sizeof(struct kmt_sync))))
			return -ENOMEM;
	for (uint64_t i = 0; i < s->npqs; i++)
		if (!(s->pqs[i].obj = calloc(1, sizeof(struct kmt_pagingqueue))))
			return -ENOMEM;
	/* The pages' bytes and GART entries came back with the device. */
	for (uint64_t i = 0; i < s->nfpages; i++) {
		int rc = kmt_fence_page_restore(ad, s->fpages[i].index, s->fpages[i].pfn);
		if (rc == -EINVAL)
			return fail(s, "monitored fence page %u cannot be placed", s->fpages[i].index);
		if (rc)
			return rc;
	}
	for (uint64_t i = 0; i < s->nsyncs; i++)
		if (s->syncs[i].has_cpu && kmt_fence_slot_take(ad, s->syncs[i].slot))
			return fail(s, "sync object 0x%x has no place for its value", s->syncs[i].h);
	for (uint64_t i = 0; i < s->nctxs; i++) {
		if (!(s->ctxs[i].obj = calloc(1, sizeof(struct kmt_context))))
			return -ENOMEM;
		if (s->ctxs[i].legacy && kmt_context_buffers(s->ctxs[i].obj))
			return -ENOMEM;
	}
	for (uint64_t i = 0; i < s->nress; i++) {
		struct res_rec *x = &s->ress[i];
		if (!(x->obj = calloc(1, sizeof(struct kmt_resource))))
			return -ENOMEM;
		if (x->runtime_size && !(x->obj->runtime_data = malloc((size_t)x->runtime_size)))
			return -ENOMEM;
		if (x->driver_size && !(x->obj->driver_data = malloc((size_t)x->driver_size)))
			return -ENOMEM;
	}
	for (size_t i = 0; i < s->nmap; i++) {
		struct hmap *e = &s->map[i];
		void *obj = NULL;
		switch (e->type) {
		case KMT_T_DEVICE: obj = ((struct dev_rec *)e->rec)->obj; break;
		case KMT_T_SYNC: obj = ((struct sync_rec *)e->rec)->obj; break;
		case KMT_T_PAGINGQUEUE: obj = ((struct pq_rec *)e->rec)->obj; break;
		case KMT_T_CONTEXT: obj = ((struct ctx_rec *)e->rec)->obj; break;
		case KMT_T_RESOURCE:
		case KMT_T_SHARE: obj = ((struct res_rec *)e->rec)->obj; break;
		case KMT_T_ALLOCATION: {
			/* An allocation's object is the cell of its handle's slot. */
			struct alc_rec *r = e->rec;
			if (!(r->obj = kmt_alloc_new(NULL, true)))
				return -ENOMEM;
			e->new_h = r->obj->handle;
			continue;
		}
		}
		if (!(e->new_h = kmt_handle_new_fresh(e->type, obj)))
			return -ENOMEM;
	}
	for (uint64_t i = 0; i < s->nmems; i++) {
		struct mem_rec *m = &s->mems[i];
		if (m->owner) {
			m->holder = ((struct alc_rec *)find(s, m->owner, KMT_T_ALLOCATION))->obj;
		} else if (!(m->holder = kmt_alloc_new_orphan())) {
			return -ENOMEM;
		}
		if (m->has_pages && !(m->holder->own.v.pages = malloc((size_t)(m->v.size >> HW_PAGE_SHIFT) * 8)))
			return -ENOMEM;
	}
	for (uint64_t i = 0; i < s->ndevs; i++) {
		struct dev_rec *r = &s->devs[i];
		struct kmt_device *d = r->obj;
		d->handle = new_handle(s, r->h);
		d->ad = ad;
		d->resident_bytes[0] = r->resident_bytes[0];
		d->resident_bytes[1] = r->resident_bytes[1];
		d->faulted = r->faulted;
		d->fault = r->fault;
		append_dev(ad, d);
	}
	return 0;
}

static void link_objects(struct rs *s)
{
	struct kmt_adapter *ad = s->ad;
	for (uint64_t i = 0; i < s->nsyncs; i++) {
		const struct sync_rec *r = &s->syncs[i];
		struct kmt_sync *y = r->obj, **pp;
		struct kmt_device *d = ((struct dev_rec *)find(s, r->dev, KMT_T_DEVICE))->obj;
		y->handle = new_handle(s, r->h);
		y->dev = d;
		y->type = (D3DDDI_SYNCHRONIZATIONOBJECT_TYPE)r->type;
		y->flags = r->flags;
		/* A monitored fence's value is in its page, restored with memory;
		 * `value` is what the kernel had seen, so later writes still show. */
		y->value = r->value;
		y->slot = r->has_cpu ? r->slot : KMT_NO_SLOT;
		if (r->has_cpu) {
			y->cpu_value = kmt_fence_kernel(ad, r->slot);
			y->user_value = kmt_fence_user(ad, r->slot);
		}
		y->pending_value = r->pending_value;
		y->pending_fence = r->pending_fence;
		y->gpu_queued = r->gpu_queued;
		for (pp = &d->syncs; *pp; pp = &(*pp)->next)
			y->prev = *pp;
		*pp = y;
	}
	for (uint64_t i = 0; i < s->npqs; i++) {
		const struct pq_rec *r = &s->pqs[i];
		struct kmt_pagingqueue *q = r->obj, **pp;
		struct kmt_device *d = ((struct dev_rec *)find(s, r->dev, KMT_T_DEVICE))->obj;
		q->handle = new_handle(s, r->h);
		q->dev = d;
		q->priority = (D3DDDI_PAGINGQUEUE_PRIORITY)(int32_t)r->priority;
		q->last = r->last;
		q->fence = ((struct sync_rec *)find(s, r->sync, KMT_T_SYNC))->obj;
		q->fence->pq = q;
		for (pp = &d->pqs; *pp; pp = &(*pp)->next)
			q->prev = *pp;
		*pp = q;
	}
	for (uint64_t i = 0; i < s->nctxs; i++) {
		const struct ctx_rec *r = &s->ctxs[i];
		struct kmt_context *c = r->obj, **pp;
		struct kmt_device *d = ((struct dev_rec *)find(s, r->dev, KMT_T_DEVICE))->obj;
		c->handle = new_handle(s, r->h);
		c->dev = d;
		c->last_fence = r->last_fence;
		for (pp = &d->contexts; *pp; pp = &(*pp)->next)
			c->prev = *pp;
		*pp = c;
	}
	for (uint64_t i = 0; i < s->nress; i++) {
		const struct res_rec *r = &s->ress[i];
		struct kmt_resource *x = r->obj, **pp;
		struct kmt_device *d = ((struct dev_rec *)find(s, r->dev, KMT_T_DEVICE))->obj;
		x->handle = new_handle(s, r->h);
		x->dev = d;
		x->shared = r->shared;
		x->share = new_handle(s, r->share);
		x->origin = r->origin ? ((struct res_rec *)find(s, r->origin, KMT_T_RESOURCE))->obj : NULL;
		x->runtime_size = (uint32_t)r->runtime_size;
		if (r->runtime_size)
			memcpy(x->runtime_data, r->runtime, (size_t)r->runtime_size);
		x->driver_size = (uint32_t)r->driver_size;
		if (r->driver_size)
			memcpy(x->driver_data, r->driver, (size_t)r->driver_size);
		struct kmt_alloc **tail = &x->allocs;
		for (uint64_t k = 0; k < r->nallocs; k++) {
			struct kmt_alloc *a = ((struct alc_rec *)find(s, le32(r->alloc_handles, k),
								      KMT_T_ALLOCATION))->obj;
			*tail = a;
			tail = &a->res_next;
		}
		x->nallocs = (uint32_t)r->nallocs;
		for (pp = &d->resources; *pp; pp = &(*pp)->next)
			x->prev = *pp;
		*pp = x;
	}
	for (uint64_t i = 0; i < s->nmems; i++) {
		struct mem_rec *m = &s->mems[i];
		struct kmt_mem *km = &m->holder->own;
		uint64_t *pages = km->v.pages;
		km->v = m->v;
		km->v.pages = pages;
		km->v.pol_bucket = km->v.pol_prev = km->v.pol_next = NULL; /* the policy's load fills these */
		km->v.pol_bits = km->v.pol_mark = km->v.pol_stamp = 0;
		km->v.lock_ptr = NULL;
		km->v.lock_vmapped = false;
		km->v.owner = m->holder;
		km->v.handle = new_handle(s, m->v.handle);
		km->v.device = new_handle(s, m->v.device);
		for (uint64_t k = 0; pages && k < m->v.size >> HW_PAGE_SHIFT; k++)
			pages[k] = le64(m->pages, k);
		km->refs = m->refs;
		km->priv = m->priv;
		km->seen = 0;
	}
	for (uint64_t i = 0; i < s->nallocs; i++) {
		const struct alc_rec *r = &s->allocs[i];
		struct kmt_alloc *a = r->obj;
		struct kmt_device *d = ((struct dev_rec *)find(s, r->dev, KMT_T_DEVICE))->obj;
		a->handle = new_handle(s, r->h);
		a->dev = d;
		a->mem = &s->mems[r->mem].holder->own;
		a->res = r->res ? ((struct res_rec *)find(s, r->res, KMT_T_RESOURCE))->obj : NULL;
		a->resident = r->resident;
		a->locks = r->locks;
		d->nallocs++;
	}
	ad->removed = s->removed;
	ad->faults = s->faults;
	ad->submits = s->submits;
	ad->fence_seen = s->fence_seen;
	ad->has_fault = s->has_fault;
	ad->last_fault = s->last_fault;
	for (uint32_t i = 0; i < s->blame_n; i++)
		kmt_blame_record(ad, s->blame_fence[i], new_handle(s, s->blame_dev[i]));
}

/* The VA spaces from their records, over the built memory objects: each tree
 * checked as it grows (ranges inside the space, not overlapping, a mapping inside
 * one reservation of its kind and inside its allocation). Linked to the
 * allocations and the manager only once all of it stands. */
static int build_va(struct rs *s)
{
	struct vidmm *mm = s->ad->mm;
	char why[200] = "";
	for (uint32_t i = 0; i < s->nvspaces; i++) {
		struct vspace_rec *v = &s->vspaces[i];
		struct vidmm_va_table_rec *t = alloc_array(s, v->ntables, sizeof(*t));
		if (!t)
			return -ENOMEM;
		for (uint64_t k = 0; k < v->ntables; k++)
			t[k] = (struct vidmm_va_table_rec){ s->vtabs[v->first_table + k].level,
							    s->vtabs[v->first_table + k].slot,
							    &s->vtabs[v->first_table + k].v };
		int rc = vidmm_va_space_load(mm, v->asid, v->fence, t, v->ntables, &v->obj, why, sizeof(why));
		free(t);
		if (rc)
			return rc == -EINVAL ? fail(s, "GPU VA space %u: %s", i, why) : rc;
		for (uint64_t k = v->first_res; k < v->first_res + v->nres; k++) {
			const struct vres_rec *x = &s->vress[k];
			if ((rc = vidmm_va_load_reservation(v->obj, x->start, x->size, x->type, x->kernel)))
				return rc == -EINVAL ? fail(s, "GPU VA reservation at 0x%llx (+0x%llx) lies outside "
							    "the space or over another", (unsigned long long)x->start,
							    (unsigned long long)x->size) : rc;
		}
	}
	for (uint64_t i = 0; i < s->nvmaps; i++) {
		struct vmap_rec *m = &s->vmaps[i];
		struct vidmm_alloc *a = m->mem == UINT64_MAX ? NULL : &s->mems[m->mem].holder->own.v;
		int rc = vidmm_va_load_mapping(s->vspaces[m->space].obj, m->start, m->size, a, m->offset, m->pfn,
					       m->ro != 0, &m->obj);
		if (rc)
			return rc == -EINVAL ? fail(s, "GPU VA mapping at 0x%llx (+0x%llx) lies outside one reservation "
						    "of its kind, over another mapping or past its allocation",
						    (unsigned long long)m->start, (unsigned long long)m->size) : rc;
	}
	/* Head insertions in reverse: each allocation's list in record order. */
	for (uint64_t i = s->nvmaps; i-- > 0;)
		vidmm_va_load_link(s->vmaps[i].obj);
	for (uint32_t i = 0; i < s->nvspaces; i++)
		vidmm_va_space_attach(mm, s->vspaces[i].obj);
	mm->next_asid = s->next_asid;
	s->ad->va = s->nvspaces ? s->vspaces[s->proc_space].obj : NULL;
	return 0;
}

/* CPU mappings of locked allocations: a new process, new addresses. A removed
 * device's BAR maps nothing (hw_bar2_map), so a lock in visible VRAM of a removed
 * adapter stays without a mapping: no call can hand one out there (Lock answers
 * STATUS_DEVICE_REMOVED) and Unlock or destroy has nothing to unmap. Mapping it
 * anyway used to fail the whole restore with "out of memory". */
static int map_locks(struct rs *s)
{
	struct vidmm *mm = s->ad->mm;
	for (uint64_t i = 0; i < s->nmems; i++) {
		struct vidmm_alloc *v = &s->mems[i].holder->own.v;
		if (!v->lock_count)
			continue;
		if (v->seg == GPUSIM_SEG_VISIBLE) {
			if (s->removed)
				continue;
			v->lock_ptr = mm->ddi->map_cpu(mm->drv, v->seg, v->offset, v->size);
		} else {
			v->lock_ptr = hw_sysmem_vmap(mm->hw, v->pages, v->size >> HW_PAGE_SHIFT);
			v->lock_vmapped = v->lock_ptr != NULL;
		}
		if (!v->lock_ptr)
			return -ENOMEM;
	}
	return 0;
}

struct mem_iter {
	struct rs *s;
	uint64_t i;
};

static int next_mem(void *ctx, struct vidmm_alloc **out)
{
	struct mem_iter *it = ctx;
	*out = it->i < it->s->nmems ? &it->s->mems[it->i++].holder->own.v : NULL;
	return 0;
}

/* Undo build() and link_objects() after a failure: nothing may stay behind. */
static void unbuild(struct rs *s)
{
	/* The spaces first: their mappings point into the memory objects. */
	for (uint32_t i = 0; s->vspaces && i < s->nvspaces; i++)
		vidmm_va_space_discard(s->ad->mm, s->vspaces[i].obj);
	s->ad->va = NULL;
	for (uint64_t i = 0; i < s->nmems; i++) {
		struct kmt_alloc *h = s->mems[i].holder;
		if (!h)
			continue;
		struct vidmm_alloc *v = &h->own.v;
		if (v->lock_vmapped)
			hw_sysmem_vunmap(v->lock_ptr, v->size >> HW_PAGE_SHIFT);
		s->ad->mm->policy->remove(s->ad->mm->policy_state, v);
		free(v->pages);
		v->pages = NULL;
		if (!s->mems[i].owner)
			kmt_alloc_unpark(h);
	}
	/* Allocation cells go with their handles. */
	for (size_t i = 0; i < s->nmap; i++)
		if (s->map[i].new_h)
			kmt_handle_free(s->map[i].new_h);
	for (uint64_t i = 0; i < s->nress; i++)
		if (s->ress[i].obj) {
			free(s->ress[i].obj->runtime_data);
			free(s->ress[i].obj->driver_data);
			free(s->ress[i].obj);
		}
	for (uint64_t i = 0; i < s->nctxs; i++)
		if (s->ctxs[i].obj) {
			free(s->ctxs[i].obj->cmdbuf);
			free(s->ctxs[i].obj->alloc_list);
			free(s->ctxs[i].obj->patch_list);
			free(s->ctxs[i].obj);
		}
	/* Fence pages and slots go with the adapter (kmt_fence_fini). */
	for (uint64_t i = 0; i < s->nsyncs; i++)
		free(s->syncs[i].obj);
	for (uint64_t i = 0; i < s->npqs; i++)
		free(s->pqs[i].obj);
	for (uint64_t i = 0; i < s->ndevs; i++)
		free(s->devs[i].obj);
	s->ad->devices = NULL;
}

static void rs_free(struct rs *s)
{
	free(s->blame_fence);
	free(s->blame_dev);
	free(s->devs);
	free(s->syncs);
	free(s->fpages);
	free(s->pqs);
	free(s->ctxs);
	free(s->ress);
	free(s->mems);
	free(s->allocs);
	free(s->map);
	free(s->vspaces);
	free(s->vtabs);
	free(s->vress);
	free(s->vmaps);
}

static int zero_range(void *opaque, uint64_t off, uint64_t len)
{
	struct hw_device *hw = ((void **)opaque)[0];
	int space = *(int *)((void **)opaque)[1];
	void *p = space ? hw_debug_sysmem(hw, off >> HW_PAGE_SHIFT, len >> HW_PAGE_SHIFT)
			: hw_debug_vram(hw, off, len);
	memset(p, 0, len);
	return 0;
}

/* The memory: what the new device's driver wrote at start goes, the snapshot's
 * ranges come. */
static int load_memory(struct rs *s, const struct gpusim_snapshot *snap)
{
	struct hw_device *hw = s->ad->hw;
	const struct hw_config *c = hw_device_config(hw);
	uint64_t prev_end = 0;
	for (uint64_t i = 0; i < snap->nranges; i++) {
		const struct gpusim_snapshot_range *r = &snap->ranges[i];
		bool sys = r->addr >= GPUSIM_SYSMEM_BUS_BASE;
		uint64_t base = sys ? GPUSIM_SYSMEM_BUS_BASE : 0, lim = sys ? c->sysmem : c->vram;
		if (!r->size || !r->data || (r->addr | r->size) % HW_PAGE_SIZE || r->addr < prev_end ||
		    r->addr - base > lim || r->size > lim - (r->addr - base))
			return fail(s, "memory range %llu (0x%llx, %llu bytes) is unaligned, overlaps "
				    "another or lies outside the device's memory", (unsigned long long)i,
				    (unsigned long long)r->addr, (unsigned long long)r->size);
		prev_end = r->addr + r->size;
	}
	for (int space = 0; space < 2; space++) {
		void *ctx[2] = { hw, &space };
		hw_debug_populated(hw, space, zero_range, ctx);
	}
	for (uint64_t i = 0; i < snap->nranges; i++) {
		const struct gpusim_snapshot_range *r = &snap->ranges[i];
		void *dst = r->addr >= GPUSIM_SYSMEM_BUS_BASE
				    ? hw_debug_sysmem(hw, (r->addr - GPUSIM_SYSMEM_BUS_BASE) >> HW_PAGE_SHIFT,
						      r->size >> HW_PAGE_SHIFT)
				    : hw_debug_vram(hw, r->addr, r->size);
		memcpy(dst, r->data, r->size);
	}
	return 0;
}

static int restore(struct rs *s, const struct gpusim_snapshot *snap)
{
	int rc;
	struct kmt_adapter *ad = s->ad;
	if ((rc = load_memory(s, snap)))
		return rc;
	s->r = (struct kmt_rstream){ .p = snap->state, .left = (size_t)snap->state_size };
	if (!kmt_rs_tag(&s->r, TAG_MAGIC, "header"))
		return fail(s, "the resume state is not libkmt's");
	uint32_t version = kmt_rs_u32(&s->r);
	if (version != KMT_STATE_VERSION)
		return fail(s, "the resume state has version %u; this libkmt reads version %u", version,
			    KMT_STATE_VERSION);
	if ((rc = read_hw(s)))
		return rc;
	char why[200] = "";
	if ((rc = hw_device_load_state(ad->hw, s->hs, s->hs_len, why, sizeof(why))))
		return rc == -EINVAL ? fail(s, "the device state: %s", why) : rc;
	if ((rc = read_hw_books(s)))
		return rc;
	why[0] = '\0';
	if ((rc = ad->mm->ddi->load_state(ad->mm->drv, &s->r, why, sizeof(why))))
		return rc == -EINVAL ? fail(s, "%s", why[0] ? why : "the driver refused its state") : rc;
	if ((rc = read_vidmm(s)) || (rc = read_objects(s)) || (rc = build_map(s)) ||
	    (rc = check_records(s)))
		return rc;
	if ((rc = build(s)))
		return rc;
	link_objects(s);
	if ((rc = build_va(s)) || (rc = load_policy(s, true)) || (rc = map_locks(s)))
		return rc;
	struct mem_iter it = { s, 0 }, it2 = { s, 0 };
	if (vidmm_check(ad->mm, next_mem, &it, why, sizeof(why)) ||
	    ad->mm->policy->check(ad->mm->policy_state, next_mem, &it2, why, sizeof(why)))
		return fail(s, "the restored memory manager is inconsistent: %s", why);
	return 0;
}

NTSTATUS gpusim_snapshot_restore(const struct gpusim_snapshot *snap, LUID *luid,
				 struct gpusim_handle_map **map, size_t *nmap, char *err,
				 size_t errlen)
{
	if (err && errlen)
		err[0] = '\0';
	if (!snap || !luid || !map || !nmap || (!snap->state && snap->state_size) ||
	    (!snap->ranges && snap->nranges))
		return STATUS_INVALID_PARAMETER;
	struct rs s = { .err = err, .errlen = errlen };
	if (snap->version != GPUSIM_SNAPSHOT_VERSION) {
		fail(&s, "snapshot version %u; this libkmt reads version %u", snap->version,
		     GPUSIM_SNAPSHOT_VERSION);
		return STATUS_INVALID_PARAMETER;
	}
	char why[200];
	if (hw_config_validate(&snap->cfg.hw, why, sizeof(why)) || !vidmm_policy_find(snap->cfg.policy)) {
		fail(&s, "the configuration is invalid: %s",
		     vidmm_policy_find(snap->cfg.policy) ? why : "unknown policy");
		return STATUS_INVALID_PARAMETER;
	}
	KMT_ENTER();
	int rc = kmt_adapter_create(&snap->cfg, &s.ad);
	if (rc) {
		kmt_unlock();
		fail(&s, "cannot create an adapter for it");
		return kmt_status_from_errno(rc);
	}
	rc = restore(&s, snap);
	struct gpusim_handle_map *out = NULL;
	if (!rc && !(out = calloc(s.nmap ? s.nmap : 1, sizeof(*out))))
		rc = -ENOMEM;
	if (rc) {
		unbuild(&s);
		kmt_adapter_destroy(s.ad);
		rs_free(&s);
		kmt_unlock();
		if (rc == -ENOMEM)
			fail(&s, "out of memory");
		return rc == -ENOMEM ? STATUS_NO_MEMORY : STATUS_INVALID_PARAMETER;
	}
	static const uint32_t types[] = {
		[KMT_T_DEVICE] = GPUSIM_HANDLE_DEVICE, [KMT_T_CONTEXT] = GPUSIM_HANDLE_CONTEXT,
		[KMT_T_RESOURCE] = GPUSIM_HANDLE_RESOURCE, [KMT_T_ALLOCATION] = GPUSIM_HANDLE_ALLOCATION,
		[KMT_T_SYNC] = GPUSIM_HANDLE_SYNC, [KMT_T_SHARE] = GPUSIM_HANDLE_SHARE,
		[KMT_T_PAGINGQUEUE] = GPUSIM_HANDLE_PAGINGQUEUE,
	};
	for (size_t i = 0; i < s.nmap; i++)
		out[i] = (struct gpusim_handle_map){ s.map[i].old, s.map[i].new_h, types[s.map[i].type] };
	*map = out;
	*nmap = s.nmap;
	*luid = s.ad->luid;
	/* Zombie holders belong to the memory now; records go. */
	rs_free(&s);
	kmt_unlock();
	return STATUS_SUCCESS;
}
