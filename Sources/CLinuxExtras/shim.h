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
#define KP_IP_PKTINFO 8
#define KP_IPV6_RECVPKTINFO 49
#define KP_IPV6_PKTINFO 50

static inline ssize_t kp_splice(int in, int out, size_t len) {
    return splice(in, (long long *)0, out, (long long *)0, len, KP_SPLICE_F_MOVE | KP_SPLICE_F_NONBLOCK);
}
static inline int kp_epoll_event_fd(const struct epoll_event *e) { return (int)e->data.u64; }

/// glibc's in_pktinfo / in6_pktinfo (also _GNU_SOURCE only).
struct kp_in_pktinfo { int ipi_ifindex; struct in_addr ipi_spec_dst; struct in_addr ipi_addr; };
struct kp_in6_pktinfo { struct in6_addr ipi6_addr; unsigned int ipi6_ifindex; };

/// Room for one IPv4 or IPv6 packet-info control message.
#define KP_PKTINFO_SPACE 64

/// The local (destination) address of a received datagram from its IP_PKTINFO / IPV6_PKTINFO control message:
/// writes 4 or 16 bytes to `out` and returns 4 or 16; 0 when absent.
static inline int kp_pktinfo_destination(const struct msghdr *msg, uint8_t out[16]) {
    for (struct cmsghdr *c = CMSG_FIRSTHDR(msg); c != 0; c = CMSG_NXTHDR((struct msghdr *)msg, c)) {
        if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == KP_IP_PKTINFO) {
            struct kp_in_pktinfo info; memcpy(&info, CMSG_DATA(c), sizeof info);
            memcpy(out, &info.ipi_addr, 4); return 4;
        }
        if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == KP_IPV6_PKTINFO) {
            struct kp_in6_pktinfo info; memcpy(&info, CMSG_DATA(c), sizeof info);
            memcpy(out, &info.ipi6_addr, 16); return 16;
        }
    }
    return 0;
}

/// Fills `control` (KP_PKTINFO_SPACE bytes) with a packet-info message that sends from `source` (4 or 16 bytes)
/// and points `msg` at it.
static inline void kp_pktinfo_set_source(struct msghdr *msg, void *control, const uint8_t *source, int length) {
    memset(control, 0, KP_PKTINFO_SPACE);
    msg->msg_control = control;
    if (length == 4) {
        msg->msg_controllen = CMSG_SPACE(sizeof(struct kp_in_pktinfo));
        struct cmsghdr *c = CMSG_FIRSTHDR(msg);
        c->cmsg_level = IPPROTO_IP; c->cmsg_type = KP_IP_PKTINFO; c->cmsg_len = CMSG_LEN(sizeof(struct kp_in_pktinfo));
        struct kp_in_pktinfo info; memset(&info, 0, sizeof info); memcpy(&info.ipi_spec_dst, source, 4);
        memcpy(CMSG_DATA(c), &info, sizeof info);
    } else {
        msg->msg_controllen = CMSG_SPACE(sizeof(struct kp_in6_pktinfo));
        struct cmsghdr *c = CMSG_FIRSTHDR(msg);
        c->cmsg_level = IPPROTO_IPV6; c->cmsg_type = KP_IPV6_PKTINFO; c->cmsg_len = CMSG_LEN(sizeof(struct kp_in6_pktinfo));
        struct kp_in6_pktinfo info; memset(&info, 0, sizeof info); memcpy(&info.ipi6_addr, source, 16);
        memcpy(CMSG_DATA(c), &info, sizeof info);
    }
}
#endif
