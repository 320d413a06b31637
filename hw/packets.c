/*
 * The packet set: NOP, WRITE_DATA, COPY, FILL, CHECKSUM, FENCE, WAIT, SET_VM and
 * TLB_INVALIDATE (see hw/REGISTERS.md). Each handler validates its memory first, then
 * moves bytes chunk by chunk, through the address map (physical addresses) or
 * through spans the GPU MMU resolved (a ring in VA mode), then reports its cost.
 */
#include <config.h>

#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "hw/hw_internal.h"
#include "hw/addrmap.h"
#include "hw/clock.h"
#include "hw/mmu.h"
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

static bool vm(const struct pkt *p)
{
	return hw_mmu_enabled(p->dev, p->ring);
}

/* The VA-mode check: resolve a virtual range into span `slot`, or fault on it. */
static bool resolve(struct pkt *p, unsigned slot, uint64_t va, uint64_t len, bool write)
{
	uint64_t fa;
	uint32_t cause = hw_mmu_resolve(p->dev, p->ring, va, len, write, &p->dev->mmu.span[slot], &fa);
	if (!cause)
		return true;
	p->res->vm_fault = true;
	p->res->fault_write = write;
	return fault(p, cause, fa);
}

/* A position in a resolved span. */
struct cursor {
	const struct hw_mmu_span *s;
	size_t i;
	uint64_t off;
};

/* Bytes from the cursor to the end of its run, and where they are. */
static uint64_t cur_chunk(const struct cursor *c, uint8_t **h)
{
	*h = c->s->run[c->i].host + c->off;
	return c->s->run[c->i].len - c->off;
}

static void cur_advance(struct cursor *c, uint64_t n)
{
	c->off += n;
	if (c->off == c->s->run[c->i].len) {
		c->i++;
		c->off = 0;
	}
}

static void cur_put(struct cursor *c, const void *buf, uint64_t len)
{
	const uint8_t *in = buf;
	while (len) {
		uint8_t *h;
		uint64_t n = cur_chunk(c, &h);
		if (n > len)
			n = len;
		memcpy(h, in, n);
		in += n;
		len -= n;
		cur_advance(c, n);
	}
}

static void cur_get(struct cursor *c, void *buf, uint64_t len)
{
	uint8_t *out = buf;
	while (len) {
		uint8_t *h;
		uint64_t n = cur_chunk(c, &h);
		if (n > len)
			n = len;
		memcpy(out, h, n);
		out += n;
		len -= n;
		cur_advance(c, n);
	}
}

/* The host interval a span's runs lie in. */
static void span_bounds(const struct hw_mmu_span *s, uintptr_t *lo, uintptr_t *hi)
{
	*lo = UINTPTR_MAX;
	*hi = 0;
	for (size_t i = 0; i < s->n; i++) {
		uintptr_t a = (uintptr_t)s->run[i].host, b = a + s->run[i].len;
		if (a < *lo)
			*lo = a;
		if (b > *hi)
			*hi = b;
	}
}

/* COPY between resolved spans, as if the whole source were read before the
 * destination is written (so aliasing through page tables is overlap-safe too). */
