/*
 * The handle table and the API lock. Handles index a growable slot array; a
 * generation in the low bits makes a stale handle fail look-up instead of naming
 * whatever reused its slot. Free slots are kept on a LIFO list for O(1) reuse.
 * Allocation objects live in a slab of cells indexed like the slots.
 */
#include <config.h>

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "kmt/core.h"

#define HANDLE_BASE 0x40000000u
#define GEN_BITS 6
#define GEN_MASK ((1u << GEN_BITS) - 1)
#define MAX_SLOTS (1u << 23)
#define CELL_LOG2 13u          /* 8192 cells (2 MiB, one huge page) per slab chunk */
#define HUGE_PAGE (2u << 20)
#define CELLS (1u << CELL_LOG2)

struct slot {
	void *obj;
	uint32_t next_free;  /* index + 1, 0 ends the list */
	uint8_t type;
	uint8_t gen;
	bool parked;         /* free, but its cell holds memory: not on the free list */
};

static pthread_mutex_t big_lock = PTHREAD_MUTEX_INITIALIZER;
static struct slot *slots;
static uint32_t nslots, cap;
static uint32_t free_head;
/* Allocation cells by slot index, allocated a chunk at a time on first use. The
 * chunk table is small (8 KiB) and the few entries in use stay cached. */
static struct kmt_alloc *cells[MAX_SLOTS / CELLS];

void kmt_lock(void)
{
	pthread_mutex_lock(&big_lock);
}

void kmt_unlock(void)
{
	pthread_mutex_unlock(&big_lock);
}

static D3DKMT_HANDLE handle_of(uint32_t i)
{
	return HANDLE_BASE | (i << GEN_BITS) | slots[i].gen;
}

/*
 * Memory the hot path reads at random, a lookup per destroy, in arrays that reach
 * hundreds of MB at 10^6 allocations: on huge pages where the system allows it
 * (THP "madvise"), so that the TLB covers them and a cache miss is not also a
 * page walk (see node_array_alloc in kmt/vidmm/suballoc.c for the measurement).
 * aligned_alloc wants a size that is a multiple of the alignment: rounded up
 * (the cells grew past 2 MiB a chunk when allocations gained VA mappings).
 */
static void *huge_alloc(size_t bytes)
{
	bytes = (bytes + HUGE_PAGE - 1) & ~(size_t)(HUGE_PAGE - 1);
	void *p = aligned_alloc(HUGE_PAGE, bytes);
	if (p)
		(void)madvise(p, bytes, MADV_HUGEPAGE);
	return p;
}

/* Grow the slot table to ncap entries, keeping the first nslots. */
static bool slots_grow(uint32_t ncap)
{
	size_t bytes = (size_t)ncap * sizeof(struct slot);
	struct slot *ns;
	if (bytes < HUGE_PAGE) {
		ns = realloc(slots, bytes);
		if (!ns)
			return false;
	} else {
		ns = huge_alloc(bytes);
		if (!ns)
			return false;
		memcpy(ns, slots, (size_t)nslots * sizeof(struct slot));
		free(slots);
	}
	slots = ns;
	cap = ncap;
	return true;
}

/* The slot a new handle takes, not yet taken (nothing changes): UINT32_MAX when
 * the table is full or cannot grow. */
static uint32_t slot_next(bool fresh)
{
	if (free_head && !fresh)
		return free_head - 1;
	if (nslots == cap) {
		uint32_t ncap = cap ? cap * 2 : 1024;
		if (ncap > MAX_SLOTS)
			return UINT32_MAX;
		if (!slots_grow(ncap))
			return UINT32_MAX;
	}
	slots[nslots].gen = 0;
	return nslots;
}

/* Take slot i (from slot_next) for obj. */
static D3DKMT_HANDLE slot_take(uint32_t i, enum kmt_type type, void *obj)
{
	if (free_head == i + 1)
		free_head = slots[i].next_free;
	else
		nslots++;
	slots[i].gen = (uint8_t)((slots[i].gen % GEN_MASK) + 1); /* 1..63 */
	slots[i].type = (uint8_t)type;
	slots[i].obj = obj;
	slots[i].next_free = 0;
	slots[i].parked = false;
	return handle_of(i);
}

static D3DKMT_HANDLE handle_new(enum kmt_type type, void *obj, bool fresh)
{
	uint32_t i = slot_next(fresh);
	return i == UINT32_MAX ? 0 : slot_take(i, type, obj);
}

D3DKMT_HANDLE kmt_handle_new(enum kmt_type type, void *obj)
{
	return handle_new(type, obj, false);
}

D3DKMT_HANDLE kmt_handle_new_fresh(enum kmt_type type, void *obj)
{
	return handle_new(type, obj, true);
}

static struct slot *lookup(D3DKMT_HANDLE h)
{
	if ((h & 0xc0000000u) != HANDLE_BASE)
		return NULL;
	uint32_t i = (h & ~HANDLE_BASE) >> GEN_BITS;
	if (i >= nslots || slots[i].type == KMT_T_FREE || slots[i].gen != (h & GEN_MASK))
		return NULL;
	return &slots[i];
}

