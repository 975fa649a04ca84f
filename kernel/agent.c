/* Guest agent of the kernel back-end (issue #10; protocol in docs/real-kernel.md).
 *
 * One request per line on the serial port given as argv[1], one reply per line:
 *   request: OP ARG...               (tokens separated by one space, each percent-encoded)
 *   reply:   ERRNO VALUE LOG...      (ERRNO 0 or a positive errno; VALUE "-" for none; one token per kernel log
 *                                    record raised since the previous reply, read from /dev/kmsg)
 * The agent only does what userspace can do: sysfs reads and writes, readlink, and VFIO group/container ioctls.
 * The host decides what each trace step means; `reset` and `state` exist here so that a reset costs one round trip.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/vfio.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/utsname.h>
#include <termios.h>
#include <unistd.h>

#define LINE_MAX_BYTES 4096
#define REPLY_MAX (256 * 1024)
#define LOG_MAX (128 * 1024) /* more kernel log than this per step is reported as an overflow */
#define MAX_DEVS 64
#define MAX_GROUPS 64

static int port = -1, kmsg = -1;
static char reply[REPLY_MAX];
static size_t reply_len;

/* ---- percent encoding: every byte outside '!'..'~' and '%' itself becomes %XX ---- */
static void put_raw(const char *s, size_t n)
{
    if (reply_len + n < sizeof reply - 16) { memcpy(reply + reply_len, s, n); reply_len += n; }
}

static void put_enc(const char *s, size_t n)
{
    static const char hex[] = "0123456789ABCDEF";
    if (n == 0) { put_raw("-", 1); return; }
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c > ' ' && c <= '~' && c != '%' && !(i == 0 && n == 1 && c == '-')) put_raw((char *)&c, 1);
        else { char e[3] = {'%', hex[c >> 4], hex[c & 15]}; put_raw(e, 3); }
    }
}

static size_t decode(char *s)
{
    size_t o = 0;
    for (size_t i = 0; s[i]; i++) {
        if (s[i] == '%' && s[i + 1] && s[i + 2]) {
            char h[3] = {s[i + 1], s[i + 2], 0};
            s[o++] = (char)strtol(h, NULL, 16);
            i += 2;
        } else s[o++] = s[i];
    }
    s[o] = 0;
    return o;
}

/* ---- kernel log: every record since the last reply, message text only ---- */
static void put_logs(void)
{
    char rec[8192];
    size_t total = 0;
    int overflow = 0;
    for (;;) {
        ssize_t n = read(kmsg, rec, sizeof rec - 1);
        if (n < 0 && errno == EPIPE) { overflow = 1; continue; } /* records were overwritten before we read them */
        if (n <= 0) break;
        rec[n] = 0;
        char *msg = strchr(rec, ';');
        if (!msg) continue;
        msg++;
        char *end = strchr(msg, '\n'); /* continuation lines (" KEY=value") are metadata: dropped */
        size_t len = end ? (size_t)(end - msg) : strlen(msg);
        total += len;
        if (total > LOG_MAX) { overflow = 1; continue; }
        put_raw(" ", 1);
        put_enc(msg, len);
    }
    if (overflow) put_raw(" !overflow", 10);
}

static void finish(int err, const char *value, size_t vlen)
{
    char head[16];
    reply_len = 0;
    put_raw(head, (size_t)snprintf(head, sizeof head, "%d ", err));
    put_enc(value, vlen);
    put_logs();
    put_raw("\n", 1);
    for (size_t off = 0; off < reply_len;) {
        ssize_t w = write(port, reply + off, reply_len - off);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) exit(2);
        off += (size_t)w;
    }
}

static void finish_str(int err, const char *value) { finish(err, value, value ? strlen(value) : 0); }

/* ---- sysfs primitives ---- */
static int read_file(const char *path, char *buf, size_t cap, size_t *len)
{
    int fd = open(path, O_RDONLY);
    if (fd < 0) return errno;
    ssize_t n = read(fd, buf, cap - 1);
    int err = n < 0 ? errno : 0;
    close(fd);
    *len = n < 0 ? 0 : (size_t)n;
    buf[*len] = 0;
    return err;
}

