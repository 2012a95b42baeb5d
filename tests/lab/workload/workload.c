/*
 * vmsight lab workload: one static multi-call binary installed in the guest
 * initramfs under several names (symlinks to /bin/workload).  The behaviour
 * is chosen by basename(argv[0]), so every process gets a predictable comm:
 *
 *   sleeper-*      pause() forever (comm = first 15 chars of the link name).
 *                  If LAB_UID / LAB_GID are set in the environment, switch to
 *                  those ids first (exercises credential decoding).
 *   stopme         pause() forever; /init sends it SIGSTOP (state T).
 *   spinner        CPU-busy loop (state R).
 *   threads        main thread + 4 threads named worker-1..worker-4
 *                  (prctl PR_SET_NAME), all sleeping: 5 tasks.
 *   tree-a         fork+exec tree-b, which forks+execs tree-c, which
 *                  forks+execs tree-d; every level then pauses.
 *   zparent        forks a child that renames itself "zombie" and exits;
 *                  the parent never waits (child stays in state Z).
 *   longcmd        with no arguments: re-exec itself with the NUL-separated
 *                  argument list read from /etc/longcmd.args (so the exact
 *                  bytes never pass through a shell); with arguments: pause.
 *   oracle-snap    snapshot /proc without forking and print the oracle
 *                  sections stat, taskstat, status, cmdline and transient.
 *   fdholder       hold one fd of each kind readlink(/proc/PID/fd/N) names
 *                  differently (pipe, sockets, eventfd and other anon
 *                  inodes, tmpfs files, a deleted one, a memfd, a directory),
 *                  then create /tmp/fdholder.ready and pause.
 *   retitle        setproctitle as daemons do it: overwrite argv with a
 *                  title longer than argv, running on into the environment
 *                  strings, so /proc/PID/cmdline follows the kernel's
 *                  "argv end byte is not NUL" rule; then pause.
 *
 * Anything else: print usage and exit 2.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <netinet/in.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

static void die(const char *what)
{
    fprintf(stderr, "workload: %s: %s\n", what, strerror(errno));
    exit(1);
}

static void forever(void)
{
    for (;;)
        pause();
}

static void set_ids_from_env(void)
{
    const char *g = getenv("LAB_GID"), *u = getenv("LAB_UID");
    if (g) {
        gid_t gid = (gid_t)atoi(g);
        if (setgroups(0, NULL) != 0)
            die("setgroups");
        if (setresgid(gid, gid, gid) != 0)
            die("setresgid");
    }
    if (u) {
        uid_t uid = (uid_t)atoi(u);
        if (setresuid(uid, uid, uid) != 0)
            die("setresuid");
    }
}

static void *worker(void *arg)
{
    char name[16];
    snprintf(name, sizeof name, "worker-%d", (int)(long)arg);
    prctl(PR_SET_NAME, name, 0, 0, 0);
    forever();
    return NULL;
}

static void spawn_exec(const char *path)
{
    pid_t p = fork();
    if (p < 0)
        die("fork");
    if (p == 0) {
        execl(path, path, (char *)NULL);
        die(path);
    }
}

/* ---- oracle snapshot ---------------------------------------------------- */

static char *slurp(const char *path, size_t *len)
{
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        return NULL;
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap + 1);
    for (;;) {
        if (n == cap) {
            cap *= 2;
            buf = realloc(buf, cap + 1);
        }
        ssize_t r = read(fd, buf + n, cap - n);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        if (r == 0)
            break;
        n += (size_t)r;
    }
    close(fd);
    buf[n] = 0;
    if (len)
        *len = n;
    return buf;
}

static int cmp_int(const void *a, const void *b)
{
    int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}

/* Numeric entries of a directory, sorted. */
static int *list_numeric(const char *dir, int *count)
{
    DIR *d = opendir(dir);
    int *v = NULL, n = 0, cap = 0;
    if (!d) {
        *count = 0;
        return NULL;
    }
    struct dirent *e;
    while ((e = readdir(d))) {
        if (!isdigit((unsigned char)e->d_name[0]))
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 256;
            v = realloc(v, sizeof *v * (size_t)cap);
        }
        v[n++] = atoi(e->d_name);
    }
    closedir(d);
    qsort(v, (size_t)n, sizeof *v, cmp_int);
    *count = n;
    return v;
}

struct proc_snap {
    int pid;
    char *stat, *status, *cmdline;
    size_t cmdline_len;
    int ntasks;
    int *tids;
    char **taskstat;
};

