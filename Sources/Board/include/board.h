/* FlexBMS board support: the C side of the firmware's HAL (Sources/Firmware/HAL.swift).
 * One implementation per board, chosen at compile time:
 *   BOARD_MPS2      QEMU mps2-an385 / mps2-an386 (CMSDK UART0, SysTick, semihosting)
 *   BOARD_STM32G0B1 Libre Solar BMS-16S100-SC (STM32G0B1: USART, I2C, FLASH, IWDG)
 *   BOARD_RISCV_VIRT QEMU riscv32 virt, rv32imc (NS16550A UART, CLINT clock and emulated
 *                   watchdog, SiFive test device, semihosting)
 * Everything here is polled; no interrupt handler calls into Swift. */
#pragma once
#include <stdint.h>
#include <stddef.h>

/* Start the clocks, the console UART, the 1 ms tick. Call once, first. */
void board_init(void);

/* Milliseconds since board_init (wraps after 49 days; callers use differences). */
uint32_t board_millis(void);

/* Console UART: write bytes (blocking); read one byte, -1 when none is waiting. */
void board_uart_write(const uint8_t *data, size_t count);
int board_uart_read(void);
/* The Embedded Swift stdlib's print() ends here. */
int putchar(int c);

/* I2C master, 7-bit address. 0 on success, -1 on NACK, -2 on timeout/bus error. */
int board_i2c_write(uint8_t address, const uint8_t *data, size_t count);
int board_i2c_write_read(uint8_t address, const uint8_t *data, size_t count, uint8_t *into, size_t read_count);

/* Flash for settings: a region of board_flash_pages() pages of board_flash_page_size() bytes.
 * NOR semantics: erase sets a page to 0xFF, a write can only clear bits (it ANDs).
 * Offsets are relative to the region. 0 on success, -1 on a bad range, -2 on a device error.
 * STM32G0: flash is programmed in 8-byte double words with ECC; a double word can be
 * programmed once after erase (or overwritten with all zeros), so write whole, 8-byte aligned
 * records into erased space; a write that would change an already programmed double word to
 * anything but zeros returns -2. The QEMU flash (RAM + host file) has plain NOR semantics. */
uint32_t board_flash_page_size(void);
uint32_t board_flash_pages(void);
int board_flash_read(uint32_t offset, uint8_t *into, size_t count);
int board_flash_write(uint32_t offset, const uint8_t *data, size_t count);
int board_flash_erase(uint32_t page);

/* Independent watchdog: start with a timeout, then kick at least that often. */
void board_watchdog_start(uint32_t timeout_ms);
void board_watchdog_kick(void);
/* 1 when the last reset was caused by the watchdog. */
int board_reset_was_watchdog(void);

/* GPIO: the AFE's ALERT line (1 = asserted), the FET-off lines to the AFE's CFETOFF/DFETOFF
 * pins (1 = force off), the status LED. */
int board_afe_alert(void);
void board_afe_fets_off(int charge_off, int discharge_off);
void board_led(int on);
/* The last board_afe_fets_off request: bit 0 charge_off, bit 1 discharge_off. On the QEMU
 * image the AFE is an emulator inside the Swift image, which reads the FET-off lines here. */
int board_afe_fets_off_state(void);
/* Drive the ALERT line that board_afe_alert() reads (QEMU image: the AFE emulator asserts
 * it; on hardware the AFE's pin drives it and this call does nothing). */
void board_set_afe_alert(int asserted);

/* The command line QEMU passes with -append (semihosting SYS_GET_CMDLINE, without the
 * program name QEMU puts first); empty elsewhere.
 * Returns its length, at most capacity - 1, NUL-terminated. */
size_t board_command_line(char *into, size_t capacity);

/* Stop: QEMU exits with `code` (semihosting); on hardware, reset. */
void board_exit(int code) __attribute__((noreturn));
/* Software reset (Arm: AIRCR SYSRESETREQ; riscv virt: the SiFive test device). */
void board_reset(void) __attribute__((noreturn));

/* Peak stack use in bytes since reset: the stack is painted with a pattern at reset and
 * this scans for the deepest word overwritten. */
/* Paint the free stack again, below the caller's frame: board_stack_used() then gives the
 * peak since this call. */
void board_stack_repaint(void);
uint32_t board_stack_used(void);
/* Size of the stack reserved by the linker script. */
uint32_t board_stack_size(void);
