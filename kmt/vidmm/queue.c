/*
 * The eviction policies' ordered set (queue.h): a ring of allocation pointers with
 * holes. A doubly linked list writes both neighbours on every unlink; with a
 * million live allocations those are two cache misses per destroy or use.
 */
#include <config.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "kmt/vidmm/vidmm.h"

static uint32_t span(const struct vidmm_queue *q)
{
	return q->tail - q->head;
}

/* Slide the entries down to [head, head + count), keeping their order. */
static void compact(struct vidmm_queue *q)
{
	uint32_t to = q->head;
	for (uint32_t pos = q->head; pos != q->tail; pos++) {
		struct vidmm_alloc *a = q->slot[pos & q->mask];
		if (!a)
			continue;
		q->slot[pos & q->mask] = NULL;
		q->slot[to & q->mask] = a;
		a->pol_pos = to++;
	}
	q->tail = to;
}

static int grow(struct vidmm_queue *q)
{
	uint64_t cap = q->slot ? (uint64_t)q->mask + 1 : 0, ncap = cap ? cap * 2 : 16;
	if (ncap > (1u << 31))
		return -ENOMEM; /* positions would no longer tell order */
	struct vidmm_alloc **ns = calloc(ncap, sizeof(*ns));
	if (!ns)
		return -ENOMEM;
	/* Positions stay: an entry only moves to the slot its position names now. */
	for (uint32_t pos = q->head; pos != q->tail; pos++)
		ns[pos & (ncap - 1)] = q->slot[pos & q->mask];
	free(q->slot);
	q->slot = ns;
	q->mask = (uint32_t)(ncap - 1);
	return 0;
}

int vidmm_queue_push(struct vidmm_queue *q, struct vidmm_alloc *a)
{
	if (!q->slot || span(q) == q->mask + 1) {
		if (q->slot && q->count <= (q->mask + 1) / 2)
			compact(q);
		else if (grow(q))
			return -ENOMEM;
	}
	q->slot[q->tail & q->mask] = a;
	a->pol_pos = q->tail++;
	q->count++;
	q->bytes += a->size;
	return 0;
}

void vidmm_queue_remove(struct vidmm_queue *q, struct vidmm_alloc *a)
{
	q->slot[a->pol_pos & q->mask] = NULL;
	q->count--;
	q->bytes -= a->size;
	while (q->head != q->tail && !q->slot[q->head & q->mask])
		q->head++;
}

struct vidmm_alloc *vidmm_queue_at(const struct vidmm_queue *q, uint32_t pos)
{
	if (!q->slot || pos - q->head >= span(q))
		return NULL;
	return q->slot[pos & q->mask];
}

static struct vidmm_alloc *from(const struct vidmm_queue *q, uint32_t pos)
{
	for (; pos != q->tail; pos++)
		if (q->slot[pos & q->mask])
			return q->slot[pos & q->mask];
	return NULL;
}

struct vidmm_alloc *vidmm_queue_first(const struct vidmm_queue *q)
{
	return q->slot ? from(q, q->head) : NULL;
}

struct vidmm_alloc *vidmm_queue_next(const struct vidmm_queue *q, const struct vidmm_alloc *a)
{
	return from(q, a->pol_pos + 1);
}

void vidmm_queue_fini(struct vidmm_queue *q)
{
	free(q->slot);
	*q = (struct vidmm_queue){ 0 };
}

int vidmm_queue_check(const struct vidmm_queue *q, const void *bucket, char *err, size_t errlen)
{
	uint32_t n = 0;
	uint64_t bytes = 0;
	if (!q->slot) {
		if (q->count || q->bytes || span(q))
			goto bad;
		return 0;
	}
	if (span(q) > q->mask + 1 || (q->head != q->tail && !q->slot[q->head & q->mask]))
		goto bad;
	for (uint32_t i = 0; i <= q->mask; i++) {
		struct vidmm_alloc *a = q->slot[i];
		if (!a)
			continue;
		/* Every pointer lies inside the live range, at the slot its position names. */
		if ((a->pol_pos & q->mask) != i || a->pol_pos - q->head >= span(q) || a->pol_bucket != bucket)
			goto bad;
		n++;
		bytes += a->size;
	}
	if (n == q->count && bytes == q->bytes)
		return 0;
bad:
	if (err && errlen)
		snprintf(err, errlen, "an eviction queue is damaged (%u entries, head %u, tail %u)", q->count,
			 q->head, q->tail);
	return -EFAULT;
}