static void chomp(char *s)
{
    size_t n = strlen(s);
    while (n && (s[n - 1] == '\n' || s[n - 1] == '\r'))
        s[--n] = 0;
}

static void print_status_ids(int pid, const char *status)
{
    printf("%d", pid);
    const char *keys[] = {"Uid:", "Gid:"};
    for (int k = 0; k < 2; k++) {
        const char *p = status ? strstr(status, keys[k]) : NULL;
        if (!p) {
            printf(" %s ?", keys[k]);
            continue;
        }
        putchar(' ');
        for (; *p && *p != '\n'; p++)
            putchar(*p == '\t' ? ' ' : *p);
    }
    putchar('\n');
}

static int oracle_snap(void)
{
    /* Phase 1: read everything (no output, no forks) so the snapshot is as
     * close to atomic as a user program can make it. */
    int npids;
    int *pids = list_numeric("/proc", &npids);
    struct proc_snap *s = calloc((size_t)npids, sizeof *s);
    char path[128];
    for (int i = 0; i < npids; i++) {
        s[i].pid = pids[i];
        snprintf(path, sizeof path, "/proc/%d/stat", pids[i]);
        s[i].stat = slurp(path, NULL);
        snprintf(path, sizeof path, "/proc/%d/status", pids[i]);
        s[i].status = slurp(path, NULL);
        snprintf(path, sizeof path, "/proc/%d/cmdline", pids[i]);
        s[i].cmdline = slurp(path, &s[i].cmdline_len);
        snprintf(path, sizeof path, "/proc/%d/task", pids[i]);
        s[i].tids = list_numeric(path, &s[i].ntasks);
        s[i].taskstat = calloc((size_t)s[i].ntasks + 1, sizeof(char *));
        for (int t = 0; t < s[i].ntasks; t++) {
            snprintf(path, sizeof path, "/proc/%d/task/%d/stat", pids[i], s[i].tids[t]);
            s[i].taskstat[t] = slurp(path, NULL);
        }
    }

    /* Phase 2: print.  A process that vanished between readdir and open has
     * stat == NULL and is skipped everywhere. */
    printf("===VMSIGHT-ORACLE BEGIN stat===\n");
    for (int i = 0; i < npids; i++)
        if (s[i].stat) {
            chomp(s[i].stat);
            printf("%s\n", s[i].stat);
        }
    printf("===VMSIGHT-ORACLE END stat===\n");

    printf("===VMSIGHT-ORACLE BEGIN taskstat===\n");
    for (int i = 0; i < npids; i++)
        for (int t = 0; s[i].stat && t < s[i].ntasks; t++)
            if (s[i].taskstat[t]) {
                chomp(s[i].taskstat[t]);
                printf("%d %s\n", s[i].pid, s[i].taskstat[t]);
            }
    printf("===VMSIGHT-ORACLE END taskstat===\n");

    printf("===VMSIGHT-ORACLE BEGIN status===\n");
    for (int i = 0; i < npids; i++)
        if (s[i].stat)
            print_status_ids(s[i].pid, s[i].status);
    printf("===VMSIGHT-ORACLE END status===\n");

    printf("===VMSIGHT-ORACLE BEGIN cmdline===\n");
    for (int i = 0; i < npids; i++) {
        if (!s[i].stat)
            continue;
        printf("%d ", s[i].pid);
        for (size_t b = 0; s[i].cmdline && b < s[i].cmdline_len; b++)
            printf("%02x", (unsigned char)s[i].cmdline[b]);
        putchar('\n');
    }
    printf("===VMSIGHT-ORACLE END cmdline===\n");

    printf("===VMSIGHT-ORACLE BEGIN transient===\n");
    printf("%d oracle-snap\n", (int)getpid());
    printf("===VMSIGHT-ORACLE END transient===\n");
    fflush(stdout);
    return 0;
}

/* ---- fd kinds and setproctitle ----------------------------------------- */

/* Each kind of open file that /proc/PID/fd names its own way.  A failure
 * is fatal: a holder with a missing kind would make the oracle silently
 * poorer. */
