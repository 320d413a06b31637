/*
 * System memory: a pool of simulated physical pages. Backed by a memfd so that
 * the CPU can map any list of pages contiguously (vmap), as a kernel would.
 */
#ifndef HW_SYSMEM_H
#define HW_SYSMEM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct hw_sysmem {
	int fd;
	uint8_t *base;        /* direct map of every page */
	uint64_t pages;
	uint64_t used;
	uint64_t reserved;    /* committed but not yet handed out */
	uint64_t next_fresh;  /* pages >= this were never handed out */
	uint64_t *free_stack; /* returned pages, reused last-in first-out */
	size_t nfree, cap;
	uint8_t *allocated;   /* bitmap: catches double frees */
	bool oom_armed;
	uint64_t oom_left;    /* allocations that still succeed when armed */
};

int hw_sysmem_init(struct hw_sysmem *s, uint64_t bytes);
void hw_sysmem_fini(struct hw_sysmem *s);

#endif
