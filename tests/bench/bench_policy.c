/*
 * `make bench`: bytes paged by every eviction policy on six synthetic workloads,
 * against the offline optimum (Belady's MIN) computed here on the same reference
 * trace from the same starting state. Every allocation is 256 KiB, VRAM only,
 * written once before the measurement so every eviction writes back and every miss
 * pages in. One table; the default policy's rows carry `*`. For the frame workload
 * a second reference: MIN's rule with a future that lacks the random look-ups (it
 * knows where the window goes), what knowing the frame's structure can buy an
 * online policy at best. Asserts nothing.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gpusim/d3dkmthk.h>
#include <gpusim/gpusim.h>

#define ASIZE (256u * 1024)
#define FRAMES 400
#define MAXSET 1024

/* A reference trace: per frame, the allocations one submission uses. `plain`, when
 * set, is the same trace without its random look-ups (see frame_trace). */
struct trace {
	const char *name;
	uint32_t n;                  /* allocations */
	uint32_t high;               /* allocations [0, high) are created HIGH priority */
	uint32_t len[FRAMES];
	uint32_t *set[FRAMES];
	struct trace *plain;
};

static uint64_t rng(uint64_t *s)
{
	uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
	return z ^ (z >> 31);
}

static double unit(uint64_t *s)
{
	return (double)(rng(s) >> 11) / 9007199254740992.0;
}

static struct trace *trace_new(const char *name, uint32_t n)
{
	struct trace *t = calloc(1, sizeof(*t));
	t->name = name;
	t->n = n;
	for (uint32_t f = 0; f < FRAMES; f++)
		t->set[f] = malloc(MAXSET * sizeof(uint32_t));
	return t;
}

