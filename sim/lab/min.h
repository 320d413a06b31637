/*
 * The offline references `gpusim lab` measures policies against, computed on an
 * allocation-use sequence for a VRAM of `capacity` usable bytes: Belady's
 * farthest-next-use schedule (an upper bound on the optimum) and a lower bound in
 * the manner of PFOO-L (Berger, Beckmann, Harchol-Balter, SIGMETRICS 2018).
 *
 * The cost model is the manager's own accounting: only VRAM allocations occupy
 * VRAM (GART ones page by remapping, which copies nothing). An allocation holds
 * data once a group has used it; bringing one with data into VRAM costs its size
 * (bytes_in), taking one with data out costs its size (bytes_out), and anything
 * without data moves for free. Each group's VRAM allocations must all be resident
 * at once; between groups anything may leave. Fragmentation is not modelled (any
 * free bytes fit), which the manager cannot beat, so both stay references.
 */
#ifndef SIM_LAB_MIN_H
#define SIM_LAB_MIN_H

#include <stdint.h>

#include "sim/lab/seq.h"

struct lab_min {
	uint64_t bytes_in, bytes_out;  /* their sum is what the schedule pages */
	uint64_t evictions, page_ins;  /* of allocations holding data */
};

/* Belady's rule with sizes: a VRAM allocation a group needs that is not resident
 * comes in; while it does not fit, the resident allocation outside the group
 * whose next use is farthest leaves (never used again is farthest; ties go to the
 * one created first). Feasible, so an upper bound on the optimum of the model;
 * with equal sizes it is Belady's MIN (Belady 1966), which pages in least.
 * -ENOSPC when a group needs more than capacity, -ENOMEM. */
int lab_min_belady(const struct lab_seq *s, uint64_t capacity, struct lab_min *out);

/* A lower bound on the bytes any schedule pages (PFOO-L's relaxation): between
 * two uses of an allocation it either stays resident, holding its size for each
 * group in between, or costs 2 x size (out and back in); after its last use it
 * stays until destroyed or costs its size once. Holding is limited only on
 * average, capacity x groups minus what the groups themselves need, and is given
 * to the cheapest holds per byte-group first, the last one fractionally: the
 * optimum of that relaxation, rounded down. -ENOSPC, -ENOMEM as above. */
int lab_min_bound(const struct lab_seq *s, uint64_t capacity, uint64_t *bytes);

#endif
