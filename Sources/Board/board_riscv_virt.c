/* FlexBMS board support for QEMU riscv32 'virt' (-bios none), the "rv32" image: an
 * ESP32-C3 class core (rv32imc, ilp32, no FPU) in machine mode. startup-riscv.c has the entry,
 * the trap vector, putchar, the stack measurement and mem*.
 * Devices (QEMU 7.2 hw/riscv/virt.c memory map):
 *   NS16550A UART   0x10000000 (console; serial 0), polled: THR/RBR at +0, LSR at +5
 *                   (bit 0 data ready, bit 5 THR empty)
 *   CLINT           0x02000000: mtime at +0xBFF8, hart 0's mtimecmp at +0x4000; mtime counts
 *                   at 10 MHz of QEMU's virtual clock (with -icount shift=0: one tick per
 *                   100 instructions, so 1 ms = 10^6 instructions)
 *   SiFive test     0x00100000: 0x5555 exits QEMU with 0, (code << 16) | 0x3333 with `code`,
 *                   0x7777 resets the machine
 * Semihosting (QEMU -semihosting-config enable=on,target=native; on RISC-V the call is
 * `slli x0,x0,0x1f; ebreak; srai x0,x0,7` with a0 = operation, a1 = parameter block) gives the
 * command line (SYS_GET_CMDLINE) and the host file that backs the settings flash
 * (SYS_OPEN/READ/WRITE/SEEK/FLEN/CLOSE), as on the mps2 board.
 * There is no I2C, no GPIO and no watchdog peripheral on 'virt': see the sections below. */
#if defined(BOARD_RISCV_VIRT)
#include <stdint.h>
#include <stddef.h>
#include "board.h"
#include "semihost_storage.h"

#define REG8(a)  (*(volatile uint8_t *)(a))
#define REG32(a) (*(volatile uint32_t *)(a))

/* ---------------- semihosting ----------------
 * The three instructions must be uncompressed and on one page: a function of its own,
 * 16-byte aligned. a0 = op, a1 = parameter block; the result comes back in a0. */
__asm__(
    ".section .text.riscv_semihost, \"ax\", @progbits\n"
    ".balign 16\n"
    ".globl riscv_semihost\n"
    ".type riscv_semihost, @function\n"
    "riscv_semihost:\n"
    "  .option push\n"
    "  .option norvc\n"
    "  slli x0, x0, 0x1f\n"
    "  ebreak\n"
    "  srai x0, x0, 7\n"
    "  .option pop\n"
    "  ret\n"
    ".size riscv_semihost, . - riscv_semihost\n"
    ".text\n");
int riscv_semihost(int op, const void *arg);

int board_semihost(int op, const void *arg) {
    __asm__ volatile("" ::: "memory");           /* the parameter block is written before */
    int r = riscv_semihost(op, arg);
    __asm__ volatile("" ::: "memory");           /* and read after */
    return r;
}

/* ---------------- SiFive test device ---------------- */
#define SIFIVE_TEST      0x00100000u
#define TEST_FAIL        0x3333u
#define TEST_PASS        0x5555u
#define TEST_RESET       0x7777u

/* The memory that survives a reset (struct noinit): semihost_storage.h. */

static int last_reset_watchdog;

/* ---------------- UART0 (NS16550A) ----------------
 * The FIFOs stay off (FCR untouched): QEMU then hands the UART one received byte at a time,
 * only while RBR is empty, so nothing is lost before or between polls (enabling the FIFO
 * later would clear it). */
#define UART0     0x10000000u
#define UART_RBR  (UART0 + 0)   /* read: receive buffer; write: THR */
#define UART_IER  (UART0 + 1)
#define UART_LCR  (UART0 + 3)
#define UART_LSR  (UART0 + 5)   /* bit0 DR, bit5 THRE */

void board_uart_write(const uint8_t *data, size_t count) {
    for (size_t i = 0; i < count; i++) {
        while (!(REG8(UART_LSR) & 0x20u)) {}
        REG8(UART_RBR) = data[i];
    }
}

int board_uart_read(void) {
    if (!(REG8(UART_LSR) & 0x01u)) return -1;
    return (int)REG8(UART_RBR);
}

/* ---------------- clock: CLINT mtime ---------------- */
#define CLINT            0x02000000u
#define CLINT_MTIMECMP   (CLINT + 0x4000u)   /* hart 0, 64 bit */
#define CLINT_MTIME      (CLINT + 0xBFF8u)   /* 64 bit */
#define MTIME_HZ         10000000u
#define TICKS_PER_MS     (MTIME_HZ / 1000u)

static uint64_t mtime(void) {
    uint32_t hi, lo;
    do {                                      /* a consistent pair across a carry */
        hi = REG32(CLINT_MTIME + 4);
        lo = REG32(CLINT_MTIME);
    } while (hi != REG32(CLINT_MTIME + 4));
    return ((uint64_t)hi << 32) | lo;
}

static void set_mtimecmp(uint64_t at) {
    REG32(CLINT_MTIMECMP + 4) = 0xFFFFFFFFu;  /* no spurious match while the halves change */
    REG32(CLINT_MTIMECMP) = (uint32_t)at;
    REG32(CLINT_MTIMECMP + 4) = (uint32_t)(at >> 32);
}

static uint64_t start_ticks;

/* Milliseconds since board_init: mtime / 10000 (libgcc's 64-bit division; wraps with
 * uint32_t after 49 days like the SysTick count of the Arm boards). */
