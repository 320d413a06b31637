# Packets that write into the image's read-only segment (which the GPU may only
# read) and then into its data segment.
	.section .text
	.globl _start
_start:
	# WRITE_DATA (1): one dword into the read-only table
	.long 1 | (3 << 16)
	.quad table
	.long 0xbad0bad0
	# WRITE_DATA (1): one dword into the data segment
	.long 1 | (3 << 16)
	.quad result
	.long 0x600d600d

	.section .rodata
table:                          # 0x20xxx: 16 dwords of 0x0ddba11
	.fill 16, 4, 0x0ddba11

	.section .data
result:
	.long 0
