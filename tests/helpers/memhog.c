/* memhog MIB SECONDS [LOCK [SIGNALS]]: allocates MIB MiB of anonymous memory and writes
 * every page (LOCK=1: mlock()s it too), queues SIGNALS real-time signals to itself with the
 * signal blocked (each stays queued), prints "ready", then sleeps SECONDS (or until killed).
 * memhog shm MIB SECONDS: writes MIB MiB into a memfd (shared memory: shmem pages), prints
 * "ready", then sleeps SECONDS (or until killed).
 * Static, so it runs in any root. */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static int shm(long mib, int seconds)
{
	static char buf[65536];
	int fd = memfd_create("memhog", 0);

	if (fd < 0) {
		perror("memfd_create");
		return 1;
	}
	memset(buf, 0x5a, sizeof(buf));
	for (long left = mib << 20; left > 0; left -= (long)sizeof(buf))
		if (write(fd, buf, sizeof(buf)) != (ssize_t)sizeof(buf)) {
			perror("write");
			return 1;
		}
	printf("ready\n");
	fflush(stdout);
	sleep((unsigned)seconds);
	return 0;
}

int main(int argc, char **argv)
{
	size_t bytes;
	char *p;
	int lock = argc > 3 ? atoi(argv[3]) : 0, signals = argc > 4 ? atoi(argv[4]) : 0;
	sigset_t set;

	if (argc == 4 && !strcmp(argv[1], "shm"))
		return shm(atol(argv[2]), atoi(argv[3]));
	if (argc < 3 || argc > 5) {
		fprintf(stderr, "usage: memhog MIB SECONDS [LOCK [SIGNALS]] | memhog shm MIB SECONDS\n");
		return 2;
	}
	bytes = (size_t)atol(argv[1]) << 20;
	p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED) {
		perror("mmap");
		return 1;
	}
	for (size_t i = 0; i < bytes; i += 4096)
		p[i] = 1;
	if (lock && mlock(p, bytes) < 0) {
		perror("mlock");
		return 1;
	}
	sigemptyset(&set);
	sigaddset(&set, SIGRTMIN);
	sigprocmask(SIG_BLOCK, &set, NULL);
	for (int i = 0; i < signals; i++) {
		union sigval v = {.sival_int = i};

		if (sigqueue(getpid(), SIGRTMIN, v) < 0) {
			perror("sigqueue");
			return 1;
		}
	}
	printf("ready\n");
	fflush(stdout);
	sleep((unsigned)atoi(argv[2]));
	return 0;
}
