/*
 * `gpusim trace SCENARIO -o FILE`: runs a scenario as `gpusim run` does and records
 * its event stream, with the allocations' names, to a gpusim trace or a Perfetto
 * JSON file. `--dump FILE` prints a gpusim trace one record per line (scripts, tests).
 */
#include <config.h>

#include <ctype.h>
#include <stdbool.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <gpusim/trace.h>

#include "sim/perfetto.h"
#include "sim/scenario/scenario.h"
#include "sim/trace_cmd.h"

static void usage(FILE *f)
{
	fprintf(f, "usage: gpusim trace [--format gpusim|perfetto] [--seed N] [--quiet]\n"
		   "                    [--allow-include-outside] -o FILE SCENARIO\n"
		   "       gpusim trace --dump FILE\n"
		   "Run a scenario and record its event stream to a trace file.\n"
		   "\n"
		   "  -o, --output FILE     the trace file to write (required)\n"
		   "  -f, --format FORMAT   gpusim (default): the compact format that 'gpusim view'\n"
		   "                        replays; perfetto: Chrome trace-event JSON for\n"
		   "                        ui.perfetto.dev and chrome://tracing\n"
		   "      --seed N          use seed N for the scenario's adapter\n"
		   "  -q, --quiet           print only failures and the summary line\n"
		   "      --allow-include-outside\n"
		   "                        let include name files outside the scenario's directory\n"
		   "      --dump FILE       print a gpusim trace one record per line, checking\n"
		   "                        every record (any program run with GPUSIM_TRACE=FILE\n"
		   "                        writes one)\n"
		   "  -h, --help            print this help\n"
		   "\n"
		   "Exit status: 0 when every expectation held, 1 when one failed, 2 on a usage\n"
		   "or syntax error, or when the trace cannot be written or is corrupt.\n");
}

/* ---- --dump ---------------------------------------------------------------------- */

static const char *seg_name(uint32_t s)
{
	return gpusim_segment_name(s);
}

/* Names are arbitrary bytes: quoted, with anything not printable escaped, so a
 * line is always one record. */
static void put_name(const char *s)
{
	putchar('"');
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p == '"' || *p == '\\')
			printf("\\%c", *p);
		else if (isprint(*p))
			putchar(*p);
		else
			printf("\\x%02x", *p);
	}
	putchar('"');
}

/* The WDDM 2 events, in their own words: addresses in hex (a VA read in decimal
 * helps nobody), fence values in decimal, and only the fields the event uses.
 * Every line still begins "event NAME", as the others do. False for the rest. */
