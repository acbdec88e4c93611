# Android armeabi-v7a (ARMv7 + NEON: the NDK enables NEON for this ABI by default, r21+). ANDROID_NDK must
# point at the NDK (see android.cmake).
set(ORDINAL_ANDROID_ABI armeabi-v7a)
include(${CMAKE_CURRENT_LIST_DIR}/android.cmake)
