/*
 * The residency model: folds trace items (events and names) into the picture the
 * viewer draws and `gpusim view --dump json` prints: where each allocation lives,
 * segment and per-device totals, paging counters and timeline marks. No SDL here.
 */
#include <config.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sim/view/model.h"

#define VM_MAX_PENDING_NAMES 256

struct vm_pending {
	uint32_t handle;
	char name[sizeof(((struct vm_alloc *)0)->name)];
};

struct vm_span {
	uint32_t seg;
	uint64_t offset, size;
};

/* What the model keeps beside the public fields (behind vm_model.index). */
struct vm_index {
	uint32_t *slot;         /* open addressing: allocs[] position + 1, 0 = empty */
	size_t nslots;          /* a power of two, at least twice the handles held */
	size_t nkeys;
	size_t last_dev;        /* the device looked up last: events come in runs */
	struct vm_pending *pending;  /* names that arrived before their CREATE */
	size_t npending, pendcap;
	struct vm_span *spans;  /* vm_refresh's scratch, kept to spare a malloc per frame */
	size_t spancap;
	bool dirty;             /* a placement changed since vm_refresh */
};

/* The model has no error channel (vm_apply returns nothing) and a half-applied
 * event would leave totals that no longer add up: out of memory ends the program. */
static void *xrealloc(void *p, size_t n, size_t size)
{
	if (n && size > SIZE_MAX / n)
		abort();
	size_t bytes = n * size;
	void *q = realloc(p, bytes ? bytes : 1);
	if (!q) {
		fputs("gpusim: out of memory\n", stderr);
		abort();
	}
	return q;
}

bool vm_is_vram(uint32_t seg)
{
	return seg == GPUSIM_SEG_VISIBLE || seg == GPUSIM_SEG_INVISIBLE || seg == GPUSIM_SEG_VRAM2;
}

bool vm_is_segment(uint32_t seg)
{
	return gpusim_trace_is_segment(seg);
}

static bool is_vram(uint32_t seg)
{
	return vm_is_vram(seg);
}

static bool is_segment(uint32_t seg)
{
	return vm_is_segment(seg);
}

/* Where an event says an allocation is: anything but a real segment is treated as
 * its backing store, so a corrupt segment id never indexes out of bounds. */
static uint32_t where(uint32_t seg)
{
	return is_segment(seg) ? seg : GPUSIM_SEG_SYS;
}

void vm_init(struct vm_model *m, const struct gpusim_trace_adapter *ad)
{
	memset(m, 0, sizeof(*m));
	if (ad)
		m->adapter = *ad;
	for (uint32_t s = 0; s <= GPUSIM_SEG_MAX; s++) {
		m->seg[s].id = s;
		m->seg[s].size = is_segment(s) ? m->adapter.seg_size[s] : 0;
		m->seg[s].largest_free = m->seg[s].size;
	}
	struct vm_index *ix = xrealloc(NULL, 1, sizeof(*ix));
	memset(ix, 0, sizeof(*ix));
	m->index = ix;
}

void vm_free(struct vm_model *m)
{
	struct vm_index *ix = m->index;
	for (size_t i = 0; i < m->nallocs; i++)
		free(m->allocs[i].history);
	free(m->allocs);
	free(m->devices);
	free(m->marks);
	free(m->va_res);
	free(m->va_map);
	free(m->va_faults);
	free(m->fences);
	if (ix) {
		free(ix->slot);
		free(ix->pending);
		free(ix->spans);
		free(ix);
	}
	memset(m, 0, sizeof(*m));
}

/* ---- handle -> position --------------------------------------------------------- */

static size_t hash_handle(uint32_t h)
{
	/* Handles differ in a few middle bits (index << 6 | generation): mix them all
	 * into the high bits, which the shift keeps. */
	return (size_t)(((uint64_t)h * 0x9e3779b97f4a7c15ull) >> 32);
}

static size_t find_slot(const struct vm_model *m, uint32_t handle)
{
	const struct vm_index *ix = m->index;
	size_t mask = ix->nslots - 1;
	for (size_t i = hash_handle(handle) & mask;; i = (i + 1) & mask)
		if (!ix->slot[i] || m->allocs[ix->slot[i] - 1].handle == handle)
			return i;
}

