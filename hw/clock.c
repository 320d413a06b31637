/*
 * Simulated time. Nothing here reads a host clock: time moves only when the
 * driver lets the engines run (hw_run_until), by the cost of what they execute.
 */
#include <config.h>

#include "hw/hw_internal.h"
#include "hw/clock.h"

uint64_t hw_clock_cost(const struct hw_device *dev, uint64_t bytes, bool pcie)
{
	uint64_t bw = pcie ? dev->cfg.pcie_bandwidth : dev->cfg.vram_bandwidth;
	unsigned __int128 ns = ((unsigned __int128)bytes * 1000000000u + bw - 1) / bw;
	uint64_t t = dev->cfg.packet_overhead_ns;
	if (ns > UINT64_MAX - t)
		return UINT64_MAX;
	return t + (uint64_t)ns;
}

uint64_t hw_clock_now(const struct hw_device *dev)
{
	return dev->now;
}
