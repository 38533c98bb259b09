/* What the QEMU boards (board_mps2.c, board_riscv_virt.c) share: the memory that survives a
 * reset, and the command line and settings flash over semihosting (semihost_storage.c).
 * Private to Sources/Board. */
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

/* Memory that survives a reset: at the end of RAM, outside every ELF segment (see the board's
 * linker script), so neither the reset code nor QEMU's loader clears it on a watchdog or
 * software reset. A power-on (a new QEMU run) finds RAM zeroed, hence no magic. */
#define NOINIT_MAGIC 0xF1E5B3D5u
#define RESET_FLAG_WATCHDOG 1u

struct noinit {
    uint32_t magic;
    uint32_t reset_flags;            /* set by the watchdog's handler, read after the reset */
    uint8_t flash[FLASH_SIZE];       /* the settings flash when no host file backs it */
};
_Static_assert(sizeof(struct noinit) <= 9 * 1024, "grow __noinit_size in the board's linker script");
extern uint8_t __noinit_start[];
#define NOINIT ((struct noinit *)(void *)__noinit_start)

/* The board's semihosting call (bkpt 0xab on Arm, the slli/ebreak/srai sequence on RISC-V). */
int board_semihost(int op, const void *arg);

/* At board_init: takes the memory that survives a reset (erased flash and no flags on a
 * power-on), reads the command line and backs the flash with the host file named by its second
 * word, if any (read from it when it has the flash's size, else started from RAM as it is).
 * Returns 1 when the last reset was the watchdog's. */
int semihost_storage_init(void);

/* Closes the host file (before exit). */
void semihost_storage_close(void);
