/*
 * The driver-side toolkit of the hw/ tests (see helpers.h): everything goes through
 * the public interface, BAR0 registers and BAR2, as a driver would reach the device.
 */
#include "tests/hw/helpers.h"

#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

int ht_config_parse(struct hw_config *cfg, const char *text)
{
	char *copy = strdup(text);
	char *save = NULL;
	int rc = 0;

	ck_assert_ptr_nonnull(copy);
	for (char *item = strtok_r(copy, ",", &save); item && rc == 0;
	     item = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(item, '=');
		if (!eq) {
			rc = -EINVAL;
			break;
		}
		*eq = '\0';
		rc = hw_config_set(cfg, item, eq + 1);
	}
	free(copy);
	return rc;
}

struct hw_device *ht_device(const char *text)
{
	struct hw_config cfg;
	struct hw_device *dev = NULL;

	hw_config_default(&cfg);
	ck_assert_int_eq(ht_config_parse(&cfg, text), 0);
	ck_assert_int_eq(hw_device_create(&cfg, &dev), 0);
	ck_assert_ptr_nonnull(dev);
	return dev;
}

uint64_t ht_read64(struct hw_device *dev, uint32_t lo)
{
	uint64_t low = hw_mmio_read(dev, lo);
	uint64_t high = hw_mmio_read(dev, lo + 4);
	return high << 32 | low;
}

uint32_t ht_fault_cause(struct hw_device *dev)
{
	return hw_mmio_read(dev, HW_REG_FAULT_CAUSE);
}

uint64_t ht_fault_addr(struct hw_device *dev)
{
	return ht_read64(dev, HW_REG_FAULT_ADDR_LO);
}

uint32_t ht_irq_status(struct hw_device *dev)
{
	return hw_mmio_read(dev, HW_REG_IRQ_STATUS);
}

void ht_pattern(void *buf, size_t len, uint32_t seed)
{
	uint8_t *p = buf;
	uint32_t x = seed * 2654435761u + 0x9e3779b9u;

	for (size_t i = 0; i < len; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		p[i] = (uint8_t)(x >> 24);
	}
}

void ht_vram_write(struct hw_device *dev, uint64_t off, const void *buf, size_t len)
{
	ck_assert_int_eq(hw_bar2_write(dev, off, buf, len), 0);
}

void ht_vram_read(struct hw_device *dev, uint64_t off, void *buf, size_t len)
{
	ck_assert_int_eq(hw_bar2_read(dev, off, buf, len), 0);
}

void ht_vram_fill_pattern(struct hw_device *dev, uint64_t off, size_t len, uint32_t seed)
{
	uint8_t *buf = malloc(len);

	ck_assert_ptr_nonnull(buf);
	ht_pattern(buf, len, seed);
	ht_vram_write(dev, off, buf, len);
	free(buf);
}

void ht_debug_fill_pattern(struct hw_device *dev, uint64_t off, size_t len, uint32_t seed)
{
	void *vram = hw_debug_vram(dev, off, len);

	ck_assert_ptr_nonnull(vram);
	ht_pattern(vram, len, seed);
}

bool ht_vram_has_pattern(struct hw_device *dev, uint64_t off, size_t len, uint32_t seed)
{
	const uint8_t *vram = hw_debug_vram(dev, off, len);
	uint8_t *want = malloc(len);
	bool same;

	ck_assert_ptr_nonnull(vram);
	ck_assert_ptr_nonnull(want);
	ht_pattern(want, len, seed);
	same = memcmp(vram, want, len) == 0;
	free(want);
	return same;
}

bool ht_vram_is(struct hw_device *dev, uint64_t off, size_t len, uint8_t value)
{
	const uint8_t *vram = hw_debug_vram(dev, off, len);

	ck_assert_ptr_nonnull(vram);
	for (size_t i = 0; i < len; i++)
		if (vram[i] != value)
			return false;
	return true;
}

void ht_vram_write32(struct hw_device *dev, uint64_t off, uint32_t value)
{
	uint8_t b[4] = { (uint8_t)value, (uint8_t)(value >> 8), (uint8_t)(value >> 16),
			 (uint8_t)(value >> 24) };
	ht_vram_write(dev, off, b, sizeof b);
}

