# Build settings shared by every target of the project, kept on an INTERFACE target rather
# than in global flags, so that a consumer of eda::core never inherits our warning policy.
add_library(eda_build_settings INTERFACE)
add_library(eda::build_settings ALIAS eda_build_settings)
target_compile_features(eda_build_settings INTERFACE cxx_std_20)
# The warnings, in the spirit of cmake_template's list; each one catches a mistake we can make.
target_compile_options(eda_build_settings INTERFACE
  -Wall -Wextra -Wpedantic
  -Wshadow                          # a name that hides another one in an outer scope
  -Wconversion -Wsign-conversion    # a narrowing or sign change must be written as a cast
  -Wold-style-cast                  # a cast says which kind it is (static_cast, ...)
  -Wnon-virtual-dtor -Woverloaded-virtual
  -Wcast-align -Wdouble-promotion -Wformat=2 -Wimplicit-fallthrough
  -Wduplicated-cond -Wduplicated-branches -Wlogical-op -Wmisleading-indentation)
# Not -Wnull-dereference: with GCC 12 at -O2 it reports paths inside libstdc++ (a vector of
# strings growing, inlined from CLI11) that cannot happen, and nothing in our own code.
if(EDA_WARNINGS_AS_ERRORS)
  target_compile_options(eda_build_settings INTERFACE -Werror)
endif()
if(EDA_SANITIZERS)
  target_compile_options(eda_build_settings INTERFACE
    -fsanitize=${EDA_SANITIZERS} -fno-sanitize-recover=all -fno-omit-frame-pointer)
  target_link_options(eda_build_settings INTERFACE -fsanitize=${EDA_SANITIZERS})
endif()

# eda_apply_settings(<target>): the project's compile settings for one of its own targets.
function(eda_apply_settings target)
  target_link_libraries(${target} PRIVATE eda::build_settings)
  set_target_properties(${target} PROPERTIES CXX_EXTENSIONS OFF)
endfunction()

# A demo run as a test that must exit 0 (or, after --fails, fail with a message) and print
# (or, with "!", not print) given text:
#   add_test(NAME ... COMMAND bash ${EDA_EXPECT_RUN} [--fails] "TEXT" "!TEXT" ... -- $<TARGET_FILE:demo> ARGS)
set(EDA_EXPECT_RUN ${CMAKE_CURRENT_LIST_DIR}/../patterns/tests/support/expect_run.sh)

# eda_add_catch_tests(<target> SOURCES ...  LIBRARIES ... [PROPERTIES name value ...]): one
# Catch2 binary per module, each TEST_CASE registered with CTest on its own, with a generous
# per-test timeout; PROPERTIES are set on every one of them too (e.g. a fixture they require).
function(eda_add_catch_tests target)
  cmake_parse_arguments(ARG "" "" "SOURCES;LIBRARIES;PROPERTIES" ${ARGN})
  add_executable(${target} ${ARG_SOURCES})
  eda_apply_settings(${target})
  target_link_libraries(${target} PRIVATE ${ARG_LIBRARIES} Catch2::Catch2)
  # --warn NoTests: a test whose name matches no test case fails instead of passing with
  # "No tests ran". (CTest splits a name at ';', so a test case named with one became two
  # CTest tests that each ran nothing: test names use ',' instead.)
  catch_discover_tests(${target} EXTRA_ARGS --warn NoTests
    PROPERTIES TIMEOUT 120 ${ARG_PROPERTIES})
endfunction()

# eda_add_benchmark(<target> SOURCES ... LIBRARIES ...): a Google Benchmark program, also
# registered as a CTest smoke test that runs every benchmark once for a tiny minimum time.
function(eda_add_benchmark target)
  cmake_parse_arguments(ARG "" "" "SOURCES;LIBRARIES" ${ARGN})
  add_executable(${target} ${ARG_SOURCES})
  eda_apply_settings(${target})
  target_link_libraries(${target} PRIVATE ${ARG_LIBRARIES} benchmark::benchmark)
  add_test(NAME ${target}.smoke
    COMMAND ${target} --benchmark_min_time=0.001 --benchmark_counters_tabular=true)
  set_tests_properties(${target}.smoke PROPERTIES TIMEOUT 300 LABELS benchmark)
endfunction()
