// Linux/glibc calls Swift's Glibc module does not show: recvmmsg/sendmmsg (declared by glibc only under
// _GNU_SOURCE, which Glibc does not set; defining it here would make this module's view of the system
// headers differ from Glibc's, so struct mmsghdr is declared under its own name with glibc's layout) and
// malloc_trim (<malloc.h>).
#ifndef KPROXY_CLINUXEXTRAS_H
#define KPROXY_CLINUXEXTRAS_H
#include <stddef.h>
#include <sys/socket.h>
#include <time.h>

/// glibc's struct mmsghdr.
struct kp_mmsghdr {
    struct msghdr msg_hdr;
    unsigned int msg_len;
};

/// MSG_WAITFORONE: block for the first datagram only.
#define KP_MSG_WAITFORONE 0x10000

extern int recvmmsg(int fd, struct kp_mmsghdr *messages, unsigned int count, int flags, struct timespec *timeout);
extern int sendmmsg(int fd, struct kp_mmsghdr *messages, unsigned int count, int flags);

/// Receives up to `count` datagrams; blocks for the first (at most the socket's receive timeout).
static inline int kp_recvmmsg(int fd, struct kp_mmsghdr *messages, unsigned int count) {
    return recvmmsg(fd, messages, count, KP_MSG_WAITFORONE, (struct timespec *)0);
}

/// Sends `count` datagrams in one call; returns how many went.
static inline int kp_sendmmsg(int fd, struct kp_mmsghdr *messages, unsigned int count) {
    return sendmmsg(fd, messages, count, 0);
}
/// Returns freed heap memory to the kernel (glibc keeps it otherwise), e.g. after rebuilding a large index.
extern int malloc_trim(size_t pad);
static inline void kp_malloc_trim(void) { (void)malloc_trim(0); }

/// glibc's struct mallinfo2 (declared under its own name, as struct mmsghdr above).
struct kp_mallinfo2 { size_t arena, ordblks, smblks, hblks, hblkhd, usmblks, fsmblks, uordblks, fordblks, keepcost; };
extern struct kp_mallinfo2 mallinfo2(void);
/// Bytes of heap in use (allocated and not freed), over all arenas and mmapped blocks.
static inline size_t kp_heap_in_use(void) { struct kp_mallinfo2 m = mallinfo2(); return m.uordblks + m.hblkhd; }

// ---- The userspace balancer's data path (Sources/Balancer) ----
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/types.h>
#include <netinet/in.h>
#include <string.h>

// Declared by glibc only under _GNU_SOURCE (see above).
extern int accept4(int fd, struct sockaddr *addr, socklen_t *len, int flags);
extern int pipe2(int fds[2], int flags);
extern ssize_t splice(int fd_in, long long *off_in, int fd_out, long long *off_out, size_t len, unsigned int flags);
extern int setns(int fd, int nstype);

#define KP_SPLICE_F_MOVE 1
#define KP_SPLICE_F_NONBLOCK 2
#define KP_F_SETPIPE_SZ 1031
#define KP_CLONE_NEWNET 0x40000000
#define KP_IP_TRANSPARENT 19
#define KP_IP_RECVORIGDSTADDR 20
#define KP_IPV6_RECVORIGDSTADDR 74
#define KP_IPV6_TRANSPARENT 75

static inline ssize_t kp_splice(int in, int out, size_t len) {
    return splice(in, (long long *)0, out, (long long *)0, len, KP_SPLICE_F_MOVE | KP_SPLICE_F_NONBLOCK);
}
static inline int kp_epoll_event_fd(const struct epoll_event *e) { return (int)e->data.u64; }

/// Room for one original-destination control message (a sockaddr_in6 fits).
#define KP_UDP_CONTROL_SPACE 64

