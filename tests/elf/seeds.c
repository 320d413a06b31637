/*
 * The seeds of the snapshot-file fuzzer (see seeds.h): the sample with every
 * table, an empty snapshot, one range in VRAM, GART rows with system pages, and a
 * tiny real adapter that gpusim_snapshot_restore accepts. Deterministic (the real
 * one starts from gpusim_reset), so the committed files can be checked.
 */
#include <config.h>

#include <stdio.h>
#include <string.h>

#include "sim/elf/snapfile.h"
#include "tests/elf/sample.h"
#include "tests/elf/seeds.h"

const char *const seeds_names[] = { "sample.elf", "empty.elf", "one-range.elf", "gart.elf", "adapter.elf",
				    NULL };

static int put(const char *dir, const char *name, const struct gpusim_snapshot *snap, char *err, size_t errlen)
{
	char path[1024];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return snapfile_write(path, snap, err, errlen);
}

static NTSTATUS alloc_written(D3DKMT_HANDLE device, uint64_t size, uint32_t segment, uint8_t fill)
{
	struct gpusim_alloc_desc d = { .version = GPUSIM_ALLOC_DESC_VERSION, .size = size,
				       .preferred = { segment } };
	D3DDDI_ALLOCATIONINFO2 info;
	memset(&info, 0, sizeof(info));
	info.pPrivateDriverData = &d;
	info.PrivateDriverDataSize = sizeof(d);
	D3DKMT_CREATEALLOCATION ca;
	memset(&ca, 0, sizeof(ca));
	ca.hDevice = device;
	ca.NumAllocations = 1;
	ca.pAllocationInfo2 = &info;
	NTSTATUS st = D3DKMTCreateAllocation2(&ca);
	if (st)
		return st;
	D3DKMT_LOCK2 lk = { .hDevice = device, .hAllocation = info.hAllocation };
	if ((st = D3DKMTLock2(&lk)))
		return st;
	memset(lk.pData, fill, (size_t)size);
	D3DKMT_UNLOCK2 ul = { .hDevice = device, .hAllocation = info.hAllocation };
	return D3DKMTUnlock2(&ul);
}

/* The smallest adapter with something in VRAM and in a GART segment. */
static int put_adapter(const char *dir, char *err, size_t errlen)
{
	struct gpusim_config cfg;
	struct gpusim_snapshot *snap = NULL;
	LUID luid;
	gpusim_reset();
	gpusim_config_default(&cfg);
	NTSTATUS st = gpusim_config_parse(&cfg, "vram=1M,visible=512K,gart=1M,sysmem=4M,tlb=16,vm_tlb=16", NULL, 0)
			      ? STATUS_INVALID_PARAMETER
			      : gpusim_adapter_create(&cfg, &luid);
	D3DKMT_OPENADAPTERFROMLUID open = { .AdapterLuid = luid };
	D3DKMT_CREATEDEVICE cd = { 0 };
	if (!st)
		st = D3DKMTOpenAdapterFromLuid(&open);
	cd.hAdapter = open.hAdapter;
	if (!st)
		st = D3DKMTCreateDevice(&cd);
	if (!st)
		st = alloc_written(cd.hDevice, 8192, GPUSIM_SEG_VISIBLE, 0x5a);
	if (!st)
		st = alloc_written(cd.hDevice, 4096, GPUSIM_SEG_GART, 0xa5);
	if (!st)
		st = gpusim_snapshot_take(luid, &snap);
	int rc = -1;
	if (st)
		snprintf(err, errlen, "%s/adapter.elf: the adapter failed with status 0x%08x", dir, (unsigned)st);
	else
		rc = put(dir, "adapter.elf", snap, err, errlen);
	gpusim_snapshot_free(snap);
	gpusim_reset();
	return rc;
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
	one.client_size = 5;
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
	return rc ? rc : put_adapter(dir, err, errlen);
}
