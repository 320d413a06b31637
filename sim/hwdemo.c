/*
 * A guided tour of the device: identify it, set up a ring and the GART, fill and
 * copy memory with the copy engine, checksum it, take a page fault and recover.
 * Each step prints what the driver did and what the hardware answered.
 */
#include <config.h>

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gpusim/hw.h>
#include "sim/hwdemo.h"

#define RING_OFF 0x0        /* ring in visible VRAM */
#define RING_SIZE 0x1000
#define GART_TABLE 0x10000   /* GART table in visible VRAM */
#define FENCE_OFF 0x20000
#define DATA_OFF 0x100000

struct demo {
	struct hw_device *dev;
	uint32_t wptr;
};

static void emit(struct demo *d, const uint32_t *dw, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		hw_bar2_write(d->dev, RING_OFF + d->wptr, &dw[i], 4);
		d->wptr = (d->wptr + 4) % RING_SIZE;
	}
}

static void submit(struct demo *d)
{
	hw_mmio_write(d->dev, HW_REG_RING(0, HW_RING_WPTR), d->wptr);
	hw_mmio_write(d->dev, HW_REG_RING(0, HW_RING_DOORBELL), 1);
	hw_run_idle(d->dev);
}

static void lo_hi(uint32_t *out, uint64_t v)
{
	out[0] = (uint32_t)v;
	out[1] = (uint32_t)(v >> 32);
}

static uint64_t reg64(struct hw_device *dev, uint32_t lo)
{
	uint32_t l = hw_mmio_read(dev, lo);
	return (uint64_t)hw_mmio_read(dev, lo + 4) << 32 | l;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: gpusim hw-demo [--config vram=SIZE,visible=SIZE,...]\n"
		   "Drive the bare simulated device step by step and print what happened.\n");
}