void *kmt_handle_get(D3DKMT_HANDLE h, enum kmt_type type)
{
	struct slot *s = lookup(h);
	return s && s->type == type ? s->obj : NULL;
}

void *kmt_handle_iter(enum kmt_type type, uint32_t *cursor)
{
	while (*cursor < nslots) {
		struct slot *s = &slots[(*cursor)++];
		if (s->type == type)
			return s->obj;
	}
	return NULL;
}

D3DKMT_HANDLE kmt_handle_at(uint32_t index)
{
	if (index >= nslots || slots[index].type == KMT_T_FREE)
		return 0;
	return handle_of(index);
}

static void slot_release(struct slot *s)
{
	s->type = KMT_T_FREE;
	s->obj = NULL;
	s->parked = false;
	s->next_free = free_head;
	free_head = (uint32_t)(s - slots) + 1;
}

void kmt_handle_free(D3DKMT_HANDLE h)
{
	struct slot *s = lookup(h);
	if (!s)
		return;
	if (s->type == KMT_T_ALLOCATION) {
		struct kmt_alloc *a = s->obj;
		a->handle = 0;
		a->dev = NULL;
	}
	slot_release(s);
}

/* ---- allocation cells --------------------------------------------------- */

/* The cell of slot i, its chunk made on first use; NULL for want of memory. */
static struct kmt_alloc *cell_make(uint32_t i)
{
	struct kmt_alloc **c = &cells[i >> CELL_LOG2];
	if (!*c) {
		*c = huge_alloc(CELLS * sizeof(struct kmt_alloc));
		if (!*c)
			return NULL;
		memset(*c, 0, CELLS * sizeof(struct kmt_alloc));
	}
	return &(*c)[i & (CELLS - 1)];
}

/* The cell h's index names, if its chunk exists; nothing is validated. */
static struct kmt_alloc *cell_of(D3DKMT_HANDLE h)
{
	if ((h & 0xc0000000u) != HANDLE_BASE)
		return NULL;
	uint32_t i = (h & ~HANDLE_BASE) >> GEN_BITS;
	if (i >= MAX_SLOTS || !cells[i >> CELL_LOG2])
		return NULL;
	return &cells[i >> CELL_LOG2][i & (CELLS - 1)];
}

struct kmt_alloc *kmt_alloc_new(struct kmt_device *dev, bool fresh)
{
	uint32_t i = slot_next(fresh);
	if (i == UINT32_MAX)
		return NULL;
	struct kmt_alloc *a = cell_make(i);
	if (!a)
		return NULL;
	memset(a, 0, sizeof(*a));
	a->handle = slot_take(i, KMT_T_ALLOCATION, a);
	a->dev = dev;
	return a;
}

struct kmt_alloc *kmt_alloc_new_orphan(void)
{
	uint32_t i = slot_next(true);
	if (i == UINT32_MAX)
		return NULL;
	struct kmt_alloc *a = cell_make(i);
	if (!a)
		return NULL;
	memset(a, 0, sizeof(*a));
	a->handle = slot_take(i, KMT_T_ALLOCATION, a);
	kmt_alloc_park(a);
	return a;
}

void kmt_alloc_park(struct kmt_alloc *a)
{
	struct slot *s = lookup(a->handle);
	if (!s)
		return;
	s->type = KMT_T_FREE;
	s->obj = NULL;
	s->parked = true;
	a->dev = NULL; /* a->handle stays: it names the slot to unpark */
}

void kmt_alloc_unpark(struct kmt_alloc *a)
{
	uint32_t i = (a->handle & ~HANDLE_BASE) >> GEN_BITS;
	if (!a->handle || i >= nslots || !slots[i].parked || slots[i].gen != (a->handle & GEN_MASK))
		return;
	a->handle = 0;
	slot_release(&slots[i]);
}

void kmt_alloc_prefetch(D3DKMT_HANDLE h)
{
	struct kmt_alloc *a = cell_of(h);
	uint32_t i = (h & ~HANDLE_BASE) >> GEN_BITS;
	if (!a || i >= nslots)
		return;
	/* The whole cell: a destroy reads its first two lines, and the next create,
	 * which takes the slot just freed (LIFO), writes all of it. */
	for (size_t off = 0; off < sizeof(*a); off += 64)
		__builtin_prefetch((const char *)a + off, 1);
	__builtin_prefetch(&slots[i], 1);
}

struct kmt_alloc *kmt_get_alloc(struct kmt_device *dev, D3DKMT_HANDLE h)
{
	/* A live allocation handle's cell holds that handle and a dead one's does
	 * not (see struct kmt_alloc), so the cell alone validates it. */
	struct kmt_alloc *a = cell_of(h);
	return a && dev && a->handle == h && a->dev == dev ? a : NULL;
}

void kmt_handles_reset(void)
{
	free(slots);
	slots = NULL;
	nslots = cap = free_head = 0;
	for (uint32_t c = 0; c < MAX_SLOTS / CELLS; c++) {
		free(cells[c]);
		cells[c] = NULL;
	}
}
