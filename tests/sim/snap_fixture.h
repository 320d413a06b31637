/*
 * A snapshot built by hand for the tests of gpusim inspect and of snapshots in
 * the viewer: the same table in memory (tests/sim/test_inspect.c) and, written
 * with snapfile_write, in a file (tests/sim/test_inspect_cmd.c).
 */
#ifndef TESTS_SIM_SNAP_FIXTURE_H
#define TESTS_SIM_SNAP_FIXTURE_H

#include <gpusim/snapshot.h>

#define KiB 1024ull
#define MiB (1024ull * 1024ull)
#define VIS GPUSIM_SEG_VISIBLE
#define INV GPUSIM_SEG_INVISIBLE
#define GART GPUSIM_SEG_GART
#define SYS GPUSIM_SEG_SYS
#define DEV0 0x40000041u
#define DEV1 0x40000081u
/* Handles as the kernel makes them: 0x40000000 | index << 6 | generation. */
#define H(i) (0x40000000u | (uint32_t)(i) << 6 | 1u)

/* Everything a snapshot points to lives here, so a test frees one thing. */
struct fx {
	struct gpusim_snapshot s;
	struct gpusim_snapshot_reg regs[8];
	struct gpusim_snapshot_gart gart[16];
	struct gpusim_snapshot_alloc allocs[8];
	struct gpusim_event events[16];
	struct gpusim_snapshot_range ranges[4];
	unsigned char mem[4][8192];
};

/* A 256 MiB default adapter at 1234567 ns: registers of every kind (and an offset
 * without one), GART entries that make four runs, an allocation in each segment
 * and one in sys (the table in handle order, which is not the order of places),
 * four events, two ranges. calloc'd: free() it. */
struct fx *fx_new(void);

struct gpusim_snapshot_alloc snap_alloc_row(uint32_t handle, uint32_t dev, uint64_t size, uint32_t seg,
					    uint64_t offset, const char *name);
struct gpusim_event snap_event(uint32_t type, uint64_t t, uint32_t h, uint32_t dev, uint32_t from, uint32_t to,
			       uint64_t offset, uint64_t size, uint64_t value, uint32_t cause);

#endif
