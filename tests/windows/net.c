/*
 * net.c -- a Windows program for dbgkit's tests (mingw-w64): opens and
 * closes one TCP socket through ws2_32.dll, as the program of PyDbgEng's
 * "debugger in five minutes" does; exits with 0 (1 when Winsock fails).
 */
#include <winsock2.h>
#include <stdio.h>

int main(void)
{
    WSADATA wsa;
    SOCKET s;

    if (WSAStartup(MAKEWORD(2, 2), &wsa) != 0)
        return 1;
    s = socket(AF_INET, SOCK_STREAM, 0);
    printf("net: socket %s\n", s == INVALID_SOCKET ? "failed" : "opened");
    if (s != INVALID_SOCKET)
        closesocket(s);
    WSACleanup();
    return s == INVALID_SOCKET;
}
