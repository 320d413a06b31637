/*
 * `gpusim lab TRACE... [--vram SIZE]... [--policy NAME]... [--json]`: every trace
 * is read and every VRAM size checked against it before anything runs; then each
 * trace is replayed at each size under each policy and measured against MIN.
 */
#include <config.h>

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gpusim/gpusim.h>

#include "sim/lab/min.h"
#include "sim/lab/replay.h"
#include "sim/lab/report.h"
#include "sim/lab/seq.h"
#include "sim/lab_cmd.h"

#define MAX_SIZES 32
#define MAX_POLICIES 32
#define MiB (1024.0 * 1024.0)

static void policy_list(char *buf, size_t len)
{
	size_t n = 0;
	buf[0] = '\0';
	for (unsigned i = 0; gpusim_policy_name(i) && n < len; i++)
		n += (size_t)snprintf(buf + n, len - n, "%s%s", i ? ", " : "", gpusim_policy_name(i));
}

static void usage(FILE *f)
{
	char names[256];
	policy_list(names, sizeof(names));
	fprintf(f,
		"usage: gpusim lab [--vram SIZE]... [--policy NAME]... [--json] TRACE...\n"
		"Replay the allocation-use sequence of each trace through the memory manager at\n"
		"each VRAM size under each eviction policy, and print the bytes each paged next\n"
		"to Belady's MIN and a lower bound on the optimum.\n"
		"\n"
		"  -m, --vram SIZE      the VRAM of the lab's adapter (a multiple of 4K: 12M, 1G),\n"
		"                       all of it CPU-visible; repeat for more sizes (at most %d).\n"
		"                       Default: the VRAM of the adapter the trace was recorded on\n"
		"  -p, --policy NAME    replay under this policy; repeat for more. Default: every\n"
		"                       policy (%s)\n"
		"  -j, --json           print one JSON document instead of the tables\n"
		"  -h, --help           print this help\n"
		"\n"
		"A trace is one that 'gpusim trace SCENARIO -o FILE' writes, or that a program\n"
		"linked to libkmt writes with GPUSIM_TRACE=FILE. Its sequence: the allocations\n"
		"(size, priority; those preferring the GART never page and hold no VRAM), their\n"
		"destruction, and each Render's or MakeResident's list of allocations, which\n"
		"must be resident at once. The replay creates them and submits each list with\n"
		"D3DKMTRender; bytes paged = bytes_in + bytes_out of gpusim_get_stats. MIN is\n"
		"Belady's farthest-next-use schedule with sizes (an upper bound on the optimum);\n"
		"the bound is PFOO-L's (Berger et al., SIGMETRICS 2018). See gpusim(1), LAB.\n"
		"\n"
		"Exit status: 0 when every replay ran, 1 when one failed (its row says why), 2 on\n"
		"a usage error, a trace that cannot be read, or a size too small for a trace.\n",
		MAX_SIZES, names);
}

/* A VRAM size: bytes, a non-zero multiple of 4K. */
static bool parse_vram(const char *text, uint64_t *out)
{
	return !hw_parse_size(text, out) && *out && !(*out % HW_PAGE_SIZE);
}

static bool known_policy(const char *name)
{
	for (unsigned i = 0; gpusim_policy_name(i); i++)
		if (!strcmp(name, gpusim_policy_name(i)))
			return true;
	return false;
}

struct job {
	size_t ntraces;
	char **paths;
	struct lab_seq *seqs;
	struct lab_trace_result *res;
	uint64_t sizes[MAX_SIZES];
	size_t nsizes;
	const char *policies[MAX_POLICIES];
	size_t npolicies;
	bool json;
};

static void job_free(struct job *j)
{
	for (size_t i = 0; i < j->ntraces; i++) {
		if (j->res) {
			for (size_t k = 0; k < j->res[i].nsizes; k++)
				free(j->res[i].sizes[k].policies);
			free(j->res[i].sizes);
		}
		if (j->seqs)
			lab_seq_free(&j->seqs[i]);
	}
	free(j->res);
	free(j->seqs);
}

/* Every trace read, every size checked against it: 0, or 2 after the message. */
static int prepare(struct job *j)
{
	char err[1024];
	j->seqs = calloc(j->ntraces, sizeof(*j->seqs));
	j->res = calloc(j->ntraces, sizeof(*j->res));
	if (!j->seqs || !j->res) {
		fprintf(stderr, "gpusim lab: out of memory\n");
		return 2;
	}
	for (size_t i = 0; i < j->ntraces; i++) {
		if (lab_seq_load(&j->seqs[i], j->paths[i], err, sizeof(err))) {
			fprintf(stderr, "gpusim lab: %s\n", err);
			return 2;
		}
		struct lab_trace_result *t = &j->res[i];
		t->path = j->paths[i];
		t->seq = &j->seqs[i];
		/* Without --vram: the size the trace was recorded at. */
		uint64_t own = j->seqs[i].adapter.vram;
		size_t n = j->nsizes ? j->nsizes : 1;
		t->sizes = calloc(n, sizeof(*t->sizes));
		if (!t->sizes) {
			fprintf(stderr, "gpusim lab: out of memory\n");
			return 2;
		}
		for (size_t k = 0; k < n; k++) {
			struct lab_size_result *z = &t->sizes[t->nsizes++];
			z->vram = j->nsizes ? j->sizes[k] : own;
			if (!z->vram || z->vram % HW_PAGE_SIZE) {
				fprintf(stderr, "gpusim lab: %s: its adapter has no usable VRAM size (%" PRIu64 "): give --vram\n",
					j->paths[i], z->vram);
				return 2;
			}
			char vram[32];
			lab_fmt_size(vram, sizeof(vram), z->vram);
			if (lab_capacity(&j->seqs[i], z->vram, &z->usable, err, sizeof(err))) {
				fprintf(stderr, "gpusim lab: %s: --vram %s: %s\n", j->paths[i], vram, err);
				return 2;
			}
			const struct lab_seq *s = &j->seqs[i];
			uint64_t need = s->largest_group > s->largest_alloc ? s->largest_group : s->largest_alloc;
			if (z->usable < need) {
				fprintf(stderr,
					"gpusim lab: %s: --vram %s leaves %.2f MiB usable; the trace needs %.2f MiB "
					"in VRAM at once\n",
					j->paths[i], vram, (double)z->usable / MiB, (double)need / MiB);
				return 2;
			}
			z->policies = calloc(j->npolicies, sizeof(*z->policies));
			if (!z->policies) {
				fprintf(stderr, "gpusim lab: out of memory\n");
				return 2;
			}
		}
	}
	return 0;
}