/* One write(2) of exactly these bytes, as `echo` or a program would do: sysfs sees them in one store call. */
static int write_file(const char *path, const char *data, size_t len)
{
    int fd = open(path, O_WRONLY);
    if (fd < 0) return errno;
    ssize_t n = write(fd, data, len);
    int err = n < 0 ? errno : 0;
    close(fd);
    return err;
}

static void chomp(char *s)
{
    size_t n = strlen(s);
    while (n && s[n - 1] == '\n') s[--n] = 0;
}

static const char *base_of_link(const char *path, char *buf, size_t cap)
{
    ssize_t n = readlink(path, buf, cap - 1);
    if (n < 0) return NULL;
    buf[n] = 0;
    char *b = strrchr(buf, '/');
    return b ? b + 1 : buf;
}

/* ---- device state: BDF, group, group type, driver, group peers ---- */
struct dev { char bdf[16], group[16], type[16], driver[32], override[32]; };
static struct dev initial[MAX_DEVS];
static int n_initial;

static int cmp_dev(const void *a, const void *b) { return strcmp(((const struct dev *)a)->bdf, ((const struct dev *)b)->bdf); }

static int read_devs(struct dev *out)
{
    DIR *d = opendir("/sys/bus/pci/devices");
    if (!d) return 0;
    int n = 0;
    struct dirent *e;
    char path[256], buf[256];
    while ((e = readdir(d)) && n < MAX_DEVS) {
        if (e->d_name[0] == '.') continue;
        struct dev *v = &out[n++];
        memset(v, 0, sizeof *v);
        snprintf(v->bdf, sizeof v->bdf, "%s", e->d_name);
        snprintf(path, sizeof path, "/sys/bus/pci/devices/%s/iommu_group", e->d_name);
        const char *g = base_of_link(path, buf, sizeof buf);
        snprintf(v->group, sizeof v->group, "%s", g ? g : "-");
        size_t len;
        snprintf(path, sizeof path, "/sys/bus/pci/devices/%s/iommu_group/type", e->d_name);
        if (read_file(path, v->type, sizeof v->type, &len)) snprintf(v->type, sizeof v->type, "-");
        chomp(v->type);
        snprintf(path, sizeof path, "/sys/bus/pci/devices/%s/driver", e->d_name);
        const char *drv = base_of_link(path, buf, sizeof buf);
        snprintf(v->driver, sizeof v->driver, "%s", drv ? drv : "-");
        snprintf(path, sizeof path, "/sys/bus/pci/devices/%s/driver_override", e->d_name);
        if (read_file(path, v->override, sizeof v->override, &len)) v->override[0] = 0;
        chomp(v->override);
        if (!strcmp(v->override, "(null)") || !v->override[0]) snprintf(v->override, sizeof v->override, "-");
    }
    closedir(d);
    qsort(out, (size_t)n, sizeof *out, cmp_dev);
    return n;
}

/* "bdf=group:type:driver:override:peer+peer" per device, ';'-separated. Without ids the group shows as "g" and
 * only its peers stand for it: ids change on remove/rescan, so a reset is compared without them. */
static size_t format_devs(struct dev *v, int n, int with_ids, char *out, size_t cap)
{
    size_t o = 0;
    for (int i = 0; i < n && o < cap - 256; i++) {
        const char *g = with_ids || !strcmp(v[i].group, "-") ? v[i].group : "g";
        o += (size_t)snprintf(out + o, cap - o, "%s%s=%s:%s:%s:%s:", i ? ";" : "", v[i].bdf, g, v[i].type,
                              v[i].driver, v[i].override);
        int first = 1;
        for (int j = 0; j < n; j++)
            if (strcmp(v[j].group, "-") && !strcmp(v[j].group, v[i].group)) {
                o += (size_t)snprintf(out + o, cap - o, "%s%s", first ? "" : "+", v[j].bdf);
                first = 0;
            }
    }
    return o;
}

/* ---- VFIO: one container per claimed group ---- */
struct claim { int group, gfd, cfd; };
static struct claim claims[MAX_GROUPS];

