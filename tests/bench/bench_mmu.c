/*
 * `make bench`: host wall time of the copy engine's COPY through the GPU MMU against
 * the same COPY on physical addresses, VRAM to VRAM, for 4 KiB and 64 KiB pages and
 * sizes >= 1 MiB. Prints untranslated/translated (goal >= 0.9); asserts nothing.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <gpusim/hw.h>

#define MiB (1024ull * 1024)
#define GOAL (512 * MiB) /* bytes moved per measurement */
#define ROUNDS 5         /* best of */
#define RING 1           /* the copy (paging) engine */

/* VRAM (1G): ring, page tables, source, destination. */
#define RING_OFF 0x0ull
#define PKT_BYTES 28u
#define RING_PKTS 4096u
#define RING_SIZE (PKT_BYTES * RING_PKTS)
#define PT_OFF (4 * MiB)
#define SRC_OFF (64 * MiB)
#define DST_OFF (512 * MiB)
#define VA_SRC 0x100000000000ull /* 16 TiB */
#define VA_DST 0x200008000000ull /* + 128 MiB: its TLB slots are not the source's */

static const uint64_t sizes[] = { MiB, 4 * MiB, 16 * MiB, 64 * MiB };
#define NSIZES (sizeof sizes / sizeof sizes[0])

static uint8_t *vram;
static uint64_t pt_next;

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void die(const char *what, int rc)
{
	fprintf(stderr, "bench_mmu: %s failed (%d)\n", what, rc);
	exit(1);
}

static uint64_t pt_alloc(void)
{
	uint64_t a = pt_next;
	pt_next += HW_PAGE_SIZE;
	memset(vram + a, 0, HW_PAGE_SIZE);
	return a;
}

/* Map [va, va+bytes) to VRAM [phys, ...) with pages of 4 KiB or 64 KiB. */
static void map(uint64_t root, uint64_t va, uint64_t phys, uint64_t bytes, int large)
{
	uint64_t psize = large ? HW_LARGE_PAGE_SIZE : HW_PAGE_SIZE;
	for (uint64_t off = 0; off < bytes; off += psize) {
		uint64_t a = va + off, table = root, e;
		for (unsigned shift = 39; shift >= 21; shift -= 9) {
			uint64_t *slot = (uint64_t *)(vram + table + 8 * ((a >> shift) & 511));
			if (!(*slot & HW_PDE_VALID))
				*slot = HW_PDE(pt_alloc(), HW_PDE_VALID | (shift == 21 && large ? HW_PDE_LARGE : 0));
			table = *slot & HW_VM_ADDR_MASK;
		}
		e = HW_PTE_LOCAL(phys + off, HW_PTE_VALID);
		if (large)
			((uint64_t *)(vram + table))[(a >> 16) & 31] = e;
		else
			((uint64_t *)(vram + table))[(a >> 12) & 511] = e;
	}
}

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v, p[1] = (uint8_t)(v >> 8), p[2] = (uint8_t)(v >> 16), p[3] = (uint8_t)(v >> 24);
}

static void fill_ring(uint8_t *ring, uint64_t src, uint64_t dst, uint64_t bytes)
{
	const uint32_t pkt[7] = {
		HW_PKT_HEADER(HW_PKT_COPY, 0, 6), (uint32_t)src, (uint32_t)(src >> 32),
		(uint32_t)dst, (uint32_t)(dst >> 32), (uint32_t)bytes, (uint32_t)(bytes >> 32),
	};

	for (unsigned i = 0; i < RING_PKTS; i++)
		for (unsigned j = 0; j < 7; j++)
			put32(ring + (size_t)i * PKT_BYTES + 4 * j, pkt[j]);
}

static double run_copies(struct hw_device *dev, uint32_t *wptr, uint64_t reps)
{
	double t0 = now_s();

	while (reps > 0) {
		uint64_t n = reps < RING_PKTS - 1 ? reps : RING_PKTS - 1;
		*wptr = (uint32_t)((*wptr + n * PKT_BYTES) % RING_SIZE);
		hw_mmio_write(dev, HW_REG_RING(RING, HW_RING_WPTR), *wptr);
		hw_mmio_write(dev, HW_REG_RING(RING, HW_RING_DOORBELL), 1);
		hw_run_idle(dev);
		reps -= n;
	}
	return now_s() - t0;
}

static void check_clean(struct hw_device *dev, uint32_t wptr)
{
	uint32_t cause = hw_mmio_read(dev, HW_REG_FAULT_CAUSE);
	uint32_t rptr = hw_mmio_read(dev, HW_REG_RING(RING, HW_RING_RPTR));

	if (cause != HW_FAULT_NONE || rptr != wptr) {
		fprintf(stderr, "bench_mmu: device fault %u (rptr %u, wptr %u)\n", cause, rptr, wptr);
		exit(1);
	}
}

