/*
 * The packet set: NOP, WRITE_DATA, COPY, FILL, CHECKSUM, FENCE and WAIT (see
 * hw/REGISTERS.md). Each handler validates its memory first, then moves bytes
 * chunk by chunk through the address map, then reports its cost.
 */
#include <config.h>

#include <string.h>
#include <zlib.h>

#include "hw/hw_internal.h"
#include "hw/addrmap.h"
#include "hw/clock.h"
#include "hw/packets.h"

struct pkt {
	struct hw_device *dev;
	unsigned ring;
	uint32_t header;
	uint32_t count;
	uint64_t header_addr;
	struct hw_pkt_result *res;
};

static uint64_t ring_addr(const struct hw_ring *r, uint32_t dword)
{
	return r->base + (uint64_t)((r->rptr + 4ull * dword) % r->size);
}

static uint32_t ring_avail_dwords(const struct hw_ring *r)
{
	return (uint32_t)(((uint64_t)r->fetch_wptr + r->size - r->rptr) % r->size) / 4;
}

static bool fault(struct pkt *p, uint32_t cause, uint64_t addr)
{
	p->res->cause = cause;
	p->res->fault_addr = addr;
	return false;
}

/* Read body dword i (0-based, after the header). */
static bool body(struct pkt *p, uint32_t i, uint32_t *out)
{
	struct hw_ring *r = &p->dev->rings[p->ring];
	struct hw_access_fault f;
	uint64_t a = ring_addr(r, 1 + i);
	if (hw_addrmap_check(p->dev, a, 4, false, &f))
		return fault(p, f.cause, f.addr);
	hw_addrmap_read(p->dev, a, out, 4);
	return true;
}

static bool body64(struct pkt *p, uint32_t i, uint64_t *out)
{
	uint32_t lo, hi;
	if (!body(p, i, &lo) || !body(p, i + 1, &hi))
		return false;
	*out = (uint64_t)hi << 32 | lo;
	return true;
}

static bool check(struct pkt *p, uint64_t addr, uint64_t len, bool write)
{
	struct hw_access_fault f;
	if (hw_addrmap_check(p->dev, addr, len, write, &f))
		return fault(p, f.cause, f.addr);
	return true;
}

static bool want_count(struct pkt *p, uint32_t n)
{
	if (p->count != n)
		return fault(p, HW_FAULT_BAD_PACKET, p->header_addr);
	return true;
}

static bool do_write_data(struct pkt *p)
{
	uint64_t dst;
	if (p->count < 3)
		return fault(p, HW_FAULT_BAD_PACKET, p->header_addr);
	uint32_t n = p->count - 2;
	if (!body64(p, 0, &dst) || !check(p, dst, 4ull * n, true))
		return false;
	/* Fetch all the data before storing any, so a fetch fault has no effect. */
	struct hw_ring *r = &p->dev->rings[p->ring];
	for (uint32_t i = 0; i < n; i++)
		if (!check(p, ring_addr(r, 3 + i), 4, false))
			return false;
	for (uint32_t i = 0; i < n; i++) {
		uint32_t v;
		hw_addrmap_read(p->dev, ring_addr(r, 3 + i), &v, 4);
		hw_addrmap_write(p->dev, dst + 4ull * i, &v, 4);
	}
	p->res->cost = hw_clock_cost(p->dev, 4ull * n, hw_addrmap_in_gart(p->dev, dst, 4ull * n));
	return true;
}

static bool do_copy(struct pkt *p)
{
	uint64_t src, dst, bytes;
	if (!want_count(p, 6) || !body64(p, 0, &src) || !body64(p, 2, &dst) || !body64(p, 4, &bytes))
		return false;
	if (!check(p, src, bytes, false) || !check(p, dst, bytes, true))
		return false;
	struct hw_device *dev = p->dev;
	uint64_t left = bytes, s = src, d = dst;
	while (left) {
		uint8_t *hs, *hd;
		uint64_t ns, nd, fa;
		hw_addrmap_chunk(dev, s, left, false, &hs, &ns, &fa);
		hw_addrmap_chunk(dev, d, left, true, &hd, &nd, &fa);
		uint64_t n = ns < nd ? ns : nd;
		memmove(hd, hs, n);
		s += n;
		d += n;
		left -= n;
	}
	dev->stats.bytes_copied += bytes;
	bool pcie = hw_addrmap_in_gart(dev, src, bytes) || hw_addrmap_in_gart(dev, dst, bytes);
	p->res->cost = hw_clock_cost(dev, bytes, pcie);
	return true;
}

static bool do_fill(struct pkt *p)
{
	uint64_t dst, bytes;
	uint32_t value;
	if (!want_count(p, 5) || !body64(p, 0, &dst) || !body64(p, 2, &bytes) || !body(p, 4, &value))
		return false;
	if (bytes % 4)
		return fault(p, HW_FAULT_BAD_PACKET, p->header_addr);
	if (!check(p, dst, bytes, true))
		return false;
	uint8_t pat[4];
	memcpy(pat, &value, 4);
	bool uniform = pat[0] == pat[1] && pat[1] == pat[2] && pat[2] == pat[3];
	uint64_t left = bytes, d = dst, phase = 0;
	while (left) {
		uint8_t *h;
		uint64_t n, fa;
		hw_addrmap_chunk(p->dev, d, left, true, &h, &n, &fa);
		if (uniform) {
			memset(h, pat[0], n);
		} else {
			uint64_t i = 0;
			for (; i < n && (phase + i) % 4; i++)
				h[i] = pat[(phase + i) % 4];
			for (; i + 4 <= n; i += 4)
				memcpy(h + i, pat, 4);
			for (; i < n; i++)
				h[i] = pat[(phase + i) % 4];
		}
		phase += n;
		d += n;
		left -= n;
	}
	p->dev->stats.bytes_filled += bytes;
	p->res->cost = hw_clock_cost(p->dev, bytes, hw_addrmap_in_gart(p->dev, dst, bytes));
	return true;
}