static void index_grow(struct vm_model *m)
{
	struct vm_index *ix = m->index;
	uint32_t *old = ix->slot;
	size_t nold = ix->nslots;
	ix->nslots = nold ? nold * 2 : 1024;
	ix->slot = xrealloc(NULL, ix->nslots, sizeof(*ix->slot));
	memset(ix->slot, 0, ix->nslots * sizeof(*ix->slot));
	for (size_t i = 0; i < nold; i++)
		if (old[i])
			ix->slot[find_slot(m, m->allocs[old[i] - 1].handle)] = old[i];
	free(old);
}

/* A handle names its newest allocation: a handle the kernel hands out again after
 * a destroy points at the new one, the old one stays in allocs[] as history. */
static void index_set(struct vm_model *m, uint32_t handle, size_t pos)
{
	struct vm_index *ix = m->index;
	if ((ix->nkeys + 1) * 2 > ix->nslots)
		index_grow(m);
	size_t i = find_slot(m, handle);
	if (!ix->slot[i])
		ix->nkeys++;
	ix->slot[i] = (uint32_t)(pos + 1);
}

static struct vm_alloc *lookup(const struct vm_model *m, uint32_t handle)
{
	const struct vm_index *ix = m->index;
	if (!ix || !ix->nslots)
		return NULL;
	size_t i = find_slot(m, handle);
	return ix->slot[i] ? &m->allocs[ix->slot[i] - 1] : NULL;
}

const struct vm_alloc *vm_find(const struct vm_model *m, uint32_t handle)
{
	return lookup(m, handle);
}

/* ---- totals --------------------------------------------------------------------- */

static struct vm_device_usage *device(struct vm_model *m, uint32_t handle)
{
	struct vm_index *ix = m->index;
	if (ix->last_dev < m->ndevices && m->devices[ix->last_dev].device == handle)
		return &m->devices[ix->last_dev];
	for (size_t i = 0; i < m->ndevices; i++)
		if (m->devices[i].device == handle) {
			ix->last_dev = i;
			return &m->devices[i];
		}
	m->devices = xrealloc(m->devices, m->ndevices + 1, sizeof(*m->devices));
	struct vm_device_usage *d = &m->devices[m->ndevices];
	memset(d, 0, sizeof(*d));
	d->device = handle;
	ix->last_dev = m->ndevices++;
	return d;
}

/* An allocation enters or leaves its place (a->seg) in the totals. */
static void account(struct vm_model *m, const struct vm_alloc *a, bool add)
{
	struct vm_device_usage *d = device(m, a->device);
	if (add)
		d->used[a->seg] += a->size;
	else
		d->used[a->seg] -= a->size;
	if (!is_segment(a->seg))
		return;
	struct vm_segment *s = &m->seg[a->seg];
	if (add) {
		s->used += a->size;
		s->count++;
	} else {
		s->used -= a->size;
		s->count--;
	}
	((struct vm_index *)m->index)->dirty = true;
}

uint64_t vm_usage_local(const struct vm_model *m)
{
	return m->seg[GPUSIM_SEG_VISIBLE].used + m->seg[GPUSIM_SEG_INVISIBLE].used + m->seg[GPUSIM_SEG_VRAM2].used;
}

uint64_t vm_usage_nonlocal(const struct vm_model *m)
{
	return m->seg[GPUSIM_SEG_GART].used;
}

bool vm_mark_is_paging(uint32_t type)
{
	switch (type) {
	case GPUSIM_EV_EVICT:
	case GPUSIM_EV_PAGE_IN:
	case GPUSIM_EV_MOVE:
	case GPUSIM_EV_DEMOTE:
	case GPUSIM_EV_PROMOTE:
		return true;
	}
	return false;
}

static struct vm_mark *add_mark(struct vm_model *m, uint64_t time_ns, uint32_t type, uint64_t bytes)
{
	if (m->nmarks == m->mcap) {
		m->mcap = m->mcap ? m->mcap * 2 : 256;
		m->marks = xrealloc(m->marks, m->mcap, sizeof(*m->marks));
	}
	m->marks[m->nmarks] = (struct vm_mark){ .time_ns = time_ns, .type = type, .bytes = bytes };
	return &m->marks[m->nmarks++];
}

static void add_history(struct vm_alloc *a, const struct gpusim_event *ev, uint32_t from, uint32_t to,
			uint64_t offset)
{
	if (a->nhistory == a->cap) {
		a->cap = a->cap ? a->cap * 2 : 4;
		a->history = xrealloc(a->history, a->cap, sizeof(*a->history));
	}
	a->history[a->nhistory++] = (struct vm_move){
		.time_ns = ev->time_ns, .type = ev->type, .cause = ev->cause, .from = from, .to = to, .offset = offset,
	};
}

