/*
 * The allocation private-data format of the gsdrv driver (struct gpusim_alloc_desc
 * in <gpusim/gpusim.h>): validated here, turned into the core's kmt_alloc_desc,
 * with default preferences filled in where the user-mode driver left them out.
 * The alignment asked is of the GPU address, so a segment whose base address is
 * less aligned than that is not offered for the allocation.
 */
#include <config.h>

#include <errno.h>
#include <string.h>

#include <gpusim/gpusim.h>
#include "kmt/gsdrv/gsdrv.h"

/* The segment ids a private-data `preferred`/`allowed` may name: the standard
 * three and the second VRAM pool. */
#define KNOWN_SEGS (GPUSIM_SEG_BIT(GPUSIM_SEG_VISIBLE) | GPUSIM_SEG_BIT(GPUSIM_SEG_INVISIBLE) | \
		    GPUSIM_SEG_BIT(GPUSIM_SEG_GART) | GPUSIM_SEG_BIT(GPUSIM_SEG_VRAM2))

/* This driver's order of segments when the user-mode driver leaves a choice: data
 * the CPU reads and writes wants BAR2, then system memory (no copy to reach it),
 * then the VRAM it cannot see; everything else wants the VRAM the CPU cannot see,
 * leaving BAR2 to those who need it. The same order is the fallback after the
 * segments the user-mode driver named. */
static const uint32_t cpu_order[] = { GPUSIM_SEG_VISIBLE, GPUSIM_SEG_GART, GPUSIM_SEG_INVISIBLE,
				      GPUSIM_SEG_VRAM2 };
static const uint32_t gpu_order[] = { GPUSIM_SEG_INVISIBLE, GPUSIM_SEG_VRAM2, GPUSIM_SEG_VISIBLE,
				      GPUSIM_SEG_GART };
#define NORDER (sizeof(cpu_order) / sizeof(cpu_order[0]))

static bool listed(const struct kmt_placement *p, uint32_t s)
{
	for (uint32_t i = 0; i < p->n; i++)
		if (p->seg[i] == s)
			return true;
	return false;
}

int gsdrv_describe_allocation(void *drv, const void *priv, uint32_t priv_size,
			      struct kmt_alloc_desc *out)
{
	struct gsdrv *d = drv;
	struct gpusim_alloc_desc a;
	if (!priv || priv_size != sizeof(a))
		return -EINVAL;
	memcpy(&a, priv, sizeof(a));
	if (a.version != GPUSIM_ALLOC_DESC_VERSION || a.size == 0 ||
	    a.size > UINT64_MAX - (HW_PAGE_SIZE - 1))
		return -EINVAL;
	if (a.alignment & (a.alignment - 1))
		return -EINVAL;
	if (a.flags & ~GPUSIM_ALLOC_FLAGS_ALL)
		return -EINVAL;
	if (a.allowed & ~KNOWN_SEGS)
		return -EINVAL;
	uint32_t present = 0, vram = 0;
	for (uint32_t i = 0; i < d->nsegs; i++) {
		present |= GPUSIM_SEG_BIT(d->segs[i].id);
		if (d->segs[i].vram)
			vram |= GPUSIM_SEG_BIT(d->segs[i].id);
	}
	/* "All" means every segment this driver may have: naming one this adapter
	 * lacks is skipped below, as it would be on a GPU without it. */
	uint32_t allowed = a.allowed ? a.allowed : KNOWN_SEGS;
	if (a.flags & GPUSIM_ALLOC_PRIMARY)
		allowed &= vram | (KNOWN_SEGS & ~present); /* scanned out: local memory only */
	if (!(allowed & present))
		return -EINVAL;

	/* The alignment asked is of the GPU address: a segment whose base is less
	 * aligned cannot give it. */
	uint64_t align = a.alignment > HW_PAGE_SIZE ? a.alignment : HW_PAGE_SIZE;
	uint32_t fit = 0;
	for (uint32_t i = 0; i < d->nsegs; i++)
		if (d->segs[i].base_align >= align)
			fit |= GPUSIM_SEG_BIT(d->segs[i].id);
	uint32_t usable = allowed & present & fit;
	if (!usable)
		return -EINVAL; /* no segment can give it an address aligned like that */

	memset(out, 0, sizeof(*out));
	struct kmt_placement *pl = &out->placement;
	bool ended = false;
	for (int i = 0; i < 3; i++) {
		uint32_t s = a.preferred[i];
		if (!s) {
			ended = true;
			continue;
		}
		if (ended || s >= 32 || !(KNOWN_SEGS & GPUSIM_SEG_BIT(s)))
			return -EINVAL;
		if (!(allowed & GPUSIM_SEG_BIT(s)))
			return -EINVAL;
		for (uint32_t j = 0; j < 3; j++)
			if (j != (uint32_t)i && a.preferred[j] == s)
				return -EINVAL;
		/* Valid, but this adapter lacks it or cannot honour the alignment
		 * there: the caller could not know, so it is skipped, not refused. */
		if (usable & GPUSIM_SEG_BIT(s))
			pl->seg[pl->n++] = (uint8_t)s;
	}
	const uint32_t *order = (a.flags & GPUSIM_ALLOC_CPU_VISIBLE) ? cpu_order : gpu_order;
	if (!pl->n) {
		for (uint32_t i = 0; i < NORDER; i++)
			if (usable & GPUSIM_SEG_BIT(order[i]))
				pl->seg[pl->n++] = (uint8_t)order[i];
		pl->npref = pl->n;
	} else {
		/* Named segments are the placement; the other allowed ones, in this
		 * driver's order, the fallback. */
		pl->npref = pl->n;
		for (uint32_t i = 0; i < NORDER; i++)
			if ((usable & GPUSIM_SEG_BIT(order[i])) && !listed(pl, order[i]))
				pl->seg[pl->n++] = (uint8_t)order[i];
	}
	out->size = (a.size + HW_PAGE_SIZE - 1) & ~(HW_PAGE_SIZE - 1);
	out->align = align;
	out->flags = a.flags;
	if (a.flags & GPUSIM_ALLOC_PRIMARY)
		out->flags |= GPUSIM_ALLOC_PINNED;
	out->priority = a.priority;
	return 0;
}
