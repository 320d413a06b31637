/*
 * `gpusim view SCENARIO|TRACE|SNAPSHOT`: builds a recording (a trace file read, a
 * snapshot's recent events and allocation table, or a scenario run here with the
 * runner's observer hooks) and hands it to the SDL viewer, or prints the model at
 * one moment as JSON, which needs no SDL at all.
 */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sim/elf/snapfile.h"
#include "sim/scenario/scenario.h"
#include "sim/view/model.h"
#include "sim/view_cmd.h"
#ifdef HAVE_SDL2
#include "sim/view/app.h"
#endif

/* As the renderer numbers them (enum vw_colour_mode in sim/view/app.h). */
static const char *const colour_names[] = { "allocation", "priority", "device", "age", "preferred" };
#define NCOLOURS (sizeof(colour_names) / sizeof(colour_names[0]))

static void usage(FILE *f)
{
	fprintf(f, "usage: gpusim view [OPTIONS] SCENARIO|TRACE|SNAPSHOT\n"
		   "       gpusim view [OPTIONS] --follow TRACE\n"
		   "Show where every allocation lives: a strip per segment (visible, invisible,\n"
		   "gart), evicted allocations in a system-memory panel, usage against budget,\n"
		   "paging counters and a timeline. A file that starts with the trace magic is a\n"
		   "trace (gpusim trace, GPUSIM_TRACE=FILE); one that starts with the ELF magic\n"
		   "is a snapshot (its recent events, then its allocation table at its moment);\n"
		   "anything else is run as a scenario.\n"
		   "\n"
		   "      --follow FILE      read a trace while a program is writing it\n"
		   "      --at N             the moment after N trace items (default: the end)\n"
		   "      --compare N        show what appeared, left and moved since the moment\n"
		   "                         after N items\n"
		   "      --colour MODE      allocation, priority, device, age or preferred\n"
		   "                         (default allocation; the c key cycles them)\n"
		   "      --size WxH         window size (default 1280x800)\n"
		   "      --screenshot FILE  headless: draw without a display, write a BMP, quit;\n"
		   "                         the moment of --at (or the end), or after --frames\n"
		   "      --frames N         with --screenshot: play N frames from the start (one\n"
		   "                         item each) before the picture is taken\n"
		   "      --dump json        print the model at --at N as JSON on stdout (no SDL\n"
		   "                         needed; the schema is in sim/view/VIEWER.md)\n"
		   "      --allow-include-outside\n"
		   "                         let a scenario's include name files outside its\n"
		   "                         directory\n"
		   "  -h, --help             print this help\n"
		   "\n"
		   "Keys: space pause/resume, right/left arrow step forward/back, home/end the\n"
		   "first/last moment, + and - speed, c (shift+c) next (previous) colour mode,\n"
		   "d compare with the moment d was last pressed, s screenshot, q quit; the\n"
		   "mouse wheel zooms into a strip (0 unzooms), a click shows an allocation.\n"
		   "\n"
		   "Exit status: 0 on success (also when the scenario's expectations fail: its\n"
		   "failures are on stderr), 1 when a trace or a snapshot cannot be read or the\n"
		   "viewer fails, 2 on a usage or syntax error.\n");
}

static int usage_error(const char *fmt, const char *arg)
{
	fputs("gpusim view: ", stderr);
	fprintf(stderr, fmt, arg);
	fputc('\n', stderr);
	usage(stderr);
	return 2;
}

/* A decimal count: no sign, no suffix, no trailing text. */
static bool parse_count(const char *s, uint64_t *out)
{
	if (*s < '0' || *s > '9')
		return false;
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || *end)
		return false;
	*out = v;
	return true;
}

static bool parse_size(const char *s, int *w, int *h)
{
	char *x = strchr(s, 'x');
	if (!x)
		return false;
	char buf[32];
	size_t n = (size_t)(x - s);
	if (n >= sizeof(buf))
		return false;
	memcpy(buf, s, n);
	buf[n] = '\0';
	uint64_t a, b;
	/* Big enough to draw the strips and the panels, small enough for a surface. */
	if (!parse_count(buf, &a) || !parse_count(x + 1, &b) || a < 320 || b < 200 || a > 8192 || b > 8192)
		return false;
	*w = (int)a;
	*h = (int)b;
	return true;
}

/* Whether the file starts with these bytes (false when it cannot be read or is not a
 * regular file: the scenario parser then says why). O_NONBLOCK and the type of the
 * descriptor opened: a FIFO must not block the look, and `-` (standard input) is
 * never looked at, so the scenario parser gets all of it. */
static bool starts_with(const char *path, const char *magic, size_t n)
{
	if (!strcmp(path, "-"))
		return false;
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return false;
	struct stat st;
	char buf[8];
	bool yes = fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && n <= sizeof(buf) &&
		   read(fd, buf, n) == (ssize_t)n && !memcmp(buf, magic, n);
	close(fd);
	return yes;
}

static bool is_trace(const char *path)
{
	return starts_with(path, GPUSIM_TRACE_MAGIC, 8);
}

/* Any ELF file: the snapshot reader says what is wrong with one that is not a
 * snapshot, which is clearer than a scenario parser choking on binary. */
