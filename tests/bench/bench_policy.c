/*
 * `make bench`: bytes paged by each eviction policy on a synthetic frame-by-frame
 * workload at 1.5x and 2x oversubscription, against the offline optimum (Belady's
 * MIN) computed here on the same reference trace from the same starting state.
 * Every allocation is 256 KiB, VRAM only, written once before the measurement so
 * every eviction writes back and every miss pages in. Asserts nothing.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gpusim/d3dkmthk.h>
#include <gpusim/gpusim.h>

#define ASIZE (256u * 1024)
#define FRAMES 400
#define MAXSET 512

struct trace {
	uint32_t n;                  /* allocations */
	uint32_t len[FRAMES];
	uint32_t *set[FRAMES];       /* allocation indices per frame */
};

static uint64_t rng(uint64_t *s)
{
	uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
	return z ^ (z >> 31);
}

static void add(struct trace *t, uint32_t f, uint32_t a)
{
	for (uint32_t i = 0; i < t->len[f]; i++)
		if (t->set[f][i] == a)
			return;
	t->set[f][t->len[f]++] = a;
}

/* A camera moving through a world: a window of consecutive allocations slides
 * forward, a few render targets (the first allocations, high priority) are used
 * every third frame, and a sprinkle of random look-ups. */
static void make_trace(struct trace *t, uint32_t n, uint32_t cap)
{
	uint64_t s = 42;
	uint32_t statics = cap / 10, window = cap / 2, step = cap / 25 + 1;
	t->n = n;
	for (uint32_t f = 0; f < FRAMES; f++) {
		t->set[f] = malloc(MAXSET * sizeof(uint32_t));
		t->len[f] = 0;
		if (f % 3 == 0)
			for (uint32_t i = 0; i < statics; i++)
				add(t, f, i);
		uint32_t world = n - statics;
		for (uint32_t i = 0; i < window; i++)
			add(t, f, statics + (f * step + i) % world);
		for (uint32_t i = 0; i < cap / 20; i++)
			add(t, f, statics + (uint32_t)(rng(&s) % world));
	}
}

/* Belady's MIN with whole-frame working sets: on a miss with no free slot, evict
 * the resident allocation (not in this frame) whose next use is farthest. */
static uint64_t belady(const struct trace *t, uint32_t cap, const uint8_t *resident0)
{
	uint8_t *res = malloc(t->n);
	uint32_t *next = malloc(t->n * sizeof(uint32_t));
	uint8_t *in_frame = calloc(t->n, 1);
	uint32_t count = 0;
	uint64_t bytes = 0;
	memcpy(res, resident0, t->n);
	for (uint32_t i = 0; i < t->n; i++)
		count += res[i];
	for (uint32_t f = 0; f < FRAMES; f++) {
		/* next use after frame f, for every allocation */
		for (uint32_t i = 0; i < t->n; i++)
			next[i] = UINT32_MAX;
		for (uint32_t g = FRAMES; g-- > f + 1;)
			for (uint32_t k = 0; k < t->len[g]; k++)
				next[t->set[g][k]] = g;
		for (uint32_t k = 0; k < t->len[f]; k++)
			in_frame[t->set[f][k]] = 1;
		for (uint32_t k = 0; k < t->len[f]; k++) {
			uint32_t a = t->set[f][k];
			if (res[a])
				continue;
			if (count == cap) {
				uint32_t victim = UINT32_MAX, far = 0;
				for (uint32_t i = 0; i < t->n; i++)
					if (res[i] && !in_frame[i] && (victim == UINT32_MAX || next[i] > far)) {
						victim = i;
						far = next[i];
					}
				res[victim] = 0;
				count--;
				bytes += ASIZE; /* written back */
			}
			res[a] = 1;
			count++;
			bytes += ASIZE; /* paged in */
		}
		for (uint32_t k = 0; k < t->len[f]; k++)
			in_frame[t->set[f][k]] = 0;
	}
	free(res);
	free(next);
	free(in_frame);
	return bytes;
}

static D3DKMT_HANDLE create(D3DKMT_HANDLE dev, uint32_t prio)
{
	struct gpusim_alloc_desc d = { .version = GPUSIM_ALLOC_DESC_VERSION, .size = ASIZE,
				       .allowed = GPUSIM_SEG_BIT(GPUSIM_SEG_VISIBLE) | GPUSIM_SEG_BIT(GPUSIM_SEG_INVISIBLE),
				       .priority = prio };
	D3DDDI_ALLOCATIONINFO2 info;
	memset(&info, 0, sizeof(info));
	info.pPrivateDriverData = &d;
	info.PrivateDriverDataSize = sizeof(d);
	D3DKMT_CREATEALLOCATION ca;
	memset(&ca, 0, sizeof(ca));
	ca.hDevice = dev;
	ca.NumAllocations = 1;
	ca.pAllocationInfo2 = &info;
	if (D3DKMTCreateAllocation2(&ca))
		abort();
	return info.hAllocation;
}