static struct claim *find_claim(int group)
{
    for (int i = 0; i < MAX_GROUPS; i++) if (claims[i].gfd > 0 && claims[i].group == group) return &claims[i];
    return NULL;
}

static void drop_claim(struct claim *c)
{
    ioctl(c->gfd, VFIO_GROUP_UNSET_CONTAINER);
    close(c->gfd);
    close(c->cfd);
    memset(c, 0, sizeof *c);
}

/* Open the group, put it on a fresh container: VFIO_GROUP_SET_CONTAINER is where vfio claims DMA ownership. */
static int vfio_claim(int group, const char **why)
{
    if (find_claim(group)) { *why = "already claimed by this agent"; return EALREADY; }
    struct claim *c = NULL;
    for (int i = 0; i < MAX_GROUPS && !c; i++) if (claims[i].gfd <= 0) c = &claims[i];
    if (!c) { *why = "too many claims"; return ENOSPC; }
    char path[64];
    snprintf(path, sizeof path, "/dev/vfio/%d", group);
    int cfd = open("/dev/vfio/vfio", O_RDWR);
    if (cfd < 0) { *why = "open /dev/vfio/vfio"; return errno; }
    int gfd = open(path, O_RDWR);
    if (gfd < 0) { int e = errno; close(cfd); *why = "open group"; return e; }
    struct vfio_group_status st = {.argsz = sizeof st};
    if (ioctl(gfd, VFIO_GROUP_GET_STATUS, &st)) { int e = errno; close(gfd); close(cfd); *why = "GET_STATUS"; return e; }
    if (ioctl(gfd, VFIO_GROUP_SET_CONTAINER, &cfd)) {
        int e = errno; close(gfd); close(cfd); *why = "SET_CONTAINER"; return e;
    }
    *c = (struct claim){group, gfd, cfd};
    *why = (st.flags & VFIO_GROUP_FLAGS_VIABLE) ? "viable" : "not-viable";
    return 0;
}

static int vfio_set_iommu(int group)
{
    struct claim *c = find_claim(group);
    if (!c) return ENOENT;
    return ioctl(c->cfd, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU) < 0 ? errno : 0;
}

static int vfio_release(int group)
{
    struct claim *c = find_claim(group);
    if (!c) return ENOENT;
    int err = ioctl(c->gfd, VFIO_GROUP_UNSET_CONTAINER) ? errno : 0;
    close(c->gfd);
    close(c->cfd);
    memset(c, 0, sizeof *c);
    return err;
}

/* The memory VFIO maps: one anonymous buffer, mapped on first use. The host picks the offset (its low bits follow the
 * trace's paddr, so an unaligned paddr is an unaligned vaddr) and keeps offset + size inside it. */
#define DMA_BUF_BYTES (64UL << 20)
static char *dma_buf;

