/*
 * The handle table and the API lock. Handles index a growable slot array and
 * carry a generation, so a destroyed handle fails look-up instead of naming
 * whatever reused its slot; freed slots wait in a FIFO quarantine before reuse,
 * which turns the generation's few bits into a guarantee counted in creations.
 * Allocation objects live in a slab of cells indexed like the slots.
 *
 * The shape is the Windows one (low 6 bits clear, consecutive new handles 0x40
 * apart): generation << 27 | index << 6. The guarantee: a handle value, once
 * destroyed, is not handed out again before HANDLE_REUSE_BOUND (2^20) further
 * creations of any handle, also across gpusim_reset. Why it holds: a freed slot
 * is reused only after QUARANTINE creations have followed its release, and each
 * reuse advances its generation, which comes round again after 2^GEN_BITS
 * reuses: 2^5 * 2^15 = 2^20 creations at the least.
 */
#include <config.h>

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "kmt/core.h"

#define INDEX_SHIFT 6u
#define INDEX_BITS 21u
#define GEN_SHIFT (INDEX_SHIFT + INDEX_BITS)  /* 27: the generation is the top 5 bits */
#define GEN_BITS (32u - GEN_SHIFT)
#define GEN_COUNT (1u << GEN_BITS)
#define INDEX_MASK ((1u << INDEX_BITS) - 1)
#define MAX_SLOTS (1u << INDEX_BITS)
/* A never-used slot starts at generation 8, so the first handles read as
 * Windows' do (0x40000040, 0x40000080, ...). */
#define GEN_FIRST 8u
#define QUARANTINE (KMT_HANDLE_REUSE_BOUND / GEN_COUNT)
#define CELL_LOG2 13u          /* 8192 cells (2 MiB, one huge page) per slab chunk */
#define HUGE_PAGE (2u << 20)
#define CELLS (1u << CELL_LOG2)

_Static_assert(QUARANTINE * GEN_COUNT >= KMT_HANDLE_REUSE_BOUND, "the bound needs a longer quarantine");
_Static_assert(QUARANTINE < MAX_SLOTS / 4, "the quarantine would hold most of the table");

struct slot {
	union {
		void *obj;          /* live */
		struct {            /* free: the quarantine's links */
			uint32_t next;      /* index of the next freed slot, 0 ends the FIFO */
			uint32_t freed_at;  /* the creation count when it was released */
		} q;
	};
	uint8_t type;
	uint8_t gen;
	bool parked;         /* free, but its cell holds memory: not in the quarantine */
};

static pthread_mutex_t big_lock = PTHREAD_MUTEX_INITIALIZER;
static struct slot *slots;
/* Slot 0 is never used (its handles could be 0); nslots counts it. */
static uint32_t nslots, cap;
/* The quarantine, oldest release first; indexes, 0 when empty. */
static uint32_t q_head, q_tail;
/* Creations of handles since the process began, modulo 2^32: quarantine ages are
 * differences of it and never exceed QUARANTINE, so the wrap does not matter. */
static uint32_t created;
/* Allocation cells by slot index, allocated a chunk at a time on first use. The
 * chunk table is small (2 KiB) and the few entries in use stay cached. */
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
	return (uint32_t)slots[i].gen << GEN_SHIFT | i << INDEX_SHIFT;
}

