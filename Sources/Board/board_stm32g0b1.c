/* FlexBMS board support for the Libre Solar BMS-16S100-SC (STM32G0B1, Cortex-M0+), register
 * level. Section numbers refer to the STM32G0x1 reference manual RM0444.
 * Pins from the board's Zephyr devicetree (LibreSolar/bms-firmware,
 * boards/libresolar/bms_16s100_sc, v0.2):
 *   console  USART1  PA9 TX / PA10 RX (AF1, RX pulled up), 115200 8N1
 *   AFE bus  I2C2    PB13 SCL / PB14 SDA (AF6, open drain), 100 kHz; bq76952 at 0x08
 *   ALERT    PB8     (bq76952 ALERT, active high)
 *   LEDs     PC13 red, PC14 green (status LED = green)
 * Clock: 64 MHz from the PLL fed by HSI16 (M=1, N=8, R=2); the board also has an 8 MHz HSE,
 * which this file does not need. Settings flash: the last 4 pages (bank 2, pages 380..383,
 * 0x0807E000..0x0807FFFF), reserved by ld/stm32g0b1.ld.
 * This board cannot be run in QEMU (there is no STM32G0 machine); it compiles and links. */
#if defined(BOARD_STM32G0B1)
#include <stdint.h>
#include <stddef.h>
#include "board.h"

#define REG(a) (*(volatile uint32_t *)(a))
#define HCLK_HZ 64000000u

/* ---- RCC (§5.4) ---- */
#define RCC            0x40021000u
#define RCC_CR         (RCC + 0x00)   /* PLLON 24, PLLRDY 25 */
#define RCC_CFGR       (RCC + 0x08)   /* SW[2:0], SWS[5:3] */
#define RCC_PLLCFGR    (RCC + 0x0C)
#define RCC_IOPENR     (RCC + 0x34)   /* GPIOAEN 0 .. GPIODEN 3 */
#define RCC_APBENR1    (RCC + 0x3C)   /* I2C2EN 22 */
#define RCC_APBENR2    (RCC + 0x40)   /* USART1EN 14 */
#define RCC_CSR        (RCC + 0x60)   /* RMVF 23, IWDGRSTF 29 (§5.4.28) */

/* ---- FLASH (§3.7) ---- */
#define FLASH          0x40022000u
#define FLASH_ACR      (FLASH + 0x00) /* LATENCY[2:0], PRFTEN 8, ICEN 9 */
#define FLASH_KEYR     (FLASH + 0x08)
#define FLASH_SR       (FLASH + 0x10) /* EOP 0, errors 1..9, BSY1 16, CFGBSY 18 */
#define FLASH_CR       (FLASH + 0x14) /* PG 0, PER 1, PNB from bit 3, BKER 13, STRT 16, LOCK 31 */
#define FLASH_SR_ERRORS 0x3FAu        /* OPERR PROGERR WRPERR PGAERR SIZERR PGSERR MISERR FASTERR */
#define FLASH_SR_CFGBSY (1u << 18)
#define FLASH_SR_BSY1   (1u << 16)
#define FLASH_CR_PG     (1u << 0)
#define FLASH_CR_PER    (1u << 1)
#define FLASH_CR_BKER   (1u << 13)
#define FLASH_CR_STRT   (1u << 16)
#define FLASH_CR_LOCK   (1u << 31)

/* ---- GPIO (§7.4) ---- */
#define GPIOA 0x50000000u
#define GPIOB 0x50000400u
#define GPIOC 0x50000800u
#define GPIO_MODER(p)   ((p) + 0x00)
#define GPIO_OTYPER(p)  ((p) + 0x04)
#define GPIO_PUPDR(p)   ((p) + 0x0C)
#define GPIO_IDR(p)     ((p) + 0x10)
#define GPIO_BSRR(p)    ((p) + 0x18)
#define GPIO_AFR(p, n)  ((p) + 0x20 + ((n) >> 3) * 4)

/* ---- USART1 (§33.8) ---- */
#define USART1      0x40013800u
#define USART_CR1   (USART1 + 0x00)   /* UE 0, RE 2, TE 3 */
#define USART_BRR   (USART1 + 0x0C)
#define USART_ISR   (USART1 + 0x1C)   /* ORE 3, RXNE 5, TXE 7 */
#define USART_ICR   (USART1 + 0x20)   /* ORECF 3 */
#define USART_RDR   (USART1 + 0x24)
#define USART_TDR   (USART1 + 0x28)

