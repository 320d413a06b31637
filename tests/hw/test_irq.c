/*
 * Interrupts: IRQ_STATUS bits latch whether masked or not and clear on write-1, the
 * handler runs only for bits enabled in IRQ_MASK, may touch registers but not the
 * clock (hw_run_until from inside it is -EBUSY).
 */
#include <errno.h>

#include "tests/hw/helpers.h"
#include "tests/hw/hw_suites.h"

#define VRAM (16ull << 20)

struct irq_log {
	struct hw_device *dev;
	unsigned calls;
	uint32_t pending[8];   /* the argument of each call */
	uint32_t status[8];    /* IRQ_STATUS read inside the handler */
	uint32_t cause[8];     /* FAULT_CAUSE read inside the handler */
	uint32_t clear;        /* bits the handler writes back to IRQ_STATUS */
	bool try_run;          /* call hw_run_until from the handler */
	int run_rc;
	uint64_t clock_in_handler;
};

static void on_irq(void *opaque, uint32_t pending)
{
	struct irq_log *log = opaque;
	unsigned i = log->calls++;

	if (i < 8) {
		log->pending[i] = pending;
		log->status[i] = hw_mmio_read(log->dev, HW_REG_IRQ_STATUS);
		log->cause[i] = hw_mmio_read(log->dev, HW_REG_FAULT_CAUSE);
	}
	if (log->clear)
		hw_mmio_write(log->dev, HW_REG_IRQ_STATUS, log->clear);
	if (log->try_run) {
		log->clock_in_handler = hw_clock_now(log->dev);
		log->run_rc = hw_run_until(log->dev, log->clock_in_handler + 1000000);
	}
}

static struct hw_device *irq_device(struct ht_ring *r0, struct ht_ring *r1, struct irq_log *log)
{
	struct hw_device *dev = ht_device(HT_SMALL);

	*log = (struct irq_log){ .dev = dev };
	ht_ring_init(r0, dev, 0, HT_RING0, HT_RING_SIZE, HW_RING_CTRL_SKIP_FAULT);
	ht_ring_init(r1, dev, 1, HT_RING1, HT_RING_SIZE, HW_RING_CTRL_SKIP_FAULT);
	hw_set_irq_handler(dev, on_irq, log);
	return dev;
}

static void fence_irq(struct ht_ring *r)
{
	ht_fence(r, HT_DATA + 8 * r->id, 1, HW_PKT_FENCE_IRQ);
	ht_submit(r);
	ht_run(r->dev);
}

START_TEST(test_irq_masked_still_latched)
{
	struct ht_ring r0, r1;
	struct irq_log log;
	struct hw_device *dev = irq_device(&r0, &r1, &log);

	ck_assert_uint_eq(hw_mmio_read(dev, HW_REG_IRQ_MASK), 0);
	fence_irq(&r0);
	ck_assert_uint_eq(ht_irq_status(dev), HW_IRQ_FENCE(0));
	ht_fill(&r1, VRAM, 4, 0);
	ht_submit(&r1);
	ht_run(dev);
	ck_assert_uint_eq(ht_irq_status(dev), HW_IRQ_FENCE(0) | HW_IRQ_FAULT);
	ck_assert_uint_eq(log.calls, 0);
	hw_device_destroy(dev);
}
END_TEST

