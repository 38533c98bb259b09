/* The QEMU boards' command line and settings flash: NOR flash in a RAM area that survives a
 * reset, written through to a host file over semihosting so that a second QEMU run (a power
 * cycle) finds it. Used by BOARD_MPS2 and BOARD_RISCV_VIRT. */
#if defined(BOARD_MPS2) || defined(BOARD_RISCV_VIRT)
#include "semihost_storage.h"
#include "board.h"

#define OPEN_RB_PLUS 3   /* "r+b" */
#define OPEN_WB_PLUS 7   /* "w+b" */

static uint8_t *flash_ram;
static int flash_handle = -1;        /* semihosting handle of the backing file, -1: RAM only */
static char cmdline_buf[256];

static size_t cmdline_raw(char *buf, size_t cap) {
    uint32_t block[2] = { (uint32_t)(uintptr_t)buf, (uint32_t)cap };
    if (board_semihost(SYS_GET_CMDLINE, block) != 0) { buf[0] = 0; return 0; }
    size_t n = block[1] < cap ? block[1] : cap - 1;
    buf[n] = 0;
    return n;
}

/* QEMU builds the semihosting command line as "<kernel file> <-append text>". */
static const char *skip_word(const char *s) {
    while (*s && *s != ' ') s++;
    while (*s == ' ') s++;
    return s;
}

size_t board_command_line(char *into, size_t capacity) {
    if (capacity == 0) return 0;
    const char *s = skip_word(cmdline_buf);
    size_t n = 0;
    while (s[n] && n + 1 < capacity) { into[n] = s[n]; n++; }
    into[n] = 0;
    return n;
}

/* Backs the flash with the host file named by the 2nd word of the -append text, if any. */
static void open_backing_file(void) {
    const char *s = skip_word(skip_word(cmdline_buf));
    static char name[160];
    size_t n = 0;
    while (s[n] && s[n] != ' ' && n + 1 < sizeof name) { name[n] = s[n]; n++; }
    name[n] = 0;
    if (n == 0) return;                               /* RAM-only flash */

    uint32_t open_block[3] = { (uint32_t)(uintptr_t)name, OPEN_RB_PLUS, (uint32_t)n };
    int h = board_semihost(SYS_OPEN, open_block);
    if (h != -1) {
        uint32_t flen_block[1] = { (uint32_t)h };
        if (board_semihost(SYS_FLEN, flen_block) == (int)FLASH_SIZE) {
            uint32_t read_block[3] = { (uint32_t)h, (uint32_t)(uintptr_t)flash_ram, FLASH_SIZE };
            board_semihost(SYS_READ, read_block);     /* the file is the flash contents */
            flash_handle = h;
            return;
        }
        uint32_t close_block[1] = { (uint32_t)h };    /* wrong size: start it again */
        board_semihost(SYS_CLOSE, close_block);
    }
    open_block[1] = OPEN_WB_PLUS;
    h = board_semihost(SYS_OPEN, open_block);
    if (h == -1) return;
    flash_handle = h;
    uint32_t write_block[3] = { (uint32_t)h, (uint32_t)(uintptr_t)flash_ram, FLASH_SIZE };
    board_semihost(SYS_WRITE, write_block);
}

int semihost_storage_init(void) {
    struct noinit *ni = NOINIT;
    if (ni->magic != NOINIT_MAGIC) {                  /* power-on: flash erased, no flags */
        for (size_t i = 0; i < FLASH_SIZE; i++) ni->flash[i] = 0xFF;
        ni->reset_flags = 0;
        ni->magic = NOINIT_MAGIC;
    }
    int watchdog = (ni->reset_flags & RESET_FLAG_WATCHDOG) != 0;
    ni->reset_flags = 0;
    flash_ram = ni->flash;
    cmdline_raw(cmdline_buf, sizeof cmdline_buf);
    open_backing_file();
    return watchdog;
}

void semihost_storage_close(void) {
    if (flash_handle < 0) return;
    uint32_t close_block[1] = { (uint32_t)flash_handle };
    board_semihost(SYS_CLOSE, close_block);
    flash_handle = -1;
}

uint32_t board_flash_page_size(void) { return FLASH_PAGE_SIZE; }
uint32_t board_flash_pages(void) { return FLASH_PAGES; }

static void flash_write_through(uint32_t offset, size_t count) {
    if (flash_handle < 0) return;
    uint32_t seek_block[2] = { (uint32_t)flash_handle, offset };
    board_semihost(SYS_SEEK, seek_block);
    uint32_t write_block[3] = { (uint32_t)flash_handle, (uint32_t)(uintptr_t)(flash_ram + offset), (uint32_t)count };
    board_semihost(SYS_WRITE, write_block);
}

int board_flash_read(uint32_t offset, uint8_t *into, size_t count) {
    if (offset > FLASH_SIZE || count > FLASH_SIZE - offset) return -1;
    for (size_t i = 0; i < count; i++) into[i] = flash_ram[offset + i];
    return 0;
}

int board_flash_write(uint32_t offset, const uint8_t *data, size_t count) {
    if (offset > FLASH_SIZE || count > FLASH_SIZE - offset) return -1;
    for (size_t i = 0; i < count; i++) flash_ram[offset + i] &= data[i];   /* NOR: bits only clear */
    flash_write_through(offset, count);
    return 0;
}

int board_flash_erase(uint32_t page) {
    if (page >= FLASH_PAGES) return -1;
    uint8_t *p = flash_ram + page * FLASH_PAGE_SIZE;
    for (size_t i = 0; i < FLASH_PAGE_SIZE; i++) p[i] = 0xFF;
    flash_write_through(page * FLASH_PAGE_SIZE, FLASH_PAGE_SIZE);
    return 0;
}
#endif