/* ---- I2C2 (§32.7) ---- */
#define I2C2        0x40005800u
#define I2C_CR1     (I2C2 + 0x00)     /* PE 0 */
#define I2C_CR2     (I2C2 + 0x04)     /* SADD, RD_WRN 10, START 13, STOP 14, NBYTES 16, AUTOEND 25 */
#define I2C_TIMINGR (I2C2 + 0x10)
#define I2C_ISR     (I2C2 + 0x18)     /* TXIS 1, RXNE 2, NACKF 4, STOPF 5, TC 6, BERR 8, ARLO 9, BUSY 15 */
#define I2C_ICR     (I2C2 + 0x1C)
#define I2C_RXDR    (I2C2 + 0x24)
#define I2C_TXDR    (I2C2 + 0x28)
/* 100 kHz at I2CCLK = PCLK = 64 MHz: RM0444 §32.4.10 table for 16 MHz (PRESC 3, SCLL 0x13,
 * SCLH 0xF, SDADEL 2, SCLDEL 4) with PRESC 15 for the same 250 ns prescaled clock. */
#define I2C_TIMING_100K 0xF0420F13u

/* ---- IWDG (§27.4) ---- */
#define IWDG        0x40003000u
#define IWDG_KR     (IWDG + 0x00)
#define IWDG_PR     (IWDG + 0x04)
#define IWDG_RLR    (IWDG + 0x08)
#define IWDG_SR     (IWDG + 0x0C)
#define LSI_HZ      32000u

/* ---- SysTick / SCB (Cortex-M0+) ---- */
#define SYST_CSR  0xE000E010u
#define SYST_RVR  0xE000E014u
#define SYST_CVR  0xE000E018u
#define SCB_AIRCR 0xE000ED0Cu

extern uint8_t __settings_start[], __settings_end[];
#define FLASH_PAGE_SIZE 2048u
#define SETTINGS_PAGES 4u
#define SETTINGS_FIRST_PAGE 380u      /* bank 2 pages are numbered 256..383 (§3.3.1) */

static int last_reset_watchdog;
static volatile int afe_fets_off_lines;

/* AF / mode helpers */
static void pin_af(uint32_t port, unsigned pin, unsigned af, int open_drain, int pull_up) {
    REG(GPIO_AFR(port, pin)) = (REG(GPIO_AFR(port, pin)) & ~(0xFu << ((pin & 7) * 4))) | (af << ((pin & 7) * 4));
    if (open_drain) REG(GPIO_OTYPER(port)) |= 1u << pin;
    REG(GPIO_PUPDR(port)) = (REG(GPIO_PUPDR(port)) & ~(3u << (pin * 2))) | ((pull_up ? 1u : 0u) << (pin * 2));
    REG(GPIO_MODER(port)) = (REG(GPIO_MODER(port)) & ~(3u << (pin * 2))) | (2u << (pin * 2));
}
static void pin_output(uint32_t port, unsigned pin) {
    REG(GPIO_BSRR(port)) = 1u << (pin + 16);
    REG(GPIO_MODER(port)) = (REG(GPIO_MODER(port)) & ~(3u << (pin * 2))) | (1u << (pin * 2));
}
static void pin_input(uint32_t port, unsigned pin) {
    REG(GPIO_MODER(port)) &= ~(3u << (pin * 2));
}
static void pin_write(uint32_t port, unsigned pin, int high) {
    REG(GPIO_BSRR(port)) = high ? (1u << pin) : (1u << (pin + 16));
}

