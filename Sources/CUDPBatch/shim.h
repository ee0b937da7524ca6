// recvmmsg/sendmmsg for the DNS server's UDP loop. glibc declares them (and struct mmsghdr) only under
// _GNU_SOURCE, which Swift's Glibc module does not set, and defining it here would make this module's view
// of the system headers differ from Glibc's. So the struct is declared under its own name with glibc's
// layout, and the two functions with it.
#ifndef KPROXY_CUDPBATCH_H
#define KPROXY_CUDPBATCH_H
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
#endif
