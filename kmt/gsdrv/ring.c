/*
 * Rings, fences and interrupts of the gsdrv driver. Rings are written through
 * BAR2; waiting for a fence lets the device's simulated time run, which is how a
 * driver "sleeps" on a model with no wall clock.
 */
#include <config.h>

#include <errno.h>
#include <string.h>

#include "kmt/gsdrv/gsdrv.h"

int gsdrv_ring_init(struct gsdrv *d, unsigned index, uint64_t off, uint32_t size, bool stop_on_fault)
{
	struct gsdrv_ring *r = &d->rings[index];
	r->index = index;
	r->size = size;
	r->wptr = 0;
	r->cpu = hw_bar2_map(d->hw, off, size);
	if (!r->cpu)
		return -ENOSPC;
	hw_mmio_write(d->hw, HW_REG_RING(index, HW_RING_BASE_LO), (uint32_t)off);
	hw_mmio_write(d->hw, HW_REG_RING(index, HW_RING_BASE_HI), (uint32_t)(off >> 32));
	hw_mmio_write(d->hw, HW_REG_RING(index, HW_RING_SIZE), size);
	/* A faulting packet is skipped: the submission's fence still signals and the
	 * fault is reported through the interrupt, as a GPU with recoverable faults.
	 * Stopped instead, the ring keeps the packet at RPTR for whoever looks (a
	 * snapshot, gpusim inspect) and runs nothing after it. */
	hw_mmio_write(d->hw, HW_REG_RING(index, HW_RING_CTRL),
		      HW_RING_CTRL_ENABLE | (stop_on_fault ? 0 : HW_RING_CTRL_SKIP_FAULT));
	return 0;
}

static uint32_t ring_free(struct gsdrv *d, struct gsdrv_ring *r)
{
	uint32_t rptr = hw_mmio_read(d->hw, HW_REG_RING(r->index, HW_RING_RPTR));
	return (uint32_t)(((uint64_t)rptr + r->size - r->wptr - 4) % r->size);
}

/* Not enough room: let the engine consume what it has been given. */
static int wait_room(struct gsdrv *d, unsigned engine, uint32_t bytes)
{
	struct gsdrv_ring *r = &d->rings[engine];
	while (ring_free(d, r) < bytes) {
		uint64_t t;
		gsdrv_ring_kick(d, engine);
		if (!hw_next_event(d->hw, &t))
			return -ETIMEDOUT;
		hw_run_until(d->hw, t);
	}
	return 0;
}

int gsdrv_ring_emit(struct gsdrv *d, unsigned engine, const uint32_t *dw, uint32_t n)
{
	struct gsdrv_ring *r = &d->rings[engine];
	if (hw_device_removed(d->hw))
		return -ENODEV;
	if (4ull * n + 4 > r->size)
		return -ENOSPC;
	/* The device never splits a packet at the end of the ring (PKT_WRAP), and
	 * every caller hands whole packets: what does not fit before the end goes at
	 * 0, behind a NOP over the rest (its body is whatever the ring held). */
	uint32_t tail = r->size - r->wptr;
	if (tail < 4 * n) {
		int rc = wait_room(d, engine, tail);
		if (rc)
			return rc;
		uint32_t nop = HW_PKT_HEADER(HW_PKT_NOP, 0, tail / 4 - 1);
		memcpy(r->cpu + r->wptr, &nop, 4);
		r->wptr = 0;
	}
	int rc = wait_room(d, engine, 4 * n);
	if (rc)
		return rc;
	/* One piece: the packet lies whole before the ring's end (above). */
	memcpy(r->cpu + r->wptr, dw, 4 * n);
	r->wptr = (r->wptr + 4 * n) % r->size;
	return 0;
}

void gsdrv_ring_kick(struct gsdrv *d, unsigned engine)
{
	struct gsdrv_ring *r = &d->rings[engine];
	hw_mmio_write(d->hw, HW_REG_RING(engine, HW_RING_WPTR), r->wptr);
	hw_mmio_write(d->hw, HW_REG_RING(engine, HW_RING_DOORBELL), 1);
}

uint64_t gsdrv_fence_emit(struct gsdrv *d, unsigned engine)
{
	struct gsdrv_ring *r = &d->rings[engine];
	uint32_t p[5];
	uint64_t value = r->submitted + 1;
	/* Render fences interrupt: that is when signals queued behind them land. */
	/* Physical even when the ring is left in an address space. */
	p[0] = HW_PKT_HEADER(HW_PKT_FENCE, (engine == KMT_ENGINE_RENDER ? HW_PKT_FENCE_IRQ : 0) | HW_PKT_FENCE_PHYS, 4);
	gsdrv_lo_hi(p + 1, GSDRV_FENCE_OFF + 8ull * engine);
	gsdrv_lo_hi(p + 3, value);
	if (gsdrv_ring_emit(d, engine, p, 5))
		return r->submitted;
	r->submitted = value;
	gsdrv_ring_kick(d, engine);
	return value;
}