static void span_copy(const struct hw_mmu_span *d, const struct hw_mmu_span *s, uint64_t bytes)
{
	if (!bytes)
		return;
	if (d->n == 1 && s->n == 1) {
		memmove(d->run[0].host, s->run[0].host, bytes);
		return;
	}
	uintptr_t slo, shi, dlo, dhi;
	span_bounds(s, &slo, &shi);
	span_bounds(d, &dlo, &dhi);
	struct cursor cs = { s, 0, 0 }, cd = { d, 0, 0 };
	if (slo < dhi && dlo < shi) {
		uint8_t *bounce = malloc(bytes);
		if (bounce) {
			cur_get(&cs, bounce, bytes);
			cur_put(&cd, bounce, bytes);
			free(bounce);
			return;
		}
		/* No host memory for the bounce: fall through, run by run. */
	}
	while (bytes) {
		uint8_t *hs, *hd;
		uint64_t ns = cur_chunk(&cs, &hs), nd = cur_chunk(&cd, &hd);
		uint64_t n = ns < nd ? ns : nd;
		if (n > bytes)
			n = bytes;
		memmove(hd, hs, n);
		cur_advance(&cs, n);
		cur_advance(&cd, n);
		bytes -= n;
	}
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
	if (!body64(p, 0, &dst))
		return false;
	if (vm(p) ? !resolve(p, 1, dst, 4ull * n, true) : !check(p, dst, 4ull * n, true))
		return false;
	/* Fetch all the data before storing any, so a fetch fault has no effect. */
	struct hw_ring *r = &p->dev->rings[p->ring];
	for (uint32_t i = 0; i < n; i++)
		if (!check(p, ring_addr(r, 3 + i), 4, false))
			return false;
	if (vm(p)) {
		struct cursor c = { &p->dev->mmu.span[1], 0, 0 };
		for (uint32_t i = 0; i < n; i++) {
			uint32_t v;
			hw_addrmap_read(p->dev, ring_addr(r, 3 + i), &v, 4);
			cur_put(&c, &v, 4);
		}
		p->res->cost = hw_clock_cost(p->dev, 4ull * n, p->dev->mmu.span[1].sys);
		return true;
	}
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
	struct hw_device *dev = p->dev;
	if (vm(p)) {
		if (!resolve(p, 0, src, bytes, false) || !resolve(p, 1, dst, bytes, true))
			return false;
		span_copy(&dev->mmu.span[1], &dev->mmu.span[0], bytes);
		dev->stats.bytes_copied += bytes;
		p->res->cost = hw_clock_cost(dev, bytes, dev->mmu.span[0].sys || dev->mmu.span[1].sys);
		return true;
	}
	if (!check(p, src, bytes, false) || !check(p, dst, bytes, true))
		return false;
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

/* n bytes of the repeated 4-byte pattern at h, `phase` bytes into the fill. */
static void fill_chunk(uint8_t *h, uint64_t n, const uint8_t pat[4], bool uniform, uint64_t phase)
{
	if (uniform) {
		memset(h, pat[0], n);
		return;
	}
	uint64_t i = 0;
	for (; i < n && (phase + i) % 4; i++)
		h[i] = pat[(phase + i) % 4];
	for (; i + 4 <= n; i += 4)
		memcpy(h + i, pat, 4);
	for (; i < n; i++)
		h[i] = pat[(phase + i) % 4];
}

static bool do_fill(struct pkt *p)
{
	uint64_t dst, bytes;
	uint32_t value;
	if (!want_count(p, 5) || !body64(p, 0, &dst) || !body64(p, 2, &bytes) || !body(p, 4, &value))
		return false;
	if (bytes % 4)
		return fault(p, HW_FAULT_BAD_PACKET, p->header_addr);
	if (vm(p) ? !resolve(p, 1, dst, bytes, true) : !check(p, dst, bytes, true))
		return false;
	uint8_t pat[4];
	memcpy(pat, &value, 4);
	bool uniform = pat[0] == pat[1] && pat[1] == pat[2] && pat[2] == pat[3];
	if (vm(p)) {
		const struct hw_mmu_span *sp = &p->dev->mmu.span[1];
		uint64_t phase = 0;
		for (size_t i = 0; i < sp->n; i++) {
			fill_chunk(sp->run[i].host, sp->run[i].len, pat, uniform, phase);
			phase += sp->run[i].len;
		}
		p->dev->stats.bytes_filled += bytes;
		p->res->cost = hw_clock_cost(p->dev, bytes, sp->sys);
		return true;
	}
	uint64_t left = bytes, d = dst, phase = 0;
	while (left) {
		uint8_t *h;
		uint64_t n, fa;
		hw_addrmap_chunk(p->dev, d, left, true, &h, &n, &fa);
		fill_chunk(h, n, pat, uniform, phase);
		phase += n;
		d += n;
		left -= n;
	}
	p->dev->stats.bytes_filled += bytes;
	p->res->cost = hw_clock_cost(p->dev, bytes, hw_addrmap_in_gart(p->dev, dst, bytes));
	return true;
}

static uLong crc_chunk(uLong crc, const uint8_t *h, uint64_t n)
{
	for (uint64_t done = 0; done < n;) {
		uint64_t piece = n - done > (1u << 30) ? (1u << 30) : n - done;
		crc = crc32(crc, h + done, (uInt)piece);
		done += piece;
	}
	return crc;
}

static bool do_checksum(struct pkt *p)
{
	uint64_t src, bytes, dst;
	if (!want_count(p, 6) || !body64(p, 0, &src) || !body64(p, 2, &bytes) || !body64(p, 4, &dst))
		return false;
	uLong crc = crc32(0L, Z_NULL, 0);
	if (vm(p)) {
		struct hw_mmu *m = &p->dev->mmu;
		if (!resolve(p, 0, src, bytes, false) || !resolve(p, 1, dst, 4, true))
			return false;
		for (size_t i = 0; i < m->span[0].n; i++)
			crc = crc_chunk(crc, m->span[0].run[i].host, m->span[0].run[i].len);
		uint32_t out = (uint32_t)crc;
		struct cursor c = { &m->span[1], 0, 0 };
		cur_put(&c, &out, 4);
		p->dev->stats.bytes_checksummed += bytes;
		p->res->cost = hw_clock_cost(p->dev, bytes, m->span[0].sys);
		return true;
	}
	if (!check(p, src, bytes, false) || !check(p, dst, 4, true))
		return false;
	uint64_t left = bytes, s = src;
	while (left) {
		uint8_t *h;
		uint64_t n, fa;
		hw_addrmap_chunk(p->dev, s, left, false, &h, &n, &fa);
		crc = crc_chunk(crc, h, n);
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
	/* A kernel's own fence page needs no mapping in every address space. */
	if (vm(p) && !(HW_PKT_FLAGS(p->header) & HW_PKT_FENCE_PHYS)) {
		if (!resolve(p, 1, addr, 8, true))
			return false;
		struct cursor c = { &p->dev->mmu.span[1], 0, 0 };
		cur_put(&c, &value, 8);
	} else {
		if (!check(p, addr, 8, true))
			return false;
		hw_addrmap_write(p->dev, addr, &value, 8);
	}
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
	if (vm(p)) {
		if (!resolve(p, 0, addr, 8, false))
			return false;
		struct cursor c = { &p->dev->mmu.span[0], 0, 0 };
		cur_get(&c, &cur, 8);
	} else {
		if (!check(p, addr, 8, false))
			return false;
		hw_addrmap_read(p->dev, addr, &cur, 8);
	}
	if (cur < value) {
		p->res->blocked = true;
		return false;
	}
	p->res->cost = p->dev->cfg.packet_overhead_ns;
	return true;
}

static bool do_set_vm(struct pkt *p)
{
	uint64_t root;
	uint32_t asid, ctrl;
	if (!want_count(p, 4) || !body64(p, 0, &root) || !body(p, 2, &asid) || !body(p, 3, &ctrl))
		return false;
	hw_mmu_set_context(p->dev, p->ring, root, asid, ctrl);
	p->res->cost = p->dev->cfg.packet_overhead_ns;
	return true;
}

static bool do_tlb_invalidate(struct pkt *p)
{
	uint64_t va;
	uint32_t asid, pages;
	if (!want_count(p, 4) || !body(p, 0, &asid) || !body64(p, 1, &va) || !body(p, 3, &pages))
		return false;
	/* Every engine: the page tables a context uses are shared by all its rings. */
	hw_mmu_invalidate(p->dev, HW_NUM_RINGS, HW_PKT_FLAGS(p->header), asid, va, pages);
	p->res->cost = p->dev->cfg.packet_overhead_ns;
	return true;
}

static bool known_opcode(uint32_t op)
{
	switch (op) {
	case HW_PKT_NOP: case HW_PKT_WRITE_DATA: case HW_PKT_COPY: case HW_PKT_FILL:
	case HW_PKT_CHECKSUM: case HW_PKT_FENCE: case HW_PKT_WAIT: case HW_PKT_SET_VM:
	case HW_PKT_TLB_INVALIDATE:
		return true;
	default:
		return false;
	}
}

/*
 * The header's claims, checked before any body dword is read. res->dwords is what
 * a skip may pass over, set only once it is known to be inside what was
 * submitted: the packet itself when it lies whole before WPTR, else everything up
 * to WPTR (a length that cannot be trusted says nothing of where the next packet
 * starts, and the bytes after WPTR were never submitted).
 */
static bool framed(struct pkt *p, const struct hw_ring *r)
{
	uint32_t avail = hw_ring_avail_dwords(r);
	uint64_t len = 1ull + p->count;
	if (4 * len > r->size - 4) {
		p->res->dwords = avail;
		return fault(p, HW_FAULT_PKT_TOO_LONG, p->header_addr);
	}
	if (len > avail) {
		p->res->dwords = avail;
		return fault(p, HW_FAULT_PKT_OVERRUN, p->header_addr);
	}
	p->res->dwords = (uint32_t)len;
	/* Whole between its header and the end of the ring: the driver pads the end
	 * with a NOP instead of splitting a packet. */
	if (r->rptr + 4 * len > r->size)
		return fault(p, HW_FAULT_PKT_WRAP, p->header_addr);
	if (!known_opcode(HW_PKT_OPCODE(p->header)))
		return fault(p, HW_FAULT_PKT_OPCODE, p->header_addr);
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
	if (!framed(&p, r)) {
		res->cost = dev->cfg.packet_overhead_ns;
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
	case HW_PKT_SET_VM: ok = do_set_vm(&p); break;
	case HW_PKT_TLB_INVALIDATE: ok = do_tlb_invalidate(&p); break;
	default: ok = false; break; /* framed() let no other opcode through */
	}
	(void)ok;
	/* The walks' reads are paid by a packet that ran, like its bytes. */
	uint64_t walk = hw_mmu_take_walk_cost(dev);
	if (res->cause || res->blocked)
		res->cost = dev->cfg.packet_overhead_ns;
	else if (walk > UINT64_MAX - res->cost)
		res->cost = UINT64_MAX;
	else
		res->cost += walk;
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
	if (hw_mmu_enabled(dev, ring)) {
		uint64_t fa;
		if (hw_mmu_resolve(dev, ring, addr, 8, false, &dev->mmu.span[2], &fa))
			return true;
		struct cursor c = { &dev->mmu.span[2], 0, 0 };
		cur_get(&c, &cur, 8);
		return cur >= value;
	}
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
