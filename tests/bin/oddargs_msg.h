/* oddargs_msg.h - sendmsg, recvmsg, sendmmsg, recvmmsg (part of oddargs.c) */

static void
show_msg(const struct msghdr *m)
{
	printf("  namelen=%d controllen=%zu flags=%#x\n", (int)m->msg_namelen,
	       m->msg_controllen, (unsigned)m->msg_flags);
}

static void
t_msg(void)
{
	char buf[64], cbuf[64];
	struct sockaddr_storage ss;
	struct iovec io = { buf, 4 }, badio = { LOW, 4 };
	static struct iovec many[UIO_MAXIOV + 1];
	struct msghdr m;
	static struct mmsghdr v[UIO_MAXIOV + 100];
	struct sockaddr_in dst = sin_udp;
	unsigned int i;
	struct timespec ts0 = { 0, 0 }, tsbad = { 0, 2000000000L };

	for (i = 0; i <= UIO_MAXIOV; i++)
		many[i] = (struct iovec){ buf, 1 };
	memcpy(buf, "msg1", 4);
#define M0() (memset(&m, 0, sizeof(m)), m.msg_name = &dst, \
	      m.msg_namelen = sizeof(dst), m.msg_iov = &io, m.msg_iovlen = 1)
	M0();
	T(sendmsg(-1, &m, 0));
	T(sendmsg(pr, &m, 0));
	T(sendmsg(udp, NULL, 0));
	T(sendmsg(udp, LOW, 0));
	T(sendmsg(udp, HIGH, 0));
	T(sendmsg(udp, &m, 0));
	T(sendmsg(udp, &m, MSG_OOB));
	m.msg_name = LOW;
	T(sendmsg(udp, &m, 0));
	m.msg_name = TOP;
	T(sendmsg(udp, &m, 0));
	M0();
	m.msg_namelen = 0;
	T(sendmsg(udp, &m, 0));
	m.msg_namelen = 8;
	T(sendmsg(udp, &m, 0));
	m.msg_namelen = 300;
	T(sendmsg(udp, &m, 0));
	m.msg_namelen = (socklen_t)-1;
	T(sendmsg(udp, &m, 0));
	M0();
	m.msg_iov = NULL;
	T(sendmsg(udp, &m, 0));
	m.msg_iov = &badio;
	T(sendmsg(udp, &m, 0));
	m.msg_iov = many;
	m.msg_iovlen = UIO_MAXIOV + 1;
	T(sendmsg(udp, &m, 0));
	m.msg_iovlen = 0;
	T(sendmsg(udp, &m, 0));
	M0();
	m.msg_control = LOW;
	m.msg_controllen = 32;
	T(sendmsg(udp, &m, 0));
	m.msg_control = cbuf;
	memset(cbuf, 0xff, sizeof(cbuf));
	T(sendmsg(udp, &m, 0));
	M0();
	m.msg_name = NULL;
	m.msg_namelen = 0;
	T(sendmsg(udp, &m, 0));
	T(sendmsg(conn, &m, 0));
	T(sendmsg(inprog, &m, 0));
	M0();
	T(sendmsg(conn, &m, 0));
	settle();

	memset(&m, 0, sizeof(m));