START_TEST(test_irq_handler_called)
{
	struct ht_ring r0, r1;
	struct irq_log log;
	struct hw_device *dev = irq_device(&r0, &r1, &log);
	struct hw_stats s;

	hw_mmio_write(dev, HW_REG_IRQ_MASK, HW_IRQ_FENCE(0) | HW_IRQ_FAULT);
	ck_assert_uint_eq(hw_mmio_read(dev, HW_REG_IRQ_MASK), HW_IRQ_FENCE(0) | HW_IRQ_FAULT);
	fence_irq(&r0);
	ck_assert_uint_eq(log.calls, 1);
	ck_assert_uint_ne(log.pending[0] & HW_IRQ_FENCE(0), 0);
	ck_assert_uint_ne(log.status[0] & HW_IRQ_FENCE(0), 0);
	ck_assert_uint_eq(ht_irq_status(dev), HW_IRQ_FENCE(0)); /* the handler left it */
	hw_get_stats(dev, &s);
	ck_assert_uint_ge(s.irqs, 1);
	/* A FENCE without the IRQ flag raises nothing. */
	hw_mmio_write(dev, HW_REG_IRQ_STATUS, HW_IRQ_FENCE(0));
	ht_fence(&r0, HT_DATA, 2, 0);
	ht_submit(&r0);
	ht_run(dev);
	ck_assert_uint_eq(log.calls, 1);
	ck_assert_uint_eq(ht_irq_status(dev), 0);
	hw_device_destroy(dev);
}
END_TEST

START_TEST(test_irq_only_enabled_bits)
{
	struct ht_ring r0, r1;
	struct irq_log log;
	struct hw_device *dev = irq_device(&r0, &r1, &log);

	hw_mmio_write(dev, HW_REG_IRQ_MASK, HW_IRQ_FENCE(1));
	fence_irq(&r0);
	ht_fill(&r0, VRAM, 4, 0); /* a fault, not enabled either */
	ht_submit(&r0);
	ht_run(dev);
	ck_assert_uint_eq(log.calls, 0);
	ck_assert_uint_eq(ht_irq_status(dev), HW_IRQ_FENCE(0) | HW_IRQ_FAULT);
	fence_irq(&r1);
	ck_assert_uint_eq(log.calls, 1);
	ck_assert_uint_ne(log.pending[0] & HW_IRQ_FENCE(1), 0);
	ck_assert_uint_eq(ht_irq_status(dev), HW_IRQ_FENCE(0) | HW_IRQ_FENCE(1) | HW_IRQ_FAULT);
	hw_device_destroy(dev);
}
END_TEST

START_TEST(test_irq_write_one_to_clear)
{
	struct ht_ring r0, r1;
	struct irq_log log;
	struct hw_device *dev = irq_device(&r0, &r1, &log);

	fence_irq(&r0);
	fence_irq(&r1);
	ht_fill(&r0, VRAM, 4, 0);
	ht_submit(&r0);
	ht_run(dev);
	ck_assert_uint_eq(ht_irq_status(dev), HW_IRQ_FENCE(0) | HW_IRQ_FENCE(1) | HW_IRQ_FAULT);
	hw_mmio_write(dev, HW_REG_IRQ_STATUS, 0);
	ck_assert_uint_eq(ht_irq_status(dev), HW_IRQ_FENCE(0) | HW_IRQ_FENCE(1) | HW_IRQ_FAULT);
	hw_mmio_write(dev, HW_REG_IRQ_STATUS, HW_IRQ_FENCE(0));
	ck_assert_uint_eq(ht_irq_status(dev), HW_IRQ_FENCE(1) | HW_IRQ_FAULT);
	/* Clearing the IRQ bit does not clear the fault registers. */
	hw_mmio_write(dev, HW_REG_IRQ_STATUS, HW_IRQ_FAULT);
	ck_assert_uint_eq(ht_irq_status(dev), HW_IRQ_FENCE(1));
	ck_assert_uint_eq(ht_fault_cause(dev), HW_FAULT_UNMAPPED);
	hw_mmio_write(dev, HW_REG_IRQ_STATUS, 0xffffffffu);
	ck_assert_uint_eq(ht_irq_status(dev), 0);
	hw_device_destroy(dev);
}
END_TEST

