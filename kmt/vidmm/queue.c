/*
 * The eviction policies' ordered set (queue.h), kept apart from the policies so
 * that the link handling and its check exist once.
 */
#include <config.h>

#include <errno.h>
#include <stdio.h>

#include "kmt/vidmm/vidmm.h"

void vidmm_queue_push(struct vidmm_queue *q, struct vidmm_alloc *a)
{
	a->pol_next = NULL;
	a->pol_prev = q->tail;
	if (q->tail)
		q->tail->pol_next = a;
	else
		q->head = a;
	q->tail = a;
	q->count++;
	q->bytes += a->size;
}

void vidmm_queue_remove(struct vidmm_queue *q, struct vidmm_alloc *a)
{
	if (a->pol_prev)
		a->pol_prev->pol_next = a->pol_next;
	else
		q->head = a->pol_next;
	if (a->pol_next)
		a->pol_next->pol_prev = a->pol_prev;
	else
		q->tail = a->pol_prev;
	a->pol_prev = a->pol_next = NULL;
	q->count--;
	q->bytes -= a->size;
}

struct vidmm_alloc *vidmm_queue_first(const struct vidmm_queue *q)
{
	return q->head;
}

struct vidmm_alloc *vidmm_queue_next(const struct vidmm_queue *q, const struct vidmm_alloc *a)
{
	(void)q;
	return a->pol_next;
}

int vidmm_queue_check(const struct vidmm_queue *q, const void *bucket, char *err, size_t errlen)
{
	uint32_t n = 0;
	uint64_t bytes = 0;
	const struct vidmm_alloc *prev = NULL;
	/* At most count + 1 steps: a cycle cannot keep the walk going. */
	for (const struct vidmm_alloc *a = q->head; a && n <= q->count; prev = a, a = a->pol_next) {
		if (a->pol_prev != prev || a->pol_bucket != bucket)
			goto bad;
		n++;
		bytes += a->size;
	}
	if (n == q->count && bytes == q->bytes && q->tail == prev)
		return 0;
bad:
	if (err && errlen)
		snprintf(err, errlen, "an eviction queue is damaged (%u entries)", q->count);
	return -EFAULT;
}

void vidmm_queue_fini(struct vidmm_queue *q)
{
	*q = (struct vidmm_queue){ 0 };
}
