/*
 * fault.c -- Windows programs that fault (mingw-w64).
 *
 * With no argument: a write through a null pointer in faulting_func, not
 * handled, so the debugger sees it first chance, then second chance, and
 * the process exits with code 0xC0000005.
 *
 * With the argument "handled": a vectored exception handler of the
 * program's own handles a RaiseException(0xE0000001) and an access
 * violation (a read through a null pointer, skipped); prints what it
 * handled and exits with code 0.
 *
 * With the argument "cxx": the same handler handles an MSVC-style C++
 * exception (RaiseException(0xE06D7363) with the magic number and an
 * object, as MSVC's throw raises it) and an illegal instruction (ud2,
 * skipped); prints what it handled and exits with code 0.
 */
#include <windows.h>
#include <stdio.h>
#include <string.h>

static volatile LONG handled_custom, handled_access_violation, handled_cxx, handled_illegal;

/* What MSVC's throw raises: the C++ exception code with the magic number,
 * the object and its throw information as parameters. */
#define MSVC_CXX_EXCEPTION 0xE06D7363

/* ud2: two bytes the handler knows to skip. */
__attribute__((noinline)) static void illegal_instruction(void)
{
    __asm__ volatile("ud2");
}

__attribute__((noinline)) void faulting_func(volatile int *where)
{
    *where = 1;
}

/* mov eax, [rax] with rax = 0: two bytes the handler knows to skip. */
__attribute__((noinline)) static void read_null(void)
{
    __asm__ volatile("xor %%eax, %%eax\n\t"
                     ".byte 0x8B, 0x00\n\t"
                     ::: "rax", "memory");
}

static LONG CALLBACK handler(PEXCEPTION_POINTERS pointers)
{
    DWORD code = pointers->ExceptionRecord->ExceptionCode;
    unsigned char *pc = (unsigned char *)pointers->ContextRecord->Rip;
    if (code == 0xE0000001) {
        handled_custom++;
        return EXCEPTION_CONTINUE_EXECUTION;
    }
    if (code == MSVC_CXX_EXCEPTION) {
        handled_cxx++;
        return EXCEPTION_CONTINUE_EXECUTION;
    }
    if (code == EXCEPTION_ILLEGAL_INSTRUCTION && pc[0] == 0x0F && pc[1] == 0x0B) {
        pointers->ContextRecord->Rip += 2;
        handled_illegal++;
        return EXCEPTION_CONTINUE_EXECUTION;
    }
    if (code == EXCEPTION_ACCESS_VIOLATION && pc[0] == 0x8B && pc[1] == 0x00) {
        pointers->ContextRecord->Rip += 2;
        handled_access_violation++;
        return EXCEPTION_CONTINUE_EXECUTION;
    }
    return EXCEPTION_CONTINUE_SEARCH;
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    if (argc > 1 && !strcmp(argv[1], "handled")) {
        AddVectoredExceptionHandler(1, handler);
        RaiseException(0xE0000001, 0, 0, NULL);
        read_null();
        printf("fault: handled custom=%ld access_violation=%ld\n", handled_custom, handled_access_violation);
        return 0;
    }
    if (argc > 1 && !strcmp(argv[1], "cxx")) {
        static int thrown = 42;
        ULONG_PTR parameters[3] = {0x19930520, (ULONG_PTR)&thrown, 0};
        AddVectoredExceptionHandler(1, handler);
        RaiseException(MSVC_CXX_EXCEPTION, 0, 3, parameters);
        illegal_instruction();
        printf("fault: handled cxx=%ld illegal=%ld\n", handled_cxx, handled_illegal);
        return 0;
    }
    printf("fault: about to write through a null pointer\n");
    faulting_func((volatile int *)0);
    printf("fault: still alive\n");
    return 0;
}