static uint32_t capacity(void)
{
	struct gpusim_config cfg;
	LUID luid;
	struct gpusim_stats st;
	gpusim_reset();
	gpusim_config_default(&cfg);
	gpusim_config_parse(&cfg, "vram=128M,visible=32M,gart=64M,sysmem=1G", NULL, 0);
	gpusim_adapter_create(&cfg, &luid);
	gpusim_get_stats(luid, &st);
	gpusim_reset();
	return (uint32_t)(st.seg[GPUSIM_SEG_VISIBLE].size / ASIZE + st.seg[GPUSIM_SEG_INVISIBLE].size / ASIZE);
}

/* Run the trace through the real API; returns bytes paged during the frames. */
static uint64_t run_policy(const char *policy, const struct trace *t, uint32_t statics, uint8_t *resident0)
{
	struct gpusim_config cfg;
	LUID luid;
	char spec[128];
	gpusim_reset();
	gpusim_config_default(&cfg);
	snprintf(spec, sizeof(spec), "vram=128M,visible=32M,gart=64M,sysmem=1G,policy=%s", policy);
	if (gpusim_config_parse(&cfg, spec, NULL, 0) || gpusim_adapter_create(&cfg, &luid))
		abort();
	D3DKMT_OPENADAPTERFROMLUID op = { .AdapterLuid = luid };
	D3DKMTOpenAdapterFromLuid(&op);
	D3DKMT_CREATEDEVICE cd = { .hAdapter = op.hAdapter };
	D3DKMTCreateDevice(&cd);
	D3DKMT_CREATECONTEXT cc;
	memset(&cc, 0, sizeof(cc));
	cc.hDevice = cd.hDevice;
	if (D3DKMTCreateContext(&cc))
		abort();
	D3DKMT_HANDLE *h = malloc(t->n * sizeof(*h));
	for (uint32_t i = 0; i < t->n; i++) {
		h[i] = create(cd.hDevice, i < statics ? D3DDDI_ALLOCATIONPRIORITY_HIGH : D3DDDI_ALLOCATIONPRIORITY_NORMAL);
		D3DKMT_LOCK2 lk = { .hDevice = cd.hDevice, .hAllocation = h[i] };
		if (D3DKMTLock2(&lk))
			abort();
		memset(lk.pData, (int)i, ASIZE); /* data, so that evictions must copy */
		D3DKMT_UNLOCK2 ul = { .hDevice = cd.hDevice, .hAllocation = h[i] };
		D3DKMTUnlock2(&ul);
	}
	for (uint32_t i = 0; i < t->n; i++) {
		struct gpusim_alloc_info info;
		gpusim_query_allocation(h[i], &info);
		resident0[i] = info.segment != GPUSIM_SEG_SYS;
	}
	struct gpusim_stats a, b;
	gpusim_get_stats(luid, &a);
	for (uint32_t f = 0; f < FRAMES; f++) {
		for (uint32_t k = 0; k < t->len[f]; k++) {
			cc.pAllocationList[k].hAllocation = h[t->set[f][k]];
			cc.pAllocationList[k].Value = 0;
		}
		D3DKMT_RENDER r;
		memset(&r, 0, sizeof(r));
		r.hContext = cc.hContext;
		r.AllocationCount = t->len[f];
		if (D3DKMTRender(&r))
			abort();
	}
	gpusim_idle(luid);
	gpusim_get_stats(luid, &b);
	free(h);
	gpusim_reset();
	return (b.bytes_in - a.bytes_in) + (b.bytes_out - a.bytes_out);
}

int main(void)
{
	uint32_t cap = capacity();
	static const double ratios[] = { 1.5, 2.0 };
	static const char *const policies[] = { "priority-lru", "lru" };
	printf("frame workload: %u frames, %u KiB allocations, VRAM holds %u of them\n", FRAMES, ASIZE / 1024, cap);
	printf("%8s %14s %14s %14s %10s\n", "oversub", "policy", "MiB paged", "MIN MiB", "ratio");
	for (int r = 0; r < 2; r++) {
		struct trace t;
		make_trace(&t, (uint32_t)(cap * ratios[r]), cap);
		uint8_t *res0 = malloc(t.n);
		for (int p = 0; p < 2; p++) {
			uint64_t bytes = run_policy(policies[p], &t, cap / 10, res0);
			uint64_t opt = belady(&t, cap, res0);
			printf("%7.1fx %14s %14.1f %14.1f %10.2f\n", ratios[r], policies[p], bytes / 1048576.0,
			       opt / 1048576.0, opt ? (double)bytes / (double)opt : 0.0);
		}
		free(res0);
		for (uint32_t f = 0; f < FRAMES; f++)
			free(t.set[f]);
	}
	return 0;
}