static void trace_free(struct trace *t)
{
	if (!t)
		return;
	for (uint32_t f = 0; f < FRAMES; f++)
		free(t->set[f]);
	trace_free(t->plain);
	free(t);
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
static struct trace *frame_trace(uint32_t n, uint32_t cap)
{
	uint64_t s = 42;
	uint32_t statics = cap / 10, window = cap / 2, step = cap / 25 + 1;
	struct trace *t = trace_new("frame", n), *p = trace_new("frame", n);
	t->high = p->high = statics;
	t->plain = p;
	for (uint32_t f = 0; f < FRAMES; f++) {
		if (f % 3 == 0)
			for (uint32_t i = 0; i < statics; i++) {
				add(t, f, i);
				add(p, f, i);
			}
		uint32_t world = n - statics;
		for (uint32_t i = 0; i < window; i++) {
			add(t, f, statics + (f * step + i) % world);
			add(p, f, statics + (f * step + i) % world);
		}
		for (uint32_t i = 0; i < cap / 20; i++)
			add(t, f, statics + (uint32_t)(rng(&s) % world));
	}
	return t;
}

/* A hot set of half of VRAM, each member used by a frame with probability 0.4, and
 * a scan that walks over 1.5 times VRAM, an eighth of VRAM per frame. */
static struct trace *scan_trace(uint32_t cap)
{
	uint64_t s = 7;
	uint32_t hot = cap / 2, scan = cap + cap / 2, per = cap / 8;
	struct trace *t = trace_new("scan+hot", hot + scan);
	for (uint32_t f = 0; f < FRAMES; f++) {
		for (uint32_t i = 0; i < hot; i++)
			if (rng(&s) % 10 < 4)
				add(t, f, i);
		for (uint32_t i = 0; i < per; i++)
			add(t, f, hot + (f * per + i) % scan);
	}
	return t;
}

/* Ranks of a Zipf law with exponent alpha over n items, shuffled so that the
 * popular allocations are not the first ones created. */
struct zipf {
	uint32_t n;
	double *cdf;
	uint32_t *perm;
};

static void zipf_init(struct zipf *z, uint32_t n, double alpha, uint64_t *s)
{
	double sum = 0;
	z->n = n;
	z->cdf = malloc(n * sizeof(double));
	z->perm = malloc(n * sizeof(uint32_t));
	for (uint32_t i = 0; i < n; i++)
		z->cdf[i] = sum += 1.0 / pow(i + 1.0, alpha);
	for (uint32_t i = 0; i < n; i++) {
		z->cdf[i] /= sum;
		z->perm[i] = i;
	}
	for (uint32_t i = n - 1; i > 0; i--) {
		uint32_t j = (uint32_t)(rng(s) % (i + 1)), x = z->perm[i];
		z->perm[i] = z->perm[j];
		z->perm[j] = x;
	}
}

static uint32_t zipf_draw(const struct zipf *z, uint64_t *s)
{
	double u = unit(s);
	uint32_t lo = 0, hi = z->n - 1;
	while (lo < hi) {
		uint32_t mid = (lo + hi) / 2;
		if (z->cdf[mid] < u)
			lo = mid + 1;
		else
			hi = mid;
	}
	return z->perm[lo];
}

/* Each frame draws a quarter of VRAM's worth of allocations (repeats merge):
 * uniformly over 1.5 times VRAM, or by a Zipf law (exponent 0.9) over twice VRAM. */
static struct trace *random_trace(uint32_t cap, bool zipf)
{
	uint64_t s = zipf ? 13 : 11;
	uint32_t n = zipf ? 2 * cap : cap + cap / 2;
	struct trace *t = trace_new(zipf ? "zipf" : "uniform", n);
	struct zipf z;
	if (zipf)
		zipf_init(&z, n, 0.9, &s);
	for (uint32_t f = 0; f < FRAMES; f++)
		for (uint32_t i = 0; i < cap / 4; i++)
			add(t, f, zipf ? zipf_draw(&z, &s) : (uint32_t)(rng(&s) % n));
	if (zipf) {
		free(z.cdf);
		free(z.perm);
	}
	return t;
}

/* Two levels of a game: the first half of the frames draws from one set of 1.2
 * times VRAM, the second half from another, each by a Zipf law (exponent 0.8). */
static struct trace *phase_trace(uint32_t cap)
{
	uint64_t s = 17;
	uint32_t per = cap + cap / 5;
	struct trace *t = trace_new("phases", 2 * per);
	struct zipf z;
	zipf_init(&z, per, 0.8, &s);
	for (uint32_t f = 0; f < FRAMES; f++)
		for (uint32_t i = 0; i < cap / 4; i++)
			add(t, f, (f < FRAMES / 2 ? 0 : per) + zipf_draw(&z, &s));
	free(z.cdf);
	free(z.perm);
	return t;
}

/* Belady's MIN with whole-frame working sets: on a miss with no free slot, evict
 * the resident allocation (not in this frame) whose next use in `future` is
 * farthest. With future == t that is the offline optimum; with the trace stripped
 * of its random look-ups it is a policy that knows everything but those. */
static uint64_t belady(const struct trace *t, const struct trace *future, uint32_t cap,
		       const uint8_t *resident0)
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
			for (uint32_t k = 0; k < future->len[g]; k++)
				next[future->set[g][k]] = g;
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

#define ADAPTER "vram=128M,visible=32M,gart=64M,sysmem=1G"

static uint32_t capacity(void)
{
	struct gpusim_config cfg;
	LUID luid;
	struct gpusim_stats st;
	gpusim_reset();
	gpusim_config_default(&cfg);
	gpusim_config_parse(&cfg, ADAPTER, NULL, 0);
	gpusim_adapter_create(&cfg, &luid);
	gpusim_get_stats(luid, &st);
	gpusim_reset();
	return (uint32_t)(st.seg[GPUSIM_SEG_VISIBLE].size / ASIZE + st.seg[GPUSIM_SEG_INVISIBLE].size / ASIZE);
}

/* Run the trace through the real API; returns bytes paged during the frames and
 * fills resident0 with where the allocations were when they began. */
static uint64_t run_policy(const char *policy, const struct trace *t, uint8_t *resident0)
{
	struct gpusim_config cfg;
	LUID luid;
	char spec[128];
	gpusim_reset();
	gpusim_config_default(&cfg);
	snprintf(spec, sizeof(spec), ADAPTER ",policy=%s", policy);
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
		h[i] = create(cd.hDevice, i < t->high ? D3DDDI_ALLOCATIONPRIORITY_HIGH : D3DDDI_ALLOCATIONPRIORITY_NORMAL);
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
	struct gpusim_config def;
	gpusim_config_default(&def);
	struct trace *traces[] = {
		frame_trace(cap + cap / 2, cap), frame_trace(2 * cap, cap), scan_trace(cap),
		random_trace(cap, false), random_trace(cap, true), phase_trace(cap),
	};
	const unsigned ntraces = sizeof(traces) / sizeof(traces[0]);
	printf("%u frames, %u KiB allocations, VRAM holds %u of them; oversub = allocations / VRAM\n",
	       FRAMES, ASIZE / 1024, cap);
	printf("%-9s %7s   %-13s %11s %11s %7s\n", "workload", "oversub", "policy", "MiB paged", "MIN MiB",
	       "ratio");
	for (unsigned w = 0; w < ntraces; w++) {
		struct trace *t = traces[w];
		uint8_t *res0 = malloc(t->n);
		double blind = 0;
		for (unsigned p = 0; gpusim_policy_name(p); p++) {
			const char *name = gpusim_policy_name(p);
			uint64_t bytes = run_policy(name, t, res0);
			uint64_t opt = belady(t, t, cap, res0);
			printf("%-9s %6.1fx %c %-13s %11.1f %11.1f %7.2f\n", t->name, (double)t->n / cap,
			       strcmp(name, def.policy) ? ' ' : '*', name, bytes / 1048576.0, opt / 1048576.0,
			       opt ? (double)bytes / (double)opt : 0.0);
			if (t->plain && !strcmp(name, def.policy) && opt)
				blind = (double)belady(t, t->plain, cap, res0) / (double)opt;
		}
		if (t->plain)
			printf("%-9s %6.1fx   (MIN blind to the random look-ups: %.2f)\n", t->name,
			       (double)t->n / cap, blind);
		free(res0);
		trace_free(t);
	}
	return 0;
}