static int vfio_map(int group, unsigned long long iova, unsigned long long size, unsigned long long off, unsigned flags, const char **why)
{
    struct claim *c = find_claim(group);
    if (!c) { *why = "not claimed"; return ENOENT; }
    if (off > DMA_BUF_BYTES || size > DMA_BUF_BYTES - off) { *why = "outside-buffer"; return E2BIG; }
    if (!dma_buf) {
        void *b = mmap(NULL, DMA_BUF_BYTES, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        if (b == MAP_FAILED) { *why = "mmap"; return errno; }
        dma_buf = b;
    }
    struct vfio_iommu_type1_dma_map m = {
        .argsz = sizeof m, .flags = flags, .vaddr = (uintptr_t)dma_buf + off, .iova = iova, .size = size,
    };
    *why = NULL;
    return ioctl(c->cfd, VFIO_IOMMU_MAP_DMA, &m) ? errno : 0;
}

/* VFIO_IOMMU_UNMAP_DMA: the value is the bytes vfio unmapped (it writes them back into .size). */
static int vfio_unmap(int group, unsigned long long iova, unsigned long long size, char *out, size_t cap)
{
    struct claim *c = find_claim(group);
    if (!c) { snprintf(out, cap, "not-claimed"); return ENOENT; }
    struct vfio_iommu_type1_dma_unmap u = {.argsz = sizeof u, .iova = iova, .size = size};
    if (ioctl(c->cfd, VFIO_IOMMU_UNMAP_DMA, &u)) { out[0] = 0; return errno; }
    snprintf(out, cap, "%llu", (unsigned long long)u.size);
    return 0;
}

/* DMAR fault interrupts so far (the "dmar" lines of /proc/interrupts): the fault's record in the log is ratelimited
 * (dmar_fault prints at most 10 per 5 s), the interrupt is counted every time. */
static long dmar_irqs(void)
{
    FILE *f = fopen("/proc/interrupts", "r");
    if (!f) return -1;
    char line[512];
    long total = 0;
    while (fgets(line, sizeof line, f)) {
        if (!strstr(line, "DMAR") && !strstr(line, "dmar")) continue;
        char *p = strchr(line, ':');
        if (p) total += strtol(p + 1, NULL, 10);
    }
    fclose(f);
    return total;
}

static int region_offset(int dfd, unsigned index, unsigned long long *off)
{
    struct vfio_region_info ri = {.argsz = sizeof ri, .index = index};
    if (ioctl(dfd, VFIO_DEVICE_GET_REGION_INFO, &ri)) return errno;
    *off = ri.offset;
    return 0;
}

/* A DMA by QEMU's edu through the VFIO device fd between its 4 KiB buffer (device address 0x40000) and IOVA: WRITE 1
 * is edu to memory, 0 memory to edu. The edu buffer stays zero: it only ever reads the agent's buffer, which is zero
 * but for a write's sentinel. OFF is where in the agent's buffer a write must land if the IOVA maps there (or "-"):
 * it is filled with 0xa5 first. The value is "LANDED FAULTS": 1 when every byte at OFF was overwritten, 0 when none
 * was, p when some were, - without OFF; and the DMAR fault interrupts the DMA raised. */
static int vfio_dma(int group, const char *bdf, unsigned long long iova, unsigned long long size, int write,
                    const char *offs, char *out, size_t cap)
{
    struct claim *c = find_claim(group);
    if (!c) { snprintf(out, cap, "not-claimed"); return ENOENT; }
    if (size == 0 || size > 4095) { snprintf(out, cap, "size"); return EINVAL; } /* edu_check_range: the end must be inside too */
    long long off = strcmp(offs, "-") ? (long long)strtoull(offs, NULL, 0) : -1;
    if (off >= 0 && (!dma_buf || (unsigned long long)off + size > DMA_BUF_BYTES)) { snprintf(out, cap, "offset"); return EINVAL; }
    int dfd = ioctl(c->gfd, VFIO_GROUP_GET_DEVICE_FD, bdf);
    if (dfd < 0) { snprintf(out, cap, "GET_DEVICE_FD"); return errno; }
    unsigned long long cfg, bar;
    int err = region_offset(dfd, VFIO_PCI_CONFIG_REGION_INDEX, &cfg);
    if (!err) err = region_offset(dfd, VFIO_PCI_BAR0_REGION_INDEX, &bar);
    if (err) { close(dfd); snprintf(out, cap, "REGION_INFO"); return err; }
    unsigned short cmd = 0;
    if (pread(dfd, &cmd, 2, cfg + 4) != 2) { err = errno; close(dfd); snprintf(out, cap, "config read"); return err; }
    cmd |= 0x6; /* memory space and bus master */
    if (pwrite(dfd, &cmd, 2, cfg + 4) != 2) { err = errno; close(dfd); snprintf(out, cap, "config write"); return err; }
    if (off >= 0 && !write) off = -1;
    if (off >= 0) memset(dma_buf + off, 0xa5, size);
    long before = dmar_irqs();
    /* src, dst, count, cmd: RUN, and direction 2 for edu to memory */
    unsigned long long regs[4] = {write ? 0x40000 : iova, write ? iova : 0x40000, size, write ? 0x3 : 0x1};
    for (int i = 0; i < 4; i++)
        if (pwrite(dfd, &regs[i], 8, bar + 0x80 + 8 * i) != 8) { err = errno; close(dfd); snprintf(out, cap, "BAR0 write"); return err; }
    unsigned long long status = 1;
    for (int i = 0; i < 1500 && (status & 1); i++) { /* edu completes on a 100 ms timer */
        usleep(2000);
        if (pread(dfd, &status, 8, bar + 0x98) != 8) { err = errno; close(dfd); snprintf(out, cap, "BAR0 read"); return err; }
    }
    if (status & 1) { close(dfd); snprintf(out, cap, "edu DMA did not complete in 3 s"); return ETIMEDOUT; }
    const char *landed = "-";
    if (off >= 0) {
        size_t changed = 0;
        for (unsigned long long i = 0; i < size; i++) changed += (unsigned char)dma_buf[off + i] != 0xa5;
        landed = changed == size ? "1" : changed == 0 ? "0" : "p";
        memset(dma_buf + off, 0, size);
    }
    long after = dmar_irqs();
    for (int i = 0; i < 25 && after == before && strcmp(landed, "1"); i++) { usleep(2000); after = dmar_irqs(); }
    close(dfd);
    snprintf(out, cap, "%s %ld", landed, before < 0 || after < 0 ? -1L : after - before);
    return 0;
}

/* ---- reset: back to the state recorded at start, then compare ---- */
static char big[REPLY_MAX / 2];

static int reset(void)
{
    char path[256];
    struct dev now[MAX_DEVS];
    for (int i = 0; i < MAX_GROUPS; i++) if (claims[i].gfd > 0) drop_claim(&claims[i]);
    write_file("/sys/bus/pci/rescan", "1", 1);
    int n = read_devs(now);
    for (int i = 0; i < n; i++) {
        const struct dev *want = NULL;
        for (int j = 0; j < n_initial; j++) if (!strcmp(initial[j].bdf, now[i].bdf)) want = &initial[j];
        if (!want) continue;
        if (strcmp(now[i].driver, want->driver) && strcmp(now[i].driver, "-")) {
            snprintf(path, sizeof path, "/sys/bus/pci/devices/%s/driver/unbind", now[i].bdf);
            write_file(path, now[i].bdf, strlen(now[i].bdf));
        }
        if (strcmp(now[i].override, want->override)) {
            snprintf(path, sizeof path, "/sys/bus/pci/devices/%s/driver_override", now[i].bdf);
            write_file(path, "\n", 1);
        }
    }
    n = read_devs(now);
    for (int i = 0; i < n; i++)
        for (int j = 0; j < n_initial; j++)
            if (!strcmp(initial[j].bdf, now[i].bdf) && strcmp(initial[j].type, now[i].type) && strcmp(now[i].group, "-")) {
                snprintf(path, sizeof path, "/sys/kernel/iommu_groups/%s/type", now[i].group);
                write_file(path, initial[j].type, strlen(initial[j].type));
            }
    for (int i = 0; i < n; i++)
        for (int j = 0; j < n_initial; j++)
            if (!strcmp(initial[j].bdf, now[i].bdf) && strcmp(initial[j].driver, "-") && !strcmp(now[i].driver, "-")) {
                snprintf(path, sizeof path, "/sys/bus/pci/drivers/%s/bind", initial[j].driver);
                write_file(path, now[i].bdf, strlen(now[i].bdf));
            }
    return 0;
}

/* ---- dispatch ---- */
static void handle(char *line)
{
    char *argv[8];
    int argc = 0;
    for (char *t = strtok(line, " "); t && argc < 8; t = strtok(NULL, " ")) argv[argc++] = t;
    if (argc == 0) { finish_str(EINVAL, "empty request"); return; }
    size_t lens[8];
    for (int i = 0; i < argc; i++) lens[i] = decode(argv[i]);
    const char *op = argv[0];
    size_t len = 0;
    if (!strcmp(op, "hello")) {
        struct utsname u;
        uname(&u);
        finish_str(0, u.release);
    } else if (!strcmp(op, "sync") && argc == 2) {
        finish(0, argv[1], lens[1]); /* the host's handshake: bytes sent before the agent opened the port are lost */
    } else if (!strcmp(op, "read") && argc == 2) {
        int err = read_file(argv[1], big, sizeof big, &len);
        finish(err, big, len);
    } else if (!strcmp(op, "write") && argc == 3) {
        finish(write_file(argv[1], argv[2], lens[2]), NULL, 0);
    } else if (!strcmp(op, "link") && argc == 2) {
        const char *b = base_of_link(argv[1], big, sizeof big);
        finish_str(b ? 0 : errno, b);
    } else if (!strcmp(op, "exists") && argc == 2) {
        finish_str(access(argv[1], F_OK) ? errno : 0, NULL);
    } else if (!strcmp(op, "vfio_claim") && argc == 2) {
        const char *why = NULL;
        int err = vfio_claim(atoi(argv[1]), &why);
        finish_str(err, why);
    } else if (!strcmp(op, "vfio_set_iommu") && argc == 2) {
        finish_str(vfio_set_iommu(atoi(argv[1])), NULL);
    } else if (!strcmp(op, "vfio_map") && argc == 6) {
        const char *why = NULL;
        int err = vfio_map(atoi(argv[1]), strtoull(argv[2], NULL, 0), strtoull(argv[3], NULL, 0),
                           strtoull(argv[4], NULL, 0), (unsigned)strtoul(argv[5], NULL, 0), &why);
        finish_str(err, why);
    } else if (!strcmp(op, "vfio_unmap") && argc == 4) {
        char n[32];
        int err = vfio_unmap(atoi(argv[1]), strtoull(argv[2], NULL, 0), strtoull(argv[3], NULL, 0), n, sizeof n);
        finish_str(err, n[0] ? n : NULL);
    } else if (!strcmp(op, "vfio_dma") && argc == 7) {
        char v[128];
        int err = vfio_dma(atoi(argv[1]), argv[2], strtoull(argv[3], NULL, 0), strtoull(argv[4], NULL, 0), atoi(argv[5]),
                           argv[6], v, sizeof v);
        finish_str(err, v);
    } else if (!strcmp(op, "vfio_release") && argc == 2) {
        finish_str(vfio_release(atoi(argv[1])), NULL);
    } else if (!strcmp(op, "state")) {
        struct dev now[MAX_DEVS];
        int n = read_devs(now);
        len = format_devs(now, n, 1, big, sizeof big);
        finish(0, big, len);
    } else if (!strcmp(op, "reset")) {
        struct dev now[MAX_DEVS];
        char want[8192];
        reset();
        int n = read_devs(now);
        size_t a = format_devs(now, n, 0, big, sizeof big), b = format_devs(initial, n_initial, 0, want, sizeof want);
        if (a == b && !memcmp(big, want, a)) finish(0, big, a);
        else finish(EIO, big, a); /* the value shows what differs from the state at start */
    } else if (!strcmp(op, "initial")) {
        len = format_devs(initial, n_initial, 1, big, sizeof big);
        finish(0, big, len);
    } else {
        finish_str(ENOSYS, op);
    }
}

int main(int argc, char **argv)
{
    if (argc != 2) { fprintf(stderr, "usage: agent SERIAL-DEVICE\n"); return 64; }
    port = open(argv[1], O_RDWR | O_NOCTTY);
    if (port < 0) { perror(argv[1]); return 1; }
    struct termios t;
    if (tcgetattr(port, &t) == 0) { cfmakeraw(&t); cfsetspeed(&t, B115200); tcsetattr(port, TCSANOW, &t); }
    kmsg = open("/dev/kmsg", O_RDONLY | O_NONBLOCK);
    if (kmsg < 0) { perror("/dev/kmsg"); return 1; }
    lseek(kmsg, 0, SEEK_END); /* the boot log is not a step's */
    n_initial = read_devs(initial);
    char line[LINE_MAX_BYTES];
    size_t used = 0;
    for (;;) {
        ssize_t n = read(port, line + used, 1);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return 3;
        if (line[used] == '\r') continue;
        if (line[used] == '\n') { line[used] = 0; handle(line); used = 0; continue; }
        if (++used == sizeof line - 1) { used = 0; finish_str(E2BIG, "request line too long"); }
    }
}
