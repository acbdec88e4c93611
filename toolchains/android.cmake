# Shared part of the Android toolchain files: wraps the NDK's own android.toolchain.cmake (which sets the
# compiler, sysroot, ABI flags and find-root rules: flatc is then found on the host, as it must be).
# Expects ORDINAL_ANDROID_ABI from the including file. Debian has no Android packages: XNNPACK comes from
# the app (-DORDINAL_XNNPACK_DIR, a source tree or a prebuilt prefix) and the FlatBuffers headers from
# -DFLATBUFFERS_INCLUDE_DIR (a folder holding only flatbuffers/, see toolchains/README.md).
if(NOT ANDROID_NDK)
  foreach(v ANDROID_NDK ANDROID_NDK_ROOT ANDROID_NDK_HOME ANDROID_NDK_LATEST_HOME)
    if(DEFINED ENV{${v}})
      set(ANDROID_NDK "$ENV{${v}}")  # the first one set, valid or not: the check below names it
      break()
    endif()
  endforeach()
endif()
if(NOT ANDROID_NDK OR NOT EXISTS "${ANDROID_NDK}/build/cmake/android.toolchain.cmake")
  if(ANDROID_NDK)
    set(_ordinal_ndk_problem "ANDROID_NDK='${ANDROID_NDK}' has no build/cmake/android.toolchain.cmake")
  else()
    set(_ordinal_ndk_problem
        "ANDROID_NDK is not set (neither -DANDROID_NDK=... nor ANDROID_NDK / ANDROID_NDK_ROOT / ANDROID_NDK_HOME)")
  endif()
  message(FATAL_ERROR "Ordinal Android build (${ORDINAL_ANDROID_ABI}): ${_ordinal_ndk_problem}.\n"
                      "Point ANDROID_NDK at an NDK (r21 or newer; Android Studio's SDK Manager installs one "
                      "under $ANDROID_HOME/ndk/<version>). The build also needs -DORDINAL_XNNPACK_DIR=<XNNPACK "
                      "source tree or prebuilt prefix for ${ORDINAL_ANDROID_ABI}> and "
                      "-DFLATBUFFERS_INCLUDE_DIR=<folder with flatbuffers/>, and usually "
                      "-DORDINAL_BUILD_TOOLS=OFF -DORDINAL_BUILD_TESTS=OFF: see toolchains/README.md.")
endif()
set(ANDROID_NDK "${ANDROID_NDK}" CACHE PATH "Android NDK" FORCE)
list(APPEND CMAKE_TRY_COMPILE_PLATFORM_VARIABLES ANDROID_NDK)

set(ANDROID_ABI ${ORDINAL_ANDROID_ABI})
if(NOT ANDROID_PLATFORM)
  set(ANDROID_PLATFORM android-24)  # Android 7.0: 64-bit file offsets for mmap of large models
endif()
if(NOT ANDROID_STL)
  set(ANDROID_STL c++_static)  # one .so for the app's JNI library, no libc++_shared.so to ship
endif()
include("${ANDROID_NDK}/build/cmake/android.toolchain.cmake")
