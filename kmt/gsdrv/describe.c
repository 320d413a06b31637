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

#define ALL_SEGS (GPUSIM_SEG_BIT(GPUSIM_SEG_VISIBLE) | GPUSIM_SEG_BIT(GPUSIM_SEG_INVISIBLE) | \
		  GPUSIM_SEG_BIT(GPUSIM_SEG_GART))
#define VRAM_SEGS (GPUSIM_SEG_BIT(GPUSIM_SEG_VISIBLE) | GPUSIM_SEG_BIT(GPUSIM_SEG_INVISIBLE))

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
	if (a.allowed & ~ALL_SEGS)
		return -EINVAL;
	uint32_t present = ALL_SEGS;
	if (d->cfg.visible == d->cfg.vram)
		present &= ~GPUSIM_SEG_BIT(GPUSIM_SEG_INVISIBLE);
	uint32_t allowed = a.allowed ? a.allowed : present;
	if (a.flags & GPUSIM_ALLOC_PRIMARY)
		allowed &= VRAM_SEGS;
	if (!(allowed & present))
		return -EINVAL;

	uint64_t align = a.alignment > HW_PAGE_SIZE ? a.alignment : HW_PAGE_SIZE;
	uint32_t fit = 0;
	for (uint32_t s = GPUSIM_SEG_VISIBLE; s <= GPUSIM_SEG_GART; s++) {
		uint64_t base = gsdrv_gpu_address(d, s, 0);
		if ((base & (align - 1)) == 0)
			fit |= GPUSIM_SEG_BIT(s);
	}
	if (!(allowed & present & fit))
		return -EINVAL; /* no segment can give it an address aligned like that */

	memset(out, 0, sizeof(*out));
	bool ended = false;
	for (int i = 0; i < 3; i++) {
		uint32_t s = a.preferred[i];
		if (!s) {
			ended = true;
			continue;
		}
		if (ended || s < GPUSIM_SEG_VISIBLE || s > GPUSIM_SEG_GART)
			return -EINVAL;
		if (!(allowed & GPUSIM_SEG_BIT(s)))
			return -EINVAL;
		for (uint32_t j = 0; j < out->npref; j++)
			if (out->preferred[j] == s)
				return -EINVAL;
		/* Valid, but this driver cannot honour the alignment there: the
		 * caller could not know, so it is skipped rather than refused. */
		if (fit & GPUSIM_SEG_BIT(s))
			out->preferred[out->npref++] = s;
	}
	if (!out->npref) {
		/* Defaults: CPU-visible data wants BAR2 or the GART; the rest wants
		 * the VRAM the CPU cannot see, leaving BAR2 for those who need it. */
		static const uint32_t cpu_order[] = { GPUSIM_SEG_VISIBLE, GPUSIM_SEG_GART, GPUSIM_SEG_INVISIBLE };
		static const uint32_t gpu_order[] = { GPUSIM_SEG_INVISIBLE, GPUSIM_SEG_VISIBLE, GPUSIM_SEG_GART };
		const uint32_t *order = (a.flags & GPUSIM_ALLOC_CPU_VISIBLE) ? cpu_order : gpu_order;
		for (int i = 0; i < 3; i++)
			if (allowed & present & fit & GPUSIM_SEG_BIT(order[i]))
				out->preferred[out->npref++] = order[i];
	}
	out->size = (a.size + HW_PAGE_SIZE - 1) & ~(HW_PAGE_SIZE - 1);
	out->align = align;
	out->flags = a.flags;
	if (a.flags & GPUSIM_ALLOC_PRIMARY)
		out->flags |= GPUSIM_ALLOC_PINNED;
	out->allowed = allowed & present & fit;
	out->priority = a.priority;
	return 0;
}
