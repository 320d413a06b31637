/*
 * The simulated clock's cost model: what a packet costs in nanoseconds, from the
 * configured bandwidths and per-packet overhead. Integer-only, so deterministic.
 */
#ifndef HW_CLOCK_H
#define HW_CLOCK_H

#include <stdbool.h>
#include <stdint.h>

struct hw_device;

/* Overhead plus ceil(bytes / bandwidth), over PCIe when `pcie`. */
uint64_t hw_clock_cost(const struct hw_device *dev, uint64_t bytes, bool pcie);

#endif
