/*
 * Least-recently-used eviction: per segment, "priority-lru" keeps one queue per
 * priority and offers the lowest priority first; "lru" keeps one queue and
 * ignores priority. A use moves the allocation to the back of its queue.
 *
 * Costs (queue.h): a use unlinks the allocation (a store into each neighbour)
 * and appends it (a store into the old tail, which a recent use made hot); a
 * removal unlinks it.
 */
#include <config.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "kmt/vidmm/vidmm.h"

struct bucket {
	struct vidmm_queue q;             /* head = least recently used */
	uint32_t priority;
	struct bucket *next;              /* ascending priority */
};

struct lists {
	bool by_priority;
	struct bucket *segs[VIDMM_SEG_MAX];
};

static void *create_common(bool by_priority)
{
	struct lists *l = calloc(1, sizeof(*l));
	if (l)
		l->by_priority = by_priority;
	return l;
}

static void *create_plru(void) { return create_common(true); }
static void *create_lru(void) { return create_common(false); }

static void destroy(void *p)
{
	struct lists *l = p;
	if (!l)
		return;
	for (int s = 0; s < VIDMM_SEG_MAX; s++) {
		struct bucket *b = l->segs[s];
		while (b) {
			struct bucket *n = b->next;
			vidmm_queue_fini(&b->q);
			free(b);
			b = n;
		}
	}
	free(l);
}

/* Few distinct priorities exist in practice (the five D3DDDI levels), so a short
 * sorted list of buckets beats anything cleverer. */
static struct bucket *bucket_for(struct lists *l, uint32_t seg, uint32_t prio)
{
	struct bucket **pp = &l->segs[seg];
	if (!l->by_priority)
		prio = 0;
	while (*pp && (*pp)->priority < prio)
		pp = &(*pp)->next;
	if (*pp && (*pp)->priority == prio)
		return *pp;
	struct bucket *b = calloc(1, sizeof(*b));
	if (!b)
		return NULL;
	b->priority = prio;
	b->next = *pp;
	*pp = b;
	return b;
}

static void unlink_alloc(struct vidmm_alloc *a)
{
	struct bucket *b = a->pol_bucket;
	a->pol_bits &= ~VIDMM_POL_LOST;
	if (!b)
		return;
	vidmm_queue_remove(&b->q, a);
	a->pol_bucket = NULL;
}

static void append(struct bucket *b, struct vidmm_alloc *a)
{
	/* Without a bucket it is merely never offered for eviction. */
	if (b) {
		vidmm_queue_push(&b->q, a);
		a->pol_bucket = b;
		a->pol_bits &= ~VIDMM_POL_LOST;
	} else {
		a->pol_bits |= VIDMM_POL_LOST;
	}
}

static void insert(void *p, struct vidmm_alloc *a)
{
	struct lists *l = p;
	unlink_alloc(a);
	if (vidmm_policy_holds(a))
		append(bucket_for(l, a->seg, a->priority), a);
}

static void remove_alloc(void *p, struct vidmm_alloc *a)
{
	(void)p;
	unlink_alloc(a);
}

static void touch(void *p, struct vidmm_alloc *a)
{
	(void)p;
	struct bucket *b = a->pol_bucket;
	if (!b || b->q.tail == a)
		return;
	vidmm_queue_remove(&b->q, a);
	a->pol_bucket = NULL;
	append(b, a);
}

static struct vidmm_alloc *next(void *p, uint32_t seg, struct vidmm_alloc *after)
{
	struct lists *l = p;
	struct bucket *b;
	if (after) {
		b = after->pol_bucket;
		struct vidmm_alloc *n = vidmm_queue_next(&b->q, after);
		if (n)
			return n;
		b = b->next;
	} else {
		b = seg < VIDMM_SEG_MAX ? l->segs[seg] : NULL;
	}
	for (; b; b = b->next) {
		struct vidmm_alloc *n = vidmm_queue_first(&b->q);
		if (n)
			return n;
	}
	return NULL;
}

static void save(void *p, struct vidmm_policy_io *io);
static int load(void *p, struct vidmm_policy_io *io);
static int check(void *p, vidmm_alloc_iter it, void *ctx, char *err, size_t errlen);

const struct vidmm_policy_ops vidmm_policy_priority_lru = {
	.name = "priority-lru",
	.create = create_plru,
	.destroy = destroy,
	.insert = insert,
	.remove = remove_alloc,
	.touch = touch,
	.next = next,
	.save = save,
	.load = load,
	.check = check,
};

const struct vidmm_policy_ops vidmm_policy_lru = {
	.name = "lru",
	.create = create_lru,
	.destroy = destroy,
	.insert = insert,
	.remove = remove_alloc,
	.touch = touch,
	.next = next,
	.save = save,
	.load = load,
	.check = check,
};

/* These policies keep nothing in pol_bits but LOST, and that only while held. */
static bool lru_bits_sane(uint32_t bits, bool held)
{
	return !(bits & ~VIDMM_POL_LOST) && (!(bits & VIDMM_POL_LOST) || held);
}

/* The order is the whole state: buckets follow from the allocations' priorities. */
static void save(void *p, struct vidmm_policy_io *io)
{
	vidmm_policy_save_fields(io);
	vidmm_policy_save_order(p, &vidmm_policy_lru, io);
}

static void push(void *p, struct vidmm_alloc *a)
{
	insert(p, a);
}

static int load(void *p, struct vidmm_policy_io *io)
{
	uint32_t *bits = calloc(io->nallocs + 1, sizeof(*bits));
	if (!bits)
		return -ENOMEM;
	int rc = vidmm_policy_load_fields(io, lru_bits_sane, bits);
	if (!rc)
		rc = vidmm_policy_load_order(p, io, bits, push);
	free(bits);
	return rc;
}

static int check(void *p, vidmm_alloc_iter it, void *ctx, char *err, size_t errlen)
{
	struct lists *l = p;
	for (uint32_t s = 0; s < VIDMM_SEG_MAX; s++) {
		uint32_t last = 0;
		for (struct bucket *b = l->segs[s]; b; b = b->next) {
			int rc = vidmm_queue_check(&b->q, b, err, errlen);
			if (rc)
				return rc;
			if ((b != l->segs[s] && b->priority <= last) || (!l->by_priority && b->priority)) {
				if (err && errlen)
					snprintf(err, errlen, "segment %u: priority buckets out of order", s);
				return -EFAULT;
			}
			last = b->priority;
			for (struct vidmm_alloc *a = vidmm_queue_first(&b->q); a; a = vidmm_queue_next(&b->q, a))
				if (a->seg != s || (l->by_priority && a->priority != b->priority)) {
					if (err && errlen)
						snprintf(err, errlen, "allocation %u sits in the wrong queue", a->handle);
					return -EFAULT;
				}
		}
	}
	return vidmm_policy_check_walk(p, l->by_priority ? &vidmm_policy_priority_lru : &vidmm_policy_lru,
				       lru_bits_sane, it, ctx, err, errlen);
}
