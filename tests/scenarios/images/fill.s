# A gpusim command buffer as data: packets (hw/REGISTERS.md) written with .long
# and .quad. Every address is a symbol of this image; the loader patches each one
# with where its segment landed.
	.section .text
	.globl _start
_start:
	# WRITE_DATA (1), 6 body dwords: address, then 4 dwords stored there
	.long 1 | (6 << 16)
	.quad words
	.long 0x11111111, 0x22222222, 0x33333333, 0x44444444
	# FILL (3), 5 body dwords: 4 KiB of 0xa5a5a5a5 into the bss
	.long 3 | (5 << 16)
	.quad filled
	.quad 0x1000
	.long 0xa5a5a5a5
	# COPY (2), 6 body dwords: the read-only table into the bss
	.long 2 | (6 << 16)
	.quad table
	.quad copied
	.quad 0x100
	# CHECKSUM (4), 6 body dwords: CRC-32 of the table into the bss
	.long 4 | (6 << 16)
	.quad table
	.quad 0x100
	.quad crc

	.section .rodata
table:
	.fill 64, 4, 0x5eed5eed

# The data segment starts at 0x30800; its allocation at the 64 KiB boundary
# below (0x30000), so an address 0x3XXXX is at offset 0xXXXX of the allocation.
	.section .data
	.balign 0x800
words:                          # 0x30800: the WRITE_DATA's four dwords
	.fill 4, 4, 0
	.balign 0x800
init:                           # 0x31000: file bytes the GPU never touches
	.fill 64, 4, 0xda7ada7a

	.section .bss
	.balign 0x1000
filled:                         # 0x32000: the FILL
	.skip 0x1000
copied:                         # 0x33000: the COPY of the table
	.skip 0x100
	.balign 0x1000
crc:                            # 0x34000: the CHECKSUM
	.skip 4
