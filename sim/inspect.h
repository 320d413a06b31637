/*
 * What `gpusim inspect` prints about a snapshot (<gpusim/snapshot.h>): one text
 * report for people and one JSON document for tools, both computed from the
 * in-memory snapshot alone, so they are tested without any file. Prefix: inspect_.
 */
#ifndef SIM_INSPECT_H
#define SIM_INSPECT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <gpusim/snapshot.h>

/* The report: configuration, time, statistics, registers by name, GART runs,
 * the allocation table by segment and offset, memory ranges, recent events.
 * 0, or -1 with errno set (the stream failed, or no memory to sort). */
int inspect_text(FILE *f, const struct gpusim_snapshot *s);
/* The same facts as one JSON document (schema in sim/INSPECT.md). */
int inspect_json(FILE *f, const struct gpusim_snapshot *s);

/* A run of GART entries: consecutive aperture pages mapped to consecutive system
 * pages, ascending or descending (a driver that takes pages from a LIFO free list
 * maps them backwards), with the same entry bits. */
struct inspect_gart_run {
	uint64_t page;   /* first aperture page */
	uint64_t pfn;    /* its system page */
	uint64_t pages;  /* > 0 */
	uint64_t bits;   /* entry bits below the pfn (HW_GART_VALID | READ | WRITE) */
	bool descending; /* page + k maps pfn - k (never for a run of one page) */
};
/* The system page of the run's last aperture page. */
uint64_t inspect_gart_run_last_pfn(const struct inspect_gart_run *run);
/* The run starting at entry *pos of s->gart; advances *pos past it. false at the end. */
bool inspect_next_gart_run(const struct gpusim_snapshot *s, uint64_t *pos, struct inspect_gart_run *run);

#endif