/* The slot index a handle names, 0 if it is not of the handle shape. */
static uint32_t index_of(D3DKMT_HANDLE h)
{
	return h & ((1u << INDEX_SHIFT) - 1) ? 0 : (h >> INDEX_SHIFT) & INDEX_MASK;
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

/* The quarantine's oldest slot if it has served its time, else 0. */
static uint32_t q_ready(void)
{
	return q_head && created - slots[q_head].q.freed_at >= QUARANTINE ? q_head : 0;
}

/* The slot a new handle takes, not yet taken (nothing changes but the table's
 * size): UINT32_MAX when the table is full or cannot grow. Fresh: a never-used
 * slot, whatever waits in the quarantine. */
static uint32_t slot_next(bool fresh)
{
	uint32_t i = fresh ? 0 : q_ready();
	if (i)
		return i;
	if (nslots >= cap) {
		uint32_t ncap = cap ? cap * 2 : 1024;
		if (ncap > MAX_SLOTS)
			return UINT32_MAX;
		if (!slots_grow(ncap))
			return UINT32_MAX;
	}
	if (nslots == 0) {
		/* Slot 0 stays unused (its handles could be 0) and always free. */
		memset(&slots[0], 0, sizeof(slots[0]));
		nslots = 1;
		if (nslots >= cap)
			return UINT32_MAX;
	}
	slots[nslots].gen = GEN_FIRST - 1;  /* slot_take advances it */
	return nslots;
}

/* Take slot i (from slot_next) for obj. */
static D3DKMT_HANDLE slot_take(uint32_t i, enum kmt_type type, void *obj)
{
	if (i == q_head) {
		q_head = slots[i].q.next;
		if (!q_head)
			q_tail = 0;
	} else {
		nslots++;
	}
	created++;
	slots[i].gen = (uint8_t)((slots[i].gen + 1) % GEN_COUNT);
	slots[i].type = (uint8_t)type;
	slots[i].obj = obj;
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
	uint32_t i = index_of(h);
	if (!i || i >= nslots || slots[i].type == KMT_T_FREE || handle_of(i) != h)
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
		if (s->type == type && type != KMT_T_FREE)
			return s->obj;
	}
	return NULL;
}

D3DKMT_HANDLE kmt_handle_at(uint32_t index)
{
	if (index == 0 || index >= nslots || slots[index].type == KMT_T_FREE)
		return 0;
	return handle_of(index);
}

/* The slot is free: into the quarantine's tail. */
static void slot_release(struct slot *s)
{
	uint32_t i = (uint32_t)(s - slots);
	s->type = KMT_T_FREE;
	s->parked = false;
	s->q.next = 0;
	s->q.freed_at = created;
	if (q_tail)
		slots[q_tail].q.next = i;
	else
		q_head = i;
	q_tail = i;
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

/* The cell slot i names, if its chunk exists; nothing is validated. */
static struct kmt_alloc *cell_at(uint32_t i)
{
	return cells[i >> CELL_LOG2] ? &cells[i >> CELL_LOG2][i & (CELLS - 1)] : NULL;
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
	struct kmt_alloc *a = kmt_alloc_new(NULL, true);
	if (a)
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
	uint32_t i = index_of(a->handle);
	if (!i || i >= nslots || !slots[i].parked || handle_of(i) != a->handle)
		return;
	a->handle = 0;
	slot_release(&slots[i]);
}

void kmt_alloc_prefetch(D3DKMT_HANDLE h)
{
	uint32_t i = index_of(h);
	struct kmt_alloc *a = i < nslots ? cell_at(i) : NULL;
	if (a) {
		/* A destroy reads the cell's first two lines and its table entry. */
		__builtin_prefetch(a, 1);
		__builtin_prefetch((const char *)a + 64, 1);
		__builtin_prefetch(&slots[i], 1);
	}
	/* The next create takes the quarantine's oldest slot, long out of the
	 * cache, and writes all of its cell: fetch them while the destroy runs. */
	uint32_t n = q_head;
	struct kmt_alloc *c = n ? cell_at(n) : NULL;
	if (c) {
		for (size_t off = 0; off < sizeof(*c); off += 64)
			__builtin_prefetch((const char *)c + off, 1);
		__builtin_prefetch(&slots[n], 1);
	}
}

struct kmt_alloc *kmt_get_alloc(struct kmt_device *dev, D3DKMT_HANDLE h)
{
	/* A live allocation handle's cell holds that handle and a dead one's does
	 * not (see struct kmt_alloc), so the cell alone validates it. */
	uint32_t i = index_of(h);
	struct kmt_alloc *a = i ? cell_at(i) : NULL;
	return a && dev && a->handle == h && a->dev == dev ? a : NULL;
}

void kmt_handles_reset(void)
{
	/* Every handle dies, but the slots keep their generations and go through
	 * the quarantine as on any destroy, so no handle of before the reset names
	 * an object after it within the bound. The objects are gone already. */
	for (uint32_t i = 1; i < nslots; i++)
		if (slots[i].type != KMT_T_FREE || slots[i].parked)
			slot_release(&slots[i]);
	for (uint32_t c = 0; c < MAX_SLOTS / CELLS; c++) {
		free(cells[c]);
		cells[c] = NULL;
	}
}
