# Raspberry Pi OS 32-bit / Debian armhf (ARMv7-A, hard float). The build keeps Debian's armhf baseline
# (VFPv3-D16, Thumb-2), so it runs on any armhf board; the NEON kernels are compiled separately and
# chosen at run time when cpuinfo reports NEON (every Pi from the 2 on).
# cmake -DCMAKE_TOOLCHAIN_FILE=toolchains/arm-linux-gnueabihf.cmake -DORDINAL_SYSROOT=DIR  (see README.md)
set(CMAKE_SYSTEM_PROCESSOR armv7l)
set(ORDINAL_TRIPLE arm-linux-gnueabihf)
set(ORDINAL_QEMU qemu-arm)
include(${CMAKE_CURRENT_LIST_DIR}/linux-cross.cmake)
