/*
 * Ring registers and the engine scheduler. Each ring has its own timeline; the
 * scheduler always runs the packet that can start earliest (ties: lower ring),
 * which keeps several rings deterministic without threads.
 */
#include <config.h>

#include <errno.h>
#include <string.h>

#include "hw/hw_internal.h"
#include "hw/cp.h"
#include "hw/packets.h"

static bool ring_pending(const struct hw_ring *r)
{
	return r->size && r->rptr != r->fetch_wptr;
}

uint32_t hw_ring_avail_dwords(const struct hw_ring *r)
{
	if (!r->size)
		return 0;
	return (uint32_t)(((uint64_t)r->fetch_wptr + r->size - r->rptr) % r->size) / 4;
}

/* Move RPTR on by n dwords, never past the WPTR of the last doorbell: what lies
 * beyond it was not submitted (stale packets of earlier laps, or nothing), and a
 * read pointer that jumped over it would run them until it landed on it again. */
static void advance(struct hw_ring *r, uint32_t n)
{
	uint32_t avail = hw_ring_avail_dwords(r);
	if (n > avail)
		n = avail;
	r->rptr = (uint32_t)((r->rptr + 4ull * n) % r->size);
}

static bool ring_runnable(const struct hw_ring *r)
{
	return (r->ctrl & HW_RING_CTRL_ENABLE) && !r->stopped && ring_pending(r);
}

void hw_ring_reset(struct hw_device *dev, unsigned n)
{
	memset(&dev->rings[n], 0, sizeof(dev->rings[n]));
	dev->rings[n].ready_at = dev->now;
}

uint32_t hw_ring_reg_read(struct hw_device *dev, unsigned n, uint32_t reg)
{
	struct hw_ring *r = &dev->rings[n];
	switch (reg) {
	case HW_RING_BASE_LO: return (uint32_t)r->base;
	case HW_RING_BASE_HI: return (uint32_t)(r->base >> 32);
	case HW_RING_SIZE: return r->size;
	case HW_RING_RPTR: return r->rptr;
	case HW_RING_WPTR: return r->wptr;
	case HW_RING_CTRL: return r->ctrl;
	case HW_RING_STATUS:
		return (ring_runnable(r) && !r->waiting ? HW_RING_STATUS_BUSY : 0) |
		       (r->stopped ? HW_RING_STATUS_STOPPED : 0) |
		       (r->waiting ? HW_RING_STATUS_WAITING : 0);
	case HW_RING_FENCE_LO: return (uint32_t)r->fence;
	case HW_RING_FENCE_HI: return (uint32_t)(r->fence >> 32);
	case HW_RING_VM_CTRL: case HW_RING_VM_ROOT_LO: case HW_RING_VM_ROOT_HI: case HW_RING_VM_ASID:
		return hw_mmu_ring_reg_read(dev, n, reg);
	default: return 0;
	}
}

void hw_ring_reg_write(struct hw_device *dev, unsigned n, uint32_t reg, uint32_t v)
{
	struct hw_ring *r = &dev->rings[n];
	switch (reg) {
	case HW_RING_BASE_LO: r->base = (r->base & ~0xffffffffull) | (v & ~3u); break;
	case HW_RING_BASE_HI: r->base = (r->base & 0xffffffffull) | (uint64_t)v << 32; break;
	case HW_RING_SIZE:
		/* A new size starts the ring afresh: pointers from the old one are meaningless. */
		r->size = (v >= 16) ? (v & ~3u) : 0;
		r->rptr = r->wptr = r->fetch_wptr = 0;
		r->stopped = r->waiting = false;
		break;
	case HW_RING_WPTR:
		if (r->size)
			r->wptr = (v & ~3u) % r->size;
		break;
	case HW_RING_DOORBELL:
		if (!ring_pending(r) && r->ready_at < dev->now)
			r->ready_at = dev->now;
		r->fetch_wptr = r->wptr;
		break;
	case HW_RING_CTRL: {
		bool was = r->ctrl & HW_RING_CTRL_ENABLE;
		r->ctrl = v & (HW_RING_CTRL_ENABLE | HW_RING_CTRL_SKIP_FAULT);
		if (!was && (r->ctrl & HW_RING_CTRL_ENABLE)) {
			/* Enabling restarts a stopped ring at the packet that faulted. */
			r->stopped = false;
			r->waiting = false;
			if (r->ready_at < dev->now)
				r->ready_at = dev->now;
		}
		break;
	}
	case HW_RING_VM_CTRL: case HW_RING_VM_ROOT_LO: case HW_RING_VM_ROOT_HI: case HW_RING_VM_ASID:
	case HW_RING_VM_INVALIDATE:
		hw_mmu_ring_reg_write(dev, n, reg, v);
		break;
	default: break;
	}
}

