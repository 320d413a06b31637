/*
 * Start and stop of the gsdrv driver, and its DDI table. Start lays out the
 * driver's own memory at the start of visible VRAM (fence page, rings, GART
 * table), keeps a paging window at the end of the aperture, and reports the rest
 * as the segments the memory manager may use.
 */
#include <config.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <gpusim/gpusim.h>
#include "kmt/gsdrv/gsdrv.h"

static void *gsdrv_map_cpu(void *drv, uint32_t seg, uint64_t offset, uint64_t size)
{
	struct gsdrv *d = drv;
	if (seg == GPUSIM_SEG_VISIBLE)
		return hw_bar2_map(d->hw, d->reserved + offset, size);
	return NULL; /* the core maps aperture and sys pages itself, from their pfns */
}

/* VRAM segments are ranges of the device's VRAM: released there. The aperture's
 * bytes are the allocation's system pages, which hw/ zeroes when they are freed. */
void gsdrv_discard(void *drv, uint32_t seg, uint64_t offset, uint64_t size)
{
	struct gsdrv *d = drv;
	/* Never past the segment: below visible VRAM's are the driver's own rings,
	 * and with pools=2 the first pool ends where the second begins. The second
	 * pool is VRAM like the others: a range left unreleased there would show
	 * its last tenant's bytes to the next allocation the manager places there
	 * without copying, which it takes to read zeros. */
	uint64_t limit = seg == GPUSIM_SEG_VISIBLE     ? d->cfg.visible - d->reserved
			 : seg == GPUSIM_SEG_INVISIBLE ? d->invisible_size
			 : seg == GPUSIM_SEG_VRAM2     ? d->vram2_size
						       : 0;
	if (size <= limit && offset <= limit - size)
		hw_vram_discard(d->hw, gsdrv_gpu_address(d, seg, offset), size);
}

static uint64_t gsdrv_now(void *drv)
{
	struct gsdrv *d = drv;
	return hw_clock_now(d->hw);
}

static void gsdrv_stop(void *drv)
{
	struct gsdrv *d = drv;
	if (!d)
		return;
	hw_set_irq_handler(d->hw, NULL, NULL);
	free(d->scratch);
	free(d);
}

const struct kmt_segment_desc *gsdrv_segment(const struct gsdrv *d, uint32_t id)
{
	for (uint32_t i = 0; i < d->nsegs; i++)
		if (d->segs[i].id == id)
			return &d->segs[i];
	return NULL;
}

/* The largest power of two dividing a GPU address (2^63 for 0). */
static uint64_t base_align(uint64_t addr)
{
	return addr ? addr & -addr : 1ull << 63;
}

static void add_segment(struct gsdrv *d, uint32_t id, uint64_t size, bool cpu, bool aperture)
{
	d->segs[d->nsegs++] = (struct kmt_segment_desc){
		.id = id, .size = size, .base_align = base_align(gsdrv_gpu_address(d, id, 0)),
		.cpu_visible = cpu, .aperture = aperture, .vram = !aperture,
	};
}

static int gsdrv_start(struct hw_device *hw, const struct kmt_driver_options *opt, void **out,
		       struct kmt_segment_desc *segs, uint32_t *nsegs)
{
	struct gsdrv *d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	d->hw = hw;
	d->vm_known = true; /* a ring starts physical */
	d->cfg = *hw_device_config(hw);
	uint64_t table_bytes = ((d->cfg.gart >> HW_PAGE_SHIFT) * 8 + HW_PAGE_SIZE - 1) & ~(HW_PAGE_SIZE - 1);
	d->reserved = GSDRV_GART_TABLE_OFF + table_bytes;
	/* The aperture must hold the window plus room for allocations; VRAM's window
	 * must hold the driver's own memory plus room for allocations. */
	if (d->cfg.gart < 2 * GSDRV_WINDOW_MAX_PAGES * HW_PAGE_SIZE / 8 ||
	    d->reserved + HW_PAGE_SIZE > d->cfg.visible) {
		free(d);
		return -EINVAL;
	}
	uint64_t gart_pages = d->cfg.gart >> HW_PAGE_SHIFT;
	/* The end of the aperture is the driver's: first the monitored fence pages,
	 * then the paging window. Both come out of the same quarter (at most
	 * GSDRV_WINDOW_MAX_PAGES) that the window alone had before fences existed, so
	 * the GART segment the manager sees keeps its documented size. */
	uint32_t region = gart_pages / 4 < GSDRV_WINDOW_MAX_PAGES ? (uint32_t)(gart_pages / 4)
								    : GSDRV_WINDOW_MAX_PAGES;
	d->fence_pages = region / 16 < GSDRV_FENCE_PAGES_MAX ? region / 16 : GSDRV_FENCE_PAGES_MAX;
	d->fence_page = gart_pages - region;
	d->window_pages = region - d->fence_pages;
	d->window_page = d->fence_page + d->fence_pages;
	d->gart_seg_size = d->fence_page << HW_PAGE_SHIFT;

