/* The QEMU boards' command line and settings flash over semihosting, shared by board_mps2.c
 * and board_riscv_virt.c (semihost_storage.c). Private to Sources/Board. */
#pragma once
#include <stdint.h>
#include <stddef.h>

#define FLASH_PAGE_SIZE 2048u
#define FLASH_PAGES 4u
#define FLASH_SIZE (FLASH_PAGE_SIZE * FLASH_PAGES)

#define SYS_OPEN          0x01
#define SYS_CLOSE         0x02
#define SYS_WRITE         0x05
#define SYS_READ          0x06
#define SYS_SEEK          0x0A
#define SYS_FLEN          0x0C
#define SYS_GET_CMDLINE   0x15
#define SYS_EXIT          0x18
#define SYS_EXIT_EXTENDED 0x20
#define ADP_Stopped_ApplicationExit 0x20026

/* The board's semihosting call (bkpt 0xab on Arm, the slli/ebreak/srai sequence on RISC-V). */
int board_semihost(int op, const void *arg);

/* Reads the command line and backs `flash` (FLASH_SIZE bytes of RAM that survive a reset) with
 * the host file named by its second word, if any: read from it when it has the flash's size,
 * else started from `flash` as it is. */
void semihost_storage_init(uint8_t *flash);

/* Closes the host file (before exit). */
void semihost_storage_close(void);
