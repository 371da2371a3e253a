/*
 * real.h - the libc functions the hooks stand in front of.
 *
 * real.c resolves each once with dlsym(RTLD_NEXT) (in proxywrap, built with
 * REAL_DIRECT, the linker binds them) and is the only file that
 * calls dlsym.  Internal code (tunnel, dns, log, reading the rule file and
 * judging executables) calls real_xxx() so that it never recurses into our
 * own hooks.  A function missing from libc stays NULL; callers of optional
 * ones check real_has(name) first.
 */
#ifndef PROXYWRAP_REAL_H
#define PROXYWRAP_REAL_H

#include <netdb.h>
#include <poll.h>
#include <spawn.h>
#include <stddef.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/uio.h>

struct __res_state;	/* <resolv.h>'s res_state, not included here */

/* X(return type, name, (parameters), (arguments)) */
#define REAL_FUNCS(X)							\
	X(int, socket, (int d, int t, int p), (d, t, p))		\
	X(int, connect, (int fd, const struct sockaddr *a, socklen_t l),\
	  (fd, a, l))							\
	X(int, close, (int fd), (fd))					\
	/* variadic in libc; the mode is read only with O_CREAT or	\
	 * O_TMPFILE, and passed in a register like the rest */		\
	X(int, open, (const char *p, int f, mode_t m), (p, f, m))	\
	X(int, dup2, (int a, int b), (a, b))				\
	X(int, dup3, (int a, int b, int f), (a, b, f))			\
	X(int, dup, (int a), (a))					\
	X(int, fcntl, (int fd, int c, void *a), (fd, c, a))		\
	X(int, fcntl64, (int fd, int c, void *a), (fd, c, a))		\
	X(int, getsockopt, (int fd, int lv, int o, void *v,		\
			    socklen_t *l), (fd, lv, o, v, l))		\
	X(int, getpeername, (int fd, struct sockaddr *a, socklen_t *l),	\
	  (fd, a, l))							\
	X(ssize_t, read, (int fd, void *b, size_t n), (fd, b, n))	\
	X(ssize_t, write, (int fd, const void *b, size_t n), (fd, b, n))\
	X(ssize_t, readv, (int fd, const struct iovec *v, int n),	\
	  (fd, v, n))							\
	X(ssize_t, writev, (int fd, const struct iovec *v, int n),	\
	  (fd, v, n))							\
	X(ssize_t, recv, (int fd, void *b, size_t n, int f),		\
	  (fd, b, n, f))						\
	X(ssize_t, send, (int fd, const void *b, size_t n, int f),	\
	  (fd, b, n, f))						\
	X(ssize_t, recvfrom, (int fd, void *b, size_t n, int f,		\
			      struct sockaddr *a, socklen_t *l),	\
	  (fd, b, n, f, a, l))						\
	X(ssize_t, sendto, (int fd, const void *b, size_t n, int f,	\
			    const struct sockaddr *a, socklen_t l),	\
	  (fd, b, n, f, a, l))						\
	X(ssize_t, recvmsg, (int fd, struct msghdr *m, int f),		\
	  (fd, m, f))							\
	X(ssize_t, sendmsg, (int fd, const struct msghdr *m, int f),	\
	  (fd, m, f))							\
	X(int, sendmmsg, (int fd, struct mmsghdr *v, unsigned int n,	\
			  int f), (fd, v, n, f))			\
	/* optimistic tunnels that hold their handshake (hooks/held.c) */ \
	X(int, shutdown, (int fd, int how), (fd, how))			\
	X(ssize_t, sendfile, (int o, int i, off_t *off, size_t n),	\
	  (o, i, off, n))						\
	X(ssize_t, splice, (int i, loff_t *oi, int o, loff_t *oo,	\
			    size_t n, unsigned int f), (i, oi, o, oo, n, f)) \
	X(int, recvmmsg, (int fd, struct mmsghdr *v, unsigned int n,	\
			  int f, struct timespec *t), (fd, v, n, f, t))	\
	X(int, poll, (struct pollfd *p, nfds_t n, int t), (p, n, t))	\
	X(int, ppoll, (struct pollfd *p, nfds_t n,			\
		       const struct timespec *t, const sigset_t *m),	\
	  (p, n, t, m))							\
	X(int, select, (int n, fd_set *r, fd_set *w, fd_set *x,	\
			struct timeval *t), (n, r, w, x, t))		\
	X(int, pselect, (int n, fd_set *r, fd_set *w, fd_set *x,	\
			 const struct timespec *t, const sigset_t *m),	\
	  (n, r, w, x, t, m))						\
	X(int, epoll_create, (int n), (n))				\
	X(int, epoll_create1, (int f), (f))				\
	X(int, epoll_ctl, (int ep, int op, int fd,			\
			   struct epoll_event *ev), (ep, op, fd, ev))	\
	X(int, epoll_wait, (int ep, struct epoll_event *ev, int n,	\
			    int t), (ep, ev, n, t))			\
	X(int, epoll_pwait, (int ep, struct epoll_event *ev, int n,	\
			     int t, const sigset_t *m), (ep, ev, n, t, m))\
	X(int, epoll_pwait2, (int ep, struct epoll_event *ev, int n,	\
			      const struct timespec *t,			\
			      const sigset_t *m), (ep, ev, n, t, m))	\
	X(int, getaddrinfo, (const char *n, const char *s,		\
			     const struct addrinfo *h,			\
			     struct addrinfo **r), (n, s, h, r))	\
	X(int, getnameinfo, (const struct sockaddr *a, socklen_t l,	\
			     char *h, socklen_t hl, char *s,		\
			     socklen_t sl, int f),			\
	  (a, l, h, hl, s, sl, f))					\
	X(struct hostent *, gethostbyname, (const char *n), (n))	\
	X(struct hostent *, gethostbyname2, (const char *n, int af),	\
	  (n, af))							\
	X(int, gethostbyname_r, (const char *n, struct hostent *h,	\
				 char *b, size_t bl,			\
				 struct hostent **r, int *e),		\
	  (n, h, b, bl, r, e))						\
	X(int, gethostbyname2_r, (const char *n, int af,		\
				  struct hostent *h, char *b,		\
				  size_t bl, struct hostent **r,	\
				  int *e), (n, af, h, b, bl, r, e))	\
	X(struct hostent *, gethostbyaddr, (const void *a, socklen_t l,	\
					    int t), (a, l, t))		\
	X(int, gethostbyaddr_r, (const void *a, socklen_t l, int t,	\
				 struct hostent *h, char *b,		\
				 size_t bl, struct hostent **r, int *e),\
	  (a, l, t, h, b, bl, r, e))					\
	X(int, execve, (const char *p, char *const a[],			\
			char *const e[]), (p, a, e))			\
	X(int, fexecve, (int fd, char *const a[], char *const e[]),	\
	  (fd, a, e))							\
	X(int, execvpe, (const char *f, char *const a[],		\
			 char *const e[]), (f, a, e))			\
	X(int, execveat, (int d, const char *p, char *const a[],	\
			  char *const e[], int fl), (d, p, a, e, fl))	\
	X(int, close_range, (unsigned int lo, unsigned int hi, int fl),	\
	  (lo, hi, fl))							\
	/* variadic in libc; every argument is passed in a register */	\
	X(long, syscall, (long n, long a, long b, long c, long d,	\
			  long e, long f), (n, a, b, c, d, e, f))	\
	X(int, posix_spawn, (pid_t *pid, const char *p,			\
			     const posix_spawn_file_actions_t *fa,	\
			     const posix_spawnattr_t *at,		\
			     char *const a[], char *const e[]),		\
	  (pid, p, fa, at, a, e))					\
	X(int, posix_spawnp, (pid_t *pid, const char *p,		\
			      const posix_spawn_file_actions_t *fa,	\
			      const posix_spawnattr_t *at,		\
			      char *const a[], char *const e[]),	\
	  (pid, p, fa, at, a, e))					\
	/* the resolver's own entry points (hooks/resolv.c) */		\
	X(int, res_query, (const char *n, int c, int t, unsigned char *a,\
			   int l), (n, c, t, a, l))			\
	X(int, res_search, (const char *n, int c, int t,		\
			    unsigned char *a, int l), (n, c, t, a, l))	\
	X(int, res_querydomain, (const char *n, const char *d, int c,	\
				 int t, unsigned char *a, int l),	\
	  (n, d, c, t, a, l))						\
	X(int, res_send, (const unsigned char *m, int ml,		\
			  unsigned char *a, int l), (m, ml, a, l))	\
	X(int, res_nquery, (struct __res_state *s, const char *n, int c,\
			    int t, unsigned char *a, int l),		\
	  (s, n, c, t, a, l))						\
	X(int, res_nsearch, (struct __res_state *s, const char *n,	\
			     int c, int t, unsigned char *a, int l),	\
	  (s, n, c, t, a, l))						\
	X(int, res_nquerydomain, (struct __res_state *s, const char *n,	\
				  const char *d, int c, int t,		\
				  unsigned char *a, int l),		\
	  (s, n, d, c, t, a, l))					\
	X(int, res_nsend, (struct __res_state *s, const unsigned char *m,\
			   int ml, unsigned char *a, int l),		\
	  (s, m, ml, a, l))						\
	X(int, getaddrinfo_a, (int m, struct gaicb *l[], int n,		\
			       struct sigevent *e), (m, l, n, e))

#define REAL_DECL(ret, name, params, args) ret real_##name params;	\
	ret(*real_fn_##name(void)) params;
REAL_FUNCS(REAL_DECL)
#undef REAL_DECL

/* real_fn_NAME(): libc's function itself, NULL when libc lacks it (found
 * at run time; in a REAL_DIRECT build the linker binds it, and a libc
 * without it fails the link). */

/* Resolve every pointer now (idempotent, thread-safe). */
void real_init(void);

/* dlsym(lib, name), for proxywrap's libraries loaded when needed (the
 * TLS relay's libssl, tlslib.h): this file stays the one that calls
 * dlsym.  NULL when lib has no such symbol. */
void *real_libsym(void *lib, const char *name);

#endif
