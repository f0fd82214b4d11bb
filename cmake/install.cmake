# SPDX-License-Identifier: Apache-2.0
#
# `cmake --install`: the programs, the man pages, and everything that makes catsignd a service
# (units, sysusers, tmpfiles, udev rule, logrotate), laid out with GNUInstallDirs. debian/ uses
# exactly this; packaging/README.md says what each file is for.

# --- Where systemd and udev look ------------------------------------------------------------
# Installing to /usr (a distribution package): the directories the system's own systemd.pc and
# udev.pc name (Debian 12: /lib/systemd/system, /usr/lib/sysusers.d, /usr/lib/tmpfiles.d,
# /lib/udev). Any other prefix (/usr/local, a staging folder): beneath it, in the lib/
# folders systemd and udev also search under /usr/local. Each can be given with -D.
set(catsign_unit_dir "${CMAKE_INSTALL_PREFIX}/lib/systemd/system")
set(catsign_sysusers_dir "${CMAKE_INSTALL_PREFIX}/lib/sysusers.d")
set(catsign_tmpfiles_dir "${CMAKE_INSTALL_PREFIX}/lib/tmpfiles.d")
set(catsign_udev_dir "${CMAKE_INSTALL_PREFIX}/lib/udev")
if(CMAKE_INSTALL_PREFIX STREQUAL "/usr")
  foreach(pair unit_dir:systemdsystemunitdir sysusers_dir:sysusersdir tmpfiles_dir:tmpfilesdir)
    string(REPLACE ":" ";" pair "${pair}")
    list(GET pair 0 name)
    list(GET pair 1 variable)
    pkg_get_variable(value systemd ${variable})
    if(value)
      set(catsign_${name} "${value}")
    endif()
  endforeach()
  pkg_get_variable(value udev udevdir)
  if(value)
    set(catsign_udev_dir "${value}")
  endif()
endif()
set(CATSIGN_SYSTEMD_UNIT_DIR "${catsign_unit_dir}" CACHE PATH "where the systemd units go")
set(CATSIGN_SYSUSERS_DIR "${catsign_sysusers_dir}" CACHE PATH "where the sysusers.d file goes")
set(CATSIGN_TMPFILES_DIR "${catsign_tmpfiles_dir}" CACHE PATH "where the tmpfiles.d file goes")
set(CATSIGN_UDEV_RULES_DIR "${catsign_udev_dir}/rules.d" CACHE PATH "where the udev rule goes")
set(CATSIGN_BASH_COMPLETION_DIR "${CMAKE_INSTALL_FULL_DATADIR}/bash-completion/completions"
    CACHE PATH "where the bash completion goes")
# Not beneath the prefix: the programs and the units read /etc/catsign/catsign.toml wherever
# they are installed (kDefaultConfigPath), and logrotate reads only /etc/logrotate.d.
set(CATSIGN_CONFIG_DIR "/etc/catsign" CACHE PATH "where the configuration goes")
set(CATSIGN_LOGROTATE_DIR "/etc/logrotate.d" CACHE PATH "where the logrotate configuration goes")

