/* Minimal stand-in (see TargetConditionals.h). */
#ifndef CAISO_ACCESS_ASSERT_H
#define CAISO_ACCESS_ASSERT_H
#define assert(x) ((void)0)
#endif
