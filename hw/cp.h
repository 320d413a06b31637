/*
 * The command processor: rings in GPU memory, each with base/size/read/write
 * registers and a doorbell, scheduled against the simulated clock.
 */
#ifndef HW_CP_H
#define HW_CP_H

#include <stdbool.h>
#include <stdint.h>

struct hw_device;

struct hw_ring {
	uint64_t base;
	uint32_t size, rptr, wptr;
	uint32_t fetch_wptr; /* the WPTR the engine saw at the last doorbell */
	uint32_t ctrl;
	bool stopped;        /* on a fault, until disabled and enabled again */
	bool waiting;        /* in a WAIT whose condition does not hold yet */
	uint64_t fence;
	uint64_t ready_at;   /* earliest start of the ring's next packet */
};

/* Dwords from RPTR up to the WPTR of the last doorbell: all the engine may read. */
uint32_t hw_ring_avail_dwords(const struct hw_ring *r);
uint32_t hw_ring_reg_read(struct hw_device *dev, unsigned n, uint32_t reg);
void hw_ring_reg_write(struct hw_device *dev, unsigned n, uint32_t reg, uint32_t v);
void hw_ring_reset(struct hw_device *dev, unsigned n);

#endif
