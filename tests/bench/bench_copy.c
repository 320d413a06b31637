/*
 * `make bench`: how fast the simulator executes COPY packets (host wall-clock time,
 * outside the model) compared with a host memcpy of the same bytes, VRAM->VRAM and
 * VRAM->system memory through the GART. Prints ratios; asserts nothing.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <gpusim/hw.h>

#define MiB (1024ull * 1024)
#define GOAL (256 * MiB) /* bytes moved per measurement */
#define ROUNDS 3         /* best of */

/* Layout in VRAM (vram=1G, visible=256M): ring, GART table, source, destination. */
#define RING_OFF 0x0ull
#define PKT_BYTES 28u               /* COPY: header + 6 dwords */
#define RING_PKTS 16384u
#define RING_SIZE (PKT_BYTES * RING_PKTS)
#define TABLE_OFF (1 * MiB)         /* 512 MiB aperture: 1 MiB of entries */
#define SRC_OFF (64 * MiB)
#define DST_OFF (512 * MiB)

static const uint64_t sizes[] = { 4096, 64 * 1024, MiB, 16 * MiB, 64 * MiB };
#define NSIZES (sizeof sizes / sizeof sizes[0])

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void die(const char *what, int rc)
{
	fprintf(stderr, "bench_copy: %s failed (%d)\n", what, rc);
	exit(1);
}

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v, p[1] = (uint8_t)(v >> 8), p[2] = (uint8_t)(v >> 16), p[3] = (uint8_t)(v >> 24);
}

static void reg64(struct hw_device *dev, uint32_t lo, uint64_t v)
{
	hw_mmio_write(dev, lo, (uint32_t)v);
	hw_mmio_write(dev, lo + 4, (uint32_t)(v >> 32));
}

/* Fill the whole ring with identical COPY packets, so that submitting n of them is
 * only a WPTR write: the timed loop measures the engine, not packet writing. */
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

/* Run `reps` packets of the pre-filled ring in batches; return the wall time. */
static double run_copies(struct hw_device *dev, uint32_t *wptr, uint64_t reps)
{
	uint32_t ring = HW_REG_RING(0, 0);
	double t0 = now_s();

	while (reps > 0) {
		uint64_t n = reps < RING_PKTS - 1 ? reps : RING_PKTS - 1;
		*wptr = (uint32_t)((*wptr + n * PKT_BYTES) % RING_SIZE);
		hw_mmio_write(dev, ring + HW_RING_WPTR, *wptr);
		hw_mmio_write(dev, ring + HW_RING_DOORBELL, 1);
		hw_run_idle(dev);
		reps -= n;
	}
	return now_s() - t0;
}

static void check_clean(struct hw_device *dev, uint32_t wptr)
{
	uint32_t cause = hw_mmio_read(dev, HW_REG_FAULT_CAUSE);
	uint32_t rptr = hw_mmio_read(dev, HW_REG_RING(0, HW_RING_RPTR));

	if (cause != HW_FAULT_NONE || rptr != wptr) {
		fprintf(stderr, "bench_copy: device fault %u (rptr %u, wptr %u)\n", cause, rptr, wptr);
		exit(1);
	}
}

/* Keep the compiler from dropping copies whose results nobody reads. */
static void clobber(void *p)
{
	__asm__ volatile("" : : "r"(p) : "memory");
}

static double time_memcpy(uint8_t *dst, const uint8_t *src, uint64_t size, uint64_t reps)
{
	double t0 = now_s();

	for (uint64_t r = 0; r < reps; r++) {
		memcpy(dst, src, size);
		clobber(dst);
	}
	return now_s() - t0;
}

/* The same bytes as the GART copy: one memcpy per 4 KiB system page. */
static double time_memcpy_pages(uint8_t *const *pages, const uint8_t *src, uint64_t size,
				uint64_t reps)
{
	double t0 = now_s();

	for (uint64_t r = 0; r < reps; r++) {
		for (uint64_t off = 0; off < size; off += HW_PAGE_SIZE)
			memcpy(pages[off / HW_PAGE_SIZE], src + off, HW_PAGE_SIZE);
		clobber(pages[0]);
	}
	return now_s() - t0;
}

static double gbps(uint64_t bytes, double seconds)
{
	return seconds > 0 ? (double)bytes / seconds / 1e9 : 0.0;
}

