/*
 * The process's GPU virtual address space on an adapter, as the kernel side
 * sees it: made on first use, with the kernel's own range at its top where every
 * monitored fence page is mapped, so that a fence's FenceValueGPUVirtualAddress
 * is known from its slot alone (without making the space) and is mapped
 * whenever a GPU can use it (a VA context runs in the space, which exists then).
 */
#ifndef KMT_PROCVA_H
#define KMT_PROCVA_H

#include "kmt/core.h"

/* The space, made on first use: -ENODEV when the driver has no GPU MMU. */
int kmt_va_space(struct kmt_adapter *ad, struct vidmm_va_space **out);
/* The GPU VA of a monitored fence slot's value; 0 without a GPU MMU. */
uint64_t kmt_fence_gpu_va(struct kmt_adapter *ad, uint32_t slot);
/* fence.c: page `index` of monitored fence storage is system page pfn now, or
 * (present false) is going: the space, if made, follows. */
void kmt_va_fence_page(struct kmt_adapter *ad, uint32_t index, uint64_t pfn, bool present);

#endif
