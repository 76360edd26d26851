# cmake/install_unit.cmake — installs one systemd unit of packaging/ whose ExecStart names the
# installed binary instead of /usr/bin/custodian.  Run by `cmake --install` (an install(CODE)
# sets CU_UNIT_SRC, CU_UNIT_DIR and CU_UNIT_BINDIR), where CMAKE_INSTALL_PREFIX is the prefix
# in effect (--prefix included) and DESTDIR, if set, is put before the file's path only.
if(IS_ABSOLUTE "${CU_UNIT_DIR}")
  set(dir "${CU_UNIT_DIR}")
else()
  set(dir "${CMAKE_INSTALL_PREFIX}/${CU_UNIT_DIR}")
endif()
if(IS_ABSOLUTE "${CU_UNIT_BINDIR}")
  set(bin "${CU_UNIT_BINDIR}/custodian")
else()
  set(bin "${CMAKE_INSTALL_PREFIX}/${CU_UNIT_BINDIR}/custodian")
endif()
file(READ "${CU_UNIT_SRC}" text)
string(REPLACE "/usr/bin/custodian" "${bin}" text "${text}")
get_filename_component(name "${CU_UNIT_SRC}" NAME)
message(STATUS "Installing: $ENV{DESTDIR}${dir}/${name}")
file(WRITE "$ENV{DESTDIR}${dir}/${name}" "${text}")
