/* FlexBMS board support for the QEMU mps2 machines:
 *   mps2-an385 (Cortex-M3; runs our ARMv6-M "m0" image) and mps2-an386 (Cortex-M4F).
 * Facts checked on QEMU 7.2 (`info mtree` / `info qtree`):
 *   CMSDK APB UART0  0x40004000 (console; serial 0)
 *   CMSDK watchdog   0x40008000, WDOGCLK 25 MHz, interrupt wired to NMI; on its second
 *                    expiry with RESEN set QEMU resets the machine (watchdog action "reset")
 *   MPS2 FPGAIO      0x40028000, LED0 register at offset 0 (2 LEDs)
 *   SysTick          processor clock = SYSCLK 25 MHz
 *   SBCon I2C        0x40022000/23000/29000/2a000 exist but have nothing attached
 * Semihosting (QEMU -semihosting-config enable=on,target=native) gives the exit code
 * (SYS_EXIT_EXTENDED), the command line (SYS_GET_CMDLINE) and the host file that backs the
 * settings flash (SYS_OPEN/READ/WRITE/SEEK/FLEN/CLOSE). */
#if defined(BOARD_MPS2)
#include <stdint.h>
#include <stddef.h>
#include "board.h"
#include "semihost_storage.h"

#define REG(a) (*(volatile uint32_t *)(a))

#define SYSCLK_HZ 25000000u

/* ---------------- semihosting ---------------- */
int board_semihost(int op, const void *arg) {
    register int r0 __asm__("r0") = op;
    register const void *r1 __asm__("r1") = arg;
    __asm__ volatile("bkpt 0xab" : "+r"(r0) : "r"(r1) : "memory");
    return r0;
}

/* The memory that survives a reset (struct noinit): semihost_storage.h. */

static int last_reset_watchdog;

/* ---------------- UART0 (CMSDK APB UART) ---------------- */
#define UART0          0x40004000u
#define UART_DATA      (UART0 + 0x00)
#define UART_STATE     (UART0 + 0x04)   /* bit0 TXFULL, bit1 RXFULL */
#define UART_CTRL      (UART0 + 0x08)   /* bit0 TXEN, bit1 RXEN */
#define UART_BAUDDIV   (UART0 + 0x10)

void board_uart_write(const uint8_t *data, size_t count) {
    for (size_t i = 0; i < count; i++) {
        while (REG(UART_STATE) & 1u) {}
        REG(UART_DATA) = data[i];
    }
}

int board_uart_read(void) {
    if (!(REG(UART_STATE) & 2u)) return -1;
    return (int)(REG(UART_DATA) & 0xFFu);
}

/* ---------------- SysTick (ARMv7-M/ARMv6-M SysTick) ---------------- */
#define SYST_CSR 0xE000E010u
#define SYST_RVR 0xE000E014u
#define SYST_CVR 0xE000E018u

/* ---------------- init / command line ---------------- */
void board_init(void) {
    REG(UART_BAUDDIV) = 16;                           /* minimum divider; QEMU ignores baud */
    REG(UART_CTRL) = 3;                               /* TXEN | RXEN */

    REG(SYST_RVR) = SYSCLK_HZ / 1000u - 1u;           /* 1 ms */
    REG(SYST_CVR) = 0;
    REG(SYST_CSR) = 7;                                /* processor clock, TICKINT, ENABLE */

    last_reset_watchdog = semihost_storage_init();
}

/* ---------------- I2C ----------------
 * NOT THERE on this board: the mps2 machines have SBCon I2C controllers with no device on
 * them. The QEMU image routes the AFE's I2C traffic to the chip emulator in Swift instead,
 * so these only answer "no device" (-1, NACK). */
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

/* ---------------- watchdog: CMSDK APB watchdog ----------------
 * The counter runs at WDOGCLK (25 MHz). First expiry: interrupt (NMI on mps2) and reload;
 * second expiry with RESEN: reset. So LOAD is half the timeout. A kick (INTCLR) clears the
 * interrupt and reloads. The NMI records the cause in no-init RAM; the reset follows. */
#define WDOG          0x40008000u
#define WDOG_LOAD     (WDOG + 0x000)
#define WDOG_CONTROL  (WDOG + 0x008)   /* bit0 INTEN, bit1 RESEN */
#define WDOG_INTCLR   (WDOG + 0x00C)
#define WDOG_RIS      (WDOG + 0x010)
#define WDOG_LOCK     (WDOG + 0xC00)
#define WDOG_UNLOCK_KEY 0x1ACCE551u

void board_watchdog_start(uint32_t timeout_ms) {
    uint32_t half_ms = timeout_ms / 2u;
    if (half_ms == 0) half_ms = 1;
    if (half_ms > 0xFFFFFFFFu / (SYSCLK_HZ / 1000u)) half_ms = 0xFFFFFFFFu / (SYSCLK_HZ / 1000u);
    REG(WDOG_LOCK) = WDOG_UNLOCK_KEY;
    REG(WDOG_LOAD) = half_ms * (SYSCLK_HZ / 1000u);
    REG(WDOG_INTCLR) = 1;
    REG(WDOG_CONTROL) = 3;
    REG(WDOG_LOCK) = 0;
}

void board_watchdog_kick(void) {
    REG(WDOG_LOCK) = WDOG_UNLOCK_KEY;
    REG(WDOG_INTCLR) = 1;
    REG(WDOG_LOCK) = 0;
}

int board_reset_was_watchdog(void) { return last_reset_watchdog; }

void NMI_Handler(void) {
    if (REG(WDOG_RIS) & 1u) {
        NOINIT->reset_flags |= RESET_FLAG_WATCHDOG;   /* the reset comes at the next expiry */
        static const char msg[] = "watchdog: expired, reset follows\n";
        board_uart_write((const uint8_t *)msg, sizeof msg - 1);
    }
}

/* ---------------- GPIO lines ----------------
 * On the QEMU image the AFE is an emulator inside the Swift image, so ALERT and the
 * FET-off lines are plain variables the emulator drives and reads. The LED is the FPGAIO
 * LED0 register (bit 0). */
static volatile int afe_alert_line;
static volatile int afe_fets_off_lines;
#define FPGAIO_LED0 0x40028000u

int board_afe_alert(void) { return afe_alert_line; }
void board_set_afe_alert(int asserted) { afe_alert_line = asserted != 0; }
void board_afe_fets_off(int charge_off, int discharge_off) {
    afe_fets_off_lines = (charge_off ? 1 : 0) | (discharge_off ? 2 : 0);
}
int board_afe_fets_off_state(void) { return afe_fets_off_lines; }

void board_led(int on) {
    uint32_t v = REG(FPGAIO_LED0);
    REG(FPGAIO_LED0) = on ? (v | 1u) : (v & ~1u);
}

/* ---------------- exit / reset ---------------- */
void board_exit(int code) {
    semihost_storage_close();
    uint32_t block[2] = { ADP_Stopped_ApplicationExit, (uint32_t)code };
    board_semihost(SYS_EXIT_EXTENDED, block);                      /* QEMU: exit(code) */
    board_semihost(SYS_EXIT, (void *)ADP_Stopped_ApplicationExit);  /* fallback: exit(0) */
    for (;;) { __asm__ volatile("wfi"); }
}

void board_reset(void) {
    __asm__ volatile("dsb" ::: "memory");
    REG(0xE000ED0Cu) = 0x05FA0004u;                  /* SCB AIRCR: VECTKEY | SYSRESETREQ */
    __asm__ volatile("dsb" ::: "memory");
    for (;;) {}
}
#endif