static uint64_t le_load(const uint8_t *b, unsigned n)
{
	uint64_t v = 0;

	for (unsigned i = n; i-- > 0;)
		v = v << 8 | b[i];
	return v;
}

uint32_t ht_vram_read32(struct hw_device *dev, uint64_t off)
{
	const uint8_t *p = hw_debug_vram(dev, off, 4);

	ck_assert_ptr_nonnull(p);
	return (uint32_t)le_load(p, 4);
}

uint64_t ht_vram_read64(struct hw_device *dev, uint64_t off)
{
	const uint8_t *p = hw_debug_vram(dev, off, 8);

	ck_assert_ptr_nonnull(p);
	return le_load(p, 8);
}

/* ---- rings --------------------------------------------------------------- */

uint32_t ht_ring_reg(const struct ht_ring *r, uint32_t reg)
{
	return hw_mmio_read(r->dev, HW_REG_RING(r->id, reg));
}

void ht_ring_write_reg(const struct ht_ring *r, uint32_t reg, uint32_t value)
{
	hw_mmio_write(r->dev, HW_REG_RING(r->id, reg), value);
}

void ht_ring_init(struct ht_ring *r, struct hw_device *dev, unsigned id, uint64_t base,
		  uint32_t size, uint32_t extra_ctrl)
{
	ck_assert_uint_lt(id, HW_NUM_RINGS);
	r->dev = dev;
	r->id = id;
	r->base = base;
	r->size = size;
	r->wptr = 0;
	ht_ring_write_reg(r, HW_RING_BASE_LO, (uint32_t)base);
	ht_ring_write_reg(r, HW_RING_BASE_HI, (uint32_t)(base >> 32));
	ht_ring_write_reg(r, HW_RING_SIZE, size);
	ht_ring_write_reg(r, HW_RING_CTRL, HW_RING_CTRL_ENABLE | extra_ctrl);
}

uint64_t ht_ring_addr(const struct ht_ring *r, uint32_t off)
{
	return r->base + off;
}

void ht_ring_restart(const struct ht_ring *r, uint32_t ctrl)
{
	ht_ring_write_reg(r, HW_RING_CTRL, 0);
	ht_ring_write_reg(r, HW_RING_CTRL, ctrl);
}

uint32_t ht_emit(struct ht_ring *r, const uint32_t *dw, unsigned n)
{
	uint32_t start = r->wptr;
	uint32_t rptr = ht_ring_reg(r, HW_RING_RPTR);
	uint32_t used = (r->wptr + r->size - rptr) % r->size;

	/* A test that writes more than the ring holds has a bug of its own. */
	ck_assert_uint_lt(used + 4u * n, r->size);
	for (unsigned i = 0; i < n; i++) {
		uint8_t b[4] = { (uint8_t)dw[i], (uint8_t)(dw[i] >> 8), (uint8_t)(dw[i] >> 16),
				 (uint8_t)(dw[i] >> 24) };
		ht_vram_write(r->dev, r->base + r->wptr, b, 4);
		r->wptr = (r->wptr + 4) % r->size;
	}
	return start;
}

void ht_submit(struct ht_ring *r)
{
	ht_ring_write_reg(r, HW_RING_WPTR, r->wptr);
	ht_ring_write_reg(r, HW_RING_DOORBELL, 1);
}

#define LO(x) ((uint32_t)(uint64_t)(x))
#define HI(x) ((uint32_t)((uint64_t)(x) >> 32))

uint32_t ht_nop(struct ht_ring *r, unsigned count)
{
	uint32_t pkt[1 + 64] = { HW_PKT_HEADER(HW_PKT_NOP, 0, count) };

	ck_assert_uint_le(count, 64);
	for (unsigned i = 1; i <= count; i++)
		pkt[i] = 0xdead0000u | i;
	return ht_emit(r, pkt, 1 + count);
}

uint32_t ht_write_data(struct ht_ring *r, uint64_t addr, const uint32_t *data, unsigned n)
{
	uint32_t pkt[3 + 64] = { HW_PKT_HEADER(HW_PKT_WRITE_DATA, 0, 2 + n), LO(addr), HI(addr) };

	ck_assert_uint_le(n, 64);
	memcpy(pkt + 3, data, n * sizeof *data);
	return ht_emit(r, pkt, 3 + n);
}

