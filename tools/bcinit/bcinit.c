/* bcinit: PID 1 of the busybox template.
 *
 * It boots the container: /etc/init.d/rcS if that is executable (it then owns the boot),
 * or else every executable /etc/rc.d/S* in name order with the argument "start", one after
 * another. Either runs in a child, so PID 1 only ever reaps zombies and orphans re-parented
 * to it never pile up; with nothing to run, nothing is forked (no shell started for an
 * empty loop). On SIGTERM, SIGINT or SIGPWR it stops the container: SIGTERM to every
 * process, a grace period (BCINIT_GRACE seconds, default 10) while it keeps reaping, then
 * SIGKILL, then it exits, which makes the kernel tear the PID namespace down. It never
 * sleeps when there is nothing left to wait for, so a stop takes as long as the slowest
 * process needs, not a fixed pause.
 *
 * Static, no libraries beyond libc: it must run in any root file system.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static void reap_all(void)
{
	while (waitpid(-1, NULL, WNOHANG) > 0)
		;
}

static int have_children(void)
{
	siginfo_t si;
	memset(&si, 0, sizeof(si));
	return waitid(P_ALL, 0, &si, WEXITED | WNOHANG | WNOWAIT) == 0 || errno != ECHILD;
}

static void stop_all(int grace)
{
	struct timespec ts = {.tv_sec = grace, .tv_nsec = 0};
	sigset_t chld;

	kill(-1, SIGTERM);
	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	/* Wait for every child to go, reaping as they exit, until the grace period ends. */
	for (;;) {
		reap_all();
		if (!have_children())
			return;
		struct timespec t0, t1;
		clock_gettime(CLOCK_MONOTONIC, &t0);
		if (sigtimedwait(&chld, NULL, &ts) < 0 && errno == EAGAIN)
			break;
		clock_gettime(CLOCK_MONOTONIC, &t1);
		long ns = (ts.tv_sec * 1000000000L + ts.tv_nsec) -
			  ((t1.tv_sec - t0.tv_sec) * 1000000000L + (t1.tv_nsec - t0.tv_nsec));
		if (ns <= 0)
			break;
		ts.tv_sec = ns / 1000000000L;
		ts.tv_nsec = ns % 1000000000L;
	}
	kill(-1, SIGKILL);
	while (waitpid(-1, NULL, 0) > 0 || errno == EINTR)
		;
}

static int is_start_script(const struct dirent *e)
{
	return e->d_name[0] == 'S';
}

/* The S* scripts of /etc/rc.d that are executable regular files, each run to its end
 * before the next, as a sysv rc does. Runs in the boot child. */
static void run_start_scripts(struct dirent **names, int n)
{
	for (int i = 0; i < n; i++) {
		char path[PATH_MAX];
		struct stat st;

		if (snprintf(path, sizeof(path), "/etc/rc.d/%s", names[i]->d_name) >= (int)sizeof(path) ||
		    stat(path, &st) < 0 || !S_ISREG(st.st_mode) || access(path, X_OK) < 0)
			continue;
		pid_t pid = fork();
		if (pid == 0) {
			execl(path, names[i]->d_name, "start", (char *)NULL);
			fprintf(stderr, "bcinit: %s: %s\n", path, strerror(errno));
			_exit(127);
		}
		while (pid > 0 && waitpid(pid, NULL, 0) < 0 && errno == EINTR)
			;
	}
}

static void boot(const sigset_t *blocked)
{
	struct dirent **names = NULL;
	int n = 0;
	const int rcs = access("/etc/init.d/rcS", X_OK) == 0;

	if (!rcs) {
		n = scandir("/etc/rc.d", &names, is_start_script, alphasort);
		if (n <= 0) {
			free(names);
			return;
		}
	}
	if (fork() == 0) {
		sigprocmask(SIG_UNBLOCK, blocked, NULL);
		if (rcs) {
			execl("/etc/init.d/rcS", "rcS", (char *)NULL);
			_exit(127);
		}
		run_start_scripts(names, n);
		_exit(0);
	}
	for (int i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

int main(void)
{
	sigset_t set;
	int grace = 10;
	const char *g = getenv("BCINIT_GRACE");

	if (getpid() != 1) {
		fprintf(stderr, "bcinit: must run as PID 1 of a container\n");
		return 1;
	}
	if (g && atoi(g) >= 0)
		grace = atoi(g);

	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGPWR);
	sigaddset(&set, SIGHUP);
	sigprocmask(SIG_BLOCK, &set, NULL);

	boot(&set);

	for (;;) {
		int sig = sigwaitinfo(&set, NULL);
		if (sig < 0)
			continue;
		if (sig == SIGCHLD) {
			reap_all();
		} else if (sig == SIGTERM || sig == SIGINT || sig == SIGPWR) {
			stop_all(grace);
			return 0;
		}
	}
}
