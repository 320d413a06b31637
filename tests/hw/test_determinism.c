/*
 * Determinism: devices given the same configuration and the same operations (GART
 * copies, stale TLB entries, faults, injected errors, two rings with WAIT/FENCE, IRQs)
 * end identical in clock, registers 0x000..0x180, stats and memory, however time is run.
 */
#include <stdlib.h>
#include <string.h>

#include "tests/hw/helpers.h"
#include "tests/hw/hw_suites.h"

#define VRAM (16ull << 20)
#define T HT_GART_TABLE
#define NPAGES 8
#define SEM (HT_DATA + 0x1000)
/* ring 1 first waits on a semaphore in the aperture: polling it must not change state */
#define SEM_PAGE 3
#define SEM_OFF 0xff8

struct det {
	struct hw_device *dev;
	struct ht_ring r0, r1;
	uint64_t pfn[NPAGES];
	unsigned irq_calls;
	uint32_t irq_sum;
	uint64_t irq_times;
};

static void det_irq(void *opaque, uint32_t pending)
{
	struct det *d = opaque;

	d->irq_calls++;
	d->irq_sum = d->irq_sum * 31 + pending;
	d->irq_times = d->irq_times * 1000003 + hw_clock_now(d->dev);
	hw_mmio_write(d->dev, HW_REG_IRQ_STATUS, pending & (HW_IRQ_FENCE(0) | HW_IRQ_FENCE(1)));
}

/* The times at which each phase ends; phase k's host actions happen at end[k-1]. */
static const uint64_t phase_end[] = { 1500, 4000, 9000, 9001, 20000, 60000 };
#define NPHASES (sizeof phase_end / sizeof phase_end[0])

static void det_init(struct det *d)
{
	memset(d, 0, sizeof *d);
	d->dev = ht_device(HT_SMALL ",tlb=4");
	ht_ring_init(&d->r0, d->dev, 0, HT_RING0, HT_RING_SIZE, HW_RING_CTRL_SKIP_FAULT);
	ht_ring_init(&d->r1, d->dev, 1, HT_RING1, HT_RING_SIZE, 0);
	ht_gart_init(d->dev, T, HW_GART_CTRL_ENABLE);
	hw_set_irq_handler(d->dev, det_irq, d);
	hw_mmio_write(d->dev, HW_REG_IRQ_MASK, HW_IRQ_FENCE(0) | HW_IRQ_FENCE(1) | HW_IRQ_FAULT);
}

/* Host actions at the start of phase k (the clock stands at phase_end[k-1]). */
static void det_phase(struct det *d, unsigned k)
{
	struct hw_device *dev = d->dev;
	const uint32_t words[4] = { 0x10, 0x20, 0x30, 0x40 };

	switch (k) {
	case 0:
		for (unsigned i = 0; i < NPAGES; i++) {
			d->pfn[i] = ht_sysmem_alloc(dev);
			ht_pattern(ht_page(dev, d->pfn[i]), 4096, 100 + i);
			ht_gart_map(dev, T, i, d->pfn[i]);
		}
		memset(ht_page(dev, d->pfn[SEM_PAGE]) + SEM_OFF, 0, 8);
		ht_vram_fill_pattern(dev, HT_DATA + 0x10000, 0x10000, 200);
		/* ring 1 waits for ring 0, then pulls the aperture into invisible VRAM */
		ht_wait(&d->r1, ht_gart_addr(dev, SEM_PAGE) + SEM_OFF, 1);
		ht_copy(&d->r1, ht_gart_addr(dev, 0), (8ull << 20) + 0x1000, 4 * 4096);
		ht_fence(&d->r1, SEM + 8, 11, HW_PKT_FENCE_IRQ);
		ht_submit(&d->r1);
		ht_copy(&d->r0, HT_DATA + 0x10000, ht_gart_addr(dev, 4), 3 * 4096 + 100);
		ht_fill(&d->r0, HT_DATA + 0x30000, 0x8000, 0x01234567);
		ht_checksum(&d->r0, ht_gart_addr(dev, 4), 3 * 4096, HT_DATA + 0x2000);
		ht_fence(&d->r0, ht_gart_addr(dev, SEM_PAGE) + SEM_OFF, 1, HW_PKT_FENCE_IRQ);
		ht_copy(&d->r0, HT_DATA, VRAM - 8, 64); /* faults, skipped */
		ht_write_data(&d->r0, HT_DATA + 0x2100, words, 4);
		ht_submit(&d->r0);
		break;
	case 1:
		/* a stale entry (not invalidated) and a conflict in the 4-entry TLB */
		ht_gart_map(dev, T, 0, d->pfn[7]);
		ht_copy(&d->r0, ht_gart_addr(dev, 0), HT_DATA + 0x40000, 4096);
		ht_copy(&d->r0, ht_gart_addr(dev, 4), HT_DATA + 0x41000, 4096);
		ht_copy(&d->r0, ht_gart_addr(dev, 0), HT_DATA + 0x42000, 4096);
		ht_submit(&d->r0);
		/* ring 1 faults on an invalid page and stops */
		ht_copy(&d->r1, HT_DATA, ht_gart_addr(dev, 20), 512);
		ht_fence(&d->r1, SEM + 8, 12, 0);
		ht_submit(&d->r1);
		break;
	case 2:
		hw_mmio_write(dev, HW_REG_FAULT_CAUSE, 0);
		ht_gart_map(dev, T, 20, d->pfn[3]);
		ht_tlb_invalidate(dev, HW_TLB_INVALIDATE_ALL);
		ht_ring_restart(&d->r1, HW_RING_CTRL_ENABLE);
		ht_fill(&d->r0, HT_DATA + 0x50000, 256, 0xffff0000);
		ht_fill(&d->r0, HT_DATA + 0x50100, 256, 0x0000ffff);
		ht_submit(&d->r0);
		break;
	case 3:
		/* only ring 0 has work now: the DMA error hits its first checksum, the
		 * second one reads the bad page */
		hw_inject_dma_error(dev);
		ck_assert_int_eq(hw_inject_vram_error(dev, HT_DATA + 0x31000), 0);
		ht_checksum(&d->r0, HT_DATA + 0x30000, 0x8000, HT_DATA + 0x2200);
		ht_checksum(&d->r0, HT_DATA + 0x30000, 0x8000, HT_DATA + 0x2204);
		ht_copy(&d->r0, HT_DATA + 0x30000, HT_DATA + 0x60000, 0x1000);
		ht_submit(&d->r0);
		break;
	case 4:
		ht_copy(&d->r1, (8ull << 20) + 0x1000, HT_DATA + 0x70000, 4 * 4096);
		ht_checksum(&d->r1, HT_DATA + 0x70000, 4 * 4096, HT_DATA + 0x2300);
		ht_fence(&d->r1, SEM + 8, 13, HW_PKT_FENCE_IRQ);
		ht_submit(&d->r1);
		ht_copy(&d->r0, 0x4000000000ull, HT_DATA, 4); /* faults again, first is kept */
		ht_nop(&d->r0, 9);
		ht_submit(&d->r0);
		break;
	default:
		break;
	}
}

