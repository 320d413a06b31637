/*
 * `make bench`: the standard allocation workload for the segment sub-allocator,
 * against a naive first-fit baseline (tests/bench/firstfit.c) in the same run.
 *
 * Workload: a 64 GiB segment, 4 KiB granule. L live allocations of log-uniform
 * sizes from 4 KiB to 256 KiB (size = 4 KiB * 2^(6u) rounded up to 4 KiB, u uniform
 * in [0,1), alignment 4 KiB), then 2x10^6 steps that each destroy a uniformly
 * random live allocation and create a new one in its place. An allocation refused
 * with -ENOSPC leaves its place empty (the next step there only creates); the
 * refusals are counted. Reported: ns per step (CLOCK_MONOTONIC; for ours also the
 * thread's CPU time) for L = 10^3..10^6, fragmentation and fill at the end, for
 * both allocators. The harness draws each victim one step ahead and prefetches its
 * entry in its own id table, so that the table's cache misses (4 MB at L = 10^6)
 * are not charged to the allocators; ours is also run without that prefetch
 * ("no-pf"). The baseline gets a time budget per
 * L; where it runs out, the ratio compares the same first steps of both.
 * Deterministic (fixed seed); asserts nothing.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "kmt/vidmm/suballoc.h"
#include "tests/bench/firstfit.h"

#define SEGMENT (64ull << 30)
#define GRANULE 4096ull
#define STEPS 2000000ull
#define BATCH 4096ull
#define SEED 0x5EEDB0B5CAFEF00Dull
#define BASELINE_BUDGET_NS 12000000000ull      /* per L */
#define EMPTY UINT32_MAX

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* The thread's CPU time: on a machine shared with other jobs it leaves out the
 * time this thread was not running (see bench_api.c). */
static uint64_t cpu_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static inline uint64_t splitmix64(uint64_t *state)
{
	uint64_t z = (*state += 0x9E3779B97F4A7C15ull);
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
	return z ^ (z >> 31);
}

/*
 * Sizes by inverse CDF, without libm: ceil(2^(6u)) <= m  <=>  u <= log2(m)/6, so
 * with u as a 53-bit integer the size in granules is the least m whose threshold
 * floor(2^53 * log2(m) / 6) is >= u. A 4096-entry table indexed by the top 12 bits
 * of u gives that m for the bucket's start; thresholds are further apart than a
 * bucket is wide, so one comparison finishes the job (no unpredictable search
 * branches in the timed loop).
 */
#define BUCKET_BITS 12
static uint64_t thresh[65];
static uint8_t bucket_m[1u << BUCKET_BITS];

static double log2_of(double x)         /* x >= 1 */
{
	double k = 0;
	while (x >= 2.0) {
		x /= 2.0;
		k += 1.0;
	}
	/* ln x = 2 atanh(z), z = (x-1)/(x+1) <= 1/3 */
	double z = (x - 1.0) / (x + 1.0), z2 = z * z, term = z, sum = 0;
	for (int i = 1; i < 80; i += 2) {
		sum += term / i;
		term *= z2;
	}
	return k + 2.0 * sum / 0.69314718055994530942;
}

static void init_sizes(void)
{
	thresh[0] = 0;
	for (unsigned m = 1; m < 64; m++)
		thresh[m] = (uint64_t)(9007199254740992.0 * log2_of(m) / 6.0);
	thresh[64] = UINT64_MAX;
	for (unsigned b = 0, m = 1; b < (1u << BUCKET_BITS); b++) {
		uint64_t u0 = (uint64_t)b << (53 - BUCKET_BITS);
		while (thresh[m] < u0)
			m++;
		bucket_m[b] = (uint8_t)m;
	}
}

static inline uint64_t draw_size(uint64_t *rng)
{
	uint64_t u = splitmix64(rng) >> 11;
	unsigned m = bucket_m[u >> (53 - BUCKET_BITS)];
	m += thresh[m] < u;
	return m * GRANULE;
}

static inline uint32_t draw_index(uint64_t *rng, uint32_t n)
{
	return (uint32_t)(((splitmix64(rng) >> 32) * n) >> 32);
}

/* ---- the two allocators behind one shape ------------------------------------ */

