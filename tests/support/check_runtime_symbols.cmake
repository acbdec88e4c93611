# Footprint guard for the device library: no iostream and no dynamic static initializers (they cost
# start-up time and binary size in every app, and run before an app can handle errors).
# cmake -DNM=<nm for the target> -DLIB=<libordinal_runtime.a> -P check_runtime_symbols.cmake
execute_process(COMMAND ${NM} -C ${LIB} OUTPUT_VARIABLE symbols RESULT_VARIABLE rc ERROR_QUIET)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "${NM} failed on ${LIB}")
endif()
set(found "")
foreach(pattern "std::ios_base::Init" "std::cout" "std::cerr" "std::basic_ostream" "std::basic_istream"
                "_GLOBAL__sub_I_")
  string(FIND "${symbols}" "${pattern}" at)
  if(NOT at EQUAL -1)
    string(REGEX MATCHALL "[^\n]*${pattern}[^\n]*" lines "${symbols}")
    list(GET lines 0 first)
    list(APPEND found "${pattern} (e.g. '${first}')")
  endif()
endforeach()
if(found)
  message(FATAL_ERROR "runtime library has: ${found}")
endif()
message(STATUS "runtime library: no iostream, no static initializers")
