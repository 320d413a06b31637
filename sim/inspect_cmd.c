/*
 * `gpusim inspect [--json] SNAPSHOT.elf`: reads a snapshot file with every field
 * checked (sim/elf/snapfile.c) and prints sim/inspect.c's report of it. A file
 * that cannot be read is one message naming it and the problem, exit status 2.
 */
#include <config.h>

#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "sim/elf/snapfile.h"
#include "sim/inspect.h"
#include "sim/inspect_cmd.h"

static void usage(FILE *f)
{
	fprintf(f, "usage: gpusim inspect [--json] SNAPSHOT.elf\n"
		   "Print what a snapshot holds: the configuration, the simulated time, the\n"
		   "statistics, every register by name, the GART mappings as runs of pages, the\n"
		   "allocation table by segment and offset, the memory ranges it carries and the\n"
		   "recent events.\n"
		   "\n"
		   "      --json    the same as one JSON document for tools (sim/INSPECT.md)\n"
		   "  -h, --help    print this help\n"
		   "\n"
		   "Exit status: 0 on success; 2 on a usage error, or when the file cannot be\n"
		   "read or is not a well-formed snapshot (the message names the file and the\n"
		   "problem).\n");
}

static int usage_error(const char *fmt, const char *arg)
{
	fputs("gpusim inspect: ", stderr);
	fprintf(stderr, fmt, arg);
	fputc('\n', stderr);
	usage(stderr);
	return 2;
}

int sim_inspect_main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ 0, 0, 0, 0 },
	};
	bool json = false;
	int c;
	optind = 1;
	opterr = 0; /* our own messages, followed by the usage */
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (c) {
		case 'j':
			json = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			if (optopt)
				fprintf(stderr, "gpusim inspect: unknown option '-%c'\n", optopt);
			else
				fprintf(stderr, "gpusim inspect: unknown option '%s'\n", argv[optind - 1]);
			usage(stderr);
			return 2;
		}
	}
	int nfiles = argc - optind;
	if (nfiles == 0)
		return usage_error("%s", "no snapshot given");
	if (nfiles > 1)
		return usage_error("one snapshot at a time ('%s' is one too many)", argv[optind + 1]);
	const char *path = argv[optind];

	struct gpusim_snapshot *snap = NULL;
	char err[1024] = "";
	if (snapfile_read(path, &snap, err, sizeof(err))) {
		fprintf(stderr, "gpusim inspect: %s\n", err[0] ? err : path);
		return 2;
	}
	errno = 0;
	int rc = json ? inspect_json(stdout, snap) : inspect_text(stdout, snap);
	snapfile_free(snap);
	if (rc || fflush(stdout) || ferror(stdout)) {
		fprintf(stderr, "gpusim inspect: writing the report of %s: %s\n", path,
			strerror(errno ? errno : EIO));
		return 2;
	}
	return 0;
}
