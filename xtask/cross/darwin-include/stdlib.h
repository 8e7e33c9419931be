/* Minimal stand-in (see TargetConditionals.h). */
#ifndef CAISO_ACCESS_STDLIB_H
#define CAISO_ACCESS_STDLIB_H
#include <stddef.h>
void abort(void);
#endif