void board_init(void) {
    /* Reset cause (§5.4.28), then clear the flags. */
    last_reset_watchdog = (REG(RCC_CSR) >> 29) & 1u;
    REG(RCC_CSR) |= 1u << 23;

    /* 64 MHz: 2 flash wait states first (§3.3.4), then PLL (§5.2.4), then switch (§5.4.3). */
    REG(FLASH_ACR) = (REG(FLASH_ACR) & ~7u) | 2u | (1u << 8) | (1u << 9);
    while ((REG(FLASH_ACR) & 7u) != 2u) {}
    REG(RCC_PLLCFGR) = 2u               /* PLLSRC = HSI16 */
                     | (0u << 4)        /* M = 1 */
                     | (8u << 8)        /* N = 8: VCO 128 MHz */
                     | (1u << 17)       /* P = 2 (unused) */
                     | (1u << 25)       /* Q = 2 (unused) */
                     | (1u << 28)       /* PLLREN */
                     | (1u << 29);      /* R = 2: 64 MHz */
    REG(RCC_CR) |= 1u << 24;
    while (!(REG(RCC_CR) & (1u << 25))) {}
    REG(RCC_CFGR) = (REG(RCC_CFGR) & ~7u) | 2u;
    while (((REG(RCC_CFGR) >> 3) & 7u) != 2u) {}

    REG(RCC_IOPENR) |= 0x7u;                       /* GPIOA, B, C */
    REG(RCC_APBENR1) |= 1u << 22;                  /* I2C2 */
    REG(RCC_APBENR2) |= 1u << 14;                  /* USART1 */

    /* Console: USART1 115200 8N1 (§33.5.7: BRR = fck / baud with OVER8 = 0). */
    pin_af(GPIOA, 9, 1, 0, 0);
    pin_af(GPIOA, 10, 1, 0, 1);
    REG(USART_BRR) = (HCLK_HZ + 115200u / 2) / 115200u;
    REG(USART_CR1) = (1u << 0) | (1u << 2) | (1u << 3);

    /* AFE bus: I2C2, 100 kHz. */
    pin_af(GPIOB, 13, 6, 1, 1);
    pin_af(GPIOB, 14, 6, 1, 1);
    REG(I2C_CR1) = 0;
    REG(I2C_TIMINGR) = I2C_TIMING_100K;
    REG(I2C_CR1) = 1u;

    pin_input(GPIOB, 8);                           /* ALERT */
    pin_output(GPIOC, 13);                         /* red LED */
    pin_output(GPIOC, 14);                         /* green (status) LED */

    REG(SYST_RVR) = HCLK_HZ / 1000u - 1u;          /* 1 ms tick */
    REG(SYST_CVR) = 0;
    REG(SYST_CSR) = 7;
}

/* ---------------- console ---------------- */
void board_uart_write(const uint8_t *data, size_t count) {
    for (size_t i = 0; i < count; i++) {
        while (!(REG(USART_ISR) & (1u << 7))) {}
        REG(USART_TDR) = data[i];
    }
}

int board_uart_read(void) {
    uint32_t isr = REG(USART_ISR);
    if (isr & (1u << 3)) REG(USART_ICR) = 1u << 3;  /* overrun: clear, keep going */
    if (!(isr & (1u << 5))) return -1;
    return (int)(REG(USART_RDR) & 0xFFu);
}

/* ---------------- I2C2 master (§32.4.8 / §32.4.9), polled ---------------- */
#define I2C_TIMEOUT_MS 20u

static int i2c_wait(uint32_t flag) {   /* 0: flag set; -1: NACK; -2: timeout/bus error */
    uint32_t start = board_millis();
    for (;;) {
        uint32_t isr = REG(I2C_ISR);
        if (isr & (1u << 4)) {                         /* NACKF: STOP follows (AUTOEND) or send it */
            if (!(isr & (1u << 5))) REG(I2C_CR2) |= 1u << 14;
            uint32_t t = board_millis();
            while (!(REG(I2C_ISR) & (1u << 5)) && board_millis() - t < I2C_TIMEOUT_MS) {}
            REG(I2C_ICR) = (1u << 4) | (1u << 5);
            return -1;
        }
        if (isr & ((1u << 8) | (1u << 9))) break;      /* BERR, ARLO */
        if (isr & flag) return 0;
        if (board_millis() - start > I2C_TIMEOUT_MS) break;
    }
    REG(I2C_CR1) = 0;                                  /* PE off/on resets the state machine */
    REG(I2C_CR1) = 1u;
    return -2;
}

static int i2c_transfer(uint8_t address, int read, size_t count, int autoend) {
    REG(I2C_CR2) = ((uint32_t)address << 1) | (read ? 1u << 10 : 0) | ((uint32_t)count << 16)
                 | (autoend ? 1u << 25 : 0) | (1u << 13);
    return 0;
}

