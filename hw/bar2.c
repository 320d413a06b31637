/*
 * BAR2: the CPU's window onto the first `visible` bytes of VRAM. It is the only
 * way the CPU reaches VRAM, so invisible VRAM really is invisible.
 */
#include <config.h>

#include <errno.h>
#include <string.h>

#include "hw/hw_internal.h"

static bool in_window(const struct hw_device *dev, uint64_t off, uint64_t len)
{
	return len <= dev->cfg.visible && off <= dev->cfg.visible - len;
}

int hw_bar2_read(struct hw_device *dev, uint64_t off, void *buf, size_t len)
{
	uint64_t bad;
	if (dev->removed)
		return -ENODEV;
	if (!in_window(dev, off, len) || (len && !buf))
		return -EFAULT;
	if (hw_vram_find_bad(&dev->vram, off, len, &bad))
		return -EIO;
	if (len)
		memcpy(buf, dev->vram.base + off, len);
	return 0;
}

int hw_bar2_write(struct hw_device *dev, uint64_t off, const void *buf, size_t len)
{
	if (dev->removed)
		return -ENODEV;
	if (!in_window(dev, off, len) || (len && !buf))
		return -EFAULT;
	if (len)
		memcpy(dev->vram.base + off, buf, len);
	return 0;
}

void *hw_bar2_map(struct hw_device *dev, uint64_t off, uint64_t len)
{
	if (dev->removed || !in_window(dev, off, len))
		return NULL;
	return dev->vram.base + off;
}

void *hw_debug_vram(struct hw_device *dev, uint64_t off, uint64_t len)
{
	if (len > dev->vram.size || off > dev->vram.size - len)
		return NULL;
	return dev->vram.base + off;
}
