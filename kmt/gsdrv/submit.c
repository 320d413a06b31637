/*
 * Patch and submit for the gsdrv driver: the user-mode driver's command buffer
 * holds device packets with placeholder addresses; each patch location receives
 * the GPU address of an allocation on the list, then the packets go on the render
 * ring behind a fence.
 */
#include <config.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "kmt/gsdrv/gsdrv.h"

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