static bool is_snapshot(const char *path)
{
	return starts_with(path, "\177ELF", 4);
}

static int load_snapshot(struct vm_recording *r, const char *path, char *err, size_t errlen)
{
	struct gpusim_snapshot *snap;
	vm_recording_init(r);
	err[0] = '\0';
	if (snapfile_read(path, &snap, err, errlen)) {
		if (!err[0])
			snprintf(err, errlen, "%s: cannot read the snapshot", path);
		return -1;
	}
	char why[256];
	int rc = vm_recording_from_snapshot(r, snap, why, sizeof(why));
	snapfile_free(snap);
	if (rc)
		snprintf(err, errlen, "%s: %s", path, why);
	return rc;
}

/* What a trace being written holds now: a record cut short at the end is one the
 * writer has not finished, not an error. */
static int load_now(struct vm_recording *r, const char *path, char *err, size_t errlen)
{
	vm_recording_init(r);
	err[0] = '\0';
	struct gpusim_trace_reader *rd = gpusim_trace_open(path, &r->adapter, err, errlen);
	if (!rd) {
		if (!err[0])
			snprintf(err, errlen, "%s: cannot read the trace", path);
		return -1;
	}
	struct gpusim_trace_item item;
	int rc;
	while ((rc = gpusim_trace_next(rd, true, &item, err, errlen)) == 1)
		vm_recording_add(r, &item);
	gpusim_trace_close_reader(rd);
	if (rc < 0) {
		vm_recording_free(r);
		return -1;
	}
	return 0;
}

static void syntax_error(const char *path, const struct scn_error *e)
{
	scn_print_error(stderr, path, e);
}

/* A scenario, parsed and checked as `gpusim run` does (exit 2 on an error), then
 * run and recorded. */
static int record_scenario(struct vm_recording *r, const char *path, const struct scn_parse_options *popt)
{
	struct scn_script s;
	struct scn_error e;
	memset(&s, 0, sizeof(s));
	memset(&e, 0, sizeof(e));
	if (scn_parse_file_opts(path, popt, &s, &e)) {
		syntax_error(path, &e); /* a failed parse leaves nothing to free */
		return 2;
	}
	if (scn_check(&s, &e)) {
		syntax_error(path, &e);
		scn_script_free(&s);
		return 2;
	}
	int rc = vm_recording_run(r, &s, stderr);
	scn_script_free(&s);
	if (rc < 0) {
		fprintf(stderr, "gpusim view: %s: the scenario could not start; nothing to show\n", path);
		return 1;
	}
	return 0;
}

struct view_args {
	const char *source, *follow, *screenshot, *colour;
	uint64_t at, frames, compare;
	bool at_given, frames_given, compare_given, size_given, dump;
	struct scn_parse_options parse;
	int width, height;
};

static int dump_json(const struct vm_recording *r, const struct view_args *a)
{
	struct vm_model m;
	vm_replay(&m, r, a->at_given ? (size_t)a->at : r->nitems);
	int rc = vm_dump_json(&m, stdout);
	vm_free(&m);
	if (rc || fflush(stdout)) {
		fprintf(stderr, "gpusim view: cannot write the JSON: %s\n", strerror(errno));
		return 1;
	}
	return 0;
}

static int view(const struct vm_recording *r, const struct view_args *a, int colour)
{
#ifdef HAVE_SDL2
	struct vw_options opt = {
		.width = a->size_given ? a->width : 1280,
		.height = a->size_given ? a->height : 800,
		.colour = (enum vw_colour_mode)colour,
		.screenshot = a->screenshot,
		.follow = a->follow,
		.compare_at = a->compare_given ? (size_t)a->compare : 0,
	};
	struct vm_recording cut = *r;
	if (a->at_given) {
		/* The viewer opens at the moment asked for: it is handed the items up to
		 * it, and shows their end. */
		if (a->at < cut.nitems)
			cut.nitems = (size_t)a->at;
		opt.start_at_end = true;
	}
	if (a->screenshot) {
		if (a->frames_given) {
			opt.frames = (uint32_t)a->frames;
		} else {
			opt.frames = 1;
			opt.start_at_end = true; /* the last moment, at once */
		}
	}
	char err[512] = "";
	if (vw_run(&cut, &opt, err, sizeof(err))) {
		fprintf(stderr, "gpusim view: %s\n", err[0] ? err : "the viewer failed");
		return 1;
	}
	return 0;
#else
	(void)r;
	(void)a;
	(void)colour;
	fprintf(stderr, "gpusim view: the viewer was not built (configure found no SDL2; --dump json still works)\n");
	return 1;
#endif
}

