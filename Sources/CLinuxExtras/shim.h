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
#endif