/// The original destination of a datagram handed over by tproxy, from its IP_ORIGDSTADDR / IPV6_ORIGDSTADDR
/// control message (the type equals the RECV option's value): copies the sockaddr into `out` and returns its
/// length; 0 when absent.
static inline int kp_original_destination(const struct msghdr *msg, struct sockaddr_storage *out) {
    for (struct cmsghdr *c = CMSG_FIRSTHDR(msg); c != 0; c = CMSG_NXTHDR((struct msghdr *)msg, c)) {
        if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == KP_IP_RECVORIGDSTADDR) {
            memcpy(out, CMSG_DATA(c), sizeof(struct sockaddr_in)); return (int)sizeof(struct sockaddr_in);
        }
        if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == KP_IPV6_RECVORIGDSTADDR) {
            memcpy(out, CMSG_DATA(c), sizeof(struct sockaddr_in6)); return (int)sizeof(struct sockaddr_in6);
        }
    }
    return 0;
}

// ---- The node agent (Sources/NodeAgent): network namespaces and pod processes ----
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

extern int unshare(int flags);
extern int sethostname(const char *name, size_t len);
#define KP_CLONE_NEWNS 0x00020000
#define KP_CLONE_NEWUTS 0x04000000
#define KP_PR_SET_CHILD_SUBREAPER 36

/// Moves the calling thread into a new network namespace and bind-mounts it on `path` (an existing empty
/// file), as `ip netns add` does; the namespace lives as long as the mount. Call it on a thread of its
/// own: that thread is left in the new namespace. Returns 0 or an errno.
static inline int kp_create_netns_at(const char *path) {
    if (unshare(KP_CLONE_NEWNET) != 0) return errno;
    char self[64];
    snprintf(self, sizeof self, "/proc/self/task/%ld/ns/net", (long)syscall(SYS_gettid));
    if (mount(self, path, "none", MS_BIND, (const char *)0) != 0) return errno;
    return 0;
}

/// Unmounts a namespace mounted by kp_create_netns_at (lazily: processes inside keep it until they end).
static inline int kp_unmount_netns(const char *path) { return umount2(path, MNT_DETACH) == 0 ? 0 : errno; }