/* ---- names ---------------------------------------------------------------------- */

/* Copy at most the room of vm_alloc.name, never cutting a UTF-8 sequence in two
 * (the JSON dump and the renderer's font see whole characters). */
static void set_name(char *dst, size_t room, const char *src)
{
	size_t n = strlen(src);
	if (n >= room) {
		n = room - 1;
		while (n && ((unsigned char)src[n] & 0xc0) == 0x80)
			n--;
	}
	memcpy(dst, src, n);
	dst[n] = '\0';
}

static void default_name(struct vm_alloc *a)
{
	snprintf(a->name, sizeof(a->name), "#%x", a->handle);
}

static void apply_name(struct vm_model *m, const struct gpusim_trace_item *item)
{
	struct vm_alloc *a = lookup(m, item->allocation);
	char name[sizeof(item->name) + 1];
	memcpy(name, item->name, sizeof(item->name));
	name[sizeof(item->name)] = '\0';  /* a reader's item is NUL-terminated; be sure */
	if (!name[0])
		return;
	if (a && a->live) {
		set_name(a->name, sizeof(a->name), name);
		return;
	}
	/* A name for a handle not (yet) created: kept for its CREATE. */
	struct vm_index *ix = m->index;
	for (size_t i = 0; i < ix->npending; i++)
		if (ix->pending[i].handle == item->allocation) {
			set_name(ix->pending[i].name, sizeof(ix->pending[i].name), name);
			return;
		}
	/* Names whose CREATE never comes (a malformed trace) must not make every
	 * CREATE slower: past a bound, the newest waiting name gives way. */
	if (ix->npending == VM_MAX_PENDING_NAMES)
		ix->npending--;
	if (ix->npending == ix->pendcap) {
		ix->pendcap = ix->pendcap ? ix->pendcap * 2 : 8;
		ix->pending = xrealloc(ix->pending, ix->pendcap, sizeof(*ix->pending));
	}
	ix->pending[ix->npending].handle = item->allocation;
	set_name(ix->pending[ix->npending].name, sizeof(ix->pending[ix->npending].name), name);
	ix->npending++;
}

static void take_pending_name(struct vm_model *m, struct vm_alloc *a)
{
	struct vm_index *ix = m->index;
	for (size_t i = 0; i < ix->npending; i++)
		if (ix->pending[i].handle == a->handle) {
			memcpy(a->name, ix->pending[i].name, sizeof(a->name));
			ix->pending[i] = ix->pending[--ix->npending];
			return;
		}
}

/* ---- events --------------------------------------------------------------------- */

static void va_forget_alloc(struct vm_model *m, uint32_t handle);

static void destroy(struct vm_model *m, struct vm_alloc *a, const struct gpusim_event *ev)
{
	/* The kernel unmaps a destroyed allocation without a VA_UNMAP event (its
	 * reservations stay): its handle may name another allocation next. */
	va_forget_alloc(m, a->handle);
	account(m, a, false);
	add_history(a, ev, a->seg, GPUSIM_SEG_NONE, 0);
	a->live = false;
	a->locked = false;
}

static void create(struct vm_model *m, const struct gpusim_event *ev)
{
	struct vm_index *ix = m->index;
	struct vm_alloc *old = lookup(m, ev->allocation);
	if (old && old->live) {
		/* Its DESTROY never came: the handle is the new allocation's now. */
		struct gpusim_event gone = *ev;
		gone.type = GPUSIM_EV_DESTROY;
		gone.cause = GPUSIM_CAUSE_NONE;
		destroy(m, old, &gone);
	}
	if (m->nallocs == m->cap) {
		m->cap = m->cap ? m->cap * 2 : 256;
		m->allocs = xrealloc(m->allocs, m->cap, sizeof(*m->allocs));
	}
	size_t pos = m->nallocs++;
	struct vm_alloc *a = &m->allocs[pos];
	memset(a, 0, sizeof(*a));
	a->handle = ev->allocation;
	a->device = ev->device;
	a->size = ev->size;
	a->seg = where(ev->segment);
	a->offset = a->seg == GPUSIM_SEG_SYS ? 0 : ev->offset;
	a->priority = ev->priority;
	a->preferred = ev->preferred;
	a->created_ns = a->last_use_ns = ev->time_ns;
	a->live = true;
	default_name(a);
	if (ix->npending)
		take_pending_name(m, a);
	index_set(m, a->handle, pos);
	account(m, a, true);
	add_history(a, ev, GPUSIM_SEG_NONE, a->seg, a->offset);
}