uint32_t ht_copy(struct ht_ring *r, uint64_t src, uint64_t dst, uint64_t bytes)
{
	const uint32_t pkt[] = { HW_PKT_HEADER(HW_PKT_COPY, 0, 6), LO(src), HI(src),
				 LO(dst), HI(dst), LO(bytes), HI(bytes) };
	return ht_emit(r, pkt, 7);
}

uint32_t ht_fill(struct ht_ring *r, uint64_t dst, uint64_t bytes, uint32_t value)
{
	const uint32_t pkt[] = { HW_PKT_HEADER(HW_PKT_FILL, 0, 5), LO(dst), HI(dst),
				 LO(bytes), HI(bytes), value };
	return ht_emit(r, pkt, 6);
}

uint32_t ht_checksum(struct ht_ring *r, uint64_t src, uint64_t bytes, uint64_t dst)
{
	const uint32_t pkt[] = { HW_PKT_HEADER(HW_PKT_CHECKSUM, 0, 6), LO(src), HI(src),
				 LO(bytes), HI(bytes), LO(dst), HI(dst) };
	return ht_emit(r, pkt, 7);
}

uint32_t ht_fence(struct ht_ring *r, uint64_t addr, uint64_t value, uint32_t flags)
{
	const uint32_t pkt[] = { HW_PKT_HEADER(HW_PKT_FENCE, flags, 4), LO(addr), HI(addr),
				 LO(value), HI(value) };
	return ht_emit(r, pkt, 5);
}

uint32_t ht_wait(struct ht_ring *r, uint64_t addr, uint64_t value)
{
	const uint32_t pkt[] = { HW_PKT_HEADER(HW_PKT_WAIT, 0, 4), LO(addr), HI(addr),
				 LO(value), HI(value) };
	return ht_emit(r, pkt, 5);
}

uint64_t ht_run(struct hw_device *dev)
{
	return hw_run_idle(dev);
}

/* ---- GART ---------------------------------------------------------------- */

void ht_gart_init(struct hw_device *dev, uint64_t table, uint32_t ctrl)
{
	uint64_t bytes = hw_device_config(dev)->gart / HW_PAGE_SIZE * 8;
	uint8_t *zero = calloc(1, bytes ? bytes : 1);

	ck_assert_ptr_nonnull(zero);
	ht_vram_write(dev, table, zero, bytes);
	free(zero);
	hw_mmio_write(dev, HW_REG_GART_TABLE_LO, (uint32_t)table);
	hw_mmio_write(dev, HW_REG_GART_TABLE_HI, (uint32_t)(table >> 32));
	hw_mmio_write(dev, HW_REG_GART_CTRL, ctrl);
	hw_mmio_write(dev, HW_REG_TLB_INVALIDATE, HW_TLB_INVALIDATE_ALL);
}

void ht_gart_set(struct hw_device *dev, uint64_t table, uint64_t page, uint64_t entry)
{
	uint8_t b[8];

	for (unsigned i = 0; i < 8; i++)
		b[i] = (uint8_t)(entry >> (8 * i));
	ht_vram_write(dev, table + 8 * page, b, sizeof b);
}

void ht_gart_map(struct hw_device *dev, uint64_t table, uint64_t page, uint64_t pfn)
{
	ht_gart_set(dev, table, page,
		    HW_GART_ENTRY(pfn, HW_GART_VALID | HW_GART_READ | HW_GART_WRITE));
}

void ht_tlb_invalidate(struct hw_device *dev, uint32_t page)
{
	hw_mmio_write(dev, HW_REG_TLB_INVALIDATE, page);
}

uint64_t ht_gart_addr(struct hw_device *dev, uint64_t page)
{
	return hw_device_config(dev)->gart_base + page * HW_PAGE_SIZE;
}

/* ---- system memory ------------------------------------------------------- */

uint64_t ht_sysmem_alloc(struct hw_device *dev)
{
	uint64_t pfn = UINT64_MAX;

	ck_assert_int_eq(hw_sysmem_alloc(dev, &pfn), 0);
	ck_assert_uint_lt(pfn, hw_sysmem_pages_total(dev));
	return pfn;
}

uint8_t *ht_page(struct hw_device *dev, uint64_t pfn)
{
	uint8_t *p = hw_sysmem_page(dev, pfn);

	ck_assert_ptr_nonnull(p);
	return p;
}