int main(void)
{
	struct hw_config cfg;
	struct hw_device *dev = NULL;
	uint64_t max = sizes[NSIZES - 1], npages = max / HW_PAGE_SIZE;
	uint64_t *pfns;
	uint8_t **pages, *ring, *host_src, *host_dst, *vsrc, *vdst;
	uint32_t wptr = 0;
	int rc;

	hw_config_default(&cfg);
	if ((rc = hw_config_set(&cfg, "vram", "1G")) || (rc = hw_config_set(&cfg, "visible", "256M")) ||
	    (rc = hw_config_set(&cfg, "gart", "512M")) || (rc = hw_config_set(&cfg, "sysmem", "1G")))
		die("hw_config_set", rc);
	if ((rc = hw_device_create(&cfg, &dev)) != 0)
		die("hw_device_create", rc);

	/* Ring 0 over the whole packet area; the GART maps aperture page i to one system
	 * page each, for the largest size. */
	ring = hw_bar2_map(dev, RING_OFF, RING_SIZE);
	pfns = calloc(npages, sizeof *pfns);
	pages = calloc(npages, sizeof *pages);
	host_src = malloc(max);
	host_dst = malloc(max);
	vsrc = hw_debug_vram(dev, SRC_OFF, max);
	vdst = hw_debug_vram(dev, DST_OFF, max);
	if (!ring || !pfns || !pages || !host_src || !host_dst || !vsrc || !vdst)
		die("setup", -ENOMEM);
	reg64(dev, HW_REG_RING(0, HW_RING_BASE_LO), RING_OFF);
	hw_mmio_write(dev, HW_REG_RING(0, HW_RING_SIZE), RING_SIZE);
	hw_mmio_write(dev, HW_REG_RING(0, HW_RING_CTRL), HW_RING_CTRL_ENABLE);
	for (uint64_t i = 0; i < npages; i++) {
		uint8_t e[8];
		uint64_t entry;
		if ((rc = hw_sysmem_alloc(dev, &pfns[i])) != 0)
			die("hw_sysmem_alloc", rc);
		entry = HW_GART_ENTRY(pfns[i], HW_GART_VALID | HW_GART_READ | HW_GART_WRITE);
		for (unsigned b = 0; b < 8; b++)
			e[b] = (uint8_t)(entry >> (8 * b));
		if ((rc = hw_bar2_write(dev, TABLE_OFF + 8 * i, e, sizeof e)) != 0)
			die("hw_bar2_write", rc);
		pages[i] = hw_sysmem_page(dev, pfns[i]);
		if (!pages[i])
			die("hw_sysmem_page", -EINVAL);
	}
	reg64(dev, HW_REG_GART_TABLE_LO, TABLE_OFF);
	hw_mmio_write(dev, HW_REG_GART_CTRL, HW_GART_CTRL_ENABLE);
	hw_mmio_write(dev, HW_REG_TLB_INVALIDATE, HW_TLB_INVALIDATE_ALL);

	/* Warm up: every byte on both sides touched once before anything is timed. */
	for (uint64_t i = 0; i < max; i++)
		host_src[i] = vsrc[i] = (uint8_t)(i * 131 + 7);
	memset(host_dst, 0, max);
	memset(vdst, 0, max);
	for (uint64_t i = 0; i < npages; i++)
		memset(pages[i], 0, HW_PAGE_SIZE);

	printf("COPY packets vs host memcpy; best of %d, >= %llu MiB moved per size\n", ROUNDS,
	       (unsigned long long)(GOAL / MiB));
	for (int kind = 0; kind < 2; kind++) {
		uint64_t dst_gpu = kind == 0 ? DST_OFF : cfg.gart_base;

		printf("\n%s\n", kind == 0 ? "(a) VRAM -> VRAM" : "(b) VRAM -> system memory through the GART");
		printf("%10s %14s %14s %8s\n", "size", "GB/s model", "GB/s memcpy", "ratio");
		for (size_t s = 0; s < NSIZES; s++) {
			uint64_t size = sizes[s], reps = GOAL / size ? GOAL / size : 1;
			double best_model = 0, best_host = 0;

			fill_ring(ring, SRC_OFF, dst_gpu, size);
			run_copies(dev, &wptr, 1); /* one untimed packet */
			check_clean(dev, wptr);
			for (int round = 0; round < ROUNDS; round++) {
				double m = run_copies(dev, &wptr, reps);
				double h = kind == 0 ? time_memcpy(host_dst, host_src, size, reps)
						     : time_memcpy_pages(pages, host_src, size, reps);
				if (best_model == 0 || m < best_model)
					best_model = m;
				if (best_host == 0 || h < best_host)
					best_host = h;
			}
			check_clean(dev, wptr);
			if (memcmp(kind == 0 ? vdst : pages[size / HW_PAGE_SIZE - 1],
				   kind == 0 ? vsrc : vsrc + size - HW_PAGE_SIZE,
				   kind == 0 ? size : HW_PAGE_SIZE) != 0) {
				fprintf(stderr, "bench_copy: copied data differs\n");
				return 1;
			}
			double gm = gbps(reps * size, best_model), gh = gbps(reps * size, best_host);
			if (size >= MiB)
				printf("%7llu MiB %14.2f %14.2f %8.3f\n", (unsigned long long)(size / MiB),
				       gm, gh, gh > 0 ? gm / gh : 0.0);
			else
				printf("%7llu KiB %14.2f %14.2f %8.3f\n",
				       (unsigned long long)(size / 1024), gm, gh, gh > 0 ? gm / gh : 0.0);
		}
	}
	printf("\nratio = model / memcpy (1.0: the simulator copies as fast as the host)\n");

	for (uint64_t i = 0; i < npages; i++)
		hw_sysmem_free(dev, pfns[i]);
	hw_device_destroy(dev);
	free(pfns);
	free(pages);
	free(host_src);
	free(host_dst);
	return 0;
}