int board_i2c_write(uint8_t address, const uint8_t *data, size_t count) {
    if (count > 255) return -2;
    i2c_transfer(address, 0, count, 1);
    for (size_t i = 0; i < count; i++) {
        int rc = i2c_wait(1u << 1);                    /* TXIS */
        if (rc) return rc;
        REG(I2C_TXDR) = data[i];
    }
    int rc = i2c_wait(1u << 5);                        /* STOPF */
    REG(I2C_ICR) = 1u << 5;
    return rc;
}

int board_i2c_write_read(uint8_t address, const uint8_t *data, size_t count, uint8_t *into, size_t read_count) {
    if (count > 255 || read_count > 255) return -2;
    if (count > 0) {
        i2c_transfer(address, 0, count, 0);
        for (size_t i = 0; i < count; i++) {
            int rc = i2c_wait(1u << 1);
            if (rc) return rc;
            REG(I2C_TXDR) = data[i];
        }
        int rc = i2c_wait(1u << 6);                    /* TC: repeated start next */
        if (rc) return rc;
    }
    i2c_transfer(address, 1, read_count, 1);
    for (size_t i = 0; i < read_count; i++) {
        int rc = i2c_wait(1u << 2);                    /* RXNE */
        if (rc) return rc;
        into[i] = (uint8_t)REG(I2C_RXDR);
    }
    int rc = i2c_wait(1u << 5);
    REG(I2C_ICR) = 1u << 5;
    return rc;
}

/* ---------------- settings flash (§3.3.6 erase, §3.3.7 program) ---------------- */
uint32_t board_flash_page_size(void) { return FLASH_PAGE_SIZE; }
uint32_t board_flash_pages(void) { return SETTINGS_PAGES; }

static void flash_unlock(void) {
    if (REG(FLASH_CR) & FLASH_CR_LOCK) {
        REG(FLASH_KEYR) = 0x45670123u;
        REG(FLASH_KEYR) = 0xCDEF89ABu;
    }
}
static void flash_lock(void) { REG(FLASH_CR) |= FLASH_CR_LOCK; }
static int flash_wait(void) {
    while (REG(FLASH_SR) & (FLASH_SR_BSY1 | FLASH_SR_CFGBSY)) {}
    uint32_t sr = REG(FLASH_SR);
    REG(FLASH_SR) = sr & (FLASH_SR_ERRORS | 1u);       /* clear errors and EOP */
    return (sr & FLASH_SR_ERRORS) ? -2 : 0;
}

int board_flash_read(uint32_t offset, uint8_t *into, size_t count) {
    uint32_t size = FLASH_PAGE_SIZE * SETTINGS_PAGES;
    if (offset > size || count > size - offset) return -1;
    for (size_t i = 0; i < count; i++) into[i] = __settings_start[offset + i];
    return 0;
}

/* One 64-bit double word at a time (§3.3.7: two 32-bit writes, first word then second). The
 * ECC allows it to be programmed once after erase, or overwritten with all zeros. */
int board_flash_write(uint32_t offset, const uint8_t *data, size_t count) {
    uint32_t size = FLASH_PAGE_SIZE * SETTINGS_PAGES;
    if (offset > size || count > size - offset) return -1;
    int rc = 0;
    flash_unlock();
    flash_wait();
    size_t i = 0;
    while (i < count && rc == 0) {
        uint32_t at = offset + (uint32_t)i, dw = at & ~7u;
        volatile uint32_t *word = (volatile uint32_t *)(void *)(__settings_start + dw);
        union { uint32_t w[2]; uint8_t b[8]; } old, new;
        old.w[0] = word[0];
        old.w[1] = word[1];
        new = old;
        for (uint32_t k = at - dw; k < 8 && i < count; k++, i++) new.b[k] &= data[i];
        if (new.w[0] == old.w[0] && new.w[1] == old.w[1]) continue;
        int erased = old.w[0] == 0xFFFFFFFFu && old.w[1] == 0xFFFFFFFFu;
        int zeros = new.w[0] == 0 && new.w[1] == 0;
        if (!erased && !zeros) { rc = -2; break; }
        REG(FLASH_CR) |= FLASH_CR_PG;
        word[0] = new.w[0];
        word[1] = new.w[1];
        rc = flash_wait();
        REG(FLASH_CR) &= ~FLASH_CR_PG;
    }
    flash_lock();
    return rc;
}

