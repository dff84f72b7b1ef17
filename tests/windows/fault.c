/*
 * fault.c -- a Windows program that dies of an access violation (mingw-w64):
 * a write through a null pointer in faulting_func, not handled, so the
 * debugger sees it first chance, then second chance, and the process exits
 * with code 0xC0000005.
 */
#include <stdio.h>

__attribute__((noinline)) void faulting_func(volatile int *where)
{
    *where = 1;
}

int main(void)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    printf("fault: about to write through a null pointer\n");
    faulting_func((volatile int *)0);
    printf("fault: still alive\n");
    return 0;
}