# --- The programs -----------------------------------------------------------------------------
# catsign is for people and scripts; catsignd is a system daemon nobody runs by hand.
install(TARGETS catsign RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(TARGETS catsignd RUNTIME DESTINATION ${CMAKE_INSTALL_SBINDIR})

# --- Files that name the programs' paths ------------------------------------------------------
# The sources name /usr/bin/catsign and /usr/sbin/catsignd (what a package installs, and what
# the tests check); another prefix gets its own paths written in.
set(catsign_staged ${CMAKE_BINARY_DIR}/packaging)
# Every unit in packaging/: the service, its sockets (sign, admin, the HTTPS front) and the
# metrics timer. None is enabled by installing it.
file(GLOB catsign_units CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/packaging/*.service
     ${CMAKE_SOURCE_DIR}/packaging/*.socket ${CMAKE_SOURCE_DIR}/packaging/*.timer)
set(catsign_staged_units)
foreach(unit IN LISTS catsign_units)
  get_filename_component(file ${unit} NAME)
  file(READ ${unit} text)
  string(REPLACE "/usr/sbin/catsignd" "${CMAKE_INSTALL_FULL_SBINDIR}/catsignd" text "${text}")
  string(REPLACE "/usr/bin/catsign " "${CMAKE_INSTALL_FULL_BINDIR}/catsign " text "${text}")
  file(CONFIGURE OUTPUT ${catsign_staged}/${file} CONTENT "${text}" @ONLY)
  list(APPEND catsign_staged_units ${catsign_staged}/${file})
  set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${unit})
endforeach()
file(READ ${CMAKE_SOURCE_DIR}/udev/70-catsign.rules text)
string(REPLACE "/usr/bin/catsign " "${CMAKE_INSTALL_FULL_BINDIR}/catsign " text "${text}")
file(CONFIGURE OUTPUT ${catsign_staged}/70-catsign.rules CONTENT "${text}" @ONLY)
set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/udev/70-catsign.rules)

install(FILES ${catsign_staged_units} DESTINATION ${CATSIGN_SYSTEMD_UNIT_DIR})
install(FILES ${catsign_staged}/70-catsign.rules DESTINATION ${CATSIGN_UDEV_RULES_DIR})
install(FILES packaging/sysusers.d/catsign.conf DESTINATION ${CATSIGN_SYSUSERS_DIR})
install(FILES packaging/tmpfiles.d/catsign.conf DESTINATION ${CATSIGN_TMPFILES_DIR})
install(FILES packaging/catsign.logrotate DESTINATION ${CATSIGN_LOGROTATE_DIR} RENAME catsign)
install(FILES packaging/bash-completion/catsign DESTINATION ${CATSIGN_BASH_COMPLETION_DIR})

# --- Documentation and the example configuration ---------------------------------------------
install(FILES README.md LICENSE packaging/catsign.toml.example DESTINATION ${CMAKE_INSTALL_DOCDIR})
install(FILES packaging/README.md DESTINATION ${CMAKE_INSTALL_DOCDIR} RENAME README.systemd.md)
# The configuration itself, from the example, unless one is there already: a second
# `cmake --install` must never overwrite an operator's settings. (A package always installs it;
# dpkg then treats it as a conffile and asks before replacing an edited one.)
install(CODE "
  set(config \"\$ENV{DESTDIR}${CATSIGN_CONFIG_DIR}/catsign.toml\")
  if(EXISTS \"\${config}\")
    message(STATUS \"Keeping: \${config} (the new example: ${CMAKE_INSTALL_FULL_DOCDIR}/catsign.toml.example)\")
  else()
    # file(INSTALL) puts DESTDIR in front of an absolute DESTINATION itself.
    file(INSTALL DESTINATION \"${CATSIGN_CONFIG_DIR}\" TYPE FILE
         FILES \"${CMAKE_SOURCE_DIR}/packaging/catsign.toml.example\" RENAME catsign.toml
         PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ)
  endif()")

# --- Man pages ------------------------------------------------------------------------------
if(CATSIGN_BUILD_MAN)
  find_program(SCDOC scdoc)
  if(NOT SCDOC)
    message(FATAL_ERROR "scdoc not found, which builds the man pages: install it (Debian: scdoc; "
                        "scripts/install-deps does) or configure with -DCATSIGN_BUILD_MAN=OFF")
  endif()
  set(catsign_pages)
  foreach(page catsign.1 catsignd.8 catsign.toml.5)
    string(REGEX REPLACE ".*\\.([0-9])$" "\\1" section ${page})
    set(source ${CMAKE_SOURCE_DIR}/man/${page}.scd)
    set(configured ${CMAKE_BINARY_DIR}/man/${page}.scd)
    set(output ${CMAKE_BINARY_DIR}/man/${page})
    # The version goes into each page's footer.
    configure_file(${source} ${configured} @ONLY)
    add_custom_command(OUTPUT ${output}
      COMMAND sh -c "\"$1\" < \"$2\" > \"$3.tmp\" && mv \"$3.tmp\" \"$3\"" scdoc ${SCDOC} ${configured} ${output}
      DEPENDS ${configured}
      COMMENT "Building man page ${page}"
      VERBATIM)
    list(APPEND catsign_pages ${output})
    install(FILES ${output} DESTINATION ${CMAKE_INSTALL_MANDIR}/man${section})
  endforeach()
  add_custom_target(man ALL DEPENDS ${catsign_pages})
endif()
