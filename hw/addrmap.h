/*
 * The GPU address map: [0, vram) is VRAM, [gart_base, gart_base + gart) the GART
 * aperture, everything else faults. Engines reach memory only through here.
 */
#ifndef HW_ADDRMAP_H
#define HW_ADDRMAP_H

#include <stdbool.h>
#include <stdint.h>

struct hw_device;

struct hw_access_fault {
	uint32_t cause;
	uint64_t addr;
};

/* The longest run of [addr, addr+len) that is contiguous in host memory, starting
 * at addr: *host and *n on success (returns 0), else the fault cause. */
uint32_t hw_addrmap_chunk(struct hw_device *dev, uint64_t addr, uint64_t len, bool write,
			  uint8_t **host, uint64_t *n, uint64_t *fault_addr);
/* Check that the whole range can be accessed; 0 or the cause with f filled. */
uint32_t hw_addrmap_check(struct hw_device *dev, uint64_t addr, uint64_t len, bool write,
			  struct hw_access_fault *f);
/* Copy out of / into checked GPU memory. */
void hw_addrmap_read(struct hw_device *dev, uint64_t addr, void *buf, uint64_t len);
void hw_addrmap_write(struct hw_device *dev, uint64_t addr, const void *buf, uint64_t len);
/* Does [addr, addr+len) touch the aperture (so traffic crosses PCIe)? */
bool hw_addrmap_in_gart(const struct hw_device *dev, uint64_t addr, uint64_t len);

#endif
