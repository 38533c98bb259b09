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

#define REG(a) (*(volatile uint32_t *)(a))

#define SYSCLK_HZ 25000000u

/* ---------------- semihosting ---------------- */
static int semihost(int op, const void *arg) {
    register int r0 __asm__("r0") = op;
    register const void *r1 __asm__("r1") = arg;
    __asm__ volatile("bkpt 0xab" : "+r"(r0) : "r"(r1) : "memory");
    return r0;
}
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
#define OPEN_RB_PLUS 3   /* "r+b" */
#define OPEN_WB_PLUS 7   /* "w+b" */

/* ---------------- memory that survives a reset ----------------
 * At the end of RAM, outside every ELF segment (see ld/common.ld), so neither our
 * Reset_Handler nor QEMU's loader clears it on a watchdog or software reset. A power-on
 * (a new QEMU run) finds RAM zeroed, hence no magic. */
#define NOINIT_MAGIC 0xF1E5B3D5u
#define FLASH_PAGE_SIZE 2048u
#define FLASH_PAGES 4u
#define FLASH_SIZE (FLASH_PAGE_SIZE * FLASH_PAGES)
#define RESET_FLAG_WATCHDOG 1u

struct noinit {
    uint32_t magic;
    uint32_t reset_flags;            /* set by the watchdog NMI, read after the reset */
    uint8_t flash[FLASH_SIZE];       /* the settings flash when no host file backs it */
};
_Static_assert(sizeof(struct noinit) <= 9 * 1024, "grow __noinit_size in ld/mps2*.ld");
extern uint8_t __noinit_start[];
#define NOINIT ((struct noinit *)(void *)__noinit_start)

static int last_reset_watchdog;
static int flash_handle = -1;        /* semihosting handle of the backing file, -1: RAM only */

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
static size_t cmdline_raw(char *buf, size_t cap) {
    uint32_t block[2] = { (uint32_t)(uintptr_t)buf, (uint32_t)cap };
    if (semihost(SYS_GET_CMDLINE, block) != 0) { buf[0] = 0; return 0; }
    size_t n = block[1] < cap ? block[1] : cap - 1;
    buf[n] = 0;
    return n;
}

/* QEMU builds the semihosting command line as "<kernel file> <-append text>". */
static const char *skip_program_name(const char *s) {
    while (*s && *s != ' ') s++;
    while (*s == ' ') s++;
    return s;
}

static char cmdline_buf[256];

size_t board_command_line(char *into, size_t capacity) {
    if (capacity == 0) return 0;
    const char *s = skip_program_name(cmdline_buf);
    size_t n = 0;
    while (s[n] && n + 1 < capacity) { into[n] = s[n]; n++; }
    into[n] = 0;
    return n;
}

static void flash_open_backing_file(void) {
    /* the 2nd word of the -append text names the file */
    const char *s = skip_program_name(cmdline_buf);
    while (*s && *s != ' ') s++;
    while (*s == ' ') s++;
    static char name[160];
    size_t n = 0;
    while (s[n] && s[n] != ' ' && n + 1 < sizeof name) { name[n] = s[n]; n++; }
    name[n] = 0;
    if (n == 0) return;                               /* RAM-only flash */

    uint32_t open_block[3] = { (uint32_t)(uintptr_t)name, OPEN_RB_PLUS, (uint32_t)n };
    int h = semihost(SYS_OPEN, open_block);
    if (h != -1) {
        uint32_t flen_block[1] = { (uint32_t)h };
        if (semihost(SYS_FLEN, flen_block) == (int)FLASH_SIZE) {
            uint32_t read_block[3] = { (uint32_t)h, (uint32_t)(uintptr_t)NOINIT->flash, FLASH_SIZE };
            semihost(SYS_READ, read_block);           /* the file is the flash contents */
            flash_handle = h;
            return;
        }
        uint32_t close_block[1] = { (uint32_t)h };    /* wrong size: start it again */
        semihost(SYS_CLOSE, close_block);
    }
    open_block[1] = OPEN_WB_PLUS;
    h = semihost(SYS_OPEN, open_block);
    if (h == -1) return;
    flash_handle = h;
    uint32_t write_block[3] = { (uint32_t)h, (uint32_t)(uintptr_t)NOINIT->flash, FLASH_SIZE };
    semihost(SYS_WRITE, write_block);
}