static bool dump_wddm2(const struct gpusim_event *ev)
{
	const char *name = gpusim_event_name(ev->type);
	switch (ev->type) {
	case GPUSIM_EV_VA_RESERVE:
		printf("event %s device=0x%08" PRIx32 " va=0x%" PRIx64 " size=0x%" PRIx64 " end=0x%" PRIx64 " type=%s",
		       name, (uint32_t)ev->device, ev->offset, ev->size, ev->offset + ev->size,
		       ev->value == D3DDDIGPUVIRTUALADDRESS_RESERVE_NO_ACCESS ? "no-access"
		       : ev->value == D3DDDIGPUVIRTUALADDRESS_RESERVE_ZERO    ? "zero"
									    : "other");
		break;
	case GPUSIM_EV_VA_MAP:
		printf("event %s handle=0x%08" PRIx32 " device=0x%08" PRIx32 " va=0x%" PRIx64 " size=0x%" PRIx64
		       " end=0x%" PRIx64 " fence=%" PRIu64,
		       name, (uint32_t)ev->allocation, (uint32_t)ev->device, ev->offset, ev->size, ev->offset + ev->size,
		       ev->value);
		break;
	case GPUSIM_EV_VA_UNMAP:
		printf("event %s device=0x%08" PRIx32 " va=0x%" PRIx64 " size=0x%" PRIx64 " end=0x%" PRIx64 " fence=%" PRIu64,
		       name, (uint32_t)ev->device, ev->offset, ev->size, ev->offset + ev->size, ev->value);
		break;
	case GPUSIM_EV_VA_COPY:
		printf("event %s device=0x%08" PRIx32 " va=0x%" PRIx64 " size=0x%" PRIx64 " end=0x%" PRIx64
		       " from=0x%" PRIx64,
		       name, (uint32_t)ev->device, ev->offset, ev->size, ev->offset + ev->size, ev->value);
		break;
	case GPUSIM_EV_VA_FREE:
		printf("event %s va=0x%" PRIx64 " size=0x%" PRIx64 " end=0x%" PRIx64, name, ev->offset, ev->size,
		       ev->offset + ev->size);
		break;
	case GPUSIM_EV_SUBMIT_VA:
		printf("event %s device=0x%08" PRIx32 " va=0x%" PRIx64 " size=%" PRIu64 " fence=%" PRIu64, name,
		       (uint32_t)ev->device, ev->offset, ev->size, ev->value);
		break;
	case GPUSIM_EV_SIGNAL:
		printf("event %s fence=0x%08" PRIx32 " device=0x%08" PRIx32 " value=%" PRIu64 " cause=%s", name,
		       (uint32_t)ev->allocation, (uint32_t)ev->device, ev->value, gpusim_cause_name(ev->cause));
		break;
	case GPUSIM_EV_WAIT:
		printf("event %s fence=0x%08" PRIx32 " device=0x%08" PRIx32 " value=%" PRIu64 " objects=%" PRIu64 " %s",
		       name, (uint32_t)ev->allocation, (uint32_t)ev->device, ev->value, ev->size,
		       ev->offset ? "async" : "returned");
		break;
	case GPUSIM_EV_FAULT:
		if (!(ev->cause >= HW_FAULT_VM_NOT_PRESENT && ev->cause <= HW_FAULT_VM_BAD_ADDR))
			return false;
		/* A GPU MMU fault: its address is a VA. */
		printf("event %s handle=0x%08" PRIx32 " device=0x%08" PRIx32 " va=0x%" PRIx64 " cause=%s fence=%" PRIu64,
		       name, (uint32_t)ev->allocation, (uint32_t)ev->device, ev->offset, trace_cause_name(ev), ev->value);
		break;
	default:
		return false;
	}
	printf(" time=%" PRIu64 "\n", ev->time_ns);
	return true;
}

static void dump_item(const struct gpusim_trace_item *it)
{
	if (it->type == GPUSIM_TRACE_NAME) {
		printf("name handle=0x%08" PRIx32 " device=0x%08" PRIx32 " ", it->allocation, it->device);
		put_name(it->name);
		putchar('\n');
		return;
	}
	const struct gpusim_event *ev = &it->event;
	if (dump_wddm2(ev))
		return;
	printf("event %s handle=0x%08" PRIx32 " device=0x%08" PRIx32 " seg=%s from=%s offset=0x%" PRIx64
	       " size=%" PRIu64 " cause=%s value=%" PRIu64 " priority=%" PRIu32 " preferred=%s time=%" PRIu64 "\n",
	       gpusim_event_name(ev->type), (uint32_t)ev->allocation, (uint32_t)ev->device, seg_name(ev->segment),
	       seg_name(ev->from_segment), ev->offset, ev->size, trace_cause_name(ev), ev->value, ev->priority,
	       seg_name(ev->preferred), ev->time_ns);
}

static int dump(const char *path)
{
	char err[512];
	struct gpusim_trace_adapter ad;
	struct gpusim_trace_reader *r = gpusim_trace_open(path, &ad, err, sizeof(err));
	if (!r) {
		fprintf(stderr, "gpusim trace: %s\n", err);
		return 2;
	}
	printf("adapter vram=%" PRIu64 " visible=%" PRIu64 " gart=%" PRIu64 " sysmem=%" PRIu64 " policy=%s",
	       ad.vram, ad.visible, ad.gart, ad.sysmem, ad.policy);
	/* The standard segments always, so a WDDM 1 line stays what it was; the
	 * second pool (id 5) when the adapter has one. */
	for (uint32_t s = 1; s <= GPUSIM_SEG_MAX; s++)
		if (gpusim_trace_is_segment(s) && (s <= GPUSIM_SEG_COUNT || ad.seg_size[s]))
			printf(" seg.%s=%" PRIu64, seg_name(s), ad.seg_size[s]);
	printf(" budget.local=%" PRIu64 " budget.nonlocal=%" PRIu64 "\n", ad.budget_local, ad.budget_nonlocal);
	struct gpusim_trace_item item;
	int rc;
	while ((rc = gpusim_trace_next(r, false, &item, err, sizeof(err))) == 1)
		dump_item(&item);
	gpusim_trace_close_reader(r);
	if (fflush(stdout) || ferror(stdout)) {
		fprintf(stderr, "gpusim trace: writing the dump: %s\n", strerror(errno));
		return 2;
	}
	if (rc < 0) {
		fprintf(stderr, "gpusim trace: %s\n", err);
		return 2;
	}
	return 0;
}

