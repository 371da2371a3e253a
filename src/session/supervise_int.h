/*
 * supervise_int.h - between the supervisor's files, each calling only
 * those below it: supervise.c (the filter, the launch), supervise_loop.c
 * (receiving and answering notifications, the threads),
 * supervise_call.c (each call's arguments as the kernel reads them),
 * supervise_via.c (a connect through proxies, with the shim's engine),
 * supervise_epoll.c (a refitted socket's epoll registrations),
 * supervise_dnsredir.c (queries for the resolvers sent to the DNS
 * responder instead), supervise_dns.c (the responder), supervise_dnswho.c
 * (who sent a query),
 * supervise_dnsans.c (its answers), supervise_dest.c (a call's
 * destination, the proxies and resolvers), supervise_dnsseen.c (the addresses
 * its forwarded answers gave for names of direct rules),
 * supervise_peer.c (getpeername of the sockets it routed),
 * supervise_exec.c (execve and execveat, the shim's exec check),
 * supervise_sock.c (socket(), AF_UNIX names as the caller has them),
 * supervise_creds.c (the caller's credentials for what is done for it),
 * supervise_decide.c (the rules, the log lines and audit events),
 * supervise_compat.c (a 32-bit caller's arguments and headers, in the
 * native form) and supervise_target.c (the caller's memory, fds, pid
 * and executable).
 */
#ifndef PROXYWRAP_SUPERVISE_INT_H
#define PROXYWRAP_SUPERVISE_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/uio.h>

#include "rules.h"
#include "supervise.h"

/* i386 numbers (arch/x86/entry/syscalls/syscall_32.tbl) */
#define I386_EXECVE 11
#define I386_SOCKETCALL 102
#define I386_SENDMMSG 345
#define I386_EXECVEAT 358
#define I386_SOCKET 359
#define I386_CONNECT 362
#define I386_GETPEERNAME 368
#define I386_SENDTO 369
#define I386_SENDMSG 370
#define I386_IO_URING_SETUP 425
/* socketcall's first argument (linux/net.h): the calls the filter
 * passes to the supervisor */
#define SC_SOCKET 1
#define SC_CONNECT 3
#define SC_GETPEERNAME 7
#define SC_SENDTO 11
#define SC_SENDMSG 16
#define SC_SENDMMSG 20

#define SUP_ADDR_MAX 128	/* sizeof(struct sockaddr_storage): the
				 * kernel's limit for an address */
#define SUP_DATA_MAX (1u << 20)	/* bytes of a send copied at once */
#define SUP_CTL_MAX 65536u	/* control bytes (optmem_max's order) */
#define SUP_IOV_MAX 1024	/* UIO_MAXIOV */
#define SUP_MMSG_MAX 1024	/* UIO_MAXIOV, as sendmmsg clamps vlen */

/* One notification being answered. */
struct sup_call {
	const struct sup_policy *p;
	int lfd;		/* the listener */
	uint64_t id;
	pid_t tid;		/* the calling thread */
	uint32_t arch;
	int nr;			/* the native (x86-64) number */
	uint64_t args[6];
	bool compat;		/* a 32-bit caller: compat layouts */
	bool words;		/* socketcall: args came from its memory,
				 * which a CONTINUE would read again */
	int pidfd;		/* the caller's, opened on first use; -1 */
	pid_t tgid;		/* 0 until looked up */
	char exe[256];		/* "" until looked up */
};

/* A destination as the kernel would use it. */
struct sup_dest {
	int family;		/* AF_INET, AF_INET6; 0: not an IP one */
	uint8_t addr[16];
	uint16_t port;		/* host order */
};

/* --- supervise_loop.c ---------------------------------------------- */

/* Serve the listener lfd in threads of this process. 0 or -errno. */
int sup_serve(int lfd, const struct sup_policy *p);

/* --- supervise_dest.c ---------------------------------------------- */

/* The proxies' addresses and the resolvers, once before serving. */
void sup_endpoints_init(const struct sup_policy *p);

/* Does d (proto "tcp", "udp", "raw") pass without a rule: a proxy, or a
 * resolver of resolv.conf at port 53? */
bool sup_endpoint(const struct sup_dest *d, const char *proto);