/* The ring whose next packet starts first, and when; false when none can run. */
static bool pick(struct hw_device *dev, unsigned *ring, uint64_t *start)
{
	bool found = false;
	if (dev->removed)
		return false;
	for (unsigned i = 0; i < HW_NUM_RINGS; i++) {
		struct hw_ring *r = &dev->rings[i];
		if (!ring_runnable(r))
			continue;
		uint64_t s = r->ready_at;
		if (r->waiting) {
			if (!hw_packet_wait_ready(dev, i))
				continue;
			/* Released by the CPU or by a packet we have not timed: start now. */
			if (s < dev->now)
				s = dev->now;
		}
		if (!found || s < *start) {
			found = true;
			*ring = i;
			*start = s;
		}
	}
	return found;
}

bool hw_next_event(struct hw_device *dev, uint64_t *t)
{
	unsigned ring;
	uint64_t s;
	if (!pick(dev, &ring, &s))
		return false;
	if (t)
		*t = s;
	return true;
}

/* Release the waiting rings (but `except`) whose condition holds, from `at` on. */
static unsigned wake_waiters(struct hw_device *dev, unsigned except, uint64_t at)
{
	unsigned released = 0;
	for (unsigned i = 0; i < HW_NUM_RINGS; i++) {
		struct hw_ring *r = &dev->rings[i];
		if (i == except || !r->waiting || !ring_runnable(r))
			continue;
		if (hw_packet_wait_ready(dev, i)) {
			r->waiting = false;
			if (r->ready_at < at)
				r->ready_at = at;
			released++;
		}
	}
	return released;
}

unsigned hw_recheck_waits(struct hw_device *dev)
{
	if (dev->removed)
		return 0;
	return wake_waiters(dev, HW_NUM_RINGS, dev->now);
}

static void step(struct hw_device *dev, unsigned n, uint64_t start)
{
	struct hw_ring *r = &dev->rings[n];
	struct hw_pkt_result res;
	if (dev->now < start)
		dev->now = start;
	hw_packet_execute(dev, n, &res);
	if (res.blocked) {
		r->waiting = true;
		r->ready_at = start;
		return;
	}
	r->waiting = false;
	uint64_t end = start + res.cost;
	r->ready_at = end;
	if (res.cause) {
		/* A packet whose header could not be read cannot be skipped. What a
		 * skip covers is the packet's (hw_packet_execute: the rest of what was
		 * submitted when its own length cannot be trusted). */
		if ((r->ctrl & HW_RING_CTRL_SKIP_FAULT) && res.dwords)
			advance(r, res.dwords);
		else
			r->stopped = true;
		/* VM_FAULT_* first, so the interrupt handler finds them filled. */
		if (res.vm_fault)
			hw_mmu_fault_latch(dev, n, res.fault_addr, res.cause, res.fault_write);
		hw_fault_raise(dev, n, res.fault_addr, res.cause);
	} else {
		dev->stats.packets++;
		advance(r, res.dwords);
	}
	wake_waiters(dev, n, end);
}

int hw_run_until(struct hw_device *dev, uint64_t t)
{
	if (dev->in_run)
		return -EBUSY;
	dev->in_run = true;
	unsigned n;
	uint64_t s;
	while (pick(dev, &n, &s) && s <= t)
		step(dev, n, s);
	if (dev->now < t)
		dev->now = t;
	dev->in_run = false;
	return 0;
}

uint64_t hw_run_idle(struct hw_device *dev)
{
	uint64_t s;
	if (dev->in_run)
		return dev->now;
	while (hw_next_event(dev, &s))
		hw_run_until(dev, s);
	/* The clock ends when the last packet finishes, not when it starts. */
	for (unsigned i = 0; i < HW_NUM_RINGS; i++)
		if (!dev->removed && dev->rings[i].ready_at > dev->now)
			dev->now = dev->rings[i].ready_at;
	return dev->now;
}
