/*
 * loop.c -- the Windows benchmark's program (mingw-w64): calls bench_func
 * N times (the first argument, default 1000), prints the sum of its
 * results and exits with 0. A breakpoint on bench_func is hit N times.
 */
#include <stdio.h>
#include <stdlib.h>

__attribute__((noinline)) unsigned long long bench_func(unsigned long long i)
{
    return i + 1;
}

int main(int argc, char **argv)
{
    unsigned long long n = argc > 1 ? strtoull(argv[1], NULL, 0) : 1000, i, sum = 0;

    for (i = 0; i < n; i++)
        sum += bench_func(i);
    printf("loop: sum=%llu\n", sum);
    return 0;
}
