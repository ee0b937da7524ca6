#ifndef KPROXY_CNFTNL_SHIM_H
#define KPROXY_CNFTNL_SHIM_H
#include <stdint.h>
/* glibc first: linux/libc-compat.h then skips its own copies of in_addr, sockaddr_in, in6_addr. */
#include <netinet/in.h>
#include <sys/socket.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nf_tables.h>
#include <libmnl/libmnl.h>
#include <libnftnl/batch.h>
#include <libnftnl/table.h>
#include <libnftnl/chain.h>
#include <libnftnl/rule.h>
#include <libnftnl/expr.h>
#include <libnftnl/set.h>
#include <libnftnl/object.h>
#include <libnftnl/common.h>
#include <libnftnl/udata.h>
#include <linux/netlink.h>
#include <unistd.h>
#include <sys/syscall.h>

/* Function-like macros do not import into Swift: wrap them. */
static inline size_t kproxy_mnl_socket_buffer_size(void) { return MNL_SOCKET_BUFFER_SIZE; }
static inline void *kproxy_mnl_nlmsg_batch_current(struct mnl_nlmsg_batch *b) { return mnl_nlmsg_batch_current(b); }
/* setns(2) needs _GNU_SOURCE in glibc's headers; call the system call directly. */
static inline int kproxy_setns(int fd, int nstype) { return (int)syscall(SYS_setns, fd, nstype); }
static inline int kproxy_clone_newnet(void) { return 0x40000000; }
#endif
