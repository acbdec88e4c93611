# Third-party dependencies, all from Debian packages (see README "Dependencies").
# Cross builds find them in a sysroot unpacked from Debian's arm64/armhf packages (toolchains/), except
# flatc, which is the host's. Apps that bring their own XNNPACK set ORDINAL_XNNPACK_DIR.
# The runtime no longer calls XNNPACK or pthreadpool (own kernels read the mapped weights in place and
# own thread pool; README "Dependencies" says why): only cpuinfo is required and linked. ORDINAL_XNNPACK_DIR
# still works as a way to bring cpuinfo (an XNNPACK source tree builds it; Android apps use that).

set(ORDINAL_XNNPACK_DIR "" CACHE PATH
    "An app's own XNNPACK: a source tree (built here with add_subdirectory) or a prebuilt prefix (include/ + lib/)")

# Prebuilt prefix: searched first and only there, as given, also when cross compiling (it is not inside the
# sysroot). Whatever it lacks (say, cpuinfo) is then searched the usual way.
if(ORDINAL_XNNPACK_DIR AND NOT EXISTS "${ORDINAL_XNNPACK_DIR}/CMakeLists.txt")
  set(_ordinal_xnn_hint PATHS ${ORDINAL_XNNPACK_DIR} PATH_SUFFIXES include lib lib64 NO_DEFAULT_PATH
                        NO_CMAKE_FIND_ROOT_PATH)
  foreach(v XNNPACK_INCLUDE_DIR XNNPACK_LIBRARY PTHREADPOOL_LIBRARY PTHREADPOOL_INCLUDE_DIR CPUINFO_LIBRARY
            CPUINFO_INCLUDE_DIR)
    if(${v} AND NOT "${${v}}" MATCHES "^${ORDINAL_XNNPACK_DIR}")
      unset(${v} CACHE)  # found elsewhere by an earlier configure: search the prefix again
    endif()
  endforeach()
  find_path(XNNPACK_INCLUDE_DIR xnnpack.h ${_ordinal_xnn_hint})
  find_library(XNNPACK_LIBRARY NAMES XNNPACK ${_ordinal_xnn_hint})
  find_library(PTHREADPOOL_LIBRARY NAMES pthreadpool ${_ordinal_xnn_hint})
  find_path(PTHREADPOOL_INCLUDE_DIR pthreadpool.h ${_ordinal_xnn_hint})
  find_library(CPUINFO_LIBRARY NAMES cpuinfo ${_ordinal_xnn_hint})
  find_path(CPUINFO_INCLUDE_DIR cpuinfo.h ${_ordinal_xnn_hint})
endif()

if(ORDINAL_XNNPACK_DIR AND EXISTS "${ORDINAL_XNNPACK_DIR}/CMakeLists.txt")
  # Source tree: XNNPACK's own build (it fetches or finds cpuinfo/pthreadpool/FP16/FXdiv/psimd itself,
  # see its CMakeLists). Static, so the app ships one binary. The API must match Debian's 2022-02
  # snapshot (ae108ef), which the runtime is written against (toolchains/README.md).
  set(XNNPACK_BUILD_TESTS OFF CACHE BOOL "" FORCE)
  set(XNNPACK_BUILD_BENCHMARKS OFF CACHE BOOL "" FORCE)
  set(XNNPACK_LIBRARY_TYPE static CACHE STRING "" FORCE)
  add_subdirectory(${ORDINAL_XNNPACK_DIR} ${CMAKE_BINARY_DIR}/_deps/xnnpack EXCLUDE_FROM_ALL)
  set(XNNPACK_INCLUDE_DIR ${ORDINAL_XNNPACK_DIR}/include)
  set(XNNPACK_LIBRARY XNNPACK)
  set(PTHREADPOOL_LIBRARY pthreadpool)
  set(PTHREADPOOL_INCLUDE_DIR $<TARGET_PROPERTY:pthreadpool,INTERFACE_INCLUDE_DIRECTORIES>)
  set(CPUINFO_LIBRARY cpuinfo)
  set(CPUINFO_INCLUDE_DIR $<TARGET_PROPERTY:cpuinfo,INTERFACE_INCLUDE_DIRECTORIES>)
else()
  find_library(CPUINFO_LIBRARY NAMES cpuinfo)
  find_path(CPUINFO_INCLUDE_DIR cpuinfo.h)
endif()
find_path(FLATBUFFERS_INCLUDE_DIR flatbuffers/flatbuffers.h)
find_program(FLATC_EXECUTABLE flatc)

foreach(v CPUINFO_LIBRARY CPUINFO_INCLUDE_DIR FLATBUFFERS_INCLUDE_DIR FLATC_EXECUTABLE)
  if(NOT ${v})
    if(CMAKE_CROSSCOMPILING)
      message(FATAL_ERROR "Ordinal: ${v} not found in the target's sysroot '${CMAKE_FIND_ROOT_PATH}' "
                          "(toolchains/make-sysroot.sh makes one; or pass -DORDINAL_XNNPACK_DIR=..., "
                          "-D${v}=...; see toolchains/README.md).")
    endif()
    message(FATAL_ERROR "Ordinal: ${v} not found. Run `sudo tools/setup.sh` (installs libcpuinfo-dev, "
                        "libflatbuffers-dev, flatbuffers-compiler, doctest-dev).")
  endif()
endforeach()

find_package(Threads REQUIRED)

add_library(ordinal_deps INTERFACE)
target_include_directories(ordinal_deps SYSTEM INTERFACE ${CPUINFO_INCLUDE_DIR} ${FLATBUFFERS_INCLUDE_DIR})
target_link_libraries(ordinal_deps INTERFACE ${CPUINFO_LIBRARY} Threads::Threads m)

if(ORDINAL_BUILD_TESTS)
  find_path(DOCTEST_INCLUDE_DIR doctest/doctest.h)
  if(NOT DOCTEST_INCLUDE_DIR)
    message(FATAL_ERROR "Ordinal: doctest not found (apt-get install doctest-dev)")
  endif()
endif()