int board_flash_erase(uint32_t page) {
    if (page >= SETTINGS_PAGES) return -1;
    flash_unlock();
    flash_wait();
    uint32_t pnb = SETTINGS_FIRST_PAGE + page;
    REG(FLASH_CR) = (REG(FLASH_CR) & ~(0x3FFu << 3)) | FLASH_CR_PER | FLASH_CR_BKER | (pnb << 3);
    REG(FLASH_CR) |= FLASH_CR_STRT;
    int rc = flash_wait();
    REG(FLASH_CR) &= ~(FLASH_CR_PER | FLASH_CR_BKER);
    flash_lock();
    return rc;
}

/* ---------------- IWDG (§27.3): LSI 32 kHz, prescaler /4 .. /256, 12-bit reload ---------------- */
void board_watchdog_start(uint32_t timeout_ms) {
    uint32_t pr = 0, ticks;
    if (timeout_ms > 100000u) timeout_ms = 100000u;   /* longer than the IWDG can count anyway */
    for (;;) {                                        /* smallest prescaler that fits */
        ticks = timeout_ms * (LSI_HZ / 1000u) / (4u << pr);   /* 32-bit: no __aeabi_uldivmod */
        if (ticks <= 0xFFFu || pr == 6) break;
        pr++;
    }
    if (ticks > 0xFFFu) ticks = 0xFFFu;
    if (ticks == 0) ticks = 1;
    REG(IWDG_KR) = 0xCCCCu;                           /* start */
    REG(IWDG_KR) = 0x5555u;                           /* unlock PR, RLR */
    REG(IWDG_PR) = pr;
    REG(IWDG_RLR) = ticks;
    while (REG(IWDG_SR) & 7u) {}
    REG(IWDG_KR) = 0xAAAAu;                           /* reload */
}

void board_watchdog_kick(void) { REG(IWDG_KR) = 0xAAAAu; }

int board_reset_was_watchdog(void) { return last_reset_watchdog; }

/* ---------------- GPIO lines ---------------- */
int board_afe_alert(void) { return (REG(GPIO_IDR(GPIOB)) >> 8) & 1u; }
/* The pin drives ALERT on this board. */
void board_set_afe_alert(int asserted) { (void)asserted; }

/* The devicetree names no MCU pins for the bq76952's CFETOFF/DFETOFF; define
 * BOARD_CFETOFF_PORT/PIN and BOARD_DFETOFF_PORT/PIN (e.g. -DBOARD_CFETOFF_PORT=GPIOB
 * -DBOARD_CFETOFF_PIN=1) when a board revision wires them. Without, the request is only
 * recorded and the FETs are switched through the AFE's I2C commands. */
void board_afe_fets_off(int charge_off, int discharge_off) {
    afe_fets_off_lines = (charge_off ? 1 : 0) | (discharge_off ? 2 : 0);
#if defined(BOARD_CFETOFF_PORT) && defined(BOARD_CFETOFF_PIN)
    pin_output(BOARD_CFETOFF_PORT, BOARD_CFETOFF_PIN);
    pin_write(BOARD_CFETOFF_PORT, BOARD_CFETOFF_PIN, charge_off);
#endif
#if defined(BOARD_DFETOFF_PORT) && defined(BOARD_DFETOFF_PIN)
    pin_output(BOARD_DFETOFF_PORT, BOARD_DFETOFF_PIN);
    pin_write(BOARD_DFETOFF_PORT, BOARD_DFETOFF_PIN, discharge_off);
#endif
}
int board_afe_fets_off_state(void) { return afe_fets_off_lines; }

void board_led(int on) { pin_write(GPIOC, 14, on); }

/* ---------------- command line / exit / reset ---------------- */
size_t board_command_line(char *into, size_t capacity) {
    if (capacity > 0) into[0] = 0;
    return 0;
}

void board_reset(void) {
    __asm__ volatile("dsb" ::: "memory");
    REG(SCB_AIRCR) = 0x05FA0004u;                     /* VECTKEY | SYSRESETREQ */
    __asm__ volatile("dsb" ::: "memory");
    for (;;) {}
}

/* No host to exit to: flush the console and reset. */
void board_exit(int code) {
    (void)code;
    for (uint32_t n = 0; n < 1000000u && !(REG(USART_ISR) & (1u << 6)); n++) {}   /* TC */
    board_reset();
}

void NMI_Handler(void) {                               /* e.g. a flash ECC double error */
    static const char msg[] = "nmi\n";
    board_uart_write((const uint8_t *)msg, sizeof msg - 1);
    board_reset();
}
#endif
