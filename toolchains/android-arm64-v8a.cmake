# Android arm64-v8a (NEON in the base ISA). ANDROID_NDK must point at the NDK (see android.cmake).
set(ORDINAL_ANDROID_ABI arm64-v8a)
include(${CMAKE_CURRENT_LIST_DIR}/android.cmake)
