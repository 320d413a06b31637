/*
 * `make bench`: host time of the copy engine's COPY through the GPU MMU against the
 * same COPY on physical addresses (the same VRAM bytes), for 4 KiB and 64 KiB pages
 * at 1, 4 and 16 MiB. Prints physical/translated time (goal >= 0.9); asserts
 * nothing about time.
 *
 * The machine is shared, so one long measurement says more about the neighbours
 * than about the MMU. Instead: many short samples (about 8 MiB moved each, a
 * millisecond or so: most of them run without being preempted), the two kinds
 * strictly alternating, each physical sample paired with the VA sample next to it.
 * The ratio is the median over the pairs (a slow phase of the host slows both of a
 * pair; a preempted sample spoils one pair, which the median ignores), and the
 * ratio of the best of each kind is printed beside it. Only hw_run_idle is timed:
 * the packets are written before the clock starts. The clock is the thread's CPU
 * time: while the thread is descheduled the time is a neighbour's, not the MMU's
 * (on an idle machine the two clocks agree; the ratio of the best wall times is
 * printed last, to show how far they do).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <gpusim/hw.h>

#define MiB (1024ull * 1024)
#define SAMPLE_BYTES (8 * MiB) /* moved per sample (at least one COPY) */
#define SAMPLES 101            /* of each kind, after one untimed warm-up pair */
#define RING 1                 /* the copy (paging) engine */

/* VRAM (1G): ring, page tables, source, destination. */
#define RING_OFF 0x0ull
#define PKT_BYTES 28u
#define RING_PKTS 64u
#define RING_SIZE (PKT_BYTES * RING_PKTS)
#define PT_OFF (4 * MiB)
#define SRC_OFF (64 * MiB)
#define DST_OFF (512 * MiB)
/* Far apart, and equally aligned: page n of the source and page n of the
 * destination compete for the same TLB set, as buffers of a real workload do. */
#define VA_SRC 0x100000000000ull /* 16 TiB */
#define VA_DST 0x200000000000ull /* 32 TiB */

static const uint64_t sizes[] = { MiB, 4 * MiB, 16 * MiB };
#define NSIZES (sizeof sizes / sizeof sizes[0])

static uint8_t *vram;
static uint64_t pt_next;

