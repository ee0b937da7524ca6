#ifndef KPROXY_CNETLINK_SHIM_H
#define KPROXY_CNETLINK_SHIM_H
#include <netlink/netlink.h>
#include <netlink/socket.h>
#include <netlink/errno.h>
#include <netlink/addr.h>
#include <netlink/attr.h>
#include <netlink/msg.h>
#include <netlink/cache.h>
#include <netlink/route/link.h>
#include <netlink/route/link/veth.h>
#include <netlink/route/link/bridge.h>
#include <netlink/route/link/vxlan.h>
#include <netlink/route/neighbour.h>
#include <linux/neighbour.h>
#include <netlink/route/addr.h>
#include <netlink/route/route.h>
#include <netlink/route/nexthop.h>
#include <netlink/route/rule.h>
#include <linux/fib_rules.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <linux/if.h>

/* glibc declares setns only under _GNU_SOURCE, which Swift's Glibc module does not set. */
extern int setns(int fd, int nstype);

/* Joins the network namespace behind fd on the calling thread (CLONE_NEWNET). */
static inline int kp_setns_net(int fd) { return setns(fd, 0x40000000); }

/* Macro constants Swift cannot import with the types libnl wants. */
static inline unsigned int kp_iff_up(void) { return IFF_UP; }
static inline int kp_nlm_f_create_excl(void) { return NLM_F_CREATE | NLM_F_EXCL; }
static inline int kp_nla_f_nested(void) { return NLA_F_NESTED; }

/* The ifinfomsg header of an RTM_SETLINK request for bridge-port attributes (AF_BRIDGE). */
static inline int kp_append_ifinfo(struct nl_msg *msg, int family, int ifindex) {
    struct ifinfomsg ifi = { .ifi_family = (unsigned char)family, .ifi_index = ifindex };
    return nlmsg_append(msg, &ifi, sizeof(ifi), NLMSG_ALIGNTO);
}
#endif
