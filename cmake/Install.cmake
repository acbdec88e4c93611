# Install tree: headers, the runtime (static, or shared with -DBUILD_SHARED_LIBS=ON), a CMake package
# (find_package(Ordinal CONFIG) -> Ordinal::runtime) and a pkg-config file (ordinal.pc).
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

install(DIRECTORY ${PROJECT_SOURCE_DIR}/runtime/include/ordinal DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}
        FILES_MATCHING PATTERN "*.h" PATTERN "*.hpp")
install(FILES ${ORDINAL_PUBLIC_GEN_DIR}/ordinal/version.h DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/ordinal)

if(TARGET XNNPACK)
  # An app's XNNPACK source tree (ORDINAL_XNNPACK_DIR) is built into the app, not installed with Ordinal.
  message(STATUS "Ordinal: XNNPACK is built from source; the CMake package and ordinal.pc are not installed")
  install(TARGETS ordinal_runtime ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
                                  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR})
  return()
endif()

install(TARGETS ordinal_runtime EXPORT OrdinalTargets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
        RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR}
        INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
set(ORDINAL_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/Ordinal)
install(EXPORT OrdinalTargets NAMESPACE Ordinal:: DESTINATION ${ORDINAL_CMAKE_DIR})
if(BUILD_SHARED_LIBS)
  set(ORDINAL_CONFIG_SHARED TRUE)
else()
  set(ORDINAL_CONFIG_SHARED FALSE)
endif()
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/OrdinalConfig.cmake.in
                              ${PROJECT_BINARY_DIR}/OrdinalConfig.cmake INSTALL_DESTINATION ${ORDINAL_CMAKE_DIR})
write_basic_package_version_file(${PROJECT_BINARY_DIR}/OrdinalConfigVersion.cmake
                                 COMPATIBILITY SameMinorVersion)  # 0.x: minor versions may break the API
install(FILES ${PROJECT_BINARY_DIR}/OrdinalConfig.cmake ${PROJECT_BINARY_DIR}/OrdinalConfigVersion.cmake
        DESTINATION ${ORDINAL_CMAKE_DIR})

# pkg-config: relocatable (prefix from the .pc file's own place). A static library lists its
# dependencies and the C++ runtime under Libs.private (`pkg-config --static --libs ordinal`).
set(ORDINAL_PC_LIBS_PRIVATE "")
if(NOT BUILD_SHARED_LIBS)
  foreach(lib ${XNNPACK_LIBRARY} ${PTHREADPOOL_LIBRARY} ${CPUINFO_LIBRARY})
    get_filename_component(dir ${lib} DIRECTORY)
    get_filename_component(name ${lib} NAME_WE)
    string(REGEX REPLACE "^lib" "" name ${name})
    if(NOT dir IN_LIST CMAKE_CXX_IMPLICIT_LINK_DIRECTORIES)
      string(APPEND ORDINAL_PC_LIBS_PRIVATE " -L${dir}")
    endif()
    string(APPEND ORDINAL_PC_LIBS_PRIVATE " -l${name}")
  endforeach()
  foreach(lib ${ORDINAL_CXX_RUNTIME})
    string(APPEND ORDINAL_PC_LIBS_PRIVATE " -l${lib}")
  endforeach()
  string(APPEND ORDINAL_PC_LIBS_PRIVATE " -lpthread -lm")
endif()
file(RELATIVE_PATH ORDINAL_PC_PREFIX_FROM_PCDIR /${CMAKE_INSTALL_LIBDIR}/pkgconfig /)
configure_file(${PROJECT_SOURCE_DIR}/cmake/ordinal.pc.in ${PROJECT_BINARY_DIR}/ordinal.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/ordinal.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