static int fdholder(void)
{
    int p[2], sv[2];
    if (pipe(p) != 0)
        die("pipe");
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0)
        die("socketpair");
    if (socket(AF_INET, SOCK_DGRAM, 0) < 0)
        die("socket AF_INET");
    if (eventfd(0, 0) < 0)
        die("eventfd");
    if (epoll_create1(0) < 0)
        die("epoll_create1");
    if (timerfd_create(CLOCK_MONOTONIC, 0) < 0)
        die("timerfd_create");
    sigset_t ss;
    sigemptyset(&ss);
    sigaddset(&ss, SIGUSR2);
    if (signalfd(-1, &ss, 0) < 0)
        die("signalfd");
    if (memfd_create("vmsight-lab", 0) < 0)
        die("memfd_create");
    if (open("/tmp", O_RDONLY | O_DIRECTORY) < 0)
        die("open /tmp");
    if (open("/tmp/fdholder.txt", O_RDWR | O_CREAT, 0644) < 0)
        die("open /tmp/fdholder.txt");
    if (open("/tmp/fdholder-gone", O_RDWR | O_CREAT, 0644) < 0 ||
        unlink("/tmp/fdholder-gone") != 0)
        die("/tmp/fdholder-gone");
    int r = open("/tmp/fdholder.ready", O_WRONLY | O_CREAT, 0644);
    if (r < 0)
        die("open /tmp/fdholder.ready");
    close(r);
    forever();
    return 0;
}

static const char TITLE[] = "retitle: a title longer than argv, written over the environment";

static int retitle(int argc, char **argv)
{
    /* argv and environ strings lie back to back on the stack: the area
     * setproctitle may use runs from argv[0] to the end of the last
     * environment string. */
    char *start = argv[0], *end = argv[argc - 1] + strlen(argv[argc - 1]) + 1;
    for (char **e = environ; *e; e++)
        if (*e == end)
            end = *e + strlen(*e) + 1;
    size_t room = (size_t)(end - start);
    if (room < sizeof TITLE || (size_t)(argv[argc - 1] + strlen(argv[argc - 1]) + 1 - start)
        >= sizeof TITLE) {
        fprintf(stderr, "workload: retitle: argv must be shorter than the title and the "
                        "environment long enough (%zu bytes)\n", room);
        return 1;
    }
    memset(start, 0, room);
    memcpy(start, TITLE, sizeof TITLE);
    forever();
    return 0;
}

/* ---- long command line --------------------------------------------------- */

static void longcmd_exec(void)
{
    size_t len;
    char *buf = slurp("/etc/longcmd.args", &len);
    if (!buf)
        die("/etc/longcmd.args");
    int n = 0;
    for (size_t i = 0; i < len; i++)
        if (buf[i] == 0)
            n++;
    char **argv = calloc((size_t)n + 1, sizeof *argv);
    int k = 0;
    for (size_t i = 0; i < len && k < n; i += strlen(buf + i) + 1)
        argv[k++] = buf + i;
    argv[k] = NULL;
    execv("/bin/longcmd", argv);
    die("execv /bin/longcmd");
}

int main(int argc, char **argv)
{
    const char *name = strrchr(argv[0], '/');
    name = name ? name + 1 : argv[0];

    if (!strncmp(name, "sleeper", 7) || !strcmp(name, "stopme")) {
        set_ids_from_env();
        forever();
    }
    if (!strcmp(name, "spinner")) {
        volatile unsigned long x = 0;
        for (;;)
            x++;
    }
    if (!strcmp(name, "threads")) {
        pthread_t t[4];
        for (long i = 0; i < 4; i++)
            if (pthread_create(&t[i], NULL, worker, (void *)(i + 1)) != 0)
                die("pthread_create");
        forever();
    }
    if (!strcmp(name, "tree-a")) {
        spawn_exec("/bin/tree-b");
        forever();
    }
    if (!strcmp(name, "tree-b")) {
        spawn_exec("/bin/tree-c");
        forever();
    }
    if (!strcmp(name, "tree-c")) {
        spawn_exec("/bin/tree-d");
        forever();
    }
    if (!strcmp(name, "tree-d"))
        forever();
    if (!strcmp(name, "zparent")) {
        pid_t p = fork();
        if (p < 0)
            die("fork");
        if (p == 0) {
            prctl(PR_SET_NAME, "zombie", 0, 0, 0);
            _exit(0);
        }
        forever();
    }
    if (!strcmp(name, "longcmd")) {
        if (argc == 1)
            longcmd_exec();
        forever();
    }
    if (!strcmp(name, "fdholder"))
        return fdholder();
    if (!strcmp(name, "retitle"))
        return retitle(argc, argv);
    if (!strcmp(name, "oracle-snap"))
        return oracle_snap();

    fprintf(stderr, "workload: unknown personality '%s'\n", name);
    return 2;
}
