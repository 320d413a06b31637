/*
 * The handle table and the API lock. Handles index a growable slot array; a
 * generation in the low bits makes a stale handle fail look-up instead of naming
 * whatever reused its slot. Free slots are kept on a LIFO list for O(1) reuse.
 */
#include <config.h>

#include <pthread.h>
#include <stdlib.h>

#include "kmt/core.h"

#define HANDLE_BASE 0x40000000u
#define GEN_BITS 6
#define GEN_MASK ((1u << GEN_BITS) - 1)
#define MAX_SLOTS (1u << 23)

struct slot {
	void *obj;
	uint32_t type : 8;
	uint32_t gen : 8;
	uint32_t next_free;  /* index + 1, 0 ends the list */
};

static pthread_mutex_t big_lock = PTHREAD_MUTEX_INITIALIZER;
static struct slot *slots;
static uint32_t nslots, cap;
static uint32_t free_head;

void kmt_lock(void)
{
	pthread_mutex_lock(&big_lock);
}

void kmt_unlock(void)
{
	pthread_mutex_unlock(&big_lock);
}

static D3DKMT_HANDLE handle_new(enum kmt_type type, void *obj, bool fresh)
{
	uint32_t i;
	if (free_head && !fresh) {
		i = free_head - 1;
		free_head = slots[i].next_free;
	} else {
		if (nslots == cap) {
			uint32_t ncap = cap ? cap * 2 : 1024;
			if (ncap > MAX_SLOTS)
				return 0;
			struct slot *ns = realloc(slots, ncap * sizeof(*ns));
			if (!ns)
				return 0;
			slots = ns;
			cap = ncap;
		}
		i = nslots++;
		slots[i].gen = 0;
	}
	slots[i].gen = (uint8_t)((slots[i].gen % GEN_MASK) + 1); /* 1..63 */
	slots[i].type = type;
	slots[i].obj = obj;
	slots[i].next_free = 0;
	return HANDLE_BASE | (i << GEN_BITS) | slots[i].gen;
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
	return HANDLE_BASE | (index << GEN_BITS) | slots[index].gen;
}

void kmt_handle_free(D3DKMT_HANDLE h)
{
	struct slot *s = lookup(h);
	if (!s)
		return;
	s->type = KMT_T_FREE;
	s->obj = NULL;
	s->next_free = free_head;
	free_head = (uint32_t)(s - slots) + 1;
}

void kmt_handles_reset(void)
{
	free(slots);
	slots = NULL;
	nslots = cap = free_head = 0;
}
