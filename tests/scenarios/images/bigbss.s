# A 64 MiB bss: more than a 16 MiB VRAM, 16 MiB GART device can ever hold in one
# allocation.
	.section .text
	.globl _start
_start:
	.long 0                 # NOP
	.section .rodata
	.long 0
	.section .bss
	.skip 64 << 20
