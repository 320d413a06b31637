# A good WRITE_DATA, then a FILL header followed by only two of its five body
# dwords: the last packet runs past the end of the buffer (the kernel refuses the
# whole buffer, so the WRITE_DATA does not run either).
	.section .text
	.globl _start
_start:
	# WRITE_DATA (1): one dword into the data segment
	.long 1 | (3 << 16)
	.quad result
	.long 0x600d600d
	# FILL (3) claiming 5 body dwords, 2 given
	.long 3 | (5 << 16)
	.quad result

	.section .rodata
	.long 0

	.section .data
result:
	.long 0
