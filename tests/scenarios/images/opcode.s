# Well framed, so the kernel passes it: WRITE_DATA of `first`, a packet of
# unknown opcode 0x7f with two body dwords, WRITE_DATA of `second`. The device
# faults on the middle packet (pkt-opcode): it skips exactly that packet
# (ring_faults=skip, the default) or stops there (ring_faults=stop).
	.section .text
	.globl _start
_start:
	.long 1 | (3 << 16)
	.quad first
	.long 0x11111111
	.long 0x7f | (2 << 16)
	.long 0xdeadbeef, 0xdeadbeef
	.long 1 | (3 << 16)
	.quad second
	.long 0x22222222

	.section .rodata
	.long 0

	.section .data
first:
	.long 0
second:
	.long 0