static double now_s(clockid_t clock)
{
	struct timespec ts;

	clock_gettime(clock, &ts);
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

struct bench_ring {
	struct hw_device *dev;
	uint8_t *buf; /* the ring through BAR2 */
	uint32_t wptr;
};

static void check_clean(struct bench_ring *r)
{
	uint32_t cause = hw_mmio_read(r->dev, HW_REG_FAULT_CAUSE);
	uint32_t rptr = hw_mmio_read(r->dev, HW_REG_RING(RING, HW_RING_RPTR));

	if (cause != HW_FAULT_NONE || rptr != r->wptr) {
		fprintf(stderr, "bench_mmu: device fault %u (rptr %u, wptr %u)\n", cause, rptr, r->wptr);
		exit(1);
	}
}

/* `reps` COPYs of `bytes`, physical (root 0) or through the address space at root:
 * the packets and registers are written untimed; returns the CPU seconds of the
 * run, and its wall seconds in *wall. */
static double sample(struct bench_ring *r, uint64_t root, uint64_t bytes, unsigned reps, double *wall)
{
	uint64_t src = root ? VA_SRC : SRC_OFF, dst = root ? VA_DST : DST_OFF;
	const uint32_t pkt[7] = {
		HW_PKT_HEADER(HW_PKT_COPY, 0, 6), (uint32_t)src, (uint32_t)(src >> 32),
		(uint32_t)dst, (uint32_t)(dst >> 32), (uint32_t)bytes, (uint32_t)(bytes >> 32),
	};
	struct hw_device *dev = r->dev;

	/* Switching the mode flushes nothing: the TLB keeps its entries between samples. */
	hw_mmio_write(dev, HW_REG_RING(RING, HW_RING_VM_ROOT_LO), (uint32_t)root);
	hw_mmio_write(dev, HW_REG_RING(RING, HW_RING_VM_ROOT_HI), (uint32_t)(root >> 32));
	hw_mmio_write(dev, HW_REG_RING(RING, HW_RING_VM_ASID), 1);
	hw_mmio_write(dev, HW_REG_RING(RING, HW_RING_VM_CTRL), root ? HW_VM_CTRL_ENABLE : 0);
	for (unsigned i = 0; i < reps; i++) {
		for (unsigned j = 0; j < 7; j++)
			put32(r->buf + r->wptr + 4 * j, pkt[j]);
		r->wptr = (r->wptr + PKT_BYTES) % RING_SIZE;
	}
	hw_mmio_write(dev, HW_REG_RING(RING, HW_RING_WPTR), r->wptr);
	double w0 = now_s(CLOCK_MONOTONIC), t0 = now_s(CLOCK_THREAD_CPUTIME_ID);
	hw_mmio_write(dev, HW_REG_RING(RING, HW_RING_DOORBELL), 1);
	hw_run_idle(dev);
	double t = now_s(CLOCK_THREAD_CPUTIME_ID) - t0;
	*wall = now_s(CLOCK_MONOTONIC) - w0;
	check_clean(r);
	return t;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static double median(double *v, size_t n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static double best(const double *v, size_t n)
{
	double b = v[0];
	for (size_t i = 1; i < n; i++)
		if (v[i] < b)
			b = v[i];
	return b;
}

static void bench(const char *vm_tlb, int large)
{
	struct hw_config cfg;
	struct bench_ring r = { 0 };
	uint64_t max = sizes[NSIZES - 1], root;
	int rc;

	hw_config_default(&cfg);
	if ((rc = hw_config_set(&cfg, "vram", "1G")) || (rc = hw_config_set(&cfg, "visible", "256M")) ||
	    (rc = hw_config_set(&cfg, "sysmem", "64M")) || (rc = hw_config_set(&cfg, "vm_tlb", vm_tlb)))
		die("hw_config_set", rc);
	if ((rc = hw_device_create(&cfg, &r.dev)) != 0)
		die("hw_device_create", rc);
	vram = hw_debug_vram(r.dev, 0, cfg.vram);
	r.buf = hw_bar2_map(r.dev, RING_OFF, RING_SIZE);
	if (!vram || !r.buf)
		die("setup", -ENOMEM);
	pt_next = PT_OFF;
	root = pt_alloc();
	map(root, VA_SRC, SRC_OFF, max, large);
	map(root, VA_DST, DST_OFF, max, large);
	for (uint64_t i = 0; i < max; i++)
		vram[SRC_OFF + i] = (uint8_t)(i * 131 + 7);
	memset(vram + DST_OFF, 0, max);
	hw_mmio_write(r.dev, HW_REG_RING(RING, HW_RING_BASE_LO), RING_OFF);
	hw_mmio_write(r.dev, HW_REG_RING(RING, HW_RING_BASE_HI), 0);
	hw_mmio_write(r.dev, HW_REG_RING(RING, HW_RING_SIZE), RING_SIZE);
	hw_mmio_write(r.dev, HW_REG_RING(RING, HW_RING_CTRL), HW_RING_CTRL_ENABLE);

	printf("\n%s pages, vm_tlb=%s\n", large ? "64 KiB" : "4 KiB", vm_tlb);
	printf("%8s %5s | %10s %10s | %10s %10s | %6s %6s | %7s | %5s\n", "size", "COPYs", "phys med",
	       "VA med", "phys best", "VA best", "ratio", "best", "TLB hit", "wall");
	for (size_t s = 0; s < NSIZES; s++) {
		uint64_t size = sizes[s];
		unsigned reps = size >= SAMPLE_BYTES ? 1 : (unsigned)(SAMPLE_BYTES / size);
		double tp[SAMPLES], tv[SAMPLES], pair[SAMPLES], wp[SAMPLES], wv[SAMPLES], w;
		struct hw_mmu_stats a, b;

		hw_mmio_write(r.dev, HW_REG_RING(RING, HW_RING_VM_INVALIDATE), HW_VM_INVALIDATE_ALL);
		sample(&r, 0, size, reps, &w); /* warm-up: caches, the TLB, host page faults */
		sample(&r, root, size, reps, &w);
		hw_mmu_get_stats(r.dev, &a);
		for (int i = 0; i < SAMPLES; i++) {
			/* Which kind goes first alternates too, so neither always follows the other. */
			if (i % 2) {
				tv[i] = sample(&r, root, size, reps, &wv[i]);
				tp[i] = sample(&r, 0, size, reps, &wp[i]);
			} else {
				tp[i] = sample(&r, 0, size, reps, &wp[i]);
				tv[i] = sample(&r, root, size, reps, &wv[i]);
			}
		}
		hw_mmu_get_stats(r.dev, &b);
		for (int i = 0; i < SAMPLES; i++)
			pair[i] = tp[i] / tv[i];
		if (memcmp(vram + DST_OFF, vram + SRC_OFF, size) != 0)
			die("copied data differs", -EIO);
		double bp = best(tp, SAMPLES), bv = best(tv, SAMPLES);
		double mp = median(tp, SAMPLES), mv = median(tv, SAMPLES), ratio = median(pair, SAMPLES);
		uint64_t hits = b.tlb_hits - a.tlb_hits, all = hits + b.tlb_misses - a.tlb_misses;
		/* Times per COPY, in microseconds. */
		printf("%4llu MiB %5u | %8.1fus %8.1fus | %8.1fus %8.1fus | %6.3f %6.3f | %6.1f%% | %5.3f\n",
		       (unsigned long long)(size / MiB), reps, mp / reps * 1e6, mv / reps * 1e6,
		       bp / reps * 1e6, bv / reps * 1e6, ratio, bp / bv,
		       all ? 100.0 * (double)hits / (double)all : 0.0, best(wp, SAMPLES) / best(wv, SAMPLES));
	}
	hw_device_destroy(r.dev);
}

int main(void)
{
	printf("COPY on the copy engine, VRAM -> VRAM: physical vs through the GPU MMU\n");
	printf("%d alternating samples of each, ~%llu MiB moved per sample; CPU time per COPY;\n"
	       "ratio = physical time / VA time: the median over adjacent pairs, and of the\n"
	       "best of each kind (goal >= 0.9); wall: the ratio of the best wall times\n",
	       SAMPLES, (unsigned long long)(SAMPLE_BYTES / MiB));
	bench("512", 0);   /* the default TLB: 2 MiB of 4 KiB pages per engine */
	bench("16384", 0); /* a TLB that holds both 16 MiB ranges */
	bench("512", 1);   /* 64 KiB pages: 32 MiB per engine in the default TLB */
	return 0;
}
