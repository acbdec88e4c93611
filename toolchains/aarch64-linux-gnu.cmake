# Raspberry Pi OS 64-bit / Debian arm64 (ARMv8-A: NEON is part of the base ISA).
# cmake -DCMAKE_TOOLCHAIN_FILE=toolchains/aarch64-linux-gnu.cmake -DORDINAL_SYSROOT=DIR  (see README.md)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(ORDINAL_TRIPLE aarch64-linux-gnu)
set(ORDINAL_QEMU qemu-aarch64)
include(${CMAKE_CURRENT_LIST_DIR}/linux-cross.cmake)