int sim_hwdemo_main(int argc, char **argv)
{
	struct hw_config cfg;
	hw_config_default(&cfg);
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ 0, 0, 0, 0 },
	};
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
		if (c == 'h') {
			usage(stdout);
			return 0;
		}
		if (c != 'c') {
			usage(stderr);
			return 2;
		}
		char *spec = strdup(optarg), *save = NULL;
		for (char *kv = strtok_r(spec, ",", &save); kv; kv = strtok_r(NULL, ",", &save)) {
			char *eq = strchr(kv, '=');
			if (!eq || (*eq = 0, hw_config_set(&cfg, kv, eq + 1))) {
				fprintf(stderr, "gpusim hw-demo: bad --config item '%s'\n", kv);
				free(spec);
				return 2;
			}
		}
		free(spec);
	}
	char err[128];
	if (hw_config_validate(&cfg, err, sizeof(err))) {
		fprintf(stderr, "gpusim hw-demo: %s\n", err);
		return 2;
	}
	struct demo d = { 0 };
	if (hw_device_create(&cfg, &d.dev)) {
		fprintf(stderr, "gpusim hw-demo: cannot create the device\n");
		return 1;
	}
	struct hw_device *dev = d.dev;
	printf("device %08x rev %08x: vram %llu MiB (%llu MiB visible), gart %llu MiB at 0x%llx\n",
	       hw_mmio_read(dev, HW_REG_ID), hw_mmio_read(dev, HW_REG_REV),
	       (unsigned long long)(reg64(dev, HW_REG_VRAM_SIZE_LO) >> 20),
	       (unsigned long long)(reg64(dev, HW_REG_VISIBLE_SIZE_LO) >> 20),
	       (unsigned long long)(reg64(dev, HW_REG_GART_SIZE_LO) >> 20),
	       (unsigned long long)reg64(dev, HW_REG_GART_BASE_LO));

	hw_mmio_write(dev, HW_REG_RING(0, HW_RING_BASE_LO), RING_OFF);
	hw_mmio_write(dev, HW_REG_RING(0, HW_RING_BASE_HI), 0);
	hw_mmio_write(dev, HW_REG_RING(0, HW_RING_SIZE), RING_SIZE);
	hw_mmio_write(dev, HW_REG_RING(0, HW_RING_CTRL), HW_RING_CTRL_ENABLE);
	hw_mmio_write(dev, HW_REG_IRQ_MASK, HW_IRQ_FENCE(0) | HW_IRQ_FAULT);
	printf("ring 0: %u bytes at VRAM 0x%x, enabled\n", RING_SIZE, RING_OFF);

	/* Map 16 system pages at the start of the aperture. */
	uint64_t gart_base = cfg.gart_base;
	for (uint64_t i = 0; i < 16; i++) {
		uint64_t pfn, e;
		hw_sysmem_alloc(dev, &pfn);
		e = HW_GART_ENTRY(pfn, HW_GART_VALID | HW_GART_READ | HW_GART_WRITE);
		hw_bar2_write(dev, GART_TABLE + 8 * i, &e, 8);
	}
	hw_mmio_write(dev, HW_REG_GART_TABLE_LO, GART_TABLE);
	hw_mmio_write(dev, HW_REG_GART_CTRL, HW_GART_CTRL_ENABLE);
	hw_mmio_write(dev, HW_REG_TLB_INVALIDATE, HW_TLB_INVALIDATE_ALL);
	printf("gart: 16 system pages mapped at GPU 0x%llx\n", (unsigned long long)gart_base);

	uint32_t p[8];
	p[0] = HW_PKT_HEADER(HW_PKT_FILL, 0, 5);
	lo_hi(p + 1, DATA_OFF);
	lo_hi(p + 3, 64 * 1024);
	p[5] = 0xc0ffee00;
	emit(&d, p, 6);
	p[0] = HW_PKT_HEADER(HW_PKT_COPY, 0, 6);
	lo_hi(p + 1, DATA_OFF);
	lo_hi(p + 3, gart_base);
	lo_hi(p + 5, 64 * 1024);
	emit(&d, p, 7);
	p[0] = HW_PKT_HEADER(HW_PKT_CHECKSUM, 0, 6);
	lo_hi(p + 1, gart_base);
	lo_hi(p + 3, 64 * 1024);
	lo_hi(p + 5, FENCE_OFF + 8);
	emit(&d, p, 7);
	p[0] = HW_PKT_HEADER(HW_PKT_FENCE, HW_PKT_FENCE_IRQ, 4);
	lo_hi(p + 1, FENCE_OFF);
	lo_hi(p + 3, 1);
	emit(&d, p, 5);
	submit(&d);
	uint32_t crc;
	hw_bar2_read(dev, FENCE_OFF + 8, &crc, 4);
	printf("fill 64 KiB of VRAM, copy it to the GART, checksum it: crc32 %08x, fence %llu, t=%llu ns\n",
	       crc, (unsigned long long)reg64(dev, HW_REG_RING(0, HW_RING_FENCE_LO)),
	       (unsigned long long)hw_clock_now(dev));

	/* Touch aperture page 20, which nobody mapped: a GPU page fault. */
	p[0] = HW_PKT_HEADER(HW_PKT_FILL, 0, 5);
	lo_hi(p + 1, gart_base + 20 * HW_PAGE_SIZE);
	lo_hi(p + 3, 4096);
	p[5] = 0;
	emit(&d, p, 6);
	submit(&d);
	printf("fill of an unmapped aperture page: fault cause %u at 0x%llx, ring status %#x\n",
	       hw_mmio_read(dev, HW_REG_FAULT_CAUSE),
	       (unsigned long long)reg64(dev, HW_REG_FAULT_ADDR_LO),
	       hw_mmio_read(dev, HW_REG_RING(0, HW_RING_STATUS)));

	/* The driver maps the page, clears the fault and restarts the ring. */
	uint64_t pfn, e;
	hw_sysmem_alloc(dev, &pfn);
	e = HW_GART_ENTRY(pfn, HW_GART_VALID | HW_GART_READ | HW_GART_WRITE);
	hw_bar2_write(dev, GART_TABLE + 8 * 20, &e, 8);
	hw_mmio_write(dev, HW_REG_TLB_INVALIDATE, 20);
	hw_mmio_write(dev, HW_REG_FAULT_CAUSE, 0);
	hw_mmio_write(dev, HW_REG_IRQ_STATUS, HW_IRQ_FAULT);
	hw_mmio_write(dev, HW_REG_RING(0, HW_RING_CTRL), 0);
	hw_mmio_write(dev, HW_REG_RING(0, HW_RING_CTRL), HW_RING_CTRL_ENABLE);
	hw_run_idle(dev);
	struct hw_stats st;
	hw_get_stats(dev, &st);
	printf("mapped the page and restarted: ring status %#x, %llu packets, %llu fault(s), t=%llu ns\n",
	       hw_mmio_read(dev, HW_REG_RING(0, HW_RING_STATUS)), (unsigned long long)st.packets,
	       (unsigned long long)st.faults, (unsigned long long)hw_clock_now(dev));
	hw_device_destroy(dev);
	return 0;
}
