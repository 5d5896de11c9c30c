/* net: UDP probes for the network tests, run inside containers (static: any root file system).
 *   net recv PORT MS            listen on UDP PORT (IPv4 and IPv6) for MS milliseconds; print
 *                               "listening" at once, then "PAYLOAD from ADDR" per datagram
 *   net send DST PORT TEXT      send TEXT to DST (IPv4 or IPv6) from the kernel's source
 *   net spoof SRC DST PORT TEXT send TEXT from a source address that is not ours: a raw IP
 *                               packet with our own header (IPv4 or IPv6, as SRC and DST)
 *   net flood DST PORT N SIZE   send N datagrams of SIZE bytes to DST, one socket
 * Exit: 0 ok, 1 failure, 2 usage. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/ip6.h>
#include <netinet/udp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static long now_ms(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static int recv_udp(int port, int ms)
{
	int s = socket(AF_INET6, SOCK_DGRAM, 0), off = 0;
	struct sockaddr_in6 a = {.sin6_family = AF_INET6, .sin6_port = htons(port), .sin6_addr = IN6ADDR_ANY_INIT};
	setsockopt(s, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof off);
	if (s < 0 || bind(s, (struct sockaddr *)&a, sizeof a) < 0) {
		perror("bind");
		return 1;
	}
	printf("listening\n");
	fflush(stdout);
	for (long end = now_ms() + ms; now_ms() < end;) {
		struct pollfd p = {s, POLLIN, 0};
		if (poll(&p, 1, (int)(end - now_ms())) <= 0)
			continue;
		char buf[512], addr[INET6_ADDRSTRLEN];
		struct sockaddr_in6 from;
		socklen_t fl = sizeof from;
		ssize_t n = recvfrom(s, buf, sizeof buf - 1, 0, (struct sockaddr *)&from, &fl);
		if (n < 0)
			continue;
		buf[n] = 0;
		inet_ntop(AF_INET6, &from.sin6_addr, addr, sizeof addr);
		/* IPv4-mapped shown as IPv4 */
		printf("%s from %s\n", buf, strncmp(addr, "::ffff:", 7) == 0 ? addr + 7 : addr);
		fflush(stdout);
	}
	return 0;
}

static int to_addr(const char *dst, int port, struct sockaddr_storage *ss, socklen_t *len)
{
	struct sockaddr_in *a4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)ss;
	memset(ss, 0, sizeof *ss);
	if (inet_pton(AF_INET, dst, &a4->sin_addr) == 1) {
		a4->sin_family = AF_INET;
		a4->sin_port = htons(port);
		*len = sizeof *a4;
	} else if (inet_pton(AF_INET6, dst, &a6->sin6_addr) == 1) {
		a6->sin6_family = AF_INET6;
		a6->sin6_port = htons(port);
		*len = sizeof *a6;
	} else {
		return -1;
	}
	return 0;
}

static int flood(const char *dst, int port, long n, size_t size)
{
	static char buf[65507];
	struct sockaddr_storage ss;
	socklen_t len;
	if (size > sizeof buf || to_addr(dst, port, &ss, &len) < 0)
		return 2;
	memset(buf, 'x', size);
	int s = socket(ss.ss_family, SOCK_DGRAM, 0);
	if (s < 0) {
		perror("socket");
		return 1;
	}
	for (long i = 0; i < n; i++)
		if (sendto(s, buf, size, 0, (struct sockaddr *)&ss, len) != (ssize_t)size) {
			perror("sendto");
			return 1;
		}
	return 0;
}

static int send_udp(const char *dst, int port, const char *text)
{
	struct sockaddr_storage ss;
	socklen_t len;
	if (to_addr(dst, port, &ss, &len) < 0)
		return 2;
	int s = socket(ss.ss_family, SOCK_DGRAM, 0);
	if (s < 0 || sendto(s, text, strlen(text), 0, (struct sockaddr *)&ss, len) < 0) {
		perror("sendto");
		return 1;
	}
	return 0;
}

