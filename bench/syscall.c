/* The CPU cost of one system call that does nothing (getppid) and of one fcntl(F_GETFL)
 * on this machine: the price of each of the ~20 system calls libcurl makes per http
 * check (bench/RESULTS.md), measured apart from any socket work.
 *
 *   cc -O2 -o /tmp/syscall bench/syscall.c && /tmp/syscall
 */
#include <fcntl.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static double cpu_us(void)
{
	struct timespec t;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
	return (double)t.tv_sec * 1e6 + (double)t.tv_nsec / 1e3;
}

int main(void)
{
	const int n = 1000000;
	double t0 = cpu_us();
	for (int i = 0; i < n; i++)
		syscall(SYS_getppid);
	double t1 = cpu_us();
	for (int i = 0; i < n; i++)
		fcntl(0, F_GETFL);
	double t2 = cpu_us();
	printf("getppid: %.3f us of CPU per call\nfcntl(F_GETFL): %.3f us of CPU per call\n",
	       (t1 - t0) / n, (t2 - t1) / n);
	return 0;
}
