/* The one export of bcryptprimitives.dll that Rust's standard library imports on Windows
 * (ProcessPrng, Windows 10 and later). Windows ships the DLL; wine 8 (Debian 12) does not, so
 * the smoke test builds this stand-in with zig next to the .exe it runs under wine. It fills
 * the buffer from RtlGenRandom (advapi32's SystemFunction036), which wine has. */
#include <windows.h>

BOOLEAN WINAPI SystemFunction036(PVOID buffer, ULONG length);

__declspec(dllexport) BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T len) {
    while (len > 0) {
        ULONG chunk = len > 0x40000000 ? 0x40000000 : (ULONG)len;
        if (!SystemFunction036(data, chunk)) {
            return FALSE;
        }
        data += chunk;
        len -= chunk;
    }
    return TRUE;
}
