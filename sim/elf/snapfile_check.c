/*
 * The rules a snapshot obeys to be written or read (sim/elf/SNAPSHOT.md, "Rules"):
 * a valid configuration, tables in ascending order with known values, GART rows
 * inside the aperture, memory ranges page aligned, inside VRAM or system memory,
 * ascending and disjoint. Arithmetic on file values never overflows.
 */
#include <config.h>

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "sim/elf/snapfile_check.h"

#define PAGE_MASK (HW_PAGE_SIZE - 1)

__attribute__((format(printf, 3, 4))) static int fail(char *why, size_t whylen, const char *fmt, ...)
{
	if (whylen) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(why, whylen, fmt, ap);
		va_end(ap);
	}
	return -1;
}

static int check_config(const struct gpusim_config *cfg, char *why, size_t whylen)
{
	char sentence[160];
	if (!memchr(cfg->policy, '\0', sizeof(cfg->policy)))
		return fail(why, whylen, "bad configuration: the policy name is not NUL-terminated");
	if (hw_config_validate(&cfg->hw, sentence, sizeof(sentence)))
		return fail(why, whylen, "bad configuration: %s", sentence);
	/* VRAM addresses and system-memory bus addresses must not meet. */
	if (cfg->hw.vram > GPUSIM_SYSMEM_BUS_BASE)
		return fail(why, whylen, "bad configuration: vram of %" PRIu64 " bytes reaches the system-memory "
			    "bus base 0x%llx", cfg->hw.vram, GPUSIM_SYSMEM_BUS_BASE);
	return 0;
}

static int check_regs(const struct gpusim_snapshot *snap, char *why, size_t whylen)
{
	if (snap->nregs && !snap->regs)
		return fail(why, whylen, "no register table for %" PRIu32 " registers", snap->nregs);
	for (uint32_t i = 0; i < snap->nregs; i++) {
		const struct gpusim_snapshot_reg *r = &snap->regs[i];
		if (r->offset & 3)
			return fail(why, whylen, "register %" PRIu32 ": offset 0x%" PRIx32 " is not 4-byte aligned", i,
				    r->offset);
		if (i && r->offset <= snap->regs[i - 1].offset)
			return fail(why, whylen,
				    "register %" PRIu32 ": offset 0x%" PRIx32 " does not follow 0x%" PRIx32
				    " (offsets ascend, each once)",
				    i, r->offset, snap->regs[i - 1].offset);
	}
	return 0;
}

static int check_gart(const struct gpusim_snapshot *snap, char *why, size_t whylen)
{
	const uint64_t pages = snap->cfg.hw.gart >> HW_PAGE_SHIFT;
	const uint64_t sys_pages = snap->cfg.hw.sysmem >> HW_PAGE_SHIFT;
	if (snap->ngart && !snap->gart)
		return fail(why, whylen, "no GART table for %" PRIu64 " rows", snap->ngart);
	for (uint64_t i = 0; i < snap->ngart; i++) {
		const struct gpusim_snapshot_gart *g = &snap->gart[i];
		if (g->page >= pages)
			return fail(why, whylen, "GART row %" PRIu64 ": page %" PRIu64 " is beyond the aperture (%" PRIu64
				    " pages)", i, g->page, pages);
		if (i && g->page <= snap->gart[i - 1].page)
			return fail(why, whylen, "GART row %" PRIu64 ": page %" PRIu64 " does not follow page %" PRIu64
				    " (pages ascend, each once)", i, g->page, snap->gart[i - 1].page);
		if (!(g->entry & HW_GART_VALID))
			return fail(why, whylen, "GART row %" PRIu64 ": entry 0x%" PRIx64 " is not valid", i, g->entry);
		if (g->entry >> HW_GART_PFN_SHIFT >= sys_pages)
			return fail(why, whylen, "GART row %" PRIu64 ": entry 0x%" PRIx64 " names system page %" PRIu64
				    ", beyond system memory (%" PRIu64 " pages)", i, g->entry,
				    g->entry >> HW_GART_PFN_SHIFT, sys_pages);
	}
	return 0;
}

static int check_allocs(const struct gpusim_snapshot *snap, char *why, size_t whylen)
{
	if (snap->nallocs && !snap->allocs)
		return fail(why, whylen, "no allocation table for %" PRIu64 " allocations", snap->nallocs);
	for (uint64_t i = 0; i < snap->nallocs; i++) {
		const struct gpusim_snapshot_alloc *a = &snap->allocs[i];
		if (i && a->handle <= snap->allocs[i - 1].handle)
			return fail(why, whylen, "allocation %" PRIu64 ": handle 0x%" PRIx32 " does not follow 0x%" PRIx32
				    " (handles ascend, each once)", i, a->handle, snap->allocs[i - 1].handle);
		if ((a->segment < GPUSIM_SEG_VISIBLE || a->segment > GPUSIM_SEG_SYS) &&
		    !(a->segment == GPUSIM_SEG_VRAM2 && snap->cfg.vram_pools == 2))
			return fail(why, whylen, "allocation %" PRIu64 " (handle 0x%" PRIx32 "): unknown segment id %" PRIu32,
				    i, a->handle, a->segment);
		if (a->flags & ~GPUSIM_ALLOC_FLAGS_ALL)
			return fail(why, whylen, "allocation %" PRIu64 " (handle 0x%" PRIx32 "): unknown flags 0x%" PRIx32,
				    i, a->handle, a->flags & ~GPUSIM_ALLOC_FLAGS_ALL);
		if (a->reserved)
			return fail(why, whylen, "allocation %" PRIu64 " (handle 0x%" PRIx32 "): reserved field is %" PRIu32
				    " (expected 0)", i, a->handle, a->reserved);
		if (!memchr(a->name, '\0', sizeof(a->name)))
			return fail(why, whylen, "allocation %" PRIu64 " (handle 0x%" PRIx32 "): name is not NUL-terminated",
				    i, a->handle);
	}
	return 0;
}