/* The counters and the timeline mark of a placement change. `copied` is the
 * event's value, what the paging copy moved (0 for a GART <-> sys remap and for an
 * allocation never written): into VRAM from outside it counts as bytes_in, out of
 * VRAM as bytes_out, VRAM to VRAM as neither, as kmt/vidmm/place.c counts them. A
 * demotion or promotion is a move with a purpose, counted apart from the other
 * moves as gpusim_stats counts it. */
static void count_paging(struct vm_model *m, uint32_t type, uint32_t from, uint32_t to, uint64_t copied,
			 uint64_t time_ns)
{
	if (type == GPUSIM_EV_EVICT)
		m->evictions++;
	else if (type == GPUSIM_EV_PAGE_IN)
		m->page_ins++;
	else if (type == GPUSIM_EV_MOVE)
		m->moves++;
	else if (type == GPUSIM_EV_DEMOTE)
		m->demotions++;
	else if (type == GPUSIM_EV_PROMOTE)
		m->promotions++;
	else
		return;
	if (is_vram(to) && !is_vram(from))
		m->bytes_in += copied;
	else if (is_vram(from) && !is_vram(to))
		m->bytes_out += copied;
	add_mark(m, time_ns, type, copied);
}

/* PLACE, EVICT, PAGE_IN, MOVE, DEMOTE, PROMOTE of a known allocation. */
static void relocate(struct vm_model *m, struct vm_alloc *a, const struct gpusim_event *ev)
{
	uint32_t from = a->seg;
	uint32_t to = ev->type == GPUSIM_EV_EVICT ? GPUSIM_SEG_SYS : where(ev->segment);
	count_paging(m, ev->type, from, to, ev->value, ev->time_ns);
	account(m, a, false);
	a->seg = to;
	a->offset = to == GPUSIM_SEG_SYS ? 0 : ev->offset; /* an EVICT still carries the old offset */
	account(m, a, true);
	a->last_use_ns = ev->time_ns;
	add_history(a, ev, from, to, a->offset);
}

static bool about_allocation(uint32_t type)
{
	switch (type) {
	case GPUSIM_EV_CREATE:
	case GPUSIM_EV_DESTROY:
	case GPUSIM_EV_PLACE:
	case GPUSIM_EV_EVICT:
	case GPUSIM_EV_PAGE_IN:
	case GPUSIM_EV_MOVE:
	case GPUSIM_EV_DEMOTE:
	case GPUSIM_EV_PROMOTE:
	case GPUSIM_EV_LOCK:
	case GPUSIM_EV_UNLOCK:
	case GPUSIM_EV_USE:
		return true;
	}
	return false;
}

/* ---- GPU virtual addresses and monitored fences ------------------------------------- */

bool vm_fault_is_va(uint32_t cause)
{
	return cause >= HW_FAULT_VM_NOT_PRESENT && cause <= HW_FAULT_VM_BAD_ADDR;
}

static uint64_t range_end(const struct vm_va_range *r)
{
	return r->base + r->size; /* never wraps: ranges that would are refused */
}

