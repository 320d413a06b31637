/*
 * Belady's farthest-next-use schedule and the PFOO-L-style lower bound on an
 * allocation-use sequence (sim/lab/min.h says what each is and what it costs).
 * Both take O(uses log uses): traces of millions of uses stay quick.
 */
#include <config.h>

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "sim/lab/min.h"

#define NEVER UINT32_MAX  /* next use of an allocation not used again */
#define HELD 0u           /* key of a member of the group being placed: never a victim */

/* For every entry of s->uses, the group of the same allocation's next use. */
static uint32_t *next_uses(const struct lab_seq *s)
{
	uint32_t *next = malloc((s->nuses ? s->nuses : 1) * sizeof(*next));
	uint32_t *last = malloc((s->nallocs ? s->nallocs : 1) * sizeof(*last));
	if (!next || !last) {
		free(next);
		free(last);
		return NULL;
	}
	for (uint32_t a = 0; a < s->nallocs; a++)
		last[a] = NEVER;
	for (size_t i = s->nsteps; i-- > 0;) {
		const struct lab_step *st = &s->steps[i];
		if (st->kind != LAB_USE)
			continue;
		for (size_t k = 0; k < st->n; k++) {
			uint32_t a = s->uses[st->first + k];
			next[st->first + k] = last[a];
			last[a] = st->group;
		}
	}
	free(last);
	return next;
}

/* ---- an indexed max-heap of resident allocations, by next use -------------------- */

struct heap {
	uint32_t *v;      /* allocation indices */
	uint32_t *pos;    /* per allocation: its place in v, or NEVER when not in */
	uint32_t *key;    /* per allocation: next use */
	uint32_t n;
};

/* Evicted first: the farthest next use, then the allocation created first. */
static bool before(const struct heap *h, uint32_t a, uint32_t b)
{
	return h->key[a] != h->key[b] ? h->key[a] > h->key[b] : a < b;
}

static void put(struct heap *h, uint32_t i, uint32_t a)
{
	h->v[i] = a;
	h->pos[a] = i;
}

static void up(struct heap *h, uint32_t i)
{
	uint32_t a = h->v[i];
	while (i && before(h, a, h->v[(i - 1) / 2])) {
		put(h, i, h->v[(i - 1) / 2]);
		i = (i - 1) / 2;
	}
	put(h, i, a);
}

static void down(struct heap *h, uint32_t i)
{
	uint32_t a = h->v[i];
	for (;;) {
		uint32_t c = 2 * i + 1;
		if (c >= h->n)
			break;
		if (c + 1 < h->n && before(h, h->v[c + 1], h->v[c]))
			c++;
		if (!before(h, h->v[c], a))
			break;
		put(h, i, h->v[c]);
		i = c;
	}
	put(h, i, a);
}

static void heap_add(struct heap *h, uint32_t a, uint32_t key)
{
	h->key[a] = key;
	h->v[h->n] = a;
	h->pos[a] = h->n;
	up(h, h->n++);
}

static void heap_set(struct heap *h, uint32_t a, uint32_t key)
{
	uint32_t old = h->key[a];
	h->key[a] = key;
	if (key > old)
		up(h, h->pos[a]);
	else
		down(h, h->pos[a]);
}

static void heap_remove(struct heap *h, uint32_t a)
{
	uint32_t i = h->pos[a];
	h->pos[a] = NEVER;
	if (i == --h->n)
		return;
	uint32_t last = h->v[h->n];
	put(h, i, last);
	up(h, i);
	down(h, h->pos[last]);
}

/* ---- Belady ---------------------------------------------------------------------- */

int lab_min_belady(const struct lab_seq *s, uint64_t capacity, struct lab_min *out)
{
	memset(out, 0, sizeof(*out));
	if (s->largest_group > capacity)
		return -ENOSPC;
	size_t na = s->nallocs ? s->nallocs : 1;
	uint32_t *next = next_uses(s);
	struct heap h = { .v = malloc(na * sizeof(uint32_t)), .pos = malloc(na * sizeof(uint32_t)),
			  .key = malloc(na * sizeof(uint32_t)) };
	bool *has_data = calloc(na, sizeof(bool));
	int rc = 0;
	if (!next || !h.v || !h.pos || !h.key || !has_data) {
		rc = -ENOMEM;
		goto out;
	}
	for (uint32_t a = 0; a < s->nallocs; a++)
		h.pos[a] = NEVER;
	uint64_t used = 0;
	for (size_t i = 0; i < s->nsteps && !rc; i++) {
		const struct lab_step *st = &s->steps[i];
		if (st->kind == LAB_DESTROY && h.pos[st->alloc] != NEVER) {
			heap_remove(&h, st->alloc); /* gone: its bytes need not be kept */
			used -= s->allocs[st->alloc].size;
		}
		if (st->kind != LAB_USE)
			continue;
		const uint32_t *g = &s->uses[st->first];
		/* The group's own members are never its victims. */
		for (size_t k = 0; k < st->n; k++)
			if (h.pos[g[k]] != NEVER)
				heap_set(&h, g[k], HELD);
		for (size_t k = 0; k < st->n; k++) {
			uint32_t a = g[k];
			uint64_t size = s->allocs[a].size;
			if (!s->allocs[a].vram || h.pos[a] != NEVER)
				continue;
			while (capacity - used < size) {
				if (!h.n || h.key[h.v[0]] == HELD) {
					rc = -ENOSPC; /* cannot happen: the group fits capacity */
					break;
				}
				uint32_t v = h.v[0];
				heap_remove(&h, v);
				used -= s->allocs[v].size;
				out->bytes_out += s->allocs[v].size; /* resident means used: it holds data */
				out->evictions++;
			}
			if (rc)
				break;
			heap_add(&h, a, HELD);
			used += size;
			if (has_data[a]) {
				out->bytes_in += size;
				out->page_ins++;
			}
		}
		for (size_t k = 0; k < st->n && !rc; k++) {
			has_data[g[k]] = true;
			if (h.pos[g[k]] != NEVER)
				heap_set(&h, g[k], next[st->first + k]);
		}
	}
out:
	free(next);
	free(h.v);
	free(h.pos);
	free(h.key);
	free(has_data);
	return rc;
}

