/*
 * libFuzzer harness for gpusim_snapshot_restore: the input is a resume state
 * (the opaque bytes of a snapshot's STATE note) for a small fixed configuration.
 * Any bytes must be refused with a sentence or give an adapter whose invariants
 * hold, never a crash, a leak or a stray handle. Seeds: tests/fuzz/restore-corpus/
 * (real states: `GPUSIM_WRITE_RESTORE_SEEDS=DIR tests/check_kmt` writes them).
 */
#include <config.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <gpusim/snapshot.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct gpusim_config cfg;
	static int ready;
	if (!ready) {
		gpusim_config_default(&cfg);
		if (gpusim_config_parse(&cfg, "vram=3M,visible=1M,gart=3M,sysmem=64M", NULL, 0))
			__builtin_trap();
		ready = 1;
	}
	struct gpusim_snapshot snap;
	memset(&snap, 0, sizeof(snap));
	snap.version = GPUSIM_SNAPSHOT_VERSION;
	snap.cfg = cfg;
	snap.state = data;
	snap.state_size = size;
	LUID luid;
	struct gpusim_handle_map *map = NULL;
	size_t n = 0;
	char err[256] = "";
	NTSTATUS st = gpusim_snapshot_restore(&snap, &luid, &map, &n, err, sizeof(err));
	if (st == STATUS_SUCCESS) {
		char why[256];
		if (gpusim_check_invariants(luid, why, sizeof(why)) != STATUS_SUCCESS)
			__builtin_trap();
		free(map);
	} else if (st != STATUS_INVALID_PARAMETER || !err[0]) {
		if (st != STATUS_NO_MEMORY)
			__builtin_trap();
	}
	/* Every adapter and handle goes, restored or not. */
	gpusim_reset();
	return 0;
}
