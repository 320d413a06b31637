/*
 * libFuzzer harness for the snapshot-file reader: any bytes must give a snapshot
 * whose every pointer stays inside the input, or an error naming the file, never a
 * crash, a leak or an out-of-bounds read; and what reads must restore into an
 * adapter or be refused with a sentence. Seeds: tests/fuzz/snapshot-corpus/.
 */
#include <config.h>

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <gpusim/snapshot.h>

#include "sim/elf/snapfile.h"

/* An input may ask for an adapter of any size; the fuzzer's memory budget
 * (-rss_limit_mb) is not the reader's business, so larger ones are not restored. */
#define RESTORE_MAX_BYTES (256ull << 20)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Inside [data, data + size): what the reader promises for ranges and state. */
static int inside(const void *p, uint64_t n, const uint8_t *data, size_t size)
{
	uintptr_t b = (uintptr_t)p, lo = (uintptr_t)data, hi = lo + size;
	return b >= lo && b <= hi && n <= hi - b;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct gpusim_snapshot sentinel, *snap = &sentinel;
	char err[512] = "";
	static const char name[] = "fuzz.elf";

	if (snapfile_read_mem(data, size, name, &snap, err, sizeof(err))) {
		if (snap != &sentinel || strncmp(err, "fuzz.elf: ", 10) || !err[10])
			__builtin_trap();
		return 0;
	}
	/* Read every byte it points to: ASan checks the bounds, the sum keeps the reads. */
	volatile uint8_t sink = 0;
	for (uint64_t i = 0; i < snap->nranges; i++) {
		const struct gpusim_snapshot_range *r = &snap->ranges[i];
		if (!inside(r->data, r->size, data, size))
			__builtin_trap();
		for (uint64_t k = 0; k < r->size; k += 4096)
			sink ^= ((const uint8_t *)r->data)[k];
	}
	if (snap->state_size && !inside(snap->state, snap->state_size, data, size))
		__builtin_trap();
	for (uint64_t i = 0; i < snap->nallocs; i++)
		if (!memchr(snap->allocs[i].name, '\0', sizeof(snap->allocs[i].name)))
			__builtin_trap();
	(void)sink;

	const struct hw_config *hw = &snap->cfg.hw;
	if (hw->vram <= RESTORE_MAX_BYTES && hw->sysmem <= RESTORE_MAX_BYTES && hw->gart <= RESTORE_MAX_BYTES &&
	    hw->tlb_entries <= 4096) {
		LUID luid;
		struct gpusim_handle_map *map = NULL;
		size_t nmap = 0;
		char why[256] = "";
		NTSTATUS st = gpusim_snapshot_restore(snap, &luid, &map, &nmap, why, sizeof(why));
		if (st == STATUS_SUCCESS) {
			free(map);
			if (gpusim_adapter_destroy(luid) != STATUS_SUCCESS)
				__builtin_trap();
		} else if ((st != STATUS_INVALID_PARAMETER || !why[0]) && st != STATUS_NO_MEMORY) {
			__builtin_trap();
		}
	}
	snapfile_free(snap);
	return 0;
}