/* Point the ring at physical addresses (root 0) or at the address space root. */
static void use(struct hw_device *dev, uint8_t *ring, uint32_t *wptr, uint64_t root, uint64_t size)
{
	hw_mmio_write(dev, HW_REG_RING(RING, HW_RING_VM_ROOT_LO), (uint32_t)root);
	hw_mmio_write(dev, HW_REG_RING(RING, HW_RING_VM_ROOT_HI), (uint32_t)(root >> 32));
	hw_mmio_write(dev, HW_REG_RING(RING, HW_RING_VM_ASID), 1);
	hw_mmio_write(dev, HW_REG_RING(RING, HW_RING_VM_CTRL), root ? HW_VM_CTRL_ENABLE : 0);
	if (root)
		fill_ring(ring, VA_SRC, VA_DST, size);
	else
		fill_ring(ring, SRC_OFF, DST_OFF, size);
	run_copies(dev, wptr, 1); /* untimed */
	check_clean(dev, *wptr);
}

static void bench(const char *vm_tlb, int large)
{
	struct hw_config cfg;
	struct hw_device *dev = NULL;
	uint64_t max = sizes[NSIZES - 1], root;
	uint32_t wptr = 0;
	uint8_t *ring;
	int rc;

	hw_config_default(&cfg);
	if ((rc = hw_config_set(&cfg, "vram", "1G")) || (rc = hw_config_set(&cfg, "visible", "256M")) ||
	    (rc = hw_config_set(&cfg, "sysmem", "64M")) || (rc = hw_config_set(&cfg, "vm_tlb", vm_tlb)))
		die("hw_config_set", rc);
	if ((rc = hw_device_create(&cfg, &dev)) != 0)
		die("hw_device_create", rc);
	vram = hw_debug_vram(dev, 0, cfg.vram);
	ring = hw_bar2_map(dev, RING_OFF, RING_SIZE);
	if (!vram || !ring)
		die("setup", -ENOMEM);
	pt_next = PT_OFF;
	root = pt_alloc();
	map(root, VA_SRC, SRC_OFF, max, large);
	map(root, VA_DST, DST_OFF, max, large);
	for (uint64_t i = 0; i < max; i++)
		vram[SRC_OFF + i] = (uint8_t)(i * 131 + 7);
	memset(vram + DST_OFF, 0, max);
	hw_mmio_write(dev, HW_REG_RING(RING, HW_RING_BASE_LO), RING_OFF);
	hw_mmio_write(dev, HW_REG_RING(RING, HW_RING_BASE_HI), 0);
	hw_mmio_write(dev, HW_REG_RING(RING, HW_RING_SIZE), RING_SIZE);
	hw_mmio_write(dev, HW_REG_RING(RING, HW_RING_CTRL), HW_RING_CTRL_ENABLE);

	printf("\n%s pages, vm_tlb=%s\n", large ? "64 KiB" : "4 KiB", vm_tlb);
	printf("%10s %12s %12s %8s %12s\n", "size", "GB/s phys", "GB/s VA", "ratio", "TLB hit %");
	for (size_t s = 0; s < NSIZES; s++) {
		uint64_t size = sizes[s], reps = GOAL / size;
		struct hw_mmu_stats a, b, c;
		double tp = 0, tv = 0;
		hw_mmio_write(dev, HW_REG_RING(RING, HW_RING_VM_INVALIDATE), HW_VM_INVALIDATE_ALL);
		/* Alternate the two, so that a busy host slows both alike. */
		for (int round = 0; round < ROUNDS; round++) {
			use(dev, ring, &wptr, 0, size);
			double t = run_copies(dev, &wptr, reps);
			check_clean(dev, wptr);
			if (tp == 0 || t < tp)
				tp = t;
			use(dev, ring, &wptr, root, size);
			hw_mmu_get_stats(dev, &c);
			if (round == 0)
				a = c;
			t = run_copies(dev, &wptr, reps);
			check_clean(dev, wptr);
			if (tv == 0 || t < tv)
				tv = t;
		}
		hw_mmu_get_stats(dev, &b);
		if (memcmp(vram + DST_OFF, vram + SRC_OFF, size) != 0)
			die("copied data differs", -EIO);
		uint64_t hits = b.tlb_hits - a.tlb_hits, all = hits + b.tlb_misses - a.tlb_misses;
		printf("%7llu MiB %12.2f %12.2f %8.3f %11.1f%%\n", (unsigned long long)(size / MiB),
		       (double)(reps * size) / tp / 1e9, (double)(reps * size) / tv / 1e9, tp / tv,
		       all ? 100.0 * (double)hits / (double)all : 0.0);
	}
	hw_device_destroy(dev);
}

int main(void)
{
	printf("COPY on the copy engine, VRAM -> VRAM: physical vs through the GPU MMU\n");
	printf("best of %d, %llu MiB moved per size; ratio = physical time / VA time (goal >= 0.9)\n",
	       ROUNDS, (unsigned long long)(GOAL / MiB));
	bench("512", 0);      /* the default TLB: 2 MiB of 4 KiB pages per engine */
	bench("65536", 0);    /* a TLB that holds both 64 MiB ranges */
	bench("512", 1);      /* 64 KiB pages: 32 MiB per engine in the default TLB */
	return 0;
}
