/*
 * <gpusim/hwstate.h> — a device's non-memory state as self-describing bytes, for
 * snapshots: save it, load it into a device of the same configuration, and read
 * it without a device (inspect). The fields are declared once in hw/vmstate.c.
 *
 * The bytes (little endian; hw/STATE.md has the rules):
 *   u32 version (HW_STATE_VERSION of the writer), u32 number of fields, then per field
 *   u32 length of the rest of this field, u32 name length, the name (ASCII, no NUL),
 *   u32 type (HW_STATE_U32/U64/BOOL, | HW_STATE_HEX | HW_STATE_ARRAY), u64 count
 *   (1 for a scalar), count values
 *   (4, 8 or 1 bytes each).
 */
#ifndef GPUSIM_HWSTATE_H
#define GPUSIM_HWSTATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <gpusim/hw.h>

#ifdef __cplusplus
extern "C" {
#endif

/* 1: the first self-describing state (clock, GART, IRQ, rings, faults, flags,
 * stats, system-page books, bad VRAM pages, OOM injection). */
/* 2: the GPU MMU (mmu.*, vm*, vmtlb*). 3: the engines' TLBs cache lines of 8
 * entries in 4-way sets (vmtlb*.line.*); version 2's direct-mapped slots
 * (vmtlb*.vpn, pte, slot_gen, asid, large) are no longer read. */
#define HW_STATE_VERSION 3u

enum hw_state_type {
	HW_STATE_U32 = 1,
	HW_STATE_U64 = 2,
	HW_STATE_BOOL = 3,   /* one byte, 0 or 1 */
};
#define HW_STATE_TYPE_MASK 0xffu
#define HW_STATE_HEX 0x100u  /* a register or address: people read it in hex */
#define HW_STATE_ARRAY 0x200u /* an array (of any count), not a scalar */
#define HW_STATE_NAME_MAX 64

/* The device's state as bytes (malloc'd, *buf for the caller to free): 0 or -ENOMEM. */
int hw_device_save_state(struct hw_device *dev, uint8_t **buf, size_t *len);
/* Put saved state back into a device made from the same configuration. Every
 * field is decoded and checked before anything changes: a malformed, unknown,
 * missing or out-of-range field gives -EINVAL with a sentence naming it in err,
 * and the device as it was; -ENOMEM likewise. A field newer than the state's
 * version may be absent and keeps the device's value. The IRQ handler stays. */
int hw_device_load_state(struct hw_device *dev, const void *buf, size_t len, char *err,
			 size_t errlen);

/* One field of saved state, pointing into the bytes. */
struct hw_state_item {
	char name[HW_STATE_NAME_MAX + 1];
	uint32_t type;            /* enum hw_state_type */
	bool hex;
	bool array;
	uint64_t count;           /* values; 1 for a scalar */
	const uint8_t *values;
};
/* Value i (< count) of an item. */
uint64_t hw_state_item_value(const struct hw_state_item *it, uint64_t i);
/* Call fn for each field of saved state, in order, without a device; well-formed
 * fields of names this gpusim does not know are passed on too. Stops at fn's first
 * non-zero return and returns it; -EINVAL with a sentence for malformed bytes.
 * *version (may be NULL) gets the state's version. */
int hw_state_walk(const void *buf, size_t len, uint32_t *version,
		  int (*fn)(void *opaque, const struct hw_state_item *it), void *opaque, char *err,
		  size_t errlen);
/* The field called name: 0, -ENOENT when absent, -EINVAL when the bytes are malformed. */
int hw_state_find(const void *buf, size_t len, const char *name, struct hw_state_item *out);

#ifdef __cplusplus
}
#endif

#endif