/* ---- recording a scenario ----------------------------------------------------------- */

struct recording {
	bool perfetto;
	const char *path;
	int err;                           /* errno of the first failure to write */
	bool have_adapter;
	struct gpusim_trace_adapter ad;
	struct gpusim_trace_writer *w;     /* gpusim format: items go straight to the file */
	struct gpusim_trace_item *items;   /* perfetto: kept for the export at the end */
	size_t n, cap;
	uint64_t events, names;
};

static void on_adapter(void *ctx, LUID luid)
{
	struct recording *rec = ctx;
	if (gpusim_trace_describe(luid, &rec->ad) != STATUS_SUCCESS) {
		rec->err = EINVAL;
		return;
	}
	rec->have_adapter = true;
	if (!rec->perfetto && !(rec->w = gpusim_trace_create(rec->path, &rec->ad)))
		rec->err = errno;
}

/* Called with the library's lock held: only the writer or memory, never the API. */
static void on_item(void *ctx, const struct gpusim_trace_item *item)
{
	struct recording *rec = ctx;
	if (item->type == GPUSIM_TRACE_NAME)
		rec->names++;
	else
		rec->events++;
	if (rec->err)
		return;
	if (!rec->perfetto) {
		int rc = item->type == GPUSIM_TRACE_NAME
				 ? gpusim_trace_name(rec->w, item->allocation, item->device, item->name)
				 : gpusim_trace_event(rec->w, &item->event);
		if (rc)
			rec->err = errno;
		return;
	}
	if (rec->n == rec->cap) {
		size_t cap = rec->cap ? rec->cap * 2 : 1024;
		struct gpusim_trace_item *p = realloc(rec->items, cap * sizeof(*p));
		if (!p) {
			rec->err = ENOMEM;
			return;
		}
		rec->items = p;
		rec->cap = cap;
	}
	rec->items[rec->n++] = *item;
}

/* Finish the file: 0, or -1 with rec->err set. */
static int finish(struct recording *rec)
{
	if (!rec->perfetto) {
		if (rec->w && gpusim_trace_close(rec->w) && !rec->err)
			rec->err = errno;
		rec->w = NULL;
		return rec->err ? -1 : 0;
	}
	if (rec->err)
		return -1;
	FILE *f = fopen(rec->path, "w");
	if (!f) {
		rec->err = errno;
		return -1;
	}
	int rc = perfetto_write(f, &rec->ad, rec->items, rec->n);
	if (rc)
		rec->err = errno;
	if (fclose(f) && !rec->err) {
		rec->err = errno;
		rc = -1;
	}
	return rc;
}

static const char *plural(uint64_t n, const char *one, const char *many)
{
	return n == 1 ? one : many;
}

