/*
 * The interrupt line: a status register (write 1 to clear), a mask, and the
 * handler the driver registered, called when an enabled bit is raised.
 */
#ifndef HW_IRQ_H
#define HW_IRQ_H

#include <stdint.h>

struct hw_device;

struct hw_irq {
	uint32_t status;
	uint32_t mask;
	hw_irq_handler fn;
	void *opaque;
};

void hw_irq_raise(struct hw_device *dev, uint32_t bits);

#endif
