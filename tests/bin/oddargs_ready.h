/* oddargs_ready.h - poll, select, epoll; close, dup, fcntl (part of
 * oddargs.c) */

/* which of our named fds a set holds */
static void
show_set(const char *what, const fd_set *s)
{
	printf("  %s:%s%s%s%s%s\n", what, FD_ISSET(conn, s) ? " conn" : "",
	       FD_ISSET(inprog, s) ? " inprog" : "", FD_ISSET(pw, s) ? " pw" : "",
	       FD_ISSET(pr, s) ? " pr" : "", FD_ISSET(udp_rx, s) ? " udp_rx" : "");
}

static void
sets(fd_set *r, fd_set *w)
{
	FD_ZERO(r);
	FD_ZERO(w);
	FD_SET(conn, r);
	FD_SET(inprog, r);
	FD_SET(pr, r);
	FD_SET(udp_rx, r);
	FD_SET(conn, w);
	FD_SET(inprog, w);
	FD_SET(pw, w);
}

static void
show_poll(const struct pollfd *p, int n)
{
	int i;

	printf("  revents:");
	for (i = 0; i < n; i++)
		printf(" %#x", (unsigned)p[i].revents);
	printf("\n");
}

static void
show_ev(const struct epoll_event *e, int n)
{
	int i;

	printf("  events:");
	for (i = 0; i < n; i++)
		printf(" %u=%#x", e[i].data.u32, e[i].events);
	printf("\n");
}

static void
t_ready(void)
{
	struct pollfd p[6];
	struct timespec ts0 = { 0, 0 }, tsbad = { 0, -1 };
	struct timeval tv0 = { 0, 0 }, tvbad = { 0, -1 };
	struct epoll_event ev[8], e1;
	fd_set r, w;
	sigset_t none;
	int rc;

	sigemptyset(&none);
#define P0() (p[0] = (struct pollfd){ conn, POLLIN | POLLOUT, 0 }, \
	      p[1] = (struct pollfd){ inprog, POLLIN | POLLOUT, 0 }, \
	      p[2] = (struct pollfd){ -1, POLLIN, 0 }, \
	      p[3] = (struct pollfd){ closed, POLLIN, 0 }, \
	      p[4] = (struct pollfd){ pr, POLLIN, 0 }, \
	      p[5] = (struct pollfd){ huge, POLLIN, 0 })
#define PL(e) do { P0(); T(e); show_poll(p, 6); } while (0)
	PL(poll(p, 6, 0));
	PL(poll(p, 2, 0));
	PL(poll(p + 1, 1, 20));
	PL(poll(NULL, 0, 0));
	PL(poll(NULL, 1, 0));
	PL(poll(LOW, 1, 0));
	PL(poll(p, 1u << 30, 0));
	PL(poll(p, 6, -5));
	PL(__poll(p, 6, 0));
	PL(__poll_chk(p, 6, 0, sizeof(p)));
	PL(ppoll(p, 6, &ts0, NULL));
	PL(ppoll(p, 6, &tsbad, NULL));
	PL(ppoll(p, 6, &ts0, LOW));
	PL(ppoll(p, 6, &ts0, &none));
	PL(ppoll(p + 2, 2, NULL, NULL));
	PL(ppoll(NULL, 1, &ts0, NULL));
	PL(__ppoll_chk(p, 6, &ts0, NULL, sizeof(p)));

#define SL(e) do { sets(&r, &w); tv0.tv_sec = 0; tv0.tv_usec = 0; T(e); \
	show_set("r", &r); show_set("w", &w); } while (0)
	rc = conn > inprog ? conn : inprog;
	rc = rc > pw ? rc : pw;
	rc = (rc > udp_rx ? rc : udp_rx) + 1;
	SL(select(rc, &r, &w, NULL, &tv0));
	SL(select(rc, &r, &w, NULL, &tvbad));
	SL(select(rc, LOW, &w, NULL, &tv0));
	SL(select(-1, &r, &w, NULL, &tv0));
	SL(select(0, NULL, NULL, NULL, &tv0));
	SL(select(FD_SETSIZE + 10, NULL, NULL, NULL, &tv0));
	SL(__select(rc, &r, &w, NULL, &tv0));
	SL(pselect(rc, &r, &w, NULL, &ts0, NULL));
	SL(pselect(rc, &r, &w, NULL, &tsbad, NULL));
	SL(pselect(rc, &r, &w, NULL, &ts0, LOW));
	SL(pselect(rc, &r, &w, NULL, &ts0, &none));
	FD_ZERO(&r);
	FD_SET(closed, &r);
	tv0.tv_sec = 0;
	tv0.tv_usec = 0;
	T(select(closed + 1, &r, NULL, NULL, &tv0));

	F(epoll_create(0));
	F(epoll_create(-1));
	F(epoll_create(1));
	F(epoll_create1(0x7777));
	F(epoll_create1(EPOLL_CLOEXEC));
	e1 = (struct epoll_event){ EPOLLIN | EPOLLOUT, { .u32 = 1 } };
	T(epoll_ctl(-1, EPOLL_CTL_ADD, conn, &e1));
	T(epoll_ctl(pr, EPOLL_CTL_ADD, conn, &e1));
	T(epoll_ctl(ep, EPOLL_CTL_ADD, -1, &e1));
	T(epoll_ctl(ep, EPOLL_CTL_ADD, file, &e1));
	T(epoll_ctl(ep, EPOLL_CTL_ADD, ep, &e1));
	T(epoll_ctl(ep, EPOLL_CTL_ADD, conn, NULL));
	T(epoll_ctl(ep, EPOLL_CTL_ADD, conn, LOW));
	T(epoll_ctl(ep, 0x77, conn, &e1));
	T(epoll_ctl(ep, EPOLL_CTL_MOD, conn, &e1));
	T(epoll_ctl(ep, EPOLL_CTL_DEL, conn, NULL));
	T(epoll_ctl(ep, EPOLL_CTL_ADD, conn, &e1));
	T(epoll_ctl(ep, EPOLL_CTL_ADD, conn, &e1));
	e1 = (struct epoll_event){ EPOLLIN | EPOLLOUT, { .u32 = 2 } };
	T(epoll_ctl(ep, EPOLL_CTL_ADD, inprog, &e1));
	e1 = (struct epoll_event){ EPOLLIN | EPOLLOUT | EPOLLET, { .u32 = 3 } };
	T(epoll_ctl(ep, EPOLL_CTL_ADD, pr, &e1));
	e1 = (struct epoll_event){ 0xffffffffu, { .u32 = 4 } };
	T(epoll_ctl(ep, EPOLL_CTL_ADD, pw, &e1));
