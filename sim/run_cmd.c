/*
 * `gpusim run [--quiet] [--verbose] [--seed N] [--dump-on-fault DIR] [--allow-include-outside]
 * SCENARIO...`: every file is parsed
 * and checked before any runs, so a typo in the last file costs no run time; then
 * each runs on its own adapter and gets one summary line on stdout.
 */
#include <config.h>

#include <getopt.h>
#include <sys/stat.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sim/run_cmd.h"
#include "sim/scenario/scenario.h"

static void usage(FILE *f)
{
	fprintf(f, "usage: gpusim run [--quiet] [--verbose] [--seed N] [--dump-on-fault DIR]\n"
		   "                  [--allow-include-outside] SCENARIO...\n"
		   "Run scenarios headless and check their expectations ('-' reads one from\n"
		   "standard input).\n"
		   "\n"
		   "  -q, --quiet     print only failures and the summary lines\n"
		   "  -v, --verbose   print every command and every event as it happens\n"
		   "      --seed N    use seed N for every scenario's adapter\n"
		   "      --dump-on-fault DIR\n"
		   "                  after a command during which the GPU faulted or the device\n"
		   "                  was removed, write a snapshot DIR/SCENARIO-fault-N.elf\n"
		   "                  (at most 16 per scenario)\n"
		   "      --allow-include-outside\n"
		   "                  let include name files outside the scenario's directory\n"
		   "  -h, --help      print this help\n"
		   "\n"
		   "Exit status: 0 when every expectation held, 1 when one failed,\n"
		   "2 on a usage or syntax error. The language: sim/scenario/LANGUAGE.md.\n");
}

static const char *plural(uint64_t n, const char *one, const char *many)
{
	return n == 1 ? one : many;
}

/* "demo.gsim: ok: 42 commands, 7 expectations held, 12 evictions, 48.0 MiB paged,
 * 1.234 ms simulated" */
static void summary(const char *path, const struct scn_script *s, const struct scn_result *r)
{
	char tail[256];
	uint64_t paged = r->stats.bytes_in + r->stats.bytes_out;
	snprintf(tail, sizeof(tail), "%" PRIu64 " %s, %.1f MiB paged, %.3f ms simulated", r->stats.evictions,
		 plural(r->stats.evictions, "eviction", "evictions"), (double)paged / (1024.0 * 1024.0),
		 (double)r->stats.time_ns / 1e6);
	if (!r->failed) {
		printf("%s: ok: %" PRIu64 " %s, %" PRIu64 " %s held, %s\n", path, r->commands,
		       plural(r->commands, "command", "commands"), r->expectations,
		       plural(r->expectations, "expectation", "expectations"), tail);
		return;
	}
	/* Every failure is an expectation's, but for the command that stopped the run. */
	uint64_t failed = r->failed - (r->stopped ? 1 : 0);
	if (r->stopped)
		printf("%s: FAILED: stopped by a failed command after %" PRIu64 " of %zu commands, %" PRIu64
		       " of %" PRIu64 " %s failed, %s\n",
		       path, r->commands, s->ncmds, failed, r->expectations,
		       plural(r->expectations, "expectation", "expectations"), tail);
	else
		printf("%s: FAILED: %" PRIu64 " of %" PRIu64 " %s failed, %" PRIu64 " %s, %s\n", path, failed,
		       r->expectations, plural(r->expectations, "expectation", "expectations"), r->commands,
		       plural(r->commands, "command", "commands"), tail);
}

static void syntax_error(const char *path, const struct scn_error *e)
{
	scn_print_error(stderr, path, e);
}

int sim_run_main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "quiet", no_argument, NULL, 'q' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "seed", required_argument, NULL, 's' },
		{ "dump-on-fault", required_argument, NULL, 'd' },
		{ "allow-include-outside", no_argument, NULL, 'I' },
		{ "help", no_argument, NULL, 'h' },
		{ 0, 0, 0, 0 },
	};
	struct scn_options opt = { .out = stdout, .err = stderr };
	struct scn_parse_options popt = { 0 };
	int c;
	optind = 1;
	opterr = 0; /* our own messages, followed by the usage */
	while ((c = getopt_long(argc, argv, ":qvh", opts, NULL)) != -1) {
		switch (c) {
		case 'q':
			opt.quiet = true;
			break;
		case 'v':
			opt.verbose = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'I':
			popt.allow_include_outside = true;
			break;
		case 's':
			if (hw_parse_size(optarg, &opt.seed)) {
				fprintf(stderr, "gpusim run: --seed wants a number, not '%s'\n", optarg);
				usage(stderr);
				return 2;
			}
			opt.seed_given = true;
			break;
		case 'd': {
			struct stat sb;
			if (stat(optarg, &sb) || !S_ISDIR(sb.st_mode)) {
				fprintf(stderr, "gpusim run: --dump-on-fault: %s is not a directory\n", optarg);
				return 2;
			}
			opt.dump_dir = optarg;
			break;
		}
		case ':':
			fprintf(stderr, "gpusim run: %s needs a value\n", argv[optind - 1]);
			usage(stderr);
			return 2;
		default:
			if (optopt)
				fprintf(stderr, "gpusim run: unknown option '-%c'\n", optopt);
			else
				fprintf(stderr, "gpusim run: unknown option '%s'\n", argv[optind - 1]);
			usage(stderr);
			return 2;
		}
	}
	int n = argc - optind;
	if (n <= 0) {
		fprintf(stderr, "gpusim run: no scenario given\n");
		usage(stderr);
		return 2;
	}
	int from_stdin = 0;
	for (int i = 0; i < n; i++)
		from_stdin += !strcmp(argv[optind + i], "-");
	if (from_stdin > 1) {
		fprintf(stderr, "gpusim run: standard input ('-') can be read once\n");
		return 2;
	}
	opt.progress = !opt.quiet && isatty(STDERR_FILENO);

	struct scn_script *scripts = calloc((size_t)n, sizeof(*scripts));
	if (!scripts) {
		fprintf(stderr, "gpusim run: out of memory\n");
		return 2;
	}
	bool bad = false;
	for (int i = 0; i < n; i++) {
		const char *path = argv[optind + i];
		struct scn_error e;
		memset(&e, 0, sizeof(e));
		if (scn_parse_file_opts(path, &popt, &scripts[i], &e)) {
			syntax_error(path, &e);
			memset(&scripts[i], 0, sizeof(scripts[i]));
			bad = true;
		} else if (scn_check(&scripts[i], &e)) {
			syntax_error(path, &e);
			bad = true;
		}
	}
	int rc = bad ? 2 : 0;
	for (int i = 0; i < n && !bad; i++) {
		struct scn_result res;
		if (scn_run(&scripts[i], &opt, &res))
			rc = 1;
		fflush(stderr);
		summary(argv[optind + i], &scripts[i], &res);
		fflush(stdout);
	}
	for (int i = 0; i < n; i++)
		scn_script_free(&scripts[i]);
	free(scripts);
	return rc;
}
