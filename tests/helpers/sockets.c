/* sockets: known numbers of sockets and bytes for the socket and traffic tests. Static, so
 * it runs in any container root. Only loopback is used.
 *
 *   sockets hold CONNS QUEUED UDP SECONDS
 *       One TCP listener on 127.0.0.1; CONNS connections accepted (a client and an accepted
 *       socket each); QUEUED connections left in the accept queue (a client each, and a
 *       child socket the kernel made but nobody accepted); UDP datagram sockets. Then
 *       prints "ready TCP OTHER" (the inet sockets it holds) and sleeps SECONDS, or until
 *       killed; the listener is closed with the queued connections still in its queue.
 *   sockets churn N
 *       N times: a TCP socket and a UDP socket opened and closed; N/100 times: a TCP
 *       connection made, accepted and closed on both ends. Prints "done".
 *   sockets open N
 *       Opens up to N TCP sockets, stopping at the first refusal; prints "opened K ERRNO"
 *       (ERRNO 0 if all were opened), then sleeps until killed.
 *   sockets udp COUNT SIZE
 *       Sends COUNT datagrams of SIZE payload bytes over IPv4 loopback to its own socket and
 *       receives them; prints "sent COUNT".
 *   sockets tcp BYTES
 *       Sends BYTES over one loopback TCP connection, receives them and closes; prints
 *       "sent BYTES".
 *   sockets local PAIRS NETLINK SECONDS
 *       Non-inet sockets: PAIRS unix stream socket pairs, PAIRS unix datagram pairs, PAIRS
 *       unix seqpacket pairs, one unix stream listener bound to an abstract name with one
 *       connection queued on it (its client and the child the kernel made: 3 sockets), and
 *       NETLINK netlink route sockets. Prints "ready N" (the sockets it made) and sleeps
 *       SECONDS, or until killed.
 *   sockets buffers
 *       Leaves data in buffers and sleeps until killed: 10 UDP datagrams of 1000 bytes
 *       unread on one socket; 65536 bytes unread on an accepted TCP connection; a second
 *       connection whose receiver keeps a small buffer and reads nothing, with as much
 *       written to it as the sender's queue takes. Prints "buffers UNACKED" (bytes the
 *       second sender holds: written, not yet in the receiver). */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <linux/netlink.h>
#include <unistd.h>

static void die(const char *what)
{
	perror(what);
	exit(1);
}

static int listener(struct sockaddr_in *addr, int backlog)
{
	socklen_t len = sizeof(*addr);
	int l = socket(AF_INET, SOCK_STREAM, 0);

	if (l < 0)
		die("socket");
	memset(addr, 0, sizeof(*addr));
	addr->sin_family = AF_INET;
	addr->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(l, (struct sockaddr *)addr, sizeof(*addr)) < 0 || listen(l, backlog) < 0 ||
	    getsockname(l, (struct sockaddr *)addr, &len) < 0)
		die("listen");
	return l;
}

static int connect_to(const struct sockaddr_in *addr)
{
	int c = socket(AF_INET, SOCK_STREAM, 0);

	if (c < 0 || connect(c, (const struct sockaddr *)addr, sizeof(*addr)) < 0)
		die("connect");
	return c;
}

static int hold(int conns, int queued, int udp, int seconds)
{
	struct sockaddr_in addr;
	int l = listener(&addr, conns + queued + 16), i;

	for (i = 0; i < conns; i++) {
		connect_to(&addr);
		if (accept(l, NULL, NULL) < 0)
			die("accept");
	}
	for (i = 0; i < queued; i++)
		connect_to(&addr);
	for (i = 0; i < udp; i++)
		if (socket(AF_INET, SOCK_DGRAM, 0) < 0)
			die("socket udp");
	printf("ready %d %d\n", 1 + 2 * conns + 2 * queued, udp);
	fflush(stdout);
	sleep(seconds);
	return 0;
}

static int buffers(void)
{
	struct sockaddr_in addr, uaddr = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(uaddr);
	char data[1000] = {0}, big[65536] = {0};
	int u = socket(AF_INET, SOCK_DGRAM, 0), l = listener(&addr, 16), small = 4096, i;
	int c1, a1, c2, a2, inq = 0;
	long written = 0;

	if (u < 0 || bind(u, (struct sockaddr *)&uaddr, sizeof(uaddr)) < 0 ||
	    getsockname(u, (struct sockaddr *)&uaddr, &len) < 0)
		die("udp");
	for (i = 0; i < 10; i++)
		if (sendto(u, data, sizeof(data), 0, (struct sockaddr *)&uaddr, sizeof(uaddr)) != sizeof(data))
			die("sendto");
	c1 = connect_to(&addr);
	a1 = accept(l, NULL, NULL);
	if (a1 < 0 || write(c1, big, sizeof(big)) != sizeof(big))
		die("tcp 1");
	/* The receiver's buffer is set on the listener, so that the accepted socket has it. */
	if (setsockopt(l, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small)) < 0)
		die("rcvbuf");
	c2 = connect_to(&addr);
	a2 = accept(l, NULL, NULL);
	if (a2 < 0)
		die("tcp 2");
	for (;;) {
		ssize_t n = send(c2, big, sizeof(big), MSG_DONTWAIT);

		if (n <= 0)
			break;
		written += n;
	}
	usleep(200000); /* let the receiver take what its window allows */
	if (ioctl(a2, FIONREAD, &inq) < 0)
		die("FIONREAD");
	printf("buffers %ld\n", written - inq);
	fflush(stdout);
	for (;;)
		pause();
	return 0;
}

