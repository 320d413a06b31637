/*
 * The command processor trusts nothing in a packet's header: a packet that runs past
 * the WPTR of the last doorbell, one longer than the ring, one split by the end of the
 * ring and an unknown opcode are each a fault with its own cause, on bare registers,
 * in both fault modes. A stopped ring stays on the packet; a skipping ring skips the
 * packet, or everything up to WPTR when the length cannot be trusted, and never
 * more: RPTR never passes WPTR, so stale packets of an earlier lap never run again
 * and hw_run_idle returns. Around every case the memory the submission does not name
 * is checked byte for byte.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/hw/helpers.h"
#include "tests/hw/hw_suites.h"

#define REGION HT_DATA                  /* memory the tests watch, byte for byte */
#define REGION_SIZE 0x40000u
#define M1 (HT_DATA + 0x100)            /* the only dwords good packets write */
#define M2 (HT_DATA + 0x200)
#define TRAP (HT_DATA + 0x10000)        /* what stale FILLs in the ring would clobber */
#define TRAP_SIZE 0x10000u
#define SEED 77u

static const uint32_t modes[] = { 0, HW_RING_CTRL_SKIP_FAULT };

static const char *mode_name(uint32_t ctrl)
{
	return ctrl ? "skip" : "stop";
}

/* The ring memory full of FILLs of TRAP, as an earlier lap of a driver's ring
 * would hold; whatever the CP is given is written over the start of it. */
static void stale_fills(struct hw_device *dev, uint64_t base, uint32_t size)
{
	const uint32_t fill[6] = { HW_PKT_HEADER(HW_PKT_FILL, 0, 5), (uint32_t)TRAP, 0, TRAP_SIZE, 0, 0 };
	uint8_t *ring = calloc(1, size);
	ck_assert_ptr_nonnull(ring);
	for (uint32_t off = 0; off + sizeof fill <= size; off += sizeof fill)
		memcpy(ring + off, fill, sizeof fill);
	ht_vram_write(dev, base, ring, size);
	free(ring);
}

/* REGION holds its pattern except for the n dwords given at addr[i] = val[i]. */
static void region_ok(struct hw_device *dev, const uint64_t *addr, const uint32_t *val, unsigned n,
		      const char *what)
{
	static uint8_t *pattern; /* made once: the random test checks hundreds of times */
	uint8_t *want = malloc(REGION_SIZE);
	const uint8_t *have = hw_debug_vram(dev, REGION, REGION_SIZE);
	ck_assert_ptr_nonnull(want);
	ck_assert_ptr_nonnull(have);
	if (!pattern) {
		pattern = malloc(REGION_SIZE);
		ck_assert_ptr_nonnull(pattern);
		ht_pattern(pattern, REGION_SIZE, SEED);
	}
	memcpy(want, pattern, REGION_SIZE);
	for (unsigned i = 0; i < n; i++)
		memcpy(want + (addr[i] - REGION), &val[i], 4);
	size_t first = 0;
	if (memcmp(want, have, REGION_SIZE))
		while (want[first] == have[first])
			first++;
	else
		first = REGION_SIZE;
	free(want);
	ck_assert_msg(first == REGION_SIZE, "%s: byte 0x%zx of the watched memory changed", what, first);
}

static void region_init(struct hw_device *dev)
{
	ht_debug_fill_pattern(dev, REGION, REGION_SIZE, SEED);
}

static void expect_fault(struct hw_device *dev, const struct ht_ring *r, uint32_t cause, uint32_t hdr,
			 const char *what)
{
	ck_assert_msg(ht_fault_cause(dev) == cause, "%s: cause %u, expected %u (%s)", what, ht_fault_cause(dev),
		      cause, hw_fault_name(cause));
	ck_assert_msg(ht_fault_addr(dev) == ht_ring_addr(r, hdr), "%s: FAULT_ADDR 0x%llx", what,
		      (unsigned long long)ht_fault_addr(dev));
	ck_assert_uint_eq(hw_mmio_read(dev, HW_REG_FAULT_RING), r->id);
	ck_assert_uint_ne(ht_irq_status(dev) & HW_IRQ_FAULT, 0);
}

