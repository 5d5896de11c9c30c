/* locks DIR FLOCKS RANGES OFD: a known number of file locks for the numflock tests.
 * Takes FLOCKS flock(2) locks (one file each), RANGES POSIX write locks on disjoint ranges of
 * one file (fcntl F_SETLK: RANGES separate locks), and OFD open file description locks on
 * disjoint ranges of another, all in DIR. A child process takes one more POSIX lock of its
 * own. Then it writes "ready N" (N = every lock held) to stdout and waits:
 *   SIGUSR1  the gaps between the POSIX ranges are locked too, so that the kernel merges them
 *            into one lock; it writes "merged N";
 *   SIGTERM  exits (the locks go with the process).
 * Static, so it runs in any root. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <unistd.h>

static volatile sig_atomic_t merge;

static void on_usr1(int sig)
{
	(void)sig;
	merge = 1;
}

static int open_in(const char *dir, const char *name)
{
	char path[4096];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
}

static int range_lock(int fd, int cmd, off_t start, off_t len)
{
	struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = start, .l_len = len};

	return fcntl(fd, cmd, &fl);
}

int main(int argc, char **argv)
{
	int flocks, ranges, ofd, i, posix_fd, ofd_fd, child_fd, pipefd[2];
	sigset_t set, old;
	pid_t child;
	char c;

	if (argc != 5) {
		fprintf(stderr, "usage: locks DIR FLOCKS RANGES OFD\n");
		return 2;
	}
	flocks = atoi(argv[2]);
	ranges = atoi(argv[3]);
	ofd = atoi(argv[4]);
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigprocmask(SIG_BLOCK, &set, &old);
	signal(SIGUSR1, on_usr1);
	for (i = 0; i < flocks; i++) {
		char name[32];
		int fd;

		snprintf(name, sizeof(name), "flock.%d", i);
		fd = open_in(argv[1], name);
		if (fd < 0 || flock(fd, LOCK_EX | LOCK_NB) < 0)
			return 3;
	}
	posix_fd = open_in(argv[1], "posix");
	ofd_fd = open_in(argv[1], "ofd");
	child_fd = open_in(argv[1], "child");
	if (posix_fd < 0 || ofd_fd < 0 || child_fd < 0)
		return 3;
	for (i = 0; i < ranges; i++)
		if (range_lock(posix_fd, F_SETLK, 20 * i, 10) < 0)
			return 3;
	for (i = 0; i < ofd; i++)
		if (range_lock(ofd_fd, F_OFD_SETLK, 20 * i, 10) < 0)
			return 3;
	if (pipe(pipefd) < 0)
		return 3;
	child = fork();
	if (child == 0) {
		close(pipefd[0]);
		if (range_lock(child_fd, F_SETLK, 0, 1) < 0 || write(pipefd[1], "x", 1) != 1)
			_exit(3);
		pause();
		_exit(0);
	}
	close(pipefd[1]);
	if (child < 0 || read(pipefd[0], &c, 1) != 1)
		return 3;
	printf("ready %d\n", flocks + ranges + ofd + 1);
	fflush(stdout);
	while (!merge)
		sigsuspend(&old);
	for (i = 0; i + 1 < ranges; i++)
		if (range_lock(posix_fd, F_SETLK, 20 * i + 10, 10) < 0)
			return 3;
	printf("merged %d\n", flocks + (ranges ? 1 : 0) + ofd + 1);
	fflush(stdout);
	for (;;)
		pause();
}