static int churn(long n)
{
	struct sockaddr_in addr;
	int l = listener(&addr, 16);
	long i;

	for (i = 0; i < n; i++) {
		int t = socket(AF_INET, SOCK_STREAM, 0), u = socket(AF_INET, SOCK_DGRAM, 0);

		if (t < 0 || u < 0)
			die("socket");
		close(t);
		close(u);
	}
	for (i = 0; i < n / 100; i++) {
		int c = connect_to(&addr), a = accept(l, NULL, NULL);

		if (a < 0)
			die("accept");
		close(c);
		close(a);
	}
	close(l);
	printf("done\n");
	return 0;
}

static int open_n(int n)
{
	int k, err = 0;

	for (k = 0; k < n; k++)
		if (socket(AF_INET, SOCK_STREAM, 0) < 0) {
			err = errno;
			break;
		}
	printf("opened %d %d\n", k, err);
	fflush(stdout);
	pause();
	return 0;
}

static int udp(long count, size_t size)
{
	struct sockaddr_in addr = {.sin_family = AF_INET};
	socklen_t len = sizeof(addr);
	char *buf = calloc(1, size ? size : 1);
	int s = socket(AF_INET, SOCK_DGRAM, 0);
	long i;

	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (s < 0 || bind(s, (struct sockaddr *)&addr, sizeof(addr)) < 0 ||
	    getsockname(s, (struct sockaddr *)&addr, &len) < 0)
		die("udp socket");
	for (i = 0; i < count; i++) {
		if (sendto(s, buf, size, 0, (struct sockaddr *)&addr, sizeof(addr)) != (ssize_t)size)
			die("sendto");
		if (recv(s, buf, size ? size : 1, 0) != (ssize_t)size)
			die("recv");
	}
	printf("sent %ld\n", count);
	return 0;
}

static int tcp(long bytes)
{
	struct sockaddr_in addr;
	static char buf[65536];
	int l = listener(&addr, 1), c = connect_to(&addr), a = accept(l, NULL, NULL);
	long sent = 0, got = 0;

	if (a < 0)
		die("accept");
	while (sent < bytes) {
		size_t n = bytes - sent < (long)sizeof(buf) ? (size_t)(bytes - sent) : sizeof(buf);
		ssize_t w = write(c, buf, n);

		if (w <= 0)
			die("write");
		sent += w;
		while (got < sent) {
			ssize_t r = read(a, buf, sizeof(buf));

			if (r <= 0)
				die("read");
			got += r;
		}
	}
	close(c);
	close(a);
	close(l);
	printf("sent %ld\n", bytes);
	return 0;
}

static int local(int pairs, int netlink, int seconds)
{
	static const int types[] = {SOCK_STREAM, SOCK_DGRAM, SOCK_SEQPACKET};
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	socklen_t len = offsetof(struct sockaddr_un, sun_path) + 1 + (socklen_t)strlen("bc-sockets-test");
	int n = 0, l, c, sv[2];

	for (int t = 0; t < 3; t++)
		for (int i = 0; i < pairs; i++, n += 2)
			if (socketpair(AF_UNIX, types[t], 0, sv) < 0)
				die("socketpair");
	memcpy(addr.sun_path + 1, "bc-sockets-test", strlen("bc-sockets-test"));
	l = socket(AF_UNIX, SOCK_STREAM, 0);
	c = socket(AF_UNIX, SOCK_STREAM, 0);
	if (l < 0 || c < 0 || bind(l, (struct sockaddr *)&addr, len) < 0 || listen(l, 4) < 0 ||
	    connect(c, (struct sockaddr *)&addr, len) < 0)
		die("unix listener");
	n += 3;
	for (int i = 0; i < netlink; i++, n++)
		if (socket(AF_NETLINK, SOCK_RAW, NETLINK_ROUTE) < 0)
			die("netlink");
	printf("ready %d\n", n);
	fflush(stdout);
	sleep((unsigned)seconds);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 5 && !strcmp(argv[1], "local"))
		return local(atoi(argv[2]), atoi(argv[3]), atoi(argv[4]));
	if (argc == 6 && !strcmp(argv[1], "hold"))
		return hold(atoi(argv[2]), atoi(argv[3]), atoi(argv[4]), atoi(argv[5]));
	if (argc == 2 && !strcmp(argv[1], "buffers"))
		return buffers();
	if (argc == 3 && !strcmp(argv[1], "churn"))
		return churn(atol(argv[2]));
	if (argc == 3 && !strcmp(argv[1], "open"))
		return open_n(atoi(argv[2]));
	if (argc == 4 && !strcmp(argv[1], "udp"))
		return udp(atol(argv[2]), (size_t)atol(argv[3]));
	if (argc == 3 && !strcmp(argv[1], "tcp"))
		return tcp(atol(argv[2]));
	fprintf(stderr, "usage: sockets hold CONNS QUEUED UDP SECONDS | local PAIRS NETLINK SECONDS | churn N | open N | udp COUNT SIZE | tcp BYTES\n");
	return 2;
}
