/*
 * rawloop.c -- the floor of the Windows benchmark (mingw-w64): the Win32
 * debug loop with nothing in between, as a debugger written against
 * kernel32 alone would run it. Starts PROGRAM ARGS under
 * DEBUG_ONLY_THIS_PROCESS, writes an int3 at ADDRESS once the loader's
 * initial breakpoint is reached, and at each hit takes the classic
 * step-over: the original byte back, the pc back on it, one instruction
 * under the trap flag, the int3 again. Prints the hits and the time from
 * the first hit to the process's exit, and the program's exit code.
 *
 *   rawloop.exe ADDRESS PROGRAM [ARGS...]      (ADDRESS in hex, 0x...)
 */
#include <windows.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static HANDLE thread_of(DWORD tid, HANDLE *threads, DWORD *tids, int count)
{
    int i;
    for (i = 0; i < count; i++)
        if (tids[i] == tid)
            return threads[i];
    return NULL;
}

int main(int argc, char **argv)
{
    STARTUPINFOA si = { sizeof si };
    PROCESS_INFORMATION pi;
    DEBUG_EVENT ev;
    char command[4096] = "";
    unsigned long long address, hits = 0;
    unsigned char int3 = 0xCC, original = 0;
    HANDLE process = NULL, threads[256];
    DWORD tids[256];
    int thread_count = 0, i, initial_seen = 0, stepping_over = 0;
    LARGE_INTEGER frequency, first = { 0 }, last;
    DWORD exit_code = 0;

    if (argc < 3) {
        fprintf(stderr, "usage: rawloop.exe ADDRESS PROGRAM [ARGS...]\n");
        return 2;
    }
    address = strtoull(argv[1], NULL, 16);
    for (i = 2; i < argc; i++) {
        strncat(command, argv[i], sizeof command - strlen(command) - 2);
        strcat(command, " ");
    }
    if (!CreateProcessA(NULL, command, NULL, NULL, FALSE, DEBUG_ONLY_THIS_PROCESS, NULL, NULL, &si, &pi)) {
        fprintf(stderr, "rawloop: cannot start %s (error %lu)\n", argv[2], GetLastError());
        return 2;
    }
    QueryPerformanceFrequency(&frequency);
    for (;;) {
        DWORD status = DBG_CONTINUE;
        if (!WaitForDebugEvent(&ev, INFINITE))
            return 2;
        switch (ev.dwDebugEventCode) {
        case CREATE_PROCESS_DEBUG_EVENT:
            process = ev.u.CreateProcessInfo.hProcess;
            threads[thread_count] = ev.u.CreateProcessInfo.hThread;
            tids[thread_count++] = ev.dwThreadId;
            break;
        case CREATE_THREAD_DEBUG_EVENT:
            if (thread_count < 256) {
                threads[thread_count] = ev.u.CreateThread.hThread;
                tids[thread_count++] = ev.dwThreadId;
            }
            break;
        case EXCEPTION_DEBUG_EVENT: {
            DWORD code = ev.u.Exception.ExceptionRecord.ExceptionCode;
            unsigned long long at = (unsigned long long)ev.u.Exception.ExceptionRecord.ExceptionAddress;
            HANDLE thread = thread_of(ev.dwThreadId, threads, tids, thread_count);
            CONTEXT context;
            context.ContextFlags = CONTEXT_CONTROL;
            if (code == EXCEPTION_BREAKPOINT && !initial_seen) {
                initial_seen = 1;
                ReadProcessMemory(process, (void *)address, &original, 1, NULL);
                WriteProcessMemory(process, (void *)address, &int3, 1, NULL);
                FlushInstructionCache(process, (void *)address, 1);
            } else if (code == EXCEPTION_BREAKPOINT && at == address && thread) {
                if (hits++ == 0)
                    QueryPerformanceCounter(&first);
                WriteProcessMemory(process, (void *)address, &original, 1, NULL);
                FlushInstructionCache(process, (void *)address, 1);
                GetThreadContext(thread, &context);
                context.Rip = address;
                context.EFlags |= 0x100;
                SetThreadContext(thread, &context);
                stepping_over = 1;
            } else if (code == EXCEPTION_SINGLE_STEP && stepping_over) {
                stepping_over = 0;
                WriteProcessMemory(process, (void *)address, &int3, 1, NULL);
                FlushInstructionCache(process, (void *)address, 1);
            } else if (ev.u.Exception.dwFirstChance) {
                status = DBG_EXCEPTION_NOT_HANDLED;
            }
            break;
        }
        case EXIT_PROCESS_DEBUG_EVENT:
            QueryPerformanceCounter(&last);
            exit_code = ev.u.ExitProcess.dwExitCode;
            ContinueDebugEvent(ev.dwProcessId, ev.dwThreadId, DBG_CONTINUE);
            printf("rawloop: hits=%llu seconds=%.6f exit=%lu\n", hits,
                   hits ? (double)(last.QuadPart - first.QuadPart) / (double)frequency.QuadPart : 0.0, exit_code);
            return 0;
        case LOAD_DLL_DEBUG_EVENT:
            if (ev.u.LoadDll.hFile)
                CloseHandle(ev.u.LoadDll.hFile);
            break;
        default:
            break;
        }
        ContinueDebugEvent(ev.dwProcessId, ev.dwThreadId, status);
    }
}