/* Nothing left that could run: hw_run_idle came back and means it. */
static void expect_idle(struct hw_device *dev)
{
	uint64_t t;
	ck_assert(!hw_next_event(dev, &t));
	ck_assert_uint_ne(hw_mmio_read(dev, HW_REG_STATUS) & HW_STATUS_IDLE, 0);
}

/*
 * The report of issue 15 on bare registers: a FILL ran and finished; the CPU then
 * wrote the memory it filled; a NOP header claiming 2000 body dwords is the only
 * dword submitted after it. The FILL is still in the ring behind WPTR: before the
 * fix a skipping ring jumped 2001 dwords, past WPTR, and went round the ring to run
 * it again, forever.
 */
START_TEST(test_reported_nop_2000)
{
	const uint32_t ctrl = modes[_i];
	const uint64_t ring_base = 0x20000;
	const uint32_t ring_size = 0x10000;
	struct hw_device *dev = ht_device(HT_SMALL);
	struct ht_ring r;
	struct hw_stats s0, s1;

	ht_ring_init(&r, dev, 0, ring_base, ring_size, ctrl);
	ht_fill(&r, TRAP, TRAP_SIZE, 0xaaaaaaaa);
	ht_submit(&r);
	ht_run(dev);
	ck_assert_uint_eq(ht_fault_cause(dev), HW_FAULT_NONE);
	ck_assert(ht_vram_is(dev, TRAP, TRAP_SIZE, 0xaa));
	/* The CPU's bytes now (a locked allocation's). */
	ht_vram_fill_pattern(dev, TRAP, TRAP_SIZE, 5);
	hw_get_stats(dev, &s0);

	const uint32_t nop = HW_PKT_HEADER(HW_PKT_NOP, 0, 2000);
	uint32_t hdr = ht_emit(&r, &nop, 1);
	ht_submit(&r);
	ht_run(dev);

	expect_fault(dev, &r, HW_FAULT_PKT_OVERRUN, hdr, mode_name(ctrl));
	ck_assert(ht_vram_has_pattern(dev, TRAP, TRAP_SIZE, 5));
	hw_get_stats(dev, &s1);
	ck_assert_uint_eq(s1.bytes_filled, s0.bytes_filled);
	ck_assert_uint_eq(s1.packets, s0.packets);
	ck_assert_uint_eq(s1.faults, s0.faults + 1);
	if (ctrl) {
		ck_assert_uint_eq(ht_ring_reg(&r, HW_RING_RPTR), r.wptr);
		ck_assert_uint_eq(ht_ring_reg(&r, HW_RING_STATUS) & HW_RING_STATUS_STOPPED, 0);
	} else {
		ck_assert_uint_eq(ht_ring_reg(&r, HW_RING_RPTR), hdr);
		ck_assert_uint_ne(ht_ring_reg(&r, HW_RING_STATUS) & HW_RING_STATUS_STOPPED, 0);
	}
	expect_idle(dev);
	hw_device_destroy(dev);
}
END_TEST

enum shape { OVERRUN, TOO_LONG, WRAP, OPCODE, NSHAPES };
static const char *const shape_names[] = { "overrun", "too-long", "wrap", "opcode" };

/*
 * One malformed packet between two good ones (WRITE_DATA of M1 before, of M2 after
 * where the shape lets a packet follow), on a ring whose memory holds stale FILLs
 * of TRAP. What runs and where RPTR ends is the same rule in every case: a stopped
 * ring stays on the bad header; a skipping one passes the packet when its length
 * lies inside what was submitted, else everything up to WPTR.
 */
