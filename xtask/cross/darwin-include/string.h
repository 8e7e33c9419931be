/* Minimal stand-in (see TargetConditionals.h): declarations the C dependencies use. */
#ifndef CAISO_ACCESS_STRING_H
#define CAISO_ACCESS_STRING_H
#include <stddef.h>
void *memcpy(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);
int memcmp(const void *a, const void *b, size_t n);
void *memmove(void *dst, const void *src, size_t n);
#endif
