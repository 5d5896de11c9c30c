/* memhog MIB SECONDS [LOCK [SIGNALS]]: allocates MIB MiB of anonymous memory and writes
 * every page (LOCK=1: mlock()s it too), queues SIGNALS real-time signals to itself with the
 * signal blocked (each stays queued), prints "ready", then sleeps SECONDS (or until killed).
 * Static, so it runs in any root. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	size_t bytes;
	char *p;
	int lock = argc > 3 ? atoi(argv[3]) : 0, signals = argc > 4 ? atoi(argv[4]) : 0;
	sigset_t set;

	if (argc < 3 || argc > 5) {
		fprintf(stderr, "usage: memhog MIB SECONDS [LOCK [SIGNALS]]\n");
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