START_TEST(test_malformed_shapes)
{
	const uint32_t ctrl = modes[_i % 2];
	const enum shape shape = (enum shape)(_i / 2);
	struct hw_device *dev = ht_device(HT_SMALL);
	struct ht_ring r;
	const uint32_t one = 0x11111111, two = 0x22222222;
	char what[64];
	uint32_t hdr, cause;
	bool follows = true;   /* a good packet is submitted after the bad one */
	bool skip_packet;      /* skip mode passes only the bad packet itself */

	snprintf(what, sizeof what, "%s, %s mode", shape_names[shape], mode_name(ctrl));
	ht_ring_init(&r, dev, 0, HT_RING0, HT_RING_SIZE, ctrl);
	stale_fills(dev, HT_RING0, HT_RING_SIZE);
	region_init(dev);
	ht_write_data(&r, M1, &one, 1);
	switch (shape) {
	case OVERRUN: {
		/* A FILL header and two of its five body dwords: its size and value
		 * would come from the stale bytes after WPTR. */
		const uint32_t p[3] = { HW_PKT_HEADER(HW_PKT_FILL, 0, 5), (uint32_t)TRAP, 0 };
		hdr = ht_emit(&r, p, 3);
		cause = HW_FAULT_PKT_OVERRUN;
		follows = false;
		skip_packet = false;
		break;
	}
	case TOO_LONG: {
		const uint32_t p = HW_PKT_HEADER(HW_PKT_NOP, 0, 0xffff);
		hdr = ht_emit(&r, &p, 1);
		cause = HW_FAULT_PKT_TOO_LONG;
		skip_packet = false;
		break;
	}
	case WRAP: {
		/* NOPs to 8 bytes before the end, then a 4-dword WRITE_DATA of M2's
		 * neighbour split by it. */
		const uint32_t v = 0x33333333;
		uint32_t pad = (HT_RING_SIZE - 8 - r.wptr) / 4;
		const uint32_t nop = HW_PKT_HEADER(HW_PKT_NOP, 0, pad - 1);
		ht_emit(&r, &nop, 1);
		r.wptr += 4 * (pad - 1); /* its body: the stale FILLs, never run */
		ht_submit(&r); /* the ring would not hold all of it at once */
		ht_run(dev);
		ck_assert_uint_eq(ht_fault_cause(dev), HW_FAULT_NONE);
		hdr = ht_write_data(&r, M2 + 4, &v, 1);
		ck_assert_uint_eq(hdr, HT_RING_SIZE - 8);
		cause = HW_FAULT_PKT_WRAP;
		skip_packet = true;
		break;
	}
	case OPCODE:
	default: {
		const uint32_t p[4] = { HW_PKT_HEADER(0x7f, 0, 3), (uint32_t)TRAP, 0, 4 };
		hdr = ht_emit(&r, p, 4);
		cause = HW_FAULT_PKT_OPCODE;
		skip_packet = true;
		break;
	}
	}
	if (follows)
		ht_write_data(&r, M2, &two, 1);
	ht_submit(&r);
	ht_run(dev);

	expect_fault(dev, &r, cause, hdr, what);
	expect_idle(dev);
	uint64_t addr[3] = { M1, M2, M2 - 4 };
	uint32_t val[3] = { one, two, 0x44444444 };
	unsigned nmark = ctrl && follows && skip_packet ? 2 : 1;
	if (!ctrl) {
		ck_assert_msg(ht_ring_reg(&r, HW_RING_RPTR) == hdr, "%s: RPTR", what);
		ck_assert_uint_ne(ht_ring_reg(&r, HW_RING_STATUS) & HW_RING_STATUS_STOPPED, 0);
	} else {
		ck_assert_msg(ht_ring_reg(&r, HW_RING_RPTR) == r.wptr, "%s: RPTR 0x%x, WPTR 0x%x", what,
			      ht_ring_reg(&r, HW_RING_RPTR), r.wptr);
		ck_assert_uint_eq(ht_ring_reg(&r, HW_RING_STATUS) & HW_RING_STATUS_STOPPED, 0);
	}
	region_ok(dev, addr, val, nmark, what);

	/* The ring goes on with the next doorbell when it skips, and stays put when
	 * it stopped; stale packets never run either way. */
	hw_mmio_write(dev, HW_REG_FAULT_CAUSE, 0);
	ht_write_data(&r, addr[2], &val[2], 1);
	ht_submit(&r);
	ht_run(dev);
	expect_idle(dev);
	if (ctrl) {
		ck_assert_uint_eq(ht_fault_cause(dev), HW_FAULT_NONE);
		if (nmark == 1) { /* the third marker in the second slot */
			addr[1] = addr[2];
			val[1] = val[2];
		}
		nmark++;
	} else {
		ck_assert_uint_eq(ht_ring_reg(&r, HW_RING_RPTR), hdr);
	}
	region_ok(dev, addr, val, nmark, what);
	hw_device_destroy(dev);
}
END_TEST

