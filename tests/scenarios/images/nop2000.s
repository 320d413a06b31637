# Issue 15's report from a file: a 4 KiB command buffer whose first dword is a
# NOP header claiming 2000 body dwords, 1023 zero dwords after it. The packet runs
# past the end of the buffer: D3DKMTRender refuses it (STATUS_INVALID_PARAMETER);
# before the kernel checked framing it hung `gpusim run`.
	.section .text
	.globl _start
_start:
	.long 0 | (2000 << 16)
	.fill 1023, 4, 0

	.section .rodata
	.long 0

	.section .data
	.long 0
