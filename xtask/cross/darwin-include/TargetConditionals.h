/* Minimal stand-in for the Apple SDK header of this name, used only by `cargo xtask test` to
 * type-check the macOS build on Linux (C dependencies are compiled, never linked or run). */
#ifndef CAISO_ACCESS_TARGET_CONDITIONALS_H
#define CAISO_ACCESS_TARGET_CONDITIONALS_H
#define TARGET_OS_MAC 1
#define TARGET_OS_OSX 1
#define TARGET_OS_IPHONE 0
#define TARGET_OS_IOS 0
#define TARGET_OS_TV 0
#define TARGET_OS_WATCH 0
#define TARGET_OS_SIMULATOR 0
#endif
