/*
 * The layout of libkmt's resume state (struct gpusim_snapshot's `state`): the
 * section tags and the version, shared by the writer (take.c) and the reader
 * (restore.c), which must walk the sections in the same order.
 *
 *   "GSKM" version
 *   "HWST" the device's non-memory state: a u64 byte count, then the bytes of
 *          hw_device_save_state (<gpusim/hwstate.h>: versioned on their own, each
 *          field named, typed and sized; the fields are declared in hw/vmstate.c)
 *   "GSDV" the driver's books (ddi->save_state; gsdrv: kmt/gsdrv/state.c)
 *   "VIMM" the memory manager: counters, segments with their sub-allocators
 *   "ADPT" the adapter: removed, fault and submit counters, fault blame
 *   "DEVS" devices, in the adapter's list order
 *   "SYNC" sync objects (a monitored fence with its storage slot)
 *   "PGQS" monitored fence pages (index, system page), then paging queues
 *   "CTXS" contexts, "RESS" resources (each in device order)
 *   "MEMS" memory objects (one per kmt_mem; shared ones once)
 *   "ALCS" allocation handles, ascending
 *   "VASP" GPU virtual address spaces: the next ASID, the count of spaces (the
 *          manager's list order), which is the process's (UINT32_MAX: none); per
 *          space its ASID, paging fence, and page tables in preorder (level, slot
 *          in the parent, the kernel allocation's place and fields), then its
 *          reservations in address order (start, size, type, kernel); then every
 *          mapping (space, start, size, memory object index or UINT64_MAX for a
 *          kernel page, offset, system page, read-only): each allocation's in
 *          the order of its list, then the kernel pages
 *   "PLCY" the eviction policy's state: a count of 64-bit words, then the words
 *          (its save/load, kmt/vidmm/policy*.c: the allocations' policy fields,
 *          then the policy's own state and order, allocations by memory object)
 *   "END."
 */
#ifndef KMT_SNAPSHOT_FORMAT_H
#define KMT_SNAPSHOT_FORMAT_H

/* 3: placements, demotions/promotions, segment ids to 7, the policy's state.
 * 4: HWST self-describing. 5: fence storage slots, sync flags, paging queues.
 * 6: VASP (GPU VA spaces, their page tables, reservations and mappings), and a
 * monitored fence's last GPU-queued value in SYNC.
 * 7: in GSDV, the address space the driver left the render ring in (it emits
 * SET_VM only on a change, so a resumed run must know what the straight run knew).
 * Only this version is read: an older resume state is refused with a sentence
 * (before 4, HWST was a fixed layout this reader no longer knows). The device's
 * fields evolve inside HWST (HW_STATE_VERSION) without a new version here: a state
 * without a newer field still loads. */
#define KMT_STATE_VERSION 7u

#define TAG4(a, b, c, d) ((uint32_t)(a) | (uint32_t)(b) << 8 | (uint32_t)(c) << 16 | (uint32_t)(d) << 24)
#define TAG_MAGIC TAG4('G', 'S', 'K', 'M')
#define TAG_HW TAG4('H', 'W', 'S', 'T')
#define TAG_VIDMM TAG4('V', 'I', 'M', 'M')
#define TAG_ADAPTER TAG4('A', 'D', 'P', 'T')
#define TAG_DEVICES TAG4('D', 'E', 'V', 'S')
#define TAG_SYNCS TAG4('S', 'Y', 'N', 'C')
#define TAG_PAGING TAG4('P', 'G', 'Q', 'S')
#define TAG_CONTEXTS TAG4('C', 'T', 'X', 'S')
#define TAG_RESOURCES TAG4('R', 'E', 'S', 'S')
#define TAG_MEMS TAG4('M', 'E', 'M', 'S')
#define TAG_ALLOCS TAG4('A', 'L', 'C', 'S')
#define TAG_VA TAG4('V', 'A', 'S', 'P')
#define TAG_POLICY TAG4('P', 'L', 'C', 'Y')
#define TAG_END TAG4('E', 'N', 'D', '.')

#endif