START_TEST(test_irq_fault_handler_sees_cause)
{
	struct ht_ring r0, r1;
	struct irq_log log;
	struct hw_device *dev = irq_device(&r0, &r1, &log);

	hw_mmio_write(dev, HW_REG_IRQ_MASK, HW_IRQ_FAULT);
	ht_copy(&r1, 1ull << 45, HT_DATA, 4);
	ht_submit(&r1);
	ht_run(dev);
	ck_assert_uint_eq(log.calls, 1);
	ck_assert_uint_ne(log.pending[0] & HW_IRQ_FAULT, 0);
	ck_assert_uint_eq(log.cause[0], HW_FAULT_UNMAPPED);
	hw_device_destroy(dev);
}
END_TEST

START_TEST(test_irq_handler_clears_and_reraises)
{
	struct ht_ring r0, r1;
	struct irq_log log;
	struct hw_device *dev = irq_device(&r0, &r1, &log);

	hw_mmio_write(dev, HW_REG_IRQ_MASK, HW_IRQ_FENCE(0));
	log.clear = HW_IRQ_FENCE(0);
	ht_fence(&r0, HT_DATA, 1, HW_PKT_FENCE_IRQ);
	ht_nop(&r0, 0);
	ht_fence(&r0, HT_DATA, 2, HW_PKT_FENCE_IRQ);
	ht_submit(&r0);
	ht_run(dev);
	/* Each fence set the bit anew because the handler had cleared it. */
	ck_assert_uint_eq(log.calls, 2);
	ck_assert_uint_ne(log.pending[1] & HW_IRQ_FENCE(0), 0);
	ck_assert_uint_eq(ht_irq_status(dev), 0);
	ck_assert_uint_eq(ht_read64(dev, HW_REG_RING(0, HW_RING_FENCE_LO)), 2);

	/* With no handler, nothing is called; the bit still latches. */
	hw_set_irq_handler(dev, NULL, NULL);
	fence_irq(&r0);
	ck_assert_uint_eq(log.calls, 2);
	ck_assert_uint_eq(ht_irq_status(dev), HW_IRQ_FENCE(0));
	hw_device_destroy(dev);
}
END_TEST

START_TEST(test_irq_handler_cannot_run_clock)
{
	struct ht_ring r0, r1;
	struct irq_log log;
	struct hw_device *dev = irq_device(&r0, &r1, &log);
	const uint32_t v = 0x4242;

	hw_mmio_write(dev, HW_REG_IRQ_MASK, HW_IRQ_FENCE(0));
	log.try_run = true;
	log.run_rc = 1;
	ht_fence(&r0, HT_DATA, 1, HW_PKT_FENCE_IRQ);
	ht_nop(&r0, 0);
	ht_nop(&r0, 0);
	ht_write_data(&r0, HT_DATA + 8, &v, 1);
	ht_submit(&r0);
	ck_assert_int_eq(hw_run_until(dev, 50), 0);
	ck_assert_uint_eq(log.calls, 1);
	ck_assert_int_eq(log.run_rc, -EBUSY);
	/* The refused call moved neither the clock nor the ring. */
	ck_assert_uint_eq(hw_clock_now(dev), 50);
	ck_assert_uint_eq(ht_vram_read32(dev, HT_DATA + 8), 0);
	ck_assert_uint_eq(ht_ring_reg(&r0, HW_RING_RPTR), 20);
	/* The device works normally afterwards. */
	ck_assert_uint_eq(hw_run_idle(dev), 401);
	ck_assert_uint_eq(ht_vram_read32(dev, HT_DATA + 8), v);
	hw_device_destroy(dev);
}
END_TEST

Suite *hw_irq_suite(void)
{
	Suite *s = suite_create("hw_irq");
	TCase *tc = tcase_create("irq");

	tcase_add_test(tc, test_irq_masked_still_latched);
	tcase_add_test(tc, test_irq_handler_called);
	tcase_add_test(tc, test_irq_only_enabled_bits);
	tcase_add_test(tc, test_irq_write_one_to_clear);
	tcase_add_test(tc, test_irq_fault_handler_sees_cause);
	tcase_add_test(tc, test_irq_handler_clears_and_reraises);
	tcase_add_test(tc, test_irq_handler_cannot_run_clock);
	suite_add_tcase(s, tc);
	return s;
}