/* A count the ring cannot hold is refused by the ring's own size, not by an
 * arithmetic that wraps: the largest count on the largest ring a 32-bit RPTR
 * allows still faults, and a packet that fills the ring but one dword runs. */
START_TEST(test_count_limits)
{
	struct hw_device *dev = ht_device(HT_SMALL);
	struct ht_ring r;
	uint32_t hdr;

	/* 256 KiB: 0xffff + 1 dwords are exactly the ring, which holds at most SIZE - 4. */
	ht_ring_init(&r, dev, 0, 0x200000, 0x40000, HW_RING_CTRL_SKIP_FAULT);
	const uint32_t big = HW_PKT_HEADER(HW_PKT_NOP, 0, 0xffff);
	hdr = ht_emit(&r, &big, 1);
	ht_submit(&r);
	ht_run(dev);
	ck_assert_uint_eq(ht_fault_cause(dev), HW_FAULT_PKT_TOO_LONG);
	ck_assert_uint_eq(ht_fault_addr(dev), ht_ring_addr(&r, hdr));
	ck_assert_uint_eq(ht_ring_reg(&r, HW_RING_RPTR), r.wptr);
	hw_device_destroy(dev);

	/* A 64-byte ring: a NOP of 15 dwords (60 bytes) is the longest that can run. */
	dev = ht_device(HT_SMALL);
	ht_ring_init(&r, dev, 0, HT_RING0, 64, 0);
	ht_nop(&r, 14);
	ht_submit(&r);
	ht_run(dev);
	ck_assert_uint_eq(ht_fault_cause(dev), HW_FAULT_NONE);
	ck_assert_uint_eq(ht_ring_reg(&r, HW_RING_RPTR), 60);
	/* From 60, one dword to the end: a 16-dword NOP is too long for any ring of 64. */
	ht_ring_init(&r, dev, 0, HT_RING0, 64, 0);
	const uint32_t sixteen = HW_PKT_HEADER(HW_PKT_NOP, 0, 15);
	hdr = ht_emit(&r, &sixteen, 1);
	ht_submit(&r);
	ht_run(dev);
	ck_assert_uint_eq(ht_fault_cause(dev), HW_FAULT_PKT_TOO_LONG);
	ck_assert_uint_eq(ht_ring_reg(&r, HW_RING_RPTR), hdr);
	hw_device_destroy(dev);
}
END_TEST

/* Distance from a to b going forward round a ring of size bytes. */
static uint32_t fwd(uint32_t a, uint32_t b, uint32_t size)
{
	return (uint32_t)(((uint64_t)b + size - a) % size);
}

static uint32_t lcg(uint64_t *s)
{
	*s = *s * 6364136223846793005ull + 1442695040888963407ull;
	return (uint32_t)(*s >> 33);
}

/*
 * Random words as packets, in both modes, on rings of several sizes, from random
 * starting points, behind a random WPTR, with stale FILLs of TRAP everywhere else.
 * Stepping packet by packet: RPTR only moves forward towards WPTR and never past
 * it; in the end a skipping ring has consumed exactly what was submitted (or
 * waits) and a stopped one sits inside it; TRAP and the watched memory never
 * change. The words are headers or zero, so whatever runs touches only the first
 * 1 MiB of VRAM or faults.
 */