/* Is d a resolver of resolv.conf, at port 53? */
bool sup_is_resolver(const struct sup_dest *d);

/* The destination in the bytes of an address (len as given); the
 * socket's domain decides AF_UNSPEC for datagrams (udp_sendmsg). */
void sup_dest_of(const uint8_t *sa, size_t len, int domain, bool send,
		 struct sup_dest *d);

/* --- supervise_dnsseen.c ------------------------------------------- */

/* A forwarded answer gave addr for name (a direct rule's), for ttl s. */
void sup_seen_add(const char *name, int family, const uint8_t *addr, int ttl);

/* A name an answer gave d's address for, from entry *at on (*at left
 * past it), into name: true, or false when there is none more. */
bool sup_seen_name(const struct sup_dest *d, size_t *at, char *name,
		   size_t n);

/* --- supervise_target.c -------------------------------------------- */

/* Read n bytes at the target's addr into buf: 0, or -EFAULT when any of
 * it is unmapped.  Then check the notification is still live: -ENOENT
 * when the target is gone (its pid may already be someone else's). */
int sup_read(struct sup_call *c, uint64_t addr, void *buf, size_t n);

/* Write n bytes to the target's addr (what the kernel writes back). */
int sup_write(struct sup_call *c, uint64_t addr, const void *buf, size_t n);

/* A duplicate of the target's fd (close it), or -errno (-EBADF). */
int sup_dupfd(struct sup_call *c, int fd);

/* Is the caller's fd close-on-exec (its fdinfo): 1, 0 or -errno. */
int sup_fd_cloexec(struct sup_call *c, int fd);

/* Put our socket src in the caller at fd (SECCOMP_ADDFD_FLAG_SETFD, as
 * dup3 would: the old file there is closed).  0 or -errno. */
int sup_setfd(struct sup_call *c, int src, int fd, bool cloexec);

/* Put our socket src in the caller at its lowest free fd (as socket()
 * would): that fd, or -errno. */
int sup_addfd(struct sup_call *c, int src, bool cloexec);

/* Is the caller in our network namespace (a socket we make for it
 * reaches what its own would)? */
bool sup_same_netns(struct sup_call *c);

/* The caller's thread group and executable, for the log. */
pid_t sup_tgid(struct sup_call *c);
const char *sup_exe(struct sup_call *c);

/* Does the caller run the shim, which logged the call itself?  Not a Go
 * program that loaded it.  XXX: issue 15: an inline syscall in a program
 * with the shim is taken for the shim's (its direct connects go
 * unaudited; refusals are always audited). */
bool sup_has_shim(struct sup_call *c);

/* Before a call that may block: make sure another thread receives (the
 * loop's fn, registered with sup_on_block). */
void sup_may_block(void);
void sup_on_block(void (*fn)(void));

#define SUP_CONTINUE INT64_MIN	/* let the kernel run the call itself */

/* --- supervise_compat.c -------------------------------------------- */

/* A message header as the kernel reads it, in either layout. */
struct sup_msghdr {
	uint64_t name;
	int namelen;
	uint64_t iov;
	uint64_t iovlen;
	uint64_t control;
	uint64_t controllen;
};

/* A 32-bit caller's call in native terms: c->nr the x86-64 number,
 * socketcall's words read into c->args.  0 or -errno. */
int sup_call_native(struct sup_call *c);

/* The caller's message header at addr; 0 or -errno. */
int sup_msghdr_read(struct sup_call *c, uint64_t addr, struct sup_msghdr *m);

/* The caller's n iovecs at addr as native ones (a negative length is
 * the kernel's EINVAL); 0 or -errno. */
int sup_iov_read(struct sup_call *c, uint64_t addr, size_t n,
		 struct iovec *v);

/* The stride of the caller's mmsghdr array, and where msg_len is. */
size_t sup_mmsg_size(const struct sup_call *c);
size_t sup_mmsg_len_at(const struct sup_call *c);

/* A 32-bit caller's control bytes (*ctl, *len: malloc'd) replaced by
 * their native form; nothing for a native one.  0 or -errno. */
int sup_cmsg_native(const struct sup_call *c, void **ctl, size_t *len);

/* --- supervise_via.c ----------------------------------------------- */

