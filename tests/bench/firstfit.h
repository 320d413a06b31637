/*
 * A naive first-fit sub-allocator, the baseline of bench_suballoc only: free blocks
 * in one singly linked list sorted by address, scanned from the start on every
 * allocation (first block that fits) and on every free (to find the neighbours to
 * merge with). Same API shape as kmt/vidmm/suballoc.h; not for production use.
 */
#ifndef TESTS_BENCH_FIRSTFIT_H
#define TESTS_BENCH_FIRSTFIT_H

#include <stdint.h>

struct firstfit;

struct firstfit_stats {
	uint64_t size, used, free, largest_free;
	uint64_t free_blocks, allocations;
	double fragmentation;   /* 1 - largest_free / free, 0 when free == 0 */
};

/* granule a power of two, size a non-zero multiple of it: -EINVAL, -ENOMEM. */
int firstfit_create(uint64_t size, uint64_t granule, struct firstfit **out);
void firstfit_destroy(struct firstfit *ff);
/* size rounded up to the granule; align 0 or <= granule = granule, else a power of
 * two. -EINVAL, -ENOSPC, -ENOMEM. */
int firstfit_alloc(struct firstfit *ff, uint64_t size, uint64_t align, uint32_t *id,
		   uint64_t *offset);
int firstfit_free(struct firstfit *ff, uint32_t id);   /* -EINVAL for a bad id */
/* O(free blocks): walks the list for largest_free. */
void firstfit_get_stats(const struct firstfit *ff, struct firstfit_stats *st);

#endif /* TESTS_BENCH_FIRSTFIT_H */