START_TEST(test_random_words)
{
	static const uint32_t sizes[] = { 16, 64, 256, 4096 };
	uint64_t seed = 15;
	struct hw_device *dev = ht_device(HT_SMALL);
	for (unsigned iter = 0; iter < 400; iter++) {
		struct ht_ring r;
		/* Each iteration from the reset state (a SET_VM among the words may
		 * have left the ring in VA mode), with the same memory. */
		hw_mmio_write(dev, HW_REG_RESET, HW_RESET_MAGIC);
		uint32_t size = sizes[lcg(&seed) % 4];
		uint32_t ctrl = modes[lcg(&seed) % 2];
		ht_ring_init(&r, dev, 1, HT_RING1 + 0x10000, size, ctrl);
		if (!iter)
			region_init(dev);
		/* Start somewhere round the ring: a NOP, run, then the words. */
		uint32_t lead = lcg(&seed) % (size / 4 - 1);
		if (lead) {
			const uint32_t nop = HW_PKT_HEADER(HW_PKT_NOP, 0, lead - 1);
			ht_emit(&r, &nop, 1);
			r.wptr += 4 * (lead - 1);
		}
		ht_submit(&r);
		ht_run(dev);
		ck_assert_uint_eq(ht_ring_reg(&r, HW_RING_RPTR), r.wptr);
		stale_fills(dev, r.base, size);
		uint32_t start = r.wptr, n = 1 + lcg(&seed) % (size / 4 - 1);
		uint32_t words[1024];
		for (uint32_t i = 0; i < n; i++) {
			uint32_t k = lcg(&seed), w;
			/* As addresses, these words are below 512 KiB (short counts)
			 * or beyond VRAM (long ones): never the watched memory. */
			switch (k % 3) {
			case 0: w = HW_PKT_HEADER(lcg(&seed) % 12, 0, lcg(&seed) % 8); break;
			case 1: w = HW_PKT_HEADER(lcg(&seed) % 12, 0, 0x100 + lcg(&seed) % 0xff00); break;
			default: w = 0; break;
			}
			words[i] = w;
		}
		ht_emit(&r, words, n);
		ht_submit(&r);
		uint32_t wptr = r.wptr, last = start;
		uint64_t t;
		unsigned steps = 0;
		/* Plain ifs: a Check assertion per packet costs more than the packet. */
		while (hw_next_event(dev, &t)) {
			if (++steps > 10000)
				ck_abort_msg("iteration %u: still running after 10000 packets", iter);
			hw_run_until(dev, t);
			uint32_t rp = ht_ring_reg(&r, HW_RING_RPTR);
			if (fwd(start, rp, size) < fwd(start, last, size) || fwd(start, rp, size) > fwd(start, wptr, size))
				ck_abort_msg("iteration %u: RPTR 0x%x left [0x%x, 0x%x] (was 0x%x)", iter, rp, start, wptr,
					     last);
			last = rp;
		}
		ht_run(dev);
		expect_idle(dev);
		/* Consumed, or held by a WAIT nothing will satisfy. */
		if (ctrl && !(ht_ring_reg(&r, HW_RING_STATUS) & HW_RING_STATUS_WAITING))
			ck_assert_msg(ht_ring_reg(&r, HW_RING_RPTR) == wptr, "iteration %u: skip mode ended short",
				      iter);
		region_ok(dev, NULL, NULL, 0, "random words");
	}
	hw_device_destroy(dev);
}
END_TEST

Suite *hw_framing_suite(void)
{
	Suite *s = suite_create("hw_framing");
	TCase *tc = tcase_create("framing");
	tcase_set_timeout(tc, 30);
	tcase_add_loop_test(tc, test_reported_nop_2000, 0, 2);
	tcase_add_loop_test(tc, test_malformed_shapes, 0, 2 * NSHAPES);
	tcase_add_test(tc, test_count_limits);
	tcase_add_test(tc, test_random_words);
	suite_add_tcase(s, tc);
	return s;
}