uint32_t board_millis(void) { return (uint32_t)((mtime() - start_ticks) / TICKS_PER_MS); }

/* ---------------- init / command line ---------------- */
void board_init(void) {
    REG8(UART_IER) = 0;                               /* polled */
    REG8(UART_LCR) = 0x03;                            /* 8N1; QEMU ignores the baud rate */

    start_ticks = mtime();

    last_reset_watchdog = semihost_storage_init();
}

/* ---------------- I2C ----------------
 * NOT THERE on this board: 'virt' has no I2C controller. The QEMU image routes the AFE's I2C
 * traffic to the chip emulator in Swift instead, so these only answer "no device" (-1, NACK). */
int board_i2c_write(uint8_t address, const uint8_t *data, size_t count) {
    (void)address; (void)data; (void)count;
    return -1;
}
int board_i2c_write_read(uint8_t address, const uint8_t *data, size_t count, uint8_t *into, size_t read_count) {
    (void)address; (void)data; (void)count; (void)into; (void)read_count;
    return -1;
}

/* ---------------- settings flash: RAM mirror + host file ---------------- */
/* The flash functions and the command line: semihost_storage.c. */

/* ---------------- watchdog: emulated with the CLINT timer ----------------
 * 'virt' has NO watchdog peripheral (the ESP32-C3 has its own; this is not it). The board
 * emulates one on the CLINT: a kick only notes the time (the low 32 bits of mtime), and hart
 * 0's machine timer interrupt (mtimecmp) is the expiry check. It is an interrupt, not a check
 * in the kick or in board_millis, so a main loop that hangs without calling into the board is
 * still caught. While kicks keep coming, the interrupt only re-arms mtimecmp for last kick +
 * timeout (about once per timeout). Rewriting mtimecmp on every kick instead re-arms a QEMU
 * timer each time: 16.7 s of host system time in the 2-hour scenario against 2.7 s. Once the
 * timeout has passed since the last kick the interrupt records the cause in no-init RAM
 * (board_reset_was_watchdog() after the reset), prints a line and resets the machine through
 * the SiFive test device (0x7777).
 * Unlike a real watchdog it does not fire while interrupts are off (mstatus.MIE = 0: only in
 * the trap handler and the atomics). Timeouts are capped at 200 s (32-bit ticks at 10 MHz). */
static uint32_t watchdog_ticks;               /* 0: not started */
static volatile uint32_t watchdog_kicked;     /* mtime (low word) at the last kick */

void board_watchdog_start(uint32_t timeout_ms) {
    if (timeout_ms == 0) timeout_ms = 1;
    if (timeout_ms > 200000u) timeout_ms = 200000u;
    watchdog_ticks = timeout_ms * TICKS_PER_MS;
    uint64_t now = mtime();
    watchdog_kicked = (uint32_t)now;
    set_mtimecmp(now + watchdog_ticks);
    __asm__ volatile("csrs mie, %0" :: "r"(1u << 7));      /* MTIE */
    __asm__ volatile("csrs mstatus, %0" :: "r"(1u << 3));  /* MIE */
}

void board_watchdog_kick(void) { watchdog_kicked = REG32(CLINT_MTIME); }

int board_reset_was_watchdog(void) { return last_reset_watchdog; }

/* startup-riscv.c's trap vector: the machine timer interrupt. */
void board_timer_interrupt(void) {
    uint64_t now = mtime();
    uint32_t since = (uint32_t)now - watchdog_kicked;
    if (since < watchdog_ticks) {                      /* kicked in time: wait for the rest */
        set_mtimecmp(now + (watchdog_ticks - since));
        return;
    }
    NOINIT->reset_flags |= RESET_FLAG_WATCHDOG;
    static const char msg[] = "watchdog: expired, reset follows\n";
    board_uart_write((const uint8_t *)msg, sizeof msg - 1);
    board_reset();
}

/* ---------------- GPIO lines ----------------
 * On the QEMU image the AFE is an emulator inside the Swift image, so ALERT and the
 * FET-off lines are plain variables the emulator drives and reads. 'virt' has no GPIO or LED:
 * the LED is a variable too. */
static volatile int afe_alert_line;
static volatile int afe_fets_off_lines;
static volatile int led_state;

int board_afe_alert(void) { return afe_alert_line; }
void board_set_afe_alert(int asserted) { afe_alert_line = asserted != 0; }
void board_afe_fets_off(int charge_off, int discharge_off) {
    afe_fets_off_lines = (charge_off ? 1 : 0) | (discharge_off ? 2 : 0);
}
int board_afe_fets_off_state(void) { return afe_fets_off_lines; }
void board_led(int on) { led_state = on != 0; }

/* ---------------- exit / reset ---------------- */

void board_exit(int code) {
    semihost_storage_close();
    uint32_t block[2] = { ADP_Stopped_ApplicationExit, (uint32_t)code };
    board_semihost(SYS_EXIT_EXTENDED, block);                      /* QEMU: exit(code) */
    /* Without semihosting: the SiFive test device (exit status 0..65535). */
    REG32(SIFIVE_TEST) = code == 0 ? TEST_PASS : (((uint32_t)code << 16) | TEST_FAIL);
    for (;;) { __asm__ volatile("wfi"); }
}

void board_reset(void) {
    semihost_storage_close();           /* the next boot opens the file again; the mirror survives in RAM */
    __asm__ volatile("fence" ::: "memory");
    REG32(SIFIVE_TEST) = TEST_RESET;
    for (;;) { __asm__ volatile("wfi"); }
}
#endif