int sim_trace_main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "format", required_argument, NULL, 'f' },
		{ "seed", required_argument, NULL, 's' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "dump", required_argument, NULL, 'd' },
		{ "allow-include-outside", no_argument, NULL, 'I' },
		{ "help", no_argument, NULL, 'h' },
		{ 0, 0, 0, 0 },
	};
	struct scn_options opt = { .out = stdout, .err = stderr };
	struct recording rec = { 0 };
	struct scn_parse_options popt = { 0 };
	const char *dump_path = NULL;
	int c;
	optind = 1;
	opterr = 0; /* our own messages, followed by the usage */
	while ((c = getopt_long(argc, argv, ":o:f:qh", opts, NULL)) != -1) {
		switch (c) {
		case 'o':
			rec.path = optarg;
			break;
		case 'f':
			if (!strcmp(optarg, "perfetto")) {
				rec.perfetto = true;
			} else if (!strcmp(optarg, "gpusim")) {
				rec.perfetto = false;
			} else {
				fprintf(stderr, "gpusim trace: unknown format '%s' (gpusim, perfetto)\n", optarg);
				usage(stderr);
				return 2;
			}
			break;
		case 's':
			if (hw_parse_size(optarg, &opt.seed)) {
				fprintf(stderr, "gpusim trace: --seed wants a number, not '%s'\n", optarg);
				usage(stderr);
				return 2;
			}
			opt.seed_given = true;
			break;
		case 'q':
			opt.quiet = true;
			break;
		case 'd':
			dump_path = optarg;
			break;
		case 'I':
			popt.allow_include_outside = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case ':':
			fprintf(stderr, "gpusim trace: %s needs a value\n", argv[optind - 1]);
			usage(stderr);
			return 2;
		default:
			if (optopt)
				fprintf(stderr, "gpusim trace: unknown option '-%c'\n", optopt);
			else
				fprintf(stderr, "gpusim trace: unknown option '%s'\n", argv[optind - 1]);
			usage(stderr);
			return 2;
		}
	}
	int nargs = argc - optind;
	if (dump_path) {
		if (nargs || rec.path) {
			fprintf(stderr, "gpusim trace: --dump takes a trace file and nothing else\n");
			usage(stderr);
			return 2;
		}
		return dump(dump_path);
	}
	if (nargs != 1) {
		fprintf(stderr, nargs ? "gpusim trace: one scenario at a time\n" : "gpusim trace: no scenario given\n");
		usage(stderr);
		return 2;
	}
	if (!rec.path) {
		fprintf(stderr, "gpusim trace: no output file given (-o FILE)\n");
		usage(stderr);
		return 2;
	}
	const char *scenario = argv[optind];

	struct scn_script s;
	struct scn_error e;
	memset(&s, 0, sizeof(s));
	memset(&e, 0, sizeof(e));
	bool parsed = scn_parse_file_opts(scenario, &popt, &s, &e) == 0;
	if (!parsed || scn_check(&s, &e)) {
		scn_print_error(stderr, scenario, &e);
		if (parsed) /* a failed parse leaves nothing to free */
			scn_script_free(&s);
		return 2;
	}
	/* A file that cannot be written is found before the run, not after it. */
	FILE *probe = fopen(rec.path, "w");
	if (!probe) {
		fprintf(stderr, "gpusim trace: cannot write %s: %s\n", rec.path, strerror(errno));
		scn_script_free(&s);
		return 2;
	}
	fclose(probe);

	opt.progress = !opt.quiet && isatty(STDERR_FILENO);
	opt.on_adapter = on_adapter;
	opt.on_item = on_item;
	opt.ctx = &rec;
	struct scn_result res;
	int rc = scn_run(&s, &opt, &res);
	fflush(stderr);

	int status = rc ? 1 : 0;
	char trace[512];
	snprintf(trace, sizeof(trace), "%s: %" PRIu64 " %s, %" PRIu64 " %s (%s)", rec.path, rec.events,
		 plural(rec.events, "event", "events"), rec.names, plural(rec.names, "name", "names"),
		 rec.perfetto ? "perfetto" : "gpusim");
	if (!rec.have_adapter) {
		/* The scenario stopped before there was an adapter to describe. */
		remove(rec.path);
		printf("%s: FAILED: no adapter, no trace written\n", scenario);
		status = 1;
	} else if (finish(&rec)) {
		fprintf(stderr, "gpusim trace: writing %s: %s\n", rec.path, strerror(rec.err));
		status = 2;
	} else if (!res.failed) {
		printf("%s: ok: %" PRIu64 " %s, %" PRIu64 " %s held; %s\n", scenario, res.commands,
		       plural(res.commands, "command", "commands"), res.expectations,
		       plural(res.expectations, "expectation", "expectations"), trace);
	} else {
		/* Every failure is an expectation's, but for the command that stopped the run. */
		printf("%s: FAILED: %" PRIu64 " of %" PRIu64 " %s failed, %" PRIu64 " %s%s; %s\n", scenario,
		       res.failed - (res.stopped ? 1 : 0), res.expectations,
		       plural(res.expectations, "expectation", "expectations"), res.commands,
		       plural(res.commands, "command", "commands"),
		       res.stopped ? ", stopped by a failed command" : "", trace);
	}
	fflush(stdout);
	gpusim_trace_close(rec.w);
	free(rec.items);
	scn_script_free(&s);
	return status;
}
