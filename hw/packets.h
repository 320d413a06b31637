/*
 * Packet decoding and execution: one packet at the read pointer of a ring.
 * Every packet checks all the memory it will touch before it touches any, so a
 * faulting packet has no effect and can be retried once the driver fixes things.
 */
#ifndef HW_PACKETS_H
#define HW_PACKETS_H

#include <stdbool.h>
#include <stdint.h>

struct hw_device;

struct hw_pkt_result {
	uint32_t cause;       /* HW_FAULT_*, 0 when it ran */
	uint64_t fault_addr;
	uint64_t cost;        /* ns */
	uint32_t dwords;      /* header + body; 0 when the header itself was unreadable */
	bool blocked;         /* a WAIT whose condition does not hold */
	bool vm_fault;        /* fault_addr is a virtual address (the ring is in VA mode) */
	bool fault_write;     /* ... and the access that faulted was a write */
};

void hw_packet_execute(struct hw_device *dev, unsigned ring, struct hw_pkt_result *res);
/* Would the WAIT at the ring's read pointer pass now? */
bool hw_packet_wait_ready(struct hw_device *dev, unsigned ring);

#endif
