/*
 * `make bench`: what recording costs. One built-in scenario (small allocations,
 * two times more than VRAM holds, submits that page them in and out, churn) runs
 * RUNS times without a listener and RUNS times with the trace recorder attached,
 * interleaved; the best of each is compared. Target: a ratio under 1.1. Asserts nothing.
 */
#include <config.h>

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <gpusim/trace.h>

#include "sim/scenario/scenario.h"

#define RUNS 7
#define NALLOC 96          /* 64 KiB each: 6 MiB for about 3.5 MiB of VRAM */
#define PER_SUBMIT 16
#define ROUNDS 300

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

struct text {
	char *p;
	size_t n, cap;
};

static void add(struct text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void add(struct text *t, const char *fmt, ...)
{
	va_list ap;
	for (;;) {
		va_start(ap, fmt);
		int k = vsnprintf(t->p + t->n, t->cap - t->n, fmt, ap);
		va_end(ap);
		if (k >= 0 && (size_t)k < t->cap - t->n) {
			t->n += (size_t)k;
			return;
		}
		t->cap = t->cap ? t->cap * 2 : 65536;
		t->p = realloc(t->p, t->cap);
		if (!t->p) {
			perror("bench_events");
			exit(1);
		}
	}
}

/* The scenario: every allocation written once (so every eviction copies), then
 * rounds of submits over sliding windows, an explicit evict and resident, and an
 * allocation created and freed each round. */
static char *scenario(size_t *len)
{
	struct text t = { 0 };
	add(&t, "adapter vram=4M visible=4M gart=8M sysmem=256M\n");
	for (int i = 0; i < NALLOC; i++)
		add(&t, "alloc a%d size=64K only=vram\nwrite a%d seed=%d\n", i, i, i + 1);
	for (int r = 0; r < ROUNDS; r++) {
		for (int w = 0; w < NALLOC; w += PER_SUBMIT) {
			add(&t, "submit");
			for (int k = 0; k < PER_SUBMIT; k++)
				add(&t, " a%d", (w + k + r) % NALLOC);
			add(&t, "\n");
		}
		add(&t, "resident a%d\nevict a%d\n", r % NALLOC, r % NALLOC);
		add(&t, "alloc tmp%d size=64K\nfree tmp%d\n", r, r);
	}
	*len = t.n;
	return t.p;
}

static char trace_path[64];

static void attach(void *ctx, LUID luid)
{
	if (gpusim_trace_attach(luid, trace_path) != STATUS_SUCCESS) {
		perror("bench_events: gpusim_trace_attach");
		exit(1);
	}
}

static uint64_t run(const struct scn_script *s, FILE *devnull, bool traced, int *rc)
{
	struct scn_options opt = { .quiet = true, .out = devnull, .err = stderr };
	if (traced)
		opt.on_adapter = attach;
	struct scn_result res;
	uint64_t t0 = now_ns();
	*rc = scn_run(s, &opt, &res);
	return now_ns() - t0;
}

int main(void)
{
	size_t len;
	char *text = scenario(&len);
	struct scn_script s;
	struct scn_error e;
	memset(&s, 0, sizeof(s));
	if (scn_parse_string("bench.gsim", text, len, &s, &e) || scn_check(&s, &e)) {
		fprintf(stderr, "bench_events: built-in scenario:%u:%u: %s\n", e.line, e.col, e.msg);
		return 1;
	}
	free(text);
	snprintf(trace_path, sizeof(trace_path), "/tmp/gpusim-bench-events-%ld.trace", (long)getpid());
	FILE *devnull = fopen("/dev/null", "w");
	if (!devnull) {
		perror("/dev/null");
		return 1;
	}
	uint64_t best[2] = { UINT64_MAX, UINT64_MAX };
	int rc = 0;
	/* Interleaved, so a change in machine load hits both alike. */
	for (int i = 0; i < RUNS; i++)
		for (int traced = 0; traced < 2; traced++) {
			int r;
			uint64_t t = run(&s, devnull, traced, &r);
			rc |= r;
			if (t < best[traced])
				best[traced] = t;
		}
	struct stat st;
	uint64_t events = 0;
	if (stat(trace_path, &st) == 0 && st.st_size > 16 + 104)
		events = (uint64_t)(st.st_size - 16 - 104) / (8 + 64);
	unlink(trace_path);
	fclose(devnull);
	if (rc)
		printf("(the scenario did not pass: its timings still stand)\n");
	printf("scenario: %zu commands, %llu events per run; best of %d runs each\n", s.ncmds,
	       (unsigned long long)events, RUNS);
	printf("%-28s %10.2f ms\n", "without a listener", best[0] / 1e6);
	printf("%-28s %10.2f ms  (%.0f ns per event)\n", "with the trace recorder", best[1] / 1e6,
	       events ? (double)(best[1] > best[0] ? best[1] - best[0] : 0) / (double)events : 0.0);
	printf("ratio %.3f (target: under 1.1)\n", (double)best[1] / (double)best[0]);
	scn_script_free(&s);
	return 0;
}
