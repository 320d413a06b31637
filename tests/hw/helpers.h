/*
 * A small driver-side toolkit for the hw/ tests: devices from a config string, rings in
 * visible VRAM with one emitter per packet opcode, GART programming and register reads.
 * Every helper asserts (with Check) that the device accepted what it was given.
 */
#ifndef TESTS_HW_HELPERS_H
#define TESTS_HW_HELPERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <gpusim/hw.h>

/* The layout most tests use: small memories, rings and the GART table low in VRAM,
 * data from HT_DATA on. */
#define HT_SMALL "vram=16M,visible=8M,gart=16M,sysmem=16M"
#define HT_RING0 0x0000u        /* VRAM offset of ring 0 */
#define HT_RING1 0x1000u        /* VRAM offset of ring 1 */
#define HT_RING_SIZE 0x1000u
#define HT_GART_TABLE 0x10000u  /* VRAM offset of the GART table (page aligned) */
#define HT_DATA 0x100000u       /* first VRAM byte free for test data */

/* Apply "key=value,key=value" on top of cfg with hw_config_set; 0 or the first error. */
int ht_config_parse(struct hw_config *cfg, const char *text);
/* A device from the defaults plus text; asserts that creation succeeds. */
struct hw_device *ht_device(const char *text);

/* 64-bit register as a LO/HI pair: LO first (it latches HI). */
uint64_t ht_read64(struct hw_device *dev, uint32_t lo);
uint32_t ht_fault_cause(struct hw_device *dev);
uint64_t ht_fault_addr(struct hw_device *dev);
uint32_t ht_irq_status(struct hw_device *dev);

/* VRAM through BAR2 (asserting success) and deterministic byte patterns. */
void ht_pattern(void *buf, size_t len, uint32_t seed);
void ht_vram_write(struct hw_device *dev, uint64_t off, const void *buf, size_t len);
void ht_vram_read(struct hw_device *dev, uint64_t off, void *buf, size_t len);
void ht_vram_fill_pattern(struct hw_device *dev, uint64_t off, size_t len, uint32_t seed);
/* The same through hw_debug_vram: set-up of VRAM above the visible window. */
void ht_debug_fill_pattern(struct hw_device *dev, uint64_t off, size_t len, uint32_t seed);
/* True when VRAM [off, off+len) holds the pattern of seed (read with hw_debug_vram, so
 * it works above the visible window too). */
bool ht_vram_has_pattern(struct hw_device *dev, uint64_t off, size_t len, uint32_t seed);
/* True when every byte of VRAM [off, off+len) equals value. */
bool ht_vram_is(struct hw_device *dev, uint64_t off, size_t len, uint8_t value);
void ht_vram_write32(struct hw_device *dev, uint64_t off, uint32_t value);
uint32_t ht_vram_read32(struct hw_device *dev, uint64_t off);
uint64_t ht_vram_read64(struct hw_device *dev, uint64_t off);

/* ---- rings --------------------------------------------------------------- */

struct ht_ring {
	struct hw_device *dev;
	unsigned id;
	uint64_t base;  /* VRAM offset (= GPU address) of the ring memory */
	uint32_t size;  /* bytes */
	uint32_t wptr;  /* where the next dword goes; submitted by ht_submit */
};

/* Program BASE, SIZE (resets RPTR/WPTR) and CTRL = ENABLE | extra_ctrl. */
void ht_ring_init(struct ht_ring *r, struct hw_device *dev, unsigned id, uint64_t base,
		  uint32_t size, uint32_t extra_ctrl);
uint32_t ht_ring_reg(const struct ht_ring *r, uint32_t reg);
void ht_ring_write_reg(const struct ht_ring *r, uint32_t reg, uint32_t value);
/* GPU address of the ring byte at offset off (a header's FAULT_ADDR). */
uint64_t ht_ring_addr(const struct ht_ring *r, uint32_t off);
/* Disable then re-enable with ctrl: how software restarts a stopped ring. */
void ht_ring_restart(const struct ht_ring *r, uint32_t ctrl);

/* Write n dwords at the software write pointer (wrapping at the end of the ring) and
 * return the byte offset of the first one. Asserts the ring does not overflow. */
uint32_t ht_emit(struct ht_ring *r, const uint32_t *dw, unsigned n);
/* WPTR then DOORBELL. */
void ht_submit(struct ht_ring *r);

/* One emitter per opcode; each returns the ring offset of the packet header. */
uint32_t ht_nop(struct ht_ring *r, unsigned count);
uint32_t ht_write_data(struct ht_ring *r, uint64_t addr, const uint32_t *data, unsigned n);
uint32_t ht_copy(struct ht_ring *r, uint64_t src, uint64_t dst, uint64_t bytes);
uint32_t ht_fill(struct ht_ring *r, uint64_t dst, uint64_t bytes, uint32_t value);
uint32_t ht_checksum(struct ht_ring *r, uint64_t src, uint64_t bytes, uint64_t dst);
uint32_t ht_fence(struct ht_ring *r, uint64_t addr, uint64_t value, uint32_t flags);
uint32_t ht_wait(struct ht_ring *r, uint64_t addr, uint64_t value);

uint64_t ht_run(struct hw_device *dev); /* hw_run_idle */

/* ---- GART ---------------------------------------------------------------- */

/* Zero the table at VRAM offset table, point GART_TABLE at it, write GART_CTRL. */
void ht_gart_init(struct hw_device *dev, uint64_t table, uint32_t ctrl);
void ht_gart_set(struct hw_device *dev, uint64_t table, uint64_t page, uint64_t entry);
/* Entry VALID|READ|WRITE for pfn. */
void ht_gart_map(struct hw_device *dev, uint64_t table, uint64_t page, uint64_t pfn);
void ht_tlb_invalidate(struct hw_device *dev, uint32_t page);
/* GPU address of aperture page `page`. */
uint64_t ht_gart_addr(struct hw_device *dev, uint64_t page);

/* ---- system memory ------------------------------------------------------- */

uint64_t ht_sysmem_alloc(struct hw_device *dev);
uint8_t *ht_page(struct hw_device *dev, uint64_t pfn);

#endif