struct impl {
	const char *name;
	int (*create)(uint64_t size, uint64_t granule, void **out);
	void (*destroy)(void *h);
	int (*alloc)(void *h, uint64_t size, uint64_t align, uint32_t *id, uint64_t *off);
	int (*free)(void *h, uint32_t id);
	void (*stats)(void *h, double *frag, double *fill);
};

static int sa_create(uint64_t size, uint64_t granule, void **out)
{
	return vidmm_suballoc_create(size, granule, (struct vidmm_suballoc **)out);
}
static void sa_destroy(void *h) { vidmm_suballoc_destroy(h); }
static int sa_alloc(void *h, uint64_t size, uint64_t align, uint32_t *id, uint64_t *off)
{
	return vidmm_suballoc_alloc(h, size, align, id, off);
}
static int sa_free(void *h, uint32_t id) { return vidmm_suballoc_free(h, id); }
static void sa_stats(void *h, double *frag, double *fill)
{
	struct vidmm_suballoc_stats st;
	vidmm_suballoc_get_stats(h, &st);
	*frag = st.fragmentation;
	*fill = (double)st.used / (double)st.size;
}

static int ff_create(uint64_t size, uint64_t granule, void **out)
{
	return firstfit_create(size, granule, (struct firstfit **)out);
}
static void ff_destroy(void *h) { firstfit_destroy(h); }
static int ff_alloc(void *h, uint64_t size, uint64_t align, uint32_t *id, uint64_t *off)
{
	return firstfit_alloc(h, size, align, id, off);
}
static int ff_free(void *h, uint32_t id) { return firstfit_free(h, id); }
static void ff_stats(void *h, double *frag, double *fill)
{
	struct firstfit_stats st;
	firstfit_get_stats(h, &st);
	*frag = st.fragmentation;
	*fill = (double)st.used / (double)st.size;
}

static const struct impl impl_vidmm = {
	"vidmm", sa_create, sa_destroy, sa_alloc, sa_free, sa_stats
};
static const struct impl impl_firstfit = {
	"firstfit", ff_create, ff_destroy, ff_alloc, ff_free, ff_stats
};

/* ---- the workload ------------------------------------------------------------ */

struct result {
	uint64_t steps;         /* steps run */
	double ns;              /* per step, all steps */
	double cpu_ns;          /* the same in the thread's CPU time */
	double ns_prefix;       /* per step, over the first prefix steps */
	uint64_t enospc;        /* refused creations, fill and steps */
	double frag, fill;      /* at the end */
	bool ok;
};

/* Inlined into each caller with a constant impl, so the calls are direct. */
static inline __attribute__((always_inline)) void
workload(const struct impl *im, uint32_t L, uint64_t budget_ns, uint64_t prefix,
	 bool prefetch, struct result *res)
{
	void *h = NULL;
	uint32_t *ids = malloc((size_t)L * sizeof(*ids));
	uint64_t rng = SEED, off;

	res->ok = false;
	if (!ids || im->create(SEGMENT, GRANULE, &h)) {
		free(ids);
		return;
	}
	res->enospc = 0;
	for (uint32_t i = 0; i < L; i++) {
		if (im->alloc(h, draw_size(&rng), 0, &ids[i], &off)) {
			ids[i] = EMPTY;
			res->enospc++;
		}
	}

	/*
	 * The victim is drawn one step ahead; with prefetch, its entry in the id
	 * table (4 MB at L = 10^6) is fetched meanwhile, so that the table's own
	 * cache misses are not charged to the allocator.
	 */
	uint32_t next = draw_index(&rng, L);
	uint64_t t0 = now_ns(), t = t0, tprefix = 0, steps = 0, c0 = cpu_now_ns();
	while (steps < STEPS) {
		uint64_t n = STEPS - steps < BATCH ? STEPS - steps : BATCH;
		for (uint64_t k = 0; k < n; k++) {
			uint32_t i = next;
			next = draw_index(&rng, L);
			if (prefetch)
				__builtin_prefetch(&ids[next]);
			if (ids[i] != EMPTY)
				im->free(h, ids[i]);
			if (im->alloc(h, draw_size(&rng), 0, &ids[i], &off)) {
				ids[i] = EMPTY;
				res->enospc++;
			}
		}
		steps += n;
		t = now_ns();
		if (steps == prefix)
			tprefix = t;
		if (budget_ns && t - t0 >= budget_ns)
			break;
	}
	res->steps = steps;
	res->cpu_ns = (double)(cpu_now_ns() - c0) / (double)steps;
	res->ns = (double)(t - t0) / (double)steps;
	res->ns_prefix = tprefix ? (double)(tprefix - t0) / (double)prefix : res->ns;
	im->stats(h, &res->frag, &res->fill);
	im->destroy(h);
	free(ids);
	res->ok = true;
}

