/*
 * Eviction policies. Both keep, per segment, LRU lists of the allocations placed
 * there (pinned ones never enter); "priority-lru" keeps one list per priority and
 * offers the lowest priority first, "lru" keeps a single list and ignores priority.
 */
#include <config.h>

#include <stdlib.h>
#include <string.h>

#include "kmt/vidmm/vidmm.h"

struct bucket {
	uint32_t priority;
	struct vidmm_alloc *head, *tail;  /* head = least recently used */
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
	struct bucket *b = a->bucket;
	if (!b)
		return;
	if (a->prev)
		a->prev->next = a->next;
	else
		b->head = a->next;
	if (a->next)
		a->next->prev = a->prev;
	else
		b->tail = a->prev;
	a->prev = a->next = NULL;
	a->bucket = NULL;
}

static void append(struct bucket *b, struct vidmm_alloc *a)
{
	a->bucket = b;
	a->next = NULL;
	a->prev = b->tail;
	if (b->tail)
		b->tail->next = a;
	else
		b->head = a;
	b->tail = a;
}

static void insert(void *p, struct vidmm_alloc *a)
{
	struct lists *l = p;
	unlink_alloc(a);
	if (a->seg < 1 || a->seg >= VIDMM_SEG_MAX || a->seg == VIDMM_SYS || (a->flags & GPUSIM_ALLOC_PINNED))
		return;
	struct bucket *b = bucket_for(l, a->seg, a->priority);
	if (b)
		append(b, a); /* without a bucket it is merely never offered for eviction */
}

static void remove_alloc(void *p, struct vidmm_alloc *a)
{
	(void)p;
	unlink_alloc(a);
}

static void touch(void *p, struct vidmm_alloc *a)
{
	(void)p;
	struct bucket *b = a->bucket;
	if (!b || b->tail == a)
		return;
	unlink_alloc(a);
	append(b, a);
}

static struct vidmm_alloc *next(void *p, uint32_t seg, struct vidmm_alloc *after)
{
	struct lists *l = p;
	struct bucket *b;
	if (after) {
		if (after->next)
			return after->next;
		b = ((struct bucket *)after->bucket)->next;
	} else {
		b = seg < VIDMM_SEG_MAX ? l->segs[seg] : NULL;
	}
	for (; b; b = b->next)
		if (b->head)
			return b->head;
	return NULL;
}

const struct vidmm_policy_ops vidmm_policy_priority_lru = {
	.name = "priority-lru",
	.create = create_plru,
	.destroy = destroy,
	.insert = insert,
	.remove = remove_alloc,
	.touch = touch,
	.next = next,
};

const struct vidmm_policy_ops vidmm_policy_lru = {
	.name = "lru",
	.create = create_lru,
	.destroy = destroy,
	.insert = insert,
	.remove = remove_alloc,
	.touch = touch,
	.next = next,
};

/* Every policy, in the order gpusim_policy_name lists them: a new policy is added
 * here and nowhere else for configurations, the lab and the help to know it. */
static const struct vidmm_policy_ops *const policies[] = {
	&vidmm_policy_priority_lru,
	&vidmm_policy_lru,
};

const struct vidmm_policy_ops *vidmm_policy_at(unsigned i)
{
	return i < sizeof(policies) / sizeof(policies[0]) ? policies[i] : NULL;
}

const struct vidmm_policy_ops *vidmm_policy_find(const char *name)
{
	if (!name || !*name)
		return &vidmm_policy_priority_lru; /* the default */
	for (unsigned i = 0; i < sizeof(policies) / sizeof(policies[0]); i++)
		if (!strcmp(name, policies[i]->name))
			return policies[i];
	return NULL;
}