#define RM(e) do { memset(buf, 0, sizeof(buf)); T(e); show_msg(&m); } while (0)
#define R0() (memset(&m, 0, sizeof(m)), m.msg_name = &ss, \
	      m.msg_namelen = sizeof(ss), m.msg_iov = &io, m.msg_iovlen = 1)
	R0();
	RM(recvmsg(-1, &m, 0));
	RM(recvmsg(pr, &m, 0));
	RM(recvmsg(inprog, &m, 0));
	RM(recvmsg(udp_rx, NULL, 0));
	RM(recvmsg(udp_rx, LOW, 0));
	RM(recvmsg(udp_rx, TOP, 0));
	RM(recvmsg(udp_rx, &m, 0));
	R0();
	m.msg_namelen = 0;
	RM(recvmsg(udp_rx, &m, 0));
	R0();
	m.msg_namelen = 3;
	RM(recvmsg(udp_rx, &m, 0));
	R0();
	m.msg_namelen = 1000;
	RM(recvmsg(udp_rx, &m, 0));
	R0();
	m.msg_namelen = (socklen_t)-1;
	RM(recvmsg(udp_rx, &m, 0));
	R0();
	m.msg_name = LOW;
	RM(recvmsg(udp_rx, &m, 0));
	R0();
	m.msg_name = NULL;
	RM(recvmsg(udp_rx, &m, 0));
	R0();
	m.msg_iov = NULL;
	RM(recvmsg(udp_rx, &m, 0));
	R0();
	m.msg_iov = &badio;
	RM(recvmsg(udp_rx, &m, 0));
	R0();
	m.msg_iovlen = UIO_MAXIOV + 1;
	m.msg_iov = many;
	RM(recvmsg(udp_rx, &m, 0));
	R0();
	m.msg_control = cbuf;
	m.msg_controllen = 3;
	RM(recvmsg(udp_rx, &m, 0));
	R0();
	m.msg_control = LOW;
	m.msg_controllen = 64;
	RM(recvmsg(udp_rx, &m, MSG_ERRQUEUE));
	R0();
	RM(recvmsg(udp_rx, &m, MSG_ERRQUEUE));
	RM(recvmsg(udp_rx, &m, 0x7f000000));
	RM(recvmsg(udp_rx, &m, 0));
	R0();
	RM(recvmsg(acc, &m, MSG_DONTWAIT));
	R0();
	RM(recvmsg(acc, &m, MSG_DONTWAIT));

	/* the vectors: vlen 0, over UIO_MAXIOV, bad entries */
	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		memset(&v[i], 0, sizeof(v[i]));
		v[i].msg_hdr.msg_name = &dst;
		v[i].msg_hdr.msg_namelen = sizeof(dst);
		v[i].msg_hdr.msg_iov = &io;
		v[i].msg_hdr.msg_iovlen = 1;
	}
	T(sendmmsg(-1, v, 1, 0));
	T(sendmmsg(pr, v, 1, 0));
	T(sendmmsg(udp, NULL, 0, 0));
	T(sendmmsg(udp, NULL, 1, 0));
	T(sendmmsg(udp, LOW, 1, 0));
	T(sendmmsg(udp, HIGH, 2, 0));
	T(sendmmsg(udp, v, 0, 0));
	T(sendmmsg(udp, v, 2, 0));
	printf("  len0=%u len1=%u\n", v[0].msg_len, v[1].msg_len);
	T(sendmmsg(udp, v, 2, MSG_OOB));
	for (i = 0; i < UIO_MAXIOV + 5; i++)
		v[i].msg_hdr.msg_name = &sin_sink;
	T(sendmmsg(udp, v, UIO_MAXIOV + 5, MSG_DONTWAIT));
	for (i = 0; i < UIO_MAXIOV + 5; i++)
		v[i].msg_hdr.msg_name = &dst;
	printf("  len1023=%u len1024=%u\n", v[1023].msg_len, v[1024].msg_len);
	v[1].msg_hdr.msg_name = LOW;
	T(sendmmsg(udp, v, 3, 0));
	v[1].msg_hdr.msg_name = &dst;
	v[0].msg_hdr.msg_name = LOW;
	T(sendmmsg(udp, v, 3, 0));
	v[0].msg_hdr.msg_name = &dst;
	v[1].msg_hdr.msg_namelen = (socklen_t)-1;
	T(sendmmsg(udp, v, 3, 0));
	v[1].msg_hdr.msg_namelen = sizeof(dst);
	v[1].msg_hdr.msg_iov = NULL;
	T(sendmmsg(udp, v, 3, 0));
	v[1].msg_hdr.msg_iov = &io;
	v[0].msg_hdr.msg_name = NULL;
	v[0].msg_hdr.msg_namelen = 0;
	T(sendmmsg(udp, v, 2, 0));
	T(sendmmsg(conn, v, 2, 0));
	T(sendmmsg(inprog, v, 2, 0));
	v[0].msg_hdr.msg_name = &dst;
	v[0].msg_hdr.msg_namelen = sizeof(dst);
	settle();

	for (i = 0; i < 8; i++) {
		v[i].msg_hdr.msg_name = &ss;
		v[i].msg_hdr.msg_namelen = i == 2 ? 0 : i == 3 ? (socklen_t)-1 :
					   sizeof(ss);
		v[i].msg_len = 0xdead;
	}
	T(recvmmsg(-1, v, 4, 0, &ts0));
	T(recvmmsg(pr, v, 4, 0, &ts0));
	T(recvmmsg(udp_rx, NULL, 0, MSG_DONTWAIT, NULL));
	T(recvmmsg(udp_rx, NULL, 1, MSG_DONTWAIT, NULL));
	T(recvmmsg(udp_rx, LOW, 1, MSG_DONTWAIT, NULL));
	T(recvmmsg(udp_rx, HIGH, 1, MSG_DONTWAIT, NULL));
	T(recvmmsg(udp_rx, v, 0, MSG_DONTWAIT, NULL));
	T(recvmmsg(udp_rx, v, 1, MSG_DONTWAIT, &tsbad));
	T(recvmmsg(udp_rx, v, 1, MSG_DONTWAIT, LOW));
	T(recvmmsg(udp_rx, v, 2, MSG_DONTWAIT, NULL));
	printf("  len=%u,%u namelen=%d,%d\n", v[0].msg_len, v[1].msg_len,
	       (int)v[0].msg_hdr.msg_namelen, (int)v[1].msg_hdr.msg_namelen);
	T(recvmmsg(udp_rx, v + 2, 1, MSG_DONTWAIT, NULL));
	printf("  len=%u namelen=%d\n", v[2].msg_len,
	       (int)v[2].msg_hdr.msg_namelen);
	T(recvmmsg(udp_rx, v + 3, 1, MSG_DONTWAIT, NULL));
	T(recvmmsg(udp_rx, v + 4, 2, 0x7f000000 | MSG_DONTWAIT, NULL));
	T(recvmmsg(udp_rx, v + 4, UIO_MAXIOV + 50, MSG_DONTWAIT, NULL));
	T(recvmmsg(udp_rx, v + 4, 4, MSG_DONTWAIT, NULL));
	T(recvmmsg(inprog, v, 1, MSG_DONTWAIT, NULL));
	T(recvmmsg(acc, v, 1, MSG_DONTWAIT, NULL));
	/* drain what is left, counted */
	T(recvmmsg(udp_rx, v, UIO_MAXIOV, MSG_DONTWAIT, NULL));
	T(recvmmsg(udp_rx, v, UIO_MAXIOV, MSG_DONTWAIT, NULL));
}
