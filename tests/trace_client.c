/*
 * A client program that knows nothing of traces: it uses only the D3DKMT API (and
 * gpusim's private allocation data, as a user-mode driver does). tests/trace-client.sh
 * runs it with GPUSIM_TRACE set and checks what libkmt recorded.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gpusim/d3dkmthk.h>
#include <gpusim/gpusim.h>

#define MIB (1024u * 1024u)

static void check(NTSTATUS st, const char *what)
{
	if (st != STATUS_SUCCESS && st != STATUS_PENDING) {
		fprintf(stderr, "trace_client: %s: 0x%08x\n", what, (unsigned)st);
		exit(1);
	}
}

static D3DKMT_HANDLE alloc(D3DKMT_HANDLE dev, uint64_t size, uint32_t seg)
{
	struct gpusim_alloc_desc desc;
	memset(&desc, 0, sizeof(desc));
	desc.version = GPUSIM_ALLOC_DESC_VERSION;
	desc.size = size;
	desc.preferred[0] = seg;
	D3DDDI_ALLOCATIONINFO2 info;
	memset(&info, 0, sizeof(info));
	info.pPrivateDriverData = &desc;
	info.PrivateDriverDataSize = sizeof(desc);
	D3DKMT_CREATEALLOCATION ca;
	memset(&ca, 0, sizeof(ca));
	ca.hDevice = dev;
	ca.NumAllocations = 1;
	ca.pAllocationInfo2 = &info;
	check(D3DKMTCreateAllocation2(&ca), "CreateAllocation2");
	return info.hAllocation;
}

int main(void)
{
	/* The first enumeration makes the default adapter (from GPUSIM_CONFIG). */
	D3DKMT_ADAPTERINFO info[4];
	D3DKMT_ENUMADAPTERS2 ea = { .NumAdapters = 4, .pAdapters = info };
	check(D3DKMTEnumAdapters2(&ea), "EnumAdapters2");
	if (ea.NumAdapters < 1) {
		fprintf(stderr, "trace_client: no adapter\n");
		return 1;
	}
	D3DKMT_CREATEDEVICE cd;
	memset(&cd, 0, sizeof(cd));
	cd.hAdapter = info[0].hAdapter;
	check(D3DKMTCreateDevice(&cd), "CreateDevice");
	D3DKMT_HANDLE dev = cd.hDevice;

	D3DKMT_HANDLE tex = alloc(dev, 1 * MIB, GPUSIM_SEG_VISIBLE);
	D3DKMT_HANDLE buf = alloc(dev, 2 * MIB, GPUSIM_SEG_INVISIBLE);
	D3DKMT_HANDLE staging = alloc(dev, 512 * 1024, GPUSIM_SEG_GART);

	/* Write the texture through a CPU mapping. */
	D3DKMT_LOCK2 lk;
	memset(&lk, 0, sizeof(lk));
	lk.hDevice = dev;
	lk.hAllocation = tex;
	check(D3DKMTLock2(&lk), "Lock2");
	memset(lk.pData, 0x5a, 4096);
	D3DKMT_UNLOCK2 ul = { .hDevice = dev, .hAllocation = tex };
	check(D3DKMTUnlock2(&ul), "Unlock2");

	/* Resident, evicted, resident again: the data travels out and back. */
	D3DKMT_HANDLE set[2] = { tex, buf };
	D3DDDI_MAKERESIDENT mr;
	memset(&mr, 0, sizeof(mr));
	mr.hPagingQueue = dev;
	mr.NumAllocations = 2;
	mr.AllocationList = set;
	check(D3DKMTMakeResident(&mr), "MakeResident");
	D3DKMT_EVICT ev;
	memset(&ev, 0, sizeof(ev));
	ev.hDevice = dev;
	ev.NumAllocations = 1;
	ev.AllocationList = &tex;
	check(D3DKMTEvict(&ev), "Evict");
	mr.NumAllocations = 1;
	mr.AllocationList = &tex;
	check(D3DKMTMakeResident(&mr), "MakeResident");

	D3DKMT_HANDLE all[3] = { tex, buf, staging };
	D3DKMT_DESTROYALLOCATION2 da;
	memset(&da, 0, sizeof(da));
	da.hDevice = dev;
	da.phAllocationList = all;
	da.AllocationCount = 3;
	check(D3DKMTDestroyAllocation2(&da), "DestroyAllocation2");
	D3DKMT_DESTROYDEVICE dd = { .hDevice = dev };
	check(D3DKMTDestroyDevice(&dd), "DestroyDevice");
	for (ULONG i = 0; i < ea.NumAdapters; i++) {
		D3DKMT_CLOSEADAPTER cl = { .hAdapter = info[i].hAdapter };
		check(D3DKMTCloseAdapter(&cl), "CloseAdapter");
	}
	/* The adapter lives until exit: what is buffered reaches the file then. */
	return 0;
}
