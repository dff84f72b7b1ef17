/* testdll.c -- the DLL debuggee.c loads and unloads (mingw-w64). */
#include <windows.h>

BOOL WINAPI DllMain(HINSTANCE instance, DWORD reason, LPVOID reserved)
{
    (void)instance;
    (void)reserved;
    if (reason == DLL_PROCESS_ATTACH)
        OutputDebugStringA("testdll: attached");
    return TRUE;
}

__declspec(dllexport) int dll_func(int x)
{
    return x * 3;
}