static bool do_checksum(struct pkt *p)
{
	uint64_t src, bytes, dst;
	if (!want_count(p, 6) || !body64(p, 0, &src) || !body64(p, 2, &bytes) || !body64(p, 4, &dst))
		return false;
	if (!check(p, src, bytes, false) || !check(p, dst, 4, true))
		return false;
	uLong crc = crc32(0L, Z_NULL, 0);
	uint64_t left = bytes, s = src;
	while (left) {
		uint8_t *h;
		uint64_t n, fa;
		hw_addrmap_chunk(p->dev, s, left, false, &h, &n, &fa);
		for (uint64_t done = 0; done < n;) {
			uint64_t piece = n - done > (1u << 30) ? (1u << 30) : n - done;
			crc = crc32(crc, h + done, (uInt)piece);
			done += piece;
		}
		s += n;
		left -= n;
	}
	uint32_t out = (uint32_t)crc;
	hw_addrmap_write(p->dev, dst, &out, 4);
	p->dev->stats.bytes_checksummed += bytes;
	p->res->cost = hw_clock_cost(p->dev, bytes, hw_addrmap_in_gart(p->dev, src, bytes));
	return true;
}

static bool do_fence(struct pkt *p)
{
	uint64_t addr, value;
	if (!want_count(p, 4) || !body64(p, 0, &addr) || !body64(p, 2, &value))
		return false;
	if (!check(p, addr, 8, true))
		return false;
	hw_addrmap_write(p->dev, addr, &value, 8);
	p->dev->rings[p->ring].fence = value;
	p->res->cost = p->dev->cfg.packet_overhead_ns;
	if (HW_PKT_FLAGS(p->header) & HW_PKT_FENCE_IRQ)
		hw_irq_raise(p->dev, HW_IRQ_FENCE(p->ring));
	return true;
}

static bool do_wait(struct pkt *p)
{
	uint64_t addr, value, cur;
	if (!want_count(p, 4) || !body64(p, 0, &addr) || !body64(p, 2, &value))
		return false;
	if (!check(p, addr, 8, false))
		return false;
	hw_addrmap_read(p->dev, addr, &cur, 8);
	if (cur < value) {
		p->res->blocked = true;
		return false;
	}
	p->res->cost = p->dev->cfg.packet_overhead_ns;
	return true;
}

void hw_packet_execute(struct hw_device *dev, unsigned ring, struct hw_pkt_result *res)
{
	struct hw_ring *r = &dev->rings[ring];
	memset(res, 0, sizeof(*res));
	struct pkt p = { .dev = dev, .ring = ring, .res = res, .header_addr = ring_addr(r, 0) };
	if (!check(&p, p.header_addr, 4, false))
		return;
	hw_addrmap_read(dev, p.header_addr, &p.header, 4);
	p.count = HW_PKT_COUNT(p.header);
	res->dwords = 1 + p.count;
	if (p.count + 1 > ring_avail_dwords(r) || 4ull * (p.count + 1) > r->size) {
		fault(&p, HW_FAULT_BAD_PACKET, p.header_addr);
		return;
	}
	if (dev->dma_error_pending) {
		dev->dma_error_pending = false;
		fault(&p, HW_FAULT_DMA, p.header_addr);
		return;
	}
	bool ok;
	switch (HW_PKT_OPCODE(p.header)) {
	case HW_PKT_NOP:
		res->cost = dev->cfg.packet_overhead_ns;
		ok = true;
		break;
	case HW_PKT_WRITE_DATA: ok = do_write_data(&p); break;
	case HW_PKT_COPY: ok = do_copy(&p); break;
	case HW_PKT_FILL: ok = do_fill(&p); break;
	case HW_PKT_CHECKSUM: ok = do_checksum(&p); break;
	case HW_PKT_FENCE: ok = do_fence(&p); break;
	case HW_PKT_WAIT: ok = do_wait(&p); break;
	default: ok = fault(&p, HW_FAULT_BAD_PACKET, p.header_addr); break;
	}
	(void)ok;
	if (res->cause || res->blocked)
		res->cost = dev->cfg.packet_overhead_ns;
}

/* Would the WAIT at the ring's read pointer pass now? Asked by the scheduler, so
 * it must not change what it observes: no TLB fills, no statistics. */
static bool wait_ready(struct hw_device *dev, unsigned ring)
{
	struct hw_ring *r = &dev->rings[ring];
	uint32_t d[5];
	struct hw_access_fault f;
	for (uint32_t i = 0; i < 5; i++) {
		uint64_t a = ring_addr(r, i);
		if (hw_addrmap_check(dev, a, 4, false, &f))
			return true; /* let execution report the fault */
		hw_addrmap_read(dev, a, &d[i], 4);
	}
	uint64_t addr = (uint64_t)d[2] << 32 | d[1], value = (uint64_t)d[4] << 32 | d[3], cur;
	if (hw_addrmap_check(dev, addr, 8, false, &f))
		return true;
	hw_addrmap_read(dev, addr, &cur, 8);
	return cur >= value;
}

bool hw_packet_wait_ready(struct hw_device *dev, unsigned ring)
{
	bool was = dev->peeking;
	dev->peeking = true;
	bool ready = wait_ready(dev, ring);
	dev->peeking = was;
	return ready;
}