/* Every replay and both references: 0, or 1 when a replay failed. */
static int run(struct job *j)
{
	struct gpusim_config def;
	gpusim_config_default(&def);
	int status = 0;
	for (size_t i = 0; i < j->ntraces; i++) {
		const struct lab_seq *s = &j->seqs[i];
		for (size_t k = 0; k < j->res[i].nsizes; k++) {
			struct lab_size_result *z = &j->res[i].sizes[k];
			/* The checks above make -ENOSPC impossible: only memory can fail. */
			if (lab_min_belady(s, z->usable, &z->min) || lab_min_bound(s, z->usable, &z->bound)) {
				fprintf(stderr, "gpusim lab: %s: out of memory computing MIN\n", j->paths[i]);
				return 2;
			}
			for (size_t p = 0; p < j->npolicies; p++) {
				struct lab_policy_result *pr = &z->policies[z->npolicies++];
				pr->policy = j->policies[p];
				pr->is_default = !strcmp(pr->policy, def.policy);
				if (lab_replay(s, z->vram, pr->policy, &pr->r, pr->error, sizeof(pr->error))) {
					char vram[32];
					pr->failed = true;
					status = 1;
					fprintf(stderr, "gpusim lab: %s: --vram %s, policy %s: %s\n", j->paths[i],
						lab_fmt_size(vram, sizeof(vram), z->vram), pr->policy, pr->error);
				}
			}
		}
	}
	return status;
}

int sim_lab_main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "vram", required_argument, NULL, 'm' },
		{ "policy", required_argument, NULL, 'p' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ 0, 0, 0, 0 },
	};
	struct job j;
	memset(&j, 0, sizeof(j));
	int c;
	optind = 1;
	opterr = 0; /* our own messages, followed by the usage */
	while ((c = getopt_long(argc, argv, ":m:p:jh", opts, NULL)) != -1) {
		switch (c) {
		case 'm': {
			uint64_t v;
			if (!parse_vram(optarg, &v)) {
				fprintf(stderr, "gpusim lab: --vram wants a size, a non-zero multiple of 4K (12M, 1G), not '%s'\n",
					optarg);
				usage(stderr);
				return 2;
			}
			if (j.nsizes == MAX_SIZES) {
				fprintf(stderr, "gpusim lab: at most %d VRAM sizes\n", MAX_SIZES);
				return 2;
			}
			j.sizes[j.nsizes++] = v;
			break;
		}
		case 'p': {
			if (!known_policy(optarg)) {
				char names[256];
				policy_list(names, sizeof(names));
				fprintf(stderr, "gpusim lab: unknown policy '%s' (%s)\n", optarg, names);
				usage(stderr);
				return 2;
			}
			bool again = false;
			for (size_t i = 0; i < j.npolicies; i++)
				again |= !strcmp(j.policies[i], optarg);
			if (!again && j.npolicies < MAX_POLICIES)
				j.policies[j.npolicies++] = optarg;
			break;
		}
		case 'j':
			j.json = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case ':':
			fprintf(stderr, "gpusim lab: %s needs a value\n", argv[optind - 1]);
			usage(stderr);
			return 2;
		default:
			if (optopt)
				fprintf(stderr, "gpusim lab: unknown option '-%c'\n", optopt);
			else
				fprintf(stderr, "gpusim lab: unknown option '%s'\n", argv[optind - 1]);
			usage(stderr);
			return 2;
		}
	}
	if (optind == argc) {
		fprintf(stderr, "gpusim lab: no trace given\n");
		usage(stderr);
		return 2;
	}
	if (!j.npolicies)
		for (unsigned i = 0; gpusim_policy_name(i) && j.npolicies < MAX_POLICIES; i++)
			j.policies[j.npolicies++] = gpusim_policy_name(i);
	j.paths = argv + optind;
	j.ntraces = (size_t)(argc - optind);

	int status = prepare(&j);
	if (!status)
		status = run(&j);
	if (status != 2) {
		int rc = j.json ? lab_print_json(stdout, j.res, j.ntraces) : lab_print_text(stdout, j.res, j.ntraces);
		if (rc) {
			fprintf(stderr, "gpusim lab: writing the report: %s\n", strerror(errno));
			status = 2;
		}
	}
	job_free(&j);
	return status;
}
