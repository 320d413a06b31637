# The same kind of command buffer in an ELF32 image (i386 toolchain): a 64-bit
# address field is the symbol's 32-bit address and a zero high dword.
	.section .text
	.globl _start
_start:
	# WRITE_DATA (1): two dwords at `out`
	.long 1 | (4 << 16)
	.long out, 0
	.long 0x32323232, 0xe1f32e1f
	# FILL (3): 256 bytes of 0x0f0f0f0f at `buf`
	.long 3 | (5 << 16)
	.long buf, 0
	.long 0x100, 0
	.long 0x0f0f0f0f

	.section .rodata
	.long 0

	.section .data
out:
	.long 0, 0

	.section .bss
	.balign 0x100
buf:
	.skip 0x100
