# Third-party dependencies, all from Debian packages (see README "Dependencies").
# Cross builds point ORDINAL_SYSROOT_PREFIX at an unpacked sysroot (toolchains/make-sysroot.sh).

set(ORDINAL_XNNPACK_DIR "" CACHE PATH "Prebuilt XNNPACK prefix (include/ + lib/) instead of the system one")

find_path(XNNPACK_INCLUDE_DIR xnnpack.h HINTS ${ORDINAL_XNNPACK_DIR}/include)
find_library(XNNPACK_LIBRARY NAMES XNNPACK HINTS ${ORDINAL_XNNPACK_DIR}/lib)
find_library(PTHREADPOOL_LIBRARY NAMES pthreadpool HINTS ${ORDINAL_XNNPACK_DIR}/lib)
find_path(PTHREADPOOL_INCLUDE_DIR pthreadpool.h HINTS ${ORDINAL_XNNPACK_DIR}/include)
find_library(CPUINFO_LIBRARY NAMES cpuinfo HINTS ${ORDINAL_XNNPACK_DIR}/lib)
find_path(CPUINFO_INCLUDE_DIR cpuinfo.h HINTS ${ORDINAL_XNNPACK_DIR}/include)
find_path(FLATBUFFERS_INCLUDE_DIR flatbuffers/flatbuffers.h)
find_program(FLATC_EXECUTABLE flatc)

foreach(v XNNPACK_INCLUDE_DIR XNNPACK_LIBRARY PTHREADPOOL_LIBRARY PTHREADPOOL_INCLUDE_DIR CPUINFO_LIBRARY
          CPUINFO_INCLUDE_DIR FLATBUFFERS_INCLUDE_DIR FLATC_EXECUTABLE)
  if(NOT ${v})
    message(FATAL_ERROR "Ordinal: ${v} not found. Run `sudo ./setup.sh` (installs libxnnpack-dev, "
                        "libpthreadpool-dev, libcpuinfo-dev, libflatbuffers-dev, flatbuffers-compiler, doctest-dev).")
  endif()
endforeach()

find_package(Threads REQUIRED)

add_library(ordinal_deps INTERFACE)
target_include_directories(ordinal_deps SYSTEM INTERFACE ${XNNPACK_INCLUDE_DIR} ${PTHREADPOOL_INCLUDE_DIR}
                                                         ${CPUINFO_INCLUDE_DIR} ${FLATBUFFERS_INCLUDE_DIR})
target_link_libraries(ordinal_deps INTERFACE ${XNNPACK_LIBRARY} ${PTHREADPOOL_LIBRARY} ${CPUINFO_LIBRARY}
                                             Threads::Threads m)

if(ORDINAL_BUILD_TESTS)
  find_path(DOCTEST_INCLUDE_DIR doctest/doctest.h)
  if(NOT DOCTEST_INCLUDE_DIR)
    message(FATAL_ERROR "Ordinal: doctest not found (apt-get install doctest-dev)")
  endif()
endif()