/* ---- the lower bound -------------------------------------------------------------- */

/* Keeping an allocation resident over a stretch of groups: `cost` bytes paged if
 * it is not kept, `room` byte-groups it holds if it is. */
struct hold {
	uint64_t cost;
	unsigned __int128 room;
};

/* Most cost saved per byte-group first (free holds first of all). */
static int by_worth(const void *x, const void *y)
{
	const struct hold *a = x, *b = y;
	unsigned __int128 l = (unsigned __int128)a->cost * b->room, r = (unsigned __int128)b->cost * a->room;
	if (l != r)
		return l > r ? -1 : 1;
	if (a->room != b->room)
		return a->room < b->room ? -1 : 1;
	return a->cost > b->cost ? -1 : a->cost < b->cost;
}

int lab_min_bound(const struct lab_seq *s, uint64_t capacity, uint64_t *bytes)
{
	*bytes = 0;
	if (s->largest_group > capacity)
		return -ENOSPC;
	size_t na = s->nallocs ? s->nallocs : 1;
	uint32_t *last = malloc(na * sizeof(*last));          /* group of the last use so far */
	struct hold *holds = malloc((s->nuses ? s->nuses : 1) * sizeof(*holds));
	if (!last || !holds) {
		free(last);
		free(holds);
		return -ENOMEM;
	}
	for (uint32_t a = 0; a < s->nallocs; a++)
		last[a] = NEVER;
	size_t nh = 0;
	unsigned __int128 need = 0; /* byte-groups the groups themselves hold */
	uint32_t groups_seen = 0;
	for (size_t i = 0; i < s->nsteps; i++) {
		const struct lab_step *st = &s->steps[i];
		if (st->kind == LAB_DESTROY) {
			uint32_t a = st->alloc;
			/* Kept from its last use up to here: the groups in between. */
			if (s->allocs[a].vram && last[a] != NEVER)
				holds[nh++] = (struct hold){ s->allocs[a].size,
							     (unsigned __int128)s->allocs[a].size *
								     (groups_seen - 1 - last[a]) };
			last[a] = NEVER;
		}
		if (st->kind != LAB_USE)
			continue;
		for (size_t k = 0; k < st->n; k++) {
			uint32_t a = s->uses[st->first + k];
			uint64_t size = s->allocs[a].size;
			if (!s->allocs[a].vram)
				continue;
			need += size;
			if (last[a] != NEVER)
				holds[nh++] = (struct hold){ 2 * size,
							     (unsigned __int128)size * (st->group - 1 - last[a]) };
			last[a] = st->group;
		}
		groups_seen = st->group + 1;
	}
	/* Still live at the end: kept to the last group, or written back once. */
	for (uint32_t a = 0; a < s->nallocs; a++)
		if (s->allocs[a].vram && last[a] != NEVER)
			holds[nh++] = (struct hold){ s->allocs[a].size,
						     (unsigned __int128)s->allocs[a].size * (s->ngroups - 1 - last[a]) };
	free(last);

	qsort(holds, nh, sizeof(*holds), by_worth);
	unsigned __int128 budget = (unsigned __int128)capacity * s->ngroups - need, total = 0, saved = 0;
	size_t k = 0;
	for (; k < nh; k++) {
		total += holds[k].cost;
		if (holds[k].room > budget)
			break;
		budget -= holds[k].room;
		saved += holds[k].cost;
	}
	if (k < nh) {
		/* The first hold that does not fit, in part: round the part saved up so
		 * that the bound stays below the relaxation's optimum. */
		unsigned __int128 part = (unsigned __int128)holds[k].cost * budget;
		saved += part / holds[k].room + (part % holds[k].room != 0);
		for (k++; k < nh; k++)
			total += holds[k].cost;
	}
	free(holds);
	*bytes = (uint64_t)(total - saved);
	return 0;
}