static unsigned short csum(const void *data, size_t len, unsigned long sum)
{
	const unsigned char *p = data;
	for (; len > 1; len -= 2, p += 2)
		sum += (p[0] << 8) | p[1];
	if (len)
		sum += p[0] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (unsigned short)~sum;
}

static int spoof(const char *src, const char *dst, int port, const char *text)
{
	unsigned char pkt[512] = {0};
	size_t tl = strlen(text);
	struct in_addr s4, d4;
	struct in6_addr s6, d6;
	if (inet_pton(AF_INET, src, &s4) == 1 && inet_pton(AF_INET, dst, &d4) == 1) {
		struct iphdr *ip = (struct iphdr *)pkt;
		struct udphdr *u = (struct udphdr *)(pkt + sizeof *ip);
		ip->version = 4;
		ip->ihl = 5;
		ip->ttl = 64;
		ip->protocol = IPPROTO_UDP;
		ip->saddr = s4.s_addr;
		ip->daddr = d4.s_addr;
		ip->tot_len = htons((unsigned short)(sizeof *ip + sizeof *u + tl));
		u->source = htons(40000);
		u->dest = htons(port);
		u->len = htons((unsigned short)(sizeof *u + tl));
		memcpy(pkt + sizeof *ip + sizeof *u, text, tl);
		int s = socket(AF_INET, SOCK_RAW, IPPROTO_RAW);
		struct sockaddr_in to = {.sin_family = AF_INET, .sin_addr = d4};
		if (s < 0 || sendto(s, pkt, sizeof *ip + sizeof *u + tl, 0, (struct sockaddr *)&to, sizeof to) < 0) {
			perror("raw send");
			return 1;
		}
		return 0;
	}
	if (inet_pton(AF_INET6, src, &s6) == 1 && inet_pton(AF_INET6, dst, &d6) == 1) {
		struct ip6_hdr *ip = (struct ip6_hdr *)pkt;
		struct udphdr *u = (struct udphdr *)(pkt + sizeof *ip);
		ip->ip6_flow = htonl(6u << 28);
		ip->ip6_plen = htons((unsigned short)(sizeof *u + tl));
		ip->ip6_nxt = IPPROTO_UDP;
		ip->ip6_hlim = 64;
		ip->ip6_src = s6;
		ip->ip6_dst = d6;
		u->source = htons(40000);
		u->dest = htons(port);
		u->len = ip->ip6_plen;
		memcpy(pkt + sizeof *ip + sizeof *u, text, tl);
		/* UDP over IPv6 needs its checksum: pseudo-header, then the datagram. */
		unsigned long sum = 0;
		for (int i = 0; i < 16; i += 2)
			sum += (s6.s6_addr[i] << 8 | s6.s6_addr[i + 1]) + (d6.s6_addr[i] << 8 | d6.s6_addr[i + 1]);
		sum += sizeof *u + tl + IPPROTO_UDP;
		u->check = htons(csum(u, sizeof *u + tl, sum));
		int s = socket(AF_INET6, SOCK_RAW, IPPROTO_RAW);
		struct sockaddr_in6 to = {.sin6_family = AF_INET6, .sin6_addr = d6};
		if (s < 0 || sendto(s, pkt, sizeof *ip + sizeof *u + tl, 0, (struct sockaddr *)&to, sizeof to) < 0) {
			perror("raw send");
			return 1;
		}
		return 0;
	}
	return 2;
}

int main(int argc, char **argv)
{
	if (argc == 4 && !strcmp(argv[1], "recv"))
		return recv_udp(atoi(argv[2]), atoi(argv[3]));
	if (argc == 5 && !strcmp(argv[1], "send"))
		return send_udp(argv[2], atoi(argv[3]), argv[4]);
	if (argc == 6 && !strcmp(argv[1], "spoof"))
		return spoof(argv[2], argv[3], atoi(argv[4]), argv[5]);
	if (argc == 6 && !strcmp(argv[1], "flood"))
		return flood(argv[2], atoi(argv[3]), atol(argv[4]), (size_t)atol(argv[5]));
	fprintf(stderr, "usage: net recv PORT MS | send DST PORT TEXT | spoof SRC DST PORT TEXT | flood DST PORT N SIZE\n");
	return 2;
}