/* Run the scenario; step = 0 jumps to each phase end, else walks in steps of `step` ns. */
static void det_run(struct det *d, uint64_t step)
{
	for (unsigned k = 0; k < NPHASES; k++) {
		det_phase(d, k);
		if (step == 0) {
			ck_assert_int_eq(hw_run_until(d->dev, phase_end[k]), 0);
		} else {
			for (uint64_t t = hw_clock_now(d->dev) + step; t < phase_end[k]; t += step)
				ck_assert_int_eq(hw_run_until(d->dev, t), 0);
			ck_assert_int_eq(hw_run_until(d->dev, phase_end[k]), 0);
		}
	}
	/* Sanity: the scenario did what it was written to do. */
	ck_assert_uint_eq(ht_vram_read64(d->dev, SEM + 8), 13);
	ck_assert_uint_eq(ht_ring_reg(&d->r1, HW_RING_RPTR), d->r1.wptr);
	ck_assert_uint_eq(ht_ring_reg(&d->r0, HW_RING_RPTR), d->r0.wptr);
	ck_assert_uint_ne(ht_irq_status(d->dev) & HW_IRQ_FAULT, 0);
	ck_assert_uint_ge(d->irq_calls, 3);
}

/* same_ops: b did exactly what a did, so even the clock seen by the IRQ handler
 * must match; otherwise only the end state is compared. */
static void det_compare(struct det *a, struct det *b, bool same_ops)
{
	struct hw_stats sa, sb;

	ck_assert_uint_eq(hw_clock_now(a->dev), hw_clock_now(b->dev));
	for (uint32_t off = 0; off <= 0x180; off += 4) {
		uint32_t va = hw_mmio_read(a->dev, off), vb = hw_mmio_read(b->dev, off);
		ck_assert_msg(va == vb, "register 0x%03x: 0x%08x vs 0x%08x", off, va, vb);
	}
	hw_get_stats(a->dev, &sa);
	hw_get_stats(b->dev, &sb);
	ck_assert_uint_eq(sa.packets, sb.packets);
	ck_assert_uint_eq(sa.bytes_copied, sb.bytes_copied);
	ck_assert_uint_eq(sa.bytes_filled, sb.bytes_filled);
	ck_assert_uint_eq(sa.bytes_checksummed, sb.bytes_checksummed);
	ck_assert_uint_eq(sa.faults, sb.faults);
	ck_assert_uint_eq(sa.tlb_hits, sb.tlb_hits);
	ck_assert_uint_eq(sa.tlb_misses, sb.tlb_misses);
	ck_assert_uint_eq(sa.irqs, sb.irqs);
	ck_assert_uint_eq(a->irq_calls, b->irq_calls);
	ck_assert_uint_eq(a->irq_sum, b->irq_sum);
	if (same_ops)
		ck_assert_uint_eq(a->irq_times, b->irq_times);
	ck_assert_int_eq(memcmp(hw_debug_vram(a->dev, 0, VRAM), hw_debug_vram(b->dev, 0, VRAM), VRAM),
			 0);
	for (unsigned i = 0; i < NPAGES; i++) {
		ck_assert_uint_eq(a->pfn[i], b->pfn[i]);
		ck_assert_int_eq(memcmp(ht_page(a->dev, a->pfn[i]), ht_page(b->dev, b->pfn[i]), 4096),
				 0);
	}
}

