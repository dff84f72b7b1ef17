/*
 * debuggee.c -- a Windows program for dbgkit-winstub's tests (mingw-w64).
 * Loads and unloads a DLL, says something through OutputDebugStringA,
 * runs a second thread, and calls target_func three times from main
 * (a breakpoint there is hit three times); exits with code 42.
 * Other modes, by the first argument:
 *   spin [N]     prints its process id, sleeps N times 50 ms (default
 *                400: 20 seconds; for a break-in or an attach), exits
 *                with code 3;
 *   chatter      calls OutputDebugStringA without pause for up to 20
 *                seconds, exits with code 4;
 *   args A...    prints each argument in brackets, exits with argc;
 *   env NAME     prints the variable NAME and the working directory;
 *   exit CODE    exits with CODE (strtoul's syntax, 0x... for hex).
 */
#include <windows.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

__attribute__((noinline)) int target_func(int x)
{
    volatile int doubled = x * 2;
    return doubled + 1;
}

__attribute__((noinline)) static int caller_func(int x)
{
    return target_func(x) + 100;
}

/* Written by the worker thread only: a watchpoint set before the thread
 * starts must reach it. */
volatile int worker_runs;

static DWORD WINAPI worker(LPVOID arg)
{
    (void)arg;
    worker_runs++;
    OutputDebugStringA("debuggee: worker thread running");
    return 7;
}

static int spin(int rounds)
{
    int i;
    printf("debuggee: spinning, pid %lu\n", GetCurrentProcessId());
    for (i = 0; i < rounds; i++)
        Sleep(50);
    printf("debuggee: done spinning, debugger present: %d\n", (int)IsDebuggerPresent());
    return 3;
}

int main(int argc, char **argv)
{
    HANDLE thread;
    HMODULE dll;
    DWORD thread_code = 0;
    int sum = 0, i;

    setvbuf(stdout, NULL, _IONBF, 0);
    if (argc > 1 && !strcmp(argv[1], "spin"))
        return spin(argc > 2 ? atoi(argv[2]) : 400);
    if (argc > 1 && !strcmp(argv[1], "chatter")) {
        ULONGLONG until = GetTickCount64() + 20000;
        printf("debuggee: chattering\n");
        while (GetTickCount64() < until)
            OutputDebugStringA("debuggee: chatter");
        return 4;
    }
    if (argc > 2 && !strcmp(argv[1], "env")) {
        char directory[MAX_PATH];
        const char *value = getenv(argv[2]);
        GetCurrentDirectoryA(sizeof directory, directory);
        printf("debuggee: %s=[%s] cwd=[%s]\n", argv[2], value ? value : "(unset)", directory);
        return 0;
    }
    if (argc > 1 && !strcmp(argv[1], "args")) {
        for (i = 0; i < argc; i++)
            printf("debuggee: argv[%d] = [%s]\n", i, argv[i]);
        return argc;
    }
    if (argc > 2 && !strcmp(argv[1], "exit"))
        return (int)strtoul(argv[2], NULL, 0);
    OutputDebugStringA("debuggee: hello from OutputDebugStringA");

    thread = CreateThread(NULL, 0, worker, NULL, 0, NULL);
    WaitForSingleObject(thread, INFINITE);
    GetExitCodeThread(thread, &thread_code);
    CloseHandle(thread);

    dll = LoadLibraryA("testdll.dll");
    if (dll) {
        int (*dll_func)(int) = (int (*)(int))(void *)GetProcAddress(dll, "dll_func");
        printf("debuggee: dll_func(5) = %d\n", dll_func ? dll_func(5) : -1);
        FreeLibrary(dll);
    } else {
        printf("debuggee: LoadLibraryA failed (%lu)\n", GetLastError());
    }

    for (i = 0; i < 3; i++)
        sum += caller_func(i);
    printf("debuggee: sum = %d, worker exit code = %lu\n", sum, thread_code);
    return 42;
}
