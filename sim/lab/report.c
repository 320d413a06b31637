/*
 * `gpusim lab`'s output (sim/lab/report.h): the table people read and the JSON
 * document scripts read, from the same results, written with stdio like every
 * other JSON gpusim prints.
 */
#include <config.h>

#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "sim/jsonw.h"
#include "sim/lab/report.h"

#define MiB (1024.0 * 1024.0)

bool lab_ratio(uint64_t bytes, uint64_t reference, double *ratio)
{
	if (!reference) {
		*ratio = 1.0;
		return !bytes;
	}
	*ratio = (double)bytes / (double)reference;
	return true;
}

const char *lab_fmt_size(char *buf, size_t len, uint64_t bytes)
{
	static const char units[] = "KMGT";
	int u = -1;
	while (u < 3 && bytes && bytes % 1024 == 0) {
		bytes /= 1024;
		u++;
	}
	if (u < 0)
		snprintf(buf, len, "%" PRIu64, bytes);
	else
		snprintf(buf, len, "%" PRIu64 "%c", bytes, units[u]);
	return buf;
}

static void put_ratio(FILE *f, uint64_t bytes, uint64_t reference)
{
	double r;
	if (lab_ratio(bytes, reference, &r))
		fprintf(f, "  %8.2f", r);
	else
		fprintf(f, "  %8s", "inf");
}

static void row(FILE *f, const char *vram, const char *usable, const char *name, uint64_t bytes,
		const struct lab_size_result *z)
{
	fprintf(f, "  %8s  %10s  %-16s  %10.2f", vram, usable, name, (double)bytes / MiB);
	put_ratio(f, bytes, z->min.bytes_in + z->min.bytes_out);
	put_ratio(f, bytes, z->bound);
	fputc('\n', f);
}

static const char *plural(uint64_t n, const char *one, const char *many)
{
	return n == 1 ? one : many;
}

int lab_print_text(FILE *f, const struct lab_trace_result *t, size_t n)
{
	bool any_default = false;
	for (size_t i = 0; i < n; i++) {
		const struct lab_seq *s = t[i].seq;
		fprintf(f,
			"%s: %" PRIu32 " %s (%" PRIu32 " in VRAM), %zu %s in %" PRIu32 " %s; at most %.2f MiB "
			"live in VRAM, %.2f MiB in one call\n",
			t[i].path, s->nallocs, plural(s->nallocs, "allocation", "allocations"), s->vram_allocs, s->nuses,
			plural(s->nuses, "use", "uses"), s->ngroups, plural(s->ngroups, "call", "calls"),
			(double)s->peak_vram / MiB, (double)s->largest_group / MiB);
		fprintf(f, "  %8s  %10s  %-16s  %10s  %8s  %8s\n", "vram", "usable MiB", "policy", "MiB paged",
			"vs MIN", "vs bound");
		for (size_t k = 0; k < t[i].nsizes; k++) {
			const struct lab_size_result *z = &t[i].sizes[k];
			char vram[32], usable[32];
			lab_fmt_size(vram, sizeof(vram), z->vram);
			snprintf(usable, sizeof(usable), "%.2f", (double)z->usable / MiB);
			for (size_t p = 0; p < z->npolicies; p++) {
				const struct lab_policy_result *pr = &z->policies[p];
				char name[64];
				snprintf(name, sizeof(name), "%s%s", pr->policy, pr->is_default ? " *" : "");
				any_default |= pr->is_default;
				if (pr->failed)
					fprintf(f, "  %8s  %10s  %-16s  failed: %s\n", p ? "" : vram, p ? "" : usable, name,
						pr->error);
				else
					row(f, p ? "" : vram, p ? "" : usable, name, pr->r.bytes_in + pr->r.bytes_out, z);
			}
			row(f, z->npolicies ? "" : vram, z->npolicies ? "" : usable, "MIN", z->min.bytes_in + z->min.bytes_out,
			    z);
			row(f, "", "", "lower bound", z->bound, z);
		}
		fputc('\n', f);
	}
	if (any_default)
		fputs("* the default policy.\n", f);
	fputs("MIN: Belady's farthest-next-use schedule with sizes, an upper bound on the optimum;\n"
	      "lower bound: PFOO-L's relaxation (Berger, Beckmann, Harchol-Balter, SIGMETRICS 2018),\n"
	      "which no schedule pages less than. Bytes paged: copied into VRAM plus copied out of it.\n",
	      f);
	if (fflush(f) || ferror(f)) {
		errno = errno ? errno : EIO;
		return -1;
	}
	return 0;
}

