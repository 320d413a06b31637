/*
 * Naive first-fit sub-allocator (benchmark baseline): a sorted singly linked list
 * of free blocks, scanned linearly. List nodes and allocation records live in
 * index-addressed arrays that grow by doubling, as in the real allocator, so that
 * the comparison is about the algorithm and not about malloc.
 */
#include "tests/bench/firstfit.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define NIL 0xFFFFFFFFu

struct ff_free {                /* a free block, granules */
	uint64_t off, len;
	uint32_t next;          /* next free block by address; next unused slot */
};

struct ff_alloc {               /* an allocation, granules; len 0 = id unused */
	uint64_t off, len;
};

struct firstfit {
	unsigned shift;
	uint64_t pages, used, nalloc, nfree;
	uint32_t head;                  /* lowest free block */
	struct ff_free *fb;
	uint32_t fb_cap, fb_spare;      /* slots, unused-slot list */
	struct ff_alloc *al;
	uint32_t *al_spare;             /* stack of unused ids */
	uint32_t al_cap, al_nspare;
};

static int grow_free(struct firstfit *ff)
{
	uint32_t ncap = ff->fb_cap ? ff->fb_cap * 2 : 64;
	struct ff_free *p = realloc(ff->fb, (size_t)ncap * sizeof(*p));
	if (!p)
		return -ENOMEM;
	ff->fb = p;
	for (uint32_t i = ncap; i-- > ff->fb_cap;) {
		p[i].next = ff->fb_spare;
		ff->fb_spare = i;
	}
	ff->fb_cap = ncap;
	return 0;
}

static int grow_alloc(struct firstfit *ff)
{
	uint32_t ncap = ff->al_cap ? ff->al_cap * 2 : 64;
	struct ff_alloc *p = realloc(ff->al, (size_t)ncap * sizeof(*p));
	if (!p)
		return -ENOMEM;
	ff->al = p;
	uint32_t *q = realloc(ff->al_spare, (size_t)ncap * sizeof(*q));
	if (!q)
		return -ENOMEM;
	ff->al_spare = q;
	for (uint32_t i = ncap; i-- > ff->al_cap;) {
		p[i].len = 0;
		q[ff->al_nspare++] = i;
	}
	ff->al_cap = ncap;
	return 0;
}

static uint32_t new_free(struct firstfit *ff, uint64_t off, uint64_t len, uint32_t next)
{
	uint32_t n = ff->fb_spare;
	ff->fb_spare = ff->fb[n].next;
	ff->fb[n].off = off;
	ff->fb[n].len = len;
	ff->fb[n].next = next;
	ff->nfree++;
	return n;
}

static void drop_free(struct firstfit *ff, uint32_t n)
{
	ff->fb[n].next = ff->fb_spare;
	ff->fb_spare = n;
	ff->nfree--;
}

int firstfit_create(uint64_t size, uint64_t granule, struct firstfit **out)
{
	if (!out)
		return -EINVAL;
	*out = NULL;
	if (granule == 0 || (granule & (granule - 1)) || size == 0 || (size & (granule - 1)))
		return -EINVAL;
	struct firstfit *ff = calloc(1, sizeof(*ff));
	if (!ff)
		return -ENOMEM;
	ff->fb_spare = NIL;
	ff->shift = (unsigned)__builtin_ctzll(granule);
	ff->pages = size >> ff->shift;
	if (grow_free(ff) || grow_alloc(ff)) {
		firstfit_destroy(ff);
		return -ENOMEM;
	}
	ff->head = new_free(ff, 0, ff->pages, NIL);
	*out = ff;
	return 0;
}

void firstfit_destroy(struct firstfit *ff)
{
	if (!ff)
		return;
	free(ff->fb);
	free(ff->al);
	free(ff->al_spare);
	free(ff);
}