int sim_view_main(int argc, char **argv)
{
	enum { O_FOLLOW = 256, O_AT, O_COMPARE, O_COLOUR, O_SIZE, O_SCREENSHOT, O_FRAMES, O_DUMP,
	       O_OUTSIDE };
	static const struct option opts[] = {
		{ "follow", required_argument, NULL, O_FOLLOW },
		{ "at", required_argument, NULL, O_AT },
		{ "compare", required_argument, NULL, O_COMPARE },
		{ "colour", required_argument, NULL, O_COLOUR },
		{ "color", required_argument, NULL, O_COLOUR },
		{ "size", required_argument, NULL, O_SIZE },
		{ "screenshot", required_argument, NULL, O_SCREENSHOT },
		{ "frames", required_argument, NULL, O_FRAMES },
		{ "dump", required_argument, NULL, O_DUMP },
		{ "allow-include-outside", no_argument, NULL, O_OUTSIDE },
		{ "help", no_argument, NULL, 'h' },
		{ 0, 0, 0, 0 },
	};
	struct view_args a = { 0 };
	int c;
	optind = 1;
	opterr = 0; /* our own messages, followed by the usage */
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (c) {
		case 'h':
			usage(stdout);
			return 0;
		case O_FOLLOW:
			a.follow = optarg;
			break;
		case O_AT:
			if (!parse_count(optarg, &a.at))
				return usage_error("--at wants a count of trace items, not '%s'", optarg);
			a.at_given = true;
			break;
		case O_COMPARE:
			if (!parse_count(optarg, &a.compare) || !a.compare)
				return usage_error("--compare wants a count of trace items above 0, not '%s'", optarg);
			a.compare_given = true;
			break;
		case O_FRAMES:
			if (!parse_count(optarg, &a.frames) || !a.frames || a.frames > UINT32_MAX)
				return usage_error("--frames wants a number of frames above 0, not '%s'", optarg);
			a.frames_given = true;
			break;
		case O_COLOUR:
			a.colour = optarg;
			break;
		case O_SIZE:
			if (!parse_size(optarg, &a.width, &a.height))
				return usage_error("--size wants WxH between 320x200 and 8192x8192, not '%s'", optarg);
			a.size_given = true;
			break;
		case O_SCREENSHOT:
			a.screenshot = optarg;
			break;
		case O_DUMP:
			if (strcmp(optarg, "json"))
				return usage_error("--dump knows only json, not '%s'", optarg);
			a.dump = true;
			break;
		case O_OUTSIDE:
			a.parse.allow_include_outside = true;
			break;
		case ':':
			return usage_error("%s needs a value", argv[optind - 1]);
		default:
			if (optopt)
				fprintf(stderr, "gpusim view: unknown option '-%c'\n", optopt);
			else
				fprintf(stderr, "gpusim view: unknown option '%s'\n", argv[optind - 1]);
			usage(stderr);
			return 2;
		}
	}
	int colour = 0;
	if (a.colour) {
		colour = -1;
		for (size_t i = 0; i < NCOLOURS; i++)
			if (!strcmp(a.colour, colour_names[i]))
				colour = (int)i;
		if (colour < 0)
			return usage_error("--colour wants allocation, priority, device, age or preferred, not '%s'",
					   a.colour);
	}
	int nfiles = argc - optind;
	if (nfiles > 1)
		return usage_error("one scenario, trace or snapshot at a time ('%s' is one too many)", argv[optind + 1]);
	if (nfiles == 1 && a.follow)
		return usage_error("--follow names the trace: give no other file ('%s')", argv[optind]);
	if (nfiles == 0 && !a.follow)
		return usage_error("%s", "no scenario, trace or snapshot given");
	a.source = nfiles ? argv[optind] : a.follow;
	if (a.frames_given && !a.screenshot)
		return usage_error("%s", "--frames goes with --screenshot");
	if (a.frames_given && a.at_given)
		return usage_error("%s", "--at and --frames both choose the moment: give one");
	if (a.dump) {
		const char *viewer_only = a.screenshot ? "--screenshot" : a.compare_given ? "--compare" :
					  a.size_given ? "--size" : a.colour ? "--colour" : NULL;
		if (viewer_only)
			return usage_error("%s is for the viewer, not --dump json", viewer_only);
	} else if (a.follow && a.at_given) {
		return usage_error("%s", "--at cannot stop a trace that is being followed (--dump json can)");
	}

	struct vm_recording rec;
	vm_recording_init(&rec);
	char err[1024];
	int rc;
	if (a.follow && !a.dump) {
		/* The viewer reads the followed file itself, from its first record, and
		 * keeps reading as it grows: it is handed an empty recording. */
		rc = view(&rec, &a, colour);
		vm_recording_free(&rec);
		return rc;
	}
	if (a.follow) {
		if (load_now(&rec, a.follow, err, sizeof(err))) {
			fprintf(stderr, "gpusim view: %s\n", err);
			return 1;
		}
	} else if (is_trace(a.source)) {
		if (vm_recording_load(&rec, a.source, err, sizeof(err))) {
			fprintf(stderr, "gpusim view: %s\n", err);
			return 1;
		}
	} else if (is_snapshot(a.source)) {
		if (load_snapshot(&rec, a.source, err, sizeof(err))) {
			fprintf(stderr, "gpusim view: %s\n", err);
			return 1;
		}
	} else if ((rc = record_scenario(&rec, a.source, &a.parse))) {
		return rc;
	}
	rc = a.dump ? dump_json(&rec, &a) : view(&rec, &a, colour);
	vm_recording_free(&rec);
	return rc;
}
