/*
 * The seeds of the snapshot-file fuzzer (see seeds.h): the sample with every
 * table, an empty snapshot, one range in VRAM, and GART rows with system pages.
 * Deterministic, so the committed files can be checked against a fresh run.
 */
#include <config.h>

#include <stdio.h>
#include <string.h>

#include "sim/elf/snapfile.h"
#include "tests/elf/sample.h"
#include "tests/elf/seeds.h"

const char *const seeds_names[] = { "sample.elf", "empty.elf", "one-range.elf", "gart.elf", NULL };

static int put(const char *dir, const char *name, const struct gpusim_snapshot *snap, char *err, size_t errlen)
{
	char path[1024];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return snapfile_write(path, snap, err, errlen);
}

int seeds_write(const char *dir, char *err, size_t errlen)
{
	struct sample s;
	int rc = 0;
	sample_build(&s);
	rc = rc ? rc : put(dir, "sample.elf", &s.snap, err, errlen);

	struct gpusim_snapshot empty;
	memset(&empty, 0, sizeof(empty));
	empty.version = GPUSIM_SNAPSHOT_VERSION;
	gpusim_config_default(&empty.cfg);
	rc = rc ? rc : put(dir, "empty.elf", &empty, err, errlen);

	struct gpusim_snapshot one = s.snap;
	one.ranges = &s.ranges[1];
	one.nranges = 1;
	one.nevents = 1;
	one.state_size = 16;
	rc = rc ? rc : put(dir, "one-range.elf", &one, err, errlen);

	/* Only the GART and the system page it maps: the smallest file with rows. */
	struct gpusim_snapshot gart = empty;
	gart.cfg = s.snap.cfg;
	gart.gart = s.gart;
	gart.ngart = SAMPLE_NGART;
	gart.ranges = &s.ranges[4];
	gart.nranges = 1;
	gart.allocs = &s.allocs[2];
	gart.nallocs = 1;
	rc = rc ? rc : put(dir, "gart.elf", &gart, err, errlen);
	sample_free(&s);
	return rc;
}
