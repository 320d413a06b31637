/*
 * The device as a whole: creation from a validated configuration, destruction,
 * and the simulator-side views (statistics, configuration) that are not registers.
 */
#include <config.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "hw/hw_internal.h"

int hw_device_create(const struct hw_config *cfg, struct hw_device **out)
{
	int rc;
	if (!out)
		return -EINVAL;
	*out = NULL;
	if (hw_config_validate(cfg, NULL, 0))
		return -EINVAL;
	struct hw_device *dev = calloc(1, sizeof(*dev));
	if (!dev)
		return -ENOMEM;
	dev->cfg = *cfg;
	dev->sysmem.fd = -1;
	if ((rc = hw_vram_init(&dev->vram, cfg->vram)) ||
	    (rc = hw_sysmem_init(&dev->sysmem, cfg->sysmem)) ||
	    (rc = hw_gart_init(&dev->gart, cfg->tlb_entries)) ||
	    (rc = hw_mmu_init(&dev->mmu, cfg))) {
		hw_device_destroy(dev);
		return rc;
	}
	*out = dev;
	return 0;
}

void hw_device_destroy(struct hw_device *dev)
{
	if (!dev)
		return;
	hw_mmu_fini(&dev->mmu);
	hw_gart_fini(&dev->gart);
	hw_sysmem_fini(&dev->sysmem);
	hw_vram_fini(&dev->vram);
	free(dev);
}

const struct hw_config *hw_device_config(const struct hw_device *dev)
{
	return &dev->cfg;
}

void hw_get_stats(const struct hw_device *dev, struct hw_stats *out)
{
	*out = dev->stats;
}