/*
 * Connect the duplicate fd (the caller's tfd) through the proxies of
 * dec's rule toward d (sa, len as the caller gave them), the handshake
 * done before it returns: 0 or -errno (logged and audited).
 */
int sup_via(struct sup_call *c, int fd, int tfd, const uint8_t *sa,
	    socklen_t len, const struct sup_dest *d,
	    const struct decision *dec);

/* --- supervise_epoll.c --------------------------------------------- */

/* Before our socket sock goes in at the caller's tfd: add it to the
 * caller's epoll sets that hold the socket there now (inode ino), with
 * its events, data and number.  The count added. */
int sup_epoll_carry(struct sup_call *c, int sock, int tfd,
		    unsigned long ino);

/* --- supervise_peer.c ---------------------------------------------- */

/* The duplicate fd was tunnelled toward dest (len bytes, as the caller
 * gave it): its getpeername says dest from now on. */
void sup_peer_note(int fd, const struct sockaddr_storage *dest,
		   socklen_t len);

/* The same for a socket connected to `proxy` (maybe still connecting):
 * believed once getpeername says proxy. */
void sup_peer_note_via(int fd, const struct sockaddr_storage *proxy,
		       socklen_t plen, const struct sockaddr_storage *dest,
		       socklen_t len);

/* getpeername: a routed socket's destination written to the caller (the
 * kernel's length rules), or SUP_CONTINUE for any other. */
int64_t sup_getpeername(struct sup_call *c);

/* getsockopt(SOL_SOCKET, SO_PEERNAME) (the filter passes no other): the
 * same, by sk_getsockopt's rules (x86-64 only). */
int64_t sup_peername_opt(struct sup_call *c);

/* --- supervise_sock.c ---------------------------------------------- */

/* socket(): a raw IP or packet socket refused (strict) or allowed with
 * a warning; socketcall's every socket() made here and installed. */
int64_t sup_socket(struct sup_call *c);

/* An AF_UNIX path name in sa (*len) for a call made here: rewritten to
 * the file the caller's lookup finds.  The fd to close after the call,
 * -1 when sa is no such name (left as it is), or -errno (-ENOENT...). */
int sup_unix_name(struct sup_call *c, int domain, uint8_t *sa,
		  socklen_t *len);


/* --- supervise_creds.c --------------------------------------------- */

/* An SCM_CREDENTIALS the caller sends: 0 (its pid made one proxywrap
 * may send), or -EPERM where the kernel would refuse it to the caller. */
int sup_cred_check(struct sup_call *c, struct ucred *u, bool as_caller);

/* The credentials to attach to an AF_UNIX send that has none (true), so
 * that the receiver sees the caller's and not a root proxywrap's. */
bool sup_cred_implicit(struct sup_call *c, struct ucred *u);

/* This thread as the caller's user and groups (real and effective),
 * where proxywrap is root and the caller is not, until sup_as_self. */
struct sup_as {
	bool on;
	unsigned long gid[2];		/* ours, real and effective */
	int ngroups;
	gid_t groups[64];
};
void sup_as_caller(struct sup_call *c, struct sup_as *a);
void sup_as_self(struct sup_as *a);

/* The file at path as the caller resolves it: absolute in its root,
 * relative to its cwd or dirfd (AT_FDCWD: its cwd); "" with AT_EMPTY_PATH
 * the dirfd itself (fexecve); AT_SYMLINK_NOFOLLOW as O_NOFOLLOW.  An
 * O_PATH fd of ours, or -errno (-ESRCH: the caller's root, cwd or dirfd
 * could not be opened).  The lookup is made as
 * the caller (sup_as_caller). */
int sup_open_at(struct sup_call *c, int dirfd, const char *path,
		int atflags);

/* Could this thread not take its own credentials back (it must serve no
 * more)? */
bool sup_tainted(void);

/* --- supervise_exec.c ---------------------------------------------- */

/* execve / execveat: SUP_CONTINUE (the kernel's exec; its line said), or
 * -EACCES where strict refuses the file as the shim would. */
int64_t sup_exec(struct sup_call *c);

/* --- supervise_call.c ---------------------------------------------- */

/* Answer c: *val and *err for the response, or true in *cont to let the
 * kernel run it (calls that carry no destination). */
void sup_handle(struct sup_call *c, int64_t *val, int *err, bool *cont);