static uint64_t fence_memory(struct gsdrv *d, uint32_t engine)
{
	uint64_t v;
	memcpy(&v, d->fence_cpu + 8 * engine, 8);
	return v;
}

/* The render engine's completions are learnt from its fence interrupt, as a real
 * driver learns them; the paging engine, which the driver waits on at once, is
 * polled from the fence page. */
uint64_t gsdrv_completed_fence(void *drv, uint32_t engine)
{
	struct gsdrv *d = drv;
	return engine == KMT_ENGINE_RENDER ? d->irq_fence[engine] : fence_memory(d, engine);
}

uint64_t gsdrv_submitted_fence(void *drv, uint32_t engine)
{
	struct gsdrv *d = drv;
	return d->rings[engine].submitted;
}

int gsdrv_wait_fence(void *drv, uint32_t engine, uint64_t value)
{
	struct gsdrv *d = drv;
	while (gsdrv_completed_fence(d, engine) < value) {
		uint64_t t;
		if (hw_device_removed(d->hw))
			return -ENODEV;
		if (!hw_next_event(d->hw, &t))
			return -ETIMEDOUT;
		hw_run_until(d->hw, t);
	}
	return 0;
}

int gsdrv_step(void *drv)
{
	struct gsdrv *d = drv;
	uint64_t t;
	if (hw_device_removed(d->hw))
		return -ENODEV;
	if (!hw_next_event(d->hw, &t))
		return -ETIMEDOUT;
	hw_run_until(d->hw, t);
	return 0;
}

void gsdrv_idle(void *drv)
{
	struct gsdrv *d = drv;
	hw_run_idle(d->hw);
}

void gsdrv_irq(void *opaque, uint32_t pending)
{
	struct gsdrv *d = opaque;
	if (pending & HW_IRQ_FAULT) {
		struct kmt_fault_info f;
		uint32_t lo = hw_mmio_read(d->hw, HW_REG_FAULT_ADDR_LO);
		f.gpu_address = (uint64_t)hw_mmio_read(d->hw, HW_REG_FAULT_ADDR_HI) << 32 | lo;
		f.cause = hw_mmio_read(d->hw, HW_REG_FAULT_CAUSE);
		f.engine = hw_mmio_read(d->hw, HW_REG_FAULT_RING);
		f.time_ns = hw_clock_now(d->hw);
		f.completed = f.engine < KMT_ENGINES ? fence_memory(d, f.engine) : 0;
		f.flags = 0;
		f.asid = 0;
		/* A fault on a VA latches the VM registers too: the same fault when
		 * they name the same ring and address. */
		uint32_t vm_cause = hw_mmio_read(d->hw, HW_REG_VM_FAULT_CAUSE);
		if (vm_cause) {
			uint32_t vlo = hw_mmio_read(d->hw, HW_REG_VM_FAULT_ADDR_LO);
			uint64_t va = (uint64_t)hw_mmio_read(d->hw, HW_REG_VM_FAULT_ADDR_HI) << 32 | vlo;
			if (va == f.gpu_address && hw_mmio_read(d->hw, HW_REG_VM_FAULT_RING) == f.engine) {
				f.flags |= KMT_FAULT_VA;
				f.asid = hw_mmio_read(d->hw, HW_REG_VM_FAULT_ASID);
				if (hw_mmio_read(d->hw, HW_REG_VM_FAULT_INFO) & HW_VM_FAULT_INFO_WRITE)
					f.flags |= KMT_FAULT_WRITE;
			}
			hw_mmio_write(d->hw, HW_REG_VM_FAULT_CAUSE, 0);
		}
		if (f.engine == KMT_ENGINE_PAGING)
			d->paging_faults++;
		/* A skipped SET_VM leaves the ring in the space before it, so after any
		 * fault (queued or dropped) the next submission sets the space again.
		 * Root and ASID are cleared so the books have one form for "unknown". */
		d->vm_known = false;
		d->vm_root = 0;
		d->vm_asid = 0;
		if (d->fault_count < GSDRV_MAX_FAULTS) {
			d->faults[(d->fault_head + d->fault_count) % GSDRV_MAX_FAULTS] = f;
			d->fault_count++;
		} else {
			d->faults_dropped++;
		}
		hw_mmio_write(d->hw, HW_REG_FAULT_CAUSE, 0);
	}
	for (unsigned e = 0; e < KMT_ENGINES; e++)
		if (pending & HW_IRQ_FENCE(e)) {
			d->fence_irqs[e]++;
			d->irq_fence[e] = fence_memory(d, e);
		}
	hw_mmio_write(d->hw, HW_REG_IRQ_STATUS, pending);
}

bool gsdrv_take_fault(void *drv, struct kmt_fault_info *out)
{
	struct gsdrv *d = drv;
	if (!d->fault_count)
		return false;
	*out = d->faults[d->fault_head];
	d->fault_head = (d->fault_head + 1) % GSDRV_MAX_FAULTS;
	d->fault_count--;
	return true;
}
