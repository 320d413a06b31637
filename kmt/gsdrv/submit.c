/*
 * Patch and submit for the gsdrv driver: the user-mode driver's command buffer
 * holds device packets with placeholder addresses; each patch location receives
 * the GPU address of an allocation on the list, the patched packets are checked
 * as a kernel command parser checks them, then they go on the render ring behind
 * a fence.
 */
#include <config.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "kmt/gsdrv/gsdrv.h"

/*
 * The packets must tile the buffer exactly: a packet whose count runs past the end
 * would swallow the fence the kernel puts after it (and, on a device that trusted
 * it, the stale packets beyond), and the device is never handed what its own
 * framing checks would refuse. SET_VM and TLB_INVALIDATE are the kernel's: a user
 * buffer switching the ring's address space would reach another process's memory
 * and leave the kernel's fence translated through it. Unknown opcodes pass: the
 * device faults on them (PKT_OPCODE) as it does on any bad packet of a well-framed
 * buffer. `header`, when given, gets bit i set for each dword i that is a header.
 */
static int walk(const uint32_t *p, uint32_t n, uint8_t *header)
{
	for (uint32_t i = 0; i < n;) {
		uint32_t op = HW_PKT_OPCODE(p[i]), count = HW_PKT_COUNT(p[i]);
		if (op == HW_PKT_SET_VM || op == HW_PKT_TLB_INVALIDATE)
			return -EPERM;
		if (count > n - i - 1)
			return -EINVAL;
		if (header)
			header[i / 8] |= (uint8_t)(1u << (i % 8));
		i += 1 + count;
	}
	return 0;
}

int gsdrv_check_packets(const uint32_t *p, uint32_t n)
{
	return walk(p, n, NULL);
}

static bool is_header(const uint8_t *header, uint32_t i)
{
	return header[i / 8] >> (i % 8) & 1u;
}

/* DxgkDdiRender's part: the buffer as the caller wrote it, before the kernel makes
 * anything resident or patches it, so a refused buffer costs no paging. A patch
 * location must land in a packet's body: one over a header would change the
 * framing checked here. */
int gsdrv_check_commands(void *drv, const struct kmt_submission *sub)
{
	(void)drv;
	if (sub->length % 4 || (sub->length && !sub->commands))
		return -EINVAL;
	uint32_t n = sub->length / 4;
	if (!n)
		return 0;
	uint8_t *header = calloc((n + 7) / 8, 1);
	if (!header)
		return -ENOMEM;
	int rc = walk(sub->commands, n, header);
	for (uint32_t i = 0; !rc && i < sub->npatch; i++) {
		uint32_t at = sub->patches[i].patch_offset / 4;
		if (sub->patches[i].patch_offset % 4 || at + 1 >= n || is_header(header, at) ||
		    is_header(header, at + 1))
			rc = -EINVAL;
	}
	free(header);
	return rc;
}

int gsdrv_submit(void *drv, const struct kmt_submission *sub, uint64_t *fence)
{
	struct gsdrv *d = drv;
	if (hw_device_removed(d->hw))
		return -ENODEV;
	if (sub->length % 4 || (sub->length && !sub->commands))
		return -EINVAL;
	if ((uint64_t)sub->length + 64 > d->rings[KMT_ENGINE_RENDER].size)
		return -ENOSPC;
	for (uint32_t i = 0; i < sub->npatch; i++) {
		const struct kmt_patch *p = &sub->patches[i];
		if (p->index >= sub->nalloc || p->patch_offset % 4 ||
		    (uint64_t)p->patch_offset + 8 > sub->length)
			return -EINVAL;
	}
	uint32_t n = sub->length / 4;
	uint32_t *buf = NULL;
	if (n) {
		buf = malloc(sub->length);
		if (!buf)
			return -ENOMEM;
		memcpy(buf, sub->commands, sub->length);
		for (uint32_t i = 0; i < sub->npatch; i++) {
			const struct kmt_patch *p = &sub->patches[i];
			uint64_t a = sub->gpu_addresses[p->index] + p->alloc_offset;
			gsdrv_lo_hi(buf + p->patch_offset / 4, a);
		}
		/* Again on what goes into the ring, whoever called. */
		int rc = gsdrv_check_packets(buf, n);
		if (rc) {
			free(buf);
			return rc;
		}
	}
	int rc = gsdrv_switch_vm(d, 0, 0); /* patched addresses are physical */
	if (!rc && n)
		rc = gsdrv_ring_emit(d, KMT_ENGINE_RENDER, buf, n);
	free(buf);
	if (rc)
		return rc;
	*fence = gsdrv_fence_emit(d, KMT_ENGINE_RENDER);
	return 0;
}
