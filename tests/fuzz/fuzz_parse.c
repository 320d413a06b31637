/*
 * libFuzzer harness for the scenario parser and the static check: any bytes must give
 * a script or an error with a location, never a crash, a leak or a hang. The name is
 * in a directory that does not exist, so `include` fails cleanly and stays hermetic.
 */
#include <config.h>

#include <stddef.h>
#include <stdint.h>

#include "sim/scenario/scenario.h"

/* In parse.c, not in scenario.h: the full cap of 10^7 commands is gigabytes of
 * memory, more than the fuzzer allows an input. */

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	scn_parse_set_max_commands(20000);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct scn_script s;
	struct scn_error e;

	if (scn_parse_string("/nonexistent/fuzz.gsim", (const char *)data, size, &s, &e) < 0) {
		/* Every error says something; the script is left empty. */
		if (!e.msg[0] || s.cmds || s.ncmds || s.files)
			__builtin_trap();
		return 0;
	}
	for (size_t i = 0; i < s.ncmds; i++) {
		const struct scn_cmd *c = &s.cmds[i];
		if (!c->loc.file || !c->loc.line || !c->loc.col || !c->kind)
			__builtin_trap();
		if (c->kind == SCN_EXPECT_STATUS && (!c->inner || !c->inner->loc.col))
			__builtin_trap();
	}
	if (scn_check(&s, &e) < 0 && !e.msg[0])
		__builtin_trap();
	scn_script_free(&s);
	return 0;
}