void board_init(void) {
    struct noinit *ni = NOINIT;
    if (ni->magic != NOINIT_MAGIC) {                  /* power-on: flash erased, no flags */
        for (size_t i = 0; i < FLASH_SIZE; i++) ni->flash[i] = 0xFF;
        ni->reset_flags = 0;
        ni->magic = NOINIT_MAGIC;
    }
    last_reset_watchdog = (ni->reset_flags & RESET_FLAG_WATCHDOG) != 0;
    ni->reset_flags = 0;

    REG(UART_BAUDDIV) = 16;                           /* minimum divider; QEMU ignores baud */
    REG(UART_CTRL) = 3;                               /* TXEN | RXEN */

    REG(SYST_RVR) = SYSCLK_HZ / 1000u - 1u;           /* 1 ms */
    REG(SYST_CVR) = 0;
    REG(SYST_CSR) = 7;                                /* processor clock, TICKINT, ENABLE */

    cmdline_raw(cmdline_buf, sizeof cmdline_buf);
    flash_open_backing_file();
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
uint32_t board_flash_page_size(void) { return FLASH_PAGE_SIZE; }
uint32_t board_flash_pages(void) { return FLASH_PAGES; }

static void flash_write_through(uint32_t offset, size_t count) {
    if (flash_handle < 0) return;
    uint32_t seek_block[2] = { (uint32_t)flash_handle, offset };
    semihost(SYS_SEEK, seek_block);
    uint32_t write_block[3] = { (uint32_t)flash_handle, (uint32_t)(uintptr_t)(NOINIT->flash + offset), (uint32_t)count };
    semihost(SYS_WRITE, write_block);
}

int board_flash_read(uint32_t offset, uint8_t *into, size_t count) {
    if (offset > FLASH_SIZE || count > FLASH_SIZE - offset) return -1;
    for (size_t i = 0; i < count; i++) into[i] = NOINIT->flash[offset + i];
    return 0;
}

int board_flash_write(uint32_t offset, const uint8_t *data, size_t count) {
    if (offset > FLASH_SIZE || count > FLASH_SIZE - offset) return -1;
    for (size_t i = 0; i < count; i++) NOINIT->flash[offset + i] &= data[i];   /* NOR: bits only clear */
    flash_write_through(offset, count);
    return 0;
}

int board_flash_erase(uint32_t page) {
    if (page >= FLASH_PAGES) return -1;
    uint8_t *p = NOINIT->flash + page * FLASH_PAGE_SIZE;
    for (size_t i = 0; i < FLASH_PAGE_SIZE; i++) p[i] = 0xFF;
    flash_write_through(page * FLASH_PAGE_SIZE, FLASH_PAGE_SIZE);
    return 0;
}

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
    if (flash_handle >= 0) {
        uint32_t close_block[1] = { (uint32_t)flash_handle };
        semihost(SYS_CLOSE, close_block);
        flash_handle = -1;
    }
    uint32_t block[2] = { ADP_Stopped_ApplicationExit, (uint32_t)code };
    semihost(SYS_EXIT_EXTENDED, block);                      /* QEMU: exit(code) */
    semihost(SYS_EXIT, (void *)ADP_Stopped_ApplicationExit);  /* fallback: exit(0) */
    for (;;) { __asm__ volatile("wfi"); }
}

void board_reset(void) {
    __asm__ volatile("dsb" ::: "memory");
    REG(0xE000ED0Cu) = 0x05FA0004u;                  /* SCB AIRCR: VECTKEY | SYSRESETREQ */
    __asm__ volatile("dsb" ::: "memory");
    for (;;) {}
}
#endif
