/*
 * gpusim: the program people run. Dispatches to a subcommand; each subcommand
 * owns its options and its --help. Only sim/ prints; the libraries return errors.
 */
#include <config.h>

#include <stdio.h>
#include <string.h>

#include "sim/hwdemo.h"
#include "sim/inspect_cmd.h"
#include "sim/lab_cmd.h"
#include "sim/run_cmd.h"
#include "sim/trace_cmd.h"
#include "sim/view_cmd.h"

struct subcommand {
	const char *name;
	const char *summary;
	int (*main)(int argc, char **argv);
};

static const struct subcommand subcommands[] = {
	{ "run", "run scenarios headless and check their expectations", sim_run_main },
	{ "trace", "record a scenario's event stream to a trace file", sim_trace_main },
	{ "view", "show where every allocation lives (SDL window, screenshots, JSON)", sim_view_main },
	{ "inspect", "print what a snapshot file holds (registers, GART, allocations; --json)", sim_inspect_main },
	{ "lab", "replay traces under each eviction policy against Belady's MIN", sim_lab_main },
	{ "hw-demo", "drive the bare simulated device and print what it did", sim_hwdemo_main },
};

static void usage(FILE *f)
{
	fprintf(f, "usage: gpusim [--version] [--help] COMMAND [ARGS]\n\ncommands:\n");
	for (size_t i = 0; i < sizeof(subcommands) / sizeof(subcommands[0]); i++)
		fprintf(f, "  %-10s %s\n", subcommands[i].name, subcommands[i].summary);
	fprintf(f, "\n'gpusim COMMAND --help' describes a command.\n");
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (!strcmp(argv[1], "--version")) {
		printf("gpusim %s\n", PACKAGE_VERSION);
		return 0;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		usage(stdout);
		return 0;
	}
	for (size_t i = 0; i < sizeof(subcommands) / sizeof(subcommands[0]); i++)
		if (!strcmp(argv[1], subcommands[i].name))
			return subcommands[i].main(argc - 1, argv + 1);
	fprintf(stderr, "gpusim: unknown command '%s'\n", argv[1]);
	usage(stderr);
	return 2;
}