static int check_ranges(const struct gpusim_snapshot *snap, char *why, size_t whylen)
{
	const uint64_t vram = snap->cfg.hw.vram;
	const uint64_t sys_end = GPUSIM_SYSMEM_BUS_BASE + snap->cfg.hw.sysmem; /* sysmem < 2^53 */
	if (snap->nranges && !snap->ranges)
		return fail(why, whylen, "no range table for %" PRIu64 " ranges", snap->nranges);
	for (uint64_t i = 0; i < snap->nranges; i++) {
		const struct gpusim_snapshot_range *r = &snap->ranges[i];
		if (!r->size)
			return fail(why, whylen, "range %" PRIu64 " at 0x%" PRIx64 " has size 0", i, r->addr);
		if ((r->addr | r->size) & PAGE_MASK)
			return fail(why, whylen, "range %" PRIu64 " at 0x%" PRIx64 " of 0x%" PRIx64
				    " bytes is not page aligned (4 KiB)", i, r->addr, r->size);
		if (r->addr < vram) {
			if (r->size > vram - r->addr)
				return fail(why, whylen, "range %" PRIu64 " [0x%" PRIx64 ", +0x%" PRIx64
					    ") goes beyond VRAM (0x%" PRIx64 " bytes)", i, r->addr, r->size, vram);
		} else if (r->addr >= GPUSIM_SYSMEM_BUS_BASE) {
			if (r->addr >= sys_end || r->size > sys_end - r->addr)
				return fail(why, whylen, "range %" PRIu64 " [0x%" PRIx64 ", +0x%" PRIx64
					    ") goes beyond system memory [0x%llx, 0x%" PRIx64 ")", i, r->addr, r->size,
					    GPUSIM_SYSMEM_BUS_BASE, sys_end);
		} else {
			return fail(why, whylen, "range %" PRIu64 " at 0x%" PRIx64 " is in neither VRAM [0, 0x%" PRIx64
				    ") nor system memory [0x%llx, 0x%" PRIx64 ")", i, r->addr, vram,
				    GPUSIM_SYSMEM_BUS_BASE, sys_end);
		}
		if (!r->data)
			return fail(why, whylen, "range %" PRIu64 " at 0x%" PRIx64 " has no data", i, r->addr);
		if (i) {
			/* The previous range passed the checks above: its end does not overflow. */
			const struct gpusim_snapshot_range *p = &snap->ranges[i - 1];
			if (r->addr < p->addr)
				return fail(why, whylen, "range %" PRIu64 " at 0x%" PRIx64 " comes before range %" PRIu64
					    " at 0x%" PRIx64 " (ranges ascend)", i, r->addr, i - 1, p->addr);
			if (r->addr < p->addr + p->size)
				return fail(why, whylen, "range %" PRIu64 " [0x%" PRIx64 ", +0x%" PRIx64
					    ") overlaps range %" PRIu64 " [0x%" PRIx64 ", +0x%" PRIx64 ")",
					    i, r->addr, r->size, i - 1, p->addr, p->size);
		}
	}
	return 0;
}

int snapfile_check(const struct gpusim_snapshot *snap, char *why, size_t whylen)
{
	if (snap->version != GPUSIM_SNAPSHOT_VERSION)
		return fail(why, whylen, "unknown snapshot version %" PRIu32 " (this build knows %d)", snap->version,
			    GPUSIM_SNAPSHOT_VERSION);
	if (check_config(&snap->cfg, why, whylen) || check_regs(snap, why, whylen) ||
	    check_gart(snap, why, whylen) || check_allocs(snap, why, whylen) ||
	    check_ranges(snap, why, whylen))
		return -1;
	if (snap->nevents && !snap->events)
		return fail(why, whylen, "no event table for %" PRIu32 " events", snap->nevents);
	if (snap->state_size && !snap->state)
		return fail(why, whylen, "no state bytes for a state of %" PRIu64 " bytes", snap->state_size);
	if (snap->client_size && !snap->client)
		return fail(why, whylen, "no client bytes for %" PRIu64 " bytes of client data", snap->client_size);
	return 0;
}
