/*
 * Interrupt delivery. Status bits latch whether or not they are enabled, so a
 * driver that polls sees them too; only enabled bits call the handler.
 */
#include <config.h>

#include "hw/hw_internal.h"

void hw_irq_raise(struct hw_device *dev, uint32_t bits)
{
	dev->irq.status |= bits;
	uint32_t pending = dev->irq.status & dev->irq.mask;
	if ((bits & dev->irq.mask) && dev->irq.fn && !dev->removed) {
		dev->stats.irqs++;
		dev->irq.fn(dev->irq.opaque, pending);
	}
}

void hw_set_irq_handler(struct hw_device *dev, hw_irq_handler fn, void *opaque)
{
	dev->irq.fn = fn;
	dev->irq.opaque = opaque;
}