#define EW(e) do { if (skip(#e)) break; memset(ev, 0, sizeof(ev)); errno = 0; rc = (int)(e); \
	show(#e, rc); show_ev(ev, rc > 0 ? rc : 0); } while (0)
	EW(epoll_wait(ep, ev, 8, 0));
	EW(epoll_wait(ep, ev, 0, 0));
	EW(epoll_wait(ep, ev, -1, 0));
	EW(epoll_wait(ep, ev, INT_MAX, 0));
	EW(epoll_wait(ep, NULL, 8, 0));
	EW(epoll_wait(ep, LOW, 8, 0));
	EW(epoll_wait(pr, ev, 8, 0));
	EW(epoll_wait(-1, ev, 8, 0));
	EW(epoll_wait(ep, ev, 1, 0));
	EW(epoll_pwait(ep, ev, 8, 0, NULL));
	EW(epoll_pwait(ep, ev, 8, 0, &none));
	EW(epoll_pwait(ep, ev, 8, 0, LOW));
	EW(epoll_pwait2(ep, ev, 8, &ts0, NULL));
	EW(epoll_pwait2(ep, ev, 8, &tsbad, NULL));
	EW(epoll_pwait2(ep, ev, 8, LOW, NULL));
	EW(epoll_pwait2(ep, ev, 0, &ts0, NULL));
	T(epoll_ctl(ep, EPOLL_CTL_DEL, inprog, NULL));
	EW(epoll_wait(ep, ev, 8, 0));
}

static void
t_fds(void)
{
	int d = dup(pr);
	struct flock fl = { .l_type = F_RDLCK };

	F(dup(-1));
	F(dup(closed));
	F(dup(huge));
	F(dup(conn));
	F(dup(inprog));
	T(dup2(-1, 500));
	T(dup2(pr, -1));
	T(dup2(pr, huge));
	T(dup2(closed, 500));
	T(dup2(pr, 500));
	T(dup2(500, 500));
	T(dup2(conn, 500));
	T(dup2(inprog, 500));
	T(close(500));
	T(close(500));
	T(dup3(pr, pr, 0));
	T(dup3(pr, 500, 0x7777));
	T(dup3(pr, 500, O_CLOEXEC));
	T(dup3(-1, 500, 0));
	T(dup3(pr, -1, 0));
	T(dup3(conn, 501, 0));
	T(fcntl(500, F_GETFD));
	T(fcntl(-1, F_GETFL));
	T(fcntl(closed, F_GETFL));
	T(fcntl(pr, 0x7777));
	T(fcntl(pr, F_GETFL) & ~O_LARGEFILE);
	T(fcntl(pr, F_DUPFD, -1));
	T(fcntl(pr, F_DUPFD, INT_MAX));
	T(fcntl(pr, F_DUPFD, 600));
	T(fcntl(conn, F_DUPFD_CLOEXEC, 601));
	T(fcntl(pr, F_SETFL, 0x7fffffff) );
	T(fcntl(file, F_GETLK, NULL));
	T(fcntl(file, F_GETLK, LOW));
	T(fcntl(file, F_GETLK, &fl));
	T(fcntl64(-1, F_GETFL));
	T(fcntl64(file, F_GETLK, LOW));
	T(fcntl64(pr, F_DUPFD, 602));
	T(fcntl64(pr, 0x7777, 0));
	T(close(-1));
	T(close(closed));
	T(close(huge));
	T(close(d));
	T(close(d));
	T(close_range(10, 5, 0));
	T(close_range(500, 502, 0x7777));
	T(close_range(600, 602, CLOSE_RANGE_CLOEXEC));
	T(fcntl(600, F_GETFD));
	T(close_range(500, 602, 0));
	T(close_range(500, 602, 0));
	T(fcntl(600, F_GETFD));
	T(close_range((unsigned)huge, ~0U, 0));
	T(syscall(SYS_close, -1));
	T(syscall(SYS_close_range, 10, 5, 0));
	T(syscall(SYS_dup2, pr, -1));
	T(syscall(SYS_sendto, udp, "x", 1, 0, LOW, 16));
	T(syscall(SYS_sendto, udp, "x", 1, 0, &sin_sink, 4096));
	T(syscall(0x7777777, 1, 2, 3));
}
