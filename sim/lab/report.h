/*
 * What `gpusim lab` found, and its two forms for people and programs: a table per
 * trace (each VRAM size, each policy, MIN and the lower bound, MiB paged and the
 * ratios) and one JSON document.
 */
#ifndef SIM_LAB_REPORT_H
#define SIM_LAB_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "sim/lab/min.h"
#include "sim/lab/replay.h"
#include "sim/lab/seq.h"

struct lab_policy_result {
	const char *policy;
	bool is_default;
	bool failed;             /* the replay stopped: error says why */
	char error[256];
	struct lab_replay r;
};

struct lab_size_result {
	uint64_t vram, usable;
	struct lab_min min;      /* Belady's schedule */
	uint64_t bound;          /* the lower bound */
	struct lab_policy_result *policies;
	size_t npolicies;
};

struct lab_trace_result {
	const char *path;
	const struct lab_seq *seq;
	struct lab_size_result *sizes;
	size_t nsizes;
};

/* bytes / reference, with 0 / 0 = 1 (nothing to page, nothing paged) and
 * x / 0 = infinity (false returned) for x > 0. */
bool lab_ratio(uint64_t bytes, uint64_t reference, double *ratio);

/* "16M", "1536K", "3G": exact, in the largest unit that divides it. */
const char *lab_fmt_size(char *buf, size_t len, uint64_t bytes);

/* -1 with errno when writing fails. */
int lab_print_text(FILE *f, const struct lab_trace_result *t, size_t n);
int lab_print_json(FILE *f, const struct lab_trace_result *t, size_t n);

#endif