	hw_mmio_write(hw, HW_REG_RESET, HW_RESET_MAGIC);
	d->fence_cpu = hw_bar2_map(hw, GSDRV_FENCE_OFF, HW_PAGE_SIZE);
	memset(d->fence_cpu, 0, HW_PAGE_SIZE);
	uint8_t *table = hw_bar2_map(hw, GSDRV_GART_TABLE_OFF, table_bytes);
	memset(table, 0, table_bytes);
	hw_mmio_write(hw, HW_REG_GART_TABLE_LO, (uint32_t)GSDRV_GART_TABLE_OFF);
	hw_mmio_write(hw, HW_REG_GART_TABLE_HI, 0);
	hw_mmio_write(hw, HW_REG_GART_CTRL, HW_GART_CTRL_ENABLE);
	hw_mmio_write(hw, HW_REG_TLB_INVALIDATE, HW_TLB_INVALIDATE_ALL);
	/* The paging engine always skips: a transfer that faulted is redone by
	 * paging.c, which needs the ring to go on. */
	if (gsdrv_ring_init(d, KMT_ENGINE_RENDER, GSDRV_RENDER_RING_OFF, GSDRV_RENDER_RING_SIZE,
			    opt && opt->stop_on_fault) ||
	    gsdrv_ring_init(d, KMT_ENGINE_PAGING, GSDRV_PAGING_RING_OFF, GSDRV_PAGING_RING_SIZE, false)) {
		free(d);
		return -EINVAL;
	}
	hw_set_irq_handler(hw, gsdrv_irq, d);
	hw_mmio_write(hw, HW_REG_IRQ_MASK, HW_IRQ_FAULT | HW_IRQ_FENCE(KMT_ENGINE_RENDER));

	/* VRAM beyond BAR2 is one segment, or two pools (say the memory of two
	 * dies) with pools=2: the manager must need no change for either. */
	uint64_t beyond = d->cfg.vram - d->cfg.visible;
	d->invisible_size = beyond;
	if (opt && opt->vram_pools == 2 && beyond >= 2 * HW_PAGE_SIZE) {
		d->invisible_size = (beyond / 2) & ~(uint64_t)(HW_PAGE_SIZE - 1);
		d->vram2_size = beyond - d->invisible_size;
	}
	add_segment(d, GPUSIM_SEG_VISIBLE, d->cfg.visible - d->reserved, true, false);
	if (d->invisible_size)
		add_segment(d, GPUSIM_SEG_INVISIBLE, d->invisible_size, false, false);
	if (d->vram2_size)
		add_segment(d, GPUSIM_SEG_VRAM2, d->vram2_size, false, false);
	add_segment(d, GPUSIM_SEG_GART, d->gart_seg_size, true, true);
	memcpy(segs, d->segs, d->nsegs * sizeof(*segs));
	*nsegs = d->nsegs;
	*out = d;
	return 0;
}

const struct kmt_ddi gsdrv_ddi = {
	.name = "gsdrv",
	/* The device's GPU MMU: page tables, SET_VM, VA submissions. */
	.caps = KMT_DDI_CAP_GPU_MMU,
	.start = gsdrv_start,
	.stop = gsdrv_stop,
	.describe_allocation = gsdrv_describe_allocation,
	.build_paging_buffer = gsdrv_build_paging_buffer,
	.paging_flush = gsdrv_paging_flush,
	.gpu_address = gsdrv_gpu_address,
	.map_cpu = gsdrv_map_cpu,
	.discard = gsdrv_discard,
	.check_commands = gsdrv_check_commands,
	.submit = gsdrv_submit,
	.submit_va = gsdrv_submit_va,
	.fence_va = gsdrv_fence_va,
	.memory_written = gsdrv_memory_written,
	.wait_fence = gsdrv_wait_fence,
	.completed_fence = gsdrv_completed_fence,
	.submitted_fence = gsdrv_submitted_fence,
	.take_fault = gsdrv_take_fault,
	.idle = gsdrv_idle,
	.step = gsdrv_step,
	.now = gsdrv_now,
	.mmu_caps = gsdrv_mmu_caps,
	.read_pte = gsdrv_read_pte,
	.save_state = gsdrv_save_state,
	.load_state = gsdrv_load_state,
	.fence_pages = gsdrv_fence_pages,
	.map_fence_page = gsdrv_map_fence_page,
	.unmap_fence_page = gsdrv_unmap_fence_page,
	.fence_page_gpu = gsdrv_fence_page_gpu,
};
