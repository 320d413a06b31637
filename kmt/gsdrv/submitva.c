/*
 * Submission in an address space for the gsdrv driver (DxgkDdiSubmitCommandVirtual,
 * and a context's monitored-fence signals and waits). The render ring is switched
 * to the context's address space with SET_VM and runs the packets; the fence that
 * follows is written to the driver's page by physical address (HW_PKT_FENCE_PHYS),
 * so the ring stays in that space: back-to-back submissions of one context need no
 * SET_VM, and a WDDM 1 submission switches it off only if it is on
 * (gsdrv_switch_vm).
 *
 * The device has no indirect-buffer packet, so the driver copies the command
 * buffer's packets into the ring, reading them through the address space's page
 * tables in memory (hw_mmu_debug_translate: the tables the GPU would walk). It
 * parses them on the way, as a kernel command parser does: a packet running past
 * the end of the buffer would swallow the packets the kernel puts after it, and
 * SET_VM, TLB_INVALIDATE and physical fences are the kernel's (a user buffer
 * switching address spaces would reach another process's memory).
 */
#include <config.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "kmt/gsdrv/gsdrv.h"

#define SET_VM_DWORDS 5u

static void set_vm(uint32_t *p, uint64_t root, uint32_t asid, uint32_t ctrl)
{
	p[0] = HW_PKT_HEADER(HW_PKT_SET_VM, 0, 4);
	gsdrv_lo_hi(p + 1, root);
	p[3] = asid & HW_VM_ASID_MASK;
	p[4] = ctrl;
}

/* Read length bytes at va of the address space at root into out. */
static int read_va(struct gsdrv *d, uint64_t root, uint64_t va, uint8_t *out, uint32_t length)
{
	while (length) {
		uint32_t in_page = HW_PAGE_SIZE - (uint32_t)(va % HW_PAGE_SIZE);
		uint32_t n = length < in_page ? length : in_page;
		uint64_t phys, flags;
		if (hw_mmu_debug_translate(d->hw, root, va, &phys, &flags))
			return -EFAULT;
		const uint8_t *src;
		if (flags & HW_PTE_SYSTEM) {
			const uint8_t *page = hw_sysmem_page(d->hw, phys >> HW_PAGE_SHIFT);
			src = page ? page + (phys & (HW_PAGE_SIZE - 1)) : NULL;
		} else {
			src = hw_debug_vram(d->hw, phys, n);
		}
		if (!src)
			return -EFAULT;
		memcpy(out, src, n);
		out += n;
		va += n;
		length -= n;
	}
	return 0;
}

/* Whole packets only, none of the kernel's. */
static int parse(const uint32_t *p, uint32_t n)
{
	for (uint32_t i = 0; i < n;) {
		uint32_t op = p[i] & 0xffu, count = p[i] >> 16;
		if (op == HW_PKT_SET_VM || op == HW_PKT_TLB_INVALIDATE ||
		    (op == HW_PKT_FENCE && (HW_PKT_FLAGS(p[i]) & HW_PKT_FENCE_PHYS)))
			return -EPERM;
		if (count > n - i - 1)
			return -EINVAL;
		i += 1 + count;
	}
	return 0;
}

int gsdrv_switch_vm(struct gsdrv *d, uint64_t root, uint32_t asid)
{
	asid &= HW_VM_ASID_MASK; /* as the ring holds it, so the books compare with it */
	if (d->vm_known && d->vm_root == root && d->vm_asid == asid)
		return 0;
	uint32_t p[SET_VM_DWORDS];
	set_vm(p, root, asid, root ? HW_VM_CTRL_ENABLE : 0);
	int rc = gsdrv_ring_emit(d, KMT_ENGINE_RENDER, p, SET_VM_DWORDS);
	if (rc)
		return rc;
	d->vm_known = true;
	d->vm_root = root;
	d->vm_asid = asid;
	return 0;
}

/* SET_VM on if needed, the body, then the render fence. */
static int run_in_space(struct gsdrv *d, uint64_t root, uint32_t asid, const uint32_t *body, uint32_t n,
			uint64_t *fence)
{
	int rc = gsdrv_switch_vm(d, root, asid);
	if (!rc && n)
		rc = gsdrv_ring_emit(d, KMT_ENGINE_RENDER, body, n);
	if (rc)
		return rc;
	*fence = gsdrv_fence_emit(d, KMT_ENGINE_RENDER);
	return 0;
}

int gsdrv_submit_va(void *drv, const struct kmt_va_submission *sub, uint64_t *fence)
{
	struct gsdrv *d = drv;
	if (hw_device_removed(d->hw))
		return -ENODEV;
	if (!sub->length || sub->length % 4 || sub->commands % 4)
		return -EINVAL;
	/* The packets, a SET_VM and the fence must fit the ring at once. */
	if ((uint64_t)sub->length + 4 * (SET_VM_DWORDS + 5) + 4 > d->rings[KMT_ENGINE_RENDER].size)
		return -ENOSPC;
	if (sub->length > d->scratch_bytes) {
		uint32_t *grown = realloc(d->scratch, sub->length);
		if (!grown)
			return -ENOMEM;
		d->scratch = grown;
		d->scratch_bytes = sub->length;
	}
	uint32_t *buf = d->scratch;
	int rc = read_va(d, sub->root, sub->commands, (uint8_t *)buf, sub->length);
	if (!rc)
		rc = parse(buf, sub->length / 4);
	if (!rc)
		rc = run_in_space(d, sub->root, sub->asid, buf, sub->length / 4, fence);
	return rc;
}

int gsdrv_fence_va(void *drv, const struct kmt_va_fence_op *op, uint64_t *fence)
{
	struct gsdrv *d = drv;
	if (hw_device_removed(d->hw))
		return -ENODEV;
	if (op->va % 8)
		return -EINVAL;
	uint32_t p[5];
	/* A signal raises no interrupt: CPU waiters look at the value in memory,
	 * and the render fence right after it interrupts anyway. */
	p[0] = HW_PKT_HEADER(op->wait ? HW_PKT_WAIT : HW_PKT_FENCE, 0, 4);
	gsdrv_lo_hi(p + 1, op->va);
	gsdrv_lo_hi(p + 3, op->value);
	return run_in_space(d, op->root, op->asid, p, 5, fence);
}

void gsdrv_memory_written(void *drv)
{
	struct gsdrv *d = drv;
	if (!hw_device_removed(d->hw))
		hw_recheck_waits(d->hw);
}