/* --- supervise_dnsredir.c ------------------------------------------ */

/*
 * A connect or a send to d on the caller's socket (domain, type): when it
 * is a query to a resolver of resolv.conf, sa and *len become the
 * responder's address (the socket's family) and true is returned.  For a
 * send, fd is the duplicate (-1 for a connect): bound now if it is not,
 * so that the responder knows the caller before the query arrives.
 */
bool sup_dns_redirect(struct sup_call *c, int fd, int domain, int type,
		      const struct sup_dest *d, uint8_t *sa, socklen_t *len);

/* A redirected call on the duplicate fd (asked: the resolver's address
 * as the caller gave it; connected: by connect(), after it, or a stream's
 * send): the replies' source and getpeername say the resolver, the log
 * the caller. */
void sup_dns_note(struct sup_call *c, int fd, const uint8_t *asked,
		  socklen_t alen, bool connected);

/* recvfrom, recvmsg, recvmmsg: performed here for a socket that was
 * redirected (its replies' source made the resolver's), SUP_CONTINUE for
 * every other. */
int64_t sup_dns_recv(struct sup_call *c);

/* --- supervise_dns.c ----------------------------------------------- */

/* Start the responder (its sockets, its thread).  0 or -errno: queries
 * then pass to the resolvers as before. */
int sup_dns_start(const struct sup_policy *p);

/* The responder's address for a socket of the family (tcp: its
 * listener), or false when it has none. */
bool sup_dns_responder(int family, bool tcp, struct sockaddr_storage *sa,
		       socklen_t *len);


/* --- supervise_dnswho.c -------------------------------------------- */

/* A redirected socket's local address (as the responder will see it)
 * belongs to the caller c: the responder's log names it. */
void sup_dns_who_note(struct sup_call *c, const struct sockaddr_storage *local);

/* The caller of a query from `from`, as a call c of policy p for the log
 * (pid -1, exe "?" when no redirect noted the port). */
void sup_dns_who(const struct sockaddr_storage *from, const struct sup_policy *p,
		 struct sup_call *c);

/* --- supervise_dnsans.c -------------------------------------------- */

/*
 * The answer to the query msg (len bytes) that the caller `who` sent:
 * the reply's length in out, 0 when the real resolver answers it
 * (forwarded as it is), -1 to drop it (not a query).  learn (ln bytes)
 * gets the name when a direct rule names it (the answer's addresses are
 * then noted: sup_seen_add), else "".
 */
int sup_dns_answer(struct sup_call *who, const uint8_t *msg, size_t len,
		   uint8_t *out, size_t n, char *learn, size_t ln);

/* --- supervise_decide.c -------------------------------------------- */


/* A name's decision by the responder: a "resolve" audit event (action
 * "local", "remote" or "block"), and for a block the log line. */
void sup_report_name(struct sup_call *c, const char *name, uint16_t qtype,
		     const struct decision *dec, const char *action);

/* Load what decisions need beyond the rules (the proxies' addresses, the
 * resolvers).  Called once before serving. */
void sup_decide_init(const struct sup_policy *p);

/*
 * Decide a call to d (proto "tcp", "udp" or "raw") for c: 0 to perform
 * it, -EACCES refused (logged and audited here); with via, 2 for a TCP
 * destination a rule sends through proxies, or direct with a PROXY
 * protocol header (*via its decision).  A direct performed
 * connect is reported by sup_report_direct with its result.
 */
int sup_decide(struct sup_call *c, const char *proto,
	       const struct sup_dest *d, struct decision *via);
void sup_report_direct(struct sup_call *c, const char *proto,
		       const struct sup_dest *d, int err);

/* A supervised tunnel's log line and audit event (the shim's). */
struct tun;
void sup_report_via(struct sup_call *c, const struct tun *t, int rc);

/* A call refused (or allowed with a warning) whatever its destination:
 * "io_uring_setup", "raw socket", ...; err 0 when allowed. */
void sup_report_call(struct sup_call *c, const char *what, int err,
		     const char *why);

/* An exec's line (at level) and audit event: exec-allowed, or with err
 * exec-refused; msg is exec_verdict's or exec_supervised's. */
void sup_report_exec(struct sup_call *c, const char *path, int err,
		     int level, const char *msg);


#endif
