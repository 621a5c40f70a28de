# ag_add_library(<name> SOURCES ... [DEPS ...])
#   One static library per src/ folder. DEPS lists the layers it may link (see DESIGN.md):
#   keeping them here makes the dependency direction visible in one place per folder.
# -Wno-maybe-uninitialized: GCC 12 false positives inside std::variant (Result<T>).
set(AG_WARNINGS -Wall -Wextra -Wpedantic -Wshadow -Wno-maybe-uninitialized)
if(AG_WERROR)
  list(APPEND AG_WARNINGS -Werror)
endif()
set(AG_ARCH_FLAGS "")
if(AG_NATIVE)
  set(AG_ARCH_FLAGS -march=native)
endif()

function(ag_add_library name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
  add_library(${name} STATIC ${ARG_SOURCES})
  target_compile_options(${name} PRIVATE ${AG_WARNINGS} ${AG_ARCH_FLAGS})
  target_link_libraries(${name} PUBLIC ${ARG_DEPS})
endfunction()

# ag_add_test(<name> SOURCES ... [DEPS ...] [LABELS ...])
#   A GoogleTest executable registered with CTest; tests run from the source root so fixture
#   paths are relative to it.
function(ag_add_test name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS;LABELS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_compile_options(${name} PRIVATE ${AG_WARNINGS} ${AG_ARCH_FLAGS})
  target_link_libraries(${name} PRIVATE ${ARG_DEPS} GTest::gtest GTest::gtest_main)
  gtest_discover_tests(${name} WORKING_DIRECTORY ${CMAKE_SOURCE_DIR}
                       PROPERTIES LABELS "${ARG_LABELS}" DISCOVERY_TIMEOUT 60)
endfunction()
