/* tasks P T SECONDS: a known number of tasks for the numproc tests. The main process forks P
 * children; each child starts T threads. Everything then sleeps for SECONDS (or until
 * killed). Once all P*(T+1) tasks exist, besides the main one, it writes "ready N" (N = the
 * total number of tasks, main included) to stdout. Static, so it runs in any root. */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

static unsigned seconds;

static void *sleeper(void *arg)
{
	(void)arg;
	sleep(seconds);
	return NULL;
}

int main(int argc, char **argv)
{
	int p, t, i, j, pipefd[2];
	char c;

	if (argc != 4) {
		fprintf(stderr, "usage: tasks PROCESSES THREADS SECONDS\n");
		return 2;
	}
	p = atoi(argv[1]);
	t = atoi(argv[2]);
	seconds = (unsigned)atoi(argv[3]);
	if (pipe(pipefd) < 0)
		return 2;
	for (i = 0; i < p; i++) {
		if (fork() == 0) {
			pthread_t th;

			close(pipefd[0]);
			for (j = 0; j < t; j++)
				if (pthread_create(&th, NULL, sleeper, NULL) != 0)
					_exit(3);
			/* one byte per child once its threads exist */
			if (write(pipefd[1], "x", 1) != 1)
				_exit(3);
			sleep(seconds);
			_exit(0);
		}
	}
	close(pipefd[1]);
	for (i = 0; i < p; i++)
		if (read(pipefd[0], &c, 1) != 1)
			return 3;
	printf("ready %d\n", 1 + p * (t + 1));
	fflush(stdout);
	while (wait(NULL) > 0)
		;
	return 0;
}