/* The first range of a sorted, disjoint list ending after `va`. */
static size_t first_ending_after(const struct vm_va_range *v, size_t n, uint64_t va)
{
	size_t lo = 0, hi = n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (range_end(&v[mid]) <= va)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static const struct vm_va_range *range_at(const struct vm_va_range *v, size_t n, uint64_t va)
{
	size_t i = first_ending_after(v, n, va);
	return i < n && v[i].base <= va ? &v[i] : NULL;
}

const struct vm_va_range *vm_va_mapping_at(const struct vm_model *m, uint64_t va)
{
	return range_at(m->va_map, m->nva_map, va);
}

const struct vm_va_range *vm_va_reservation_at(const struct vm_model *m, uint64_t va)
{
	return range_at(m->va_res, m->nva_res, va);
}

size_t vm_va_ranges_of(const struct vm_model *m, uint32_t handle, const struct vm_va_range **out, size_t max)
{
	size_t n = 0;
	for (size_t i = 0; i < m->nva_map; i++)
		if (m->va_map[i].handle == handle) {
			if (n < max)
				out[n] = &m->va_map[i];
			n++;
		}
	return n;
}

/* Insert r at its place in a sorted list that has room for it (the caller made
 * sure nothing there overlaps it). Past VM_VA_MAX_RANGES it is dropped. */
static void range_insert(struct vm_model *m, struct vm_va_range **v, size_t *n, size_t *cap,
			 const struct vm_va_range *r)
{
	if (*n >= VM_VA_MAX_RANGES) {
		m->va_dropped++;
		return;
	}
	if (*n == *cap) {
		*cap = *cap ? *cap * 2 : 64;
		*v = xrealloc(*v, *cap, sizeof(**v));
	}
	size_t i = first_ending_after(*v, *n, r->base);
	memmove(&(*v)[i + 1], &(*v)[i], (*n - i) * sizeof(**v));
	(*v)[i] = *r;
	(*n)++;
}

/* Insert k sorted, disjoint ranges that all go at one place of a list (the
 * caller carved their span out first): one move of the tail, whatever k, so a
 * hostile copy of thousands of pieces stays linear. Past VM_VA_MAX_RANGES the
 * rest are dropped. */
static void range_insert_run(struct vm_model *m, struct vm_va_range **v, size_t *n, size_t *cap,
			     const struct vm_va_range *r, size_t k)
{
	if (k > VM_VA_MAX_RANGES - *n) {
		m->va_dropped += k - (VM_VA_MAX_RANGES - *n);
		k = VM_VA_MAX_RANGES - *n;
	}
	if (!k)
		return;
	if (*n + k > *cap) {
		while (*n + k > *cap)
			*cap = *cap ? *cap * 2 : 64;
		*v = xrealloc(*v, *cap, sizeof(**v));
	}
	size_t i = first_ending_after(*v, *n, r[0].base);
	memmove(&(*v)[i + k], &(*v)[i], (*n - i) * sizeof(**v));
	memcpy(&(*v)[i], r, k * sizeof(*r));
	*n += k;
}

/* Take [lo, hi) out of every range of the list: ranges inside it go (in one
 * move, however many), ranges across its ends are trimmed, one across both is
 * split in two. */
static void range_carve(struct vm_model *m, struct vm_va_range **v, size_t *n, size_t *cap, uint64_t lo,
			uint64_t hi)
{
	size_t i = first_ending_after(*v, *n, lo);
	if (i >= *n || (*v)[i].base >= hi)
		return;
	struct vm_va_range *r = &(*v)[i];
	uint64_t end = range_end(r);
	if (r->base < lo && end > hi) {
		struct vm_va_range right = *r;
		right.base = hi;
		right.size = end - hi;
		r->size = lo - r->base;
		range_insert(m, v, n, cap, &right);
		return;
	}
	if (r->base < lo) {
		r->size = lo - r->base;
		i++;
	}
	size_t j = i;
	while (j < *n && range_end(&(*v)[j]) <= hi)
		j++;
	if (j < *n && (*v)[j].base < hi) {
		(*v)[j].size = range_end(&(*v)[j]) - hi;
		(*v)[j].base = hi;
	}
	memmove(&(*v)[i], &(*v)[j], (*n - j) * sizeof(**v));
	*n -= j - i;
}

static void va_forget_alloc(struct vm_model *m, uint32_t handle)
{
	size_t k = 0;
	for (size_t i = 0; i < m->nva_map; i++)
		if (m->va_map[i].handle != handle)
			m->va_map[k++] = m->va_map[i];
	m->nva_map = k;
}

/* [base, base + size) is a range the model can hold: not empty, not wrapping. */
static bool range_ok(uint64_t base, uint64_t size)
{
	return size && base + size > base;
}

static void va_reserve(struct vm_model *m, const struct gpusim_event *ev, uint32_t kind)
{
	struct vm_va_range r = { .base = ev->offset, .size = ev->size, .kind = kind, .time_ns = ev->time_ns };
	range_carve(m, &m->va_res, &m->nva_res, &m->va_res_cap, r.base, r.base + r.size);
	range_insert(m, &m->va_res, &m->nva_res, &m->va_res_cap, &r);
}

static void va_map(struct vm_model *m, const struct gpusim_event *ev)
{
	if (!vm_va_reservation_at(m, ev->offset))
		va_reserve(m, ev, VM_VA_IMPLICIT);
	struct vm_va_range r = { .base = ev->offset, .size = ev->size, .handle = ev->allocation,
				 .device = ev->device, .kind = VM_VA_PROT_UNKNOWN, .fence = ev->value,
				 .time_ns = ev->time_ns };
	range_carve(m, &m->va_map, &m->nva_map, &m->va_map_cap, r.base, r.base + r.size);
	range_insert(m, &m->va_map, &m->nva_map, &m->va_map_cap, &r);
}

/* [offset, +size) now maps what [value, +size) maps: the source's pieces, moved. */
static void va_copy(struct vm_model *m, const struct gpusim_event *ev)
{
	uint64_t src = ev->value, dst = ev->offset, size = ev->size;
	if (!range_ok(src, size))
		return;
	size_t i = first_ending_after(m->va_map, m->nva_map, src), k = 0;
	size_t n = 0;
	for (size_t j = i; j < m->nva_map && m->va_map[j].base < src + size; j++)
		n++;
	struct vm_va_range *pieces = xrealloc(NULL, n ? n : 1, sizeof(*pieces));
	for (; k < n; k++, i++) {
		struct vm_va_range p = m->va_map[i];
		uint64_t lo = p.base > src ? p.base : src, hi = range_end(&p) < src + size ? range_end(&p) : src + size;
		p.base = dst + (lo - src);
		p.size = hi - lo;
		p.time_ns = ev->time_ns;
		pieces[k] = p;
	}
	range_carve(m, &m->va_map, &m->nva_map, &m->va_map_cap, dst, dst + size);
	if (n)
		range_insert_run(m, &m->va_map, &m->nva_map, &m->va_map_cap, pieces, n);
	free(pieces);
}

static void va_fault(struct vm_model *m, const struct gpusim_event *ev)
{
	m->va_faults_total++;
	struct vm_va_range *r = (struct vm_va_range *)vm_va_mapping_at(m, ev->offset);
	/* The MMU refused a write through the mapping: it is read-only. */
	if (r && ev->cause == HW_FAULT_VM_READ_ONLY)
		r->kind = VM_VA_PROT_READ_ONLY;
	if (m->nva_faults >= VM_VA_MAX_FAULTS)
		return;
	if (m->nva_faults == m->va_faults_cap) {
		m->va_faults_cap = m->va_faults_cap ? m->va_faults_cap * 2 : 16;
		m->va_faults = xrealloc(m->va_faults, m->va_faults_cap, sizeof(*m->va_faults));
	}
	m->va_faults[m->nva_faults++] = (struct vm_va_fault){
		.time_ns = ev->time_ns, .va = ev->offset, .cause = ev->cause, .device = ev->device,
		.handle = r ? r->handle : ev->allocation,
	};
}

const struct vm_fence *vm_fence_find(const struct vm_model *m, uint32_t handle)
{
	for (size_t i = 0; i < m->nfences; i++)
		if (m->fences[i].handle == handle)
			return &m->fences[i];
	return NULL;
}

/* The fence of a SIGNAL or WAIT event; NULL once VM_MAX_FENCES are known (a
 * hostile trace naming a new handle each time). */
static struct vm_fence *fence(struct vm_model *m, const struct gpusim_event *ev)
{
	/* Most events name the fence of the event before: look from the end. */
	for (size_t i = m->nfences; i-- > 0;)
		if (m->fences[i].handle == ev->allocation)
			return &m->fences[i];
	if (m->nfences >= VM_MAX_FENCES)
		return NULL;
	if (m->nfences == m->fences_cap) {
		m->fences_cap = m->fences_cap ? m->fences_cap * 2 : 16;
		m->fences = xrealloc(m->fences, m->fences_cap, sizeof(*m->fences));
	}
	struct vm_fence *f = &m->fences[m->nfences++];
	memset(f, 0, sizeof(*f));
	f->handle = ev->allocation;
	f->device = ev->device;
	return f;
}

static void signal_or_wait(struct vm_model *m, const struct gpusim_event *ev)
{
	struct vm_fence *f = fence(m, ev);
	if (ev->type == GPUSIM_EV_SIGNAL) {
		m->signals++;
		if (f) {
			f->value = ev->value;
			f->signals++;
			f->last_cause = ev->cause;
			f->last_ns = ev->time_ns;
		}
	} else {
		m->waits++;
		if (f)
			f->waits++;
	}
	struct vm_mark *k = add_mark(m, ev->time_ns, ev->type, ev->value);
	k->handle = ev->allocation;
	k->cause = ev->cause;
}

/* The VA events; ranges that are empty or wrap past 2^64 change nothing. */
static void apply_va(struct vm_model *m, const struct gpusim_event *ev)
{
	if (!range_ok(ev->offset, ev->size))
		return;
	uint64_t lo = ev->offset, hi = ev->offset + ev->size;
	switch (ev->type) {
	case GPUSIM_EV_VA_RESERVE:
		va_reserve(m, ev, ev->value > UINT32_MAX - 1 ? UINT32_MAX - 1 : (uint32_t)ev->value);
		break;
	case GPUSIM_EV_VA_MAP:
		va_map(m, ev);
		break;
	case GPUSIM_EV_VA_UNMAP:
		range_carve(m, &m->va_map, &m->nva_map, &m->va_map_cap, lo, hi);
		break;
	case GPUSIM_EV_VA_COPY:
		va_copy(m, ev);
		break;
	case GPUSIM_EV_VA_FREE:
		range_carve(m, &m->va_map, &m->nva_map, &m->va_map_cap, lo, hi);
		range_carve(m, &m->va_res, &m->nva_res, &m->va_res_cap, lo, hi);
		break;
	}
}

static void apply_event(struct vm_model *m, const struct gpusim_event *ev)
{
	if (ev->time_ns > m->now_ns)
		m->now_ns = ev->time_ns;
	if (ev->type == GPUSIM_EV_CREATE) {
		create(m, ev);
		return;
	}
	struct vm_alloc *a = NULL;
	if (about_allocation(ev->type)) {
		a = lookup(m, ev->allocation);
		/* Not live: the PLACE that comes before its own CREATE (the manager places,
		 * then reports the creation), or a trace that began after the create. */
		if (a && !a->live)
			a = NULL;
		if (a) {
			a->priority = ev->priority;
			a->preferred = ev->preferred;
		}
	}
	switch (ev->type) {
	case GPUSIM_EV_DESTROY:
		if (a)
			destroy(m, a, ev);
		break;
	case GPUSIM_EV_PLACE:
	case GPUSIM_EV_EVICT:
	case GPUSIM_EV_PAGE_IN:
	case GPUSIM_EV_MOVE:
	case GPUSIM_EV_DEMOTE:
	case GPUSIM_EV_PROMOTE:
		if (a)
			relocate(m, a, ev);
		else /* still counted: the manager's counters count it */
			count_paging(m, ev->type, where(ev->from_segment),
				     ev->type == GPUSIM_EV_EVICT ? GPUSIM_SEG_SYS : where(ev->segment),
				     ev->value, ev->time_ns);
		break;
	case GPUSIM_EV_LOCK:
		if (a) {
			a->locked = true;
			a->last_use_ns = ev->time_ns;
		}
		break;
	case GPUSIM_EV_UNLOCK:
		if (a)
			a->locked = false;
		break;
	case GPUSIM_EV_USE:
		/* Where it is changes nothing (the placement events said that); when
		 * the GPU last wanted it is what the age colours show. */
		if (a)
			a->last_use_ns = ev->time_ns;
		break;
	case GPUSIM_EV_SUBMIT:
		m->submits++;
		break;
	case GPUSIM_EV_FAULT:
		m->faults++;
		add_mark(m, ev->time_ns, GPUSIM_EV_FAULT, 0);
		if (vm_fault_is_va(ev->cause))
			va_fault(m, ev);
		break;
	case GPUSIM_EV_VA_RESERVE:
	case GPUSIM_EV_VA_MAP:
	case GPUSIM_EV_VA_UNMAP:
	case GPUSIM_EV_VA_COPY:
	case GPUSIM_EV_VA_FREE:
		apply_va(m, ev);
		break;
	case GPUSIM_EV_SUBMIT_VA:
		m->submits_va++;
		break;
	case GPUSIM_EV_SIGNAL:
	case GPUSIM_EV_WAIT:
		signal_or_wait(m, ev);
		break;
	case GPUSIM_EV_BUDGET:
		/* The budget of a group as the manager reports it now. */
		if (ev->offset == 0)
			m->adapter.budget_local = ev->size;
		else if (ev->offset == 1)
			m->adapter.budget_nonlocal = ev->size;
		break;
	case GPUSIM_EV_DEVICE_REMOVED:
		m->device_removed = true;
		break;
	default: /* FENCE and types this model does not know: time only */
		break;
	}
}

void vm_apply(struct vm_model *m, const struct gpusim_trace_item *item)
{
	if (!m->index)
		vm_init(m, NULL);
	m->events++;
	if (item->type == GPUSIM_TRACE_EVENT)
		apply_event(m, &item->event);
	else if (item->type == GPUSIM_TRACE_NAME)
		apply_name(m, item);
}

/* ---- derived figures ------------------------------------------------------------ */

static int span_cmp(const void *x, const void *y)
{
	const struct vm_span *a = x, *b = y;
	if (a->seg != b->seg)
		return a->seg < b->seg ? -1 : 1;
	if (a->offset != b->offset)
		return a->offset < b->offset ? -1 : 1;
	return a->size < b->size ? -1 : a->size > b->size;
}

void vm_refresh(struct vm_model *m)
{
	struct vm_index *ix = m->index;
	if (!ix || !ix->dirty)
		return;
	size_t n = 0;
	for (size_t i = 0; i < m->nallocs; i++) {
		const struct vm_alloc *a = &m->allocs[i];
		if (!a->live || !is_segment(a->seg))
			continue;
		if (n == ix->spancap) {
			ix->spancap = ix->spancap ? ix->spancap * 2 : 256;
			ix->spans = xrealloc(ix->spans, ix->spancap, sizeof(*ix->spans));
		}
		ix->spans[n++] = (struct vm_span){ a->seg, a->offset, a->size };
	}
	if (n)
		qsort(ix->spans, n, sizeof(*ix->spans), span_cmp);
	size_t i = 0;
	for (uint32_t s = GPUSIM_SEG_VISIBLE; s <= GPUSIM_SEG_MAX; s++) {
		if (!is_segment(s))
			continue; /* no spans there: is_segment kept them out */
		uint64_t size = m->seg[s].size, pos = 0, best = 0;
		for (; i < n && ix->spans[i].seg == s; i++) {
			const struct vm_span *sp = &ix->spans[i];
			uint64_t start = sp->offset < size ? sp->offset : size;
			uint64_t end = sp->size > size - start ? size : start + sp->size;
			if (start > pos && start - pos > best)
				best = start - pos;
			if (end > pos) /* spans never overlap in a sane trace; be safe if they do */
				pos = end;
		}
		if (size - pos > best)
			best = size - pos;
		m->seg[s].largest_free = best;
	}
	ix->dirty = false;
}

/* ---- comparing two moments --------------------------------------------------------- */

/* The same allocation in both models: the same handle at the same place in the
 * creation order (both are replays of one recording; a handle given out again
 * after a destroy is another allocation at another position). */
static const struct vm_alloc *counterpart(const struct vm_model *other, const struct vm_model *m,
					  const struct vm_alloc *a)
{
	const struct vm_alloc *b = lookup(other, a->handle);
	if (!b || !b->live || b - other->allocs != a - m->allocs)
		return NULL;
	return b;
}

static void push(uint32_t **v, size_t *n, uint32_t handle)
{
	/* Capacity is the next power of two: grow when n is one (or 0). */
	if (!(*n & (*n - 1)))
		*v = xrealloc(*v, *n ? *n * 2 : 1, sizeof(**v));
	(*v)[(*n)++] = handle;
}

void vm_diff(const struct vm_model *before, const struct vm_model *after, struct vm_diff *out)
{
	memset(out, 0, sizeof(*out));
	for (size_t i = 0; i < after->nallocs; i++) {
		const struct vm_alloc *a = &after->allocs[i];
		if (!a->live)
			continue;
		const struct vm_alloc *b = counterpart(before, after, a);
		if (!b)
			push(&out->appeared, &out->nappeared, a->handle);
		else if (a->seg != b->seg || a->offset != b->offset)
			push(&out->moved, &out->nmoved, a->handle);
	}
	for (size_t i = 0; i < before->nallocs; i++) {
		const struct vm_alloc *b = &before->allocs[i];
		if (b->live && !counterpart(after, before, b))
			push(&out->left, &out->nleft, b->handle);
	}
}

void vm_diff_free(struct vm_diff *d)
{
	free(d->appeared);
	free(d->left);
	free(d->moved);
	memset(d, 0, sizeof(*d));
}