/// The agent adopts orphaned grandchildren (processes a container forked) so they are reaped.
static inline int kp_become_subreaper(void) { return prctl(KP_PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0 ? 0 : errno; }

/// What the child of kp_spawn reports through its close-on-exec pipe when it cannot exec: the step and errno.
struct kp_spawn_failure { int step; int error; };

/// Starts `argv` as a child: with `netns_fd` >= 0 inside that network namespace; with `resolv_conf` (and
/// `hosts`, and the directory `secrets`), in a private mount namespace where that file is bind-mounted on
/// /etc/resolv.conf (and /etc/hosts, and the directory on /var/run/secrets/kubernetes.io/serviceaccount),
/// as a runtime mounts the kubelet's files into a container; with `hostname`, in its
/// own UTS namespace under that name; in a new session (its own process group, so signals reach all it
/// forks); in `workdir`; stdin/stdout/stderr from the given descriptors (-1: /dev/null); all signals
/// default and unblocked; no descriptor of the agent's but those three survives the exec. Forking in a threaded process allows only async-signal-safe calls in the child:
/// this function makes nothing but system calls there. Returns the pid (> 0), or -errno and sets
/// `*step` to the step that failed (0 fork, 1 setns, 2 unshare mount ns, 3 mount private, 4 bind resolv.conf,
/// 5 uts, 6 chdir, 7 dup2, 8 execve).
static inline pid_t kp_spawn(const char *path, char *const argv[], char *const envp[], int netns_fd, const char *resolv_conf,
                             const char *hosts, const char *secrets, const char *hostname, const char *workdir, int in_fd, int out_fd, int err_fd,
                             int controlling_tty, int *step) {
    int report[2];
    if (pipe2(report, O_CLOEXEC) != 0) { *step = 0; return -errno; }
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);  // no handler of ours may run in the child between fork and exec
    pid_t pid = fork();
    if (pid == 0) {
        struct kp_spawn_failure f = {0, 0};
        for (int sig = 1; sig < 65; sig++) { struct sigaction sa; memset(&sa, 0, sizeof sa); sa.sa_handler = SIG_DFL; sigaction(sig, &sa, 0); }
        if (netns_fd >= 0 && setns(netns_fd, KP_CLONE_NEWNET) != 0) { f.step = 1; goto fail; }
        if (resolv_conf) {
            if (unshare(KP_CLONE_NEWNS) != 0) { f.step = 2; goto fail; }
            if (mount("none", "/", (const char *)0, MS_REC | MS_PRIVATE, (const char *)0) != 0) { f.step = 3; goto fail; }
            if (mount(resolv_conf, "/etc/resolv.conf", "none", MS_BIND, (const char *)0) != 0) { f.step = 4; goto fail; }
            if (hosts && mount(hosts, "/etc/hosts", "none", MS_BIND, (const char *)0) != 0) { f.step = 4; goto fail; }
            if (secrets && mount(secrets, "/var/run/secrets/kubernetes.io/serviceaccount", "none", MS_BIND, (const char *)0) != 0) { f.step = 4; goto fail; }
        }
        if (hostname) {
            if (unshare(KP_CLONE_NEWUTS) != 0 || sethostname(hostname, strlen(hostname)) != 0) { f.step = 5; goto fail; }
        }
        setsid();
        if (workdir && chdir(workdir) != 0) { f.step = 6; goto fail; }
        int null_fd = open("/dev/null", O_RDWR | O_CLOEXEC);
        int fds[3] = { in_fd >= 0 ? in_fd : null_fd, out_fd >= 0 ? out_fd : null_fd, err_fd >= 0 ? err_fd : null_fd };
        for (int i = 0; i < 3; i++) {
            if (fds[i] < 0) { f.step = 7; errno = EBADF; goto fail; }
            if (fds[i] == i) { int fl = fcntl(i, F_GETFD); if (fl >= 0) fcntl(i, F_SETFD, fl & ~FD_CLOEXEC); }
            else if (dup2(fds[i], i) < 0) { f.step = 7; goto fail; }
        }
        // A terminal on stdin becomes the session's controlling terminal (exec -t: job control, ^C).
        if (controlling_tty && ioctl(0, TIOCSCTTY, 0) != 0) { f.step = 7; goto fail; }
        // Descriptors the agent opened without O_CLOEXEC (libraries' sockets) must not leak into pods.
        (void)syscall(SYS_close_range, 3U, ~0U, 4U /* CLOSE_RANGE_CLOEXEC */);
        sigset_t none;
        sigemptyset(&none);
        pthread_sigmask(SIG_SETMASK, &none, 0);
        execve(path, argv, envp);
        f.step = 8;
    fail:
        if (f.error == 0) f.error = errno;
        (void)!write(report[1], &f, sizeof f);
        _exit(127);
    }
    int fork_errno = errno;
    pthread_sigmask(SIG_SETMASK, &old, 0);
    close(report[1]);
    if (pid < 0) { close(report[0]); *step = 0; return -fork_errno; }
    struct kp_spawn_failure f = {0, 0};
    ssize_t n;
    do { n = read(report[0], &f, sizeof f); } while (n < 0 && errno == EINTR);
    close(report[0]);
    if (n == (ssize_t)sizeof f) {
        int status;
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
        *step = f.step;
        return -f.error;
    }
    return pid;
}

/// A pseudo-terminal pair for exec -t: the master (close-on-exec, kept by the agent) and the slave (the
/// process's stdin/stdout/stderr). Returns 0 or an errno.
extern int grantpt(int fd);
extern int unlockpt(int fd);
extern int ptsname_r(int fd, char *buf, size_t len);
static inline int kp_open_pty(int *master, int *slave) {
    int m = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (m < 0) return errno;
    char name[128];
    if (grantpt(m) != 0 || unlockpt(m) != 0 || ptsname_r(m, name, sizeof name) != 0) { int e = errno; close(m); return e; }
    int s = open(name, O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (s < 0) { int e = errno; close(m); return e; }
    *master = m; *slave = s;
    return 0;
}

/// Sets a terminal's size (a resize message).
static inline int kp_set_window_size(int fd, unsigned short columns, unsigned short rows) {
    struct winsize ws = { rows, columns, 0, 0 };
    return ioctl(fd, TIOCSWINSZ, &ws) == 0 ? 0 : errno;
}

/// Decodes a waitpid status: the exit code (>= 0), or -signal when a signal ended the process.
static inline int kp_wait_status_code(int status) { return WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status); }
#endif
