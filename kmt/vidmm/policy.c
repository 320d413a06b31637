/*
 * The eviction policies' registry (find by name, the default) and what they share:
 * the snapshot form of an eviction order per segment, and the check that a
 * policy's walk offers exactly the evictable allocations of each segment.
 */
#include <config.h>

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kmt/vidmm/vidmm.h"

/* The default first: vidmm_policy_find(NULL) and the error messages list it so. */
static const struct vidmm_policy_ops *const policies[] = {
	&vidmm_policy_arc,
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
		return policies[0];
	for (unsigned i = 0; i < sizeof(policies) / sizeof(policies[0]); i++)
		if (!strcmp(name, policies[i]->name))
			return policies[i];
	return NULL;
}

bool vidmm_policy_holds(const struct vidmm_alloc *a)
{
	return a->seg >= 1 && a->seg < VIDMM_SEG_MAX && a->seg != VIDMM_SYS &&
	       !(a->flags & GPUSIM_ALLOC_PINNED);
}

bool vidmm_policy_tracked(const struct vidmm_alloc *a)
{
	return vidmm_policy_holds(a) && !(a->pol_bits & VIDMM_POL_LOST);
}

int vidmm_policy_fail(struct vidmm_policy_io *io, const char *fmt, ...)
{
	if (io->err && io->errlen) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(io->err, io->errlen, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

/* Each held allocation once in the walk of its own segment, nothing else: the
 * walk's own marks would have to live in the allocations, so count instead. A
 * walk that yielded an allocation twice and missed another would balance the
 * count, so every yielded allocation must also belong to that segment and the
 * walk may not be longer than the segment's population. */
int vidmm_policy_check_walk(void *p, const struct vidmm_policy_ops *ops,
			    bool (*sane)(uint32_t bits, bool held), vidmm_alloc_iter next, void *ctx,
			    char *err, size_t errlen)
{
	uint64_t held[VIDMM_SEG_MAX] = { 0 }, sum[VIDMM_SEG_MAX] = { 0 };
	uint64_t walked[VIDMM_SEG_MAX] = { 0 }, wsum[VIDMM_SEG_MAX] = { 0 };
	struct vidmm_alloc *a;
	while (next(ctx, &a) == 0 && a) {
		if (sane && !sane(a->pol_bits, vidmm_policy_holds(a))) {
			if (err && errlen)
				snprintf(err, errlen, "allocation %u carries impossible %s state %#x", a->handle,
					 ops->name, a->pol_bits);
			return -EFAULT;
		}
		if (!vidmm_policy_tracked(a))
			continue;
		held[a->seg]++;
		sum[a->seg] += (uintptr_t)a;
	}
	for (uint32_t s = 1; s < VIDMM_SEG_MAX; s++) {
		for (a = ops->next(p, s, NULL); a; a = ops->next(p, s, a)) {
			if (a->seg != s || !vidmm_policy_tracked(a) || walked[s] >= held[s]) {
				if (err && errlen)
					snprintf(err, errlen, "the %s policy offers allocation %u in segment %u, "
						 "which it does not hold there", ops->name, a->handle, s);
				return -EFAULT;
			}
			walked[s]++;
			wsum[s] += (uintptr_t)a;
		}
		if (walked[s] != held[s] || wsum[s] != sum[s]) {
			if (err && errlen)
				snprintf(err, errlen, "the %s policy offers %llu allocations of segment %u, "
					 "which holds %llu it may evict", ops->name,
					 (unsigned long long)walked[s], s, (unsigned long long)held[s]);
			return -EFAULT;
		}
	}
	return 0;
}

void vidmm_policy_save_order(void *p, const struct vidmm_policy_ops *ops, struct vidmm_policy_io *io)
{
	for (uint32_t s = 1; s < VIDMM_SEG_MAX; s++) {
		uint64_t n = 0;
		for (struct vidmm_alloc *a = ops->next(p, s, NULL); a; a = ops->next(p, s, a))
			n++;
		io->put(io->ctx, n);
		for (struct vidmm_alloc *a = ops->next(p, s, NULL); a; a = ops->next(p, s, a))
			io->put(io->ctx, io->index(io->ctx, a));
	}
}

/* Held, and not given up for want of memory, by the bits a snapshot gives. */
static bool tracked_by(const struct vidmm_alloc *a, uint32_t bits)
{
	return vidmm_policy_holds(a) && !(bits & VIDMM_POL_LOST);
}

int vidmm_policy_load_order(void *p, struct vidmm_policy_io *io, const uint32_t *bits,
			    void (*push)(void *p, struct vidmm_alloc *a))
{
	int rc = 0;
	/* One bit per allocation: listed already. */
	uint8_t *seen = calloc(io->nallocs / 8 + 1, 1);
	uint64_t want[VIDMM_SEG_MAX] = { 0 };
	if (!seen)
		return -ENOMEM;
	for (uint64_t i = 0; i < io->nallocs; i++) {
		struct vidmm_alloc *a = io->alloc(io->ctx, i);
		if (tracked_by(a, bits[i]))
			want[a->seg]++;
	}
	for (uint32_t s = 1; s < VIDMM_SEG_MAX && !rc; s++) {
		uint64_t n = io->get(io->ctx);
		if (io->bad || n != want[s]) {
			rc = vidmm_policy_fail(io, "the eviction order of segment %u lists %llu allocations, "
					       "it holds %llu", s, (unsigned long long)n,
					       (unsigned long long)want[s]);
			break;
		}
		for (uint64_t k = 0; k < n; k++) {
			uint64_t i = io->get(io->ctx);
			struct vidmm_alloc *a = io->bad ? NULL : io->alloc(io->ctx, i);
			if (!a || a->seg != s || !tracked_by(a, bits[i])) {
				rc = vidmm_policy_fail(io, "the eviction order of segment %u is malformed", s);
				break;
			}
			if (seen[i / 8] & (1u << (i % 8))) {
				rc = vidmm_policy_fail(io, "the eviction order of segment %u lists an "
						       "allocation twice", s);
				break;
			}
			seen[i / 8] |= (uint8_t)(1u << (i % 8));
			if (io->apply)
				push(p, a);
		}
	}
	free(seen);
	return rc;
}

void vidmm_policy_save_fields(struct vidmm_policy_io *io)
{
	uint64_t n = 0;
	for (uint64_t i = 0; i < io->nallocs; i++) {
		const struct vidmm_alloc *a = io->alloc(io->ctx, i);
		n += a->pol_bits || a->pol_mark || a->pol_stamp;
	}
	io->put(io->ctx, n);
	for (uint64_t i = 0; i < io->nallocs; i++) {
		const struct vidmm_alloc *a = io->alloc(io->ctx, i);
		if (!a->pol_bits && !a->pol_mark && !a->pol_stamp)
			continue;
		io->put(io->ctx, i);
		io->put(io->ctx, a->pol_bits | (uint64_t)a->pol_mark << 32);
		io->put(io->ctx, a->pol_stamp);
	}
}

int vidmm_policy_load_fields(struct vidmm_policy_io *io, bool (*sane)(uint32_t bits, bool held),
			     uint32_t *bits)
{
	uint64_t n = io->get(io->ctx), prev = 0;
	if (io->bad || n > io->nallocs)
		return vidmm_policy_fail(io, "the allocations' policy fields are cut short");
	for (uint64_t k = 0; k < n; k++) {
		uint64_t i = io->get(io->ctx), w = io->get(io->ctx), st = io->get(io->ctx);
		/* Ascending indices: none twice. */
		if (io->bad || i >= io->nallocs || (k && i <= prev) || st > UINT32_MAX)
			return vidmm_policy_fail(io, "the allocations' policy fields are malformed");
		prev = i;
		struct vidmm_alloc *a = io->alloc(io->ctx, i);
		uint32_t b = (uint32_t)w;
		if (!sane(b, vidmm_policy_holds(a)))
			return vidmm_policy_fail(io, "allocation %llu carries impossible policy state %#x",
						 (unsigned long long)i, b);
		bits[i] = b;
		if (io->apply) {
			a->pol_bits = b;
			a->pol_mark = (uint32_t)(w >> 32);
			a->pol_stamp = (uint32_t)st;
		}
	}
	return 0;
}
