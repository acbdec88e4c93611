# Style guard: every C/C++ source under runtime/ quant/ tools/ tests/ bindings/ examples/ is as clang-format (the repository's
# .clang-format) writes it. A diff fails the test and names the files; `clang-format -i FILE` fixes them.
# cmake -DCLANG_FORMAT=<clang-format> -DSOURCE_DIR=<repository root> -P check_format.cmake
set(files "")
foreach(dir runtime quant tools tests bindings examples)
  file(GLOB_RECURSE found ${SOURCE_DIR}/${dir}/*.cpp ${SOURCE_DIR}/${dir}/*.hpp ${SOURCE_DIR}/${dir}/*.h
       ${SOURCE_DIR}/${dir}/*.c)
  list(APPEND files ${found})
endforeach()
list(LENGTH files count)
if(count EQUAL 0)
  message(FATAL_ERROR "no sources found under ${SOURCE_DIR}")
endif()
set(unformatted "")
foreach(f ${files})
  execute_process(COMMAND ${CLANG_FORMAT} --dry-run --Werror ${f} RESULT_VARIABLE rc OUTPUT_QUIET ERROR_QUIET
                  WORKING_DIRECTORY ${SOURCE_DIR})
  if(NOT rc EQUAL 0)
    file(RELATIVE_PATH rel ${SOURCE_DIR} ${f})
    list(APPEND unformatted ${rel})
  endif()
endforeach()
if(unformatted)
  string(REPLACE ";" "\n  " listing "${unformatted}")
  message(FATAL_ERROR "not clang-formatted:\n  ${listing}")
endif()
message(STATUS "${count} files clang-formatted")
