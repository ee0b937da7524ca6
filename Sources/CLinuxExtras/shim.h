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
#endif
