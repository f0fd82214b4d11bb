# SPDX-License-Identifier: Apache-2.0
#
# What `catsign --version` and `catsignd --version` print: the project version, plus the
# checkout's `git describe` when built from one ("0.1.0 (git 06d5fbf-dirty)"). Worked out at
# configure time into a generated header, catsign/version.hpp in the build folder.
#
# CATSIGN_GIT_DESCRIBE, when set, is used as the description as is: scripts/package builds from
# a copy of the tree that has no .git and passes the checkout's description this way. Without
# it, git is asked only when the source folder is the top of a checkout (not a tarball unpacked
# inside someone else's repository), and a missing git or a failing describe leaves the version
# alone.
set(CATSIGN_GIT_DESCRIBE "" CACHE STRING "git description for --version (default: ask git at configure time)")

set(CATSIGN_GIT_DESCRIPTION "${CATSIGN_GIT_DESCRIBE}")
if(CATSIGN_GIT_DESCRIPTION STREQUAL "")
  find_package(Git QUIET)
  if(GIT_FOUND)
    execute_process(COMMAND ${GIT_EXECUTABLE} rev-parse --show-toplevel
      WORKING_DIRECTORY ${CMAKE_SOURCE_DIR}
      OUTPUT_VARIABLE catsign_git_top OUTPUT_STRIP_TRAILING_WHITESPACE
      RESULT_VARIABLE catsign_git_status ERROR_QUIET)
    if(catsign_git_status EQUAL 0)
      file(REAL_PATH "${catsign_git_top}" catsign_git_top)
      file(REAL_PATH "${CMAKE_SOURCE_DIR}" catsign_source_top)
    endif()
    if(catsign_git_status EQUAL 0 AND catsign_git_top STREQUAL catsign_source_top)
      execute_process(COMMAND ${GIT_EXECUTABLE} describe --tags --always --dirty
        WORKING_DIRECTORY ${CMAKE_SOURCE_DIR}
        OUTPUT_VARIABLE CATSIGN_GIT_DESCRIPTION OUTPUT_STRIP_TRAILING_WHITESPACE
        RESULT_VARIABLE catsign_git_status ERROR_QUIET)
      if(NOT catsign_git_status EQUAL 0)
        set(CATSIGN_GIT_DESCRIPTION "")
      endif()
      # Configure again when HEAD moves (a commit, checkout or rebase), so the description
      # follows; a worktree's HEAD log lives in its own git folder.
      execute_process(COMMAND ${GIT_EXECUTABLE} rev-parse --path-format=absolute --git-path logs/HEAD
        WORKING_DIRECTORY ${CMAKE_SOURCE_DIR}
        OUTPUT_VARIABLE catsign_head_log OUTPUT_STRIP_TRAILING_WHITESPACE
        RESULT_VARIABLE catsign_git_status ERROR_QUIET)
      if(catsign_git_status EQUAL 0 AND EXISTS "${catsign_head_log}")
        set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS "${catsign_head_log}")
      endif()
    endif()
  endif()
endif()
# Only what git prints in a description; anything else would not belong in a C++ string.
if(NOT CATSIGN_GIT_DESCRIPTION MATCHES "^[A-Za-z0-9._+~/-]*$")
  message(FATAL_ERROR "CATSIGN_GIT_DESCRIBE='${CATSIGN_GIT_DESCRIPTION}' is not a git description "
                      "(letters, digits and . _ + ~ / - only)")
endif()

set(CATSIGN_VERSION_LINE "${PROJECT_VERSION}")
if(NOT CATSIGN_GIT_DESCRIPTION STREQUAL "")
  string(APPEND CATSIGN_VERSION_LINE " (git ${CATSIGN_GIT_DESCRIPTION})")
endif()
message(STATUS "catsign version: ${CATSIGN_VERSION_LINE}")

set(CATSIGN_GENERATED_INCLUDE_DIR ${CMAKE_BINARY_DIR}/generated/include)
configure_file(${CMAKE_SOURCE_DIR}/cmake/version.hpp.in ${CATSIGN_GENERATED_INCLUDE_DIR}/catsign/version.hpp @ONLY)
