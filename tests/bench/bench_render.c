/*
 * `make bench`: how long the viewer takes to draw one frame (vw_render_surface, the
 * software renderer, headless) of a model with 10^3, 10^4 and 10^5 allocations.
 * Reports the best of several frames; asserts nothing.
 */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <SDL.h>

#include "sim/view/app.h"
#include "sim/view/model.h"
#include "sim/view/render.h"

#define MiB (1024ull * 1024ull)
#define GiB (1024ull * MiB)

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void apply(struct vm_model *m, uint32_t type, uint32_t h, uint32_t seg, uint64_t off, uint64_t size,
		  uint64_t t)
{
	struct gpusim_trace_item it;
	memset(&it, 0, sizeof(it));
	it.type = GPUSIM_TRACE_EVENT;
	it.event.type = type;
	it.event.time_ns = t;
	it.event.device = 0x40001001u + (h % 4) * 0x40;
	it.event.allocation = h;
	it.event.segment = seg;
	it.event.from_segment = type == GPUSIM_EV_EVICT ? seg : 0;
	it.event.offset = off;
	it.event.size = size;
	it.event.value = size;
	it.event.priority = 0x28000000u * (1 + h % 5);
	it.event.preferred = 1 + h % 3;
	vm_apply(m, &it);
}

/* n allocations spread over the three segments of an 8 GiB board (256 MiB visible,
 * a 2 GiB GART), each segment packed with gaps; every tenth allocation evicted. */
static void build(struct vm_model *m, uint32_t n)
{
	struct gpusim_trace_adapter ad;
	memset(&ad, 0, sizeof(ad));
	ad.vram = 8 * GiB;
	ad.visible = 256 * MiB;
	ad.gart = 2 * GiB;
	ad.sysmem = 32 * GiB;
	ad.seg_size[GPUSIM_SEG_VISIBLE] = 256 * MiB;
	ad.seg_size[GPUSIM_SEG_INVISIBLE] = 8 * GiB - 256 * MiB;
	ad.seg_size[GPUSIM_SEG_GART] = 2 * GiB;
	ad.budget_local = 8 * GiB;
	ad.budget_nonlocal = 2 * GiB;
	strcpy(ad.policy, "priority-lru");
	vm_init(m, &ad);
	uint64_t t = 0;
	for (uint32_t s = 1; s <= 3; s++) {
		uint32_t k = n / 3 + (s <= n % 3);
		uint64_t slot = ad.seg_size[s] / (k ? k : 1);
		for (uint32_t i = 0; i < k; i++) {
			uint32_t h = 0x40000000u | ((s * 1000000u + i) << 6) | 1u;
			/* Sizes between a quarter and all of the slot, page aligned. */
			uint64_t size = (slot / 4 + (slot * 3 / 4) * ((h >> 6) % 7) / 6) & ~4095ull;
			apply(m, GPUSIM_EV_CREATE, h, s, (uint64_t)i * slot, size ? size : 4096, t += 1000);
			if (i % 10 == 9)
				apply(m, GPUSIM_EV_EVICT, h, GPUSIM_SEG_SYS, 0, size, t += 1000);
		}
	}
	vm_refresh(m);
}

int main(void)
{
	setenv("SDL_VIDEODRIVER", "dummy", 1);
	if (SDL_Init(SDL_INIT_VIDEO) != 0) {
		fprintf(stderr, "bench_render: SDL_Init: %s\n", SDL_GetError());
		return 1;
	}
	static const uint32_t sizes[] = { 1000, 10000, 100000 };
	printf("%-12s %10s %12s %12s\n", "allocations", "frame", "build", "frame/alloc");
	for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
		struct vm_model m;
		build(&m, sizes[k]);
		struct vw_options opt = { .colour = VW_COLOUR_ALLOCATION };
		double best = 1e30, best_build = 1e30;
		for (int rep = 0; rep < 7; rep++) {
			double t0 = now_ms();
			SDL_Surface *s = vw_render_surface(&m, &opt, 1280, 800);
			double t1 = now_ms();
			if (!s) {
				fprintf(stderr, "bench_render: %s\n", SDL_GetError());
				return 1;
			}
			SDL_FreeSurface(s);
			if (t1 - t0 < best)
				best = t1 - t0;
			/* The model-dependent part alone: cell maps, free blocks. */
			struct vw_view v;
			struct vw_frame f;
			vw_view_init(&v, &opt);
			t0 = now_ms();
			vw_frame_build(&f, &m, &v, 1280, 800);
			t1 = now_ms();
			vw_frame_free(&f);
			if (t1 - t0 < best_build)
				best_build = t1 - t0;
		}
		printf("%-12u %7.2f ms %9.2f ms %9.3f us\n", sizes[k], best, best_build, best * 1e3 / sizes[k]);
		vm_free(&m);
	}
	SDL_Quit();
	return 0;
}