static void json_ratio(FILE *f, const char *key, uint64_t bytes, uint64_t reference)
{
	double r;
	if (lab_ratio(bytes, reference, &r))
		fprintf(f, ", \"%s\": %.6f", key, r);
	else
		fprintf(f, ", \"%s\": null", key); /* JSON has no infinity */
}

int lab_print_json(FILE *f, const struct lab_trace_result *t, size_t n)
{
	fputs("{\n  \"version\": 1,\n  \"min\": \"belady\",\n  \"bound\": \"pfoo-l\",\n  \"traces\": [", f);
	for (size_t i = 0; i < n; i++) {
		const struct lab_seq *s = t[i].seq;
		fputs(i ? ",\n    {\"file\": " : "\n    {\"file\": ", f);
		jw_string(f, t[i].path);
		fprintf(f,
			", \"allocations\": %" PRIu32 ", \"vram_allocations\": %" PRIu32 ", \"calls\": %" PRIu32
			", \"uses\": %zu, \"peak_vram\": %" PRIu64 ", \"largest_call\": %" PRIu64
			",\n     \"sizes\": [",
			s->nallocs, s->vram_allocs, s->ngroups, s->nuses, s->peak_vram, s->largest_group);
		for (size_t k = 0; k < t[i].nsizes; k++) {
			const struct lab_size_result *z = &t[i].sizes[k];
			uint64_t min = z->min.bytes_in + z->min.bytes_out;
			fprintf(f,
				"%s\n       {\"vram\": %" PRIu64 ", \"usable\": %" PRIu64 ",\n        \"min\": {\"bytes\": %" PRIu64
				", \"bytes_in\": %" PRIu64 ", \"bytes_out\": %" PRIu64 ", \"evictions\": %" PRIu64
				", \"page_ins\": %" PRIu64 "},\n        \"bound\": {\"bytes\": %" PRIu64 "",
				k ? "," : "", z->vram, z->usable, min, z->min.bytes_in, z->min.bytes_out, z->min.evictions,
				z->min.page_ins, z->bound);
			json_ratio(f, "ratio_min", z->bound, min);
			fputs("},\n        \"policies\": [", f);
			for (size_t p = 0; p < z->npolicies; p++) {
				const struct lab_policy_result *pr = &z->policies[p];
				const struct lab_replay *r = &pr->r;
				fputs(p ? ",\n          {\"policy\": " : "\n          {\"policy\": ", f);
				jw_string(f, pr->policy);
				fprintf(f, ", \"default\": %s", pr->is_default ? "true" : "false");
				if (pr->failed) {
					fputs(", \"error\": ", f);
					jw_string(f, pr->error);
					fputc('}', f);
					continue;
				}
				uint64_t bytes = r->bytes_in + r->bytes_out;
				fprintf(f,
					", \"error\": null, \"bytes\": %" PRIu64 ", \"bytes_in\": %" PRIu64
					", \"bytes_out\": %" PRIu64 ", \"evictions\": %" PRIu64 ", \"page_ins\": %" PRIu64
					", \"moves\": %" PRIu64 ", \"demotions\": %" PRIu64 ", \"promotions\": %" PRIu64,
					bytes, r->bytes_in, r->bytes_out, r->evictions, r->page_ins, r->moves, r->demotions,
					r->promotions);
				json_ratio(f, "ratio_min", bytes, min);
				json_ratio(f, "ratio_bound", bytes, z->bound);
				fputc('}', f);
			}
			fputs(z->npolicies ? "\n        ]}" : "]}", f);
		}
		fputs(t[i].nsizes ? "\n     ]}" : "]}", f);
	}
	fputs(n ? "\n  ]\n}\n" : "]\n}\n", f);
	if (fflush(f) || ferror(f)) {
		errno = errno ? errno : EIO;
		return -1;
	}
	return 0;
}