static void run_vidmm(uint32_t L, uint64_t prefix, bool prefetch, struct result *res)
{
	workload(&impl_vidmm, L, 0, prefix, prefetch, res);
}

static void run_firstfit(uint32_t L, struct result *res)
{
	workload(&impl_firstfit, L, BASELINE_BUDGET_NS, 0, true, res);
}

int main(void)
{
	static const uint32_t Ls[] = { 1000, 10000, 100000, 1000000 };
	enum { NL = sizeof(Ls) / sizeof(Ls[0]) };
	struct result ours[NL], raw[NL], base[NL];
	bool truncated = false;

	init_sizes();
	printf("Standard allocation workload: 64 GiB segment, 4 KiB granule, sizes log-uniform\n"
	       "4 KiB..256 KiB (4 KiB aligned); L live allocations, then %llu steps of\n"
	       "destroy-a-random-one + create-a-new-one (splitmix64, seed %#llx).\n"
	       "ns = wall time per step; cpu = the thread's CPU time per step (leaves out\n"
	       "time spent waiting for a core on a shared machine). The harness prefetches\n"
	       "the next victim's entry in its own id table (\"no-pf\": same run without\n"
	       "that prefetch, table misses included). firstfit (sorted list, linear\n"
	       "scan) gets %.0f s per L; where it stops early, first/ours compares the same\n"
	       "first steps of both.\n\n",
	       (unsigned long long)STEPS, (unsigned long long)SEED,
	       (double)BASELINE_BUDGET_NS / 1e9);
	printf("%9s | %8s %8s %8s %6s %6s %6s | %9s %8s %6s %6s %6s | %10s\n",
	       "L", "vidmm ns", "cpu ns", "no-pf ns", "frag", "fill", "ENOSPC",
	       "first ns", "steps", "frag", "fill", "ENOSPC", "first/ours");
	fflush(stdout);
	for (unsigned k = 0; k < NL; k++) {
		run_firstfit(Ls[k], &base[k]);
		run_vidmm(Ls[k], base[k].ok ? base[k].steps : STEPS, true, &ours[k]);
		run_vidmm(Ls[k], STEPS, false, &raw[k]);
		if (!ours[k].ok || !raw[k].ok || !base[k].ok) {
			printf("%9u | (setup failed: out of memory)\n", Ls[k]);
			continue;
		}
		bool cut = base[k].steps < STEPS;
		truncated |= cut;
		printf("%9u | %8.1f %8.1f %8.1f %6.3f %5.1f%% %6llu | %9.1f %7llu%s %6.3f %5.1f%% %6llu | %9.1fx\n",
		       Ls[k], ours[k].ns, ours[k].cpu_ns, raw[k].ns, ours[k].frag, 100 * ours[k].fill,
		       (unsigned long long)ours[k].enospc,
		       base[k].ns, (unsigned long long)base[k].steps, cut ? "*" : " ",
		       base[k].frag, 100 * base[k].fill, (unsigned long long)base[k].enospc,
		       base[k].ns / ours[k].ns_prefix);
		fflush(stdout);
	}
	if (truncated)
		printf("\n* firstfit ran out of its time budget before %llu steps: its ns/step covers\n"
		       "  only those first steps, while its free list was still growing (so it is an\n"
		       "  underestimate); first/ours compares ours over the same first steps.\n",
		       (unsigned long long)STEPS);
	if (ours[0].ok && ours[NL - 1].ok && raw[0].ok && raw[NL - 1].ok && base[0].ok && base[NL - 1].ok)
		printf("\ngrowth ns(L=10^6)/ns(L=10^3): vidmm %.2fx (cpu %.2fx, no-pf %.2fx), firstfit %.1fx\n",
		       ours[NL - 1].ns / ours[0].ns, ours[NL - 1].cpu_ns / ours[0].cpu_ns, raw[NL - 1].ns / raw[0].ns,
		       base[NL - 1].ns / base[0].ns);
	return 0;
}