int firstfit_alloc(struct firstfit *ff, uint64_t size, uint64_t align, uint32_t *id,
		   uint64_t *offset)
{
	uint64_t gmask, s, a;

	if (!ff || !id || size == 0 || (align & (align - 1)))
		return -EINVAL;
	gmask = (1ull << ff->shift) - 1;
	s = (size >> ff->shift) + ((size & gmask) != 0);
	if (s > ff->pages)
		return -EINVAL;
	a = align > gmask + 1 ? align >> ff->shift : 1;
	if ((ff->fb_spare == NIL && grow_free(ff)) || (ff->al_nspare == 0 && grow_alloc(ff)))
		return -ENOMEM;

	uint32_t prev = NIL;
	for (uint32_t n = ff->head; n != NIL; prev = n, n = ff->fb[n].next) {
		struct ff_free *b = &ff->fb[n];
		uint64_t lead = (0 - b->off) & (a - 1);
		if (b->len < s || lead > b->len - s)
			continue;
		uint64_t pos = b->off + lead, trail = b->len - lead - s;
		if (lead && trail) {
			uint32_t t = new_free(ff, pos + s, trail, ff->fb[n].next);
			ff->fb[n].len = lead;
			ff->fb[n].next = t;
		} else if (lead) {
			b->len = lead;
		} else if (trail) {
			b->off += s;
			b->len = trail;
		} else {
			if (prev == NIL)
				ff->head = b->next;
			else
				ff->fb[prev].next = b->next;
			drop_free(ff, n);
		}
		uint32_t i = ff->al_spare[--ff->al_nspare];
		ff->al[i].off = pos;
		ff->al[i].len = s;
		ff->used += s;
		ff->nalloc++;
		*id = i;
		if (offset)
			*offset = pos << ff->shift;
		return 0;
	}
	return -ENOSPC;
}

int firstfit_free(struct firstfit *ff, uint32_t id)
{
	if (!ff || id >= ff->al_cap || ff->al[id].len == 0)
		return -EINVAL;
	if (ff->fb_spare == NIL && grow_free(ff))
		return -ENOMEM;

	uint64_t off = ff->al[id].off, len = ff->al[id].len;
	uint32_t prev = NIL, next = ff->head;
	while (next != NIL && ff->fb[next].off < off) {
		prev = next;
		next = ff->fb[next].next;
	}
	bool join_prev = prev != NIL && ff->fb[prev].off + ff->fb[prev].len == off;
	bool join_next = next != NIL && off + len == ff->fb[next].off;
	if (join_prev && join_next) {
		ff->fb[prev].len += len + ff->fb[next].len;
		ff->fb[prev].next = ff->fb[next].next;
		drop_free(ff, next);
	} else if (join_prev) {
		ff->fb[prev].len += len;
	} else if (join_next) {
		ff->fb[next].off = off;
		ff->fb[next].len += len;
	} else {
		uint32_t n = new_free(ff, off, len, next);
		if (prev == NIL)
			ff->head = n;
		else
			ff->fb[prev].next = n;
	}
	ff->al[id].len = 0;
	ff->al_spare[ff->al_nspare++] = id;
	ff->used -= len;
	ff->nalloc--;
	return 0;
}

void firstfit_get_stats(const struct firstfit *ff, struct firstfit_stats *st)
{
	uint64_t largest = 0;

	memset(st, 0, sizeof(*st));
	for (uint32_t n = ff->head; n != NIL; n = ff->fb[n].next)
		if (ff->fb[n].len > largest)
			largest = ff->fb[n].len;
	uint64_t freep = ff->pages - ff->used;
	st->size = ff->pages << ff->shift;
	st->used = ff->used << ff->shift;
	st->free = freep << ff->shift;
	st->largest_free = largest << ff->shift;
	st->free_blocks = ff->nfree;
	st->allocations = ff->nalloc;
	st->fragmentation = freep ? 1.0 - (double)largest / (double)freep : 0.0;
}