static void det_fini(struct det *d)
{
	for (unsigned i = 0; i < NPAGES; i++)
		hw_sysmem_free(d->dev, d->pfn[i]);
	hw_device_destroy(d->dev);
}

START_TEST(test_same_ops_same_device_state)
{
	struct det *a = malloc(sizeof *a), *b = malloc(sizeof *b);

	ck_assert_ptr_nonnull(a);
	ck_assert_ptr_nonnull(b);
	det_init(a);
	det_run(a, 0);
	det_init(b);
	det_run(b, 0);
	det_compare(a, b, true);
	/* The scenario's faults happened as written: the first since the re-arm is kept. */
	ck_assert_uint_eq(ht_fault_cause(a->dev), HW_FAULT_DMA);
	det_fini(a);
	det_fini(b);
	free(a);
	free(b);
}
END_TEST

START_TEST(test_step_size_does_not_matter)
{
	struct det *a = malloc(sizeof *a), *b = malloc(sizeof *b);

	ck_assert_ptr_nonnull(a);
	ck_assert_ptr_nonnull(b);
	det_init(a);
	det_run(a, 0);
	det_init(b);
	det_run(b, 37);
	det_compare(a, b, false);
	det_fini(a);
	det_fini(b);
	free(a);
	free(b);
}
END_TEST

START_TEST(test_devices_are_independent)
{
	struct det *a = malloc(sizeof *a), *b = malloc(sizeof *b), *c = malloc(sizeof *c);

	ck_assert_ptr_nonnull(a);
	ck_assert_ptr_nonnull(b);
	ck_assert_ptr_nonnull(c);
	det_init(a);
	det_run(a, 0);
	/* b and c advance in lockstep, phase by phase, interleaved. */
	det_init(b);
	det_init(c);
	for (unsigned k = 0; k < NPHASES; k++) {
		det_phase(b, k);
		det_phase(c, k);
		ck_assert_int_eq(hw_run_until(c->dev, phase_end[k]), 0);
		ck_assert_int_eq(hw_run_until(b->dev, phase_end[k]), 0);
	}
	det_compare(a, b, true);
	det_compare(a, c, true);
	det_fini(a);
	det_fini(b);
	det_fini(c);
	free(a);
	free(b);
	free(c);
}
END_TEST

/* Looking at the device (hw_next_event, the STATUS register) is not an operation on
 * it: with a ring blocked in a WAIT on an aperture address, nothing may change. */
START_TEST(test_observing_changes_nothing)
{
	struct hw_device *dev = ht_device(HT_SMALL);
	struct ht_ring r;
	struct hw_stats s0, s1;
	uint64_t p, t;

	ht_ring_init(&r, dev, 1, HT_RING1, HT_RING_SIZE, 0);
	ht_gart_init(dev, T, HW_GART_CTRL_ENABLE);
	p = ht_sysmem_alloc(dev);
	memset(ht_page(dev, p), 0, 4096);
	ht_gart_map(dev, T, 2, p);
	ht_wait(&r, ht_gart_addr(dev, 2) + 64, 1);
	ht_submit(&r);
	ht_run(dev);
	ck_assert_uint_ne(ht_ring_reg(&r, HW_RING_STATUS) & HW_RING_STATUS_WAITING, 0);
	hw_get_stats(dev, &s0);
	for (int i = 0; i < 10; i++) {
		ck_assert(!hw_next_event(dev, &t));
		ck_assert_uint_ne(hw_mmio_read(dev, HW_REG_STATUS) & HW_STATUS_IDLE, 0);
	}
	hw_get_stats(dev, &s1);
	ck_assert_uint_eq(s1.tlb_hits, s0.tlb_hits);
	ck_assert_uint_eq(s1.tlb_misses, s0.tlb_misses);
	ck_assert_int_eq(memcmp(&s0, &s1, sizeof s0), 0);
	hw_sysmem_free(dev, p);
	hw_device_destroy(dev);
}
END_TEST

Suite *hw_determinism_suite(void)
{
	Suite *s = suite_create("hw_determinism");
	TCase *tc = tcase_create("determinism");

	tcase_add_test(tc, test_same_ops_same_device_state);
	tcase_add_test(tc, test_step_size_does_not_matter);
	tcase_add_test(tc, test_devices_are_independent);
	tcase_add_test(tc, test_observing_changes_nothing);
	suite_add_tcase(s, tc);
	return s;
}
