/*
 * bcryptprimitives.dll stand-in for testing the Windows build under Wine 8, which lacks
 * ProcessPrng (Rust's standard library imports it from bcryptprimitives.dll since 1.78; without
 * it every Rust program exits with code 53 before main). Forwards to RtlGenRandom
 * (advapi32's SystemFunction036). Test prefixes only: never shipped.
 */
#include <windows.h>

BOOLEAN WINAPI SystemFunction036(PVOID buffer, ULONG length);

BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T length)
{
    while (length > 0) {
        ULONG chunk = length > 0x40000000 ? 0x40000000 : (ULONG)length;
        if (!SystemFunction036(data, chunk)) {
            return FALSE;
        }
        data += chunk;
        length -= chunk;
    }
    return TRUE;
}
