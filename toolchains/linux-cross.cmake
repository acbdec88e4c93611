# Shared part of the Linux cross toolchain files (aarch64-linux-gnu.cmake, arm-linux-gnueabihf.cmake):
# Debian's cross gcc, target libraries from the sysroot that make-sysroot.sh unpacks, host programs
# (flatc) from the host, and tests run under qemu-user with the sysroot as its library prefix.
# Expects ORDINAL_TRIPLE, ORDINAL_QEMU and CMAKE_SYSTEM_PROCESSOR to be set by the including file.
set(CMAKE_SYSTEM_NAME Linux)

if(NOT ORDINAL_SYSROOT AND DEFINED ENV{ORDINAL_SYSROOT})
  set(ORDINAL_SYSROOT "$ENV{ORDINAL_SYSROOT}")
endif()
if(NOT ORDINAL_SYSROOT)
  message(FATAL_ERROR "Ordinal cross build: pass -DORDINAL_SYSROOT=DIR (a sysroot from toolchains/make-sysroot.sh), "
                      "or use toolchains/cross-test.sh, which makes one under the build directory.")
endif()
get_filename_component(ORDINAL_SYSROOT "${ORDINAL_SYSROOT}" ABSOLUTE)
set(ORDINAL_SYSROOT "${ORDINAL_SYSROOT}" CACHE PATH "Target sysroot unpacked from Debian packages" FORCE)
# try_compile projects re-read this file in another binary dir: hand them the sysroot.
list(APPEND CMAKE_TRY_COMPILE_PLATFORM_VARIABLES ORDINAL_SYSROOT)

find_program(ORDINAL_CROSS_CXX ${ORDINAL_TRIPLE}-g++)
find_program(ORDINAL_CROSS_CC ${ORDINAL_TRIPLE}-gcc)
if(NOT ORDINAL_CROSS_CXX OR NOT ORDINAL_CROSS_CC)
  message(FATAL_ERROR "Ordinal cross build: ${ORDINAL_TRIPLE}-gcc/g++ not found "
                      "(ORDINAL_CROSS=1 tools/setup.sh installs crossbuild-essential-arm64/armhf).")
endif()
set(CMAKE_C_COMPILER ${ORDINAL_CROSS_CC})
set(CMAKE_CXX_COMPILER ${ORDINAL_CROSS_CXX})
set(CMAKE_LIBRARY_ARCHITECTURE ${ORDINAL_TRIPLE})

# The compiler keeps its own libc (Debian's *-cross packages); dependencies come from the sysroot only.
# Programs are never searched there: flatc must be the host's, it runs at build time.
set(CMAKE_FIND_ROOT_PATH "${ORDINAL_SYSROOT}")
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)
# Shared libraries of the sysroot name their own dependencies (libstdc++, libm): let the linker resolve
# them there.
set(CMAKE_EXE_LINKER_FLAGS_INIT "-Wl,-rpath-link,${ORDINAL_SYSROOT}/usr/lib/${ORDINAL_TRIPLE}")
set(CMAKE_SHARED_LINKER_FLAGS_INIT "-Wl,-rpath-link,${ORDINAL_SYSROOT}/usr/lib/${ORDINAL_TRIPLE}")

# ctest (and the CLI wrapper the tests spawn) run target programs through qemu-user; -L makes the
# sysroot the root for the dynamic loader, libc, libstdc++ and the dependencies.
find_program(ORDINAL_QEMU_EXECUTABLE ${ORDINAL_QEMU})
if(ORDINAL_QEMU_EXECUTABLE)
  set(CMAKE_CROSSCOMPILING_EMULATOR "${ORDINAL_QEMU_EXECUTABLE};-L;${ORDINAL_SYSROOT}")
else()
  message(WARNING "Ordinal cross build: ${ORDINAL_QEMU} not found (apt-get install qemu-user): "
                  "the build works, ctest cannot run the tests on this machine.")
endif()
